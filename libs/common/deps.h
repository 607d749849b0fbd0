/*
 * deps: a service's connections to Kafka, Redis and PostgreSQL, opened the
 * same way everywhere and watched for /readyz.
 *
 * Start-up connects what the service asks for (Kafka and PostgreSQL with
 * retry, Redis in the background with reconnect). A timer probes
 * PostgreSQL every 2 s so that /readyz tells the truth after an outage.
 * Loop thread only.
 */
#ifndef ONECARD_DEPS_H
#define ONECARD_DEPS_H

#include "common/daemon.h"
#include "common/kafka.h"
#include "common/pg.h"
#include "common/redis.h"

enum { DEPS_KAFKA = 1, DEPS_REDIS = 2, DEPS_PG = 4 };

typedef struct deps {
    unsigned want;
    kafka_producer *producer; /* DEPS_KAFKA */
    redis_client *redis;      /* DEPS_REDIS */
    PGconn *pg;               /* DEPS_PG */
    bool pg_ok;
    struct event *probe_ev;
} deps;

/* Connects what want names. Returns 0, or -1 with err (start-up: the caller
 * dies). delivery_timeout_ms is the producer's acknowledgement bound. */
int deps_setup(deps *d, struct event_base *base, const daemon_config *cfg, unsigned want,
               int delivery_timeout_ms, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* admin_ready_fn over a deps *: every wanted dependency is up. */
bool deps_ready(void *arg, char *why, size_t whylen);

void deps_cleanup(deps *d, int flush_timeout_ms);

#endif
