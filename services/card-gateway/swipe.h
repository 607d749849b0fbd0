/*
 * swipe: POST /v1/swipes, authorizing one payment with a card.
 *
 * After the walk (api.h) has authenticated the terminal and parsed the
 * body: the provider's state and the item's catalogue line from the
 * directory cache (dcache.h), then swipe.lua decides and, on approval,
 * debits the wallet, records a hold and the caps, and writes the swipe
 * record, all in the card's slot. A decline is answered at once (and its
 * event produced within a rate limit, decline.h); an approval only once
 * the broker has acknowledged its SwipeAuthorized event, and given back
 * by release.lua when it cannot be (ending.h).
 *
 * Counts onecard_gateway_swipes_total by item and decision and
 * onecard_gateway_declines_total by reason. Loop thread only.
 */
#ifndef GATEWAY_SWIPE_H
#define GATEWAY_SWIPE_H

#include "request.h"

#include "common/kafka.h"
#include "common/redis.h"

#include <stddef.h>
#include <stdint.h>

void swipe_setup(redis_client *redis, kafka_producer *producer, const char *pin_pepper,
                 int64_t tz_offset_min);

/* Goes on with a swipe whose body is parsed and fingerprinted; answers r. */
void swipe_start(request *r);

/* Produces r's SwipeAuthorized event (keyed by card number), cb with r on
 * the broker's report. 0, or -1 with err (cb not called). */
int swipe_produce(request *r, kafka_delivery_fn cb, char *err, size_t errlen);

#endif
