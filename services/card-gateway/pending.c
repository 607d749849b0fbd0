/*
 * pending: see pending.h. One sweep at a time: SCAN with MATCH swipe:* in
 * pages of 500, HGETALL of each key found, and a record still pending and
 * old enough goes to api_resume_swipe.
 */
#include "pending.h"

#include "api.h"

#include "common/event.h"
#include "common/log.h"
#include "common/metrics.h"

#include <event2/event.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static redis_client *pending_redis;
static struct event *pending_timer;
static int pending_every_s;
static int64_t pending_age_ms;
static bool pending_running;
static int64_t pending_seen, pending_resumed;
static int64_t pending_young; /* pending, not old enough yet: look again soon */
#define PENDING_STRAY_MS 3000 /* pending longer than an answer ever takes */
static metric *pending_m_resumed;

static void pending_scan(const char *cursor);

static const char *pending_field(const redisReply *h, const char *name)
{
    for (size_t i = 0; i + 1 < h->elements; i += 2)
        if (h->element[i]->type == REDIS_REPLY_STRING && strcmp(h->element[i]->str, name) == 0)
            return h->element[i + 1]->type == REDIS_REPLY_STRING ? h->element[i + 1]->str : NULL;
    return NULL;
}

static void pending_on_record(redisReply *reply, const char *errstr, void *arg)
{
    char *key = arg;
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
        free(key);
        return;
    }
    const char *state = pending_field(reply, "state");
    const char *at = pending_field(reply, "at");
    pending_seen++;
    if (state == NULL || strcmp(state, "pending") != 0 || at == NULL) {
        free(key);
        return;
    }
    int64_t age = event_now_ms() - strtoll(at, NULL, 10);
    if (age < pending_age_ms) {
        /* older than any answer takes: its gateway may have just died, so
         * look again soon (a swipe in flight, younger, is no reason to) */
        if (age >= PENDING_STRAY_MS)
            pending_young++;
        free(key);
        return;
    }
    api_pending_swipe p = {0};
    p.swipe_key = key;
    const char *colon = strrchr(key, ':');
    p.swipe_id = colon ? colon + 1 : key;
    p.card_no = pending_field(reply, "card");
    p.terminal_id = pending_field(reply, "terminal");
    p.provider_id = pending_field(reply, "provider");
    p.person = pending_field(reply, "person");
    p.item_code = pending_field(reply, "item");
    p.wallet = pending_field(reply, "wallet");
    p.fund = pending_field(reply, "fund");
    p.request_id = pending_field(reply, "request");
    p.approval = pending_field(reply, "approval");
    p.event_id = pending_field(reply, "event");
    const char *amount = pending_field(reply, "amount"), *balance = pending_field(reply, "balance");
    if (!p.card_no || !p.terminal_id || !p.provider_id || !p.item_code || !p.wallet || !p.fund ||
        !p.request_id || !p.approval || !p.event_id || !amount || !balance) {
        log_kv(LOG_WARN, "pending_unreadable", "key", key, "reason",
               "a field is missing: left for reconcile and rebuild-cache", NULL);
        free(key);
        return;
    }
    if (p.person == NULL)
        p.person = "";
    p.amount = strtoll(amount, NULL, 10);
    p.balance = strtoll(balance, NULL, 10);
    p.at_ms = strtoll(at, NULL, 10);
    pending_resumed++;
    metrics_add(pending_m_resumed, 1);
    api_resume_swipe(&p);
    free(key);
}

static void pending_on_scan(redisReply *reply, const char *errstr, void *arg)
{
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
        reply->element[0]->type != REDIS_REPLY_STRING ||
        reply->element[1]->type != REDIS_REPLY_ARRAY) {
        log_warn("pending_sweep_failed", "SCAN: %s",
                 reply && reply->type == REDIS_REPLY_ERROR ? reply->str
                                                           : (errstr ? errstr : "bad reply"));
        pending_running = false;
        return;
    }
    redisReply *keys = reply->element[1];
    for (size_t i = 0; i < keys->elements; i++) {
        if (keys->element[i]->type != REDIS_REPLY_STRING)
            continue;
        char *key = strdup(keys->element[i]->str);
        if (key == NULL)
            continue;
        const char *argv[] = {"HGETALL", key};
        size_t argvlen[] = {7, strlen(key)};
        if (redis_command(pending_redis, 2, argv, argvlen, pending_on_record, key) < 0)
            free(key);
    }
    if (strcmp(reply->element[0]->str, "0") != 0) {
        pending_scan(reply->element[0]->str);
        return;
    }
    pending_running = false;
    if (pending_resumed > 0)
        log_info("pending_swept", "%lld swipe records read, %lld pending ones resumed",
                 (long long)pending_seen, (long long)pending_resumed);
}

static void pending_scan(const char *cursor)
{
    const char *argv[] = {"SCAN", cursor, "MATCH", "swipe:*", "COUNT", "500"};
    size_t argvlen[6];
    for (int i = 0; i < 6; i++)
        argvlen[i] = strlen(argv[i]);
    if (redis_command(pending_redis, 6, argv, argvlen, pending_on_scan, NULL) < 0)
        pending_running = false;
}

static bool pending_followup; /* the tick after a sweep, half an age later */

static void pending_on_tick(evutil_socket_t fd, short what, void *arg)
{
    int64_t half = pending_age_ms / 2000 > 0 ? pending_age_ms / 2000 : 1;
    struct timeval tv = {1, 0};
    if (pending_running) { /* a sweep still in flight */
        evtimer_add(pending_timer, &tv);
        return;
    }
    /* a sweep, then another half an age later for as long as records were
     * pending but too young (a gateway that died moments before this one
     * started), then every pending_every_s */
    if ((!pending_followup || pending_young > 0) || !redis_client_connected(pending_redis)) {
        if (redis_client_connected(pending_redis)) {
            pending_running = true;
            pending_followup = true;
            pending_seen = pending_resumed = pending_young = 0;
            pending_scan("0");
        }
        tv.tv_sec = (time_t)half;
        evtimer_add(pending_timer, &tv);
        return;
    }
    pending_followup = false;
    if (pending_every_s > 0) {
        tv.tv_sec = pending_every_s;
        evtimer_add(pending_timer, &tv);
    }
}

int pending_setup(struct event_base *base, redis_client *redis, int first_s, int every_s,
                  int64_t age_ms)
{
    pending_redis = redis;
    pending_every_s = every_s;
    pending_age_ms = age_ms;
    pending_m_resumed = metrics_counter(
        "onecard_gateway_pending_resumed_total",
        "Swipes left pending by a stopped gateway whose events were produced again.", NULL);
    pending_timer = evtimer_new(base, pending_on_tick, NULL);
    if (pending_timer == NULL)
        return -1;
    struct timeval tv = {first_s, 0};
    return evtimer_add(pending_timer, &tv);
}

void pending_cleanup(void)
{
    if (pending_timer)
        event_free(pending_timer);
    pending_timer = NULL;
}
