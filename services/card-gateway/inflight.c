/*
 * inflight: see inflight.h. The local table is a small chained hash of the
 * members this process is handling (a few thousand at most: one per
 * request in flight). ZADD and ZREM are fire and forget: a failed ZADD
 * means the connection is down, and the script queued behind it fails the
 * same way.
 */
#include "inflight.h"
#include "resume.h"

#include "common/event.h"
#include "common/keys.h"
#include "common/log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INFLIGHT_BUCKETS 4096

typedef struct inflight_entry {
    struct inflight_entry *next;
    char member[];
} inflight_entry;

static redis_client *inflight_redis;
static char inflight_gw[17];
static char inflight_set[KEYS_MAX];
static inflight_entry *inflight_table[INFLIGHT_BUCKETS];

void inflight_setup(redis_client *redis)
{
    unsigned char b[8];
    event_random(b, sizeof(b));
    for (size_t i = 0; i < sizeof(b); i++)
        snprintf(inflight_gw + 2 * i, 3, "%02x", b[i]);
    inflight_redis = redis;
    keys_inflight(inflight_set, sizeof(inflight_set), inflight_gw);
}

const char *inflight_id(void)
{
    return inflight_gw;
}

const char *inflight_key(void)
{
    return inflight_set;
}

static inflight_entry **inflight_bucket(const char *member)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)member; *p; p++)
        h = (h ^ *p) * 16777619u;
    return &inflight_table[h % INFLIGHT_BUCKETS];
}

bool inflight_local(const char *member)
{
    for (inflight_entry *e = *inflight_bucket(member); e; e = e->next)
        if (strcmp(e->member, member) == 0)
            return true;
    return false;
}

void inflight_add(int kind, const char *swipe_key, const char *event_id)
{
    char member[KEYS_MAX + 64], score[24];
    if (resume_member(member, sizeof(member), kind, swipe_key, event_id) < 0)
        return;
    if (!inflight_local(member)) {
        size_t n = strlen(member) + 1;
        inflight_entry *e = malloc(sizeof(*e) + n);
        if (e != NULL) {
            memcpy(e->member, member, n);
            inflight_entry **b = inflight_bucket(member);
            e->next = *b;
            *b = e;
        }
    }
    snprintf(score, sizeof(score), "%" PRId64, event_now_ms());
    const char *argv[] = {"ZADD", inflight_set, score, member};
    size_t argvlen[] = {4, strlen(inflight_set), strlen(score), strlen(member)};
    redis_command(inflight_redis, 4, argv, argvlen, NULL, NULL);
}

void inflight_remove(int kind, const char *swipe_key, const char *event_id, bool done_in_redis)
{
    char member[KEYS_MAX + 64];
    if (resume_member(member, sizeof(member), kind, swipe_key, event_id) < 0)
        return;
    for (inflight_entry **p = inflight_bucket(member); *p; p = &(*p)->next)
        if (strcmp((*p)->member, member) == 0) {
            inflight_entry *e = *p;
            *p = e->next;
            free(e);
            break;
        }
    if (!done_in_redis)
        return; /* the member stays: pending.c looks at it again */
    const char *argv[] = {"ZREM", inflight_set, member};
    size_t argvlen[] = {4, strlen(inflight_set), strlen(member)};
    if (redis_command(inflight_redis, 3, argv, argvlen, NULL, NULL) < 0)
        log_kv(LOG_WARN, "inflight_unmarked", "member", member, "reason",
               "redis unavailable: this gateway looks at it again", NULL);
}

void inflight_cleanup(void)
{
    for (int b = 0; b < INFLIGHT_BUCKETS; b++) {
        inflight_entry *e = inflight_table[b];
        while (e) {
            inflight_entry *n = e->next;
            free(e);
            e = n;
        }
        inflight_table[b] = NULL;
    }
}
