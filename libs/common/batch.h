/*
 * batch: the exactly-once batch consumer every Kafka -> PostgreSQL service
 * runs (the ledger, settlement, rating), in one place.
 *
 * The walk, on the service's libevent loop:
 * - assignment: the next offset of every partition assigned is read from
 *   PostgreSQL (consumer_offsets, written in the same transaction as the
 *   effects of the batch that passed it), never from Kafka; while
 *   PostgreSQL is down the assignment waits;
 * - wake: librdkafka writes to a pipe when its queue gets messages, and a
 *   100 ms tick covers the rest;
 * - pump: up to 8 batches of at most batch_max records a wake (then the
 *   loop serves everything else before coming back), each handed to the
 *   service's apply, which decides every record (applied, rejected with
 *   its reason, dead-lettered), stores the batch's next offsets in the
 *   same transaction and commits;
 * - retry: a batch whose transaction failed is kept in hand and applied
 *   again, whole, 1 s later (once PostgreSQL answers), with retry set: the
 *   COMMIT may have happened before the connection dropped, so apply first
 *   looks at what is already committed;
 * - drain: stop reading; a batch not applied is read again after the
 *   restart (its offsets were never stored).
 * A service keeps only its apply (its rules and its tables) and, if it
 * needs them, the optional hooks.
 *
 * Loop thread only.
 */
#ifndef ONECARD_BATCH_H
#define ONECARD_BATCH_H

#include "common/deps.h"
#include "common/kafka.h"

#include <stdbool.h>

struct event_base;

typedef struct batch_hooks {
    /* Required. Applies recs[0..n) in one PostgreSQL transaction that also
     * stores their next offsets, dead-letters what must be, and commits.
     * retry: the same records again after a failure (look at what the
     * attempt before may have committed). 0, or -1 with err (rolled back:
     * the batch is kept and retried). */
    int (*apply)(void *arg, kafka_record *recs, int n, bool retry, char *err, size_t errlen);
    /* Optional: where the next offsets come from. Default: PostgreSQL's
     * consumer_offsets for the group (pg_offsets_load). A service without
     * d->pg (a test) must give its own, and is never told to wait for
     * PostgreSQL. */
    kafka_offsets_fn offsets;
    /* Optional: after the offsets of an assignment are loaded. */
    void (*assigned)(void *arg, const rd_kafka_topic_partition_list_t *parts);
    /* Optional: may a batch be read now? (false: wait for the next wake). */
    bool (*may_read)(void *arg);
    /* Optional: every tick (100 ms), after the pump; idle is false while a
     * batch waits to be retried or the consumer drains. */
    void (*tick)(void *arg, bool idle);
} batch_hooks;

typedef struct batch_config {
    const char *brokers, *group;
    const char *instance;      /* group.instance.id; "" for a dynamic member */
    const char *const *topics; /* NULL-terminated */
    int batch_max;             /* records per transaction, at most */
    /* the `consumer` label of onecard_consumer_lag_messages (per topic and
     * partition), _batch_failures_total, _batches_total, _batch_events and
     * _batch_apply_seconds; the service's name */
    const char *metric_prefix;
    const char *const *extra; /* more librdkafka settings, pairs, NULL-terminated; or NULL */
} batch_config;

typedef struct batch_consumer batch_consumer;

/* Subscribes and starts reading. NULL with err (start-up). */
batch_consumer *batch_new(struct event_base *base, deps *d, const batch_config *cfg,
                          const batch_hooks *hooks, void *arg, char *err, size_t errlen);
/* True while it holds an assignment (for /readyz). */
bool batch_assigned(const batch_consumer *b);
/* Stops reading; the batch in hand, if any, is left for the restart. */
void batch_drain(batch_consumer *b);
/* For apply, inside its transaction: stores the next offset of every
 * (topic, partition) of recs[0..n) (the last record's + 1) for the group,
 * on the consumer's PostgreSQL connection (d->pg). 0, or -1 with err. */
int batch_offsets_store(batch_consumer *b, const kafka_record *recs, int n, char *err,
                        size_t errlen) __attribute__((warn_unused_result));
/* For apply on a retry (the already-committed check): committed[i] true
 * where recs[i] lies below the group's stored next offset of its (topic,
 * partition), i.e. an earlier attempt whose commit reply was lost did
 * commit it. 0, or -1 with err. */
int batch_committed(batch_consumer *b, const kafka_record *recs, int n, bool *committed, char *err,
                    size_t errlen) __attribute__((warn_unused_result));
/* Records in hand not yet applied (0 when none). */
int batch_in_hand(const batch_consumer *b);
bool batch_retrying(const batch_consumer *b);
kafka_consumer *batch_kafka(batch_consumer *b);
void batch_free(batch_consumer *b);

#endif
