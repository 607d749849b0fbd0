/*
 * inflight: what this gateway has changed in Redis and not yet seen
 * through, so that a gateway can finish it if it is left behind
 * (pending.c).
 *
 * Each gateway process has an id of its own (random at start) and a sorted
 * set gw:{gw}:inflight:<id> (keys.h). Before a swipe, reversal or rating
 * script runs, its member "<kind>|<swipe key>|<event id>" is added (ZADD,
 * on the same connection just before the script, so Redis applies it
 * first: a record can never be pending without its member). Members are
 * per request (the event id), so a retry of a request in flight never
 * removes the original's.
 *
 * The member leaves the set (ZREM) only from the reply of the script that
 * ended the request (finalize or undo), so it is never gone while the
 * request may still be pending in Redis. A request this process stopped
 * handling without that reply (Redis down, a lost reply) leaves the local
 * table but keeps its member: pending.c finds such members of our own set
 * (not in the local table, older than a few seconds) and finishes them.
 *
 * Loop thread only.
 */
#ifndef GATEWAY_INFLIGHT_H
#define GATEWAY_INFLIGHT_H

#include "common/redis.h"

#include <stdbool.h>

/* Makes this process's gateway id. */
void inflight_setup(redis_client *redis);
const char *inflight_id(void);
/* This gateway's in-flight set's key. */
const char *inflight_key(void);
/* ZADD the member, and note it in the local table. */
void inflight_add(int kind, const char *swipe_key, const char *event_id);
/* The request is over for this process: out of the local table; the
 * member leaves Redis too when done_in_redis (its ending script's reply
 * said so). */
void inflight_remove(int kind, const char *swipe_key, const char *event_id, bool done_in_redis);
/* Is this member a request this process is still handling? */
bool inflight_local(const char *member);
void inflight_cleanup(void);

#endif
