/*
 * funds: the close's checks per fund level (seed 002: the federation
 * answers to each level that paid, so every statement must add up per fund
 * as well as in total).
 *
 * After the checks in total (close.c, persons.c), three more, each printed
 * line by line:
 *   1. every statement of the period is the sum of its lines (one per item
 *      and fund): amounts, reversals and adjustments;
 *   2. per provider and fund: the statement's own postings (its lines,
 *      amounts less reversals) = the shares of the period's swipes and
 *      reversals settlement recorded (settlement_posting_funds; a
 *      posting of one share of its own fund_source has no row there and
 *      counts as its amount in that fund) = the
 *      ledger's payable lines of that fund (ledger_v1_provider_fund_totals).
 *      A provider with postings carried out of the period (they arrived
 *      after the close's cut-off) is compared with the ledger by its
 *      recorded shares only: its statement is short by what was carried;
 *   3. funds in: the top-ups' shares settlement recorded = the ledger's
 *      wallet credits per fund (ledger_v1_topup_fund_totals).
 * A payment's shares go to the persons' lines per fund the same way; the
 * persons' totals are checked by persons.c.
 *
 * Command-line only (the close), on its connection.
 */
#ifndef SETTLEMENT_FUNDS_H
#define SETTLEMENT_FUNDS_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

/* Runs the checks for the period (text, grain name, [start_ms, end_ms)).
 * The number of differences (0: all equal), or -1 with err. */
int funds_reconcile(PGconn *pg, const char *period, const char *grain, int64_t start_ms,
                    int64_t end_ms, char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
