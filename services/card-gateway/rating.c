/*
 * rating: one rating of a swipe. See rating.h; the rules are rate.lua's.
 */
#include "rating.h"

#include "ending.h"
#include "inflight.h"
#include "reply.h"
#include "scripts.h"

#include "rating.pb-c.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static redis_client *rating_redis;
static kafka_producer *rating_producer;

void rating_setup(redis_client *redis, kafka_producer *producer)
{
    rating_redis = redis;
    rating_producer = producer;
}

/* The rating's event was not delivered: forget it. */
static void rating_undo(request *r, const char *errstr)
{
    const char *keys[ONSWIPE_NKEYS] = {
        [ONSWIPE_K_SWIPE] = r->swipe_key, [ONSWIPE_K_IDEM] = r->idem_key};
    const char *args[UNDO_NARGS] = {
        [UNDO_A_EVENT_ID] = r->event_id, [UNDO_A_GATEWAY_ID] = inflight_id()};
    ending_undo(r, &scripts_unrate, keys, args, UNDO_NARGS);
}

static void rating_on_acked(void *opaque, int err, const char *errstr, int32_t partition,
                            int64_t offset)
{
    request *r = opaque;
    if (!ending_reported(r, err, errstr, "rating", rating_undo))
        return;
    char body[160];
    snprintf(body, sizeof(body), "{\"rating_id\":\"%s\",\"status\":\"accepted\"}", r->event_id);
    reply_finish(r, 202, NULL, body);
}

int rating_produce(request *r, kafka_delivery_fn cb, char *err, size_t errlen)
{
    char *tags[JSON_ARRAY_MAX];
    for (int i = 0; i < r->ntags; i++)
        tags[i] = r->tags[i];
    Onecard__V1__RatingSubmitted ev = ONECARD__V1__RATING_SUBMITTED__INIT;
    ev.event_id = r->event_id;
    ev.rating_id = r->event_id;
    ev.request_id = r->request_id;
    ev.swipe_id = r->swipe_id;
    ev.terminal_id = r->auth.terminal_id;
    ev.provider_id = r->rated_provider;
    ev.card_no = r->card_for_event;
    ev.score = (int32_t)r->score;
    ev.n_tags = (size_t)r->ntags;
    ev.tags = tags;
    ev.occurred_at_ms = r->now_ms;
    return kafka_produce(rating_producer, &ev.base, NULL, r->rated_provider,
                         strlen(r->rated_provider), cb, r, err, errlen);
}

static void rating_on_script(redisReply *reply, const char *errstr, void *arg)
{
    request *r = arg;
    char stored[256];
    char *f[4];
    bool replay;
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements < 5)
        ending_untrack(r, reply_script_ran(reply)); /* not a new rating: nothing is pending */
    int nf = reply_stored(r, reply, "rate", stored, sizeof(stored), f, 4, 2, &replay);
    if (nf < 0)
        return;
    if (nf >= 3 && strcmp(f[1], "conflict") == 0) {
        reply_refusal(r, f[2]);
        return;
    }
    if (replay) {
        if (f[0][0] == 'P') {
            reply_error(r, 503, "unavailable", "this rating is still waiting for the broker");
            return;
        }
        /* the first answer again (a rating stored before the id was kept
         * has none) */
        char body[160];
        if (nf >= 3 && f[2][0])
            snprintf(body, sizeof(body), "{\"rating_id\":\"%s\",\"status\":\"accepted\"}", f[2]);
        else
            snprintf(body, sizeof(body), "{\"status\":\"accepted\"}");
        reply_finish(r, 202, NULL, body);
        return;
    }
    if (reply->elements < 5) {
        reply_unavailable(r, "unreadable answer");
        return;
    }
    char err[256];
    snprintf(r->card_for_event, sizeof(r->card_for_event), "%s", reply->element[2]->str);
    snprintf(r->rated_provider, sizeof(r->rated_provider), "%s", reply->element[3]->str);
    if (rating_produce(r, rating_on_acked, err, sizeof(err)) < 0)
        rating_on_acked(r, -1, err, -1, -1);
}

void rating_start(request *r)
{
    keys_rating_idem(r->idem_key, sizeof(r->idem_key), r->swipe_id, r->auth.terminal_id,
                     r->request_id);
    char now[24], score[8];
    snprintf(now, sizeof(now), "%" PRId64, r->now_ms);
    snprintf(score, sizeof(score), "%" PRId64, r->score);
    const char *keys[ONSWIPE_NKEYS] = {
        [ONSWIPE_K_SWIPE] = r->swipe_key, [ONSWIPE_K_IDEM] = r->idem_key};
    const char *args[RATE_NARGS - 1 + JSON_ARRAY_MAX] = {[RATE_A_FINGERPRINT] = r->fp,
                                                         [RATE_A_TERMINAL] = r->auth.terminal_id,
                                                         [RATE_A_NOW] = now,
                                                         [RATE_A_EVENT_ID] = r->event_id,
                                                         [RATE_A_GATEWAY_ID] = inflight_id(),
                                                         [RATE_A_REQUEST_ID] = r->request_id,
                                                         [RATE_A_SCORE] = score};
    int nargs = RATE_A_TAGS; /* then one argument a tag */
    for (int i = 0; i < r->ntags; i++)
        args[nargs++] = r->tags[i];
    ending_track(r);
    if (scripts_call(rating_redis, &scripts_rate, keys, args, nargs, rating_on_script, r) < 0)
        reply_unavailable(r, "redis unavailable");
}
