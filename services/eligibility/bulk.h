/*
 * bulk: importing person and provider lists (CSV). See bulk.c; the row
 * formats are in import.h. Blocking; one thread.
 */
#ifndef ELIG_BULK_H
#define ELIG_BULK_H

#include "registry.h"

#include <stdbool.h>

/* what: persons | providers. since: the registration date of new persons
 * (YYYY-MM-DD). cards: issue a card to each new person (pin NULL: random,
 * printed). Returns the exit code (0, 1 when rows were refused, 2). */
int bulk_import(registry *r, const char *what, const char *path, const char *since, bool cards,
                const char *pin, const char *actor);

#endif
