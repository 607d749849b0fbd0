/*
 * api: the terminal API's four endpoints (TERMINAL-API.md): swipes,
 * reversals, ratings and balance inquiries. Each request walks the same
 * steps: route, media type, authentication (directory cache, signature,
 * nonce in Redis), the terminal's request budget, the body, then one
 * atomic Redis script; an approval, a reversal or a rating is answered only
 * once the broker has acknowledged its event, and undone by a compensating
 * script when it cannot be.
 *
 * Loop thread only.
 */
#ifndef GATEWAY_API_H
#define GATEWAY_API_H

#include "common/kafka.h"
#include "common/redis.h"
#include "http.h"
#include "resume.h"

#include <stdint.h>

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

/* Called when a request another gateway left in flight is final (its
 * event acknowledged), with the time it became final. */
typedef void (*api_final_fn)(void *arg, const resume_request *q, int64_t final_ms);

/* Produces the event of a request another gateway left in flight (its own
 * event id: a copy already in the log is dropped by every consumer) until
 * the broker acknowledges it, then makes its stored answer final and its
 * part of the record done, and calls done. Copies what it needs. The
 * request's member must already be in our in-flight set. Loop thread. */
void api_resume(const resume_request *q, const char *swipe_key, api_final_fn done, void *arg);

#endif
