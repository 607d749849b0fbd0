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
 *
 * After the items, the tier tables: a header "tier when value
 * legal_basis", then one row per figure (see rules.h, rules_tier_row):
 *
 *   care        grade=1;care=3                  101000  seed 001 …
 *   limb-rehab  grade=1;age<18                  3600000 seed 001 …
 *   dibao30     all                             3000    seed 001 …
 *
 * The tables are checked whole: for every person (grade, care level,
 * category, household, age) eligible for an item of a tier, exactly one
 * row of that tier must hold; a gap or an overlap is refused naming the
 * rows and such a person. A figure changes with the file, not the code.
 */
#ifndef ELIG_CATALOGUE_H
#define ELIG_CATALOGUE_H

#include "rules.h"

#include <stddef.h>

#define CATALOGUE_MAX_ITEMS 256

typedef struct catalogue {
    char version[32];
    /* read from the store (registry_catalogue): the version's id, the day
     * it is in force from, and the day the next version takes over (0: none
     * yet). A file just parsed: all 0. */
    int version_id;
    int32_t effective_day, until_day;
    int nitems;
    rules_item *items;  /* malloc'd; catalogue_free */
    rules_tiers *tiers; /* malloc'd; every item's tiers points here */
    /* each tier row's `when` as written, and its legal_basis (the store's) */
    char (*tier_when)[160], (*tier_basis)[400];
} catalogue;

/* The tier names, in rules_tier order; the unit names, in rules_unit order. */
extern const char *const catalogue_tier_names[4];
extern const char *const catalogue_unit_names[RULES_UNITS];

/* Parses the file's bytes. Returns 0, or -1 with "line N: reason" in err
 * (nothing is kept). */
int catalogue_parse(catalogue *c, const char *buf, size_t len, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* The same for a catalogue read back from the store, which passed
 * catalogue_parse when it was loaded: every line is parsed and checked
 * again, but not the tier tables' grid (tens of milliseconds, on every
 * command and feed batch that reads the catalogue). */
int catalogue_parse_stored(catalogue *c, const char *buf, size_t len, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Reads and parses a file. */
int catalogue_load_file(catalogue *c, const char *path, char *err, size_t errlen)
    __attribute__((warn_unused_result));
void catalogue_free(catalogue *c);
/* The item with code, or NULL. */
const rules_item *catalogue_find(const catalogue *c, const char *code);

/* The catalogue versions (0028_catalogue_versions.sql): the version in
 * force on day is the one with the latest effective day on or before it,
 * ties the later loaded (the larger id); the SQL function
 * elig_catalogue_version_at says the same for queries. v: n versions in
 * any order. Returns the index of the version in force, or -1 when none
 * is yet; *until: the next version's effective day after day (0: none). */
typedef struct catalogue_version {
    int id;
    int32_t effective_day;
} catalogue_version;
int catalogue_version_pick(const catalogue_version *v, int n, int32_t day, int32_t *until);

/* What changed from catalogue a to b, one call of fn per difference: a's
 * items in a's order (code order, as the store reads them), then the items
 * b adds, then the tier rows the same way. op '+' an item (or tier row) in
 * b only, '-' in a only
 * (field, old and new NULL), '~' a field changed (old → new, as the file
 * writes it). Tier rows are named "tier WHEN" (e.g. "care grade=1;care=3").
 * The version label is not compared. Returns how many differences. */
typedef void catalogue_diff_fn(void *ctx, char op, const char *code, const char *field,
                               const char *old, const char *now);
int catalogue_diff(const catalogue *a, const catalogue *b, catalogue_diff_fn *fn, void *ctx);

#endif
