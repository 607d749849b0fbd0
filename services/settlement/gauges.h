/*
 * gauges: the settlement's state an operator watches, read from its own
 * tables (settlement_closes, settlement_holds, settlement_reconciliations,
 * settlement_usage)
 * every 10 s by the daemon and exposed on /metrics:
 *
 *   onecard_settlement_closes{grain, stage}          closes by stage
 *   onecard_settlement_last_close_timestamp_seconds{grain}
 *   onecard_settlement_newest_close{grain, stage}    1 for the newest close's stage
 *   onecard_settlement_holds_open                    anomaly holds not released
 *   onecard_settlement_holds_oldest_age_seconds      how long the oldest has waited
 *   onecard_settlement_reconcile_difference_fen      |statement + carried - ledger|
 *                                                    summed over the newest close
 *   onecard_settlement_fund_usage_fen{fund, year, state}  credited and spent
 *                                                    per fund (settlement_usage)
 *
 * A close is a command (close.h) and may run on another machine: the
 * daemon reading the tables is what puts its outcome on the dashboards.
 * Loop thread only.
 */
#ifndef SETTLEMENT_GAUGES_H
#define SETTLEMENT_GAUGES_H

#include <libpq-fe.h>
#include <stdint.h>

/* Registers the series (start-up). */
void gauges_setup(void);
/* Refreshes the series from PostgreSQL when 10 s have passed since the
 * last refresh (now_ms: the loop's clock); a failed query is logged and
 * left for the next time. */
void gauges_refresh(PGconn *pg, int64_t now_ms);

#endif
