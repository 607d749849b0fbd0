/*
 * decide: the verdicts of a batch's ratings, against the database. See
 * decide.h.
 */
#include "decide.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------- cap */

static const store *decide_sort_ctx;

static int decide_cap_cmp(const void *a, const void *b)
{
    const store_rating *x = &decide_sort_ctx->ratings[*(const int *)a];
    const store_rating *y = &decide_sort_ctx->ratings[*(const int *)b];
    int c = strcmp(x->card_no, y->card_no);
    if (c == 0)
        c = strcmp(x->provider_id, y->provider_id);
    if (c == 0)
        c = strcmp(x->period, y->period);
    if (c == 0)
        c = *(const int *)a - *(const int *)b; /* stream order within a key */
    return c;
}

static bool decide_same_key(const store_rating *x, const store_rating *y)
{
    return strcmp(x->card_no, y->card_no) == 0 && strcmp(x->provider_id, y->provider_id) == 0 &&
           strcmp(x->period, y->period) == 0;
}

/* The per-card cap: accepted ratings of one card for one provider in one
 * month, counting the database and this batch in stream order. */
static int decide_caps(store *s, char *err, size_t errlen)
{
    int *ix = malloc(((size_t)s->nratings + 1) * sizeof(*ix));
    if (ix == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int k = 0;
    store_arrays_reset(s, 3);
    for (int i = 0; i < s->nratings; i++) {
        if (s->ratings[i].verdict != RULES_OK)
            continue;
        ix[k++] = i;
        pg_array_add(&s->arr[0], s->ratings[i].card_no);
        pg_array_add(&s->arr[1], s->ratings[i].provider_id);
        pg_array_add(&s->arr[2], s->ratings[i].period);
    }
    if (k == 0) {
        free(ix);
        return 0;
    }
    PGresult *r = pg_query_arrays(
        s->pg,
        "SELECT k, count(*) FROM (SELECT card_no || E'\\t' || provider_id || E'\\t' || period AS "
        "k FROM rating_accepted WHERE (card_no, provider_id, period) IN (SELECT * FROM "
        "unnest($1::text[], $2::text[], $3::text[]))) x GROUP BY k ORDER BY k COLLATE \"C\"",
        s->arr, NULL, 3, err, errlen);
    if (r == NULL) {
        free(ix);
        return -1;
    }
    decide_sort_ctx = s;
    qsort(ix, (size_t)k, sizeof(*ix), decide_cap_cmp);
    int64_t count = 0;
    for (int j = 0; j < k; j++) {
        store_rating *x = &s->ratings[ix[j]];
        if (j == 0 || !decide_same_key(&s->ratings[ix[j - 1]], x)) {
            char key[400];
            snprintf(key, sizeof(key), "%s\t%s\t%s", x->card_no, x->provider_id, x->period);
            int row = store_find(r, 0, key);
            count = row >= 0 ? strtoll(PQgetvalue(r, row, 1), NULL, 10) : 0;
        }
        if (count >= s->cfg.cap_per_month) {
            x->verdict = RULES_OVER_CAP;
            snprintf(x->reason, sizeof(x->reason),
                     "card %.4s... rated provider %s %lld times in %s already (cap %lld)",
                     x->card_no, x->provider_id, (long long)count, x->period,
                     (long long)s->cfg.cap_per_month);
            continue;
        }
        count++;
    }
    PQclear(r);
    free(ix);
    return 0;
}

/* -------------------------------------------------------------- verdicts */

int decide_ratings(store *s, bool final, PGresult **swipes, char *err, size_t errlen)
{
    *swipes = NULL;
    store_arrays_reset(s, 1);
    for (int i = 0; i < s->nratings; i++)
        if (s->ratings[i].swipe_id && *s->ratings[i].swipe_id)
            pg_array_add(&s->arr[0], s->ratings[i].swipe_id);
    PGresult *r = NULL;
    if (s->arr[0].n > 0) {
        /* A join driven by the batch's swipe ids. Written as EXISTS (...
         * rating_accepted ...) per swipe, it was planned as a hashed subplan
         * that read the whole of rating_accepted in every batch: a cost that
         * grew with every rating ever accepted. */
        r = pg_query_arrays(
            s->pg,
            "SELECT s.swipe_id, s.terminal_id, s.provider_id, s.item_code, s.occurred_at_ms, "
            "s.authorized, s.reversed, a.swipe_id IS NOT NULL FROM (SELECT DISTINCT "
            "unnest($1::text[]) AS id) u JOIN rating_swipes s ON s.swipe_id = u.id LEFT JOIN "
            "rating_accepted a ON a.swipe_id = s.swipe_id ORDER BY s.swipe_id COLLATE \"C\"",
            s->arr, NULL, 1, err, errlen);
        if (r == NULL)
            return -1;
    }
    int rows = r ? PQntuples(r) : 0;
    bool *rated = calloc((size_t)rows + 1, sizeof(*rated));
    if (rated == NULL) {
        if (r)
            PQclear(r);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int i = 0; i < s->nratings; i++) {
        store_rating *x = &s->ratings[i];
        rules_period(x->period, sizeof(x->period), x->occurred_at_ms, s->cfg.tz_offset_min);
        int row = r && x->swipe_id ? store_find(r, 0, x->swipe_id) : -1;
        rules_swipe sw = {0};
        if (row >= 0) {
            sw.terminal_id = PQgetvalue(r, row, 1);
            sw.provider_id = PQgetvalue(r, row, 2);
            sw.occurred_at_ms = strtoll(PQgetvalue(r, row, 4), NULL, 10);
            sw.authorized = PQgetvalue(r, row, 5)[0] == 't';
            sw.reversed = PQgetvalue(r, row, 6)[0] == 't';
            sw.rated = PQgetvalue(r, row, 7)[0] == 't' || rated[row];
        }
        rules_rating rr = {x->event_id,    x->swipe_id, x->terminal_id,
                           x->provider_id, x->score,    x->occurred_at_ms};
        x->verdict = rules_check(&rr, row >= 0 ? &sw : NULL, x->reason, sizeof(x->reason));
        if (x->verdict == RULES_PENDING && final) {
            x->verdict = RULES_SWIPE_UNKNOWN;
            snprintf(x->reason, sizeof(x->reason),
                     "swipe %s has not been seen (waited for it, every swipe read)", x->swipe_id);
        }
        if (x->verdict == RULES_OK) {
            rated[row] = true;
            x->item_code = PQgetvalue(r, row, 3);
            x->swipe_at_ms = sw.occurred_at_ms;
        }
    }
    free(rated);
    if (decide_caps(s, err, errlen) < 0) {
        decide_release(s, r);
        return -1;
    }
    *swipes = r;
    return 0;
}

void decide_release(store *s, PGresult *swipes)
{
    if (swipes)
        PQclear(swipes);
    for (int i = 0; i < s->nratings; i++)
        s->ratings[i].item_code = NULL; /* pointed into swipes */
}
