/*
 * decline: the SwipeDeclined events (onecard.declines.v1), fire and
 * forget.
 *
 * A declined swipe changes no money, and its answer is final in Redis
 * already; its event is analytics (the card number masked), so it is
 * produced without waiting for the broker, and at most declines_per_s a
 * second (a token bucket of that size), so that a burst of declines cannot
 * crowd the producer. What is not produced, over the limit or refused by
 * the producer, is counted in onecard_gateway_declines_unpublished_total.
 *
 * Loop thread only.
 */
#ifndef GATEWAY_DECLINE_H
#define GATEWAY_DECLINE_H

#include "request.h"

#include "common/kafka.h"

#include <stdint.h>

void decline_setup(kafka_producer *producer, int64_t declines_per_s);

/* Produces the SwipeDeclined event of r (a swipe) for reason, within the
 * rate limit. The card number is masked in the event. */
void decline_publish(request *r, const char *reason);

#endif
