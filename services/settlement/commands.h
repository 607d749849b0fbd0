/*
 * commands: the settlement service's configuration and its operator
 * commands, run by the same binary as the daemon.
 *
 *   close --period P [--out DIR] [--wait S]   close a day or a month (close.h)
 *   release PROVIDER --period P --actor A     lift the holds on a payout
 *   bank-account PROVIDER ACCOUNT             where a provider is paid
 *   person-account PERSON ACCOUNT             where a person is paid (persons.h)
 *   report --period YYYY-MM --format json|csv utilisation (report.h)
 *
 * They print a report on stdout and return the exit code: 0 done, 1 a
 * difference or a refusal the operator must look at, 2 cannot run (bad
 * arguments, a dependency down).
 */
#ifndef SETTLEMENT_COMMANDS_H
#define SETTLEMENT_COMMANDS_H

#include "common/calendar.h"
#include "common/config.h"
#include "common/daemon.h"

#include <stdint.h>
#include <stdio.h>

typedef struct settlement_config {
    daemon_config d;
    char *group;            /* ONECARD_SETTLEMENT_GROUP */
    char *instance;         /* ONECARD_SETTLEMENT_INSTANCE */
    char *ledger_group;     /* ONECARD_LEDGER_GROUP */
    int64_t batch_max;      /* ONECARD_SETTLEMENT_BATCH */
    int64_t tz_offset_min;  /* ONECARD_TZ_OFFSET_MIN */
    char *payout_dir;       /* ONECARD_SETTLEMENT_PAYOUT_DIR */
    int64_t max_swipes_day; /* ONECARD_SETTLEMENT_MAX_SWIPES_PER_CARD_DAY */
    int64_t min_hop_s;      /* ONECARD_SETTLEMENT_MIN_PROVIDER_HOP_S */
    int64_t cap_band_bp;    /* ONECARD_SETTLEMENT_CAP_BAND_BP */
    int64_t cap_share_bp;   /* ONECARD_SETTLEMENT_CAP_SHARE_BP */
    int64_t cap_min_swipes; /* ONECARD_SETTLEMENT_CAP_MIN_SWIPES */
    int64_t close_pause_ms; /* ONECARD_SETTLEMENT_CLOSE_PAUSE_MS (tests) */
} settlement_config;

#define SETTLEMENT_ROW(name, type, target, def, min, max, help)                                    \
    {                                                                                              \
        name, type, target, def, min, max, help                                                    \
    }

#define SETTLEMENT_CONFIG_ROWS(c)                                                                  \
    SETTLEMENT_ROW("ONECARD_SETTLEMENT_GROUP", CONFIG_STR, &(c)->group, "onecard-settlement", 0,   \
                   0, "consumer group (its offsets are stored in PostgreSQL)"),                    \
        SETTLEMENT_ROW("ONECARD_SETTLEMENT_INSTANCE", CONFIG_STR, &(c)->instance,                  \
                       "settlement-{host}", 0, 0,                                                  \
                       "static group member id (\"\" for dynamic membership)"),                    \
        SETTLEMENT_ROW("ONECARD_LEDGER_GROUP", CONFIG_STR, &(c)->ledger_group, "onecard-ledger",   \
                       0, 0, "the ledger's consumer group (close waits for it to catch up)"),      \
        SETTLEMENT_ROW("ONECARD_SETTLEMENT_BATCH", CONFIG_INT, &(c)->batch_max, "2000", 1, 100000, \
                       "postings applied per PostgreSQL transaction, at most"),                    \
        CALENDAR_CONFIG_ROW(&(c)->tz_offset_min),                                                  \
        SETTLEMENT_ROW("ONECARD_SETTLEMENT_PAYOUT_DIR", CONFIG_STR, &(c)->payout_dir, ".", 0, 0,   \
                       "where close writes payout files (--out overrides)"),                       \
        SETTLEMENT_ROW("ONECARD_SETTLEMENT_MAX_SWIPES_PER_CARD_DAY", CONFIG_INT,                   \
                       &(c)->max_swipes_day, "8", 1, 1000000,                                      \
                       "hold: more swipes than this by one card in one day"),                      \
        SETTLEMENT_ROW("ONECARD_SETTLEMENT_MIN_PROVIDER_HOP_S", CONFIG_INT, &(c)->min_hop_s,       \
                       "300", 0, 86400,                                                            \
                       "hold: one card at two providers less than this many seconds apart"),       \
        SETTLEMENT_ROW("ONECARD_SETTLEMENT_CAP_BAND_BP", CONFIG_INT, &(c)->cap_band_bp, "200", 0,  \
                       10000, "hold: 'at the cap' means within this many basis points below it"),  \
        SETTLEMENT_ROW("ONECARD_SETTLEMENT_CAP_SHARE_BP", CONFIG_INT, &(c)->cap_share_bp, "5000",  \
                       1, 10000, "hold: this share of a provider's swipes of an item at its cap"), \
        SETTLEMENT_ROW("ONECARD_SETTLEMENT_CAP_MIN_SWIPES", CONFIG_INT, &(c)->cap_min_swipes, "5", \
                       1, 1000000, "hold: at least this many swipes at the cap"),                  \
        SETTLEMENT_ROW("ONECARD_SETTLEMENT_CLOSE_PAUSE_MS", CONFIG_INT, &(c)->close_pause_ms, "0", \
                       0, 600000, "tests: close pauses this long at each step (to be killed)")

/* Prints the commands' synopsis on out (--help, and a bad command line). */
void commands_usage(FILE *out);

/* Runs argv[0] as a command. Returns the process exit code. */
int commands_run(int argc, char **argv, const config_var *table, settlement_config *cfg);

#endif
