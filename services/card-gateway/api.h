/*
 * api: the terminal API's four endpoints (docs/terminal-api.md): swipes,
 * reversals, ratings and balance inquiries. Each request walks the same
 * steps: route, media type, authentication (directory cache, signature,
 * nonce in Redis), the terminal's request budget, the body (request.h),
 * then its endpoint (swipe.h, reversal.h, rating.h, balance.h), which runs
 * one atomic Redis script; an approval, a reversal or a rating is
 * answered only once the broker has acknowledged its event, and undone by
 * a compensating script when it cannot be (ending.h). Answers: reply.h.
 *
 * This file is the walk up to the endpoint, and the set-up of the parts.
 * Loop thread only.
 */
#ifndef GATEWAY_API_H
#define GATEWAY_API_H

#include "common/kafka.h"
#include "common/redis.h"
#include "http.h"

#include <stdint.h>

struct event_base;

typedef struct api_config {
    const char *pin_pepper;
    int64_t tz_offset_min; /* local calendar for daily/annual caps */
    int64_t terminal_rate; /* requests per second per terminal */
    int64_t terminal_burst;
    int64_t declines_per_s; /* declines published per second, at most */
} api_config;

int api_setup(struct event_base *base, redis_client *redis, kafka_producer *producer,
              const api_config *cfg);
/* The http_handler_fn of the gateway. */
void api_handle(http_conn *c, http_request *req, void *arg);
/* Requests being handled plus events being produced again (for the drain). */
int api_in_flight(void);
void api_cleanup(void);

#endif
