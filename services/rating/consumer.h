/*
 * consumer: the rating service's loop: read ratings and swipes from one
 * consumer group, decide and score them in batches, publish scores.
 *
 * The Kafka consumer's queue wakes the event loop through a pipe; each
 * wake-up takes what is there (up to the batch size, several batches in a
 * row while there is a backlog) and applies it with the offsets in one
 * transaction (store.h). Rejected ratings are dead-lettered with their
 * reason before the commit (at least once on the DLQ, exactly once in the
 * tables); scores that moved materially are published after it
 * (publish.h). When PostgreSQL fails the batch is kept and retried every
 * second, and nothing more is read until it commits. Offsets come from
 * PostgreSQL on every assignment, never from Kafka.
 *
 * Ratings that overtook their swipe (the topics are keyed differently:
 * ratings by provider, swipes by card) are parked, not rejected. A timer
 * decides parked ratings again every second: those whose swipe has been
 * read since are decided as usual; one still without a swipe is rejected
 * as swipe_unknown only once it has waited ONECARD_RATING_GRACE_MS *and*
 * the consumer has read every partition to its end, so a rating is never
 * rejected because its swipe was merely late or the service behind.
 * Loop thread only.
 */
#ifndef RATING_CONSUMER_H
#define RATING_CONSUMER_H

#include "store.h"

#include "common/calendar.h"
#include "common/config.h"
#include "common/daemon.h"
#include "common/deps.h"

#include <stdbool.h>

typedef struct rating_config {
    daemon_config d;
    char *group;           /* ONECARD_RATING_GROUP */
    char *instance;        /* ONECARD_RATING_INSTANCE */
    int64_t batch_max;     /* ONECARD_RATING_BATCH */
    int64_t grace_ms;      /* ONECARD_RATING_GRACE_MS */
    int64_t cap_per_month; /* ONECARD_RATING_CAP_PER_MONTH */
    int64_t burst_after_ms, burst_window_ms, burst_threshold;
    int64_t prior_weight;
    int64_t publish_delta_milli;
    int64_t tz_offset_min; /* ONECARD_TZ_OFFSET_MIN: the months of the cap and the scores */
} rating_config;

#define RATING_CONFIG_ROWS(c)                                                                      \
    {"ONECARD_RATING_GROUP",                                                                       \
     CONFIG_STR,                                                                                   \
     &(c)->group,                                                                                  \
     "onecard-rating",                                                                             \
     0,                                                                                            \
     0,                                                                                            \
     "consumer group (its offsets are stored in PostgreSQL)"},                                     \
        {"ONECARD_RATING_INSTANCE",                                                                \
         CONFIG_STR,                                                                               \
         &(c)->instance,                                                                           \
         "rating-{host}",                                                                          \
         0,                                                                                        \
         0,                                                                                        \
         "static group member id, unique per process (\"\" for dynamic membership)"},              \
        {"ONECARD_RATING_BATCH",                                                                   \
         CONFIG_INT,                                                                               \
         &(c)->batch_max,                                                                          \
         "5000",                                                                                   \
         1,                                                                                        \
         100000,                                                                                   \
         "events applied per PostgreSQL transaction, at most"},                                    \
        {"ONECARD_RATING_GRACE_MS",                                                                \
         CONFIG_INT,                                                                               \
         &(c)->grace_ms,                                                                           \
         "600000",                                                                                 \
         0,                                                                                        \
         86400000LL * 8,                                                                           \
         "how long a rating waits for its swipe before swipe_unknown"},                            \
        {"ONECARD_RATING_CAP_PER_MONTH",                                                           \
         CONFIG_INT,                                                                               \
         &(c)->cap_per_month,                                                                      \
         "10",                                                                                     \
         1,                                                                                        \
         100000,                                                                                   \
         "accepted ratings per card and provider in a calendar month"},                            \
        {"ONECARD_RATING_BURST_AFTER_MS",                                                          \
         CONFIG_INT,                                                                               \
         &(c)->burst_after_ms,                                                                     \
         "120000",                                                                                 \
         0,                                                                                        \
         86400000,                                                                                 \
         "a 5-star rating this soon after its swipe counts towards a burst"},                      \
        {"ONECARD_RATING_BURST_WINDOW_MS",                                                         \
         CONFIG_INT,                                                                               \
         &(c)->burst_window_ms,                                                                    \
         "600000",                                                                                 \
         1000,                                                                                     \
         86400000,                                                                                 \
         "bursts are counted per terminal in windows this long"},                                  \
        {"ONECARD_RATING_BURST_THRESHOLD",                                                         \
         CONFIG_INT,                                                                               \
         &(c)->burst_threshold,                                                                    \
         "10",                                                                                     \
         1,                                                                                        \
         100000,                                                                                   \
         "this many such ratings in one window is a flagged burst"},                               \
        {"ONECARD_RATING_PRIOR_WEIGHT",                                                            \
         CONFIG_INT,                                                                               \
         &(c)->prior_weight,                                                                       \
         "50",                                                                                     \
         0,                                                                                        \
         1000000,                                                                                  \
         "weight of the category prior in the Bayesian score, in ratings"},                        \
        {"ONECARD_RATING_PUBLISH_DELTA_MILLI",                                                     \
         CONFIG_INT,                                                                               \
         &(c)->publish_delta_milli,                                                                \
         "50",                                                                                     \
         1,                                                                                        \
         5000,                                                                                     \
         "a score that moved this much (milli-stars) is published again"},                         \
        CALENDAR_CONFIG_ROW(&(c)->tz_offset_min)

/* Subscribes and starts reading. 0, or -1 with err (start-up). */
int consumer_setup(struct event_base *base, deps *d, const rating_config *cfg, char *err,
                   size_t errlen) __attribute__((warn_unused_result));

/* Stops reading; the loop ends after the batch in hand. */
void consumer_drain(void);

/* True while the consumer holds an assignment (for /readyz). */
bool consumer_assigned(void);

void consumer_cleanup(void);

#endif
