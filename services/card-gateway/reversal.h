/*
 * reversal: POST /v1/swipes/<swipe_id>/reversal, undoing one swipe.
 *
 * Only the terminal that made the swipe, within 24 hours, once:
 * reverse.lua checks the swipe record, credits the wallet, records a
 * positive hold, gives the caps back and marks the record reversed (the
 * reversal's part pending). The answer waits for the broker's
 * acknowledgement of the SwipeReversed event; when the event is not
 * delivered, unreverse.lua takes the credit back (ending.h).
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
