/*
 * redis: asynchronous hiredis on libevent with reconnect and EVALSHA. See
 * redis.h.
 */
#include "common/redis.h"
#include "common/log.h"
#include "common/metrics.h"

#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <openssl/sha.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>

struct redis_client {
    struct event_base *base;
    char *host;
    int port;
    redisAsyncContext *ac;
    bool connected;
    bool closing;
    struct event *retry_ev;
    int backoff_ms;
};

static metric *redis_m_reconnects, *redis_m_noscript;

static void redis_connect(redis_client *c);

static void redis_schedule_retry(redis_client *c)
{
    if (c->closing)
        return;
    struct timeval tv = {c->backoff_ms / 1000, (c->backoff_ms % 1000) * 1000};
    evtimer_add(c->retry_ev, &tv);
    c->backoff_ms = c->backoff_ms * 2 > 2000 ? 2000 : c->backoff_ms * 2;
}

static void redis_on_connect(const redisAsyncContext *ac, int status)
{
    redis_client *c = ac->data;
    if (status != REDIS_OK) {
        log_warn("redis_connect_failed", "%s:%d: %s", c->host, c->port, ac->errstr);
        c->ac = NULL; /* hiredis frees it after this callback */
        redis_schedule_retry(c);
        return;
    }
    c->connected = true;
    c->backoff_ms = 100;
    log_info("redis_connected", "%s:%d", c->host, c->port);
}

static void redis_on_disconnect(const redisAsyncContext *ac, int status)
{
    redis_client *c = ac->data;
    c->connected = false;
    c->ac = NULL;
    if (c->closing)
        return;
    log_warn("redis_disconnected", "%s:%d: %s", c->host, c->port,
             status == REDIS_OK ? "closed" : ac->errstr);
    metrics_add(redis_m_reconnects, 1);
    redis_schedule_retry(c);
}

static void redis_on_retry(evutil_socket_t fd, short what, void *arg)
{
    redis_connect(arg);
}

static void redis_connect(redis_client *c)
{
    redisAsyncContext *ac = redisAsyncConnect(c->host, c->port);
    if (ac == NULL || ac->err) {
        log_warn("redis_connect_failed", "%s:%d: %s", c->host, c->port,
                 ac ? ac->errstr : "out of memory");
        if (ac)
            redisAsyncFree(ac);
        redis_schedule_retry(c);
        return;
    }
    ac->data = c;
    redisLibeventAttach(ac, c->base);
    redisAsyncSetConnectCallback(ac, redis_on_connect);
    redisAsyncSetDisconnectCallback(ac, redis_on_disconnect);
    c->ac = ac;
}

redis_client *redis_client_new(struct event_base *base, const char *host, int port)
{
    if (redis_m_reconnects == NULL) {
        redis_m_reconnects =
            metrics_counter("onecard_redis_disconnects_total", "Redis connections lost.", NULL);
        redis_m_noscript =
            metrics_counter("onecard_redis_noscript_total",
                            "EVALSHA answered NOSCRIPT and fell back to EVAL.", NULL);
    }
    redis_client *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->base = base;
    c->host = strdup(host);
    c->port = port;
    c->backoff_ms = 100;
    c->retry_ev = evtimer_new(base, redis_on_retry, c);
    if (c->host == NULL || c->retry_ev == NULL) {
        redis_client_free(c);
        return NULL;
    }
    redis_connect(c);
    return c;
}

bool redis_client_connected(const redis_client *c)
{
    return c->connected;
}

void redis_script_init(redis_script *s, const char *name, const char *source)
{
    unsigned char md[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)source, strlen(source), md);
    s->name = name;
    s->source = source;
    for (int i = 0; i < SHA_DIGEST_LENGTH; i++)
        snprintf(s->sha1 + 2 * i, 3, "%02x", md[i]);
}

/* A script call in flight: arguments are kept for the NOSCRIPT retry. */
typedef struct redis_call {
    redis_client *c;
    const redis_script *script;
    redis_reply_fn cb;
    void *arg;
    bool retried;
    int argc; /* EVALSHA sha nkeys args... */
    char **argv;
    size_t *argvlen;
} redis_call;

static void redis_call_free(redis_call *call)
{
    for (int i = 0; i < call->argc; i++)
        free(call->argv[i]);
    free(call->argv);
    free(call->argvlen);
    free(call);
}

static void redis_on_script_reply(redisAsyncContext *ac, void *r, void *priv)
{
    redis_call *call = priv;
    redisReply *reply = r;
    if (reply && reply->type == REDIS_REPLY_ERROR && strncmp(reply->str, "NOSCRIPT", 8) == 0 &&
        !call->retried && call->c->connected) {
        /* Resend as EVAL with the full source: it runs and caches the script. */
        call->retried = true;
        metrics_add(redis_m_noscript, 1);
        free(call->argv[0]);
        free(call->argv[1]);
        call->argv[0] = strdup("EVAL");
        call->argv[1] = strdup(call->script->source);
        call->argvlen[0] = 4;
        call->argvlen[1] = strlen(call->script->source);
        if (call->argv[0] && call->argv[1] &&
            redisAsyncCommandArgv(call->c->ac, redis_on_script_reply, call, call->argc,
                                  (const char **)call->argv, call->argvlen) == REDIS_OK)
            return;
        reply = NULL;
    }
    if (call->cb)
        call->cb(reply, reply ? NULL : "redis connection lost", call->arg);
    redis_call_free(call);
}

int redis_evalsha(redis_client *c, const redis_script *s, int nkeys, int argc, const char **argv,
                  const size_t *argvlen, redis_reply_fn cb, void *arg)
{
    if (!c->connected || c->ac == NULL)
        return -1;
    redis_call *call = calloc(1, sizeof(*call));
    if (call == NULL)
        return -1;
    call->c = c;
    call->script = s;
    call->cb = cb;
    call->arg = arg;
    call->argc = argc + 3;
    call->argv = calloc((size_t)call->argc, sizeof(char *));
    call->argvlen = calloc((size_t)call->argc, sizeof(size_t));
    if (call->argv == NULL || call->argvlen == NULL) {
        call->argc = 0;
        redis_call_free(call);
        return -1;
    }
    char nk[16];
    snprintf(nk, sizeof(nk), "%d", nkeys);
    call->argv[0] = strdup("EVALSHA");
    call->argv[1] = strdup(s->sha1);
    call->argv[2] = strdup(nk);
    call->argvlen[0] = 7;
    call->argvlen[1] = 40;
    call->argvlen[2] = strlen(nk);
    bool ok = call->argv[0] && call->argv[1] && call->argv[2];
    for (int i = 0; i < argc && ok; i++) {
        call->argv[i + 3] = malloc(argvlen[i] + 1);
        if (call->argv[i + 3] == NULL) {
            ok = false;
            break;
        }
        memcpy(call->argv[i + 3], argv[i], argvlen[i]);
        call->argv[i + 3][argvlen[i]] = '\0';
        call->argvlen[i + 3] = argvlen[i];
    }
    if (!ok || redisAsyncCommandArgv(c->ac, redis_on_script_reply, call, call->argc,
                                     (const char **)call->argv, call->argvlen) != REDIS_OK) {
        redis_call_free(call);
        return -1;
    }
    return 0;
}

typedef struct redis_plain {
    redis_reply_fn cb;
    void *arg;
} redis_plain;

static void redis_on_reply(redisAsyncContext *ac, void *r, void *priv)
{
    redis_plain *p = priv;
    if (p->cb)
        p->cb(r, r ? NULL : "redis connection lost", p->arg);
    free(p);
}

int redis_command(redis_client *c, int argc, const char **argv, const size_t *argvlen,
                  redis_reply_fn cb, void *arg)
{
    if (!c->connected || c->ac == NULL)
        return -1;
    redis_plain *p = malloc(sizeof(*p));
    if (p == NULL)
        return -1;
    p->cb = cb;
    p->arg = arg;
    if (redisAsyncCommandArgv(c->ac, redis_on_reply, p, argc, argv, argvlen) != REDIS_OK) {
        free(p);
        return -1;
    }
    return 0;
}

void redis_client_free(redis_client *c)
{
    if (c == NULL)
        return;
    c->closing = true;
    if (c->ac)
        redisAsyncFree(c->ac); /* calls pending callbacks with NULL replies */
    if (c->retry_ev)
        event_free(c->retry_ev);
    free(c->host);
    free(c);
}

bool redis_sync_alive(redisContext *ctx)
{
    if (ctx == NULL)
        return false;
    if (ctx->err == 0 && ctx->fd >= 0) {
        /* no reply is awaited between uses: anything readable is the end */
        struct pollfd p = {.fd = ctx->fd, .events = POLLIN};
        if (poll(&p, 1, 0) > 0) {
            char b;
            if (recv(ctx->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) <= 0 || (p.revents & POLLHUP))
                ctx->err = REDIS_ERR_EOF;
        }
    }
    if (ctx->err == 0)
        return true;
    if (redisReconnect(ctx) != REDIS_OK)
        return false;
    log_info("redis_connected", "%s:%d (reconnected)", ctx->tcp.host ? ctx->tcp.host : "?",
             ctx->tcp.port);
    return true;
}

redisContext *redis_sync_connect(const char *host, int port, int timeout_ms, char *err,
                                 size_t errlen)
{
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    redisContext *ctx = redisConnectWithTimeout(host, port, tv);
    if (ctx == NULL || ctx->err) {
        snprintf(err, errlen, "redis %s:%d: %s", host, port, ctx ? ctx->errstr : "out of memory");
        if (ctx)
            redisFree(ctx);
        return NULL;
    }
    redisSetTimeout(ctx, tv);
    return ctx;
}

redisReply *redis_sync_eval(redisContext *ctx, const redis_script *s, int nkeys, int argc,
                            const char **argv, const size_t *argvlen, char *err, size_t errlen)
{
    int n = argc + 3;
    const char **av = calloc((size_t)n, sizeof(char *));
    size_t *al = calloc((size_t)n, sizeof(size_t));
    redisReply *r = NULL;
    char nk[16];
    if (av == NULL || al == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    snprintf(nk, sizeof(nk), "%d", nkeys);
    av[0] = "EVALSHA";
    al[0] = 7;
    av[1] = s->sha1;
    al[1] = 40;
    av[2] = nk;
    al[2] = strlen(nk);
    for (int i = 0; i < argc; i++) {
        av[i + 3] = argv[i];
        al[i + 3] = argvlen[i];
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        r = redisCommandArgv(ctx, n, av, al);
        if (r == NULL) {
            snprintf(err, errlen, "redis: %s", ctx->errstr);
            goto out;
        }
        if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0 && attempt == 0) {
            freeReplyObject(r);
            r = NULL;
            av[0] = "EVAL";
            al[0] = 4;
            av[1] = s->source;
            al[1] = strlen(s->source);
            continue;
        }
        break;
    }
out:
    free(av);
    free(al);
    return r;
}
