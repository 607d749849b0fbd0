/*
 * ending: the last script of a request, and its in-flight member. See
 * ending.h.
 */
#include "ending.h"

#include "inflight.h"
#include "reply.h"
#include "republish.h"

#include "common/kafka.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>

static redis_client *ending_redis;

void ending_setup(redis_client *redis)
{
    ending_redis = redis;
}

void ending_track(const request *r)
{
    inflight_add(request_part(r), r->swipe_key, r->event_id);
}

void ending_untrack(const request *r, bool done_in_redis)
{
    inflight_remove(request_part(r), r->swipe_key, r->event_id, done_in_redis);
}

/* What the reply of a request's last script needs to let its member go
 * (the request itself may be answered and freed by then). */
typedef struct ending {
    int kind;
    char swipe_key[KEYS_MAX], event_id[EVENT_ID_LEN + 1];
} ending;

static ending *ending_new(const request *r)
{
    ending *e = malloc(sizeof(*e));
    if (e == NULL)
        return NULL;
    e->kind = request_part(r);
    snprintf(e->swipe_key, sizeof(e->swipe_key), "%s", r->swipe_key);
    snprintf(e->event_id, sizeof(e->event_id), "%s", r->event_id);
    return e;
}

/* ============================================================ finalize */

static void ending_on_finalized(redisReply *reply, const char *errstr, void *arg)
{
    ending *e = arg;
    bool ran = reply_script_ran(reply);
    if (!ran)
        log_warn("finalize_failed", "answer left pending, looked at again: %s",
                 reply && reply->type == REDIS_REPLY_ERROR ? reply->str : (errstr ? errstr : "?"));
    inflight_remove(e->kind, e->swipe_key, e->event_id, ran);
    free(e);
}

void ending_finalize(const request *r)
{
    const char *keys[FINALIZE_NKEYS] = {
        [FINALIZE_K_IDEM] = r->idem_key, [FINALIZE_K_SWIPE] = r->swipe_key};
    const char *args[FINALIZE_NARGS] = {[FINALIZE_A_PART] = resume_kind_name(request_part(r))};
    ending *e = ending_new(r);
    if (e == NULL || scripts_call(ending_redis, &scripts_finalize, keys, args, FINALIZE_NARGS,
                                  ending_on_finalized, e) < 0) {
        free(e);
        log_warn("finalize_failed", "redis unavailable: answer left pending, looked at again");
        ending_untrack(r, false);
    }
}

/* ================================================================ undo */

/* The compensating scripts answer 0 when another gateway took the request
 * over (pending.c): it produces the event, and the money stays. */
static void ending_on_undone(redisReply *reply, const char *errstr, void *arg)
{
    ending *e = arg;
    bool ran = reply_script_ran(reply);
    if (!ran)
        log_error("release_failed", "%s not undone (its event is produced later instead): %s",
                  e->event_id,
                  reply && reply->type == REDIS_REPLY_ERROR ? reply->str : (errstr ? errstr : "?"));
    else if (reply->type == REDIS_REPLY_INTEGER && reply->integer == 0)
        log_kv(LOG_WARN, "undo_skipped", "event_id", e->event_id, "reason",
               "another gateway took the request over and produces its event", NULL);
    inflight_remove(e->kind, e->swipe_key, e->event_id, ran);
    free(e);
}

void ending_undo(const request *r, const scripts_def *s, const char *const *keys,
                 const char *const *args, int nargs)
{
    ending *e = ending_new(r);
    if (e == NULL || scripts_call(ending_redis, s, keys, args, nargs, ending_on_undone, e) < 0) {
        free(e);
        log_error("release_failed", "redis unavailable: %s kept, its event produced later",
                  r->event_id);
        ending_untrack(r, false);
    }
}

/* ========================================================== the report */

bool ending_reported(request *r, int err, const char *errstr, const char *what, ending_undo_fn undo)
{
    char why[96];
    if (err == KAFKA_ERR_POSSIBLY_PERSISTED) {
        republish_start(r, errstr);
        snprintf(why, sizeof(why), "the %s is not confirmed yet; retry with the same request_id",
                 what);
        reply_unavailable(r, why);
        return false;
    }
    if (err) {
        undo(r, errstr);
        snprintf(why, sizeof(why), "the %s could not be recorded; retry with the same request_id",
                 what);
        reply_unavailable(r, why);
        return false;
    }
    ending_finalize(r);
    return true;
}
