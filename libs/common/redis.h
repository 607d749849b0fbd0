/*
 * redis: the hiredis client on the service's libevent loop.
 *
 * One asynchronous connection per service, reconnected with a back-off when
 * it drops; commands issued while it is down fail at once (the caller
 * answers 503: fail closed). Lua scripts are registered once with their
 * SHA1 computed locally and run with EVALSHA; a NOSCRIPT answer (a restarted
 * or wiped Redis) is retried once with EVAL, which also loads the script.
 *
 * A blocking helper (redis_sync_*) serves command-line tools and tests.
 * Thread safety: the loop's thread only.
 */
#ifndef ONECARD_REDIS_H
#define ONECARD_REDIS_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>

struct event_base;

typedef struct redis_client redis_client;

typedef struct redis_script {
    const char *name;
    const char *source;
    char sha1[41];
} redis_script;

/* reply is NULL when the command failed (connection lost, not connected);
 * errstr then says why. The reply is owned by hiredis: copy what you keep. */
typedef void (*redis_reply_fn)(redisReply *reply, const char *errstr, void *arg);

/* Starts connecting to host:port; returns at once. NULL only on OOM. */
redis_client *redis_client_new(struct event_base *base, const char *host, int port);
bool redis_client_connected(const redis_client *c);

/* Computes the script's SHA1 (hex) from its source. */
void redis_script_init(redis_script *s, const char *name, const char *source);

/* Runs the script with keys then args. Returns 0 when sent (cb is called
 * exactly once), -1 when not connected (cb is not called). cb may be NULL
 * (fire and forget). Commands sent on one client reach Redis in order. */
int redis_evalsha(redis_client *c, const redis_script *s, int nkeys, int argc, const char **argv,
                  const size_t *argvlen, redis_reply_fn cb, void *arg);

/* Any other command, argv style. */
int redis_command(redis_client *c, int argc, const char **argv, const size_t *argvlen,
                  redis_reply_fn cb, void *arg);

void redis_client_free(redis_client *c);

/* Blocking connection with a timeout, for tools and tests. NULL with err. */
/* A synchronous connection, usable now: an idle one Redis closed (a
 * restart) still has no error until it is used, so what its socket holds
 * is looked at first (poll, without blocking): readable while idle means
 * the server's goodbye. Then, on any error, one redisReconnect. True when
 * usable. */
bool redis_sync_alive(redisContext *ctx);
redisContext *redis_sync_connect(const char *host, int port, int timeout_ms, char *err,
                                 size_t errlen);
/* EVALSHA with the NOSCRIPT fallback, blocking. Returns the reply (free
 * with freeReplyObject) or NULL with err. */
redisReply *redis_sync_eval(redisContext *ctx, const redis_script *s, int nkeys, int argc,
                            const char **argv, const size_t *argvlen, char *err, size_t errlen);

#endif
