/*
 * journal: events to double-entry lines. See journal.h.
 */
#include "journal.h"

#include "common/card.h"
#include "common/money.h"
#include "common/sign.h"
#include "swipe.pb-c.h"
#include "topup.pb-c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const journal_kinds[JOURNAL_KINDS] = {
    "swipe", "reversal", "topup", "allocation", "transfer", "payment", "return"};

const char *journal_kind_name(journal_kind k)
{
    return (unsigned)k < sizeof(journal_kinds) / sizeof(journal_kinds[0]) ? journal_kinds[k] : "?";
}

int journal_kind_parse(const char *s)
{
    for (size_t i = 0; i < sizeof(journal_kinds) / sizeof(journal_kinds[0]); i++)
        if (strcmp(s, journal_kinds[i]) == 0)
            return (int)i;
    return -1;
}

bool journal_reason_ok(const char *s)
{
    static const char *const reasons[] = {"lapse", "death", "moved", "recovery"};
    for (size_t i = 0; s && i < sizeof(reasons) / sizeof(reasons[0]); i++)
        if (strcmp(s, reasons[i]) == 0)
            return true;
    return false;
}

bool journal_date_ok(const char *s)
{
    if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    int month = (s[5] - '0') * 10 + (s[6] - '0'), day = (s[8] - '0') * 10 + (s[9] - '0');
    return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

int journal_period_year(const char *period)
{
    if (period == NULL || strlen(period) != 7 || period[4] != '-')
        return -1;
    for (int i = 0; i < 7; i++)
        if (i != 4 && (period[i] < '0' || period[i] > '9'))
            return -1;
    int month = (period[5] - '0') * 10 + (period[6] - '0');
    if (month < 1 || month > 12)
        return -1;
    long year = strtol(period, NULL, 10);
    return year >= 2000 ? (int)year : -1;
}

/* name = "<kind>:<x>[:<y>][:<year>]" */
static int journal_account_set(journal_account *a, const char *kind, const char *x, const char *y,
                               int year, char *err, size_t errlen)
{
    memset(a, 0, sizeof(*a));
    a->kind = kind;
    a->year = year;
    char yb[16] = "";
    if (year > 0)
        snprintf(yb, sizeof(yb), ":%d", year);
    int n =
        snprintf(a->name, sizeof(a->name), "%s:%s%s%s%s", kind, x, y ? ":" : "", y ? y : "", yb);
    if (n < 0 || (size_t)n >= sizeof(a->name)) {
        snprintf(err, errlen, "the %s account name for %.40s is too long", kind, x);
        return -1;
    }
    return 0;
}

/* wallet:<card>:<wallet>, of the entry's card or (a transfer's) the card it
 * moves money to */
static int journal_wallet_account(journal_account *a, const char *card_no, const journal_entry *e,
                                  char *err, size_t errlen)
{
    if (journal_account_set(a, "wallet", card_no, e->wallet, 0, err, errlen) < 0)
        return -1;
    a->card_no = card_no;
    a->wallet = e->wallet;
    return 0;
}

static int journal_payable_account(journal_account *a, const journal_entry *e, char *err,
                                   size_t errlen)
{
    if (journal_account_set(a, "payable", e->provider_id, NULL, 0, err, errlen) < 0)
        return -1;
    a->provider_id = e->provider_id;
    return 0;
}

/* payee:<person>, a person paid into their own bank account */
static int journal_payee_account(journal_account *a, const journal_entry *e, char *err,
                                 size_t errlen)
{
    if (e->person_id == NULL || *e->person_id == '\0') {
        snprintf(err, errlen, "a payment needs a person_id");
        return -1;
    }
    if (journal_account_set(a, "payee", e->person_id, NULL, 0, err, errlen) < 0)
        return -1;
    a->person_id = e->person_id;
    return 0;
}

static int journal_pair(const char *kind, const char *x, int year, journal_account *acct, char *err,
                        size_t errlen)
{
    return journal_account_set(acct, kind, x, NULL, year, err, errlen);
}

/* The shares in force: e's own, or one of its fund_source. Returns how
 * many. The names of out point into e. */
static int journal_effective(const journal_entry *e, const char *fund[JOURNAL_SHARES_MAX],
                             int64_t fen[JOURNAL_SHARES_MAX])
{
    if (e->nshares <= 0) {
        fund[0] = e->fund_source ? e->fund_source : "";
        fen[0] = e->amount_fen;
        return 1;
    }
    for (int i = 0; i < e->nshares; i++) {
        fund[i] = e->shares[i].fund;
        fen[i] = e->shares[i].amount_fen;
    }
    return e->nshares;
}

/* Shares fit for e: distinct funds, valid names ("" only where no fund
 * account is named), non-zero (positive but for a transfer), summing to
 * the amount. */
static int journal_shares_check(const journal_entry *e, const char *const *fund, const int64_t *fen,
                                int n, char *err, size_t errlen)
{
    bool draws =
        e->kind == JOURNAL_TOPUP || e->kind == JOURNAL_PAYMENT || e->kind == JOURNAL_RETURN;
    int64_t sum = 0;
    if (n < 1 || n > JOURNAL_SHARES_MAX) {
        snprintf(err, errlen, "%d fund shares (1..%d)", n, JOURNAL_SHARES_MAX);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        if ((fund[i][0] || draws) &&
            (!money_account_field_ok(fund[i], 64) || strchr(fund[i], ',') != NULL)) {
            snprintf(err, errlen, "fund share %d: the fund is missing or malformed", i + 1);
            return -1;
        }
        for (int j = 0; j < i; j++)
            if (strcmp(fund[i], fund[j]) == 0) {
                snprintf(err, errlen, "fund share %d: fund %.64s appears twice", i + 1, fund[i]);
                return -1;
            }
        if (fen[i] == 0 || (fen[i] < 0 && e->kind != JOURNAL_TRANSFER) ||
            fen[i] > JOURNAL_MAX_FEN || fen[i] < -JOURNAL_MAX_FEN) {
            snprintf(err, errlen, "fund share %d (%.64s): amount_fen %lld is out of range", i + 1,
                     fund[i], (long long)fen[i]);
            return -1;
        }
        sum += fen[i];
    }
    if (sum != e->amount_fen) {
        snprintf(err, errlen, "the fund shares sum to %lld fen, not amount_fen %lld",
                 (long long)sum, (long long)e->amount_fen);
        return -1;
    }
    return 0;
}

static void journal_line_fund(journal_line *l, const char *fund)
{
    snprintf(l->fund, sizeof(l->fund), "%s", fund ? fund : "");
}

int journal_derive_lines(journal_entry *e, char *err, size_t errlen)
{
    journal_line *l = e->lines;
    e->nlines = 0;
    if (e->amount_fen <= 0 || e->amount_fen > JOURNAL_MAX_FEN) {
        snprintf(err, errlen, "amount_fen %lld is out of range (1..%lld)", (long long)e->amount_fen,
                 (long long)JOURNAL_MAX_FEN);
        return -1;
    }
    int64_t a = e->amount_fen;
    const char *fund[JOURNAL_SHARES_MAX];
    int64_t fen[JOURNAL_SHARES_MAX];
    int ns = journal_effective(e, fund, fen);
    if (e->kind != JOURNAL_ALLOCATION && journal_shares_check(e, fund, fen, ns, err, errlen) < 0)
        return -1;
    int k = 0;
    switch (e->kind) {
    case JOURNAL_SWIPE:
    case JOURNAL_REVERSAL: {
        int64_t sign = e->kind == JOURNAL_SWIPE ? 1 : -1;
        for (int i = 0; i < ns; i++, k += 2) {
            if (journal_wallet_account(&l[k].account, e->card_no, e, err, errlen) < 0 ||
                journal_payable_account(&l[k + 1].account, e, err, errlen) < 0)
                return -1;
            l[k].amount_fen = sign * fen[i];
            l[k + 1].amount_fen = -sign * fen[i];
            journal_line_fund(&l[k], fund[i]);
            journal_line_fund(&l[k + 1], fund[i]);
        }
        e->nlines = k;
        return 0;
    }
    case JOURNAL_TOPUP:
    case JOURNAL_PAYMENT: /* the same, paid to the person instead of the card */
        for (int i = 0; i < ns; i++, k += 2) {
            if (journal_pair("fund", fund[i], e->year, &l[k].account, err, errlen) < 0 ||
                (e->kind == JOURNAL_TOPUP
                     ? journal_wallet_account(&l[k + 1].account, e->card_no, e, err, errlen)
                     : journal_payee_account(&l[k + 1].account, e, err, errlen)) < 0)
                return -1;
            l[k].account.fund_source = fund[i];
            l[k].amount_fen = fen[i];
            l[k + 1].amount_fen = -fen[i];
            journal_line_fund(&l[k], fund[i]);
            journal_line_fund(&l[k + 1], fund[i]);
        }
        e->nlines = k;
        if (e->programme && *e->programme) {
            if (journal_pair("budget", e->programme, e->year, &l[k].account, err, errlen) < 0 ||
                journal_pair("obligated", e->programme, e->year, &l[k + 1].account, err, errlen) <
                    0)
                return -1;
            l[k].account.programme = l[k + 1].account.programme = e->programme;
            l[k].amount_fen = a;
            l[k + 1].amount_fen = -a;
            journal_line_fund(&l[k], NULL);
            journal_line_fund(&l[k + 1], NULL);
            e->nlines = k + 2;
        }
        return 0;
    case JOURNAL_RETURN: /* a top-up backwards, without the budget */
        for (int i = 0; i < ns; i++, k += 2) {
            if (journal_wallet_account(&l[k].account, e->card_no, e, err, errlen) < 0 ||
                journal_pair("fund", fund[i], e->year, &l[k + 1].account, err, errlen) < 0)
                return -1;
            l[k + 1].account.fund_source = fund[i];
            l[k].amount_fen = fen[i];
            l[k + 1].amount_fen = -fen[i];
            journal_line_fund(&l[k], fund[i]);
            journal_line_fund(&l[k + 1], fund[i]);
        }
        e->nlines = k;
        return 0;
    case JOURNAL_TRANSFER:
        if (e->to_card_no == NULL || e->card_no == NULL || strcmp(e->card_no, e->to_card_no) == 0) {
            snprintf(err, errlen, "a transfer needs two different cards");
            return -1;
        }
        for (int i = 0; i < ns; i++, k += 2) {
            if (journal_wallet_account(&l[k].account, e->card_no, e, err, errlen) < 0 ||
                journal_wallet_account(&l[k + 1].account, e->to_card_no, e, err, errlen) < 0)
                return -1;
            l[k].amount_fen = fen[i];
            l[k + 1].amount_fen = -fen[i];
            journal_line_fund(&l[k], fund[i]);
            journal_line_fund(&l[k + 1], fund[i]);
        }
        e->nlines = k;
        return 0;
    case JOURNAL_ALLOCATION:
        if (e->fund_source && *e->fund_source) {
            if (journal_pair("appropriation", e->fund_source, 0, &l[0].account, err, errlen) < 0 ||
                journal_pair("fund", e->fund_source, e->year, &l[1].account, err, errlen) < 0)
                return -1;
            l[0].account.fund_source = l[1].account.fund_source = e->fund_source;
            journal_line_fund(&l[0], e->fund_source);
            journal_line_fund(&l[1], e->fund_source);
        } else {
            if (journal_pair("authority", e->programme, 0, &l[0].account, err, errlen) < 0 ||
                journal_pair("budget", e->programme, e->year, &l[1].account, err, errlen) < 0)
                return -1;
            l[0].account.programme = l[1].account.programme = e->programme;
            journal_line_fund(&l[0], NULL);
            journal_line_fund(&l[1], NULL);
        }
        l[0].amount_fen = a;
        l[1].amount_fen = -a;
        e->nlines = 2;
        return 0;
    }
    snprintf(err, errlen, "unknown entry kind %d", (int)e->kind);
    return -1;
}

int journal_set_shares(journal_entry *e, const journal_share *s, int n, char *err, size_t errlen)
{
    const char *fund[JOURNAL_SHARES_MAX];
    int64_t fen[JOURNAL_SHARES_MAX];
    if (n < 1 || n > JOURNAL_SHARES_MAX) {
        snprintf(err, errlen, "%d fund shares (1..%d)", n, JOURNAL_SHARES_MAX);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        fund[i] = s[i].fund;
        fen[i] = s[i].amount_fen;
    }
    if (journal_shares_check(e, fund, fen, n, err, errlen) < 0)
        return -1;
    journal_entry old = *e;
    memmove(e->shares, s, (size_t)n * sizeof(*s));
    e->nshares = n;
    if (journal_derive_lines(e, err, errlen) < 0) {
        *e = old;
        return -1;
    }
    return 0;
}

char *journal_shares_format(const journal_entry *e, char *out, size_t len)
{
    size_t at = 0;
    if (len == 0)
        return out;
    out[0] = '\0';
    for (int i = 0; i < e->nshares && at < len; i++) {
        int n = snprintf(out + at, len - at, "%s%s:%lld", i ? "," : "", e->shares[i].fund,
                         (long long)e->shares[i].amount_fen);
        if (n < 0)
            break;
        at += (size_t)n;
    }
    return out;
}

int journal_shares_parse(journal_entry *e, const char *text, char *err, size_t errlen)
{
    e->nshares = 0;
    if (text == NULL || *text == '\0')
        return 0;
    const char *p = text;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *colon = memchr(p, ':', len);
        if (colon == NULL || e->nshares == JOURNAL_SHARES_MAX ||
            (size_t)(colon - p) >= JOURNAL_FUND_MAX) {
            snprintf(err, errlen, "fund shares \"%.80s\" are malformed", text);
            e->nshares = 0;
            return -1;
        }
        journal_share *s = &e->shares[e->nshares];
        snprintf(s->fund, sizeof(s->fund), "%.*s", (int)(colon - p), p);
        char num[24], *stop;
        size_t nl = len - (size_t)(colon - p) - 1;
        snprintf(num, sizeof(num), "%.*s", (int)(nl < sizeof(num) ? nl : sizeof(num) - 1),
                 colon + 1);
        s->amount_fen = strtoll(num, &stop, 10);
        if (nl == 0 || nl >= sizeof(num) || *stop != '\0') {
            snprintf(err, errlen, "fund shares \"%.80s\" are malformed", text);
            e->nshares = 0;
            return -1;
        }
        e->nshares++;
        if (end == NULL)
            break;
        p = end + 1;
    }
    return 0;
}

#define JOURNAL_REQUIRE(field, name, max)                                                          \
    do {                                                                                           \
        if (!money_account_field_ok((field), (max))) {                                             \
            snprintf(err, errlen, "%s is missing or malformed", (name));                           \
            return -1;                                                                             \
        }                                                                                          \
    } while (0)

static const char *journal_opt(const char *s)
{
    return s && *s ? s : NULL;
}

/* Up to 16 bytes of an event's field for a reason, printable ASCII only
 * ('?' for the rest): a reason is stored as text in PostgreSQL and sent in a
 * DLQ header, where a cut or invalid UTF-8 sequence must never go. */
static const char *journal_quote(char out[17], const char *s)
{
    size_t i = 0;
    for (; s && s[i] && i < 16; i++)
        out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    out[i] = '\0';
    return out;
}

/* A TopupIssued's payee: "" or "card" a top-up, "person" a payment; -1
 * for anything else. */
static int journal_payee_kind(const char *payee)
{
    if (payee == NULL || *payee == '\0' || strcmp(payee, "card") == 0)
        return JOURNAL_TOPUP;
    if (strcmp(payee, "person") == 0)
        return JOURNAL_PAYMENT;
    return -1;
}

int journal_from_event(const event_type *type, const ProtobufCMessage *msg, journal_entry *e,
                       char *err, size_t errlen)
{
    memset(e, 0, sizeof(*e));
    const ProtobufCMessageDescriptor *d = type ? type->desc : NULL;
    if (d == &onecard__v1__swipe_authorized__descriptor) {
        const Onecard__V1__SwipeAuthorized *s = (const void *)msg;
        e->kind = JOURNAL_SWIPE;
        e->event_id = s->event_id;
        e->card_no = s->card_no;
        e->wallet = s->wallet;
        e->provider_id = s->provider_id;
        e->terminal_id = journal_opt(s->terminal_id);
        e->item_code = journal_opt(s->item_code);
        e->fund_source = journal_opt(s->fund_source);
        e->swipe_id = journal_opt(s->swipe_id);
        e->request_id = journal_opt(s->request_id);
        e->person_id = journal_opt(s->person_id);
        e->amount_fen = s->amount_fen;
        e->occurred_at_ms = s->occurred_at_ms;
    } else if (d == &onecard__v1__swipe_reversed__descriptor) {
        const Onecard__V1__SwipeReversed *s = (const void *)msg;
        e->kind = JOURNAL_REVERSAL;
        e->event_id = s->event_id;
        e->card_no = s->card_no;
        e->wallet = s->wallet;
        e->provider_id = s->provider_id;
        e->terminal_id = journal_opt(s->terminal_id);
        e->item_code = journal_opt(s->item_code);
        e->fund_source = journal_opt(s->fund_source);
        e->swipe_id = journal_opt(s->swipe_id);
        e->request_id = journal_opt(s->request_id);
        e->amount_fen = s->amount_fen;
        e->occurred_at_ms = s->occurred_at_ms;
    } else if (d == &onecard__v1__topup_issued__descriptor) {
        const Onecard__V1__TopupIssued *t = (const void *)msg;
        int kind = journal_payee_kind(t->payee);
        char q[17];
        if (kind < 0) {
            snprintf(err, errlen, "payee \"%s\" is not \"\", \"card\" or \"person\"",
                     journal_quote(q, t->payee));
            return -1;
        }
        e->kind = (journal_kind)kind;
        e->event_id = t->event_id;
        e->card_no = t->card_no;
        e->wallet = kind == JOURNAL_PAYMENT ? journal_opt(t->wallet) : t->wallet;
        e->item_code = journal_opt(t->item_code);
        e->fund_source = t->fund_source;
        e->programme = journal_opt(t->programme);
        e->period = t->period;
        e->person_id = journal_opt(t->person_id);
        e->request_id = journal_opt(t->topup_id);
        e->amount_fen = t->amount_fen;
        e->occurred_at_ms = t->occurred_at_ms;
        e->credit_ends = kind == JOURNAL_TOPUP ? journal_opt(t->credit_ends) : NULL;
        if (e->credit_ends && !journal_date_ok(e->credit_ends)) {
            snprintf(err, errlen, "credit_ends \"%s\" is not YYYY-MM-DD",
                     journal_quote(q, t->credit_ends));
            return -1;
        }
        JOURNAL_REQUIRE(t->fund_source, "fund_source", 64);
        if (e->programme)
            JOURNAL_REQUIRE(e->programme, "programme", 64);
        JOURNAL_REQUIRE(t->topup_id, "topup_id", 64);
        if (kind == JOURNAL_PAYMENT && !card_person_id_valid(e->person_id)) {
            /* the payee account's name: who settlement pays */
            snprintf(err, errlen, "person_id is missing or not a person id (64 lowercase hex)");
            return -1;
        }
        e->year = journal_period_year(t->period);
        if (e->year < 0) {
            snprintf(err, errlen, "period \"%s\" is not YYYY-MM", journal_quote(q, t->period));
            return -1;
        }
        /* the shares it carries (none: one of fund_source); their sum and
         * amounts are checked with the lines */
        if (t->n_shares > JOURNAL_SHARES_MAX) {
            snprintf(err, errlen, "%zu fund shares (at most %d)", t->n_shares, JOURNAL_SHARES_MAX);
            return -1;
        }
        for (size_t i = 0; i < t->n_shares; i++) {
            const Onecard__V1__FundShare *f = t->shares[i];
            if (f == NULL || !money_account_field_ok(f->level, 64) || strchr(f->level, ',')) {
                snprintf(err, errlen, "shares[%zu].level is missing or malformed", i);
                return -1;
            }
            snprintf(e->shares[i].fund, sizeof(e->shares[i].fund), "%s", f->level);
            e->shares[i].amount_fen = f->amount_fen;
        }
        e->nshares = (int)t->n_shares;
    } else if (d == &onecard__v1__credit_returned__descriptor) {
        const Onecard__V1__CreditReturned *t = (const void *)msg;
        char q[17];
        e->kind = JOURNAL_RETURN;
        e->event_id = t->event_id;
        e->card_no = t->card_no;
        e->wallet = t->wallet;
        e->item_code = journal_opt(t->item_code);
        e->period = t->period;
        e->person_id = journal_opt(t->person_id);
        e->request_id = journal_opt(t->return_id);
        e->reason = t->reason;
        e->amount_fen = t->amount_fen;
        e->occurred_at_ms = t->occurred_at_ms;
        JOURNAL_REQUIRE(t->return_id, "return_id", 64);
        if (!journal_reason_ok(t->reason)) {
            snprintf(err, errlen, "reason \"%s\" is not lapse, death, moved or recovery",
                     journal_quote(q, t->reason));
            return -1;
        }
        e->year = journal_period_year(t->period);
        if (e->year < 0) {
            snprintf(err, errlen, "period \"%s\" is not YYYY-MM", journal_quote(q, t->period));
            return -1;
        }
        if (t->n_shares > JOURNAL_SHARES_MAX) {
            snprintf(err, errlen, "%zu fund shares (at most %d)", t->n_shares, JOURNAL_SHARES_MAX);
            return -1;
        }
        for (size_t i = 0; i < t->n_shares; i++) {
            const Onecard__V1__FundShare *f = t->shares[i];
            if (f == NULL || !money_account_field_ok(f->level, 64) || strchr(f->level, ',')) {
                snprintf(err, errlen, "shares[%zu].level is missing or malformed", i);
                return -1;
            }
            snprintf(e->shares[i].fund, sizeof(e->shares[i].fund), "%s", f->level);
            e->shares[i].amount_fen = f->amount_fen;
        }
        e->nshares = (int)t->n_shares;
        /* none: the store splits it over the wallet's funds as a swipe's;
         * a wallet the journal holds nothing of (Redis ahead of it by a
         * reversal not yet journalled) returns it to the suspense fund
         * "unsplit", for the finance office to assign */
        e->fund_source = "unsplit";
    } else {
        snprintf(err, errlen, "the ledger does not apply %s events",
                 type ? type->ce_type : "unknown");
        return -1;
    }
    JOURNAL_REQUIRE(e->event_id, "event_id", 64);
    JOURNAL_REQUIRE(e->card_no, "card_no", 32);
    if (e->kind != JOURNAL_PAYMENT || e->wallet) /* a payment credits no wallet */
        JOURNAL_REQUIRE(e->wallet, "wallet", 32);
    if (e->kind != JOURNAL_TOPUP && e->kind != JOURNAL_PAYMENT && e->kind != JOURNAL_RETURN)
        JOURNAL_REQUIRE(e->provider_id, "provider_id", 64);
    if (e->occurred_at_ms <= 0) {
        snprintf(err, errlen, "occurred_at_ms is missing");
        return -1;
    }
    return journal_derive_lines(e, err, errlen);
}

int journal_move_from_event(const ProtobufCMessage *msg, journal_move *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof(*m));
    if (msg == NULL || msg->descriptor != &onecard__v1__balance_carry_over__descriptor) {
        snprintf(err, errlen, "not a BalanceCarryOver");
        return -1;
    }
    const Onecard__V1__BalanceCarryOver *b = (const void *)msg;
    m->event_id = b->event_id;
    m->from_card_no = b->from_card_no;
    m->to_card_no = b->to_card_no;
    m->person_id = journal_opt(b->person_id);
    m->occurred_at_ms = b->occurred_at_ms;
    JOURNAL_REQUIRE(b->event_id, "event_id", 64);
    JOURNAL_REQUIRE(b->from_card_no, "from_card_no", 32);
    JOURNAL_REQUIRE(b->to_card_no, "to_card_no", 32);
    if (strcmp(b->from_card_no, b->to_card_no) == 0) {
        snprintf(err, errlen, "from_card_no and to_card_no are the same card");
        return -1;
    }
    if (m->person_id)
        JOURNAL_REQUIRE(m->person_id, "person_id", 64);
    if (m->occurred_at_ms <= 0) {
        snprintf(err, errlen, "occurred_at_ms is missing");
        return -1;
    }
    return 0;
}

void journal_posting_id(char *out, const char *source_event_id)
{
    char hex[SIGN_HEX_LEN + 1];
    sign_sha256_hex(hex, source_event_id, strlen(source_event_id));
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}
