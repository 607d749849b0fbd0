/*
 * publish: the provider scores a transaction moved, and their publication
 * as ProviderScore events on onecard.provider-scores.v1.
 *
 * Inside the batch's transaction, publish_mark computes the Bayesian score
 * (score.h) of every (provider, item) whose sums moved, against the prior
 * of the provider's category as it is after the move. Those that moved by
 * publish_delta_milli or more since they were last published are marked
 * (rating_scores.published_milli) and queued. After the commit,
 * publish_send produces the queue (fire and forget: a lost event is
 * replaced by the next material change); when the transaction fails
 * instead, the queue is cleared, so only committed scores are published,
 * and a retried batch marks them again.
 *
 * Why mark in the transaction and send after it: a score is published
 * only once the sums it comes from are committed, and the mark commits
 * with them, so "moved materially" is measured against the last score
 * queued by a committed transaction, never one a rolled-back batch
 * computed. Loop thread only.
 */
#ifndef RATING_PUBLISH_H
#define RATING_PUBLISH_H

#include "common/kafka.h"
#include "common/pg.h"

#include <stdint.h>

/* A score to publish after the commit (strings owned). */
typedef struct publish_score {
    char *provider_id, *item_code, *category;
    int32_t bayes_milli;
    int64_t n, dist[5];
} publish_score;

typedef struct publish_queue {
    int64_t prior_weight;        /* the Bayesian prior's weight, in ratings */
    int64_t publish_delta_milli; /* a score moved this much is published again */
    int tz_offset_min;           /* the local calendar of the events' period */
    publish_score *scores;
    int nscores, cap_scores;
} publish_queue;

void publish_init(publish_queue *q, int64_t prior_weight, int64_t publish_delta_milli,
                  int tz_offset_min);

/* Replaces the queue with the scores of moved that changed materially, and
 * marks them published in rating_scores. moved: the provider and
 * provider-item rows after the batch's move, as tally.c's sums return them
 * (columns provider, item, category, n, sum, d1..d5, published_milli or
 * -1); NULL or empty: nothing moved. The caller keeps moved. arr: three
 * arrays for the statement's parameters (reset here). Runs in the
 * caller's transaction. 0, or -1 with err. */
int publish_mark(publish_queue *q, PGconn *pg, pg_array *arr, PGresult *moved, char *err,
                 size_t errlen) __attribute__((warn_unused_result));

/* Produces the queued scores with now_ms as their time and period, then
 * empties the queue (call after the commit). Returns how many were
 * queued on the producer; one that could not be is logged
 * (score_not_published) and dropped. */
int publish_send(publish_queue *q, kafka_producer *p, int64_t now_ms);

/* Empties the queue without producing (the transaction failed). */
void publish_clear(publish_queue *q);

void publish_cleanup(publish_queue *q);

#endif
