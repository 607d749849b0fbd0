/*
 * ending: how a swipe, a reversal or a rating ends in Redis.
 *
 * Each changes Redis first (one script) and is answered only once the
 * broker has acknowledged its event. So that a gateway that dies in
 * between leaves a trace, its in-flight member (inflight.h) is added just
 * before its script (ending_track). Then one of three endings:
 * - the event is acknowledged: finalize.lua makes the stored answer final
 *   and the record's part done (ending_finalize);
 * - the report says "possibly persisted": the event is produced again
 *   until it is acknowledged (republish.h), the terminal told 503;
 * - the event is not in the log: a compensating script (release.lua,
 *   unreverse.lua, unrate.lua) gives back what the first one changed
 *   (ending_undo), the terminal told 503.
 * The member leaves Redis only from the reply of the script that ended the
 * request; when that reply says nothing (Redis down), the member stays and
 * pending.c finishes the request by producing its event (resume.h).
 *
 * Loop thread only.
 */
#ifndef GATEWAY_ENDING_H
#define GATEWAY_ENDING_H

#include "request.h"
#include "scripts.h"

#include "common/redis.h"

#include <stdbool.h>

void ending_setup(redis_client *redis);

/* Adds r's member, just before its script. */
void ending_track(const request *r);
/* r is over for this process; done_in_redis: a reply said nothing of it
 * is pending in Redis any more (else its member stays, for pending.c). */
void ending_untrack(const request *r, bool done_in_redis);

/* The broker acknowledged r's event: its stored answer becomes final, its
 * part of the swipe record done, and, once the script has run, its member
 * leaves our in-flight set. r stays the caller's. */
void ending_finalize(const request *r);

/* Runs a compensating script for r (its event was not delivered). If it
 * cannot run, r stays pending in Redis with its member: pending.c produces
 * its event later (never wrong: see resume.h). r stays the caller's. */
void ending_undo(const request *r, const scripts_def *s, const char *const *keys,
                 const char *const *args, int nargs);

/* Runs r's compensating script (with ending_undo) when its event was not
 * delivered (errstr: the broker's reason); r stays the caller's. */
typedef void (*ending_undo_fn)(request *r, const char *errstr);

/* What the broker's report on r's event (err, errstr) means for r, whose
 * kind is named what ("swipe", "reversal", "rating") in the answer:
 * - acknowledged: r is finalized; true, and the caller answers;
 * - "possibly persisted": r's event is produced again (republish.h) and r
 *   answered 503; false;
 * - any other error: undo runs and r is answered 503; false. */
bool ending_reported(request *r, int err, const char *errstr, const char *what,
                     ending_undo_fn undo);

#endif
