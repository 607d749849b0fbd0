/*
 * store: applies a batch of swipes, reversals and ratings to PostgreSQL in
 * one transaction, in which the consumer also stores the offsets of every
 * partition the batch came from (batch_offsets_store): an event's effect and the offset past it
 * commit together or not at all, so a crash at any instant counts nothing twice.
 *
 * Within a batch, in this order: ratings whose event id was applied
 * already are skipped (rating_events); swipes and reversals are upserted
 * by swipe_id (idempotent); ratings accepted earlier whose swipe is now
 * reversed are taken back (tally.c); every rating is decided (decide.c,
 * with rules.c) against the swipes table, which already holds the swipes
 * of this very batch; ratings whose swipe is not there are parked in
 * rating_pending; the per-card cap is checked against the database and
 * the batch; then the running sums (per provider, item, month, tag), the
 * 5-star bursts and the rejections (tally.c) are written, and the scores that moved materially are
 * marked published (publish.c). The caller dead-letters the rejected ratings, commits, then
 * publishes (publish_send on s->publish). Parked ratings are decided again by
 * store_resolve_pending, in a transaction of their own.
 *
 * This file holds the transaction and the events' own rows (event ids,
 * swipes, parked ratings read back); the steps that act on the
 * decided ratings are rooms of their own, each working inside the
 * transaction opened here: decide.c (verdicts), tally.c (what the verdicts
 * write), categories.c (provider categories from Redis), publish.c (scores
 * out to Kafka).
 *
 * Every statement takes whole columns as array parameters and unnests
 * them server-side: a batch is a dozen statements whatever its size.
 * Loop thread only.
 */
#ifndef RATING_STORE_H
#define RATING_STORE_H

#include "categories.h"
#include "publish.h"
#include "rules.h"

#include "common/pg.h"
#include "rating.pb-c.h"
#include "swipe.pb-c.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct store_config {
    int64_t cap_per_month;       /* accepted ratings per card, provider and month */
    int64_t burst_after_ms;      /* a 5-star rating this soon after its swipe ... */
    int64_t burst_window_ms;     /* ... counted per terminal in windows this long ... */
    int64_t burst_threshold;     /* ... is a flagged burst at this many */
    int64_t prior_weight;        /* the Bayesian prior's weight, in ratings (publish.h) */
    int64_t publish_delta_milli; /* a score moved this much is published again (publish.h) */
    const char *redis_host;      /* the directory, for provider categories (categories.h) */
    int redis_port;
    int tz_offset_min; /* the local calendar of rating months */
} store_config;

#define STORE_TAG_SEP '\x1f' /* between the tags of a store_rating */

/* One rating being decided (from the stream or from rating_pending). */
typedef struct store_rating {
    const char *event_id, *rating_id, *swipe_id, *card_no, *provider_id, *terminal_id;
    int32_t score;
    int64_t occurred_at_ms;
    char tags[512]; /* joined by STORE_TAG_SEP */
    int item;       /* index of its store_item, -1 when from rating_pending */
    /* the decision */
    rules_verdict verdict;
    char reason[240];
    const char *item_code; /* the swipe's, when found */
    int64_t swipe_at_ms;
    char period[8];
} store_rating;

typedef enum { STORE_SKIP = 0, STORE_SWIPE, STORE_REVERSAL, STORE_RATING } store_kind;

typedef struct store_item {
    const char *topic;
    int32_t partition;
    int64_t offset;
    store_kind kind;
    const Onecard__V1__SwipeAuthorized *swipe;
    const Onecard__V1__SwipeReversed *reversal;
    const Onecard__V1__RatingSubmitted *rating;
    bool duplicate; /* its event id was applied already */
    bool committed; /* found committed by an earlier attempt: skipped */
    int rating_idx; /* into the store's ratings, -1 for none */
} store_item;

typedef struct store {
    PGconn *pg;
    const char *group;
    store_config cfg;
    categories dir;        /* provider categories (categories.h) */
    publish_queue publish; /* scores marked by the transaction (publish.h) */
    pg_array arr[24];
    store_rating *ratings; /* of the current batch or resolution */
    int nratings, cap_ratings;
    PGresult *held; /* rows the ratings' strings point into */
    /* counts of the last store_apply / store_resolve_pending, by verdict */
    int64_t verdicts[RULES_NVERDICTS];
    int64_t swipes, reversals, duplicates, retracted, bursts_flagged;
} store;

void store_init(store *s, PGconn *pg, const char *group, const store_config *cfg);

/* Applies the items (see the file comment); on success the transaction is
 * open and s->ratings holds every rating of the batch with its verdict.
 * -1 with err: rolled back. */
int store_apply(store *s, store_item *items, int n, int64_t now_ms, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Decides parked ratings again in a transaction of its own: those whose
 * swipe has now been read, and, when caught_up, those parked longer than
 * grace_ms (rejected as swipe_unknown). At most limit. On success the
 * transaction is open and s->ratings holds what was decided (*n of them);
 * -1 with err: rolled back. */
int store_resolve_pending(store *s, int64_t now_ms, int64_t grace_ms, bool caught_up, int limit,
                          int *n, char *err, size_t errlen) __attribute__((warn_unused_result));

/* Commits the transaction store_apply or store_resolve_pending left open.
 * -1 with err: rolled back, and the publish queue emptied. */
int store_commit(store *s, char *err, size_t errlen) __attribute__((warn_unused_result));

/* Rolls the open transaction back and empties the publish queue. */
void store_abort(store *s);

/* Number of ratings parked now (for the gauge); -1 on error. */
int64_t store_pending_count(store *s);

void store_cleanup(store *s);

/* ------------------------------------------------- for the store's parts */

/* Resets s->arr[0..n-1] for the next statement's columns. */
void store_arrays_reset(store *s, int n);

/* The row of r whose column col equals key, r being sorted by that column
 * in byte order (ORDER BY ... COLLATE "C"); -1 when none. */
int store_find(PGresult *r, int col, const char *key);

#endif
