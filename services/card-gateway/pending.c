/*
 * pending: see pending.h. The decisions are resume.c's (unit-tested); this
 * file walks Redis: the heartbeat tick, a dead gateway's in-flight set,
 * the backstop SCAN, and one claim per part taken.
 */
#include "pending.h"

#include "api.h"
#include "inflight.h"
#include "lua_scripts.h"
#include "resume.h"

#include "common/event.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/metrics.h"

#include <event2/event.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static redis_client *pending_redis;
static struct event *pending_timer;
static pending_config pending_cfg;
static redis_script pending_s_heartbeat, pending_s_claim, pending_s_forget;
static char pending_alive_key[KEYS_MAX];
static char **pending_alive; /* gateway ids alive at the last heartbeat */
static size_t pending_nalive;
static bool pending_beating, pending_scanning;
static int64_t pending_next_scan_ms;
static int64_t pending_seen, pending_taken; /* in the current backstop sweep */

static metric *pending_m_resumed[3], *pending_m_final, *pending_m_overdue, *pending_m_dead,
    *pending_m_unreadable;
static const int pending_kinds[3] = {RESUME_SWIPE, RESUME_REVERSAL, RESUME_RATING};
static const double pending_final_bounds[] = {0.5, 1, 2, 3, 4, 5, 7.5, 10, 15, 30, 60, 120, 600};

/* A dead gateway leased to us, while its in-flight set is being worked. */
typedef struct pending_gone {
    char id[64];
    char set[KEYS_MAX];
    int outstanding;
} pending_gone;

/* One record being looked at: from a dead gateway's set (gone, member) or
 * from the backstop sweep (gone == NULL). */
typedef struct pending_look {
    pending_gone *gone;
    int kind; /* the member's kind (dead set only) */
    char member[KEYS_MAX + 64];
    char key[KEYS_MAX];
} pending_look;

static void pending_scan(const char *cursor);

static bool pending_is_alive(const char *id, void *arg)
{
    for (size_t i = 0; i < pending_nalive; i++)
        if (strcmp(pending_alive[i], id) == 0)
            return true;
    return false;
}

static metric *pending_kind_metric(int kind)
{
    for (int i = 0; i < 3; i++)
        if (pending_kinds[i] == kind)
            return pending_m_resumed[i];
    return NULL;
}

/* ------------------------------------------------------- a dead gateway */

static void pending_on_forget(redisReply *reply, const char *errstr, void *arg)
{
    pending_gone *g = arg;
    if (reply && reply->type == REDIS_REPLY_INTEGER && reply->integer == 1)
        log_kv(LOG_INFO, "gateway_forgotten", "gateway", g->id, NULL);
    free(g);
}

static void pending_gone_done(pending_gone *g)
{
    if (--g->outstanding > 0)
        return;
    const char *argv[] = {pending_alive_key, g->set, g->id};
    size_t argvlen[] = {strlen(argv[0]), strlen(argv[1]), strlen(argv[2])};
    if (redis_evalsha(pending_redis, &pending_s_forget, 2, 3, argv, argvlen, pending_on_forget, g) <
        0)
        free(g); /* the lease lapses and someone looks again */
}

/* The member leaves the dead gateway's set (it is final, someone else's,
 * or ours now). */
static void pending_drop_member(pending_look *l)
{
    if (l->gone == NULL)
        return;
    const char *argv[] = {"ZREM", l->gone->set, l->member};
    size_t argvlen[] = {4, strlen(argv[1]), strlen(argv[2])};
    redis_command(pending_redis, 3, argv, argvlen, NULL, NULL);
}

static void pending_look_done(pending_look *l)
{
    if (l->gone)
        pending_gone_done(l->gone);
    free(l);
}

/* ------------------------------------------------------------ finishing */

static void pending_on_final(void *arg, const resume_request *q, int64_t final_ms)
{
    (void)arg;
    int64_t age = final_ms - q->at_ms;
    char age_s[24];
    snprintf(age_s, sizeof(age_s), "%" PRId64, age);
    metrics_observe(pending_m_final, (double)age / 1000.0);
    bool overdue = age > pending_cfg.bound_ms;
    if (overdue)
        metrics_add(pending_m_overdue, 1);
    log_kv(overdue ? LOG_WARN : LOG_INFO, overdue ? "pending_overdue" : "pending_finished", "kind",
           resume_kind_name(q->kind), "swipe_id", q->swipe_id, "event_id", q->event_id, "age_ms",
           age_s, NULL);
}

/* The reply of claim.lua: {'claimed', {record}} makes the part ours. */
static void pending_on_claim(redisReply *reply, const char *errstr, void *arg)
{
    pending_look *l = arg;
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements < 1 ||
        reply->element[0]->type != REDIS_REPLY_STRING) {
        log_warn("pending_claim_failed", "%s: %s", l->key,
                 reply && reply->type == REDIS_REPLY_ERROR ? reply->str
                                                           : (errstr ? errstr : "bad reply"));
        pending_look_done(l); /* still in the dead set: the lease lapses, we look again */
        return;
    }
    if (strcmp(reply->element[0]->str, "claimed") != 0 || reply->elements < 2 ||
        reply->element[1]->type != REDIS_REPLY_ARRAY) {
        pending_drop_member(l); /* final meanwhile, or someone else's */
        pending_look_done(l);
        return;
    }
    redisReply *h = reply->element[1];
    size_t n = h->elements / 2;
    const char **names = calloc(n + 1, sizeof(char *)), **values = calloc(n + 1, sizeof(char *));
    if (names == NULL || values == NULL) {
        free(names);
        free(values);
        pending_look_done(l);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        names[i] = h->element[2 * i]->type == REDIS_REPLY_STRING ? h->element[2 * i]->str : NULL;
        values[i] =
            h->element[2 * i + 1]->type == REDIS_REPLY_STRING ? h->element[2 * i + 1]->str : "";
    }
    resume_record rec = {n, names, values};
    resume_request q;
    char err[160];
    const char *colon = strrchr(l->key, ':');
    if (resume_read(&rec, l->kind, colon ? colon + 1 : l->key, &q, err, sizeof(err)) < 0) {
        metrics_add(pending_m_unreadable, 1);
        log_kv(LOG_ERROR, "pending_unreadable", "key", l->key, "kind", resume_kind_name(l->kind),
               "reason", err, NULL);
    } else {
        char age_s[24];
        snprintf(age_s, sizeof(age_s), "%" PRId64, event_now_ms() - q.at_ms);
        inflight_add(l->kind, l->key, q.event_id);
        metrics_add(pending_kind_metric(l->kind), 1);
        log_kv(LOG_WARN, "pending_resumed", "kind", resume_kind_name(l->kind), "swipe_id",
               q.swipe_id, "event_id", q.event_id, "left_by",
               l->gone ? l->gone->id : "a gateway no longer alive", "age_ms", age_s, NULL);
        api_resume(&q, l->key, pending_on_final, NULL);
        if (l->gone == NULL)
            pending_taken++;
    }
    pending_drop_member(l);
    free(names);
    free(values);
    pending_look_done(l);
}

static void pending_claim(const pending_look *from, int kind, const char *owner)
{
    pending_look *l = malloc(sizeof(*l));
    if (l == NULL)
        return;
    memcpy(l, from, sizeof(*l));
    l->kind = kind;
    if (l->gone)
        l->gone->outstanding++;
    char k[2] = {(char)kind, '\0'};
    const char *argv[] = {l->key, k, owner, inflight_id()};
    size_t argvlen[] = {strlen(argv[0]), 1, strlen(owner), strlen(argv[3])};
    if (redis_evalsha(pending_redis, &pending_s_claim, 1, 4, argv, argvlen, pending_on_claim, l) <
        0)
        pending_look_done(l);
}

/* The record (HGETALL) of a member of a dead set, or of the sweep. */
static void pending_on_record(redisReply *reply, const char *errstr, void *arg)
{
    pending_look *l = arg;
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
        pending_look_done(l);
        return;
    }
    size_t n = reply->elements / 2;
    const char *names[64], *values[64];
    if (n > 64)
        n = 64;
    for (size_t i = 0; i < n; i++) {
        bool ok = reply->element[2 * i]->type == REDIS_REPLY_STRING &&
                  reply->element[2 * i + 1]->type == REDIS_REPLY_STRING;
        names[i] = ok ? reply->element[2 * i]->str : NULL;
        values[i] = ok ? reply->element[2 * i + 1]->str : NULL;
    }
    resume_record rec = {n, names, values};
    int64_t now = event_now_ms();
    if (l->gone == NULL)
        pending_seen++;
    bool dropped = true;
    for (int i = 0; i < 3; i++) {
        int kind = pending_kinds[i];
        if (l->gone && kind != l->kind)
            continue;
        resume_verdict v = resume_decide(&rec, kind, inflight_id(), l->gone ? l->gone->id : NULL,
                                         pending_is_alive, NULL, now, pending_cfg.age_ms);
        if (v != RESUME_TAKE)
            continue;
        static const char *const owners[] = {"gw", "rv_gw", "rt_gw"};
        const char *owner = resume_field(&rec, owners[i]);
        pending_claim(l, kind, owner ? owner : "");
        dropped = false;
    }
    if (dropped)
        pending_drop_member(l);
    pending_look_done(l);
}

static void pending_look_at(pending_gone *g, int kind, const char *member, const char *key)
{
    pending_look *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return;
    l->gone = g;
    l->kind = kind;
    snprintf(l->member, sizeof(l->member), "%s", member ? member : "");
    snprintf(l->key, sizeof(l->key), "%s", key);
    if (g)
        g->outstanding++;
    const char *argv[] = {"HGETALL", l->key};
    size_t argvlen[] = {7, strlen(l->key)};
    if (redis_command(pending_redis, 2, argv, argvlen, pending_on_record, l) < 0)
        pending_look_done(l);
}

static void pending_on_members(redisReply *reply, const char *errstr, void *arg)
{
    pending_gone *g = arg;
    if (reply && reply->type == REDIS_REPLY_ARRAY) {
        if (reply->elements > 0)
            log_kv(LOG_WARN, "gateway_dead", "gateway", g->id, "reason",
                   "no heartbeat within ONECARD_GATEWAY_DEAD_MS: finishing what it left in flight",
                   NULL);
        for (size_t i = 0; i < reply->elements; i++) {
            const redisReply *m = reply->element[i];
            char key[KEYS_MAX];
            int kind;
            if (m->type != REDIS_REPLY_STRING ||
                resume_member_parse(m->str, &kind, key, sizeof(key)) < 0) {
                log_kv(LOG_WARN, "inflight_unreadable", "set", g->set, NULL);
                continue;
            }
            pending_look_at(g, kind, m->str, key);
        }
    }
    pending_gone_done(g);
}

static void pending_take_gateway(const char *id)
{
    pending_gone *g = calloc(1, sizeof(*g));
    if (g == NULL)
        return;
    snprintf(g->id, sizeof(g->id), "%s", id);
    keys_inflight(g->set, sizeof(g->set), g->id);
    g->outstanding = 1;
    metrics_add(pending_m_dead, 1);
    const char *argv[] = {"ZRANGE", g->set, "0", "-1"};
    size_t argvlen[] = {6, strlen(g->set), 1, 2};
    if (redis_command(pending_redis, 4, argv, argvlen, pending_on_members, g) < 0)
        free(g);
}

/* ------------------------------------------------------------ heartbeat */

static void pending_on_beat(redisReply *reply, const char *errstr, void *arg)
{
    pending_beating = false;
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
        log_warn("heartbeat_failed", "%s",
                 reply && reply->type == REDIS_REPLY_ERROR ? reply->str
                                                           : (errstr ? errstr : "bad reply"));
        return;
    }
    redisReply *dead = reply->element[0], *alive = reply->element[1];
    for (size_t i = 0; i < pending_nalive; i++)
        free(pending_alive[i]);
    free(pending_alive);
    pending_alive = NULL;
    pending_nalive = 0;
    if (alive->type == REDIS_REPLY_ARRAY && alive->elements > 0 &&
        (pending_alive = calloc(alive->elements, sizeof(char *))) != NULL)
        for (size_t i = 0; i < alive->elements; i++)
            if (alive->element[i]->type == REDIS_REPLY_STRING &&
                (pending_alive[pending_nalive] = strdup(alive->element[i]->str)) != NULL)
                pending_nalive++;
    if (dead->type == REDIS_REPLY_ARRAY)
        for (size_t i = 0; i < dead->elements; i++)
            if (dead->element[i]->type == REDIS_REPLY_STRING)
                pending_take_gateway(dead->element[i]->str);
}

/* ------------------------------------------------------ backstop sweep */

static void pending_on_scan(redisReply *reply, const char *errstr, void *arg)
{
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
        reply->element[0]->type != REDIS_REPLY_STRING ||
        reply->element[1]->type != REDIS_REPLY_ARRAY) {
        log_warn("pending_sweep_failed", "SCAN: %s",
                 reply && reply->type == REDIS_REPLY_ERROR ? reply->str
                                                           : (errstr ? errstr : "bad reply"));
        pending_scanning = false;
        return;
    }
    redisReply *keys = reply->element[1];
    for (size_t i = 0; i < keys->elements; i++)
        if (keys->element[i]->type == REDIS_REPLY_STRING)
            pending_look_at(NULL, 0, NULL, keys->element[i]->str);
    if (strcmp(reply->element[0]->str, "0") != 0) {
        pending_scan(reply->element[0]->str);
        return;
    }
    pending_scanning = false;
    if (pending_taken > 0)
        log_info("pending_swept", "%" PRId64 " swipe records read, %" PRId64 " parts taken over",
                 pending_seen, pending_taken);
}

static void pending_scan(const char *cursor)
{
    const char *argv[] = {"SCAN", cursor, "MATCH", "swipe:*", "COUNT", "500"};
    size_t argvlen[6];
    for (int i = 0; i < 6; i++)
        argvlen[i] = strlen(argv[i]);
    if (redis_command(pending_redis, 6, argv, argvlen, pending_on_scan, NULL) < 0)
        pending_scanning = false;
}

/* ----------------------------------------------------------------- tick */

static void pending_on_tick(evutil_socket_t fd, short what, void *arg)
{
    int64_t beat_ms = pending_cfg.dead_ms / 3;
    struct timeval tv = {(time_t)(beat_ms / 1000), (suseconds_t)(beat_ms % 1000) * 1000};
    evtimer_add(pending_timer, &tv);
    if (!redis_client_connected(pending_redis))
        return;
    if (!pending_beating) {
        char dead[24];
        snprintf(dead, sizeof(dead), "%" PRId64, pending_cfg.dead_ms);
        const char *argv[] = {pending_alive_key, inflight_id(), dead};
        size_t argvlen[] = {strlen(argv[0]), strlen(argv[1]), strlen(argv[2])};
        pending_beating = redis_evalsha(pending_redis, &pending_s_heartbeat, 1, 3, argv, argvlen,
                                        pending_on_beat, NULL) == 0;
    }
    int64_t now = event_now_ms();
    if (!pending_scanning && pending_next_scan_ms > 0 && now >= pending_next_scan_ms) {
        pending_next_scan_ms =
            pending_cfg.every_s > 0 ? now + (int64_t)pending_cfg.every_s * 1000 : 0;
        pending_scanning = true;
        pending_seen = pending_taken = 0;
        pending_scan("0");
    }
}

int pending_setup(struct event_base *base, redis_client *redis, const pending_config *cfg)
{
    pending_redis = redis;
    pending_cfg = *cfg;
    keys_gateways(pending_alive_key, sizeof(pending_alive_key));
    redis_script_init(&pending_s_heartbeat, "heartbeat", lua_heartbeat);
    redis_script_init(&pending_s_claim, "claim", lua_claim);
    redis_script_init(&pending_s_forget, "forget", lua_forget);
    for (int i = 0; i < 3; i++) {
        char l[32];
        snprintf(l, sizeof(l), "kind=\"%s\"", resume_kind_name(pending_kinds[i]));
        pending_m_resumed[i] = metrics_counter(
            "onecard_gateway_pending_resumed_total",
            "Requests a stopped gateway left in flight whose events this gateway produced again.",
            l);
    }
    pending_m_final = metrics_histogram(
        "onecard_gateway_pending_final_seconds",
        "From a request left in flight by a stopped gateway to its final answer.", NULL,
        pending_final_bounds, (int)(sizeof(pending_final_bounds) / sizeof(double)));
    pending_m_overdue = metrics_counter(
        "onecard_gateway_pending_overdue_total",
        "Requests left in flight whose final answer came later than ONECARD_PENDING_BOUND_MS.",
        NULL);
    pending_m_dead = metrics_counter("onecard_gateway_dead_gateways_total",
                                     "Gateways found dead and taken over by this one.", NULL);
    pending_m_unreadable =
        metrics_counter("onecard_gateway_pending_unreadable_total",
                        "Pending records that could not be read (left for reconcile).", NULL);
    pending_next_scan_ms = event_now_ms() + (int64_t)cfg->first_s * 1000;
    log_kv(LOG_INFO, "gateway_id", "gateway", inflight_id(), NULL);
    pending_timer = evtimer_new(base, pending_on_tick, NULL);
    if (pending_timer == NULL)
        return -1;
    struct timeval tv = {0, 0};
    return evtimer_add(pending_timer, &tv);
}

void pending_cleanup(void)
{
    if (pending_timer)
        event_free(pending_timer);
    pending_timer = NULL;
    for (size_t i = 0; i < pending_nalive; i++)
        free(pending_alive[i]);
    free(pending_alive);
    pending_alive = NULL;
    pending_nalive = 0;
}
