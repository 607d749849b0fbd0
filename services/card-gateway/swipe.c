/*
 * swipe: one payment. See swipe.h; the rules are swipe.lua's.
 */
#include "swipe.h"

#include "reasons.h"

#include "dcache.h"
#include "decline.h"
#include "ending.h"
#include "inflight.h"
#include "reply.h"
#include "scripts.h"

#include "common/calendar.h"
#include "common/event.h"
#include "common/log.h"
#include "common/metrics.h"
#include "swipe.pb-c.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static redis_client *swipe_redis;
static kafka_producer *swipe_producer;
static const char *swipe_pin_pepper;
static int64_t swipe_tz_offset_min; /* local calendar for daily/annual caps */

static const char *const swipe_reasons[] = {
    "card_unknown",        "card_frozen",          "card_lost",
    "pin_invalid",         "pin_locked",           "person_ineligible",
    "item_unknown",        "item_not_allowed",     "provider_not_designated",
    "provider_suspended",  "insufficient_funds",   "daily_cap_exceeded",
    "annual_cap_exceeded", "amount_over_standard", "amount_not_priced",
    "item_paid_to_person", "provider_not_quoted",  "item_paused"};
static metric *swipe_m_reasons[sizeof(swipe_reasons) / sizeof(swipe_reasons[0])];

void swipe_setup(redis_client *redis, kafka_producer *producer, const char *pin_pepper,
                 int64_t tz_offset_min)
{
    swipe_redis = redis;
    swipe_producer = producer;
    swipe_pin_pepper = pin_pepper;
    swipe_tz_offset_min = tz_offset_min;
    for (size_t i = 0; i < sizeof(swipe_reasons) / sizeof(swipe_reasons[0]); i++) {
        char l[64];
        snprintf(l, sizeof(l), "reason=\"%s\"", swipe_reasons[i]);
        swipe_m_reasons[i] =
            metrics_counter("onecard_gateway_declines_total", "Swipes declined, by reason.", l);
    }
}

/* One swipe answered for the first time: onecard_gateway_swipes_total by
 * item, the item's catalogue category ("unknown": an item the catalogue
 * does not hold) and decision and, approved, its amount. The item's series
 * is registered when the item is first swiped (metrics.h bounds the
 * family). */
static void swipe_count(const request *r, const char *decision)
{
    char item[96], category[96], labels[320];
    const dcache_item *it = dcache_item_get(r->item_code);
    metrics_label_value(item, sizeof(item), r->item_code);
    metrics_label_value(category, sizeof(category), it ? it->category : "unknown");
    snprintf(labels, sizeof(labels), "item=\"%s\",category=\"%s\",decision=\"%s\"", item, category,
             decision);
    metrics_add(metrics_counter("onecard_gateway_swipes_total",
                                "Swipes answered, by item, its category and decision.", labels),
                1);
    if (strcmp(decision, "approved") != 0)
        return;
    snprintf(labels, sizeof(labels), "item=\"%s\"", item);
    metrics_add(metrics_counter("onecard_gateway_approved_fen_total",
                                "Amount of the approved swipes, by item, in fen.", labels),
                r->amount);
}

/* ============================================================= answering */

static void swipe_answer(request *r, char **f, int nf)
{
    /* f: decision, then for approved: swipe_id, approval, wallet, balance, fund, person;
     * for declined: reason */
    char body[512];
    if (nf >= 2 && strcmp(f[0], "declined") == 0) {
        const reasons_row *why = reasons_find(f[1]);
        snprintf(body, sizeof(body),
                 "{\"swipe_id\":null,\"decision\":\"declined\",\"reason\":\"%s\","
                 "\"display_zh\":\"%s\"}",
                 f[1], why ? why->display_zh : "");
        reply_finish(r, 200, NULL, body);
        return;
    }
    if (nf >= 5 && strcmp(f[0], "approved") == 0) {
        snprintf(body, sizeof(body),
                 "{\"swipe_id\":\"%s\",\"decision\":\"approved\",\"approval_code\":\"%s\","
                 "\"wallet\":\"%s\",\"balance_fen\":%s}",
                 f[1], f[2], f[3], f[4]);
        reply_finish(r, 200, NULL, body);
        return;
    }
    reply_unavailable(r, "stored answer unreadable");
}

/* ============================================================== the event */

/* No durable event: give everything back (release.lua). */
static void swipe_undo(request *r, const char *errstr)
{
    char wkey[KEYS_MAX], hkey[KEYS_MAX], ckey[KEYS_MAX], amount[24];
    keys_wallet(wkey, sizeof(wkey), r->card_no);
    keys_holds(hkey, sizeof(hkey), r->card_no);
    keys_caps(ckey, sizeof(ckey), r->card_no);
    snprintf(amount, sizeof(amount), "%" PRId64, r->amount);
    const char *keys[RELEASE_NKEYS] = {[RELEASE_K_IDEM] = r->idem_key,
                                       [RELEASE_K_WALLET] = wkey,
                                       [RELEASE_K_HOLDS] = hkey,
                                       [RELEASE_K_CAPS] = ckey,
                                       [RELEASE_K_SWIPE] = r->swipe_key};
    const char *args[RELEASE_NARGS] = {[RELEASE_A_EVENT_ID] = r->event_id,
                                       [RELEASE_A_WALLET] = r->wallet,
                                       [RELEASE_A_AMOUNT] = amount,
                                       [RELEASE_A_ITEM] = r->item_code,
                                       [RELEASE_A_DAY] = r->day,
                                       [RELEASE_A_YEAR] = r->year,
                                       [RELEASE_A_GATEWAY_ID] = inflight_id()};
    ending_undo(r, &scripts_release, keys, args, RELEASE_NARGS);
    log_kv(LOG_WARN, "swipe_not_durable", "request_id", r->request_id, "swipe_id", r->swipe_id,
           "reason", errstr, NULL);
}

static void swipe_on_acked(void *opaque, int err, const char *errstr, int32_t partition,
                           int64_t offset)
{
    request *r = opaque;
    char bal[24];
    snprintf(bal, sizeof(bal), "%" PRId64, r->balance);
    if (!ending_reported(r, err, errstr, "swipe", swipe_undo))
        return;
    swipe_count(r, "approved");
    char *f[] = {"approved", r->swipe_id, r->approval, r->wallet, bal};
    swipe_answer(r, f, 5);
}

int swipe_produce(request *r, kafka_delivery_fn cb, char *err, size_t errlen)
{
    Onecard__V1__SwipeAuthorized ev = ONECARD__V1__SWIPE_AUTHORIZED__INIT;
    ev.event_id = r->event_id;
    ev.swipe_id = r->swipe_id;
    ev.request_id = r->request_id;
    ev.terminal_id = r->auth.terminal_id;
    ev.provider_id = r->provider_id;
    ev.card_no = r->card_no;
    ev.person_id = r->person;
    ev.item_code = r->item_code;
    ev.wallet = r->wallet;
    ev.fund_source = r->fund;
    ev.amount_fen = r->amount;
    ev.balance_after_fen = r->balance;
    ev.approval_code = r->approval;
    ev.occurred_at_ms = r->now_ms;
    return kafka_produce(swipe_producer, &ev.base, NULL, r->card_no, strlen(r->card_no), cb, r, err,
                         errlen);
}

static void swipe_publish(request *r)
{
    char err[256];
    if (swipe_produce(r, swipe_on_acked, err, sizeof(err)) < 0)
        swipe_on_acked(r, -1, err, -1, -1);
}

/* ============================================================= the script */

static void swipe_on_script(redisReply *reply, const char *errstr, void *arg)
{
    request *r = arg;
    char stored[512];
    char *f[9];
    bool replay;
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements < 2 ||
        strcmp(reply->element[0]->str, "new") != 0 || reply->element[1]->str[0] != 'P')
        ending_untrack(r, reply_script_ran(reply)); /* nothing of this request is pending */
    int nf = reply_stored(r, reply, "swipe", stored, sizeof(stored), f, 9, 2, &replay);
    if (nf < 0)
        return;
    if (f[0][0] == 'P' && replay) {
        reply_error(r, 503, "unavailable",
                    "this request is still waiting for the broker; retry with the same request_id");
        return;
    }
    if (replay || strcmp(f[1], "declined") == 0) {
        if (!replay && nf >= 3) {
            swipe_count(r, "declined");
            for (size_t i = 0; i < sizeof(swipe_reasons) / sizeof(swipe_reasons[0]); i++)
                if (strcmp(swipe_reasons[i], f[2]) == 0)
                    metrics_add(swipe_m_reasons[i], 1);
            decline_publish(r, f[2]);
        }
        swipe_answer(r, f + 1, nf - 1);
        return;
    }
    /* a new approval: P approved swipe_id approval wallet balance fund person */
    if (nf < 8) {
        reply_unavailable(r, "unreadable answer");
        return;
    }
    snprintf(r->wallet, sizeof(r->wallet), "%s", f[4]);
    r->balance = strtoll(f[5], NULL, 10);
    snprintf(r->fund, sizeof(r->fund), "%s", f[6]);
    snprintf(r->person, sizeof(r->person), "%s", f[7]);
    swipe_publish(r);
}

static void swipe_random_digits(char *out, int n)
{
    unsigned char b[16];
    event_random(b, (size_t)n);
    for (int i = 0; i < n; i++)
        out[i] = (char)('0' + b[i] % 10);
    out[n] = '\0';
}

static void swipe_on_provider(void *arg, const dcache_provider *p, const char *err)
{
    request *r = arg;
    if (p == NULL) {
        reply_unavailable(r, "provider directory unavailable");
        return;
    }
    if (!p->known)
        snprintf(r->provider_state, sizeof(r->provider_state), "not_designated");
    else if (p->suspended)
        snprintf(r->provider_state, sizeof(r->provider_state), "suspended");
    else if (!dcache_provider_designated(p, r->item_code))
        snprintf(r->provider_state, sizeof(r->provider_state), "not_designated");
    else
        snprintf(r->provider_state, sizeof(r->provider_state), "ok");

    if (!dcache_catalogue_loaded()) {
        /* just started: "item_unknown" would be a wrong, final answer */
        reply_unavailable(r, "service catalogue not loaded yet");
        return;
    }
    const dcache_item *item = dcache_item_get(r->item_code);
    snprintf(r->item_info, sizeof(r->item_info), "%s", item ? item->info : "");
    sign_pin_proof(r->proof, swipe_pin_pepper, r->card_no, r->pin);
    event_new_id(r->event_id);
    swipe_random_digits(r->approval, 6);
    keys_swipe_id(r->swipe_id, sizeof(r->swipe_id), r->card_no);
    calendar_cap_keys(r->now_ms, (int)swipe_tz_offset_min, r->day, r->year);
    char ckey[KEYS_MAX], wkey[KEYS_MAX], hkey[KEYS_MAX], capkey[KEYS_MAX], amount[24], now[24];
    keys_card(ckey, sizeof(ckey), r->card_no);
    keys_wallet(wkey, sizeof(wkey), r->card_no);
    keys_holds(hkey, sizeof(hkey), r->card_no);
    keys_caps(capkey, sizeof(capkey), r->card_no);
    keys_idem(r->idem_key, sizeof(r->idem_key), r->card_no, r->auth.terminal_id, r->request_id);
    keys_swipe(r->swipe_key, sizeof(r->swipe_key), r->swipe_id);
    snprintf(amount, sizeof(amount), "%" PRId64, r->amount);
    snprintf(now, sizeof(now), "%" PRId64, r->now_ms);
    const char *keys[SWIPE_NKEYS] = {
        [SWIPE_K_CARD] = ckey,   [SWIPE_K_WALLET] = wkey,      [SWIPE_K_HOLDS] = hkey,
        [SWIPE_K_CAPS] = capkey, [SWIPE_K_IDEM] = r->idem_key, [SWIPE_K_SWIPE] = r->swipe_key};
    const char *args[SWIPE_NARGS] = {[SWIPE_A_FINGERPRINT] = r->fp,
                                     [SWIPE_A_PIN_PROOF] = r->proof,
                                     [SWIPE_A_ITEM_CODE] = r->item_code,
                                     [SWIPE_A_ITEM_INFO] = r->item_info,
                                     [SWIPE_A_PROVIDER_STATE] = r->provider_state,
                                     [SWIPE_A_AMOUNT] = amount,
                                     [SWIPE_A_DAY] = r->day,
                                     [SWIPE_A_YEAR] = r->year,
                                     [SWIPE_A_SWIPE_ID] = r->swipe_id,
                                     [SWIPE_A_TERMINAL] = r->auth.terminal_id,
                                     [SWIPE_A_PROVIDER] = r->provider_id,
                                     [SWIPE_A_NOW] = now,
                                     [SWIPE_A_CARD_NO] = r->card_no,
                                     [SWIPE_A_APPROVAL] = r->approval,
                                     [SWIPE_A_EVENT_ID] = r->event_id,
                                     [SWIPE_A_REQUEST_ID] = r->request_id,
                                     [SWIPE_A_GATEWAY_ID] = inflight_id()};
    ending_track(r);
    if (scripts_call(swipe_redis, &scripts_swipe, keys, args, SWIPE_NARGS, swipe_on_script, r) < 0)
        reply_unavailable(r, "redis unavailable");
}

void swipe_start(request *r)
{
    dcache_provider_get(r->provider_id, swipe_on_provider, r);
}
