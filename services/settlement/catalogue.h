/*
 * catalogue: the service catalogue as settlement needs it: each item's
 * daily cap (for the "amounts clustered at a cap" hold) and category (for
 * the utilisation report), read from the directory's catalogue hash in
 * Redis (libs/common/directory.c writes item = "wallet|standard|daily_cap|
 * annual_cap|category" and parses it back: one format, one parser, with a
 * fuzz target). Command-line only (blocking).
 */
#ifndef SETTLEMENT_CATALOGUE_H
#define SETTLEMENT_CATALOGUE_H

#include "common/directory.h"

#include <hiredis/hiredis.h>
#include <stddef.h>
#include <stdint.h>

typedef struct catalogue_item {
    char code[65];
    directory_value v; /* parsed by directory_item_parse */
} catalogue_item;

typedef struct catalogue {
    catalogue_item *items;
    int n;
} catalogue;

/* Loads every item (malformed ones are reported on stderr and skipped).
 * 0, or -1 with err when Redis cannot be read. */
int catalogue_load(catalogue *c, redisContext *rc, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* The item, or NULL. */
const catalogue_item *catalogue_find(const catalogue *c, const char *code);

void catalogue_free(catalogue *c);

#endif
