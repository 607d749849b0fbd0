/*
 * idmap: see idmap.h. Keys live in the arena as offsets, so growing the
 * arena never invalidates a slot.
 */
#include "idmap.h"

#include <stdlib.h>
#include <string.h>

struct idmap_slot {
    size_t key; /* offset + 1 into the arena; 0 = empty */
    int64_t value;
};

static uint64_t idmap_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static int idmap_grow(idmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 1024;
    struct idmap_slot *s = calloc(cap, sizeof(*s));
    if (s == NULL)
        return -1;
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].key == 0)
            continue;
        size_t j = idmap_hash(m->arena + m->slots[i].key - 1) & (cap - 1);
        while (s[j].key)
            j = (j + 1) & (cap - 1);
        s[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = s;
    m->cap = cap;
    return 0;
}

static struct idmap_slot *idmap_find(const idmap *m, const char *key)
{
    if (m->cap == 0)
        return NULL;
    size_t j = idmap_hash(key) & (m->cap - 1);
    while (m->slots[j].key) {
        if (strcmp(m->arena + m->slots[j].key - 1, key) == 0)
            return &m->slots[j];
        j = (j + 1) & (m->cap - 1);
    }
    return &m->slots[j];
}

int64_t *idmap_get(const idmap *m, const char *key)
{
    struct idmap_slot *s = idmap_find(m, key);
    return s && s->key ? &s->value : NULL;
}

int64_t *idmap_put(idmap *m, const char *key, int64_t v, bool *added)
{
    if ((m->n + 1) * 2 > m->cap && idmap_grow(m) < 0)
        return NULL;
    struct idmap_slot *s = idmap_find(m, key);
    if (s->key) {
        *added = false;
        return &s->value;
    }
    size_t len = strlen(key) + 1;
    if (m->arena_len + len > m->arena_cap) {
        size_t cap = m->arena_cap ? m->arena_cap : 16384;
        while (m->arena_len + len > cap)
            cap *= 2;
        char *a = realloc(m->arena, cap);
        if (a == NULL)
            return NULL;
        m->arena = a;
        m->arena_cap = cap;
    }
    memcpy(m->arena + m->arena_len, key, len);
    s->key = m->arena_len + 1;
    s->value = v;
    m->arena_len += len;
    m->n++;
    *added = true;
    return &s->value;
}

void idmap_clear(idmap *m)
{
    if (m->slots)
        memset(m->slots, 0, m->cap * sizeof(*m->slots));
    m->n = 0;
    m->arena_len = 0;
}

void idmap_free(idmap *m)
{
    free(m->slots);
    free(m->arena);
    memset(m, 0, sizeof(*m));
}
