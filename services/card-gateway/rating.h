/*
 * rating: POST /v1/ratings, a cardholder's score of the service a swipe
 * paid for.
 *
 * Only for an approved, unreversed swipe made on that terminal, within 7
 * days, once: rate.lua checks the swipe record and records the rating in
 * it (the rating's part pending). Accepted (202) once the broker has
 * acknowledged the RatingSubmitted event, keyed by the rated provider;
 * forgotten by unrate.lua when the event is not delivered (ending.h).
 * Whether a rating counts is the rating service's decision, not ours.
 *
 * Loop thread only.
 */
#ifndef GATEWAY_RATING_H
#define GATEWAY_RATING_H

#include "request.h"

#include "common/kafka.h"
#include "common/redis.h"

#include <stddef.h>

void rating_setup(redis_client *redis, kafka_producer *producer);

/* Goes on with a rating whose swipe key is known and whose body is parsed
 * and fingerprinted; answers r. */
void rating_start(request *r);

/* Produces r's RatingSubmitted event (keyed by the rated provider), cb
 * with r on the broker's report. 0, or -1 with err (cb not called). */
int rating_produce(request *r, kafka_delivery_fn cb, char *err, size_t errlen);

#endif
