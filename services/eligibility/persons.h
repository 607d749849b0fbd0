/*
 * persons: the operator commands on a person of the registry.
 *
 *   person add --national-id ID --name N --category C --grade G
 *          --care-level L --birth YYYY-MM-DD --district D --town T
 *          --village V --household H [--phone P] [--since YYYY-MM-DD]
 *          --actor A          (prints the person id; the national id is
 *          never stored, see ident.h)
 *   person modify PERSON_ID [--grade G] [--care-level L] [--household H]
 *          [--category C] [--status S] --effective YYYY-MM-DD --actor A
 *          (a change from a date; the card follows the status at once)
 *   person show PERSON_ID [--private yes]   (attributes, cards, changes,
 *          issuances, corrections, carry-overs, audit; the name only with
 *          --private yes)
 *
 * Handlers of commands.h's table: each returns the exit code (0, 1
 * refused, 3 failed) or COMMANDS_USAGE. Blocking; one thread.
 */
#ifndef ELIG_PERSONS_H
#define ELIG_PERSONS_H

#include "registry.h"

#include <stdbool.h>

int persons_add_command(registry *r, int argc, char **argv);
int persons_modify_command(registry *r, int argc, char **argv);
int persons_show_command(registry *r, int argc, char **argv);
/* person eligible ITEM [--limit N] [--after CURSOR]: the active persons
 * the item's rule admits today (its application aside: who may apply),
 * youngest first, one a line: person id, village, town, district; when
 * the page is full, the cursor of the next on stderr. */
int persons_eligible_command(registry *r, int argc, char **argv);

/* The action behind the command and GET /v1/items/{item}/eligible. */
typedef struct persons_eligible_query {
    const char *item;     /* an item code of the catalogue in force */
    const char *area_col; /* "village", "town", "district", or NULL: every area */
    const char *area;     /* the area's name when area_col is set */
    const char *after;    /* the previous page's cursor, or NULL: from the start */
    int limit;            /* at most this many persons */
    bool names;           /* column 5 is the name (else '') */
} persons_eligible_query;

/* Called for each eligible person: row i of res has person_id, village,
 * town, district, birth_date, name, then REGISTRY_PERSON_COLS. */
typedef void (*persons_eligible_fn)(void *arg, const PGresult *res, int i);

/* One eligible person as a JSON object into page->w (the API's and
 * `person eligible --format json`'s shape); arg: a persons_eligible_page. */
struct jsonw;
typedef struct persons_eligible_page {
    struct jsonw *w;
    bool names;
} persons_eligible_page;
void persons_eligible_json(persons_eligible_page *page, const PGresult *res, int i);

/* The active persons of pq's area the item's rule admits today, youngest
 * first (then by person id), after pq->after, at most pq->limit, read in
 * chunks so a page costs what it shows plus the rows its rule skips.
 * cursor: the next page's (pq->after) when the page is full, else "".
 * 0, 1 refused (unknown item, a malformed cursor; registry_refuse), 3
 * a store failed (CLI_DEPENDENCY). Blocking. */
int persons_eligible(registry *r, const persons_eligible_query *pq, persons_eligible_fn emit,
                     void *arg, char *cursor, size_t cursorlen);

#endif
