/*
 * posting: ledger postings to settlement facts. See posting.h.
 */
#include "posting.h"

#include "common/card.h"
#include "common/money.h"

#include <stdio.h>
#include <string.h>

#define POSTING_MAX_FEN MONEY_MAX_FEN /* as the ledger's journal bounds it */

static const char *const posting_kinds[POSTING_KINDS] = {"swipe", "reversal", "topup", "payment"};

const char *posting_kind_name(posting_kind k)
{
    return (unsigned)k < POSTING_KINDS ? posting_kinds[k] : "?";
}

/* The line whose account is "<kind>:<x>" exactly (x may be NULL: any);
 * *count, when given, is how many lines are of that kind. */
static const Onecard__V1__PostingLine *posting_line_n(const Onecard__V1__LedgerPosting *m,
                                                      const char *kind, const char *x, int *count)
{
    size_t kl = strlen(kind);
    const Onecard__V1__PostingLine *found = NULL;
    if (count)
        *count = 0;
    for (size_t i = 0; i < m->n_lines; i++) {
        const char *a = m->lines[i] ? m->lines[i]->account : NULL;
        if (a == NULL || strncmp(a, kind, kl) != 0 || a[kl] != ':')
            continue;
        if (count)
            (*count)++;
        if (found == NULL && (x == NULL || strcmp(a + kl + 1, x) == 0))
            found = m->lines[i];
    }
    return found;
}

static const Onecard__V1__PostingLine *posting_line(const Onecard__V1__LedgerPosting *m,
                                                    const char *kind, const char *x)
{
    return posting_line_n(m, kind, x, NULL);
}

/* A payment: payee:<person> credited, fund:<fund_source>:<year> debited by
 * the same amount, no wallet and no provider (see posting.h). */
static int posting_payment(const Onecard__V1__LedgerPosting *m, posting *p, char *err,
                           size_t errlen)
{
    if (m->provider_id && m->provider_id[0] != '\0') {
        snprintf(err, errlen, "a payment names no provider, this one names \"%.64s\"",
                 m->provider_id);
        return -1;
    }
    if (posting_line(m, "wallet", NULL) != NULL) {
        snprintf(err, errlen, "a payment has no wallet line, this one has");
        return -1;
    }
    /* fund and payee, and budget and obligated when a programme is set */
    static const char *const kinds[] = {"fund:", "payee:", "budget:", "obligated:"};
    for (size_t i = 0; i < m->n_lines; i++) {
        const char *a = m->lines[i] ? m->lines[i]->account : NULL;
        bool known = false;
        for (size_t k = 0; a != NULL && k < sizeof(kinds) / sizeof(kinds[0]) && !known; k++)
            known = strncmp(a, kinds[k], strlen(kinds[k])) == 0;
        if (!known) {
            snprintf(err, errlen,
                     "a payment has no line \"%.80s\" (fund, payee, budget, obligated)",
                     a ? a : "");
            return -1;
        }
    }
    int nb = 0, no = 0;
    const Onecard__V1__PostingLine *b = posting_line_n(m, "budget", NULL, &nb),
                                   *o = posting_line_n(m, "obligated", NULL, &no);
    if (nb > 1 || no > 1 || (b == NULL) != (o == NULL) ||
        (b && (b->amount_fen <= 0 || b->amount_fen != -o->amount_fen))) {
        snprintf(err, errlen,
                 "a payment's budget and obligated lines come as one pair that balances (%d, %d "
                 "lines)",
                 nb, no);
        return -1;
    }
    int n = 0;
    const Onecard__V1__PostingLine *y = posting_line_n(m, "payee", NULL, &n);
    if (y == NULL) {
        snprintf(err, errlen, "no payee line");
        return -1;
    }
    if (n > 1) {
        snprintf(err, errlen, "%d payee lines, a payment has one", n);
        return -1;
    }
    const char *person = y->account + strlen("payee:");
    if (!card_person_id_valid(person)) {
        snprintf(err, errlen, "the payee line \"%.80s\" is not payee:<person id: 64 hex digits>",
                 y->account);
        return -1;
    }
    if (y->amount_fen >= 0 || y->amount_fen < -POSTING_MAX_FEN) {
        snprintf(err, errlen, "a payment must credit the payee: its line is %lld fen",
                 (long long)y->amount_fen);
        return -1;
    }
    if (p->fund_source[0] == '\0') {
        snprintf(err, errlen, "a payment needs its fund_source");
        return -1;
    }
    const Onecard__V1__PostingLine *f = posting_line_n(m, "fund", NULL, &n);
    size_t fl = strlen(p->fund_source);
    const char *fa = f ? f->account + strlen("fund:") : "";
    if (f == NULL || n != 1 || strncmp(fa, p->fund_source, fl) != 0 || fa[fl] != ':') {
        snprintf(err, errlen, "a payment has one fund line, fund:%s:<year>; found %d (%.80s)",
                 p->fund_source, n, f ? f->account : "none");
        return -1;
    }
    if (f->amount_fen != -y->amount_fen) {
        snprintf(err, errlen, "the fund and payee lines do not balance (%lld, %lld)",
                 (long long)f->amount_fen, (long long)y->amount_fen);
        return -1;
    }
    p->person_id = person;
    p->amount_fen = -y->amount_fen;
    return 0;
}

static int posting_parse(const Onecard__V1__LedgerPosting *m, posting *p, char *err, size_t errlen);

/* Whether any line names its fund: a posting of fund shares. */
static bool posting_has_funds(const Onecard__V1__LedgerPosting *m)
{
    for (size_t i = 0; i < m->n_lines; i++)
        if (m->lines[i] && m->lines[i]->fund && m->lines[i]->fund[0])
            return true;
    return false;
}

/* The account's text after "<kind>:", or NULL when it is of another kind. */
static const char *posting_after(const char *account, const char *kind)
{
    size_t kl = strlen(kind);
    return account && strncmp(account, kind, kl) == 0 && account[kl] == ':' ? account + kl + 1
                                                                            : NULL;
}

/* A posting of fund shares: per fund a pair of lines that balance, the
 * money line (payable for a swipe or reversal, wallet for a top-up, payee
 * for a payment) and its counterpart (wallet, fund:<fund>:<year>), plus a
 * top-up's or payment's budget pair. */
static int posting_by_fund(const Onecard__V1__LedgerPosting *m, posting *p, char *err,
                           size_t errlen)
{
    const char *money, *counter;
    int64_t sign; /* of the money line */
    switch (p->kind) {
    case POSTING_SWIPE:
        money = "payable", counter = "wallet", sign = -1;
        break;
    case POSTING_REVERSAL:
        money = "payable", counter = "wallet", sign = 1;
        break;
    case POSTING_TOPUP:
        money = "wallet", counter = "fund", sign = -1;
        break;
    default:
        money = "payee", counter = "fund", sign = -1;
        break;
    }
    if (p->kind == POSTING_PAYMENT && p->fund_source[0] == '\0') {
        snprintf(err, errlen, "a payment needs its fund_source");
        return -1;
    }
    if (p->kind == POSTING_PAYMENT && m->provider_id && m->provider_id[0]) {
        snprintf(err, errlen, "a payment names no provider, this one names \"%.64s\"",
                 m->provider_id);
        return -1;
    }
    if (p->kind == POSTING_SWIPE || p->kind == POSTING_REVERSAL) {
        if (!money_account_field_ok(m->provider_id, 64)) {
            snprintf(err, errlen, "provider_id is missing or malformed");
            return -1;
        }
        p->provider_id = m->provider_id;
    }
    const Onecard__V1__PostingLine *mline[POSTING_SHARES_MAX], *cline[POSTING_SHARES_MAX];
    int n = 0, nb = 0, no = 0;
    int64_t budget = 0, obligated = 0;
    /* the money lines: one per fund */
    for (size_t i = 0; i < m->n_lines; i++) {
        const Onecard__V1__PostingLine *l = m->lines[i];
        const char *a = l ? l->account : NULL;
        const char *fund = l && l->fund ? l->fund : "";
        if (posting_after(a, money) == NULL)
            continue;
        if (!money_account_field_ok(fund, 64)) {
            snprintf(err, errlen, "the line %.80s names no fund", a);
            return -1;
        }
        for (int k = 0; k < n; k++)
            if (strcmp(mline[k]->fund, fund) == 0) {
                snprintf(err, errlen, "two %s lines of fund %.64s", money, fund);
                return -1;
            }
        if (n == POSTING_SHARES_MAX) {
            snprintf(err, errlen, "more than %d fund shares", POSTING_SHARES_MAX);
            return -1;
        }
        if (l->amount_fen == 0 || (l->amount_fen > 0) != (sign > 0) ||
            l->amount_fen > POSTING_MAX_FEN || l->amount_fen < -POSTING_MAX_FEN) {
            snprintf(err, errlen,
                     "the %s line of fund %.64s of a %s is %lld fen: wrong sign or "
                     "out of range",
                     money, fund, posting_kind_name(p->kind), (long long)l->amount_fen);
            return -1;
        }
        cline[n] = NULL;
        mline[n++] = l;
    }
    if (n == 0) {
        snprintf(err, errlen, "no %s line", money);
        return -1;
    }
    /* every other line: a counterpart of one of them, or the budget pair */
    for (size_t i = 0; i < m->n_lines; i++) {
        const Onecard__V1__PostingLine *l = m->lines[i];
        const char *a = l ? l->account : NULL;
        if (posting_after(a, money) != NULL)
            continue;
        bool draws = p->kind == POSTING_TOPUP || p->kind == POSTING_PAYMENT;
        bool b = draws && posting_after(a, "budget"), o = draws && posting_after(a, "obligated");
        if (b || o) { /* one pair, each line within the money limit */
            if ((b ? nb : no) > 0 || l->amount_fen > POSTING_MAX_FEN ||
                l->amount_fen < -POSTING_MAX_FEN) {
                snprintf(err, errlen,
                         "the budget and obligated lines come as one pair of the "
                         "whole amount");
                return -1;
            }
            if (b)
                nb++, budget = l->amount_fen;
            else
                no++, obligated = l->amount_fen;
            continue;
        }
        const char *x = posting_after(a, counter);
        const char *fund = l && l->fund ? l->fund : "";
        int k = 0;
        while (k < n && strcmp(mline[k]->fund, fund) != 0)
            k++;
        if (x == NULL || k == n || cline[k] != NULL) {
            snprintf(err, errlen, "the line %.80s (fund %.64s) is not the %s line of one share",
                     a ? a : "", fund, counter);
            return -1;
        }
        if (strcmp(counter, "fund") == 0) { /* fund:<fund>:<year> */
            size_t fl = strlen(fund);
            if (strncmp(x, fund, fl) != 0 || x[fl] != ':') {
                snprintf(err, errlen, "the line %.80s does not draw on fund %.64s", a, fund);
                return -1;
            }
        }
        if (l->amount_fen != -mline[k]->amount_fen) {
            snprintf(err, errlen, "the %s and %s lines of fund %.64s do not balance (%lld, %lld)",
                     money, counter, fund, (long long)mline[k]->amount_fen,
                     (long long)l->amount_fen);
            return -1;
        }
        cline[k] = l;
    }
    int64_t total = 0;
    for (int k = 0; k < n; k++) {
        if (cline[k] == NULL) {
            snprintf(err, errlen, "the share of fund %.64s has no %s line", mline[k]->fund,
                     counter);
            return -1;
        }
        p->shares[k].fund = mline[k]->fund;
        p->shares[k].fen = mline[k]->amount_fen * sign;
        total += p->shares[k].fen;
    }
    p->nshares = n;
    if (nb > 1 || no > 1 || nb != no || budget != -obligated || (nb && budget != total)) {
        snprintf(err, errlen,
                 "the budget and obligated lines come as one pair of the whole amount");
        return -1;
    }
    if (total > POSTING_MAX_FEN) {
        snprintf(err, errlen, "the shares sum to %lld fen: out of range", (long long)total);
        return -1;
    }
    p->amount_fen = total;
    if (p->kind == POSTING_SWIPE || p->kind == POSTING_REVERSAL)
        p->payable_fen = p->kind == POSTING_SWIPE ? total : -total;
    /* the payable lines name the posting's provider; the wallet (or the
     * payee) is one account */
    const char *who = NULL, *own = p->kind == POSTING_PAYMENT ? "payee" : "wallet";
    for (size_t i = 0; i < m->n_lines; i++) {
        const char *a = m->lines[i] ? m->lines[i]->account : NULL;
        const char *pay = posting_after(a, "payable");
        if (pay && (p->provider_id == NULL || strcmp(pay, p->provider_id) != 0)) {
            snprintf(err, errlen, "the payable line %.80s is not payable:%.64s", a,
                     p->provider_id ? p->provider_id : "");
            return -1;
        }
        const char *x = posting_after(a, own);
        if (x == NULL)
            continue;
        if (who != NULL && strcmp(who, x) != 0) {
            snprintf(err, errlen, "the shares name two %s accounts (%.60s, %.60s)", own, who, x);
            return -1;
        }
        who = x;
    }
    if (p->kind == POSTING_PAYMENT) {
        if (who == NULL || !card_person_id_valid(who)) {
            snprintf(err, errlen, "the payee line is not payee:<person id: 64 hex digits>");
            return -1;
        }
        p->person_id = who;
        return 0;
    }
    size_t cl = strlen(p->card_no);
    if (who == NULL || strncmp(who, p->card_no, cl) != 0 || who[cl] != ':' ||
        !money_account_field_ok(who + cl + 1, POSTING_WALLET_MAX)) {
        snprintf(err, errlen, "the wallet line is not wallet:%s:<wallet>", p->card_no);
        return -1;
    }
    snprintf(p->wallet, sizeof(p->wallet), "%s", who + cl + 1);
    return 0;
}

int posting_from_msg(const Onecard__V1__LedgerPosting *m, posting *p, char *err, size_t errlen)
{
    int rc = posting_parse(m, p, err, errlen);
    if (rc == 0 && p->nshares == 0) { /* lines naming no fund: one share */
        p->nshares = 1;
        p->shares[0].fund = p->fund_source;
        p->shares[0].fen = p->amount_fen;
    }
    return rc;
}

static int posting_parse(const Onecard__V1__LedgerPosting *m, posting *p, char *err, size_t errlen)
{
    memset(p, 0, sizeof(*p));
    if (!money_account_field_ok(m->event_id, 64)) {
        snprintf(err, errlen, "event_id is missing or malformed");
        return -1;
    }
    p->event_id = m->event_id;
    const char *k = m->kind ? m->kind : "";
    if (strcmp(k, "swipe") == 0)
        p->kind = POSTING_SWIPE;
    else if (strcmp(k, "reversal") == 0)
        p->kind = POSTING_REVERSAL;
    else if (strcmp(k, "topup") == 0)
        p->kind = POSTING_TOPUP;
    else if (strcmp(k, "payment") == 0)
        p->kind = POSTING_PAYMENT;
    else {
        snprintf(err, errlen, "kind \"%.20s\" is not settled (swipe, reversal, topup or payment)",
                 k);
        return -1;
    }
    if (!money_account_field_ok(m->card_no, 32)) {
        snprintf(err, errlen, "card_no is missing or malformed");
        return -1;
    }
    p->card_no = m->card_no;
    p->item_code = m->item_code ? m->item_code : "";
    p->fund_source = m->fund_source ? m->fund_source : "";
    if (strlen(p->item_code) > 64 || strlen(p->fund_source) > 64) {
        snprintf(err, errlen, "item_code or fund_source is longer than 64");
        return -1;
    }
    if (m->occurred_at_ms <= 0) {
        snprintf(err, errlen, "occurred_at_ms is missing");
        return -1;
    }
    p->occurred_at_ms = m->occurred_at_ms;
    if (posting_has_funds(m))
        return posting_by_fund(m, p, err, errlen);
    if (p->kind == POSTING_PAYMENT)
        return posting_payment(m, p, err, errlen);

    /* the wallet line: wallet:<card>:<wallet> */
    const Onecard__V1__PostingLine *w = posting_line(m, "wallet", NULL);
    if (w == NULL) {
        snprintf(err, errlen, "no wallet line");
        return -1;
    }
    size_t cl = strlen(p->card_no);
    const char *wa = w->account + strlen("wallet:");
    if (strncmp(wa, p->card_no, cl) != 0 || wa[cl] != ':' ||
        !money_account_field_ok(wa + cl + 1, POSTING_WALLET_MAX)) {
        snprintf(err, errlen, "the wallet line \"%.80s\" is not wallet:%s:<wallet>", w->account,
                 p->card_no);
        return -1;
    }
    snprintf(p->wallet, sizeof(p->wallet), "%s", wa + cl + 1);

    if (p->kind == POSTING_TOPUP) {
        if (w->amount_fen >= 0 || w->amount_fen < -POSTING_MAX_FEN) {
            snprintf(err, errlen, "a top-up must credit the wallet: its line is %lld fen",
                     (long long)w->amount_fen);
            return -1;
        }
        p->amount_fen = -w->amount_fen;
        return 0;
    }

    if (!money_account_field_ok(m->provider_id, 64)) {
        snprintf(err, errlen, "provider_id is missing or malformed");
        return -1;
    }
    p->provider_id = m->provider_id;
    const Onecard__V1__PostingLine *l = posting_line(m, "payable", p->provider_id);
    if (l == NULL) {
        snprintf(err, errlen, "no payable:%s line", p->provider_id);
        return -1;
    }
    /* credit-normal: a swipe's line is -a, a reversal's +a */
    int64_t payable = -l->amount_fen;
    if (payable == 0 || payable > POSTING_MAX_FEN || payable < -POSTING_MAX_FEN ||
        (p->kind == POSTING_SWIPE) != (payable > 0)) {
        snprintf(err, errlen, "the payable line of a %s is %lld fen: wrong sign or out of range",
                 posting_kind_name(p->kind), (long long)l->amount_fen);
        return -1;
    }
    if (w->amount_fen != -l->amount_fen) {
        snprintf(err, errlen, "the wallet and payable lines do not balance (%lld, %lld)",
                 (long long)w->amount_fen, (long long)l->amount_fen);
        return -1;
    }
    p->payable_fen = payable;
    p->amount_fen = payable > 0 ? payable : -payable;
    return 0;
}
