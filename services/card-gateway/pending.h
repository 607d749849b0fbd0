/*
 * pending: finishing the swipes, reversals and ratings a gateway changed in
 * Redis and then could not see through (resume.h says why we produce and
 * never undo).
 *
 * Two ways in:
 * - Heartbeats (fast path). Every gateway runs heartbeat.lua every third of
 *   ONECARD_GATEWAY_DEAD_MS: its own heartbeat in gw:{gw}:alive, on Redis's
 *   clock, and a lease on every gateway silent for longer than the dead
 *   time. For a gateway leased to it, it reads that gateway's in-flight set
 *   (inflight.h), never the records of anyone else, claims each part still
 *   pending and owned by the dead one (claim.lua: one owner at a time; the
 *   dead owner, should it come back, may no longer undo it), adds it to its
 *   own set, and produces its event again. Then it forgets the dead gateway.
 *   A request left by a killed gateway is final about the dead time plus a
 *   beat after the kill when another gateway is running, or as long after
 *   the first gateway starts again.
 * - The backstop sweep: 5 s after start and every ONECARD_PENDING_SWEEP_S,
 *   a SCAN of every swipe record (in pages, never blocking Redis) takes
 *   parts pending for longer than ONECARD_PENDING_AGE_S whose owner is
 *   neither this gateway nor alive (records whose member was lost, records
 *   written before owners were recorded).
 *
 * Every part finished this way is counted (by kind), logged with its age,
 * and counted again as overdue when its final answer came later than
 * ONECARD_PENDING_BOUND_MS after the request (the alert's signal).
 *
 * Loop thread only.
 */
#ifndef GATEWAY_PENDING_H
#define GATEWAY_PENDING_H

#include "common/redis.h"

#include <stdint.h>

struct event_base;

typedef struct pending_config {
    int64_t dead_ms;  /* a gateway silent this long is dead */
    int first_s;      /* the first backstop sweep, after start */
    int every_s;      /* then every every_s (0: only once) */
    int64_t age_ms;   /* the backstop takes a part pending this long */
    int64_t bound_ms; /* a final answer later than this is overdue */
} pending_config;

int pending_setup(struct event_base *base, redis_client *redis, const pending_config *cfg);
void pending_cleanup(void);

#endif
