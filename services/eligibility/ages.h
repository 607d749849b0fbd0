/*
 * ages: entitlements follow birthdays. An item's age limit (age<7,
 * age>=16, months<5) or a tier that depends on age (limb rehabilitation
 * under 18) changes what a card carries on the day a person's age changes,
 * with no event from anyone: the card must stop (or start) at the terminal
 * on that day.
 *
 * A day's sweep reads the holders of active and frozen cards born on that
 * day of a month (or on the 29th-31st when the day is a 1st: rules_age
 * moves their month there in short months), computes what each card
 * carries the day before and on the day (rules_entitlements), and
 * re-projects only the cards where that differs. elig_age_sweeps records
 * every day swept, in the transaction that records it, so a day is swept
 * once, and days missed while the daemon was down are caught up (31 at
 * most).
 *
 *   ages [--day YYYY-MM-DD] --actor A
 *
 * runs a day's sweep by hand (today by default; again for a day already
 * swept) and prints how many cards it re-projected. The daemon runs
 * ages_catch_up from its tick. Blocking; one thread.
 */
#ifndef ELIG_AGES_H
#define ELIG_AGES_H

#include "registry.h"

#include <stddef.h>
#include <stdint.h>

/* Sweeps day (days since 1970-01-01) and records it, audited as actor.
 * *cards: how many were re-projected. 0, or -1 with err (rolled back; nothing recorded). */
int ages_sweep(registry *r, int32_t day, const char *actor, int *cards, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Sweeps every day after the last one recorded, up to today (only today
 * when none is recorded; at most the last 31 days). 0, or -1 with err. */
int ages_catch_up(registry *r, int32_t today, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* The command (commands.h's table). 0, 1 (bad arguments), 2 (a store). */
int ages_command(registry *r, int argc, char **argv);

#endif
