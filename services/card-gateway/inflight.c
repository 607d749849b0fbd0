/*
 * inflight: see inflight.h. Fire and forget: a failed ZADD means the
 * connection is down, and the script queued behind it fails the same way.
 */
#include "inflight.h"
#include "resume.h"

#include "common/event.h"
#include "common/keys.h"
#include "common/log.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

static redis_client *inflight_redis;
static char inflight_gw[17];
static char inflight_set[KEYS_MAX];

void inflight_setup(redis_client *redis)
{
    unsigned char b[8];
    size_t got = 0;
    while (got < sizeof(b)) {
        ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
        if (n > 0)
            got += (size_t)n;
    }
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

static void inflight_send(const char *cmd, int kind, const char *swipe_key, const char *event_id)
{
    char member[KEYS_MAX + 64], score[24];
    if (resume_member(member, sizeof(member), kind, swipe_key, event_id) < 0)
        return;
    snprintf(score, sizeof(score), "%" PRId64, event_now_ms());
    const char *add[] = {cmd, inflight_set, score, member};
    const char *rem[] = {cmd, inflight_set, member};
    bool is_add = strcmp(cmd, "ZADD") == 0;
    const char **argv = is_add ? add : rem;
    int argc = is_add ? 4 : 3;
    size_t argvlen[4];
    for (int i = 0; i < argc; i++)
        argvlen[i] = strlen(argv[i]);
    if (redis_command(inflight_redis, argc, argv, argvlen, NULL, NULL) < 0 && !is_add)
        log_kv(LOG_WARN, "inflight_unmarked", "member", member, "reason",
               "redis unavailable: another gateway looks at it after our death", NULL);
}

void inflight_add(int kind, const char *swipe_key, const char *event_id)
{
    inflight_send("ZADD", kind, swipe_key, event_id);
}

void inflight_remove(int kind, const char *swipe_key, const char *event_id)
{
    inflight_send("ZREM", kind, swipe_key, event_id);
}
