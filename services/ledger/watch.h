/*
 * watch: the ledger's light reconcile and budget gauges, on a timer, off
 * the hot path.
 *
 * `onecard-ledger reconcile` proves every invariant but reads the whole
 * journal; an operator runs it. Between two runs the daemon keeps a cheap
 * watch every ONECARD_LEDGER_WATCH_S seconds (0: off), on a thread of its
 * own with its own PostgreSQL connection, so neither a swipe's batch nor
 * the event loop ever waits for it:
 *
 *   1. conservation: the balances of all accounts sum to zero (every
 *      entry's lines do, and each balance is maintained from its lines);
 *   2. balances: each wallet touched by the entries committed since the
 *      previous watch (at most WATCH_ACCOUNTS of them; the first watch
 *      looks at the newest WATCH_FIRST entries) holds the sum of its lines.
 *
 * Both read one snapshot (one statement). The difference in fen of each is
 * a gauge, onecard_ledger_light_reconcile_difference_fen{check}; 0 is the
 * only right value, and any other is an alert (docs/runbook.md).
 *
 * The same watch reads the money left to give out, from the ledger's own
 * accounts (in the same scan of the accounts as the conservation check,
 * never the lines):
 *
 *   onecard_ledger_budget_fen{level="fund", name, state}
 *       allocated: appropriation:<fund> (every year), remaining: the sum of
 *       fund:<fund>:<year>, granted: allocated - remaining (top-ups and
 *       payments to persons issued)
 *   onecard_ledger_budget_fen{level="programme", name, year, state}
 *       remaining: budget:<programme>:<year>, granted:
 *       obligated:<programme>:<year>, allocated: their sum
 *
 * Any thread may read the gauges; the thread is started and stopped by
 * the loop thread.
 */
#ifndef LEDGER_WATCH_H
#define LEDGER_WATCH_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

/* Registers the series and starts the thread (interval_s 0: registers
 * only). 0, or -1 with err (the thread could not start). */
int watch_start(const char *pg_dsn, int64_t interval_s, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* One watch on pg now (the thread's body). 0, or -1 with err; the gauges
 * are set only on success. The thread's caller only. */
int watch_once(PGconn *pg, char *err, size_t errlen) __attribute__((warn_unused_result));

/* Stops the thread and closes its connection (waits for a watch running). */
void watch_stop(void);

#endif
