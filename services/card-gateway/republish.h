/*
 * republish: producing an event again until the broker acknowledges it.
 *
 * An event whose delivery report says "possibly persisted" may be in the
 * log or not. Undoing its effect in Redis could give money back that the
 * ledger then takes again, and keeping the effect without an event would
 * leave a hold that nothing ever posts. So the gateway answers 503 and
 * produces the very same event again (same event_id: the ledger and every
 * consumer drop a duplicate) until the broker acknowledges it, then marks
 * the answer final; the terminal's retry with the same request_id finds
 * that answer. A copy of the request outlives the connection;
 * republish_count counts the copies, for the drain.
 *
 * The same loop finishes a request another gateway left in flight
 * (pending.c): its event is produced with the event id its record holds.
 *
 * Loop thread only.
 */
#ifndef GATEWAY_REPUBLISH_H
#define GATEWAY_REPUBLISH_H

#include "request.h"
#include "resume.h"

/* Registers onecard_gateway_republished_total. */
void republish_setup(void);

/* Produces r's event again (errstr: why, for the log) on a copy of r; r
 * itself stays the caller's, to be answered. On failure r's member is
 * left for pending.c. */
void republish_start(const request *r, const char *errstr);

/* Produces the event of a request another gateway left in flight (its own
 * event id: a copy already in the log is dropped by every consumer) until
 * the broker acknowledges it, then makes its stored answer final and its
 * part of the record done, and calls done. Copies what it needs. The
 * request's member must already be in our in-flight set. */
void republish_resume(const resume_request *q, const char *swipe_key, request_final_fn done,
                      void *arg);

/* Copies being produced again. */
int republish_count(void);

#endif
