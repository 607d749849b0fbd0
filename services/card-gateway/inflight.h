/*
 * inflight: what this gateway has changed in Redis and not yet seen
 * acknowledged by the broker, so that another gateway can finish it if
 * this one dies (pending.c).
 *
 * Each gateway process has an id of its own (random at start) and a sorted
 * set gw:{gw}:inflight:<id> (keys.h). Before a swipe, reversal or rating
 * script runs, its member "<kind>|<swipe key>|<event id>" is added; it is
 * removed once the answer is final (acknowledged, undone, or nothing
 * pending came of the script). The ZADD goes out on the same connection
 * just before the script, so Redis applies it first: a record can never be
 * pending without its member. Members are per request (the event id), so
 * a retry of a request in flight never removes the original's.
 *
 * Loop thread only.
 */
#ifndef GATEWAY_INFLIGHT_H
#define GATEWAY_INFLIGHT_H

#include "common/redis.h"

/* Makes this process's gateway id. */
void inflight_setup(redis_client *redis);
const char *inflight_id(void);
/* This gateway's in-flight set's key. */
const char *inflight_key(void);
void inflight_add(int kind, const char *swipe_key, const char *event_id);
void inflight_remove(int kind, const char *swipe_key, const char *event_id);

#endif
