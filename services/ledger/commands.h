/*
 * commands: the ledger's operator commands, run by the same binary.
 *
 *   reconcile [--card-prefix P] [--retries N] [--format text|json]
 *                               checks the invariants of the design: the
 *       journal sums to zero per entry and per account; every offset the
 *       ledger passed is exactly one entry or one rejection; for every card
 *       and wallet, Redis = ledger + holds not yet posted - top-ups not yet
 *       credited; no hold without an event. Prints a report (text, or one
 *       JSON object); exit 1 on any difference, 3 when it cannot run.
 *   rebuild-cache               recomputes every card's wallets, holds and
 *       cap counters in Redis from PostgreSQL plus the swipe events beyond
 *       the ledger's stored offsets (read from Kafka), exactly.
 *   allocate --fund SOURCE | --programme NAME  --year YYYY --amount-fen N
 *            --ref ID          puts money into a fund or a programme
 *       budget (an allocation entry, idempotent by --ref).
 */
#ifndef LEDGER_COMMANDS_H
#define LEDGER_COMMANDS_H

#include "common/calendar.h"
#include "common/config.h"
#include "common/daemon.h"

#include <stdint.h>

typedef struct ledger_config {
    daemon_config d;
    char *group;           /* ONECARD_LEDGER_GROUP */
    char *instance;        /* ONECARD_LEDGER_INSTANCE */
    int64_t batch_max;     /* ONECARD_LEDGER_BATCH */
    int64_t inflight_max;  /* ONECARD_LEDGER_INFLIGHT */
    int64_t tz_offset_min; /* ONECARD_TZ_OFFSET_MIN */
    int64_t watch_s;       /* ONECARD_LEDGER_WATCH_S */
} ledger_config;

#define LEDGER_CONFIG_ROWS(c)                                                                      \
    {"ONECARD_LEDGER_GROUP",                                                                       \
     CONFIG_STR,                                                                                   \
     &(c)->group,                                                                                  \
     "onecard-ledger",                                                                             \
     0,                                                                                            \
     0,                                                                                            \
     "consumer group (its offsets are stored in PostgreSQL)"},                                     \
        {"ONECARD_LEDGER_INSTANCE",                                                                \
         CONFIG_STR,                                                                               \
         &(c)->instance,                                                                           \
         "ledger-{host}",                                                                          \
         0,                                                                                        \
         0,                                                                                        \
         "static group member id, unique per ledger process (\"\" for dynamic membership)"},       \
        {"ONECARD_LEDGER_BATCH",                                                                   \
         CONFIG_INT,                                                                               \
         &(c)->batch_max,                                                                          \
         "2000",                                                                                   \
         1,                                                                                        \
         100000,                                                                                   \
         "events applied per PostgreSQL transaction, at most"},                                    \
        {"ONECARD_LEDGER_INFLIGHT",                                                                \
         CONFIG_INT,                                                                               \
         &(c)->inflight_max,                                                                       \
         "100000",                                                                                 \
         1,                                                                                        \
         10000000,                                                                                 \
         "committed entries whose effects may await acknowledgement"},                             \
        {"ONECARD_LEDGER_WATCH_S",                                                                 \
         CONFIG_INT,                                                                               \
         &(c)->watch_s,                                                                            \
         "60",                                                                                     \
         0,                                                                                        \
         86400,                                                                                    \
         "seconds between two light reconciles and budget gauges (watch.h), 0: none"},             \
        CALENDAR_CONFIG_ROW(&(c)->tz_offset_min)

/* Runs argv[0] (a name of main.c's command table, common/cli.h) as a
 * command. Returns the process exit code: CLI_OK, CLI_REFUSED (differences,
 * a refused allocation), CLI_USAGE, CLI_DEPENDENCY. */
int commands_run(int argc, char **argv, const config_var *table, ledger_config *cfg);

#endif
