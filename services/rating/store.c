/*
 * store: one PostgreSQL transaction per batch. See store.h.
 */
#include "store.h"

#include "score.h"

#include "common/keys.h"
#include "common/log.h"
#include "common/redis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STORE_TAG_SEP '\x1f' /* between tags of a parked rating read back */

void store_init(store *s, PGconn *pg, const char *group, const store_config *cfg)
{
    memset(s, 0, sizeof(*s));
    s->pg = pg;
    s->group = group;
    s->cfg = *cfg;
}

static void store_arrays_reset(store *s, int n)
{
    for (int i = 0; i < n; i++)
        pg_array_reset(&s->arr[i]);
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

/* The row of r whose column col equals key, r being sorted by that column
 * in byte order (ORDER BY ... COLLATE "C"); -1 when none. */
static int store_find(PGresult *r, int col, const char *key)
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

/* ------------------------------------------------------------- aggregates */

/* The running sums move by one row per rating and sign (+1 accepted, -1
 * taken back): arr[0..4] provider, item, period, score, sign. */
static void store_delta(store *s, const char *provider, const char *item, const char *period,
                        int32_t score, int sign)
{
    pg_array_add(&s->arr[0], provider);
    pg_array_add(&s->arr[1], item);
    pg_array_add(&s->arr[2], period);
    pg_array_add_int(&s->arr[3], score);
    pg_array_add_int(&s->arr[4], sign);
}

/* Moves the running sums by the deltas in arr[0..4], one upsert per key
 * (the deltas are grouped by provider and item, and by month, first).
 * When rows is not NULL it receives the provider and provider-item rows as
 * they are after the move, with the provider's category (columns:
 * provider, item, category, n, sum, d1..d5, published_milli or -1), which
 * spares store_mark_scores reading them again; NULL when there were no
 * deltas. The caller PQclears it. */
static int store_sums(store *s, PGresult **rows, char *err, size_t errlen)
{
    if (rows)
        *rows = NULL;
    if (s->arr[0].n == 0)
        return 0;
#define STORE_DIST                                                                                 \
    "coalesce(sum(sign) FILTER (WHERE score = 1), 0), coalesce(sum(sign) FILTER (WHERE score = "   \
    "2), 0), coalesce(sum(sign) FILTER (WHERE score = 3), 0), coalesce(sum(sign) FILTER (WHERE "   \
    "score = 4), 0), coalesce(sum(sign) FILTER (WHERE score = 5), 0)"
#define STORE_ADD                                                                                  \
    "n = t.n + EXCLUDED.n, sum = t.sum + EXCLUDED.sum, d1 = t.d1 + EXCLUDED.d1, d2 = t.d2 + "      \
    "EXCLUDED.d2, d3 = t.d3 + EXCLUDED.d3, d4 = t.d4 + EXCLUDED.d4, d5 = t.d5 + EXCLUDED.d5"
    PGresult *r = pg_query_arrays(
        s->pg,
        "WITH d AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], "
        "$5::int[]) AS d(provider_id, item_code, period, score, sign)), "
        "x AS (SELECT provider_id, ''::text AS item_code, period, score, sign FROM d UNION ALL "
        "SELECT provider_id, item_code, period, score, sign FROM d WHERE item_code <> ''), "
        "s AS (INSERT INTO rating_scores AS t (provider_id, item_code, n, sum, d1, d2, d3, d4, d5) "
        "SELECT provider_id, item_code, sum(sign), sum(sign * score), " STORE_DIST
        " FROM x GROUP BY 1, 2 ON CONFLICT (provider_id, item_code) DO UPDATE SET " STORE_ADD
        " RETURNING t.*), "
        "m AS (INSERT INTO rating_monthly AS t (provider_id, item_code, period, n, sum, d1, d2, "
        "d3, d4, d5) SELECT provider_id, item_code, period, sum(sign), sum(sign * "
        "score), " STORE_DIST
        " FROM x GROUP BY 1, 2, 3 ON CONFLICT (provider_id, item_code, period) DO UPDATE "
        "SET " STORE_ADD ") "
        "SELECT s.provider_id, s.item_code, coalesce(p.category, ''), s.n, s.sum, s.d1, s.d2, "
        "s.d3, s.d4, s.d5, coalesce(s.published_milli, -1) FROM s LEFT JOIN rating_providers p "
        "USING (provider_id)",
        s->arr, NULL, 5, err, errlen);
    if (r == NULL)
        return -1;
    if (rows)
        *rows = r;
    else
        PQclear(r);
    return 0;
}

/* arr[0..2]: provider, tag, sign */
static int store_tags(store *s, char *err, size_t errlen)
{
    if (s->arr[0].n == 0)
        return 0;
    return pg_exec_arrays(s->pg,
                          "INSERT INTO rating_tags AS t (provider_id, tag, n) SELECT p, tag, "
                          "sum(sign) FROM unnest($1::text[], $2::text[], $3::int[]) AS "
                          "u(p, tag, sign) GROUP BY 1, 2 ON CONFLICT (provider_id, tag) DO "
                          "UPDATE SET n = t.n + EXCLUDED.n",
                          s->arr, NULL, 3, err, errlen);
}

/* Accepted ratings taken back because their swipe has now been reversed:
 * moved to rating_rejected, and their stars out of the sums. */
static int store_retract(store *s, store_item *items, int n, int64_t now_ms, char *err,
                         size_t errlen)
{
    store_arrays_reset(s, 1);
    for (int i = 0; i < n; i++)
        if (items[i].kind == STORE_REVERSAL && !items[i].duplicate && !items[i].committed)
            pg_array_add(&s->arr[0], items[i].reversal->swipe_id);
    if (s->arr[0].n == 0)
        return 0;
    char now[24];
    snprintf(now, sizeof(now), "%lld", (long long)now_ms);
    const char *p[] = {pg_array_text(&s->arr[0]), now};
    if (p[0] == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    PGresult *r = pg_query(
        s->pg,
        "WITH a AS (DELETE FROM rating_accepted WHERE swipe_id = ANY($1::text[]) RETURNING *), "
        "j AS (INSERT INTO rating_rejected (event_id, rating_id, swipe_id, provider_id, "
        "terminal_id, card_no, score, reason_code, reason, occurred_at_ms, rejected_at_ms) "
        "SELECT event_id, rating_id, swipe_id, provider_id, terminal_id, card_no, score, "
        "'reversed_after_rating', 'swipe ' || swipe_id || ' was reversed after its rating was "
        "accepted', occurred_at_ms, $2::bigint FROM a) "
        "SELECT provider_id, item_code, period, score, array_to_string(tags, E'\\x1f') FROM a",
        2, p, err, errlen);
    if (r == NULL)
        return -1;
    int rows = PQntuples(r);
    store_arrays_reset(s, 5);
    for (int row = 0; row < rows; row++)
        store_delta(s, PQgetvalue(r, row, 0), PQgetvalue(r, row, 1), PQgetvalue(r, row, 2),
                    (int32_t)strtol(PQgetvalue(r, row, 3), NULL, 10), -1);
    int rc = store_sums(s, NULL, err, errlen);
    if (rc == 0 && rows > 0) {
        store_arrays_reset(s, 3);
        for (int row = 0; row < rows; row++) {
            char *tags = PQgetvalue(r, row, 4);
            while (*tags) {
                char *end = strchr(tags, STORE_TAG_SEP);
                size_t len = end ? (size_t)(end - tags) : strlen(tags);
                char tag[128];
                snprintf(tag, sizeof(tag), "%.*s", (int)len, tags);
                pg_array_add(&s->arr[0], PQgetvalue(r, row, 0));
                pg_array_add(&s->arr[1], tag);
                pg_array_add_int(&s->arr[2], -1);
                tags += len + (end != NULL);
            }
        }
        rc = store_tags(s, err, errlen);
    }
    s->retracted += rows;
    s->verdicts[RULES_REVERSED_AFTER] += rows;
    PQclear(r);
    return rc;
}

/* ------------------------------------------------------------- providers */

/* Providers with accepted ratings that the service has no category for
 * yet: read from the directory (prov:{p:P} category) and recorded. When
 * Redis cannot answer, they are tried again with a later batch; scores
 * meanwhile use the prior of the "" category. */
static int store_providers(store *s, char *err, size_t errlen)
{
    store_arrays_reset(s, 1);
    for (int i = 0; i < s->nratings; i++)
        if (s->ratings[i].verdict == RULES_OK)
            pg_array_add(&s->arr[0], s->ratings[i].provider_id);
    if (s->arr[0].n == 0)
        return 0;
    PGresult *r = pg_query_arrays(s->pg,
                                  "SELECT DISTINCT p FROM unnest($1::text[]) AS p WHERE NOT "
                                  "EXISTS (SELECT 1 FROM rating_providers WHERE provider_id = p)",
                                  s->arr, NULL, 1, err, errlen);
    if (r == NULL)
        return -1;
    int rows = PQntuples(r);
    if (rows == 0) {
        PQclear(r);
        return 0;
    }
    int64_t now = event_now_ms();
    /* two tries: a connection Redis closed (a restart) shows only when it
     * is used, and then a fresh one is made at once */
    bool broken = false;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (s->redis == NULL && (attempt > 0 || now >= s->redis_retry_ms) && s->cfg.redis_host) {
            char rerr[256];
            s->redis =
                redis_sync_connect(s->cfg.redis_host, s->cfg.redis_port, 1000, rerr, sizeof(rerr));
            if (s->redis == NULL) {
                log_warn("directory_unavailable", "provider categories wait: %s", rerr);
                s->redis_retry_ms = now + 5000;
            }
        }
        if (s->redis == NULL) {
            PQclear(r);
            return 0;
        }
        for (int row = 0; row < rows; row++) {
            char key[KEYS_MAX];
            keys_provider(key, sizeof(key), PQgetvalue(r, row, 0));
            redisAppendCommand(s->redis, "HGET %s category", key);
        }
        store_arrays_reset(s, 2);
        broken = false;
        for (int row = 0; row < rows && !broken; row++) {
            redisReply *rep = NULL;
            if (redisGetReply(s->redis, (void **)&rep) != REDIS_OK || rep == NULL) {
                broken = true;
                break;
            }
            if (rep->type == REDIS_REPLY_STRING) {
                pg_array_add(&s->arr[0], PQgetvalue(r, row, 0));
                pg_array_add(&s->arr[1], rep->str);
            } else if (rep->type == REDIS_REPLY_NIL) {
                /* not in the directory: the provider gets the "" prior */
                pg_array_add(&s->arr[0], PQgetvalue(r, row, 0));
                pg_array_add(&s->arr[1], "");
            }
            freeReplyObject(rep);
        }
        if (!broken)
            break;
        log_warn("directory_unavailable", "provider categories: %s%s",
                 s->redis->errstr[0] ? s->redis->errstr : "no reply",
                 attempt == 0 ? ": reconnecting" : "");
        redisFree(s->redis);
        s->redis = NULL;
        s->redis_retry_ms = now + 5000;
    }
    PQclear(r);
    if (s->arr[0].n == 0)
        return 0;
    return pg_exec_arrays(s->pg,
                          "INSERT INTO rating_providers (provider_id, category) SELECT * FROM "
                          "unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING",
                          s->arr, NULL, 2, err, errlen);
}

/* ----------------------------------------------------------------- scores */

static void store_scores_clear(store *s)
{
    for (int i = 0; i < s->nscores; i++) {
        free(s->scores[i].provider_id);
        free(s->scores[i].item_code);
        free(s->scores[i].category);
    }
    s->nscores = 0;
}

/* Computes the Bayesian score of every (provider, item) the accepted
 * ratings touched, r being those rows as store_sums returned them after
 * the batch's move (NULL: none; the caller keeps it); those that moved
 * materially are marked published and queued for store_publish. The prior
 * is the mean of all ratings of the provider's category, read after the
 * move. */
static int store_mark_scores(store *s, PGresult *r, char *err, size_t errlen)
{
    store_scores_clear(s);
    if (r == NULL || PQntuples(r) == 0)
        return 0;
    PGresult *c = pg_query(
        s->pg,
        "SELECT coalesce(p.category, '') AS category, sum(s.n), sum(s.sum) "
        "FROM rating_scores s LEFT JOIN rating_providers p USING (provider_id) "
        "WHERE s.item_code = '' GROUP BY 1 ORDER BY coalesce(p.category, '') COLLATE \"C\"",
        0, NULL, err, errlen);
    if (c == NULL)
        return -1;
    store_arrays_reset(s, 3);
    for (int row = 0; row < PQntuples(r); row++) {
        int64_t n = strtoll(PQgetvalue(r, row, 3), NULL, 10);
        int64_t sum = strtoll(PQgetvalue(r, row, 4), NULL, 10);
        int32_t prev = (int32_t)strtol(PQgetvalue(r, row, 10), NULL, 10);
        int crow = store_find(c, 0, PQgetvalue(r, row, 2));
        int32_t prior = crow < 0 ? score_mean_milli(0, 0)
                                 : score_mean_milli(strtoll(PQgetvalue(c, crow, 1), NULL, 10),
                                                    strtoll(PQgetvalue(c, crow, 2), NULL, 10));
        int32_t bayes = score_bayes_milli(n, sum, prior, s->cfg.prior_weight);
        if (!score_material(prev, bayes, (int32_t)s->cfg.publish_delta_milli))
            continue;
        if (s->nscores == s->cap_scores) {
            int cap = s->cap_scores ? s->cap_scores * 2 : 256;
            store_score *sc = realloc(s->scores, (size_t)cap * sizeof(*sc));
            if (sc == NULL) {
                PQclear(c);
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            s->scores = sc;
            s->cap_scores = cap;
        }
        store_score *sc = &s->scores[s->nscores++];
        sc->provider_id = strdup(PQgetvalue(r, row, 0));
        sc->item_code = strdup(PQgetvalue(r, row, 1));
        sc->category = strdup(PQgetvalue(r, row, 2));
        sc->bayes_milli = bayes;
        sc->n = n;
        for (int d = 0; d < 5; d++)
            sc->dist[d] = strtoll(PQgetvalue(r, row, 5 + d), NULL, 10);
        if (sc->provider_id == NULL || sc->item_code == NULL || sc->category == NULL) {
            PQclear(c);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        pg_array_add(&s->arr[0], sc->provider_id);
        pg_array_add(&s->arr[1], sc->item_code);
        pg_array_add_int(&s->arr[2], bayes);
    }
    PQclear(c);
    if (s->arr[0].n == 0)
        return 0;
    return pg_exec_arrays(s->pg,
                          "UPDATE rating_scores t SET published_milli = u.b FROM unnest("
                          "$1::text[], $2::text[], $3::int[]) AS u(p, i, b) WHERE "
                          "t.provider_id = u.p AND t.item_code = u.i",
                          s->arr, NULL, 3, err, errlen);
}

/* ------------------------------------------------------------- decisions */

static const store *store_sort_ctx;

static int store_cap_cmp(const void *a, const void *b)
{
    const store_rating *x = &store_sort_ctx->ratings[*(const int *)a];
    const store_rating *y = &store_sort_ctx->ratings[*(const int *)b];
    int c = strcmp(x->card_no, y->card_no);
    if (c == 0)
        c = strcmp(x->provider_id, y->provider_id);
    if (c == 0)
        c = strcmp(x->period, y->period);
    if (c == 0)
        c = *(const int *)a - *(const int *)b; /* stream order within a key */
    return c;
}

static bool store_same_key(const store_rating *x, const store_rating *y)
{
    return strcmp(x->card_no, y->card_no) == 0 && strcmp(x->provider_id, y->provider_id) == 0 &&
           strcmp(x->period, y->period) == 0;
}

/* The per-card cap: accepted ratings of one card for one provider in one
 * month, counting the database and this batch in stream order. */
static int store_caps(store *s, char *err, size_t errlen)
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
    store_sort_ctx = s;
    qsort(ix, (size_t)k, sizeof(*ix), store_cap_cmp);
    int64_t count = 0;
    for (int j = 0; j < k; j++) {
        store_rating *x = &s->ratings[ix[j]];
        if (j == 0 || !store_same_key(&s->ratings[ix[j - 1]], x)) {
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

/* Writes accepted, rejected and parked ratings, the sums, the tags and the
 * bursts of s->ratings. */
static int store_write(store *s, bool final, int64_t now_ms, char *err, size_t errlen)
{
    /* accepted */
    store_arrays_reset(s, 12);
    for (int i = 0; i < s->nratings; i++) {
        const store_rating *r = &s->ratings[i];
        if (r->verdict != RULES_OK)
            continue;
        pg_array_add(&s->arr[0], r->event_id);
        pg_array_add(&s->arr[1], r->rating_id);
        pg_array_add(&s->arr[2], r->swipe_id);
        pg_array_add(&s->arr[3], r->card_no);
        pg_array_add(&s->arr[4], r->provider_id);
        pg_array_add(&s->arr[5], r->terminal_id);
        pg_array_add(&s->arr[6], r->item_code ? r->item_code : "");
        pg_array_add_int(&s->arr[7], r->score);
        pg_array_add(&s->arr[8], r->tags);
        pg_array_add(&s->arr[9], r->period);
        pg_array_add_int(&s->arr[10], r->occurred_at_ms);
        pg_array_add_int(&s->arr[11], r->swipe_at_ms);
    }
    if (s->arr[0].n > 0) {
        char now[24];
        snprintf(now, sizeof(now), "%lld", (long long)now_ms);
        pg_array_reset(&s->arr[12]);
        pg_array_add(&s->arr[12], now);
        if (pg_exec_arrays(
                s->pg,
                "INSERT INTO rating_accepted (event_id, rating_id, swipe_id, card_no, provider_id, "
                "terminal_id, item_code, score, tags, period, occurred_at_ms, swipe_at_ms, "
                "accepted_at_ms) SELECT e, r, sw, c, p, t, i, sc, CASE WHEN tg = '' THEN "
                "'{}'::text[] ELSE string_to_array(tg, E'\\x1f') END, per, occ, sat, "
                "($13::bigint[])[1] FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], "
                "$5::text[], $6::text[], $7::text[], $8::int[], $9::text[], $10::text[], "
                "$11::bigint[], $12::bigint[]) AS u(e, r, sw, c, p, t, i, sc, tg, per, occ, sat)",
                s->arr, NULL, 13, err, errlen) < 0)
            return -1;
    }

    /* rejected */
    store_arrays_reset(s, 10);
    for (int i = 0; i < s->nratings; i++) {
        const store_rating *r = &s->ratings[i];
        s->verdicts[r->verdict]++;
        if (r->verdict == RULES_OK || r->verdict == RULES_PENDING)
            continue;
        pg_array_add(&s->arr[0], r->event_id);
        pg_array_add(&s->arr[1], r->rating_id);
        pg_array_add(&s->arr[2], r->swipe_id);
        pg_array_add(&s->arr[3], r->provider_id);
        pg_array_add(&s->arr[4], r->terminal_id);
        pg_array_add(&s->arr[5], r->card_no);
        pg_array_add_int(&s->arr[6], r->score);
        pg_array_add(&s->arr[7], rules_code(r->verdict));
        pg_array_add(&s->arr[8], r->reason);
        pg_array_add_int(&s->arr[9], r->occurred_at_ms);
    }
    if (s->arr[0].n > 0) {
        char now[24];
        snprintf(now, sizeof(now), "%lld", (long long)now_ms);
        pg_array_reset(&s->arr[10]);
        pg_array_add(&s->arr[10], now);
        if (pg_exec_arrays(s->pg,
                           "INSERT INTO rating_rejected (event_id, rating_id, swipe_id, "
                           "provider_id, terminal_id, card_no, score, reason_code, reason, "
                           "occurred_at_ms, rejected_at_ms) SELECT *, ($11::bigint[])[1] FROM "
                           "unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], "
                           "$6::text[], $7::int[], $8::text[], $9::text[], $10::bigint[])",
                           s->arr, NULL, 11, err, errlen) < 0)
            return -1;
    }

    /* parked */
    store_arrays_reset(s, 9);
    for (int i = 0; i < s->nratings && !final; i++) {
        const store_rating *r = &s->ratings[i];
        if (r->verdict != RULES_PENDING)
            continue;
        pg_array_add(&s->arr[0], r->event_id);
        pg_array_add(&s->arr[1], r->rating_id);
        pg_array_add(&s->arr[2], r->swipe_id);
        pg_array_add(&s->arr[3], r->card_no);
        pg_array_add(&s->arr[4], r->provider_id);
        pg_array_add(&s->arr[5], r->terminal_id);
        pg_array_add_int(&s->arr[6], r->score);
        pg_array_add(&s->arr[7], r->tags);
        pg_array_add_int(&s->arr[8], r->occurred_at_ms);
    }
    if (s->arr[0].n > 0) {
        char now[24];
        snprintf(now, sizeof(now), "%lld", (long long)now_ms);
        pg_array_reset(&s->arr[9]);
        pg_array_add(&s->arr[9], now);
        if (pg_exec_arrays(
                s->pg,
                "INSERT INTO rating_pending (event_id, rating_id, swipe_id, card_no, provider_id, "
                "terminal_id, score, tags, occurred_at_ms, parked_at_ms) SELECT e, r, sw, c, p, t, "
                "sc, CASE WHEN tg = '' THEN '{}'::text[] ELSE string_to_array(tg, E'\\x1f') END, "
                "occ, ($10::bigint[])[1] FROM unnest($1::text[], $2::text[], $3::text[], "
                "$4::text[], $5::text[], $6::text[], $7::int[], $8::text[], $9::bigint[]) AS u(e, "
                "r, sw, c, p, t, sc, tg, occ) ON CONFLICT (event_id) DO NOTHING",
                s->arr, NULL, 10, err, errlen) < 0)
            return -1;
    }

    /* sums and tags; the categories of new providers first, for the scores */
    if (store_providers(s, err, errlen) < 0)
        return -1;
    store_arrays_reset(s, 5);
    for (int i = 0; i < s->nratings; i++) {
        const store_rating *r = &s->ratings[i];
        if (r->verdict == RULES_OK)
            store_delta(s, r->provider_id, r->item_code ? r->item_code : "", r->period, r->score,
                        1);
    }
    PGresult *moved = NULL;
    if (store_sums(s, &moved, err, errlen) < 0)
        return -1;
    store_arrays_reset(s, 3);
    for (int i = 0; i < s->nratings; i++) {
        const store_rating *r = &s->ratings[i];
        if (r->verdict != RULES_OK)
            continue;
        const char *t = r->tags;
        while (*t) {
            const char *end = strchr(t, STORE_TAG_SEP);
            size_t len = end ? (size_t)(end - t) : strlen(t);
            char tag[128];
            snprintf(tag, sizeof(tag), "%.*s", (int)len, t);
            if (tag[0]) {
                pg_array_add(&s->arr[0], r->provider_id);
                pg_array_add(&s->arr[1], tag);
                pg_array_add_int(&s->arr[2], 1);
            }
            t += len + (end != NULL);
        }
    }
    if (store_tags(s, err, errlen) < 0) {
        if (moved)
            PQclear(moved);
        return -1;
    }

    /* 5-star bursts per terminal and window */
    store_arrays_reset(s, 3);
    for (int i = 0; i < s->nratings; i++) {
        const store_rating *r = &s->ratings[i];
        if (r->verdict != RULES_OK || !rules_burst_candidate(r->score, r->occurred_at_ms,
                                                             r->swipe_at_ms, s->cfg.burst_after_ms))
            continue;
        pg_array_add(&s->arr[0], r->terminal_id);
        pg_array_add_int(&s->arr[1],
                         r->occurred_at_ms - r->occurred_at_ms % s->cfg.burst_window_ms);
        pg_array_add(&s->arr[2], r->provider_id);
    }
    if (s->arr[0].n > 0) {
        char thr[24];
        snprintf(thr, sizeof(thr), "{%lld}", (long long)s->cfg.burst_threshold);
        PGresult *r = NULL;
        const char *p[4];
        for (int i = 0; i < 3; i++)
            p[i] = pg_array_text(&s->arr[i]);
        p[3] = thr;
        if (p[0] && p[1] && p[2])
            r = pg_query(s->pg,
                         "WITH u AS (INSERT INTO rating_bursts AS t (terminal_id, window_ms, "
                         "provider_id, n) SELECT term, w, min(p), count(*) FROM unnest($1::text[], "
                         "$2::bigint[], $3::text[]) AS u(term, w, p) GROUP BY 1, 2 ON CONFLICT "
                         "(terminal_id, window_ms) DO UPDATE SET n = t.n + EXCLUDED.n RETURNING "
                         "t.terminal_id, t.window_ms, t.provider_id, t.n) SELECT * FROM u WHERE n "
                         ">= ($4::bigint[])[1]",
                         4, p, err, errlen);
        else
            snprintf(err, errlen, "out of memory");
        if (r == NULL) {
            if (moved)
                PQclear(moved);
            return -1;
        }
        for (int row = 0; row < PQntuples(r); row++) {
            s->bursts_flagged++;
            log_kv(LOG_WARN, "rating_burst_flagged", "terminal_id", PQgetvalue(r, row, 0),
                   "window_ms", PQgetvalue(r, row, 1), "provider_id", PQgetvalue(r, row, 2),
                   "five_star_ratings", PQgetvalue(r, row, 3), NULL);
        }
        PQclear(r);
    }
    int rc = store_mark_scores(s, moved, err, errlen);
    if (moved)
        PQclear(moved);
    return rc;
}

/* Decides every rating of s->ratings (see rules.h), then writes them. final:
 * a swipe still unseen means swipe_unknown rather than parking. */
static int store_decide(store *s, bool final, int64_t now_ms, char *err, size_t errlen)
{
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
    int rc = store_caps(s, err, errlen);
    if (rc == 0)
        rc = store_write(s, final, now_ms, err, errlen);
    if (r)
        PQclear(r);
    for (int i = 0; i < s->nratings; i++)
        s->ratings[i].item_code = NULL; /* pointed into r */
    return rc;
}

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

static int store_offsets(store *s, store_item *items, int n, char *err, size_t errlen)
{
    store_arrays_reset(s, 4);
    for (int i = n - 1; i >= 0; i--) {
        if (items[i].topic == NULL)
            continue;
        bool later = false;
        for (int j = i + 1; j < n && !later; j++)
            later = items[j].topic && items[j].partition == items[i].partition &&
                    strcmp(items[j].topic, items[i].topic) == 0;
        if (later)
            continue;
        pg_array_add(&s->arr[0], s->group);
        pg_array_add(&s->arr[1], items[i].topic);
        pg_array_add_int(&s->arr[2], items[i].partition);
        pg_array_add_int(&s->arr[3], items[i].offset + 1);
    }
    if (s->arr[0].n == 0)
        return 0;
    return pg_exec_arrays(
        s->pg,
        "INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset) "
        "SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[]) "
        "ON CONFLICT (consumer_group, topic, partition) DO UPDATE SET next_offset = "
        "EXCLUDED.next_offset, updated_at = now()",
        s->arr, NULL, 4, err, errlen);
}

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
    store_scores_clear(s);
    store_counts_reset(s);
    for (int i = 0; i < n; i++) {
        items[i].duplicate = false;
        items[i].rating_idx = -1;
    }
    if (store_begin(s, err, errlen) < 0)
        return -1;
    if (store_mark_duplicates(s, items, n, err, errlen) < 0 ||
        store_swipes(s, items, n, err, errlen) < 0 ||
        store_retract(s, items, n, now_ms, err, errlen) < 0 ||
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
    if (store_offsets(s, items, n, err, errlen) < 0)
        goto fail;
    return 0;
fail:
    pg_rollback(s->pg);
    store_scores_clear(s);
    return -1;
}

int store_resolve_pending(store *s, int64_t now_ms, int64_t grace_ms, bool caught_up, int limit,
                          int *n, char *err, size_t errlen)
{
    store_release(s);
    store_scores_clear(s);
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
    store_scores_clear(s);
    return -1;
}

int store_mark_committed(store *s, store_item *items, int n, char *err, size_t errlen)
{
    const char *p[] = {s->group};
    PGresult *r = pg_query(s->pg,
                           "SELECT topic, partition, next_offset FROM consumer_offsets WHERE "
                           "consumer_group = $1",
                           1, p, err, errlen);
    if (r == NULL)
        return -1;
    for (int i = 0; i < n; i++) {
        if (items[i].topic == NULL)
            continue;
        for (int row = 0; row < PQntuples(r); row++)
            if (strcmp(PQgetvalue(r, row, 0), items[i].topic) == 0 &&
                strtol(PQgetvalue(r, row, 1), NULL, 10) == items[i].partition &&
                strtoll(PQgetvalue(r, row, 2), NULL, 10) > items[i].offset)
                items[i].committed = true;
    }
    PQclear(r);
    return 0;
}

int store_commit(store *s, char *err, size_t errlen)
{
    if (pg_commit(s->pg, err, errlen) < 0) {
        pg_rollback(s->pg);
        store_scores_clear(s);
        return -1;
    }
    return 0;
}

void store_abort(store *s)
{
    pg_rollback(s->pg);
    store_scores_clear(s);
}

int store_publish(store *s, kafka_producer *p, int64_t now_ms)
{
    int queued = 0;
    char period[8];
    rules_period(period, sizeof(period), now_ms, s->cfg.tz_offset_min);
    for (int i = 0; i < s->nscores; i++) {
        const store_score *sc = &s->scores[i];
        char id[EVENT_ID_LEN + 1];
        event_new_id(id);
        Onecard__V1__ProviderScore ev = ONECARD__V1__PROVIDER_SCORE__INIT;
        ev.event_id = id;
        ev.provider_id = sc->provider_id;
        ev.item_code = sc->item_code;
        ev.category = sc->category;
        ev.bayes_score_milli = sc->bayes_milli;
        ev.ratings = sc->n;
        ev.n_distribution = 5;
        ev.distribution = (int64_t *)sc->dist;
        ev.period = period;
        ev.occurred_at_ms = now_ms;
        char err[256];
        if (kafka_produce(p, &ev.base, TOPIC_PROVIDER_SCORES, sc->provider_id,
                          strlen(sc->provider_id), NULL, NULL, err, sizeof(err)) < 0) {
            log_warn("score_not_published", "%s/%s: %s", sc->provider_id, sc->item_code, err);
            continue;
        }
        queued++;
    }
    store_scores_clear(s);
    return queued;
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
    store_scores_clear(s);
    free(s->ratings);
    free(s->scores);
    for (size_t i = 0; i < sizeof(s->arr) / sizeof(s->arr[0]); i++)
        pg_array_free(&s->arr[i]);
    if (s->redis)
        redisFree(s->redis);
    memset(s, 0, sizeof(*s));
}
