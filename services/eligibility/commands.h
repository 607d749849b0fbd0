/*
 * commands: the operator commands, run by the daemon's binary
 * (onecard-eligibility COMMAND ...), with the daemon's environment:
 *
 *   catalogue load FILE [--actor A]
 *   person add --national-id ID --name N --category C --grade G --care-level L
 *          --birth YYYY-MM-DD --district D --town T --village V --household H
 *          [--phone P] [--since YYYY-MM-DD] --actor A
 *   person modify PERSON_ID [--grade G] [--care-level L] [--household H]
 *          [--category C] [--status S] --effective YYYY-MM-DD --actor A
 *   person show PERSON_ID [--private yes]   (attributes, cards, changes,
 *          issuances, audit; the name only with --private yes)
 *   card issue PERSON_ID [--pin PIN] --actor A      (prints the card and PIN)
 *   card reset-pin CARD_NO --pin PIN --actor A      (also clears a PIN lock)
 *   card freeze|unfreeze CARD_NO --reason R --actor A
 *   card replace CARD_NO --reason lost|damaged|other [--pin PIN] [--wait S]
 *          --actor A      (a new card; its balances follow: carryover.h)
 *   provider add ID --name N --district D --category C --items A,B --actor A
 *   provider designate ID --items A,B --actor A
 *   provider suspend|reinstate ID --reason R --actor A
 *   terminal add ID --provider P --actor A          (prints the secret once)
 *   terminal disable ID --actor A
 *   import persons|providers FILE.csv [--since YYYY-MM-DD] [--issue-cards yes
 *          [--pin PIN]] --actor A         (bad rows: "row N: reason")
 *   import-feed FILE.csv --source AGENCY --period YYYY-MM   (feedfile.c)
 *   synth --persons N --providers M --seed S --out DIR
 *   rebuild-directory
 *   issue --period YYYY-MM [--actor A]
 *
 * Exit 0 on success, 1 when the input is refused (the reason on stderr,
 * nothing changed), 2 when a dependency failed.
 */
#ifndef ELIG_COMMANDS_H
#define ELIG_COMMANDS_H

#include "registry.h"

#include "common/calendar.h"
#include "common/config.h"

#define ELIG_CONFIG_ROWS(c)                                                                        \
    {"ONECARD_ID_SALT",                                                                            \
     CONFIG_STR,                                                                                   \
     &(c)->id_salt,                                                                                \
     "onecard-local-id-salt",                                                                      \
     0,                                                                                            \
     0,                                                                                            \
     "secret salt of person ids (hash of the national id)"},                                       \
        {"ONECARD_ELIGIBILITY_GROUP",                                                              \
         CONFIG_STR,                                                                               \
         &(c)->group,                                                                              \
         "onecard-eligibility",                                                                    \
         0,                                                                                        \
         0,                                                                                        \
         "the feed's consumer group (its offsets are stored in PostgreSQL)"},                      \
        {"ONECARD_ELIGIBILITY_INSTANCE",                                                           \
         CONFIG_STR,                                                                               \
         &(c)->instance,                                                                           \
         "eligibility-1",                                                                          \
         0,                                                                                        \
         0,                                                                                        \
         "the feed's group.instance.id: unique per process (static membership)"},                  \
        {"ONECARD_PIN_PEPPER",       CONFIG_STR, &(c)->pin_pepper, "onecard-local-pepper", 0, 0,   \
         "PIN pepper, the gateway's"},                                                             \
        CALENDAR_CONFIG_ROW(&(c)->tz_offset_min)

int commands_run(int argc, char **argv, const config_var *table, elig_config *cfg);

/* feedfile.c: a monthly agency list into EligibilityChanged events. */
int feedfile_run(registry *r, const char *path, const char *source, const char *period);

/* issue.c: the issuance run for a period. Returns the exit code. */
int issue_run(registry *r, const char *period, const char *actor);

#endif
