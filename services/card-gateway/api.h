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

/* A swipe approved in Redis whose event may never have been produced (its
 * gateway stopped before the broker's report): its swipe record's fields. */
typedef struct api_pending_swipe {
    const char *swipe_key, *swipe_id, *card_no, *terminal_id, *provider_id, *person, *item_code,
        *wallet, *fund, *request_id, *approval, *event_id;
    int64_t amount, balance, at_ms;
} api_pending_swipe;

/* Produces the swipe's event (its own event id: a copy already in the log
 * is dropped by every consumer) until the broker acknowledges it, then
 * makes the answer final, approved. Copies what it needs. Loop thread. */
void api_resume_swipe(const api_pending_swipe *p);

#endif
