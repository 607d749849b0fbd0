/*
 * Unit tests of the ledger's journal: what each event means in double
 * entry (accounts, signs, zero sum), and the events it refuses, one row per
 * case; a TopupIssued by payee (a top-up, or a payment into the person's
 * own account) and the payees it refuses; a replaced card's transfer lines
 * and the carry-overs it refuses;
 * plus the pg array literal every batch travels in.
 */
#include "check.h"
#include "common/pg.h"
#include "journal.h"
#include "swipe.pb-c.h"
#include "topup.pb-c.h"

#include <stdio.h>
#include <string.h>

/* a person id (64 lowercase hex): the payee of a payment */
#define PERSON "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const event_type *type_of(const ProtobufCMessageDescriptor *d)
{
    return event_type_by_desc(d);
}

int main(void)
{
    static const struct {
        int kind; /* 0 swipe, 1 reversal, 2 top-up, 3 top-up without programme */
        const char *card, *wallet, *provider, *period;
        int64_t amount;
        int nlines;
        const char *acct[4];
        int64_t fen[4];
        const char *err; /* substring of the refusal, NULL when accepted */
    } rows[] = {
        {0,
         "6222000000000001",
         "rehab",
         "P1",
         NULL,
         500,
         2,
         {"wallet:6222000000000001:rehab", "payable:P1"},
         {500, -500},
         NULL},
        {1,
         "6222000000000001",
         "rehab",
         "P1",
         NULL,
         500,
         2,
         {"wallet:6222000000000001:rehab", "payable:P1"},
         {-500, 500},
         NULL},
        {2,
         "6222000000000001",
         "care",
         NULL,
         "2026-11",
         13500,
         4,
         {"fund:central-2026:2026", "wallet:6222000000000001:care", "budget:care:2026",
          "obligated:care:2026"},
         {13500, -13500, 13500, -13500},
         NULL},
        {3,
         "6222000000000001",
         "care",
         NULL,
         "2026-11",
         13500,
         2,
         {"fund:central-2026:2026", "wallet:6222000000000001:care"},
         {13500, -13500},
         NULL},
        {0, "6222000000000001", "rehab", "P1", NULL, 0, 0, {0}, {0}, "amount_fen 0 is out"},
        {0, "6222000000000001", "rehab", "P1", NULL, -5, 0, {0}, {0}, "out of range"},
        {0, "", "rehab", "P1", NULL, 5, 0, {0}, {0}, "card_no is missing"},
        {0, "6222000000000001", "re:hab", "P1", NULL, 5, 0, {0}, {0}, "wallet is missing"},
        {0, "6222000000000001", "rehab", "", NULL, 5, 0, {0}, {0}, "provider_id is missing"},
        {2, "6222000000000001", "care", NULL, "2026-13", 5, 0, {0}, {0}, "is not YYYY-MM"},
        {2, "6222000000000001", "care", NULL, "", 5, 0, {0}, {0}, "is not YYYY-MM"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        Onecard__V1__SwipeAuthorized s;
        Onecard__V1__SwipeReversed r;
        Onecard__V1__TopupIssued t;
        const ProtobufCMessage *m;
        char id[] = "5f0c9a52-0000-4000-8000-000000000001";
        if (rows[i].kind == 0) {
            onecard__v1__swipe_authorized__init(&s);
            s.event_id = id;
            s.card_no = (char *)rows[i].card;
            s.wallet = (char *)rows[i].wallet;
            s.provider_id = (char *)rows[i].provider;
            s.amount_fen = rows[i].amount;
            s.occurred_at_ms = 1795430000000;
            m = &s.base;
        } else if (rows[i].kind == 1) {
            onecard__v1__swipe_reversed__init(&r);
            r.event_id = id;
            r.card_no = (char *)rows[i].card;
            r.wallet = (char *)rows[i].wallet;
            r.provider_id = (char *)rows[i].provider;
            r.amount_fen = rows[i].amount;
            r.occurred_at_ms = 1795430000000;
            m = &r.base;
        } else {
            onecard__v1__topup_issued__init(&t);
            t.event_id = id;
            t.topup_id = "tp-1";
            t.card_no = (char *)rows[i].card;
            t.wallet = (char *)rows[i].wallet;
            t.fund_source = "central-2026";
            t.programme = rows[i].kind == 2 ? "care" : "";
            t.period = (char *)rows[i].period;
            t.amount_fen = rows[i].amount;
            t.occurred_at_ms = 1795430000000;
            m = &t.base;
        }
        journal_entry e;
        char err[256] = "";
        int rc = journal_from_event(type_of(m->descriptor), m, &e, err, sizeof(err));
        if (rows[i].err) {
            CHECK(rc < 0 && strstr(err, rows[i].err), "row %zu: want \"%s\", got %d \"%s\"", i,
                  rows[i].err, rc, err);
            continue;
        }
        CHECK(rc == 0, "row %zu: %s", i, err);
        CHECK(e.nlines == rows[i].nlines, "row %zu: %d lines", i, e.nlines);
        int64_t sum = 0;
        for (int l = 0; l < e.nlines && l < 4; l++) {
            sum += e.lines[l].amount_fen;
            CHECK(strcmp(e.lines[l].account.name, rows[i].acct[l]) == 0 &&
                      e.lines[l].amount_fen == rows[i].fen[l],
                  "row %zu line %d: %s %lld", i, l, e.lines[l].account.name,
                  (long long)e.lines[l].amount_fen);
        }
        CHECK(sum == 0, "row %zu: lines sum to %lld", i, (long long)sum);
    }

    /* a TopupIssued's payee: "" or "card" a top-up of the card's wallet,
     * "person" a payment into the person's own bank account (payee
     * account, no wallet), anything else refused naming the field */
    static const struct {
        const char *payee, *person, *programme, *wallet;
        int kind; /* JOURNAL_TOPUP or JOURNAL_PAYMENT when accepted */
        int nlines;
        const char *acct[4];
        int64_t fen[4];
        const char *err;
    } issued[] = {
        {"person",
         PERSON,
         "care",
         "care",
         JOURNAL_PAYMENT,
         4,
         {"fund:central-2026:2026", "payee:" PERSON, "budget:care:2026", "obligated:care:2026"},
         {13500, -13500, 13500, -13500},
         NULL},
        {"person",
         PERSON,
         "",
         "care",
         JOURNAL_PAYMENT,
         2,
         {"fund:central-2026:2026", "payee:" PERSON},
         {13500, -13500},
         NULL},
        {"person", /* no wallet: a payment credits none */
         PERSON,
         "",
         "",
         JOURNAL_PAYMENT,
         2,
         {"fund:central-2026:2026", "payee:" PERSON},
         {13500, -13500},
         NULL},
        {"card",
         PERSON,
         "care",
         "care",
         JOURNAL_TOPUP,
         4,
         {"fund:central-2026:2026", "wallet:6222000000000001:care", "budget:care:2026",
          "obligated:care:2026"},
         {13500, -13500, 13500, -13500},
         NULL},
        {"",
         "",
         "",
         "care",
         JOURNAL_TOPUP,
         2,
         {"fund:central-2026:2026", "wallet:6222000000000001:care"},
         {13500, -13500},
         NULL},
        {"person", "", "care", "care", 0, 0, {0}, {0}, "person_id is missing"},
        {"person",
         "a:b",
         "care",
         "care",
         0,
         0,
         {0},
         {0},
         "person_id is missing or not a person id"},
        /* a person id settlement would refuse is refused here, not paid */
        {"person", "ab12", "care", "care", 0, 0, {0}, {0}, "not a person id (64 lowercase hex)"},
        {"person", PERSON, "care", "ca re", 0, 0, {0}, {0}, "wallet is missing or malformed"},
        {"bank", PERSON, "care", "care", 0, 0, {0}, {0}, "payee \"bank\" is not"},
        {"Person", PERSON, "care", "care", 0, 0, {0}, {0}, "payee \"Person\" is not"},
        {"person\n\x80", PERSON, "", "care", 0, 0, {0}, {0}, "payee \"person??\" is not"},
        {"", PERSON, "care", "", 0, 0, {0}, {0}, "wallet is missing"},
    };
    for (size_t i = 0; i < sizeof(issued) / sizeof(issued[0]); i++) {
        Onecard__V1__TopupIssued t;
        onecard__v1__topup_issued__init(&t);
        t.event_id = "5f0c9a52-0000-4000-8000-000000000002";
        t.topup_id = "rb-17";
        t.card_no = "6222000000000001";
        t.person_id = (char *)issued[i].person;
        t.wallet = (char *)issued[i].wallet;
        t.item_code = "S01-CASH";
        t.fund_source = "central-2026";
        t.programme = (char *)issued[i].programme;
        t.period = "2026-11";
        t.amount_fen = 13500;
        t.occurred_at_ms = 1795430000000;
        t.payee = (char *)issued[i].payee;
        journal_entry e;
        char err[256] = "";
        int rc = journal_from_event(type_of(t.base.descriptor), &t.base, &e, err, sizeof(err));
        if (issued[i].err) {
            CHECK(rc < 0 && strstr(err, issued[i].err), "issued %zu: want \"%s\", got %d \"%s\"", i,
                  issued[i].err, rc, err);
            continue;
        }
        CHECK(rc == 0 && (int)e.kind == issued[i].kind, "issued %zu: %d kind %d %s", i, rc,
              (int)e.kind, err);
        CHECK(e.nlines == issued[i].nlines, "issued %zu: %d lines", i, e.nlines);
        int64_t sum = 0;
        for (int l = 0; l < e.nlines && l < 4; l++) {
            sum += e.lines[l].amount_fen;
            CHECK(strcmp(e.lines[l].account.name, issued[i].acct[l]) == 0 &&
                      e.lines[l].amount_fen == issued[i].fen[l],
                  "issued %zu line %d: %s %lld", i, l, e.lines[l].account.name,
                  (long long)e.lines[l].amount_fen);
        }
        CHECK(sum == 0, "issued %zu: lines sum to %lld", i, (long long)sum);
        CHECK(strcmp(e.request_id, "rb-17") == 0, "issued %zu: topup_id %s", i,
              e.request_id ? e.request_id : "(null)");
        if (e.kind == JOURNAL_PAYMENT)
            CHECK(strcmp(e.lines[1].account.kind, "payee") == 0 && e.lines[1].account.person_id &&
                      strcmp(e.lines[1].account.person_id, issued[i].person) == 0 &&
                      e.lines[1].account.card_no == NULL,
                  "issued %zu: the payee account", i);
    }
    CHECK(strcmp(journal_kind_name(JOURNAL_PAYMENT), "payment") == 0 &&
              journal_kind_parse("payment") == JOURNAL_PAYMENT,
          "payment kind name");

    /* a payment read back from the database without its person: refused */
    {
        journal_entry e;
        memset(&e, 0, sizeof(e));
        e.kind = JOURNAL_PAYMENT;
        e.fund_source = "central-2026";
        e.year = 2026;
        e.amount_fen = 100;
        char err[256] = "";
        CHECK(journal_derive_lines(&e, err, sizeof(err)) < 0 && strstr(err, "person_id"),
              "a payment without a person: %s", err);
    }

    /* a transfer: debit the source wallet, credit the destination's */
    static const struct {
        const char *from, *to, *wallet;
        int64_t amount;
        const char *err;
    } xfers[] = {
        {"6288100000000011", "6288100000000029", "rehab", 13655, NULL},
        {"6288100000000011", "6288100000000011", "rehab", 100, "two different cards"},
        {"6288100000000011", NULL, "rehab", 100, "two different cards"},
        {"6288100000000011", "6288100000000029", "rehab", 0, "out of range"},
    };
    for (size_t i = 0; i < sizeof(xfers) / sizeof(xfers[0]); i++) {
        journal_entry e;
        memset(&e, 0, sizeof(e));
        e.kind = JOURNAL_TRANSFER;
        e.card_no = xfers[i].from;
        e.to_card_no = xfers[i].to;
        e.wallet = xfers[i].wallet;
        e.amount_fen = xfers[i].amount;
        char err[256] = "", want0[80], want1[80];
        int rc = journal_derive_lines(&e, err, sizeof(err));
        if (xfers[i].err) {
            CHECK(rc < 0 && strstr(err, xfers[i].err), "transfer %zu: want \"%s\", got %d \"%s\"",
                  i, xfers[i].err, rc, err);
            continue;
        }
        snprintf(want0, sizeof(want0), "wallet:%s:%s", xfers[i].from, xfers[i].wallet);
        snprintf(want1, sizeof(want1), "wallet:%s:%s", xfers[i].to, xfers[i].wallet);
        CHECK(rc == 0 && e.nlines == 2, "transfer %zu: %d %s", i, rc, err);
        CHECK(strcmp(e.lines[0].account.name, want0) == 0 &&
                  e.lines[0].amount_fen == xfers[i].amount &&
                  strcmp(e.lines[1].account.name, want1) == 0 &&
                  e.lines[1].amount_fen == -xfers[i].amount,
              "transfer %zu: %s %lld / %s %lld", i, e.lines[0].account.name,
              (long long)e.lines[0].amount_fen, e.lines[1].account.name,
              (long long)e.lines[1].amount_fen);
        CHECK(strcmp(journal_kind_name(e.kind), "transfer") == 0 &&
                  journal_kind_parse("transfer") == JOURNAL_TRANSFER,
              "transfer kind name");
    }

    /* carry-overs: what the ledger records, and what it refuses */
    static const struct {
        const char *event_id, *from, *to, *person;
        int64_t at;
        const char *err;
    } moves[] = {
        {"ev-1", "6288100000000011", "6288100000000029", "ab12", 1795430000000, NULL},
        {"ev-1", "6288100000000011", "6288100000000029", "", 1795430000000, NULL},
        {"", "6288100000000011", "6288100000000029", "ab12", 1795430000000, "event_id"},
        {"ev-1", "", "6288100000000029", "ab12", 1795430000000, "from_card_no"},
        {"ev-1", "6288100000000011", "62881 0000000029", "ab12", 1795430000000, "to_card_no"},
        {"ev-1", "6288100000000011", "6288100000000011", "ab12", 1795430000000, "same card"},
        {"ev-1", "6288100000000011", "6288100000000029", "a|b", 1795430000000, "person_id"},
        {"ev-1", "6288100000000011", "6288100000000029", "ab12", 0, "occurred_at_ms"},
    };
    for (size_t i = 0; i < sizeof(moves) / sizeof(moves[0]); i++) {
        Onecard__V1__BalanceCarryOver b;
        onecard__v1__balance_carry_over__init(&b);
        b.event_id = (char *)moves[i].event_id;
        b.from_card_no = (char *)moves[i].from;
        b.to_card_no = (char *)moves[i].to;
        b.person_id = (char *)moves[i].person;
        b.occurred_at_ms = moves[i].at;
        journal_move mv;
        char err[256] = "";
        int rc = journal_move_from_event(&b.base, &mv, err, sizeof(err));
        if (moves[i].err)
            CHECK(rc < 0 && strstr(err, moves[i].err), "move %zu: want \"%s\", got %d \"%s\"", i,
                  moves[i].err, rc, err);
        else
            CHECK(rc == 0 && strcmp(mv.from_card_no, moves[i].from) == 0 &&
                      strcmp(mv.to_card_no, moves[i].to) == 0 &&
                      (mv.person_id == NULL) == (moves[i].person[0] == '\0'),
                  "move %zu: %d %s", i, rc, err);
    }
    journal_move mv;
    char merr[128] = "";
    Onecard__V1__TopupIssued other;
    onecard__v1__topup_issued__init(&other);
    CHECK(journal_move_from_event(&other.base, &mv, merr, sizeof(merr)) < 0 &&
              strstr(merr, "not a BalanceCarryOver"),
          "a top-up read as a carry-over: %s", merr);

    /* posting ids are stable and UUID-shaped */
    char a[40], b[40];
    journal_posting_id(a, "event-1");
    journal_posting_id(b, "event-1");
    CHECK(strcmp(a, b) == 0 && strlen(a) == 36 && a[8] == '-' && a[23] == '-', "posting id %s", a);
    journal_posting_id(b, "event-2");
    CHECK(strcmp(a, b) != 0, "two events share posting id %s", a);

    /* array literals: quoting, escaping, NULL */
    pg_array arr = {0};
    pg_array_add(&arr, "a\"b\\c");
    pg_array_add(&arr, NULL);
    pg_array_add_int(&arr, -42);
    const char *txt = pg_array_text(&arr);
    CHECK(txt && strcmp(txt, "{\"a\\\"b\\\\c\",NULL,-42}") == 0, "array %s", txt);
    pg_array_reset(&arr);
    txt = pg_array_text(&arr);
    CHECK(txt && strcmp(txt, "{}") == 0, "empty array %s", txt);
    pg_array_free(&arr);
    return CHECK_DONE();
}
