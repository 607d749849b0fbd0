/*
 * close: closing a period (a local day or month), idempotently.
 *
 *   1. catch up: wait until the ledger's outbox holds no entry of the
 *      period (everything it committed is published), read the high
 *      watermarks of onecard.postings.v1, and wait until the settlement
 *      consumer's offsets stored in PostgreSQL reach them. The cut-off is
 *      then the moment step 2 takes the settlement lock: every posting the
 *      consumer committed before it is in the statements, every later one
 *      of the period is carried into the next open period as an adjustment.
 *   2. statements: in one transaction under the lock, the period is marked
 *      closed and one statement per provider (ST-<period>-<provider>) is
 *      written from the accumulators, with lines per item and fund source
 *      and the adjustments carried in; in the same transaction, what the
 *      period owes each person paid into their own account (persons.h).
 *      Already closed: nothing is written.
 *   3. reconcile: per provider, the statement's own postings plus those of
 *      the period carried out later = the payable:<provider> lines of the
 *      period in the ledger = approved - reversed swipes of the period in
 *      the ledger, and the adjustments = what was carried in; funds in: the
 *      top-ups settlement counted = the ledger's top-ups of the period;
 *      per person, the payments = the ledger's payee credits of the period
 *      (persons.h); then per fund level (funds.h): each statement = its
 *      lines, per provider and fund statement = postings = the ledger's
 *      payable lines, top-ups per fund. Any difference is printed line by
 *      line, recorded, and stops here (exit 1). After the payout, paid +
 *      held = the statements.
 *   4. anomaly holds (swipes per card and day, one card at two providers
 *      too close in time, amounts clustered at the item's daily cap), and a
 *      hold for a provider without a bank account.
 *   5. publish every statement on onecard.settlements.v1 (event id derived
 *      from the statement id: a re-run publishes the same event).
 *   6. payout (monthly closes only: providers are paid by the month, a
 *      daily close is the day's review): the statements not held and not
 *      in a batch yet become one new payout batch; every batch of the
 *      period is (re)written as a CSV, with the amount per fund level
 *      beside each total. Then the persons' payout: a batch of
 *      the persons with an account not paid yet, its files, and the list
 *      of the persons still unpaid (persons.h).
 *
 * Each step is idempotent and recorded, so a close killed at any instant
 * and run again completes exactly once. Command-line only (blocking).
 */
#ifndef SETTLEMENT_CLOSE_H
#define SETTLEMENT_CLOSE_H

#include "commands.h"

#include "common/kafka.h"

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <libpq-fe.h>

typedef struct close_ctx {
    const settlement_config *cfg;
    PGconn *pg;
    kafka_producer *producer;
    redisContext *redis; /* the catalogue (item caps) */
    const char *out_dir;
    int wait_s;
    bool early; /* close before the period ends: later postings go to the next */
} close_ctx;

/* Closes period_text. Returns the exit code (common/cli.h): CLI_OK closed
 * and paid (holds listed), CLI_REFUSED a reconciliation difference (no
 * payout) or a period not ended without --early, CLI_USAGE a malformed
 * period, CLI_DEPENDENCY cannot run. A progress bar of its stages is drawn
 * on stderr when that is a terminal. */
int close_run(close_ctx *x, const char *period_text);

/* A bank account as finance takes it: 6..34 of [0-9A-Za-z-]. */
int close_bank_account_ok(const char *s, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
