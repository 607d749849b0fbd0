/*
 * categories: provider categories from Redis, blocking. See categories.h.
 */
#include "categories.h"

#include "common/event.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/redis.h"

#include <stdbool.h>
#include <string.h>

void categories_init(categories *d, const char *host, int port)
{
    memset(d, 0, sizeof(*d));
    d->host = host;
    d->port = port;
}

int categories_read(categories *d, PGresult *providers, pg_array *ids, pg_array *cats)
{
    int rows = PQntuples(providers);
    int64_t now = event_now_ms();
    /* two tries: a connection Redis closed (a restart) shows only when it
     * is used, and then a fresh one is made at once */
    bool broken = false;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (d->redis == NULL && (attempt > 0 || now >= d->retry_ms) && d->host) {
            char rerr[256];
            d->redis = redis_sync_connect(d->host, d->port, 1000, rerr, sizeof(rerr));
            if (d->redis == NULL) {
                log_warn("directory_unavailable", "provider categories wait: %s", rerr);
                d->retry_ms = now + 5000;
            }
        }
        if (d->redis == NULL)
            return -1;
        for (int row = 0; row < rows; row++) {
            char key[KEYS_MAX];
            keys_provider(key, sizeof(key), PQgetvalue(providers, row, 0));
            redisAppendCommand(d->redis, "HGET %s category", key);
        }
        pg_array_reset(ids);
        pg_array_reset(cats);
        broken = false;
        for (int row = 0; row < rows && !broken; row++) {
            redisReply *rep = NULL;
            if (redisGetReply(d->redis, (void **)&rep) != REDIS_OK || rep == NULL) {
                broken = true;
                break;
            }
            if (rep->type == REDIS_REPLY_STRING) {
                pg_array_add(ids, PQgetvalue(providers, row, 0));
                pg_array_add(cats, rep->str);
            } else if (rep->type == REDIS_REPLY_NIL) {
                /* not in the directory: the provider gets the "" prior */
                pg_array_add(ids, PQgetvalue(providers, row, 0));
                pg_array_add(cats, "");
            }
            freeReplyObject(rep);
        }
        if (!broken)
            break;
        log_warn("directory_unavailable", "provider categories: %s%s",
                 d->redis->errstr[0] ? d->redis->errstr : "no reply",
                 attempt == 0 ? ": reconnecting" : "");
        redisFree(d->redis);
        d->redis = NULL;
        d->retry_ms = now + 5000;
    }
    return 0;
}

void categories_cleanup(categories *d)
{
    if (d->redis)
        redisFree(d->redis);
    memset(d, 0, sizeof(*d));
}
