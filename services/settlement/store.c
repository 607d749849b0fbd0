/*
 * store: one PostgreSQL transaction per batch of postings. See store.h.
 *
 * A few statements whatever the batch size, every column travelling as an
 * array parameter (never pasted into SQL): the card holders and their
 * districts (settlement's projection of the registry), the postings (ON
 * CONFLICT DO NOTHING RETURNING tells which are new), the accumulators of
 * both grains and the carried adjustments (providers' from swipes and
 * reversals, persons' from payments), the utilisation sums, the
 * rejections; then the offsets. A posting of several fund shares adds a
 * line per share (its fund as the fund_source) to the accumulators and the
 * utilisation, and is counted once, on its first share's line; its amount
 * per fund is kept in settlement_posting_funds for the close's check,
 * only when it says more than the posting's row: a posting of one share of
 * its own fund_source (nearly every swipe) writes none, and the close reads
 * it as its amount in that fund.
 */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void store_init(store *s, PGconn *pg, const char *group, int tz_offset_min)
{
    memset(s, 0, sizeof(*s));
    s->pg = pg;
    s->group = group;
    s->tz_offset_min = tz_offset_min;
}

static void store_reset(store *s, int n)
{
    for (int i = 0; i < n; i++)
        pg_array_reset(&s->arr[i]);
}

bool store_target_period(const period *nat, char closed[][PERIOD_LEN], int nclosed, period *target)
{
    *target = *nat;
    bool carried = false;
    for (int guard = 0; guard <= nclosed; guard++) {
        char t[PERIOD_LEN];
        period_format(target, t);
        bool is_closed = false;
        for (int i = 0; i < nclosed && !is_closed; i++)
            is_closed = strcmp(closed[i], t) == 0;
        if (!is_closed)
            return carried;
        period_next(target, target);
        carried = true;
    }
    return carried;
}

/* The closed periods of one grain, read under the lock. */
static int store_closed(store *s, period_grain g, char (**out)[PERIOD_LEN], int *n, char *err,
                        size_t errlen)
{
    const char *p[] = {period_grain_name(g)};
    PGresult *r =
        pg_query(s->pg, "SELECT period FROM settlement_closes WHERE grain = $1", 1, p, err, errlen);
    if (r == NULL)
        return -1;
    *n = PQntuples(r);
    *out = calloc((size_t)*n + 1, PERIOD_LEN);
    if (*out == NULL) {
        PQclear(r);
        snprintf(err, errlen, "out of memory for %d closed periods", *n);
        return -1;
    }
    for (int i = 0; i < *n; i++)
        snprintf((*out)[i], PERIOD_LEN, "%s", PQgetvalue(r, i, 0));
    PQclear(r);
    return 0;
}

static int store_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void store_duplicate(store_item *it)
{
    it->ok = false;
    it->duplicate = true;
    it->reject_event_id = it->p.event_id;
    snprintf(it->reason, sizeof(it->reason), "duplicate: posting %s was applied already",
             it->p.event_id);
}

static int store_cmp_item(const void *a, const void *b)
{
    const store_item *x = *(store_item *const *)a, *y = *(store_item *const *)b;
    int c = strcmp(x->p.event_id, y->p.event_id);
    return c ? c : (x < y ? -1 : x > y);
}

/* Marks every item whose event id came earlier in the batch. */
static int store_dedupe_batch(store_item *items, int n, char *err, size_t errlen)
{
    store_item **v = calloc((size_t)n + 1, sizeof(*v));
    if (v == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int k = 0;
    for (int i = 0; i < n; i++)
        if (items[i].ok)
            v[k++] = &items[i];
    qsort(v, (size_t)k, sizeof(*v), store_cmp_item);
    for (int i = 1; i < k; i++)
        if (strcmp(v[i]->p.event_id, v[i - 1]->p.event_id) == 0)
            store_duplicate(v[i]);
    free(v);
    return 0;
}

/* The registry changes of the batch: the last of each person and card
 * wins (a batch holds them in topic order). */
static int store_holders(store *s, store_item *items, int n, char *err, size_t errlen)
{
    store_reset(s, 4);
    int np = 0, nc = 0;
    for (int i = 0; i < n; i++) {
        const holders_change *h = &items[i].holder;
        if (h->kind == HOLDERS_PERSON) {
            pg_array_add(&s->arr[0], h->id);
            pg_array_add(&s->arr[1], h->value);
            np++;
        } else if (h->kind == HOLDERS_CARD) {
            pg_array_add(&s->arr[2], h->id);
            pg_array_add(&s->arr[3], h->value);
            nc++;
        }
    }
    if (np > 0 && pg_exec_arrays(s->pg,
                                 "INSERT INTO settlement_persons AS p (person_id, district) "
                                 "SELECT DISTINCT ON (i) i, d FROM unnest($1::text[], "
                                 "$2::text[]) WITH ORDINALITY x(i, d, o) ORDER BY i, o DESC ON "
                                 "CONFLICT (person_id) DO UPDATE SET district = "
                                 "coalesce(nullif(EXCLUDED.district, ''), p.district)",
                                 s->arr, NULL, 2, err, errlen) < 0)
        return -1;
    if (nc > 0 && pg_exec_arrays(s->pg,
                                 "INSERT INTO settlement_cards (card_no, person_id) SELECT "
                                 "DISTINCT ON (c) c, p FROM unnest($1::text[], $2::text[]) WITH "
                                 "ORDINALITY x(c, p, o) ORDER BY c, o DESC ON CONFLICT (card_no) "
                                 "DO UPDATE SET person_id = EXCLUDED.person_id",
                                 s->arr + 2, NULL, 2, err, errlen) < 0)
        return -1;
    return 0;
}

/* Writes the postings; marks the items applied before (or earlier in this
 * batch) as duplicates. */
static int store_postings(store *s, store_item *items, int n, char *err, size_t errlen)
{
    if (store_dedupe_batch(items, n, err, errlen) < 0)
        return -1;
    store_reset(s, 14);
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (!items[i].ok)
            continue;
        const posting *p = &items[i].p;
        period day, month;
        char d[PERIOD_LEN], m[PERIOD_LEN];
        period_of_ms(p->occurred_at_ms, s->tz_offset_min, &day, &month);
        period_format(&day, d);
        period_format(&month, m);
        pg_array_add(&s->arr[0], p->event_id);
        pg_array_add(&s->arr[1], posting_kind_name(p->kind));
        pg_array_add(&s->arr[2], p->provider_id);
        pg_array_add(&s->arr[3], p->card_no);
        pg_array_add(&s->arr[4], p->item_code);
        pg_array_add(&s->arr[5], p->fund_source);
        pg_array_add(&s->arr[6], p->wallet);
        pg_array_add_int(&s->arr[7], p->amount_fen);
        pg_array_add_int(&s->arr[8], p->occurred_at_ms);
        pg_array_add(&s->arr[9], d);
        pg_array_add(&s->arr[10], m);
        pg_array_add_int(&s->arr[11], items[i].partition);
        pg_array_add_int(&s->arr[12], items[i].offset);
        pg_array_add(&s->arr[13], p->person_id);
        k++;
    }
    if (k == 0)
        return 0;
    PGresult *r = pg_query_arrays(
        s->pg,
        "INSERT INTO settlement_postings (event_id, kind, provider_id, card_no, item_code, "
        "fund_source, wallet, amount_fen, occurred_at_ms, day, month, src_partition, src_offset, "
        "person_id) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], "
        "$5::text[], $6::text[], $7::text[], $8::bigint[], $9::bigint[], $10::text[], "
        "$11::text[], $12::int[], $13::bigint[], $14::text[]) ON CONFLICT (event_id) DO NOTHING "
        "RETURNING event_id",
        s->arr, NULL, 14, err, errlen);
    if (r == NULL)
        return -1;
    int nn = PQntuples(r);
    const char **fresh = calloc((size_t)nn + 1, sizeof(*fresh));
    if (fresh == NULL) {
        PQclear(r);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int i = 0; i < nn; i++)
        fresh[i] = PQgetvalue(r, i, 0);
    qsort(fresh, (size_t)nn, sizeof(*fresh), store_cmp_str);
    for (int i = 0; i < n; i++) {
        if (!items[i].ok)
            continue;
        const char *key = items[i].p.event_id;
        if (bsearch(&key, fresh, (size_t)nn, sizeof(*fresh), store_cmp_str) == NULL)
            store_duplicate(&items[i]);
    }
    free(fresh);
    PQclear(r);
    /* each new posting's amount per fund (0021_fund_shares.sql), unless it
     * is one share of its own fund_source: the posting's row says that */
    store_reset(s, 3);
    for (int i = 0; i < n; i++) {
        if (!items[i].ok)
            continue;
        const posting *p = &items[i].p;
        if (p->nshares == 1 && strcmp(p->shares[0].fund, p->fund_source) == 0 &&
            p->shares[0].fen == p->amount_fen)
            continue;
        for (int f = 0; f < items[i].p.nshares; f++) {
            pg_array_add(&s->arr[0], items[i].p.event_id);
            pg_array_add(&s->arr[1], items[i].p.shares[f].fund);
            pg_array_add_int(&s->arr[2], items[i].p.shares[f].fen);
        }
    }
    if (s->arr[0].n > 0 &&
        pg_exec_arrays(s->pg,
                       "INSERT INTO settlement_posting_funds (event_id, fund, amount_fen) SELECT * "
                       "FROM unnest($1::text[], $2::text[], $3::bigint[])",
                       s->arr, NULL, 3, err, errlen) < 0)
        return -1;
    return 0;
}

/* The providers' accumulators and carried adjustments of the new swipes
 * and reversals, given the closed periods of each grain. */
static int store_provider_accum(store *s, store_item *items, int n, char (*closed[2])[PERIOD_LEN],
                                const int nclosed[2], char *err, size_t errlen)
{
    /* accum: 0 provider 1 grain 2 period 3 item 4 fund 5 swipes 6 amount
     * 7 reversals 8 reversed 9 adj_count 10 adj_fen; carried: 11 from */
    static const int carried_idx[] = {0, 1, 2, 9, 10, 11};
    store_reset(s, 12);
    int k = 0;
    for (int i = 0; i < n; i++) {
        const posting *p = &items[i].p;
        if (!items[i].ok || (p->kind != POSTING_SWIPE && p->kind != POSTING_REVERSAL))
            continue;
        period nat[2];
        period_of_ms(p->occurred_at_ms, s->tz_offset_min, &nat[0], &nat[1]);
        for (int g = 0; g < 2; g++) {
            period t;
            bool carried = store_target_period(&nat[g], closed[g], nclosed[g], &t);
            char tp[PERIOD_LEN], np[PERIOD_LEN];
            period_format(&t, tp);
            period_format(&nat[g], np);
            bool sw = p->kind == POSTING_SWIPE;
            /* a line per fund share; the swipe (or reversal) counted once,
             * on its first share's line */
            for (int f = 0; f < p->nshares; f++) {
                int64_t fen = p->shares[f].fen;
                bool first = f == 0;
                pg_array_add(&s->arr[0], p->provider_id);
                pg_array_add(&s->arr[1], period_grain_name((period_grain)g));
                pg_array_add(&s->arr[2], tp);
                pg_array_add(&s->arr[3], p->item_code);
                pg_array_add(&s->arr[4], p->shares[f].fund);
                pg_array_add_int(&s->arr[5], !carried && sw && first);
                pg_array_add_int(&s->arr[6], !carried && sw ? fen : 0);
                pg_array_add_int(&s->arr[7], !carried && !sw && first);
                pg_array_add_int(&s->arr[8], !carried && !sw ? fen : 0);
                pg_array_add_int(&s->arr[9], carried && first);
                pg_array_add_int(&s->arr[10], carried ? (sw ? fen : -fen) : 0);
                pg_array_add(&s->arr[11], carried ? np : NULL);
                k++;
            }
        }
    }
    if (k > 0 &&
        (pg_exec_arrays(
             s->pg,
             "INSERT INTO settlement_accum AS a (provider_id, grain, period, item_code, "
             "fund_source, swipes, amount_fen, reversals, reversed_fen, adj_count, "
             "adj_fen) SELECT p, g, per, i, f, sum(sw), sum(am), sum(rv), sum(rf), "
             "sum(ac), sum(af) FROM unnest($1::text[], $2::text[], $3::text[], "
             "$4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::bigint[], "
             "$9::bigint[], $10::bigint[], $11::bigint[]) u(p, g, per, i, f, sw, am, rv, "
             "rf, ac, af) GROUP BY 1, 2, 3, 4, 5 ON CONFLICT (grain, period, provider_id, "
             "item_code, fund_source) DO UPDATE SET swipes = a.swipes + "
             "EXCLUDED.swipes, amount_fen = a.amount_fen + EXCLUDED.amount_fen, "
             "reversals = a.reversals + EXCLUDED.reversals, reversed_fen = "
             "a.reversed_fen + EXCLUDED.reversed_fen, adj_count = a.adj_count + "
             "EXCLUDED.adj_count, adj_fen = a.adj_fen + EXCLUDED.adj_fen",
             s->arr, NULL, 11, err, errlen) < 0 ||
         pg_exec_arrays(s->pg,
                        "INSERT INTO settlement_carried AS c (provider_id, grain, from_period, "
                        "to_period, count, fen) SELECT p, g, fp, per, sum(ac), sum(af) FROM "
                        "unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], "
                        "$6::text[]) u(p, g, per, ac, af, fp) WHERE fp IS NOT NULL GROUP BY 1, 2, "
                        "3, 4 ON CONFLICT (grain, from_period, to_period, provider_id) DO UPDATE "
                        "SET count = c.count + EXCLUDED.count, fen = c.fen + EXCLUDED.fen",
                        s->arr, carried_idx, 6, err, errlen) < 0))
        return -1;
    return 0;
}

/* The persons' accumulators and carried adjustments of the new payments,
 * as the providers' (persons.h). */
static int store_person_accum(store *s, store_item *items, int n, char (*closed[2])[PERIOD_LEN],
                              const int nclosed[2], char *err, size_t errlen)
{
    /* accum: 0 person 1 grain 2 period 3 item 4 fund 5 payments 6 fen
     * 7 adj_count 8 adj_fen; carried: 9 from */
    static const int carried_idx[] = {0, 1, 2, 7, 8, 9};
    store_reset(s, 10);
    int k = 0;
    for (int i = 0; i < n; i++) {
        const posting *p = &items[i].p;
        if (!items[i].ok || p->kind != POSTING_PAYMENT)
            continue;
        period nat[2];
        period_of_ms(p->occurred_at_ms, s->tz_offset_min, &nat[0], &nat[1]);
        for (int g = 0; g < 2; g++) {
            period t;
            bool carried = store_target_period(&nat[g], closed[g], nclosed[g], &t);
            char tp[PERIOD_LEN], np[PERIOD_LEN];
            period_format(&t, tp);
            period_format(&nat[g], np);
            for (int f = 0; f < p->nshares; f++) { /* as the providers' */
                int64_t fen = p->shares[f].fen;
                pg_array_add(&s->arr[0], p->person_id);
                pg_array_add(&s->arr[1], period_grain_name((period_grain)g));
                pg_array_add(&s->arr[2], tp);
                pg_array_add(&s->arr[3], p->item_code);
                pg_array_add(&s->arr[4], p->shares[f].fund);
                pg_array_add_int(&s->arr[5], !carried && f == 0);
                pg_array_add_int(&s->arr[6], carried ? 0 : fen);
                pg_array_add_int(&s->arr[7], carried && f == 0);
                pg_array_add_int(&s->arr[8], carried ? fen : 0);
                pg_array_add(&s->arr[9], carried ? np : NULL);
                k++;
            }
        }
    }
    if (k == 0)
        return 0;
    if (pg_exec_arrays(s->pg,
                       "INSERT INTO settlement_person_accum AS a (person_id, grain, period, "
                       "item_code, fund_source, payments, fen, adj_count, adj_fen) SELECT p, g, "
                       "per, i, f, sum(n), sum(fen), sum(ac), sum(af) FROM unnest($1::text[], "
                       "$2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], "
                       "$7::bigint[], $8::bigint[], $9::bigint[]) u(p, g, per, i, f, n, fen, ac, "
                       "af) GROUP BY 1, 2, 3, 4, 5 ON CONFLICT (grain, period, person_id, "
                       "item_code, fund_source) DO UPDATE SET payments = a.payments + "
                       "EXCLUDED.payments, fen = a.fen + EXCLUDED.fen, adj_count = a.adj_count + "
                       "EXCLUDED.adj_count, adj_fen = a.adj_fen + EXCLUDED.adj_fen",
                       s->arr, NULL, 9, err, errlen) < 0 ||
        pg_exec_arrays(s->pg,
                       "INSERT INTO settlement_person_carried AS c (person_id, grain, "
                       "from_period, to_period, count, fen) SELECT p, g, fp, per, sum(ac), "
                       "sum(af) FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], "
                       "$5::bigint[], $6::text[]) u(p, g, per, ac, af, fp) WHERE fp IS NOT NULL "
                       "GROUP BY 1, 2, 3, 4 ON CONFLICT (grain, from_period, to_period, "
                       "person_id) DO UPDATE SET count = c.count + EXCLUDED.count, fen = c.fen + "
                       "EXCLUDED.fen",
                       s->arr, carried_idx, 6, err, errlen) < 0)
        return -1;
    return 0;
}

/* The accumulators and carried adjustments of the new postings, providers
 * and persons, against the closed periods read once under the lock. */
static int store_accumulate(store *s, store_item *items, int n, char *err, size_t errlen)
{
    char(*closed[2])[PERIOD_LEN] = {NULL, NULL};
    int nclosed[2] = {0, 0};
    int rc = -1;
    if (store_closed(s, PERIOD_DAY, &closed[0], &nclosed[0], err, errlen) < 0 ||
        store_closed(s, PERIOD_MONTH, &closed[1], &nclosed[1], err, errlen) < 0 ||
        store_provider_accum(s, items, n, closed, nclosed, err, errlen) < 0 ||
        store_person_accum(s, items, n, closed, nclosed, err, errlen) < 0)
        goto out;
    rc = 0;
out:
    free(closed[0]);
    free(closed[1]);
    return rc;
}

/* Credits and spending by the posting's own month (utilisation never
 * closes), and by the district of the card's holder (store_holders). */
static int store_usage(store *s, store_item *items, int n, char *err, size_t errlen)
{
    store_reset(s, 8);
    int k = 0;
    for (int i = 0; i < n; i++) {
        const posting *p = &items[i].p;
        if (!items[i].ok || p->kind == POSTING_PAYMENT) /* no card wallet: not utilisation */
            continue;
        period day, month;
        char m[PERIOD_LEN];
        period_of_ms(p->occurred_at_ms, s->tz_offset_min, &day, &month);
        period_format(&month, m);
        for (int f = 0; f < p->nshares; f++) { /* by fund share */
            int64_t fen = p->shares[f].fen;
            pg_array_add(&s->arr[0], m);
            pg_array_add(&s->arr[1], p->item_code);
            pg_array_add(&s->arr[2], p->wallet);
            pg_array_add(&s->arr[3], p->shares[f].fund);
            pg_array_add_int(&s->arr[4], p->kind == POSTING_TOPUP ? fen : 0);
            pg_array_add_int(&s->arr[5], p->kind == POSTING_SWIPE ? fen : 0);
            pg_array_add_int(&s->arr[6], p->kind == POSTING_REVERSAL ? fen : 0);
            pg_array_add(&s->arr[7], p->card_no ? p->card_no : "");
            k++;
        }
    }
    if (k == 0)
        return 0;
    return pg_exec_arrays(
        s->pg,
        "INSERT INTO settlement_usage AS u (month, item_code, wallet, fund_source, "
        "district, credited_fen, spent_fen, reversed_fen) SELECT m, i, w, f, "
        "coalesce(sp_.district, ''), sum(c), sum(sp), sum(r) FROM unnest($1::text[], "
        "$2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], "
        "$7::bigint[], $8::text[]) x(m, i, w, f, c, sp, r, card) LEFT JOIN "
        "settlement_cards sc ON sc.card_no = x.card LEFT JOIN settlement_persons sp_ ON "
        "sp_.person_id = sc.person_id GROUP BY 1, 2, 3, 4, 5 ON CONFLICT (month, "
        "item_code, wallet, fund_source, district) DO UPDATE SET credited_fen = "
        "u.credited_fen + EXCLUDED.credited_fen, spent_fen = "
        "u.spent_fen + EXCLUDED.spent_fen, reversed_fen = u.reversed_fen + "
        "EXCLUDED.reversed_fen",
        s->arr, NULL, 8, err, errlen);
}

static int store_rejections(store *s, store_item *items, int n, char *err, size_t errlen)
{
    store_reset(s, 5);
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (items[i].ok || items[i].reason[0] == '\0') /* a holder, or a registry event skipped */
            continue;
        pg_array_add_int(&s->arr[0], items[i].partition);
        pg_array_add_int(&s->arr[1], items[i].offset);
        pg_array_add(&s->arr[2], items[i].reject_event_id);
        pg_array_add(&s->arr[3], items[i].reason);
        pg_array_add(&s->arr[4], items[i].topic);
        k++;
    }
    if (k == 0)
        return 0;
    return pg_exec_arrays(s->pg,
                          "INSERT INTO settlement_rejections (src_partition, src_offset, event_id, "
                          "reason, src_topic) SELECT * FROM unnest($1::int[], $2::bigint[], "
                          "$3::text[], $4::text[], $5::text[]) ON CONFLICT DO NOTHING",
                          s->arr, NULL, 5, err, errlen);
}

int store_apply(store *s, store_item *items, int n, char *err, size_t errlen)
{
    const char *lock[] = {SETTLEMENT_LOCK_KEY};
    if (pg_begin(s->pg, err, errlen) < 0)
        return -1;
    if (pg_exec(s->pg, "SELECT pg_advisory_xact_lock($1::bigint)", 1, lock, err, errlen) < 0 ||
        store_holders(s, items, n, err, errlen) < 0 ||
        store_postings(s, items, n, err, errlen) < 0 ||
        store_accumulate(s, items, n, err, errlen) < 0 ||
        store_usage(s, items, n, err, errlen) < 0 ||
        store_rejections(s, items, n, err, errlen) < 0) {
        pg_rollback(s->pg);
        return -1;
    }
    return 0;
}

int store_commit(store *s, char *err, size_t errlen)
{
    if (pg_commit(s->pg, err, errlen) < 0) {
        pg_rollback(s->pg);
        return -1;
    }
    return 0;
}

void store_abort(store *s)
{
    pg_rollback(s->pg);
}

void store_cleanup(store *s)
{
    for (size_t i = 0; i < sizeof(s->arr) / sizeof(s->arr[0]); i++)
        pg_array_free(&s->arr[i]);
    memset(s, 0, sizeof(*s));
}
