/*
 * reversal: POST /v1/swipes/<swipe_id>/reversal, undoing one swipe.
 *
 * Only the terminal that made the swipe, within 24 hours, once. The swipe
 * id carries only the card's tag, and a script is given its keys, never
 * builds them; so the card number is read from the swipe record first (one
 * asynchronous HGET: a round trip more than a rating), and the card's
 * wallet, holds and caps keys are built from it (common/keys.h).
 * reverse.lua then checks that the record is still of that card, credits
 * the wallet, records a positive hold, gives the caps back and marks the
 * record reversed (the reversal's part pending). Without a record the
 * script runs all the same, the swipe key standing in for the card's keys,
 * and gives the answer it always gave: swipe_unknown, stored for the
 * request_id. The answer waits for the broker's acknowledgement of the
 * SwipeReversed event; when the event is not delivered, unreverse.lua
 * takes the credit back with the same card's keys (ending.h).
 *
 * Loop thread only.
 */
#ifndef GATEWAY_REVERSAL_H
#define GATEWAY_REVERSAL_H

#include "request.h"

#include "common/kafka.h"
#include "common/redis.h"

#include <stddef.h>

void reversal_setup(redis_client *redis, kafka_producer *producer);

/* Goes on with a reversal whose swipe key is known and whose body is
 * parsed and fingerprinted; answers r. */
void reversal_start(request *r);

/* Produces r's SwipeReversed event (keyed by card number), cb with r on
 * the broker's report. 0, or -1 with err (cb not called). */
int reversal_produce(request *r, kafka_delivery_fn cb, char *err, size_t errlen);

#endif
