/*
 * catalogue: item caps and categories from Redis. See catalogue.h.
 */
#include "catalogue.h"

#include "common/keys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Copies the next '|'-separated field of *s into out; advances *s. */
static int catalogue_field(const char **s, char *out, size_t outlen)
{
    const char *end = strchr(*s, '|');
    size_t n = end ? (size_t)(end - *s) : strlen(*s);
    if (n >= outlen)
        return -1;
    memcpy(out, *s, n);
    out[n] = '\0';
    *s += n + (end ? 1 : 0);
    if (end == NULL)
        *s = NULL;
    return 0;
}

static int catalogue_fen(const char *f, int64_t *out)
{
    char *end;
    if (*f < '0' || *f > '9') /* strtoll would skip spaces and take a sign */
        return -1;
    errno = 0;
    long long v = strtoll(f, &end, 10);
    if (*end != '\0' || errno || v > INT64_C(100000000000))
        return -1;
    *out = v;
    return 0;
}

int catalogue_parse(const char *value, catalogue_item *it, char *err, size_t errlen)
{
    static const char *const names[] = {"wallet", "standard", "daily_cap", "annual_cap",
                                        "category"};
    char f[5][72];
    const char *s = value;
    for (int i = 0; i < 5; i++) {
        if (s == NULL || catalogue_field(&s, f[i], sizeof(f[i])) < 0) {
            snprintf(err, errlen, "catalogue value: %s is %s", names[i],
                     s == NULL ? "missing" : "longer than 71");
            return -1;
        }
    }
    if (s != NULL) {
        snprintf(err, errlen, "catalogue value: more than 5 fields");
        return -1;
    }
    if (f[0][0] == '\0' || strlen(f[0]) >= sizeof(it->wallet) ||
        strlen(f[4]) >= sizeof(it->category)) {
        snprintf(err, errlen, "catalogue value: wallet empty, or wallet or category too long");
        return -1;
    }
    int64_t v[3];
    for (int i = 0; i < 3; i++)
        if (catalogue_fen(f[1 + i], &v[i]) < 0) {
            snprintf(err, errlen, "catalogue value: %s \"%.24s\" is not a fen amount", names[1 + i],
                     f[1 + i]);
            return -1;
        }
    memcpy(it->wallet, f[0], strlen(f[0]) + 1); /* lengths checked above */
    memcpy(it->category, f[4], strlen(f[4]) + 1);
    it->standard_fen = v[0];
    it->daily_cap_fen = v[1];
    it->annual_cap_fen = v[2];
    return 0;
}

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
        if (k->len >= sizeof(it->code) || catalogue_parse(v->str, it, why, sizeof(why)) < 0) {
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
