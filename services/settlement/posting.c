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

int posting_from_msg(const Onecard__V1__LedgerPosting *m, posting *p, char *err, size_t errlen)
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
