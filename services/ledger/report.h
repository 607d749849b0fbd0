/*
 * report: `onecard-ledger report`, the year-end fund accounting and the
 * report to the levels above, read from the journal in one snapshot.
 *
 *   onecard-ledger report --year Y [--quarter Q] [--format text|json|csv|html[,...]]
 *                         [--out DIR]
 *
 * Tables (yearend.h writes them; docs/yearend-report.md defines every
 * field): per fund level, per programme and fund level, the programme
 * budgets, per item (person-times, distinct persons and amounts per
 * quarter and for the year) and the children helped per rehabilitation
 * item (R0x). Then the reconciliation: each table's totals against the
 * ledger's accounts and flows, to the fen.
 *
 * Money the ledger took back off cards (entry kinds other than swipe,
 * reversal, top-up, payment, allocation and transfer that credit a fund
 * account) is counted as lapsed, recovered or returned by its kind (and
 * its reason, when the journal has a reason column): "laps" lapsed,
 * "recover" recovered, anything else returned. Until such entries exist
 * those columns read 0.
 *
 * Exit 0: every check agrees and every event of the period is journaled;
 * 1: a check differs, or events of the period wait unread on the ledger's
 * topics, or entries of the period wait in the outbox ("says so"); 2: bad
 * usage or a dependency failed.
 */
#ifndef ONECARD_LEDGER_REPORT_H
#define ONECARD_LEDGER_REPORT_H

#include "commands.h"

int report_run(int argc, char **argv, ledger_config *cfg);

#endif
