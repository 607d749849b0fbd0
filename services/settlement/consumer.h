/*
 * consumer: the settlement daemon's loop: read onecard.postings.v1 (and
 * onecard.registry.v1, for its projection of card holders: holders.h) and
 * apply them in batches, one PostgreSQL transaction each (store).
 *
 * The Kafka consumer's queue wakes the event loop through a pipe; each
 * wake-up takes what is there (several batches in a row while there is a
 * backlog). A posting that decodes but cannot be settled is recorded in
 * settlement_rejections and dead-lettered; the consumer goes on. When
 * PostgreSQL fails the batch is kept and retried every second, nothing more
 * is read until it commits. Offsets come from PostgreSQL on every
 * assignment, never from Kafka. Loop thread only.
 */
#ifndef SETTLEMENT_CONSUMER_H
#define SETTLEMENT_CONSUMER_H

#include "common/deps.h"

#include <stdbool.h>

struct event_base;

typedef struct consumer_config {
    const char *brokers;
    const char *group;
    const char *instance; /* group.instance.id, "" for a dynamic member */
    int batch_max;        /* postings per transaction */
    int tz_offset_min;
} consumer_config;

/* Subscribes and starts reading. 0, or -1 with err (start-up). */
int consumer_setup(struct event_base *base, deps *d, const consumer_config *cfg, char *err,
                   size_t errlen) __attribute__((warn_unused_result));

/* Stops reading (the batch in hand is committed or dropped unapplied). */
void consumer_drain(void);

/* True while the consumer holds an assignment (for /readyz). */
bool consumer_assigned(void);

void consumer_cleanup(void);

#endif
