/*
 * pending: see pending.h. The decisions are resume.c's (unit-tested); this
 * file walks Redis: the heartbeat tick, a dead gateway's in-flight set,
 * the backstop SCAN, and one claim per part taken.
 */
#include "pending.h"

#include "inflight.h"
#include "republish.h"
#include "resume.h"
#include "scripts.h"

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
static char pending_alive_key[KEYS_MAX];
static char **pending_alive; /* gateway ids alive at the last heartbeat */
static size_t pending_nalive;
static bool pending_beating, pending_scanning, pending_own_running;
static int64_t pending_next_scan_ms;
static int64_t pending_seen, pending_taken; /* in the current backstop sweep */

static metric *pending_m_resumed[3], *pending_m_final, *pending_m_overdue, *pending_m_dead,
    *pending_m_unreadable;
static const int pending_kinds[3] = {RESUME_SWIPE, RESUME_REVERSAL, RESUME_RATING};
static const double pending_final_bounds[] = {0.5, 1, 2, 3, 4, 5, 7.5, 10, 15, 30, 60, 120, 600};

/* A dead gateway leased to us, while its in-flight set is being worked;
 * or (own) our own set's members this process no longer handles. */
typedef struct pending_gone {
    char id[64];
    char set[KEYS_MAX];
    char lease[24]; /* the heartbeat value of our lease on it */
    int outstanding;
    bool own;
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
    if (g->own) {
        pending_own_running = false;
        free(g);
        return;
    }
    const char *keys[FORGET_NKEYS] = {
        [FORGET_K_HEARTBEATS] = pending_alive_key, [FORGET_K_INFLIGHT] = g->set};
    const char *args[FORGET_NARGS] = {[FORGET_A_GATEWAY_ID] = g->id, [FORGET_A_LEASE] = g->lease};
    if (scripts_call(pending_redis, &scripts_forget, keys, args, FORGET_NARGS, pending_on_forget,
                     g) < 0)
        free(g); /* the lease lapses and someone looks again */
}

/* The member leaves the set it was found in (it is final, someone else's,
 * or ours now: then it is in our set already). */
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

/* A record's HGETALL reply as a resume_record (arrays owned by the caller,
 * strings by the reply). -1 on out of memory. */
static int pending_record(const redisReply *h, resume_record *rec, const char ***names,
                          const char ***values)
{
    size_t n = h->elements / 2;
    *names = calloc(n + 1, sizeof(char *));
    *values = calloc(n + 1, sizeof(char *));
    if (*names == NULL || *values == NULL) {
        free(*names);
        free(*values);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        bool ok = h->element[2 * i]->type == REDIS_REPLY_STRING &&
                  h->element[2 * i + 1]->type == REDIS_REPLY_STRING;
        (*names)[i] = ok ? h->element[2 * i]->str : NULL;
        (*values)[i] = ok ? h->element[2 * i + 1]->str : NULL;
    }
    *rec = (resume_record){n, *names, *values};
    return 0;
}

static const char *pending_swipe_id(const char *key)
{
    const char *colon = strrchr(key, ':');
    return colon ? colon + 1 : key;
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
    resume_record rec;
    const char **names, **values;
    if (pending_record(reply->element[1], &rec, &names, &values) < 0) {
        pending_look_done(l);
        return;
    }
    resume_request q;
    char err[160];
    if (resume_read(&rec, l->kind, pending_swipe_id(l->key), &q, err, sizeof(err)) < 0) {
        /* read before the claim, changed since: ours now, so in our set,
         * looked at again by our own sweep (and logged again: loud) */
        metrics_add(pending_m_unreadable, 1);
        log_kv(LOG_ERROR, "pending_unreadable", "key", l->key, "kind", resume_kind_name(l->kind),
               "reason", err, NULL);
        const char *ev = resume_field(&rec, l->kind == RESUME_SWIPE      ? "event"
                                            : l->kind == RESUME_REVERSAL ? "reversal_event"
                                                                         : "rt_event");
        inflight_add(l->kind, l->key, ev ? ev : "?");
        inflight_remove(l->kind, l->key, ev ? ev : "?", false);
    } else {
        char age_s[24];
        snprintf(age_s, sizeof(age_s), "%" PRId64, event_now_ms() - q.at_ms);
        inflight_add(l->kind, l->key, q.event_id);
        metrics_add(pending_kind_metric(l->kind), 1);
        log_kv(LOG_WARN, "pending_resumed", "kind", resume_kind_name(l->kind), "swipe_id",
               q.swipe_id, "event_id", q.event_id, "left_by",
               l->gone ? (l->gone->own ? "this gateway (its request ended without a reply)"
                                       : l->gone->id)
                       : "a gateway no longer alive",
               "age_ms", age_s, NULL);
        republish_resume(&q, l->key, pending_on_final, NULL);
        if (l->gone == NULL)
            pending_taken++;
    }
    if (!(l->gone && l->gone->own)) /* our own member is the one just added again */
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
    const char *keys[CLAIM_NKEYS] = {[CLAIM_K_SWIPE] = l->key};
    const char *args[CLAIM_NARGS] = {
        [CLAIM_A_PART] = k, [CLAIM_A_OWNER] = owner, [CLAIM_A_GATEWAY_ID] = inflight_id()};
    if (scripts_call(pending_redis, &scripts_claim, keys, args, CLAIM_NARGS, pending_on_claim, l) <
        0)
        pending_look_done(l);
}

/* The record (HGETALL) of a member of a dead set, or of the sweep. */
static void pending_on_record(redisReply *reply, const char *errstr, void *arg)
{
    pending_look *l = arg;
    resume_record rec;
    const char **names, **values;
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY ||
        pending_record(reply, &rec, &names, &values) < 0) {
        pending_look_done(l);
        return;
    }
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
        resume_request q;
        char err[160];
        if (resume_read(&rec, kind, pending_swipe_id(l->key), &q, err, sizeof(err)) < 0) {
            /* not claimed: its owner stays, the backstop logs it again */
            metrics_add(pending_m_unreadable, 1);
            log_kv(LOG_ERROR, "pending_unreadable", "key", l->key, "kind", resume_kind_name(kind),
                   "reason", err, NULL);
            continue;
        }
        pending_claim(l, kind, q.owner);
        dropped = false;
    }
    if (dropped)
        pending_drop_member(l);
    free(names);
    free(values);
    pending_look_done(l);
}

/* The sweep's first look at a record: its three parts' states only (a
 * record read whole, 17 fields, for every swipe of the last 8 days made
 * each sweep cost Redis seconds of CPU); the whole record only when one
 * part is still pending. */
static void pending_on_states(redisReply *reply, const char *errstr, void *arg)
{
    (void)errstr;
    pending_look *l = arg;
    bool pending = false;
    if (reply && reply->type == REDIS_REPLY_ARRAY)
        for (size_t i = 0; i < reply->elements; i++)
            if (reply->element[i]->type == REDIS_REPLY_STRING &&
                strcmp(reply->element[i]->str, "pending") == 0)
                pending = true;
    if (!pending) {
        if (reply && reply->type == REDIS_REPLY_ARRAY)
            pending_seen++;
        pending_look_done(l);
        return;
    }
    const char *argv[] = {"HGETALL", l->key};
    size_t argvlen[] = {7, strlen(l->key)};
    if (redis_command(pending_redis, 2, argv, argvlen, pending_on_record, l) < 0)
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
    if (g == NULL) {
        const char *argv[] = {"HMGET", l->key, "state", "rv_state", "rt_state"};
        size_t argvlen[] = {5, strlen(l->key), 5, 8, 8};
        if (redis_command(pending_redis, 5, argv, argvlen, pending_on_states, l) < 0)
            pending_look_done(l);
        return;
    }
    const char *argv[] = {"HGETALL", l->key};
    size_t argvlen[] = {7, strlen(l->key)};
    if (redis_command(pending_redis, 2, argv, argvlen, pending_on_record, l) < 0)
        pending_look_done(l);
}

static void pending_on_members(redisReply *reply, const char *errstr, void *arg)
{
    pending_gone *g = arg;
    if (reply && reply->type == REDIS_REPLY_ARRAY) {
        if (reply->elements > 0 && !g->own)
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
            if (g->own && inflight_local(m->str))
                continue; /* still being handled by this process */
            pending_look_at(g, kind, m->str, key);
        }
    }
    pending_gone_done(g);
}

static void pending_take_gateway(const char *id, long long lease)
{
    pending_gone *g = calloc(1, sizeof(*g));
    if (g == NULL)
        return;
    snprintf(g->id, sizeof(g->id), "%s", id);
    snprintf(g->lease, sizeof(g->lease), "%lld", lease);
    keys_inflight(g->set, sizeof(g->set), g->id);
    g->outstanding = 1;
    metrics_add(pending_m_dead, 1);
    const char *argv[] = {"ZRANGE", g->set, "0", "-1"};
    size_t argvlen[] = {6, strlen(g->set), 1, 2};
    if (redis_command(pending_redis, 4, argv, argvlen, pending_on_members, g) < 0)
        free(g);
}

/* Our own members older than the dead time that this process no longer
 * handles: a request whose last script's reply never came (Redis down, a
 * connection cut), or that could not be produced again. */
static void pending_take_own(void)
{
    pending_gone *g = calloc(1, sizeof(*g));
    if (g == NULL)
        return;
    snprintf(g->id, sizeof(g->id), "%s", inflight_id());
    snprintf(g->set, sizeof(g->set), "%s", inflight_key());
    g->own = true;
    g->outstanding = 1;
    char upto[24];
    snprintf(upto, sizeof(upto), "%" PRId64, event_now_ms() - pending_cfg.dead_ms);
    const char *argv[] = {"ZRANGEBYSCORE", g->set, "-inf", upto, "LIMIT", "0", "500"};
    size_t argvlen[7];
    for (int i = 0; i < 7; i++)
        argvlen[i] = strlen(argv[i]);
    pending_own_running = true;
    if (redis_command(pending_redis, 7, argv, argvlen, pending_on_members, g) < 0) {
        pending_own_running = false;
        free(g);
    }
}

/* ------------------------------------------------------------ heartbeat */

static void pending_on_beat(redisReply *reply, const char *errstr, void *arg)
{
    pending_beating = false;
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 ||
        reply->element[2]->type != REDIS_REPLY_INTEGER) {
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
                pending_take_gateway(dead->element[i]->str, reply->element[2]->integer);
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
        const char *keys[HEARTBEAT_NKEYS] = {[HEARTBEAT_K_HEARTBEATS] = pending_alive_key};
        const char *args[HEARTBEAT_NARGS] = {
            [HEARTBEAT_A_GATEWAY_ID] = inflight_id(), [HEARTBEAT_A_DEAD_MS] = dead};
        pending_beating = scripts_call(pending_redis, &scripts_heartbeat, keys, args,
                                       HEARTBEAT_NARGS, pending_on_beat, NULL) == 0;
    }
    if (!pending_own_running)
        pending_take_own();
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
