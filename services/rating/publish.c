/*
 * publish: scores marked in the transaction, produced after it. See
 * publish.h.
 */
#include "publish.h"

#include "rules.h"
#include "score.h"
#include "store.h"

#include "common/log.h"
#include "rating.pb-c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void publish_init(publish_queue *q, int64_t prior_weight, int64_t publish_delta_milli,
                  int tz_offset_min)
{
    memset(q, 0, sizeof(*q));
    q->prior_weight = prior_weight;
    q->publish_delta_milli = publish_delta_milli;
    q->tz_offset_min = tz_offset_min;
}

void publish_clear(publish_queue *q)
{
    for (int i = 0; i < q->nscores; i++) {
        free(q->scores[i].provider_id);
        free(q->scores[i].item_code);
        free(q->scores[i].category);
    }
    q->nscores = 0;
}

/* The prior is the mean of all ratings of the provider's category, read
 * after the move. */
int publish_mark(publish_queue *q, PGconn *pg, pg_array *arr, PGresult *moved, char *err,
                 size_t errlen)
{
    publish_clear(q);
    if (moved == NULL || PQntuples(moved) == 0)
        return 0;
    PGresult *c = pg_query(
        pg,
        "SELECT coalesce(p.category, '') AS category, sum(s.n), sum(s.sum) "
        "FROM rating_scores s LEFT JOIN rating_providers p USING (provider_id) "
        "WHERE s.item_code = '' GROUP BY 1 ORDER BY coalesce(p.category, '') COLLATE \"C\"",
        0, NULL, err, errlen);
    if (c == NULL)
        return -1;
    for (int i = 0; i < 3; i++)
        pg_array_reset(&arr[i]);
    for (int row = 0; row < PQntuples(moved); row++) {
        int64_t n = strtoll(PQgetvalue(moved, row, 3), NULL, 10);
        int64_t sum = strtoll(PQgetvalue(moved, row, 4), NULL, 10);
        int32_t prev = (int32_t)strtol(PQgetvalue(moved, row, 10), NULL, 10);
        int crow = store_find(c, 0, PQgetvalue(moved, row, 2));
        int32_t prior = crow < 0 ? score_mean_milli(0, 0)
                                 : score_mean_milli(strtoll(PQgetvalue(c, crow, 1), NULL, 10),
                                                    strtoll(PQgetvalue(c, crow, 2), NULL, 10));
        int32_t bayes = score_bayes_milli(n, sum, prior, q->prior_weight);
        if (!score_material(prev, bayes, (int32_t)q->publish_delta_milli))
            continue;
        if (q->nscores == q->cap_scores) {
            int cap = q->cap_scores ? q->cap_scores * 2 : 256;
            publish_score *sc = realloc(q->scores, (size_t)cap * sizeof(*sc));
            if (sc == NULL) {
                PQclear(c);
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            q->scores = sc;
            q->cap_scores = cap;
        }
        publish_score *sc = &q->scores[q->nscores++];
        sc->provider_id = strdup(PQgetvalue(moved, row, 0));
        sc->item_code = strdup(PQgetvalue(moved, row, 1));
        sc->category = strdup(PQgetvalue(moved, row, 2));
        sc->bayes_milli = bayes;
        sc->n = n;
        for (int d = 0; d < 5; d++)
            sc->dist[d] = strtoll(PQgetvalue(moved, row, 5 + d), NULL, 10);
        if (sc->provider_id == NULL || sc->item_code == NULL || sc->category == NULL) {
            PQclear(c);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        pg_array_add(&arr[0], sc->provider_id);
        pg_array_add(&arr[1], sc->item_code);
        pg_array_add_int(&arr[2], bayes);
    }
    PQclear(c);
    if (arr[0].n == 0)
        return 0;
    return pg_exec_arrays(pg,
                          "UPDATE rating_scores t SET published_milli = u.b FROM unnest("
                          "$1::text[], $2::text[], $3::int[]) AS u(p, i, b) WHERE "
                          "t.provider_id = u.p AND t.item_code = u.i",
                          arr, NULL, 3, err, errlen);
}

int publish_send(publish_queue *q, kafka_producer *p, int64_t now_ms)
{
    int queued = 0;
    char period[8];
    rules_period(period, sizeof(period), now_ms, q->tz_offset_min);
    for (int i = 0; i < q->nscores; i++) {
        const publish_score *sc = &q->scores[i];
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
    publish_clear(q);
    return queued;
}

void publish_cleanup(publish_queue *q)
{
    publish_clear(q);
    free(q->scores);
    memset(q, 0, sizeof(*q));
}
