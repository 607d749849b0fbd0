/*
 * store: one PostgreSQL transaction per batch. See store.h.
 */
#include "store.h"

#include "common/card.h"
#include "common/log.h"
#include "common/shares.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void store_init(store *s, PGconn *pg, const char *group)
{
    memset(s, 0, sizeof(*s));
    s->pg = pg;
    s->group = group;
}

static void store_arrays_reset(store *s, int n)
{
    for (int i = 0; i < n; i++)
        pg_array_reset(&s->arr[i]);
}

/* Turns an entry into a rejection; the caller writes the reason. */
static void store_reject(store_item *it)
{
    it->ok = false;
    it->reject_event_id = it->e.event_id;
    it->reject_amount_fen = it->e.amount_fen;
}

/* ------------------------------------------------------------ duplicates */

/* A top-up or a payment: the entry of a TopupIssued, drawn from a fund
 * (and a budget), and applied once per topup_id whatever its payee (the
 * unique index ledger_entries_topup of 0017_ledger_payments.sql says the
 * same). */
static bool store_draws(const journal_entry *e)
{
    return e->kind == JOURNAL_TOPUP || e->kind == JOURNAL_PAYMENT;
}

static bool store_issued(const journal_entry *e)
{
    return store_draws(e) && e->request_id;
}

/* What makes an event a duplicate: its event id, and for a top-up or a
 * payment its topup_id (a re-run issuance carries new event ids). */
static void store_dedupe_key(char *out, size_t len, const journal_entry *e)
{
    if (store_issued(e))
        snprintf(out, len, "topup\t%s", e->request_id);
    else
        snprintf(out, len, "%s", e->event_id);
}

/* An event already in the journal, or twice in the batch, is a duplicate:
 * recorded as a rejection at its offset, applied once. */
static int store_mark_duplicates(store *s, store_item *items, int n, char *err, size_t errlen)
{
    idmap_clear(&s->seen);
    store_arrays_reset(s, 2);
    char key[160];
    for (int i = 0; i < n; i++) {
        if (!items[i].ok)
            continue;
        bool added;
        store_dedupe_key(key, sizeof(key), &items[i].e);
        if (idmap_put(&s->seen, key, i, &added) == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        bool topup = store_issued(&items[i].e);
        if (!added) {
            store_reject(&items[i]);
            snprintf(items[i].reason, sizeof(items[i].reason),
                     "duplicate: %s %s appears twice in the stream", topup ? "topup" : "event",
                     topup ? items[i].e.request_id : items[i].e.event_id);
            continue;
        }
        if (topup)
            pg_array_add(&s->arr[1], items[i].e.request_id);
        else
            pg_array_add(&s->arr[0], items[i].e.event_id);
    }
    if (s->arr[0].n == 0 && s->arr[1].n == 0)
        return 0;
    PGresult *r = pg_query_arrays(
        s->pg,
        "SELECT event_id FROM ledger_entries WHERE event_id = ANY($1::text[]) UNION ALL "
        "SELECT E'topup\\t' || request_id FROM ledger_entries WHERE kind IN ('topup', "
        "'payment') AND request_id = ANY($2::text[])",
        s->arr, NULL, 2, err, errlen);
    if (r == NULL)
        return -1;
    for (int row = 0; row < PQntuples(r); row++) {
        int64_t *i = idmap_get(&s->seen, PQgetvalue(r, row, 0));
        if (i == NULL)
            continue;
        store_reject(&items[*i]);
        const char *k = PQgetvalue(r, row, 0);
        bool topup = strncmp(k, "topup\t", 6) == 0;
        snprintf(items[*i].reason, sizeof(items[*i].reason), "duplicate: %s %s was applied already",
                 topup ? "topup" : "event", topup ? k + 6 : k);
    }
    PQclear(r);
    return 0;
}

/* ---------------------------------------------------------------- budgets */

typedef struct store_fund {
    const char *name;
    int64_t balance;
} store_fund;

/* Top-ups and payments are checked in stream order against the funds and
 * budgets, locked for the transaction; one that would overdraw is
 * rejected. */
static int store_check_budgets(store *s, store_item *items, int n, char *err, size_t errlen)
{
    store_arrays_reset(s, 1);
    int ntop = 0;
    for (int i = 0; i < n; i++) {
        if (!items[i].ok || !store_draws(&items[i].e))
            continue;
        ntop++;
        for (int l = 0; l < items[i].e.nlines; l++)
            if (strcmp(items[i].e.lines[l].account.kind, "fund") == 0 ||
                strcmp(items[i].e.lines[l].account.kind, "budget") == 0)
                pg_array_add(&s->arr[0], items[i].e.lines[l].account.name);
    }
    if (ntop == 0)
        return 0;
    PGresult *r = pg_query_arrays(s->pg,
                                  "SELECT name, balance_fen FROM ledger_accounts WHERE name = "
                                  "ANY($1::text[]) ORDER BY account_id FOR UPDATE",
                                  s->arr, NULL, 1, err, errlen);
    if (r == NULL)
        return -1;
    int nf = PQntuples(r);
    store_fund *funds = calloc((size_t)nf + 1, sizeof(*funds));
    if (funds == NULL) {
        PQclear(r);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int f = 0; f < nf; f++) {
        funds[f].name = PQgetvalue(r, f, 0);
        funds[f].balance = strtoll(PQgetvalue(r, f, 1), NULL, 10);
    }
    for (int i = 0; i < n; i++) {
        store_item *it = &items[i];
        if (!it->ok || !store_draws(&it->e))
            continue;
        store_fund *hit[JOURNAL_LINES_MAX] = {0};
        for (int l = 0; l < it->e.nlines && it->ok; l++) {
            const journal_account *a = &it->e.lines[l].account;
            if (strcmp(a->kind, "fund") != 0 && strcmp(a->kind, "budget") != 0)
                continue;
            store_fund *f = NULL;
            for (int k = 0; k < nf; k++)
                if (strcmp(funds[k].name, a->name) == 0)
                    f = &funds[k];
            int64_t avail = f ? -f->balance : 0;
            int64_t need = it->e.lines[l].amount_fen; /* the share this fund pays */
            if (avail < need) {
                it->dead_letter = true;
                store_reject(it);
                it->reject_code = "over_budget"; /* ledger_v1_refused_topups */
                snprintf(it->reason, sizeof(it->reason),
                         "over budget: %.120s has %lld fen available, the %s needs %lld", a->name,
                         (long long)avail, it->e.kind == JOURNAL_PAYMENT ? "payment" : "top-up",
                         (long long)need);
            }
            hit[l] = f;
        }
        if (it->ok)
            for (int l = 0; l < it->e.nlines; l++)
                if (hit[l])
                    hit[l]->balance += it->e.lines[l].amount_fen;
    }
    free(funds);
    PQclear(r);
    return 0;
}

/* ------------------------------------------------------------ fund shares */

/* Where a fund stands in a split's order: the levels in their order
 * (common/shares.h), then any other fund by name. */
static int store_fund_cmp(const char *a, const char *b)
{
    int ra = shares_level_parse(a), rb = shares_level_parse(b);
    ra = ra < 0 ? SHARES_LEVELS : ra;
    rb = rb < 0 ? SHARES_LEVELS : rb;
    return ra != rb ? ra - rb : strcmp(a, b);
}

/* Adds fen to the fund's money in the purse, keeping the funds in order.
 * -1 with err when the purse is full. */
static int store_purse_add(store_purse *p, const char *fund, int64_t fen, char *err, size_t errlen)
{
    int at = 0;
    while (at < p->n && store_fund_cmp(p->fund[at], fund) < 0)
        at++;
    if (at < p->n && strcmp(p->fund[at], fund) == 0) {
        p->money[at] += fen;
        return 0;
    }
    if (p->n == STORE_PURSE_FUNDS) {
        snprintf(err, errlen, "a wallet holds money of more than %d funds", STORE_PURSE_FUNDS);
        return -1;
    }
    memmove(p->fund[at + 1], p->fund[at], (size_t)(p->n - at) * sizeof(p->fund[0]));
    memmove(&p->money[at + 1], &p->money[at], (size_t)(p->n - at) * sizeof(p->money[0]));
    snprintf(p->fund[at], sizeof(p->fund[at]), "%s", fund);
    p->money[at] = fen;
    p->n++;
    return 0;
}

/* The purse of the wallet account named (made empty when new), or NULL
 * when memory ran out. */
static store_purse *store_purse_of(store *s, const char *wallet, bool make)
{
    int64_t *i = idmap_get(&s->purse_of, wallet);
    if (i)
        return &s->purses[*i];
    if (!make)
        return NULL;
    if (s->npurses == s->purses_cap) {
        int cap = s->purses_cap ? 2 * s->purses_cap : 256;
        store_purse *p = realloc(s->purses, (size_t)cap * sizeof(*p));
        if (p == NULL)
            return NULL;
        s->purses = p;
        s->purses_cap = cap;
    }
    bool added;
    if (idmap_put(&s->purse_of, wallet, s->npurses, &added) == NULL)
        return NULL;
    store_purse *p = &s->purses[s->npurses++];
    memset(p, 0, sizeof(*p));
    return p;
}

/* Moves the purse as the entry's wallet lines do (a credit is money on the
 * card). */
static int store_purse_apply(store_purse *p, const journal_entry *e, char *err, size_t errlen)
{
    for (int l = 0; l < e->nlines; l++)
        if (strcmp(e->lines[l].account.kind, "wallet") == 0 &&
            store_purse_add(p, e->lines[l].fund, -e->lines[l].amount_fen, err, errlen) < 0)
            return -1;
    return 0;
}

/* A swipe's shares: pro rata over the funds the purse holds money of (at
 * most the JOURNAL_SHARES_MAX largest), to the fen; a purse with no money
 * charges the swipe's own fund_source. */
static int store_split_swipe(const store_purse *p, journal_entry *e, char *err, size_t errlen)
{
    int idx[STORE_PURSE_FUNDS], n = 0;
    for (int i = 0; i < p->n; i++)
        if (p->money[i] > 0)
            idx[n++] = i;
    while (n > JOURNAL_SHARES_MAX) { /* drop the smallest, the last listed on a tie */
        int low = n - 1;
        for (int k = n - 2; k >= 0; k--)
            if (p->money[idx[k]] < p->money[idx[low]])
                low = k;
        memmove(&idx[low], &idx[low + 1], (size_t)(n - low - 1) * sizeof(idx[0]));
        n--;
    }
    journal_share sh[JOURNAL_SHARES_MAX];
    int ns = 0;
    if (n == 0) {
        snprintf(sh[0].fund, sizeof(sh[0].fund), "%s", e->fund_source ? e->fund_source : "");
        sh[0].amount_fen = e->amount_fen;
        ns = 1;
    } else {
        int64_t w[JOURNAL_SHARES_MAX], fen[JOURNAL_SHARES_MAX];
        for (int k = 0; k < n; k++)
            w[k] = p->money[idx[k]];
        if (shares_split_weights(e->amount_fen, w, n, fen, err, errlen) < 0)
            return -1;
        for (int k = 0; k < n; k++)
            if (fen[k] != 0) {
                snprintf(sh[ns].fund, sizeof(sh[ns].fund), "%s", p->fund[idx[k]]);
                sh[ns++].amount_fen = fen[k];
            }
    }
    return journal_set_shares(e, sh, ns, err, errlen);
}

/* A reversal's shares: exactly its swipe's (split by them when the amounts
 * differ); a reversal whose swipe the journal does not have is one share
 * of its fund_source. */
static int store_split_reversal(const store_split *sw, journal_entry *e, char *err, size_t errlen)
{
    if (sw == NULL || sw->n == 0) {
        journal_share one = {.amount_fen = e->amount_fen};
        snprintf(one.fund, sizeof(one.fund), "%s", e->fund_source ? e->fund_source : "");
        return journal_set_shares(e, &one, 1, err, errlen);
    }
    journal_share sh[JOURNAL_SHARES_MAX];
    int64_t w[JOURNAL_SHARES_MAX], fen[JOURNAL_SHARES_MAX], sum = 0;
    for (int k = 0; k < sw->n; k++) {
        w[k] = sw->s[k].amount_fen;
        sum += w[k];
    }
    if (sum == e->amount_fen) {
        memcpy(sh, sw->s, (size_t)sw->n * sizeof(sh[0]));
        return journal_set_shares(e, sh, sw->n, err, errlen);
    }
    if (shares_split_weights(e->amount_fen, w, sw->n, fen, err, errlen) < 0)
        return -1;
    int ns = 0;
    for (int k = 0; k < sw->n; k++)
        if (fen[k] != 0) {
            sh[ns] = sw->s[k];
            sh[ns++].amount_fen = fen[k];
        }
    return journal_set_shares(e, sh, ns, err, errlen);
}

/* The shares of a swipe journalled before, by its swipe id (NULL when
 * none). */
static store_split *store_swipe_split(store *s, const char *swipe_id)
{
    int64_t *i = swipe_id ? idmap_get(&s->swipe_of, swipe_id) : NULL;
    return i ? &s->swipes[*i] : NULL;
}

static int store_swipe_put(store *s, const char *swipe_id, const journal_entry *e)
{
    if (s->nswipes == s->swipes_cap) {
        int cap = s->swipes_cap ? 2 * s->swipes_cap : 256;
        store_split *p = realloc(s->swipes, (size_t)cap * sizeof(*p));
        if (p == NULL)
            return -1;
        s->swipes = p;
        s->swipes_cap = cap;
    }
    bool added;
    int64_t *i = idmap_put(&s->swipe_of, swipe_id, s->nswipes, &added);
    if (i == NULL)
        return -1;
    if (added)
        s->nswipes++;
    store_split *sp = &s->swipes[*i];
    memset(sp, 0, sizeof(*sp));
    sp->n = e->nshares;
    memcpy(sp->s, e->shares, (size_t)e->nshares * sizeof(sp->s[0]));
    return 0;
}

/* Loads the purses of the wallets the batch's swipes and reversals move
 * (their rows locked, so a transfer into one commits first) and the
 * shares of the swipes its reversals name. */
static int store_split_load(store *s, store_item *items, int n, char *err, size_t errlen)
{
    store_arrays_reset(s, 2);
    for (int i = 0; i < n; i++) {
        const journal_entry *e = &items[i].e;
        if (!items[i].ok ||
            (e->kind != JOURNAL_SWIPE && e->kind != JOURNAL_REVERSAL && e->kind != JOURNAL_RETURN))
            continue;
        /* a purse for each wallet, empty until its lines are read: a
         * top-up of the batch may fill it before the swipe */
        bool fresh = idmap_get(&s->purse_of, e->lines[0].account.name) == NULL;
        if (store_purse_of(s, e->lines[0].account.name, true) == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        if (fresh)
            pg_array_add(&s->arr[0], e->lines[0].account.name);
        if (e->kind == JOURNAL_REVERSAL && e->swipe_id)
            pg_array_add(&s->arr[1], e->swipe_id);
    }
    if (s->arr[0].n == 0)
        return 0;
    PGresult *r = pg_query_arrays(s->pg,
                                  "SELECT account_id FROM ledger_accounts WHERE name = "
                                  "ANY($1::text[]) ORDER BY account_id FOR UPDATE",
                                  s->arr, NULL, 1, err, errlen);
    if (r == NULL)
        return -1;
    PQclear(r);
    r = pg_query_arrays(s->pg,
                        "SELECT a.name, f.fund, -f.balance_fen FROM ledger_accounts a JOIN "
                        "ledger_account_funds f ON f.account_id = a.account_id WHERE a.name = "
                        "ANY($1::text[]) AND f.balance_fen <> 0",
                        s->arr, NULL, 1, err, errlen);
    if (r == NULL)
        return -1;
    for (int row = 0; row < PQntuples(r); row++) {
        store_purse *p = store_purse_of(s, PQgetvalue(r, row, 0), true);
        if (p == NULL) {
            PQclear(r);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        if (store_purse_add(p, PQgetvalue(r, row, 1), strtoll(PQgetvalue(r, row, 2), NULL, 10), err,
                            errlen) < 0) {
            PQclear(r);
            return -1;
        }
    }
    PQclear(r);
    if (s->arr[1].n == 0)
        return 0;
    r = pg_query_arrays(s->pg,
                        "SELECT swipe_id, coalesce(fund_shares, ''), coalesce(fund_source, ''), "
                        "amount_fen FROM ledger_entries WHERE kind = 'swipe' AND swipe_id = "
                        "ANY($1::text[])",
                        s->arr, (const int[]){1}, 1, err, errlen);
    if (r == NULL)
        return -1;
    for (int row = 0; row < PQntuples(r); row++) {
        journal_entry e;
        memset(&e, 0, sizeof(e));
        char why[160];
        if (journal_shares_parse(&e, PQgetvalue(r, row, 1), why, sizeof(why)) < 0)
            e.nshares = 0; /* read as one share, below */
        if (e.nshares == 0) {
            e.nshares = 1;
            snprintf(e.shares[0].fund, sizeof(e.shares[0].fund), "%s", PQgetvalue(r, row, 2));
            e.shares[0].amount_fen = strtoll(PQgetvalue(r, row, 3), NULL, 10);
        }
        if (store_swipe_put(s, PQgetvalue(r, row, 0), &e) < 0) {
            PQclear(r);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    PQclear(r);
    return 0;
}

/* Splits the batch's swipes and reversals into fund shares, in stream
 * order, moving the purses as each entry (top-ups too) would. */
static int store_split_batch(store *s, store_item *items, int n, char *err, size_t errlen)
{
    idmap_clear(&s->purse_of);
    idmap_clear(&s->swipe_of);
    s->npurses = s->nswipes = 0;
    if (store_split_load(s, items, n, err, errlen) < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        store_item *it = &items[i];
        journal_entry *e = &it->e;
        if (!it->ok || (e->kind != JOURNAL_SWIPE && e->kind != JOURNAL_REVERSAL &&
                        e->kind != JOURNAL_TOPUP && e->kind != JOURNAL_RETURN))
            continue;
        const char *wallet = NULL;
        for (int l = 0; l < e->nlines && wallet == NULL; l++)
            if (strcmp(e->lines[l].account.kind, "wallet") == 0)
                wallet = e->lines[l].account.name;
        bool moves = e->kind != JOURNAL_TOPUP;
        store_purse *p = wallet ? store_purse_of(s, wallet, moves) : NULL;
        if (p == NULL && moves) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        if (p == NULL) /* a top-up of a wallet no swipe of the batch spends */
            continue;
        char why[240];
        int rc = 0;
        if (e->kind == JOURNAL_SWIPE || (e->kind == JOURNAL_RETURN && e->nshares == 0))
            rc = store_split_swipe(p, e, why, sizeof(why));
        else if (e->kind == JOURNAL_REVERSAL)
            rc = store_split_reversal(store_swipe_split(s, e->swipe_id), e, why, sizeof(why));
        if (rc < 0) {
            snprintf(err, errlen, "fund shares of %s %.64s: %s", journal_kind_name(e->kind),
                     e->event_id, why);
            return -1;
        }
        if (store_purse_apply(p, e, err, errlen) < 0)
            return -1;
        if (e->kind == JOURNAL_SWIPE && e->swipe_id && store_swipe_put(s, e->swipe_id, e) < 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    return 0;
}

/* --------------------------------------------------------------- accounts */

static int store_accounts(store *s, store_item *items, int n, char *err, size_t errlen)
{
    idmap_clear(&s->names);
    store_arrays_reset(s, 9);
    for (int i = 0; i < n; i++) {
        if (!items[i].ok)
            continue;
        for (int l = 0; l < items[i].e.nlines; l++) {
            const journal_account *a = &items[i].e.lines[l].account;
            bool added;
            if (idmap_put(&s->names, a->name, 0, &added) == NULL) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            if (!added)
                continue;
            pg_array_add(&s->arr[0], a->name);
            pg_array_add(&s->arr[1], a->kind);
            pg_array_add(&s->arr[2], a->card_no);
            pg_array_add(&s->arr[3], a->wallet);
            pg_array_add(&s->arr[4], a->provider_id);
            pg_array_add(&s->arr[5], a->fund_source);
            pg_array_add(&s->arr[6], a->programme);
            if (a->year > 0)
                pg_array_add_int(&s->arr[7], a->year);
            else
                pg_array_add(&s->arr[7], NULL);
            pg_array_add(&s->arr[8], a->person_id);
        }
    }
    if (s->names.n == 0)
        return 0;
    PGresult *r = pg_query_arrays(
        s->pg,
        "WITH v AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], "
        "$5::text[], $6::text[], $7::text[], $8::int[], $9::text[]) AS v(name, kind, card_no, "
        "wallet, provider_id, fund_source, programme, year, person_id)), "
        "ins AS (INSERT INTO ledger_accounts (name, kind, card_no, wallet, provider_id, "
        "fund_source, programme, year, person_id) SELECT * FROM v ON CONFLICT (name) DO NOTHING "
        "RETURNING account_id, name) "
        "SELECT account_id, name FROM ins UNION ALL "
        "SELECT a.account_id, a.name FROM ledger_accounts a JOIN v ON a.name = v.name",
        s->arr, NULL, 9, err, errlen);
    if (r == NULL)
        return -1;
    for (int row = 0; row < PQntuples(r); row++) {
        int64_t *id = idmap_get(&s->names, PQgetvalue(r, row, 1));
        if (id)
            *id = strtoll(PQgetvalue(r, row, 0), NULL, 10);
    }
    PQclear(r);
    return 0;
}

/* ---------------------------------------------------------------- entries */

static int store_entry_ids(store *s, store_item *items, int n, int nok, char *err, size_t errlen)
{
    char num[16];
    snprintf(num, sizeof(num), "%d", nok);
    const char *p[] = {num};
    PGresult *r = pg_query(s->pg,
                           "SELECT nextval('ledger_entries_entry_id_seq') FROM "
                           "generate_series(1, $1::int)",
                           1, p, err, errlen);
    if (r == NULL)
        return -1;
    int row = 0;
    for (int i = 0; i < n && row < PQntuples(r); i++)
        if (items[i].ok)
            items[i].entry_id = strtoll(PQgetvalue(r, row++, 0), NULL, 10);
    PQclear(r);
    return 0;
}

static int store_entries(store *s, store_item *items, int n, int64_t now_ms, char *err,
                         size_t errlen)
{
    store_arrays_reset(s, 24);
    for (int i = 0; i < n; i++) {
        const store_item *it = &items[i];
        if (!it->ok)
            continue;
        const journal_entry *e = &it->e;
        pg_array_add_int(&s->arr[0], it->entry_id);
        pg_array_add(&s->arr[1], e->event_id);
        pg_array_add(&s->arr[2], journal_kind_name(e->kind));
        pg_array_add_int(&s->arr[3], e->amount_fen);
        pg_array_add(&s->arr[4], e->card_no);
        pg_array_add(&s->arr[5], e->wallet);
        pg_array_add(&s->arr[6], e->provider_id);
        pg_array_add(&s->arr[7], e->terminal_id);
        pg_array_add(&s->arr[8], e->item_code);
        pg_array_add(&s->arr[9], e->fund_source);
        pg_array_add(&s->arr[10], e->programme);
        pg_array_add(&s->arr[11], e->period);
        pg_array_add(&s->arr[12], e->swipe_id);
        pg_array_add(&s->arr[13], e->request_id);
        pg_array_add(&s->arr[14], e->person_id);
        pg_array_add_int(&s->arr[15], e->occurred_at_ms);
        pg_array_add_int(&s->arr[16], now_ms);
        pg_array_add(&s->arr[17], it->topic);
        if (it->topic) {
            pg_array_add_int(&s->arr[18], it->partition);
            pg_array_add_int(&s->arr[19], it->offset);
        } else {
            pg_array_add(&s->arr[18], NULL);
            pg_array_add(&s->arr[19], NULL);
        }
        pg_array_add(&s->arr[20], e->to_card_no);
        char sh[JOURNAL_SHARES_TEXT_MAX];
        pg_array_add(&s->arr[21], e->nshares > 0 ? journal_shares_format(e, sh, sizeof(sh)) : NULL);
        pg_array_add(&s->arr[22], e->credit_ends);
        pg_array_add(&s->arr[23], e->reason);
    }
    if (pg_exec_arrays(
            s->pg,
            "INSERT INTO ledger_entries (entry_id, event_id, kind, amount_fen, card_no, wallet, "
            "provider_id, terminal_id, item_code, fund_source, programme, period, swipe_id, "
            "request_id, person_id, occurred_at_ms, posted_at_ms, src_topic, src_partition, "
            "src_offset, to_card_no, fund_shares, credit_ends, reason) SELECT * FROM "
            "unnest($1::bigint[], $2::text[], "
            "$3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], "
            "$9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], "
            "$15::text[], $16::bigint[], $17::bigint[], $18::text[], $19::int[], $20::bigint[], "
            "$21::text[], $22::text[], $23::date[], $24::text[])",
            s->arr, NULL, 24, err, errlen) < 0)
        return -1;

    store_arrays_reset(s, 4);
    for (int i = 0; i < n; i++) {
        if (!items[i].ok)
            continue;
        for (int l = 0; l < items[i].e.nlines; l++) {
            const int64_t *id = idmap_get(&s->names, items[i].e.lines[l].account.name);
            if (id == NULL || *id == 0) {
                snprintf(err, errlen, "account %s has no id", items[i].e.lines[l].account.name);
                return -1;
            }
            pg_array_add_int(&s->arr[0], items[i].entry_id);
            pg_array_add_int(&s->arr[1], *id);
            pg_array_add_int(&s->arr[2], items[i].e.lines[l].amount_fen);
            pg_array_add(&s->arr[3], items[i].e.lines[l].fund[0] ? items[i].e.lines[l].fund : NULL);
        }
    }
    /* lines, then the batch's outbox row: keyed by its first entry */
    if (pg_exec_arrays(s->pg,
                       "WITH l AS (INSERT INTO ledger_lines (entry_id, account_id, amount_fen, "
                       "fund) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], "
                       "$4::text[])) INSERT INTO ledger_outbox (entry_id, entry_ids) SELECT "
                       "min(x), array_agg(DISTINCT x) FROM unnest($1::bigint[]) x HAVING count(*) "
                       "> 0",
                       s->arr, NULL, 4, err, errlen) < 0)
        return -1;
    return 0;
}

/* ------------------------------------------------------------------ moves */

/* Records each carry-over in stream order: a card is replaced once (the
 * same event again is a duplicate, another destination is refused). The
 * moves are kept flat: a carry-over into a card that was itself replaced
 * already (B -> C read before A -> B: they are keyed by different cards, so
 * on different partitions) is recorded as A -> C, and recording B -> C
 * points every A -> B at C, so whatever still reaches A goes straight to
 * the card in use. */
static int store_moves(store *s, store_item *items, int n, int64_t now_ms, char *err, size_t errlen)
{
    for (int i = 0; i < n; i++) {
        store_item *it = &items[i];
        if (!it->move)
            continue;
        const journal_move *m = &it->mv;
        const char *p[] = {m->from_card_no, m->to_card_no, m->event_id};
        PGresult *r = pg_query(s->pg,
                               "SELECT from_card_no, to_card_no, event_id FROM ledger_card_moves "
                               "WHERE from_card_no IN ($1, $2) OR event_id = $3 ORDER BY "
                               "from_card_no = $1 DESC, event_id = $3 DESC FOR UPDATE",
                               3, p, err, errlen);
        if (r == NULL)
            return -1;
        char reason[sizeof(it->reason)] = "", to[64];
        bool dup = false;
        snprintf(to, sizeof(to), "%s", m->to_card_no);
        for (int row = 0; row < PQntuples(r) && reason[0] == '\0'; row++) {
            const char *f = PQgetvalue(r, row, 0), *t = PQgetvalue(r, row, 1);
            /* reasons are logged: card numbers masked */
            char mf[CARD_MASKED_MAX], mt[CARD_MASKED_MAX];
            if (strcmp(f, m->from_card_no) == 0) {
                dup = strcmp(PQgetvalue(r, row, 2), m->event_id) == 0;
                snprintf(reason, sizeof(reason),
                         dup ? "duplicate: the carry-over of card %s was applied already"
                             : "refused: card %s was carried over to card %s already",
                         card_mask(mf, sizeof(mf), m->from_card_no), card_mask(mt, sizeof(mt), t));
            } else if (strcmp(PQgetvalue(r, row, 2), m->event_id) == 0) {
                snprintf(reason, sizeof(reason),
                         "refused: event id %s was the carry-over of card %s", m->event_id,
                         card_mask(mf, sizeof(mf), f));
            } else if (strcmp(f, m->to_card_no) == 0) {
                snprintf(to, sizeof(to), "%s", t); /* the card in use now */
                if (strcmp(to, m->from_card_no) == 0)
                    snprintf(
                        reason, sizeof(reason), "refused: cards %s and %s would replace each other",
                        card_mask(mf, sizeof(mf), f), card_mask(mt, sizeof(mt), m->from_card_no));
            }
        }
        PQclear(r);
        if (reason[0]) {
            it->move = false;
            it->dead_letter = !dup;
            it->reject_event_id = m->event_id;
            snprintf(it->reason, sizeof(it->reason), "%s", reason);
            continue;
        }
        char at[24], part[16], off[24];
        snprintf(at, sizeof(at), "%lld", (long long)now_ms);
        snprintf(part, sizeof(part), "%d", (int)it->partition);
        snprintf(off, sizeof(off), "%lld", (long long)it->offset);
        const char *q[] = {m->from_card_no,
                           to,
                           m->event_id,
                           m->person_id,
                           at,
                           it->topic,
                           it->topic ? part : NULL,
                           it->topic ? off : NULL};
        if (pg_exec(s->pg,
                    "WITH flat AS (UPDATE ledger_card_moves SET to_card_no = $2 WHERE to_card_no "
                    "= $1) INSERT INTO ledger_card_moves (from_card_no, to_card_no, event_id, "
                    "person_id, moved_at_ms, src_topic, src_partition, src_offset) VALUES ($1, $2, "
                    "$3, $4, $5::bigint, $6, $7::int, $8::bigint)",
                    8, q, err, errlen) < 0)
            return -1;
    }
    return 0;
}

/* The sweep: every wallet of a replaced card the batch touched that is not
 * at zero is moved to the card that replaced it (or, overdrawn by a swipe
 * posted after the carry-over, made good from it). Wallet balances are
 * credit-normal: money on a card is a negative balance. The rows are
 * locked, so a second ledger process moving the same cards waits and then
 * reads what this one committed. */
static int store_sweep(store *s, store_item *items, int n, int64_t now_ms, char *err, size_t errlen)
{
    s->nsweep = 0;
    PQclear(s->sweep_res);
    s->sweep_res = NULL;
    store_arrays_reset(s, 1);
    for (int i = 0; i < n; i++) {
        if (items[i].ok && items[i].e.card_no && items[i].e.kind != JOURNAL_PAYMENT)
            pg_array_add(&s->arr[0], items[i].e.card_no); /* a payment touches no wallet */
        else if (items[i].move)
            pg_array_add(&s->arr[0], items[i].mv.from_card_no);
    }
    if (s->arr[0].n == 0)
        return 0;
    PGresult *r = pg_query_arrays(
        s->pg,
        "SELECT a.card_no, a.wallet, a.balance_fen, m.to_card_no, m.person_id, a.account_id "
        "FROM ledger_card_moves m JOIN ledger_accounts a ON a.kind = 'wallet' AND a.card_no = "
        "m.from_card_no WHERE m.from_card_no = ANY($1::text[]) AND a.balance_fen <> 0 ORDER BY "
        "a.account_id FOR SHARE OF m FOR UPDATE OF a",
        s->arr, NULL, 1, err, errlen);
    if (r == NULL)
        return -1;
    s->sweep_res = r;
    int rows = PQntuples(r);
    if (rows == 0)
        return 0;
    /* each wallet's balance per fund: every fund moves in a share of its own */
    store_arrays_reset(s, 1);
    for (int row = 0; row < rows; row++)
        pg_array_add(&s->arr[0], PQgetvalue(r, row, 5));
    PGresult *fr = pg_query_arrays(s->pg,
                                   "SELECT account_id::text, coalesce(fund, ''), sum(amount_fen) "
                                   "FROM ledger_lines WHERE account_id = ANY($1::bigint[]) "
                                   "GROUP BY 1, 2 HAVING sum(amount_fen) <> 0",
                                   s->arr, NULL, 1, err, errlen);
    if (fr == NULL)
        return -1;
    if (rows > s->sweep_cap) {
        store_item *it = realloc(s->sweep, (size_t)rows * sizeof(*it));
        char(*ids)[48] = realloc(s->sweep_ids, (size_t)rows * sizeof(*ids));
        if (it)
            s->sweep = it;
        if (ids)
            s->sweep_ids = ids;
        if (it == NULL || ids == NULL) {
            PQclear(fr);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        s->sweep_cap = rows;
    }
    for (int row = 0; row < rows; row++) {
        store_item *it = &s->sweep[row];
        memset(it, 0, sizeof(*it));
        it->ok = true;
        journal_entry *e = &it->e;
        int64_t bal = strtoll(PQgetvalue(r, row, 2), NULL, 10);
        const char *old = PQgetvalue(r, row, 0), *new = PQgetvalue(r, row, 3);
        e->kind = JOURNAL_TRANSFER;
        e->card_no = bal < 0 ? old : new;
        e->to_card_no = bal < 0 ? new : old;
        e->wallet = PQgetvalue(r, row, 1);
        e->person_id = PQgetisnull(r, row, 4) ? NULL : PQgetvalue(r, row, 4);
        e->amount_fen = bal < 0 ? -bal : bal;
        e->occurred_at_ms = now_ms;
        /* the shares: what each fund moves from card_no to to_card_no */
        store_purse funds = {0};
        const char *acct = PQgetvalue(r, row, 5);
        int rc = 0;
        for (int k = 0; k < PQntuples(fr) && rc == 0; k++)
            if (strcmp(PQgetvalue(fr, k, 0), acct) == 0) {
                int64_t b = strtoll(PQgetvalue(fr, k, 2), NULL, 10);
                rc = store_purse_add(&funds, PQgetvalue(fr, k, 1), bal < 0 ? -b : b, err, errlen);
            }
        journal_share sh[JOURNAL_SHARES_MAX];
        if (rc == 0 && funds.n > JOURNAL_SHARES_MAX) {
            snprintf(err, errlen, "a replaced card's wallet holds money of %d funds (at most %d)",
                     funds.n, JOURNAL_SHARES_MAX);
            rc = -1;
        }
        for (int k = 0; k < funds.n && rc == 0; k++) {
            snprintf(sh[k].fund, sizeof(sh[k].fund), "%s", funds.fund[k]);
            sh[k].amount_fen = funds.money[k];
        }
        if (rc < 0 || (funds.n > 0 ? journal_set_shares(e, sh, funds.n, err, errlen)
                                   : journal_derive_lines(e, err, errlen)) < 0) {
            PQclear(fr);
            return -1;
        }
    }
    PQclear(fr);
    s->nsweep = rows;
    if (store_entry_ids(s, s->sweep, rows, rows, err, errlen) < 0)
        return -1;
    for (int row = 0; row < rows; row++) {
        snprintf(s->sweep_ids[row], sizeof(s->sweep_ids[row]), "transfer-%lld",
                 (long long)s->sweep[row].entry_id);
        s->sweep[row].e.event_id = s->sweep_ids[row];
    }
    if (store_accounts(s, s->sweep, rows, err, errlen) < 0 ||
        store_entries(s, s->sweep, rows, now_ms, err, errlen) < 0)
        return -1;
    return 0;
}

/* -------------------------------------------------- rejections and offsets */

static int store_rejections(store *s, store_item *items, int n, char *err, size_t errlen)
{
    store_arrays_reset(s, 7);
    int nrej = 0;
    for (int i = 0; i < n; i++) {
        const store_item *it = &items[i];
        if (it->ok || it->move || it->topic == NULL || it->committed)
            continue;
        nrej++;
        pg_array_add(&s->arr[0], it->topic);
        pg_array_add_int(&s->arr[1], it->partition);
        pg_array_add_int(&s->arr[2], it->offset);
        pg_array_add(&s->arr[3],
                     it->reject_event_id && *it->reject_event_id ? it->reject_event_id : NULL);
        pg_array_add(&s->arr[4], it->reason);
        if (it->reject_amount_fen)
            pg_array_add_int(&s->arr[5], it->reject_amount_fen);
        else
            pg_array_add(&s->arr[5], NULL);
        pg_array_add(&s->arr[6], it->reject_code);
    }
    if (nrej == 0)
        return 0;
    return pg_exec_arrays(s->pg,
                          "INSERT INTO ledger_rejections (src_topic, src_partition, "
                          "src_offset, event_id, reason, amount_fen, code) SELECT * FROM "
                          "unnest($1::text[], $2::int[], $3::bigint[], $4::text[], "
                          "$5::text[], $6::bigint[], $7::text[])",
                          s->arr, NULL, 7, err, errlen);
}

static int store_delete_done(store *s, char *err, size_t errlen)
{
    if (s->ndone == 0)
        return 0;
    store_arrays_reset(s, 1);
    for (size_t i = 0; i < s->ndone; i++)
        pg_array_add_int(&s->arr[0], s->done[i]);
    return pg_exec_arrays(s->pg, "DELETE FROM ledger_outbox WHERE entry_id = ANY($1::bigint[])",
                          s->arr, NULL, 1, err, errlen);
}

/* ------------------------------------------------------------------ batch */

int store_apply(store *s, store_item *items, int n, int64_t now_ms, char *err, size_t errlen)
{
    if (pg_begin(s->pg, err, errlen) < 0)
        return -1;
    if (store_delete_done(s, err, errlen) < 0 ||
        store_mark_duplicates(s, items, n, err, errlen) < 0 ||
        store_check_budgets(s, items, n, err, errlen) < 0 ||
        store_split_batch(s, items, n, err, errlen) < 0 ||
        store_accounts(s, items, n, err, errlen) < 0)
        goto fail;
    int nok = 0;
    for (int i = 0; i < n; i++)
        nok += items[i].ok;
    if (nok > 0 && (store_entry_ids(s, items, n, nok, err, errlen) < 0 ||
                    store_entries(s, items, n, now_ms, err, errlen) < 0))
        goto fail;
    if (store_moves(s, items, n, now_ms, err, errlen) < 0 ||
        store_sweep(s, items, n, now_ms, err, errlen) < 0)
        goto fail;
    if (store_rejections(s, items, n, err, errlen) < 0)
        goto fail;
    return 0;
fail:
    s->nsweep = 0;
    pg_rollback(s->pg);
    return -1;
}

int store_commit(store *s, char *err, size_t errlen)
{
    if (pg_commit(s->pg, err, errlen) < 0) {
        pg_rollback(s->pg);
        return -1;
    }
    s->ndone = 0;
    return 0;
}

void store_abort(store *s)
{
    pg_rollback(s->pg);
}

void store_done(store *s, const int64_t *ids, size_t n)
{
    if (s->ndone + n > s->done_cap) {
        size_t cap = s->done_cap ? s->done_cap : 1024;
        while (s->ndone + n > cap)
            cap *= 2;
        int64_t *d = realloc(s->done, cap * sizeof(*d));
        if (d == NULL) {
            /* the rows stay in the outbox and are relayed again: harmless */
            log_warn("outbox_done_dropped", "out of memory: %zu outbox rows kept", n);
            return;
        }
        s->done = d;
        s->done_cap = cap;
    }
    memcpy(s->done + s->ndone, ids, n * sizeof(*ids));
    s->ndone += n;
}

int store_flush_done(store *s, char *err, size_t errlen)
{
    if (s->ndone == 0)
        return 0;
    if (pg_begin(s->pg, err, errlen) < 0)
        return -1;
    if (store_delete_done(s, err, errlen) < 0) {
        pg_rollback(s->pg);
        return -1;
    }
    return store_commit(s, err, errlen);
}

void store_cleanup(store *s)
{
    idmap_free(&s->names);
    idmap_free(&s->seen);
    idmap_free(&s->purse_of);
    idmap_free(&s->swipe_of);
    free(s->purses);
    free(s->swipes);
    for (size_t i = 0; i < sizeof(s->arr) / sizeof(s->arr[0]); i++)
        pg_array_free(&s->arr[i]);
    free(s->done);
    free(s->sweep);
    free(s->sweep_ids);
    PQclear(s->sweep_res);
    memset(s, 0, sizeof(*s));
}
