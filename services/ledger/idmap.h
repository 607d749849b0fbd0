/*
 * idmap: a string -> int64 map for one batch (account names to ids, event
 * ids seen), open addressing over FNV-1a. Keys are copied into an arena
 * owned by the map; idmap_clear keeps the memory for the next batch.
 */
#ifndef LEDGER_IDMAP_H
#define LEDGER_IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct idmap {
    struct idmap_slot *slots;
    size_t cap, n;
    char *arena;
    size_t arena_len, arena_cap;
} idmap;

/* Returns a pointer to the value of key, inserting it with value v when it
 * is new (*added says which); NULL when memory ran out. */
int64_t *idmap_put(idmap *m, const char *key, int64_t v, bool *added);
/* The value's pointer or NULL when absent. */
int64_t *idmap_get(const idmap *m, const char *key);
void idmap_clear(idmap *m);
void idmap_free(idmap *m);

#endif
