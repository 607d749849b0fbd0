/*
 * dcache: the gateway's in-memory view of the directory: terminals,
 * providers and the service catalogue, read from Redis through the shared
 * key layout and kept for a short time (ONECARD_DIRECTORY_TTL_MS).
 *
 * Why a cache: a swipe's authorization script may only touch the card's
 * slot, so terminal and provider facts are read before it; caching them
 * keeps a swipe at two Redis round trips (nonce, script). The price is that
 * disabling a terminal or suspending a provider takes effect within the TTL.
 * A terminal's request budget (token bucket) lives in its entry.
 *
 * Loop thread only.
 */
#ifndef GATEWAY_DCACHE_H
#define GATEWAY_DCACHE_H

#include "common/redis.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct dcache_terminal {
    char id[65];
    bool known, active;
    char provider[65];
    char secret[129];
    double tokens; /* request budget */
    int64_t tokens_ms;
} dcache_terminal;

typedef struct dcache_provider {
    char id[65];
    bool known;
    bool suspended;
    char items[2048]; /* ",A,B,C," for a whole-word search */
} dcache_provider;

typedef struct dcache_item {
    char code[65];
    char info[160]; /* "wallet|standard|daily_cap|annual_cap|category" */
    char wallet[33];
    char category[65]; /* the item's category, a label of the swipe metrics */
    int64_t standard_fen;
} dcache_item;

/* err is NULL on success; the entry is valid until the next loop turn. */
typedef void (*dcache_terminal_fn)(void *arg, dcache_terminal *t, const char *err);
typedef void (*dcache_provider_fn)(void *arg, const dcache_provider *p, const char *err);

int dcache_setup(struct event_base *base, redis_client *redis, int64_t ttl_ms);
/* Calls cb now when the entry is fresh, else after reading Redis. */
void dcache_terminal_get(const char *id, dcache_terminal_fn cb, void *arg);
void dcache_provider_get(const char *id, dcache_provider_fn cb, void *arg);
/* The catalogue item, or NULL when unknown (refreshed every TTL). */
const dcache_item *dcache_item_get(const char *code);
bool dcache_catalogue_loaded(void);
bool dcache_provider_designated(const dcache_provider *p, const char *item);
void dcache_cleanup(void);

#endif
