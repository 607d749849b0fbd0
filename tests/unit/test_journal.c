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

/* Fund shares: a top-up of three shares draws each from its own fund and
 * credits the wallet once per share, each line naming its fund; shares
 * that do not add up are refused; a swipe split by the store debits the
 * wallet and credits the payable per share; a transfer may move a negative
 * share; the text kept on the entry reads back the same. */
static void test_fund_shares(void)
{
    static const struct {
        int n;
        const char *level[5];
        int64_t fen[5];
        const char *err;
    } rows[] = {
        {3, {"central", "provincial", "municipal"}, {6691, 3323, 2331}, NULL},
        {1, {"central"}, {12345}, NULL},
        {3, {"central", "provincial", "municipal"}, {6691, 3323, 2330}, "sum to 12344 fen, not"},
        {2, {"central", "central"}, {6000, 6345}, "appears twice"},
        {2, {"central", "provincial"}, {12346, -1}, "out of range"},
        {2, {"central", "provincial"}, {12345, 0}, "out of range"},
        {2, {"central", "pro vincial"}, {6000, 6345}, "shares[1].level is missing or malformed"},
        {2, {"central", "a,b"}, {6000, 6345}, "shares[1].level is missing or malformed"},
        {2, {"central", ""}, {6000, 6345}, "shares[1].level is missing or malformed"},
        {5, {"a", "b", "c", "d", "e"}, {1, 1, 1, 1, 12341}, "5 fund shares (at most 4)"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        Onecard__V1__TopupIssued t;
        onecard__v1__topup_issued__init(&t);
        Onecard__V1__FundShare f[5], *fp[5];
        for (int k = 0; k < rows[i].n; k++) {
            onecard__v1__fund_share__init(&f[k]);
            f[k].level = (char *)rows[i].level[k];
            f[k].amount_fen = rows[i].fen[k];
            fp[k] = &f[k];
        }
        t.event_id = "5f0c9a52-0000-4000-8000-000000000003";
        t.topup_id = "2026-11-R02";
        t.card_no = "6222000000000001";
        t.wallet = "R02-AUTISM";
        t.item_code = "R02-AUTISM";
        t.fund_source = "central";
        t.programme = "rehab-children";
        t.period = "2026-11";
        t.amount_fen = 12345;
        t.occurred_at_ms = 1795430000000;
        t.n_shares = (size_t)rows[i].n;
        t.shares = fp;
        journal_entry e;
        char err[256] = "";
        int rc = journal_from_event(type_of(t.base.descriptor), &t.base, &e, err, sizeof(err));
        if (rows[i].err) {
            CHECK(rc < 0 && strstr(err, rows[i].err), "shares %zu: want \"%s\", got %d \"%s\"", i,
                  rows[i].err, rc, err);
            continue;
        }
        CHECK(rc == 0 && e.nlines == 2 * rows[i].n + 2, "shares %zu: rc %d, %d lines (%s)", i, rc,
              e.nlines, err);
        if (rc < 0)
            continue;
        int64_t sum = 0;
        for (int k = 0; k < rows[i].n; k++) {
            char fund[80], wallet[80];
            snprintf(fund, sizeof(fund), "fund:%s:2026", rows[i].level[k]);
            snprintf(wallet, sizeof(wallet), "wallet:6222000000000001:R02-AUTISM");
            const journal_line *a = &e.lines[2 * k], *b = &e.lines[2 * k + 1];
            CHECK(strcmp(a->account.name, fund) == 0 && a->amount_fen == rows[i].fen[k] &&
                      strcmp(a->fund, rows[i].level[k]) == 0 &&
                      strcmp(b->account.name, wallet) == 0 && b->amount_fen == -rows[i].fen[k] &&
                      strcmp(b->fund, rows[i].level[k]) == 0,
                  "shares %zu, share %d: %s %lld (%s), %s %lld (%s)", i, k, a->account.name,
                  (long long)a->amount_fen, a->fund, b->account.name, (long long)b->amount_fen,
                  b->fund);
            sum += a->amount_fen;
        }
        const journal_line *bud = &e.lines[2 * rows[i].n], *obl = &e.lines[2 * rows[i].n + 1];
        CHECK(sum == 12345 && strcmp(bud->account.name, "budget:rehab-children:2026") == 0 &&
                  bud->amount_fen == 12345 && bud->fund[0] == '\0' && obl->amount_fen == -12345,
              "shares %zu: the budget once, for the whole", i);
    }

    /* a swipe, split as the store splits it: a pair of lines per share */
    journal_entry e;
    memset(&e, 0, sizeof(e));
    e.kind = JOURNAL_SWIPE;
    e.card_no = "6222000000000001";
    e.wallet = "R02-AUTISM";
    e.provider_id = "P1";
    e.fund_source = "central";
    e.amount_fen = 333;
    char err[256] = "";
    CHECK(journal_derive_lines(&e, err, sizeof(err)) == 0 && e.nlines == 2 &&
              strcmp(e.lines[0].fund, "central") == 0,
          "an unsplit swipe is one share of its fund_source: %s", err);
    journal_share sh[3] = {{"central", 180}, {"provincial", 90}, {"municipal", 63}};
    CHECK(journal_set_shares(&e, sh, 3, err, sizeof(err)) == 0 && e.nlines == 6, "split: %s", err);
    for (int k = 0; k < 3 && e.nlines == 6; k++)
        CHECK(strcmp(e.lines[2 * k].account.name, "wallet:6222000000000001:R02-AUTISM") == 0 &&
                  e.lines[2 * k].amount_fen == sh[k].amount_fen &&
                  strcmp(e.lines[2 * k + 1].account.name, "payable:P1") == 0 &&
                  e.lines[2 * k + 1].amount_fen == -sh[k].amount_fen &&
                  strcmp(e.lines[2 * k].fund, sh[k].fund) == 0 &&
                  strcmp(e.lines[2 * k + 1].fund, sh[k].fund) == 0,
              "swipe share %d", k);
    char text[JOURNAL_SHARES_TEXT_MAX];
    CHECK(strcmp(journal_shares_format(&e, text, sizeof(text)),
                 "central:180,provincial:90,municipal:63") == 0,
          "format %s", text);
    journal_entry back;
    memset(&back, 0, sizeof(back));
    CHECK(journal_shares_parse(&back, text, err, sizeof(err)) == 0 && back.nshares == 3 &&
              back.shares[2].amount_fen == 63 && strcmp(back.shares[1].fund, "provincial") == 0,
          "parse %s: %s", text, err);
    CHECK(journal_shares_parse(&back, "central", err, sizeof(err)) < 0 &&
              journal_shares_parse(&back, "central:1x", err, sizeof(err)) < 0 &&
              journal_shares_parse(&back, "a:1,b:1,c:1,d:1,e:1", err, sizeof(err)) < 0 &&
              journal_shares_parse(&back, NULL, err, sizeof(err)) == 0 && back.nshares == 0,
          "malformed shares text refused");
    /* refused shares leave the lines as they were */
    journal_share bad[2] = {{"central", 300}, {"provincial", 30}};
    CHECK(journal_set_shares(&e, bad, 2, err, sizeof(err)) < 0 && strstr(err, "sum to 330") &&
              e.nlines == 6 && e.nshares == 3,
          "shares not adding up: %s", err);
    journal_share neg[2] = {{"central", 400}, {"provincial", -67}};
    CHECK(journal_set_shares(&e, neg, 2, err, sizeof(err)) < 0 && strstr(err, "out of range"),
          "a swipe's negative share: %s", err);

    /* a transfer moves each fund; an overdrawn fund is a negative share */
    journal_entry x;
    memset(&x, 0, sizeof(x));
    x.kind = JOURNAL_TRANSFER;
    x.card_no = "6288100000000011";
    x.to_card_no = "6288100000000029";
    x.wallet = "R02-AUTISM";
    x.amount_fen = 100;
    journal_share mv[2] = {{"central", 120}, {"provincial", -20}};
    CHECK(journal_set_shares(&x, mv, 2, err, sizeof(err)) == 0 && x.nlines == 4 &&
              x.lines[2].amount_fen == -20 && x.lines[3].amount_fen == 20 &&
              strcmp(x.lines[3].account.name, "wallet:6288100000000029:R02-AUTISM") == 0,
          "transfer by fund: %s", err);
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
    test_fund_shares();
    return CHECK_DONE();
}
