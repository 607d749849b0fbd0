/*
 * dcache: terminals, providers and the catalogue, cached. See dcache.h.
 */
#include "dcache.h"
#include "common/directory.h"
#include "common/event.h"
#include "common/keys.h"
#include "common/log.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DCACHE_BUCKETS   4096
#define DCACHE_MAX_ITEMS 512

typedef struct dcache_entry {
    struct dcache_entry *next;
    char kind; /* 't' or 'p' */
    int64_t loaded_ms;
    union {
        dcache_terminal t;
        dcache_provider p;
    } u;
} dcache_entry;

static dcache_entry *dcache_table[DCACHE_BUCKETS];
static redis_client *dcache_redis;
static int64_t dcache_ttl_ms;
static dcache_item dcache_items[DCACHE_MAX_ITEMS];
static int dcache_nitems;
static bool dcache_loaded;
static struct event *dcache_timer;

static unsigned dcache_hash(char kind, const char *id)
{
    unsigned h = 2166136261u ^ (unsigned char)kind;
    for (const unsigned char *p = (const unsigned char *)id; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h % DCACHE_BUCKETS;
}

static dcache_entry *dcache_find(char kind, const char *id, bool create)
{
    unsigned b = dcache_hash(kind, id);
    for (dcache_entry *e = dcache_table[b]; e; e = e->next) {
        const char *eid = kind == 't' ? e->u.t.id : e->u.p.id;
        if (e->kind == kind && strcmp(eid, id) == 0)
            return e;
    }
    if (!create)
        return NULL;
    dcache_entry *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return NULL;
    e->kind = kind;
    snprintf(kind == 't' ? e->u.t.id : e->u.p.id, 65, "%s", id);
    e->next = dcache_table[b];
    dcache_table[b] = e;
    return e;
}

/* ------------------------------------------------------------- terminals */

typedef struct dcache_wait {
    char kind;
    char id[65];
    dcache_terminal_fn tcb;
    dcache_provider_fn pcb;
    void *arg;
} dcache_wait;

static void dcache_on_hash(redisReply *r, const char *errstr, void *arg)
{
    dcache_wait *w = arg;
    if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
        const char *why = r && r->type == REDIS_REPLY_ERROR ? r->str : errstr;
        if (w->kind == 't')
            w->tcb(w->arg, NULL, why ? why : "redis error");
        else
            w->pcb(w->arg, NULL, why ? why : "redis error");
        free(w);
        return;
    }
    /* Entries for unknown ids are not kept: a flood of made-up ids must
     * not grow the table. */
    dcache_entry tmp;
    memset(&tmp, 0, sizeof(tmp));
    dcache_entry *e = &tmp;
    if (r->elements > 0) {
        dcache_entry *found = dcache_find(w->kind, w->id, true);
        if (found)
            e = found;
    }
    snprintf(w->kind == 't' ? e->u.t.id : e->u.p.id, 65, "%s", w->id);
    e->loaded_ms = event_now_ms();
    if (w->kind == 't') {
        dcache_terminal *t = &e->u.t;
        t->known = r->elements > 0;
        t->active = false;
        for (size_t i = 0; i + 1 < r->elements; i += 2) {
            const char *k = r->element[i]->str, *v = r->element[i + 1]->str;
            if (!k || !v)
                continue;
            if (strcmp(k, "provider") == 0)
                snprintf(t->provider, sizeof(t->provider), "%s", v);
            else if (strcmp(k, "secret") == 0)
                snprintf(t->secret, sizeof(t->secret), "%s", v);
            else if (strcmp(k, "status") == 0)
                t->active = strcmp(v, "active") == 0;
        }
        w->tcb(w->arg, t, NULL);
    } else {
        dcache_provider *p = &e->u.p;
        p->known = r->elements > 0;
        p->suspended = false;
        p->items[0] = '\0';
        for (size_t i = 0; i + 1 < r->elements; i += 2) {
            const char *k = r->element[i]->str, *v = r->element[i + 1]->str;
            if (!k || !v)
                continue;
            if (strcmp(k, "status") == 0)
                p->suspended = strcmp(v, "active") != 0;
            else if (strcmp(k, "items") == 0)
                snprintf(p->items, sizeof(p->items), ",%s,", v);
        }
        w->pcb(w->arg, p, NULL);
    }
    free(w);
}

static void dcache_load(char kind, const char *id, dcache_terminal_fn tcb, dcache_provider_fn pcb,
                        void *arg)
{
    char key[KEYS_MAX];
    int klen =
        kind == 't' ? keys_terminal(key, sizeof(key), id) : keys_provider(key, sizeof(key), id);
    dcache_wait *w = calloc(1, sizeof(*w));
    const char *argv[] = {"HGETALL", key};
    size_t argvlen[] = {7, klen < 0 ? 0 : (size_t)klen};
    if (w == NULL || klen < 0) {
        free(w);
        if (kind == 't')
            tcb(arg, NULL, "bad terminal id");
        else
            pcb(arg, NULL, "bad provider id");
        return;
    }
    w->kind = kind;
    snprintf(w->id, sizeof(w->id), "%s", id);
    w->tcb = tcb;
    w->pcb = pcb;
    w->arg = arg;
    if (redis_command(dcache_redis, 2, argv, argvlen, dcache_on_hash, w) < 0) {
        free(w);
        if (kind == 't')
            tcb(arg, NULL, "redis not connected");
        else
            pcb(arg, NULL, "redis not connected");
    }
}

void dcache_terminal_get(const char *id, dcache_terminal_fn cb, void *arg)
{
    dcache_entry *e = dcache_find('t', id, false);
    if (e && event_now_ms() - e->loaded_ms < dcache_ttl_ms) {
        cb(arg, &e->u.t, NULL);
        return;
    }
    dcache_load('t', id, cb, NULL, arg);
}

void dcache_provider_get(const char *id, dcache_provider_fn cb, void *arg)
{
    dcache_entry *e = dcache_find('p', id, false);
    if (e && event_now_ms() - e->loaded_ms < dcache_ttl_ms) {
        cb(arg, &e->u.p, NULL);
        return;
    }
    dcache_load('p', id, NULL, cb, arg);
}

bool dcache_provider_designated(const dcache_provider *p, const char *item)
{
    char needle[80];
    snprintf(needle, sizeof(needle), ",%s,", item);
    return strstr(p->items, needle) != NULL;
}

/* ------------------------------------------------------------- catalogue */

static void dcache_on_catalogue(redisReply *r, const char *errstr, void *arg)
{
    if (r == NULL || r->type != REDIS_REPLY_ARRAY)
        return; /* keep the last catalogue; the next tick retries */
    int n = 0;
    for (size_t i = 0; i + 1 < r->elements && n < DCACHE_MAX_ITEMS; i += 2) {
        const char *code = r->element[i]->str, *info = r->element[i + 1]->str;
        if (!code || !info)
            continue;
        dcache_item *it = &dcache_items[n];
        directory_value v;
        char why[200];
        if (strlen(code) >= sizeof(it->code) || strlen(info) >= sizeof(it->info) ||
            directory_item_parse(info, &v, why, sizeof(why)) < 0) {
            /* an item nobody can swipe is better than one read wrong;
             * said once, not every refresh */
            if (!dcache_loaded)
                log_warn("catalogue_item_skipped", "%.64s: %s", code,
                         strlen(code) >= sizeof(it->code) || strlen(info) >= sizeof(it->info)
                             ? "code or value too long"
                             : why);
            continue;
        }
        snprintf(it->code, sizeof(it->code), "%s", code);
        snprintf(it->info, sizeof(it->info), "%s", info);
        memcpy(it->wallet, v.wallet, sizeof(it->wallet));
        memcpy(it->category, v.category, sizeof(it->category));
        it->standard_fen = v.standard_fen;
        n++;
    }
    dcache_nitems = n;
    if (!dcache_loaded)
        log_info("catalogue_loaded", "%d item(s)", n);
    dcache_loaded = true;
}

static void dcache_on_tick(evutil_socket_t fd, short what, void *arg)
{
    const char *argv[] = {"HGETALL", KEYS_CATALOGUE};
    size_t argvlen[] = {7, strlen(KEYS_CATALOGUE)};
    redis_command(dcache_redis, 2, argv, argvlen, dcache_on_catalogue, NULL);
}

const dcache_item *dcache_item_get(const char *code)
{
    for (int i = 0; i < dcache_nitems; i++)
        if (strcmp(dcache_items[i].code, code) == 0)
            return &dcache_items[i];
    return NULL;
}

bool dcache_catalogue_loaded(void)
{
    return dcache_loaded;
}

int dcache_setup(struct event_base *base, redis_client *redis, int64_t ttl_ms)
{
    dcache_redis = redis;
    dcache_ttl_ms = ttl_ms;
    dcache_timer = event_new(base, -1, EV_PERSIST, dcache_on_tick, NULL);
    struct timeval tv = {ttl_ms / 1000, (ttl_ms % 1000) * 1000};
    if (dcache_timer == NULL || event_add(dcache_timer, &tv) < 0)
        return -1;
    struct timeval now = {0, 1000};
    event_active(dcache_timer, EV_TIMEOUT, 0);
    (void)now;
    return 0;
}

void dcache_cleanup(void)
{
    if (dcache_timer)
        event_free(dcache_timer);
    dcache_timer = NULL;
    for (int b = 0; b < DCACHE_BUCKETS; b++) {
        dcache_entry *e = dcache_table[b];
        while (e) {
            dcache_entry *n = e->next;
            free(e);
            e = n;
        }
        dcache_table[b] = NULL;
    }
}
