/*
 * reversal: undoing a swipe. See reversal.h; the rules are reverse.lua's.
 */
#include "reversal.h"

#include "ending.h"
#include "inflight.h"
#include "reply.h"
#include "scripts.h"

#include "swipe.pb-c.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static redis_client *reversal_redis;
static kafka_producer *reversal_producer;

void reversal_setup(redis_client *redis, kafka_producer *producer)
{
    reversal_redis = redis;
    reversal_producer = producer;
}

static void reversal_answer(request *r)
{
    char body[256];
    snprintf(body, sizeof(body),
             "{\"swipe_id\":\"%s\",\"decision\":\"reversed\",\"balance_fen\":%" PRId64 "}",
             r->swipe_id, r->balance);
    reply_finish(r, 200, NULL, body);
}

/* The card's keys the reverse and undo scripts change, from r->card_no;
 * with no card (no swipe record) the swipe key stands for each: same slot,
 * never touched. */
static void reversal_card_keys(const request *r, char wkey[KEYS_MAX], char hkey[KEYS_MAX],
                               char ckey[KEYS_MAX])
{
    if (r->card_no[0] == '\0') {
        snprintf(wkey, KEYS_MAX, "%s", r->swipe_key);
        snprintf(hkey, KEYS_MAX, "%s", r->swipe_key);
        snprintf(ckey, KEYS_MAX, "%s", r->swipe_key);
        return;
    }
    keys_wallet(wkey, KEYS_MAX, r->card_no);
    keys_holds(hkey, KEYS_MAX, r->card_no);
    keys_caps(ckey, KEYS_MAX, r->card_no);
}

/* The reversal's event was not delivered: take the credit back. */
static void reversal_undo(request *r, const char *errstr)
{
    char wkey[KEYS_MAX], hkey[KEYS_MAX], ckey[KEYS_MAX];
    reversal_card_keys(r, wkey, hkey, ckey);
    const char *keys[UNREVERSE_NKEYS] = {[UNREVERSE_K_SWIPE] = r->swipe_key,
                                         [UNREVERSE_K_IDEM] = r->idem_key,
                                         [UNREVERSE_K_WALLET] = wkey,
                                         [UNREVERSE_K_HOLDS] = hkey,
                                         [UNREVERSE_K_CAPS] = ckey};
    const char *args[UNREVERSE_NARGS] = {[UNREVERSE_A_EVENT_ID] = r->event_id,
                                         [UNREVERSE_A_GATEWAY_ID] = inflight_id(),
                                         [UNREVERSE_A_CARD_NO] = r->card_no};
    ending_undo(r, &scripts_unreverse, keys, args, UNREVERSE_NARGS);
}

static void reversal_on_acked(void *opaque, int err, const char *errstr, int32_t partition,
                              int64_t offset)
{
    request *r = opaque;
    if (ending_reported(r, err, errstr, "reversal", reversal_undo))
        reversal_answer(r);
}

int reversal_produce(request *r, kafka_delivery_fn cb, char *err, size_t errlen)
{
    Onecard__V1__SwipeReversed ev = ONECARD__V1__SWIPE_REVERSED__INIT;
    ev.event_id = r->event_id;
    ev.swipe_id = r->swipe_id;
    ev.request_id = r->request_id;
    ev.terminal_id = r->auth.terminal_id;
    ev.provider_id = r->provider_id;
    ev.card_no = r->card_for_event;
    ev.item_code = r->item;
    ev.wallet = r->wallet;
    ev.fund_source = r->fund;
    ev.amount_fen = r->amount;
    ev.balance_after_fen = r->balance;
    ev.occurred_at_ms = r->now_ms;
    return kafka_produce(reversal_producer, &ev.base, NULL, r->card_for_event,
                         strlen(r->card_for_event), cb, r, err, errlen);
}

static void reversal_on_script(redisReply *reply, const char *errstr, void *arg)
{
    request *r = arg;
    char stored[256];
    char *f[4];
    bool replay;
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements < 8)
        ending_untrack(r, reply_script_ran(reply)); /* not a new reversal: nothing is pending */
    if (reply_stored(r, reply, "reverse", stored, sizeof(stored), f, 4, 3, &replay) < 0)
        return;
    if (strcmp(f[1], "conflict") == 0) {
        reply_refusal(r, f[2]);
        return;
    }
    if (f[0][0] == 'P' && replay) {
        reply_error(
            r, 503, "unavailable",
            "this reversal is still waiting for the broker; retry with the same request_id");
        return;
    }
    r->balance = strtoll(f[2], NULL, 10);
    if (replay || reply->elements < 8) {
        reversal_answer(r);
        return;
    }
    /* new: card wallet amount item fund provider */
    snprintf(r->card_for_event, sizeof(r->card_for_event), "%s", reply->element[2]->str);
    snprintf(r->wallet, sizeof(r->wallet), "%s", reply->element[3]->str);
    r->amount = strtoll(reply->element[4]->str, NULL, 10);
    snprintf(r->item, sizeof(r->item), "%s", reply->element[5]->str);
    snprintf(r->fund, sizeof(r->fund), "%s", reply->element[6]->str);
    char err[256];
    if (reversal_produce(r, reversal_on_acked, err, sizeof(err)) < 0)
        reversal_on_acked(r, -1, err, -1, -1);
}

/* The swipe record's card (HGET): the script's keys are built from it. */
static void reversal_on_card(redisReply *reply, const char *errstr, void *arg)
{
    request *r = arg;
    if (reply == NULL || (reply->type != REDIS_REPLY_STRING && reply->type != REDIS_REPLY_NIL)) {
        reply_unavailable(r, "redis unavailable");
        return;
    }
    if (reply->type == REDIS_REPLY_STRING && reply->len >= sizeof(r->card_no)) {
        reply_unavailable(r, "unreadable answer");
        return;
    }
    /* no record: the script answers swipe_unknown (or the stored answer of
     * this request_id) and touches no card key */
    snprintf(r->card_no, sizeof(r->card_no), "%s",
             reply->type == REDIS_REPLY_NIL ? "" : reply->str);
    char wkey[KEYS_MAX], hkey[KEYS_MAX], ckey[KEYS_MAX];
    reversal_card_keys(r, wkey, hkey, ckey);
    char now[24];
    snprintf(now, sizeof(now), "%" PRId64, r->now_ms);
    const char *keys[REVERSE_NKEYS] = {[REVERSE_K_SWIPE] = r->swipe_key,
                                       [REVERSE_K_IDEM] = r->idem_key,
                                       [REVERSE_K_WALLET] = wkey,
                                       [REVERSE_K_HOLDS] = hkey,
                                       [REVERSE_K_CAPS] = ckey};
    const char *args[REVERSE_NARGS] = {[REVERSE_A_FINGERPRINT] = r->fp,
                                       [REVERSE_A_TERMINAL] = r->auth.terminal_id,
                                       [REVERSE_A_NOW] = now,
                                       [REVERSE_A_EVENT_ID] = r->event_id,
                                       [REVERSE_A_GATEWAY_ID] = inflight_id(),
                                       [REVERSE_A_REQUEST_ID] = r->request_id,
                                       [REVERSE_A_CARD_NO] = r->card_no};
    ending_track(r);
    if (scripts_call(reversal_redis, &scripts_reverse, keys, args, REVERSE_NARGS,
                     reversal_on_script, r) < 0)
        reply_unavailable(r, "redis unavailable");
}

void reversal_start(request *r)
{
    keys_reversal_idem(r->idem_key, sizeof(r->idem_key), r->swipe_id, r->auth.terminal_id,
                       r->request_id);
    const char *argv[] = {"HGET", r->swipe_key, "card"};
    size_t argvlen[] = {4, strlen(r->swipe_key), 4};
    if (redis_command(reversal_redis, 3, argv, argvlen, reversal_on_card, r) < 0)
        reply_unavailable(r, "redis unavailable");
}
