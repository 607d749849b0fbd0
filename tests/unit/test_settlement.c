/*
 * Unit tests of the settlement service's pure parts, one row per case:
 * periods (parsing operator input, local days and months from a time,
 * the next period, bounds), where a posting of a closed period is carried,
 * what a ledger posting means to settlement (and the postings it refuses),
 * payments into a person's own account, registry events into card
 * holders, bank accounts, person-account arguments, and basis points used.
 */
#include "catalogue.h"
#include "check.h"
#include "close.h"
#include "holders.h"
#include "period.h"
#include "persons.h"
#include "posting.h"
#include "report.h"
#include "store.h"

#include "registry.pb-c.h"

#include <string.h>

static void test_period_parse(void)
{
    static const struct {
        const char *in;
        const char *out; /* normalised, NULL when refused */
        const char *err; /* substring of the refusal */
    } rows[] = {
        {"2026-11", "2026-11", NULL},
        {"2026-11-23", "2026-11-23", NULL},
        {"2024-02-29", "2024-02-29", NULL},
        {"2026-02-29", NULL, "has no day 29"},
        {"2100-02-29", NULL, "has no day 29"},
        {"2000-02-29", "2000-02-29", NULL},
        {"2026-13", NULL, "month 13"},
        {"2026-00", NULL, "month 0"},
        {"2026-04-31", NULL, "no day 31"},
        {"2026-4", NULL, "neither"},
        {"2026-11-23x", NULL, "neither"},
        {"2026/11", NULL, "neither"},
        {"20a6-11", NULL, "non-digit"},
        {"1999-12", NULL, "outside"},
        {"", NULL, "neither"},
        {"2026-11-0", NULL, "neither"},
        {"2026-11-00", NULL, "no day 0"},
        {"+026-11", NULL, "non-digit"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        period p;
        char err[200] = "", out[PERIOD_LEN] = "";
        int rc = period_parse(rows[i].in, &p, err, sizeof(err));
        if (rc == 0)
            period_format(&p, out);
        if (rows[i].out) {
            CHECK(rc == 0 && strcmp(out, rows[i].out) == 0, "%s: rc %d out %s err %s", rows[i].in,
                  rc, out, err);
        } else {
            CHECK(rc < 0 && strstr(err, rows[i].err), "%s: rc %d err \"%s\"", rows[i].in, rc, err);
        }
    }
    period p;
    char err[100];
    CHECK(period_parse(NULL, &p, err, sizeof(err)) < 0 && strstr(err, "missing"), "NULL: %s", err);
}

static void test_period_of_ms(void)
{
    static const struct {
        int64_t ms;
        int tz;
        const char *day, *month;
    } rows[] = {
        {INT64_C(1795363200000), 480, "2026-11-23", "2026-11"}, /* 2026-11-22T16:00Z */
        {INT64_C(1795363199999), 480, "2026-11-22", "2026-11"},
        {INT64_C(1795363200000), 0, "2026-11-22", "2026-11"},
        {INT64_C(1798732800000), 480, "2027-01-01", "2027-01"}, /* 2026-12-31T16:00Z */
        {INT64_C(1798732799999), 480, "2026-12-31", "2026-12"},
        {INT64_C(1772294400000), 480, "2026-03-01", "2026-03"}, /* 2026-02-28T16:00Z */
        {0, 0, "1970-01-01", "1970-01"},
        {-1, 0, "1969-12-31", "1969-12"},
        {INT64_C(1795363200000), -300, "2026-11-22", "2026-11"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        period d, m;
        char ds[PERIOD_LEN], ms[PERIOD_LEN];
        period_of_ms(rows[i].ms, rows[i].tz, &d, &m);
        period_format(&d, ds);
        period_format(&m, ms);
        CHECK(strcmp(ds, rows[i].day) == 0 && strcmp(ms, rows[i].month) == 0,
              "%lld tz %d: %s %s, want %s %s", (long long)rows[i].ms, rows[i].tz, ds, ms,
              rows[i].day, rows[i].month);
        /* the day's bounds hold the time */
        int64_t s, e;
        period_bounds_ms(&d, rows[i].tz, &s, &e);
        CHECK(s <= rows[i].ms && rows[i].ms < e && e - s == 86400000, "bounds of %s", ds);
    }
}

static void test_period_next_and_bounds(void)
{
    static const struct {
        const char *p, *next;
        int64_t len_days;
    } rows[] = {
        {"2026-11", "2026-12", 30},      {"2026-12", "2027-01", 31},
        {"2024-02", "2024-03", 29},      {"2026-02", "2026-03", 28},
        {"2026-11-30", "2026-12-01", 1}, {"2026-12-31", "2027-01-01", 1},
        {"2024-02-28", "2024-02-29", 1}, {"2024-02-29", "2024-03-01", 1},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        period p, n;
        char err[100], out[PERIOD_LEN];
        CHECK(period_parse(rows[i].p, &p, err, sizeof(err)) == 0, "%s", err);
        period_next(&p, &n);
        period_format(&n, out);
        CHECK(strcmp(out, rows[i].next) == 0, "next of %s: %s", rows[i].p, out);
        int64_t s, e, s2, e2;
        period_bounds_ms(&p, 480, &s, &e);
        period_bounds_ms(&n, 480, &s2, &e2);
        CHECK(e - s == rows[i].len_days * 86400000 && e == s2, "bounds of %s", rows[i].p);
        CHECK(period_cmp(&p, &n) < 0 && period_cmp(&n, &p) > 0 && period_cmp(&p, &p) == 0,
              "order of %s", rows[i].p);
    }
    /* 2026-11-01 00:00 +08:00 */
    period p;
    char err[100];
    int64_t s, e;
    CHECK(period_parse("2026-11", &p, err, sizeof(err)) == 0, "%s", err);
    period_bounds_ms(&p, 480, &s, &e);
    CHECK(s == INT64_C(1793462400000), "start of 2026-11 +08:00 is %lld", (long long)s);
}

static void test_target_period(void)
{
    static char closed[][PERIOD_LEN] = {"2026-04-10", "2026-04-11", "2026-04-13", "2026-03"};
    static const struct {
        const char *nat, *target;
        bool carried;
    } rows[] = {
        {"2026-04-09", "2026-04-09", false}, {"2026-04-10", "2026-04-12", true},
        {"2026-04-11", "2026-04-12", true},  {"2026-04-13", "2026-04-14", true},
        {"2026-03", "2026-04", true},        {"2026-04", "2026-04", false},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        period nat, t;
        char err[100], out[PERIOD_LEN];
        CHECK(period_parse(rows[i].nat, &nat, err, sizeof(err)) == 0, "%s", err);
        bool c = store_target_period(&nat, closed, 4, &t);
        period_format(&t, out);
        CHECK(c == rows[i].carried && strcmp(out, rows[i].target) == 0, "%s -> %s (%d)",
              rows[i].nat, out, c);
    }
}

static void test_posting(void)
{
    static const struct {
        const char *kind, *provider, *card;
        const char *acct[2];
        int64_t fen[2];
        int64_t at;
        int64_t amount, payable; /* expected when accepted */
        const char *wallet;
        const char *err; /* substring of the refusal, NULL when accepted */
    } rows[] = {
        {"swipe",
         "P1",
         "C1",
         {"wallet:C1:rehab", "payable:P1"},
         {500, -500},
         1,
         500,
         500,
         "rehab",
         NULL},
        {"reversal",
         "P1",
         "C1",
         {"wallet:C1:rehab", "payable:P1"},
         {-500, 500},
         1,
         500,
         -500,
         "rehab",
         NULL},
        {"topup",
         "",
         "C1",
         {"fund:central:2026", "wallet:C1:care"},
         {700, -700},
         1,
         700,
         0,
         "care",
         NULL},
        {"swipe",
         "P1",
         "C1",
         {"wallet:C1:rehab", "payable:P1"},
         {-500, 500},
         1,
         0,
         0,
         NULL,
         "wrong sign"},
        {"reversal",
         "P1",
         "C1",
         {"wallet:C1:rehab", "payable:P1"},
         {500, -500},
         1,
         0,
         0,
         NULL,
         "wrong sign"},
        {"swipe",
         "P1",
         "C1",
         {"wallet:C1:rehab", "payable:P2"},
         {500, -500},
         1,
         0,
         0,
         NULL,
         "no payable:P1"},
        {"swipe",
         "P1",
         "C1",
         {"wallet:C2:rehab", "payable:P1"},
         {500, -500},
         1,
         0,
         0,
         NULL,
         "is not wallet:C1"},
        {"swipe",
         "P1",
         "C1",
         {"wallet:C1:rehab", "payable:P1"},
         {400, -500},
         1,
         0,
         0,
         NULL,
         "do not balance"},
        {"swipe",
         "P1",
         "C1",
         {"fund:x:2026", "payable:P1"},
         {500, -500},
         1,
         0,
         0,
         NULL,
         "no wallet line"},
        {"allocation",
         "",
         "C1",
         {"appropriation:x", "fund:x:2026"},
         {5, -5},
         1,
         0,
         0,
         NULL,
         "is not settled"},
        {"swipe",
         "",
         "C1",
         {"wallet:C1:rehab", "payable:P1"},
         {500, -500},
         1,
         0,
         0,
         NULL,
         "provider_id"},
        {"swipe", "P1", "", {"wallet::rehab", "payable:P1"}, {500, -500}, 1, 0, 0, NULL, "card_no"},
        {"swipe",
         "P1",
         "C1",
         {"wallet:C1:rehab", "payable:P1"},
         {500, -500},
         0,
         0,
         0,
         NULL,
         "occurred_at_ms"},
        {"topup",
         "",
         "C1",
         {"fund:central:2026", "wallet:C1:care"},
         {-700, 700},
         1,
         0,
         0,
         NULL,
         "must credit"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        Onecard__V1__LedgerPosting m;
        onecard__v1__ledger_posting__init(&m);
        Onecard__V1__PostingLine l[2], *lp[2];
        for (int k = 0; k < 2; k++) {
            onecard__v1__posting_line__init(&l[k]);
            l[k].account = (char *)rows[i].acct[k];
            l[k].amount_fen = rows[i].fen[k];
            lp[k] = &l[k];
        }
        m.event_id = "e-1";
        m.kind = (char *)rows[i].kind;
        m.card_no = (char *)rows[i].card;
        m.provider_id = (char *)rows[i].provider;
        m.item_code = "ITEM";
        m.fund_source = "central";
        m.lines = lp;
        m.n_lines = 2;
        m.occurred_at_ms = rows[i].at;
        posting p;
        char err[240] = "";
        int rc = posting_from_msg(&m, &p, err, sizeof(err));
        if (rows[i].err == NULL)
            CHECK(rc == 0 && p.amount_fen == rows[i].amount && p.payable_fen == rows[i].payable &&
                      strcmp(p.wallet, rows[i].wallet) == 0,
                  "row %zu: rc %d amount %lld payable %lld wallet %s err %s", i, rc,
                  (long long)p.amount_fen, (long long)p.payable_fen, p.wallet, err);
        else
            CHECK(rc < 0 && strstr(err, rows[i].err), "row %zu: rc %d err \"%s\"", i, rc, err);
    }
}

#define PERSON_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* Postings of kind payment: the payee line gives the person and the
 * amount; a fund line of the posting's fund source balances it; budget
 * lines may come along; no wallet, no provider. */
static void test_payment(void)
{
    static const struct {
        const char *provider, *card, *fund;
        int nlines;
        const char *acct[4];
        int64_t fen[4];
        int64_t amount;  /* expected when accepted */
        const char *err; /* substring of the refusal, NULL when accepted */
    } rows[] = {
        {"", "C1", "central", 2, {"fund:central:2026", "payee:" PERSON_A}, {700, -700}, 700, NULL},
        {NULL,
         "C1",
         "central",
         4,
         {"fund:central:2026", "payee:" PERSON_A, "budget:care:2026", "obligated:care:2026"},
         {700, -700, 700, -700},
         700,
         NULL},
        {"", "C1", "central", 2, {"payee:" PERSON_A, "fund:central:2026"}, {-1, 1}, 1, NULL},
        {"", "C1", "central", 1, {"fund:central:2026"}, {700}, 0, "no payee line"},
        {"",
         "C1",
         "central",
         3,
         {"fund:central:2026", "payee:" PERSON_A, "payee:" PERSON_A},
         {1400, -700, -700},
         0,
         "2 payee lines"},
        {"", "C1", "central", 2, {"fund:central:2026", "payee:p1"}, {700, -700}, 0, "64 hex"},
        {"",
         "C1",
         "central",
         2,
         {"fund:central:2026",
          "payee:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"},
         {700, -700},
         0,
         "64 hex"},
        {"",
         "C1",
         "central",
         2,
         {"fund:central:2026", "payee:" PERSON_A},
         {-700, 700},
         0,
         "must credit the payee"},
        {"",
         "C1",
         "central",
         2,
         {"fund:central:2026", "payee:" PERSON_A},
         {0, 0},
         0,
         "must credit the payee"},
        {"",
         "C1",
         "central",
         2,
         {"fund:central:2026", "payee:" PERSON_A},
         {INT64_C(100000000001), -INT64_C(100000000001)},
         0,
         "must credit the payee"},
        {"",
         "C1",
         "central",
         2,
         {"fund:central:2026", "payee:" PERSON_A},
         {600, -700},
         0,
         "do not balance"},
        {"",
         "C1",
         "central",
         2,
         {"fund:provincial:2026", "payee:" PERSON_A},
         {700, -700},
         0,
         "fund:central:<year>"},
        {"", "C1", "central", 1, {"payee:" PERSON_A}, {-700}, 0, "found 0"},
        {"",
         "C1",
         "central",
         3,
         {"fund:central:2026", "fund:central:2025", "payee:" PERSON_A},
         {350, 350, -700},
         0,
         "found 2"},
        {"", "C1", "", 2, {"fund::2026", "payee:" PERSON_A}, {700, -700}, 0, "fund_source"},
        {"P1",
         "C1",
         "central",
         2,
         {"fund:central:2026", "payee:" PERSON_A},
         {700, -700},
         0,
         "names no provider"},
        {"",
         "C1",
         "central",
         3,
         {"fund:central:2026", "payee:" PERSON_A, "wallet:C1:cash"},
         {700, -700, 0},
         0,
         "no wallet line"},
        {"", "", "central", 2, {"fund:central:2026", "payee:" PERSON_A}, {700, -700}, 0, "card_no"},
        {"",
         "C1",
         "central",
         3,
         {"fund:central:2026", "payee:" PERSON_A, "payable:P1"},
         {700, -700, 0},
         0,
         "has no line \"payable:P1\""},
        {"",
         "C1",
         "central",
         3,
         {"fund:central:2026", "payee:" PERSON_A, "budget:care:2026"},
         {700, -700, 700},
         0,
         "one pair that balances"},
        {"",
         "C1",
         "central",
         4,
         {"fund:central:2026", "payee:" PERSON_A, "budget:care:2026", "obligated:care:2026"},
         {700, -700, 700, -600},
         0,
         "one pair that balances"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        Onecard__V1__LedgerPosting m;
        onecard__v1__ledger_posting__init(&m);
        Onecard__V1__PostingLine l[4], *lp[4];
        for (int k = 0; k < rows[i].nlines; k++) {
            onecard__v1__posting_line__init(&l[k]);
            l[k].account = (char *)rows[i].acct[k];
            l[k].amount_fen = rows[i].fen[k];
            lp[k] = &l[k];
        }
        m.event_id = "e-2";
        m.kind = "payment";
        m.card_no = (char *)rows[i].card;
        m.provider_id = (char *)rows[i].provider;
        m.item_code = "CASH-LIVING";
        m.fund_source = (char *)rows[i].fund;
        m.lines = lp;
        m.n_lines = (size_t)rows[i].nlines;
        m.occurred_at_ms = 1;
        posting p;
        char err[240] = "";
        int rc = posting_from_msg(&m, &p, err, sizeof(err));
        if (rows[i].err == NULL)
            CHECK(rc == 0 && p.kind == POSTING_PAYMENT && p.amount_fen == rows[i].amount &&
                      p.payable_fen == 0 && p.person_id && strcmp(p.person_id, PERSON_A) == 0 &&
                      p.provider_id == NULL && p.wallet[0] == '\0' &&
                      strcmp(posting_kind_name(p.kind), "payment") == 0,
                  "row %zu: rc %d amount %lld err %s", i, rc, (long long)p.amount_fen, err);
        else
            CHECK(rc < 0 && strstr(err, rows[i].err), "row %zu: rc %d err \"%s\"", i, rc, err);
    }
}

/* person-account's arguments: the registry's person id, a bank account. */
static void test_person_account_args(void)
{
    static const struct {
        const char *person, *account;
        const char *err; /* NULL when accepted */
    } rows[] = {
        {PERSON_A, "6222000011112222", NULL},
        {PERSON_A, "GB-29-NWBK", NULL},
        {"fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210", "123456", NULL},
        {PERSON_A "0", "6222000011112222", "not a person id"},
        {"0123456789abcdef", "6222000011112222", "not a person id"},
        {"0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", "6222000011112222",
         "not a person id"},
        {"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg", "6222000011112222",
         "not a person id"},
        {"", "6222000011112222", "not a person id"},
        {NULL, "6222000011112222", "not a person id"},
        {PERSON_A, "12345", "6 to 34"},
        {PERSON_A, "6222 0000", "position 5"},
        {PERSON_A, "6222,0000", "position 5"},
        {PERSON_A, "", "6 to 34"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char err[200] = "";
        int rc = persons_account_args_ok(rows[i].person, rows[i].account, err, sizeof(err));
        if (rows[i].err == NULL)
            CHECK(rc == 0, "row %zu: %s", i, err);
        else
            CHECK(rc < 0 && strstr(err, rows[i].err), "row %zu: rc %d err \"%s\"", i, rc, err);
    }
}

static void test_bank_account_and_bp(void)
{
    static const struct {
        const char *in;
        bool ok;
    } accts[] = {{"6222000011112222", true},
                 {"GB-29-NWBK", true},
                 {"12345", false},
                 {"6222 0000", false},
                 {"6222,0000", false},
                 {"", false},
                 {"0123456789012345678901234567890123", true},
                 {"01234567890123456789012345678901234", false}};
    for (size_t i = 0; i < sizeof(accts) / sizeof(accts[0]); i++) {
        char err[200];
        CHECK((close_bank_account_ok(accts[i].in, err, sizeof(err)) == 0) == accts[i].ok, "%s",
              accts[i].in);
    }
    static const struct {
        int64_t credited, spent, bp;
    } bps[] = {{30000, 10000, 3333},
               {30000, 30000, 10000},
               {0, 100, -1},
               {100, 0, 0},
               {3, 2, 6666},
               {100, 150, 15000},
               {INT64_C(100000000000), INT64_C(99999999999), 9999}};
    for (size_t i = 0; i < sizeof(bps) / sizeof(bps[0]); i++)
        CHECK(report_used_bp(bps[i].credited, bps[i].spent) == bps[i].bp, "%lld/%lld",
              (long long)bps[i].spent, (long long)bps[i].credited);
}

/* What settlement keeps of each registry event (its projection of card
 * holders); a person or card without its id is refused. */
static void test_holders(void)
{
    Onecard__V1__PersonChanged person = ONECARD__V1__PERSON_CHANGED__INIT;
    person.person_id = "p1";
    person.district = "D1";
    Onecard__V1__PersonChanged partial = ONECARD__V1__PERSON_CHANGED__INIT;
    partial.person_id = "p2"; /* an event from before the whole-state rule */
    Onecard__V1__PersonChanged anonymous = ONECARD__V1__PERSON_CHANGED__INIT;
    anonymous.district = "D1";
    Onecard__V1__CardChanged card = ONECARD__V1__CARD_CHANGED__INIT;
    card.card_no = "6222000000000001";
    card.person_id = "p1";
    Onecard__V1__CardChanged orphan = ONECARD__V1__CARD_CHANGED__INIT;
    orphan.card_no = "6222000000000001";
    Onecard__V1__ProviderChanged provider = ONECARD__V1__PROVIDER_CHANGED__INIT;
    provider.provider_id = "P1";
    static const struct {
        const char *ce_type;
        int msg; /* index into msgs */
        holders_kind kind;
        const char *id, *value, *err;
    } rows[] = {
        {"onecard.v1.PersonChanged", 0, HOLDERS_PERSON, "p1", "D1", NULL},
        {"onecard.v1.PersonChanged", 1, HOLDERS_PERSON, "p2", "", NULL},
        {"onecard.v1.PersonChanged", 2, HOLDERS_NONE, NULL, NULL, "without person_id"},
        {"onecard.v1.CardChanged", 3, HOLDERS_CARD, "6222000000000001", "p1", NULL},
        {"onecard.v1.CardChanged", 4, HOLDERS_NONE, NULL, NULL, "without card_no or person_id"},
        {"onecard.v1.ProviderChanged", 5, HOLDERS_NONE, NULL, NULL, NULL},
    };
    ProtobufCMessage *msgs[] = {&person.base, &partial.base, &anonymous.base,
                                &card.base,   &orphan.base,  &provider.base};
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        kafka_record rec = {0};
        rec.type = event_type_by_ce(rows[i].ce_type, strlen(rows[i].ce_type));
        rec.msg = msgs[rows[i].msg];
        holders_change h;
        char why[120] = "";
        int rc = holders_from_record(&rec, &h, why, sizeof(why));
        if (rows[i].err) {
            CHECK(rc < 0 && strstr(why, rows[i].err), "row %zu: rc %d why \"%s\"", i, rc, why);
            continue;
        }
        CHECK(rc == 0 && h.kind == rows[i].kind &&
                  (h.kind == HOLDERS_NONE ||
                   (strcmp(h.id, rows[i].id) == 0 && strcmp(h.value, rows[i].value) == 0)),
              "row %zu: rc %d kind %d", i, rc, (int)h.kind);
    }
}

/* Postings of fund shares (lines naming their fund): per fund a pair of
 * lines that balance; the shares sum to the amount; anything unpaired,
 * unbalanced, twice or without its fund refused. */
static void test_posting_by_fund(void)
{
    static const struct {
        const char *kind, *provider;
        int n;
        const char *acct[10], *fund[10];
        int64_t fen[10];
        int64_t amount, payable;
        const char *shares; /* "fund:fen,..." wanted */
        const char *err;
    } rows[] = {
        {"swipe",
         "P1",
         6,
         {"wallet:C1:R03", "payable:P1", "wallet:C1:R03", "payable:P1", "wallet:C1:R03",
          "payable:P1"},
         {"central", "central", "provincial", "provincial", "municipal", "municipal"},
         {1807, -1807, 897, -897, 629, -629},
         3333,
         3333,
         "central:1807,provincial:897,municipal:629",
         NULL},
        {"reversal",
         "P1",
         4,
         {"wallet:C1:R03", "payable:P1", "wallet:C1:R03", "payable:P1"},
         {"central", "central", "provincial", "provincial"},
         {-7, 7, -2, 2},
         9,
         -9,
         "central:7,provincial:2",
         NULL},
        {"topup",
         "",
         8,
         {"fund:central:2026", "wallet:C1:R03", "fund:provincial:2026", "wallet:C1:R03",
          "fund:municipal:2026", "wallet:C1:R03", "budget:rc:2026", "obligated:rc:2026"},
         {"central", "central", "provincial", "provincial", "municipal", "municipal", "", ""},
         {6691, -6691, 3323, -3323, 2331, -2331, 12345, -12345},
         12345,
         0,
         "central:6691,provincial:3323,municipal:2331",
         NULL},
        {"payment",
         "",
         4,
         {"fund:central:2026", "payee:" PERSON_A, "fund:district:2026", "payee:" PERSON_A},
         {"central", "central", "district", "district"},
         {500, -500, 1, -1},
         501,
         0,
         "central:500,district:1",
         NULL},
        {"swipe",
         "P1",
         4,
         {"wallet:C1:R03", "payable:P1", "wallet:C1:R03", "payable:P1"},
         {"central", "central", "provincial", "provincial"},
         {10, -10, 5, -4},
         0,
         0,
         NULL,
         "do not balance"},
        {"swipe",
         "P1",
         3,
         {"wallet:C1:R03", "payable:P1", "payable:P1"},
         {"central", "central", "provincial"},
         {10, -10, -5},
         0,
         0,
         NULL,
         "has no wallet line"},
        {"swipe",
         "P1",
         4,
         {"wallet:C1:R03", "payable:P1", "wallet:C1:R03", "payable:P1"},
         {"central", "central", "central", "central"},
         {10, -10, 5, -5},
         0,
         0,
         NULL,
         "two payable lines of fund central"},
        {"swipe",
         "P1",
         4,
         {"wallet:C1:R03", "payable:P1", "wallet:C2:R03", "payable:P1"},
         {"central", "central", "provincial", "provincial"},
         {10, -10, 5, -5},
         0,
         0,
         NULL,
         "two wallet accounts"},
        {"swipe",
         "P1",
         4,
         {"wallet:C1:R03", "payable:P1", "wallet:C1:R03", "payable:P2"},
         {"central", "central", "provincial", "provincial"},
         {10, -10, 5, -5},
         0,
         0,
         NULL,
         "is not payable:P1"},
        {"topup",
         "",
         2,
         {"fund:provincial:2026", "wallet:C1:R03"},
         {"central", "central"},
         {10, -10},
         0,
         0,
         NULL,
         "does not draw on fund central"},
        {"topup",
         "",
         4,
         {"fund:central:2026", "wallet:C1:R03", "budget:rc:2026", "obligated:rc:2026"},
         {"central", "central", "", ""},
         {10, -10, 9, -9},
         0,
         0,
         NULL,
         "one pair of the whole amount"},
        /* found by fuzz_settlement: two budget lines summed past int64 */
        {"topup",
         "",
         4,
         {"fund:central:2026", "wallet:C1:R03", "budget:rc:2026", "budget:rc:2026"},
         {"central", "central", "", ""},
         {10, -10, 10, INT64_MAX - 5},
         0,
         0,
         NULL,
         "one pair of the whole amount"},
        {"swipe",
         "P1",
         2,
         {"wallet:C1:R03", "payable:P1"},
         {"central", ""},
         {10, -10},
         0,
         0,
         NULL,
         "names no fund"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        Onecard__V1__LedgerPosting m;
        onecard__v1__ledger_posting__init(&m);
        Onecard__V1__PostingLine l[10], *lp[10];
        for (int k = 0; k < rows[i].n; k++) {
            onecard__v1__posting_line__init(&l[k]);
            l[k].account = (char *)rows[i].acct[k];
            l[k].fund = (char *)rows[i].fund[k];
            l[k].amount_fen = rows[i].fen[k];
            lp[k] = &l[k];
        }
        m.event_id = "e-2";
        m.kind = (char *)rows[i].kind;
        m.card_no = "C1";
        m.provider_id = (char *)rows[i].provider;
        m.item_code = "R03";
        m.fund_source = "central";
        m.lines = lp;
        m.n_lines = (size_t)rows[i].n;
        m.occurred_at_ms = 1795430000000;
        posting p;
        char err[240] = "", got[200] = "";
        int rc = posting_from_msg(&m, &p, err, sizeof(err));
        if (rows[i].err) {
            CHECK(rc < 0 && strstr(err, rows[i].err), "by fund %zu: rc %d err \"%s\"", i, rc, err);
            continue;
        }
        size_t at = 0;
        for (int k = 0; rc == 0 && k < p.nshares; k++)
            at += (size_t)snprintf(got + at, sizeof(got) - at, "%s%s:%lld", k ? "," : "",
                                   p.shares[k].fund, (long long)p.shares[k].fen);
        CHECK(rc == 0 && p.amount_fen == rows[i].amount && p.payable_fen == rows[i].payable &&
                  strcmp(got, rows[i].shares) == 0,
              "by fund %zu: rc %d amount %lld payable %lld shares %s err %s", i, rc,
              (long long)p.amount_fen, (long long)p.payable_fen, got, err);
    }
    /* a posting whose lines name no fund is one share of its fund_source */
    Onecard__V1__LedgerPosting m;
    onecard__v1__ledger_posting__init(&m);
    Onecard__V1__PostingLine l[2], *lp[2] = {&l[0], &l[1]};
    onecard__v1__posting_line__init(&l[0]);
    onecard__v1__posting_line__init(&l[1]);
    l[0].account = "wallet:C1:rehab", l[0].amount_fen = 500;
    l[1].account = "payable:P1", l[1].amount_fen = -500;
    m.event_id = "e-3", m.kind = "swipe", m.card_no = "C1", m.provider_id = "P1";
    m.fund_source = "central-old", m.lines = lp, m.n_lines = 2, m.occurred_at_ms = 1;
    posting p;
    char err[240] = "";
    CHECK(posting_from_msg(&m, &p, err, sizeof(err)) == 0 && p.nshares == 1 &&
              strcmp(p.shares[0].fund, "central-old") == 0 && p.shares[0].fen == 500,
          "an older posting: one share (%s)", err);
}

int main(void)
{
    test_period_parse();
    test_period_of_ms();
    test_period_next_and_bounds();
    test_target_period();
    test_posting();
    test_payment();
    test_posting_by_fund();
    test_holders();
    test_bank_account_and_bp();
    test_person_account_args();
    return CHECK_DONE();
}
