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

int persons_add_command(registry *r, int argc, char **argv);
int persons_modify_command(registry *r, int argc, char **argv);
int persons_show_command(registry *r, int argc, char **argv);
/* person eligible ITEM [--limit N]: the active persons the item's rule
 * admits today (its application aside: who may apply), youngest first, one
 * a line: person id, village, town, district. */
int persons_eligible_command(registry *r, int argc, char **argv);

#endif
