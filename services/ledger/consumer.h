/*
 * consumer: the ledger's loop: read swipes and top-ups, apply them in
 * batches, relay the effects.
 *
 * The Kafka consumer's queue wakes the event loop through a pipe; each
 * wake-up takes what is there (up to the batch size, several batches in a
 * row while there is a backlog), turns every record into an entry or a
 * rejection, and applies them with the offsets in one transaction (store).
 * Only after the commit are postings published and Redis updated (relay).
 * When PostgreSQL fails, the batch is kept and retried every second, and
 * nothing more is read until it commits: the ledger waits, then catches up.
 * Offsets come from PostgreSQL on every assignment, never from Kafka.
 * Loop thread only.
 */
#ifndef LEDGER_CONSUMER_H
#define LEDGER_CONSUMER_H

#include "common/deps.h"

#include <stdbool.h>

struct event_base;

typedef struct consumer_config {
    const char *brokers;
    const char *group;
    const char *instance; /* group.instance.id, "" for a dynamic member */
    int batch_max;        /* events per transaction */
    int64_t inflight_max; /* entries whose effects may be unacknowledged at once */
} consumer_config;

/* Subscribes and starts reading. 0, or -1 with err (start-up). */
int consumer_setup(struct event_base *base, deps *d, const consumer_config *cfg, char *err,
                   size_t errlen) __attribute__((warn_unused_result));

/* Stops reading; calls done once every effect in flight is acknowledged
 * (or the daemon's drain time ends first). */
void consumer_drain(void (*done)(void));

/* True while the consumer holds an assignment (for /readyz). */
bool consumer_assigned(void);

void consumer_cleanup(void);

#endif
