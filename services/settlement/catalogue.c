/*
 * catalogue: item caps and categories from Redis. See catalogue.h.
 */
#include "catalogue.h"

#include "common/keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int catalogue_load(catalogue *c, redisContext *rc, char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    redisReply *r = redisCommand(rc, "HGETALL %s", KEYS_CATALOGUE);
    if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
        snprintf(err, errlen, "redis: HGETALL %s failed: %s", KEYS_CATALOGUE,
                 r && r->type == REDIS_REPLY_ERROR ? r->str : rc->errstr);
        if (r)
            freeReplyObject(r);
        return -1;
    }
    c->items = calloc(r->elements / 2 + 1, sizeof(*c->items));
    if (c->items == NULL) {
        freeReplyObject(r);
        snprintf(err, errlen, "out of memory for the catalogue");
        return -1;
    }
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        const redisReply *k = r->element[i], *v = r->element[i + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            continue;
        catalogue_item *it = &c->items[c->n];
        char why[200];
        if (k->len >= sizeof(it->code) ||
            directory_item_parse(v->str, &it->v, why, sizeof(why)) < 0) {
            fprintf(stderr, "settlement: catalogue item %.64s skipped: %s\n", k->str,
                    k->len >= sizeof(it->code) ? "code too long" : why);
            continue;
        }
        snprintf(it->code, sizeof(it->code), "%s", k->str);
        c->n++;
    }
    freeReplyObject(r);
    return 0;
}

const catalogue_item *catalogue_find(const catalogue *c, const char *code)
{
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->items[i].code, code) == 0)
            return &c->items[i];
    return NULL;
}

void catalogue_free(catalogue *c)
{
    free(c->items);
    memset(c, 0, sizeof(*c));
}
