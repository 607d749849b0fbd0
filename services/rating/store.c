/*
 * store: one PostgreSQL transaction per batch. See store.h.
 */
#include "store.h"

#include "decide.h"
#include "tally.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void store_init(store *s, PGconn *pg, const char *group, const store_config *cfg)
{
    memset(s, 0, sizeof(*s));
    s->pg = pg;
    s->group = group;
    s->cfg = *cfg;
    categories_init(&s->dir, s->cfg.redis_host, s->cfg.redis_port);
    publish_init(&s->publish, s->cfg.prior_weight, s->cfg.publish_delta_milli,
                 s->cfg.tz_offset_min);
}

void store_arrays_reset(store *s, int n)
{
    for (int i = 0; i < n; i++)
        pg_array_reset(&s->arr[i]);
}

int store_find(PGresult *r, int col, const char *key)
{
    int lo = 0, hi = PQntuples(r) - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(key, PQgetvalue(r, mid, col));
        if (c == 0)
            return mid;
        if (c < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return -1;
}

/* Opens the transaction of a batch or a resolution. JIT compilation is off
 * in it: a batch is a dozen short statements over a few thousand rows, and
 * the planner's estimates for a scan behind one of them are enough to
 * cross jit_above_cost, which then spends tens of milliseconds compiling
 * code that runs for less. */
static int store_begin(store *s, char *err, size_t errlen)
{
    if (pg_begin(s->pg, err, errlen) < 0)
        return -1;
    if (pg_exec(s->pg, "SET LOCAL jit = off", 0, NULL, err, errlen) < 0) {
        pg_rollback(s->pg);
        return -1;
    }
    return 0;
}

static void store_release(store *s)
{
    if (s->held)
        PQclear(s->held);
    s->held = NULL;
    s->nratings = 0;
}

static store_rating *store_rating_add(store *s)
{
    if (s->nratings == s->cap_ratings) {
        int cap = s->cap_ratings ? s->cap_ratings * 2 : 1024;
        store_rating *r = realloc(s->ratings, (size_t)cap * sizeof(*r));
        if (r == NULL)
            return NULL;
        s->ratings = r;
        s->cap_ratings = cap;
    }
    store_rating *r = &s->ratings[s->nratings++];
    memset(r, 0, sizeof(*r));
    r->item = -1;
    return r;
}

/* ------------------------------------------------------------ duplicates */

static const char *store_event_id(const store_item *it)
{
    switch (it->kind) {
    case STORE_SWIPE:
        return it->swipe->event_id;
    case STORE_REVERSAL:
        return it->reversal->event_id;
    case STORE_RATING:
        return it->rating->event_id;
    default:
        return NULL;
    }
}

/* Records the event id of every rating; those already recorded (or twice
 * in the batch) are duplicates and change nothing. Swipes and reversals
 * need no record: their upserts are idempotent by swipe_id, so a replayed
 * one changes nothing either (and half the rows stay out of
 * rating_events). */
static int store_mark_duplicates(store *s, store_item *items, int n, char *err, size_t errlen)
{
    store_arrays_reset(s, 1);
    int k = 0;
    for (int i = 0; i < n; i++)
        if (items[i].kind == STORE_RATING && !items[i].committed) {
            pg_array_add(&s->arr[0], store_event_id(&items[i]));
            k++;
        }
    if (k == 0)
        return 0;
    PGresult *r = pg_query_arrays(s->pg,
                                  "WITH ins AS (INSERT INTO rating_events (event_id) SELECT "
                                  "unnest($1::text[]) ON CONFLICT DO NOTHING RETURNING event_id) "
                                  "SELECT event_id FROM ins ORDER BY event_id COLLATE \"C\"",
                                  s->arr, NULL, 1, err, errlen);
    if (r == NULL)
        return -1;
    /* new ids come back once each; the first item carrying one is new */
    bool *taken = calloc((size_t)PQntuples(r) + 1, sizeof(*taken));
    if (taken == NULL) {
        PQclear(r);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int i = 0; i < n; i++) {
        if (items[i].kind != STORE_RATING || items[i].committed)
            continue;
        int row = store_find(r, 0, store_event_id(&items[i]));
        if (row >= 0 && !taken[row]) {
            taken[row] = true;
            continue;
        }
        items[i].duplicate = true;
        s->duplicates++;
    }
    free(taken);
    PQclear(r);
    return 0;
}

/* ----------------------------------------------------------------- swipes */

static int store_swipes(store *s, store_item *items, int n, char *err, size_t errlen)
{
    store_arrays_reset(s, 6);
    for (int i = 0; i < n; i++) {
        const Onecard__V1__SwipeAuthorized *w = items[i].swipe;
        if (items[i].kind != STORE_SWIPE || items[i].duplicate || items[i].committed)
            continue;
        pg_array_add(&s->arr[0], w->swipe_id);
        pg_array_add(&s->arr[1], w->card_no);
        pg_array_add(&s->arr[2], w->provider_id);
        pg_array_add(&s->arr[3], w->terminal_id);
        pg_array_add(&s->arr[4], w->item_code);
        pg_array_add_int(&s->arr[5], w->occurred_at_ms);
        s->swipes++;
    }
    if (s->arr[0].n > 0 &&
        pg_exec_arrays(
            s->pg,
            "INSERT INTO rating_swipes AS t (swipe_id, card_no, provider_id, terminal_id, "
            "item_code, occurred_at_ms, authorized) SELECT DISTINCT ON (swipe_id) *, true FROM "
            "unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[]) AS "
            "u(swipe_id, card_no, provider_id, terminal_id, item_code, at_ms) "
            "ON CONFLICT (swipe_id) DO UPDATE SET card_no = EXCLUDED.card_no, provider_id = "
            "EXCLUDED.provider_id, terminal_id = EXCLUDED.terminal_id, item_code = "
            "EXCLUDED.item_code, occurred_at_ms = EXCLUDED.occurred_at_ms, authorized = true",
            s->arr, NULL, 6, err, errlen) < 0)
        return -1;

    store_arrays_reset(s, 6);
    for (int i = 0; i < n; i++) {
        const Onecard__V1__SwipeReversed *v = items[i].reversal;
        if (items[i].kind != STORE_REVERSAL || items[i].duplicate || items[i].committed)
            continue;
        pg_array_add(&s->arr[0], v->swipe_id);
        pg_array_add(&s->arr[1], v->card_no);
        pg_array_add(&s->arr[2], v->provider_id);
        pg_array_add(&s->arr[3], v->terminal_id);
        pg_array_add(&s->arr[4], v->item_code);
        pg_array_add_int(&s->arr[5], v->occurred_at_ms);
        s->reversals++;
    }
    if (s->arr[0].n > 0 &&
        pg_exec_arrays(
            s->pg,
            "INSERT INTO rating_swipes AS t (swipe_id, card_no, provider_id, terminal_id, "
            "item_code, reversed_at_ms, reversed) SELECT DISTINCT ON (swipe_id) *, true FROM "
            "unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[]) AS "
            "u(swipe_id, card_no, provider_id, terminal_id, item_code, at_ms) "
            "ON CONFLICT (swipe_id) DO UPDATE SET reversed = true, reversed_at_ms = "
            "EXCLUDED.reversed_at_ms",
            s->arr, NULL, 6, err, errlen) < 0)
        return -1;
    return 0;
}

/* -------------------------------------------------------------- decisions */

/* Decides every rating of s->ratings (decide.c), then writes them
 * (tally.c). final: a swipe still unseen means swipe_unknown rather than
 * parking. */
static int store_decide(store *s, bool final, int64_t now_ms, char *err, size_t errlen)
{
    PGresult *swipes = NULL;
    if (decide_ratings(s, final, &swipes, err, errlen) < 0)
        return -1;
    int rc = tally_write(s, final, now_ms, err, errlen);
    decide_release(s, swipes);
    return rc;
}

/* ---------------------------------------------------------------- parked */

/* Appends the parked ratings of r (the columns of rating_pending as the
 * two queries below select them) to s->ratings; r must outlive them. */
static int store_parked_add(store *s, PGresult *r, char *err, size_t errlen)
{
    for (int row = 0; row < PQntuples(r); row++) {
        store_rating *x = store_rating_add(s);
        if (x == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        x->event_id = PQgetvalue(r, row, 0);
        x->rating_id = PQgetvalue(r, row, 1);
        x->swipe_id = PQgetvalue(r, row, 2);
        x->card_no = PQgetvalue(r, row, 3);
        x->provider_id = PQgetvalue(r, row, 4);
        x->terminal_id = PQgetvalue(r, row, 5);
        x->score = (int32_t)strtol(PQgetvalue(r, row, 6), NULL, 10);
        snprintf(x->tags, sizeof(x->tags), "%s", PQgetvalue(r, row, 7));
        x->occurred_at_ms = strtoll(PQgetvalue(r, row, 8), NULL, 10);
    }
    return 0;
}

#define STORE_PARKED_COLUMNS                                                                       \
    "p.event_id, p.rating_id, p.swipe_id, p.card_no, p.provider_id, p.terminal_id, p.score, "      \
    "array_to_string(p.tags, E'\\x1f'), p.occurred_at_ms"

/* Ratings parked for the swipes (or reversals) of this batch: taken out of
 * rating_pending and decided with the batch's own ratings. */
static int store_unpark(store *s, store_item *items, int n, char *err, size_t errlen)
{
    store_arrays_reset(s, 1);
    for (int i = 0; i < n; i++) {
        if (items[i].duplicate || items[i].committed)
            continue;
        if (items[i].kind == STORE_SWIPE)
            pg_array_add(&s->arr[0], items[i].swipe->swipe_id);
        else if (items[i].kind == STORE_REVERSAL)
            pg_array_add(&s->arr[0], items[i].reversal->swipe_id);
    }
    if (s->arr[0].n == 0)
        return 0;
    s->held = pg_query_arrays(s->pg,
                              "DELETE FROM rating_pending p WHERE p.swipe_id = "
                              "ANY($1::text[]) RETURNING " STORE_PARKED_COLUMNS,
                              s->arr, NULL, 1, err, errlen);
    if (s->held == NULL)
        return -1;
    return store_parked_add(s, s->held, err, errlen);
}

/* ---------------------------------------------------------------- offsets */

/* ------------------------------------------------------------------ batch */

static void store_counts_reset(store *s)
{
    memset(s->verdicts, 0, sizeof(s->verdicts));
    s->swipes = s->reversals = s->duplicates = s->retracted = s->bursts_flagged = 0;
}

static void store_join_tags(char *out, size_t len, char *const *tags, size_t n)
{
    size_t at = 0;
    out[0] = '\0';
    for (size_t t = 0; t < n; t++) {
        int w = snprintf(out + at, len - at, "%s%s", t ? "\x1f" : "", tags[t]);
        if (w < 0 || (size_t)w >= len - at) {
            out[at] = '\0'; /* a tag that does not fit is dropped whole */
            break;
        }
        at += (size_t)w;
    }
}

int store_apply(store *s, store_item *items, int n, int64_t now_ms, char *err, size_t errlen)
{
    store_release(s);
    publish_clear(&s->publish);
    store_counts_reset(s);
    for (int i = 0; i < n; i++) {
        items[i].duplicate = false;
        items[i].rating_idx = -1;
    }
    if (store_begin(s, err, errlen) < 0)
        return -1;
    if (store_mark_duplicates(s, items, n, err, errlen) < 0 ||
        store_swipes(s, items, n, err, errlen) < 0 ||
        tally_retract(s, items, n, now_ms, err, errlen) < 0 ||
        store_unpark(s, items, n, err, errlen) < 0)
        goto fail;
    for (int i = 0; i < n; i++) {
        const Onecard__V1__RatingSubmitted *m = items[i].rating;
        if (items[i].kind != STORE_RATING || items[i].duplicate || items[i].committed)
            continue;
        store_rating *r = store_rating_add(s);
        if (r == NULL) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        r->item = i;
        items[i].rating_idx = s->nratings - 1;
        r->event_id = m->event_id;
        r->rating_id = m->rating_id;
        r->swipe_id = m->swipe_id;
        r->card_no = m->card_no;
        r->provider_id = m->provider_id;
        r->terminal_id = m->terminal_id;
        r->score = m->score;
        r->occurred_at_ms = m->occurred_at_ms;
        store_join_tags(r->tags, sizeof(r->tags), m->tags, m->n_tags);
    }
    if (s->nratings > 0 && store_decide(s, false, now_ms, err, errlen) < 0)
        goto fail;
    return 0;
fail:
    pg_rollback(s->pg);
    publish_clear(&s->publish);
    return -1;
}

int store_resolve_pending(store *s, int64_t now_ms, int64_t grace_ms, bool caught_up, int limit,
                          int *n, char *err, size_t errlen)
{
    store_release(s);
    publish_clear(&s->publish);
    store_counts_reset(s);
    *n = 0;
    if (store_begin(s, err, errlen) < 0)
        return -1;
    char before[24], lim[16];
    snprintf(before, sizeof(before), "%lld", (long long)(now_ms - grace_ms));
    snprintf(lim, sizeof(lim), "%d", limit);
    const char *p[] = {before, caught_up ? "true" : "false", lim};
    /* A join, not EXISTS (...) OR ...: with tens of thousands of ratings
     * parked (a service catching up) the EXISTS was planned as a hashed
     * subplan (and JIT-compiled) at about twice the cost of the join. */
    s->held = pg_query(s->pg,
                       "SELECT " STORE_PARKED_COLUMNS " FROM rating_pending p LEFT JOIN "
                       "rating_swipes s ON s.swipe_id = p.swipe_id AND (s.authorized OR "
                       "s.reversed) WHERE s.swipe_id IS NOT NULL OR ($2::boolean AND "
                       "p.parked_at_ms < $1::bigint) ORDER BY p.parked_at_ms LIMIT $3::int FOR "
                       "UPDATE OF p SKIP LOCKED",
                       3, p, err, errlen);
    if (s->held == NULL)
        goto fail;
    int rows = PQntuples(s->held);
    if (store_parked_add(s, s->held, err, errlen) < 0)
        goto fail;
    store_arrays_reset(s, 1);
    for (int i = 0; i < s->nratings; i++)
        pg_array_add(&s->arr[0], s->ratings[i].event_id);
    if (rows == 0) {
        pg_rollback(s->pg);
        store_release(s);
        return 0;
    }
    if (pg_exec_arrays(s->pg, "DELETE FROM rating_pending WHERE event_id = ANY($1::text[])", s->arr,
                       NULL, 1, err, errlen) < 0 ||
        store_decide(s, true, now_ms, err, errlen) < 0)
        goto fail;
    *n = rows;
    return 0;
fail:
    pg_rollback(s->pg);
    store_release(s);
    publish_clear(&s->publish);
    return -1;
}

int store_commit(store *s, char *err, size_t errlen)
{
    if (pg_commit(s->pg, err, errlen) < 0) {
        pg_rollback(s->pg);
        publish_clear(&s->publish);
        return -1;
    }
    return 0;
}

void store_abort(store *s)
{
    pg_rollback(s->pg);
    publish_clear(&s->publish);
}

int64_t store_pending_count(store *s)
{
    char err[256];
    PGresult *r = pg_query(s->pg, "SELECT count(*) FROM rating_pending", 0, NULL, err, sizeof(err));
    if (r == NULL)
        return -1;
    int64_t v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return v;
}

void store_cleanup(store *s)
{
    store_release(s);
    publish_cleanup(&s->publish);
    free(s->ratings);
    for (size_t i = 0; i < sizeof(s->arr) / sizeof(s->arr[0]); i++)
        pg_array_free(&s->arr[i]);
    categories_cleanup(&s->dir);
    memset(s, 0, sizeof(*s));
}
