/*
 * reply: what a terminal is told, and what a script's reply says.
 *
 * Every answer goes through reply_finish, which counts it by status
 * (onecard_gateway_http_requests_total), observes the request's latency,
 * sends it and frees the request: a request is answered exactly once, and nothing
 * may touch it afterwards. Errors are the contract's error object; 503 and
 * 429 say Retry-After, and a 503 is counted as unavailable and logged with
 * what was down.
 *
 * The swipe, reversal and rating scripts return a stored answer, the one
 * a retry with the same request_id hears again: a state letter (P pending,
 * F final) and tab-separated fields. reply_stored reads the head every
 * such answer shares.
 *
 * Loop thread only.
 */
#ifndef GATEWAY_REPLY_H
#define GATEWAY_REPLY_H

#include "request.h"

#include "common/redis.h"

#include <stdbool.h>
#include <stddef.h>

/* Registers the answers' metrics. */
void reply_setup(void);

/* Answers r with status, extra header lines (or NULL) and body, and frees r. */
void reply_finish(request *r, int status, const char *extra, const char *body);
/* Answers r with the error object {"error":{"code","message"}}; _with adds
 * header lines (extra, or NULL: Retry-After for 503 and 429). */
void reply_error(request *r, int status, const char *code, const char *message);
void reply_error_with(request *r, int status, const char *code, const char *extra,
                      const char *message);
/* 503: a dependency (what) is down or an answer unreadable; logged. */
void reply_unavailable(request *r, const char *what);
/* 409: the request is refused for reason (swipe_unknown, too_old, ...:
 * reasons.h), with the reason, its message and its display text. */
void reply_refusal(request *r, const char *reason);

/* Did the script run (its reply an array or an integer)? */
bool reply_script_ran(const redisReply *reply);

/* The common head of a script's stored answer: a Redis failure is 503, a
 * reused request_id with another body is 409. Otherwise copies the stored
 * answer into stored, splits it into f (at least minf fields, else 503),
 * sets *replay, and returns the number of fields; -1 when r was answered. */
int reply_stored(request *r, redisReply *reply, const char *script, char *stored, size_t cap,
                 char **f, int maxf, int minf, bool *replay);

#endif
