/*
 * cards: the operator commands on a card.
 *
 *   card issue PERSON_ID [--pin PIN] --actor A      (prints the card and
 *          its PIN; one card in use per person)
 *   card reset-pin CARD_NO --pin PIN --actor A      (also clears a PIN lock)
 *   card freeze|unfreeze CARD_NO --reason R --actor A
 *   card replace CARD_NO --reason lost|damaged|other [--pin PIN]
 *          [--wait SECONDS] --actor A   (a new card; its balances follow:
 *          carryover.h)
 *
 * Handlers of commands.h's table: each returns the exit code (0, 1
 * refused, 3 failed) or COMMANDS_USAGE. Blocking; one thread.
 */
#ifndef ELIG_CARDS_H
#define ELIG_CARDS_H

#include "registry.h"

int cards_issue_command(registry *r, int argc, char **argv);
int cards_reset_pin_command(registry *r, int argc, char **argv);
int cards_freeze_command(registry *r, int argc, char **argv);
int cards_unfreeze_command(registry *r, int argc, char **argv);
int cards_replace_command(registry *r, int argc, char **argv);

#endif
