/*
 * pending: finishing the swipes a gateway approved and then could not see
 * through.
 *
 * A swipe is approved in Redis (swipe.lua: wallet debited, hold and swipe
 * record written, answer "pending") before its event is produced; the
 * terminal hears "approved" only after the broker's acknowledgement. A
 * gateway killed in between leaves a pending record, a hold that nothing
 * posts, and a terminal whose retries hear 503. So every gateway, shortly
 * after it starts and then every ONECARD_PENDING_SWEEP_S, walks the swipe
 * records (SCAN, in pages, never blocking Redis) and hands any record still
 * pending after ONECARD_PENDING_AGE_S to api_resume_swipe (a record pending
 * but younger makes the next sweep come after half that age), which produces
 * the event with the event id of the record: if the dead gateway's copy
 * did reach the log, consumers drop the second by its id. The terminal's
 * next retry with its request_id then hears "approved".
 *
 * Loop thread only.
 */
#ifndef GATEWAY_PENDING_H
#define GATEWAY_PENDING_H

#include "common/redis.h"

#include <stdint.h>

struct event_base;

/* first_s after start, then every every_s (0: only once). A record is
 * resumed when it is pending and older than age_ms. */
int pending_setup(struct event_base *base, redis_client *redis, int first_s, int every_s,
                  int64_t age_ms);
void pending_cleanup(void);

#endif
