/*
 * catalogue: the service catalogue, versioned data in the repository
 * (catalogue/catalogue-2026.tsv: 4 categories, 39 items), parsed and
 * checked here before `onecard-eligibility catalogue load` writes it to
 * PostgreSQL and to the directory.
 *
 * One item per line, tab-separated, with the header row of the file
 * naming the columns in order (see catalogue/README.md); '#' lines are
 * comments. Every field is checked (code shape, category, unit, tier,
 * the eligibility rule, amounts >= 0, real effective dates, yes/no flags)
 * and a bad line is reported with its line number: the whole file is
 * refused, since a half-loaded catalogue would issue the wrong money.
 */
#ifndef ELIG_CATALOGUE_H
#define ELIG_CATALOGUE_H

#include "rules.h"

#include <stddef.h>

#define CATALOGUE_MAX_ITEMS 256

typedef struct catalogue {
    char version[32];
    int nitems;
    rules_item *items; /* malloc'd; catalogue_free */
} catalogue;

/* Parses the file's bytes. Returns 0, or -1 with "line N: reason" in err
 * (nothing is kept). */
int catalogue_parse(catalogue *c, const char *buf, size_t len, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Reads and parses a file. */
int catalogue_load_file(catalogue *c, const char *path, char *err, size_t errlen)
    __attribute__((warn_unused_result));
void catalogue_free(catalogue *c);
/* The item with code, or NULL. */
const rules_item *catalogue_find(const catalogue *c, const char *code);

#endif
