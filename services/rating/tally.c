/*
 * tally: what decided ratings write. See tally.h.
 */
#include "tally.h"

#include "categories.h"
#include "publish.h"

#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------- running sums */

/* The running sums move by one row per rating and sign (+1 accepted, -1
 * taken back): arr[0..4] provider, item, period, score, sign. */
static void tally_delta(store *s, const char *provider, const char *item, const char *period,
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
 * spares publish_mark reading them again; NULL when there were no
 * deltas. The caller PQclears it. */
static int tally_sums(store *s, PGresult **rows, char *err, size_t errlen)
{
    if (rows)
        *rows = NULL;
    if (s->arr[0].n == 0)
        return 0;
#define TALLY_DIST                                                                                 \
    "coalesce(sum(sign) FILTER (WHERE score = 1), 0), coalesce(sum(sign) FILTER (WHERE score = "   \
    "2), 0), coalesce(sum(sign) FILTER (WHERE score = 3), 0), coalesce(sum(sign) FILTER (WHERE "   \
    "score = 4), 0), coalesce(sum(sign) FILTER (WHERE score = 5), 0)"
#define TALLY_ADD                                                                                  \
    "n = t.n + EXCLUDED.n, sum = t.sum + EXCLUDED.sum, d1 = t.d1 + EXCLUDED.d1, d2 = t.d2 + "      \
    "EXCLUDED.d2, d3 = t.d3 + EXCLUDED.d3, d4 = t.d4 + EXCLUDED.d4, d5 = t.d5 + EXCLUDED.d5"
    PGresult *r = pg_query_arrays(
        s->pg,
        "WITH d AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], "
        "$5::int[]) AS d(provider_id, item_code, period, score, sign)), "
        "x AS (SELECT provider_id, ''::text AS item_code, period, score, sign FROM d UNION ALL "
        "SELECT provider_id, item_code, period, score, sign FROM d WHERE item_code <> ''), "
        "s AS (INSERT INTO rating_scores AS t (provider_id, item_code, n, sum, d1, d2, d3, d4, d5) "
        "SELECT provider_id, item_code, sum(sign), sum(sign * score), " TALLY_DIST
        " FROM x GROUP BY 1, 2 ON CONFLICT (provider_id, item_code) DO UPDATE SET " TALLY_ADD
        " RETURNING t.*), "
        "m AS (INSERT INTO rating_monthly AS t (provider_id, item_code, period, n, sum, d1, d2, "
        "d3, d4, d5) SELECT provider_id, item_code, period, sum(sign), sum(sign * "
        "score), " TALLY_DIST
        " FROM x GROUP BY 1, 2, 3 ON CONFLICT (provider_id, item_code, period) DO UPDATE "
        "SET " TALLY_ADD ") "
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
static int tally_tags(store *s, char *err, size_t errlen)
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
int tally_retract(store *s, store_item *items, int n, int64_t now_ms, char *err, size_t errlen)
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
        tally_delta(s, PQgetvalue(r, row, 0), PQgetvalue(r, row, 1), PQgetvalue(r, row, 2),
                    (int32_t)strtol(PQgetvalue(r, row, 3), NULL, 10), -1);
    int rc = tally_sums(s, NULL, err, errlen);
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
        rc = tally_tags(s, err, errlen);
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
static int tally_providers(store *s, char *err, size_t errlen)
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
    if (PQntuples(r) == 0) {
        PQclear(r);
        return 0;
    }
    int rc = categories_read(&s->dir, r, &s->arr[0], &s->arr[1]);
    PQclear(r);
    if (rc < 0 || s->arr[0].n == 0)
        return 0;
    return pg_exec_arrays(s->pg,
                          "INSERT INTO rating_providers (provider_id, category) SELECT * FROM "
                          "unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING",
                          s->arr, NULL, 2, err, errlen);
}

/* ---------------------------------------------------------------- writes */

/* Writes accepted, rejected and parked ratings, the sums, the tags and the
 * bursts of s->ratings. */
int tally_write(store *s, bool final, int64_t now_ms, char *err, size_t errlen)
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
    if (tally_providers(s, err, errlen) < 0)
        return -1;
    store_arrays_reset(s, 5);
    for (int i = 0; i < s->nratings; i++) {
        const store_rating *r = &s->ratings[i];
        if (r->verdict == RULES_OK)
            tally_delta(s, r->provider_id, r->item_code ? r->item_code : "", r->period, r->score,
                        1);
    }
    PGresult *moved = NULL;
    if (tally_sums(s, &moved, err, errlen) < 0)
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
    if (tally_tags(s, err, errlen) < 0) {
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
    int rc = publish_mark(&s->publish, s->pg, s->arr, moved, err, errlen);
    if (moved)
        PQclear(moved);
    return rc;
}
