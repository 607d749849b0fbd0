/*
 * categories: the provider categories the scores need, read from the
 * directory in Redis (prov:{p:P} category) over one blocking connection.
 *
 * A provider's score is pulled towards the mean of its category (score.h),
 * and the category is the directory's fact, not the rating service's. It is
 * read once per provider, the first time one of its ratings is accepted,
 * and recorded in rating_providers by the caller (tally.c); so the
 * connection is used rarely and stays blocking, with a short timeout,
 * rather than a second asynchronous client on the loop.
 *
 * When Redis cannot answer, nothing is read: the providers are tried again
 * with a later batch (a failed connect waits 5 s before the next try), and
 * their scores meanwhile use the prior of the "" category. A connection
 * that Redis closed (a restart) shows only when it is used, so a broken
 * pipeline is retried once at once on a fresh connection.
 * Loop thread only.
 */
#ifndef RATING_CATEGORIES_H
#define RATING_CATEGORIES_H

#include "common/pg.h"

#include <hiredis/hiredis.h>
#include <stdint.h>

typedef struct categories {
    const char *host; /* NULL: no directory, every category waits */
    int port;
    redisContext *redis; /* NULL until connected, and after a failure */
    int64_t retry_ms;    /* no new connection before this time */
} categories;

/* host is borrowed and must outlive d. Connects lazily. */
void categories_init(categories *d, const char *host, int port);

/* Reads the category of each provider id in column 0 of providers (one
 * pipelined HGET per row). Returns -1 when Redis could not be reached: ids
 * and cats are then left as they were. Otherwise 0, ids and cats having
 * been reset and then given one row per provider answered (its category,
 * or "" for a provider the directory does not know); when the retry on a
 * fresh connection breaks too, they hold the rows answered before it broke.
 * Failures are logged (directory_unavailable), never returned as errors. */
int categories_read(categories *d, PGresult *providers, pg_array *ids, pg_array *cats);

void categories_cleanup(categories *d);

#endif
