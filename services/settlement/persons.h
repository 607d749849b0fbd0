/*
 * persons: payments into a person's own bank account (issue 14: monthly
 * "cash" items, reimbursed invoices), from the postings of kind "payment"
 * (posting.h) that store.c accumulates per period, person, item and fund
 * source in settlement_person_accum. The close (close.h) calls, in order:
 *
 *   1. persons_statements, inside the transaction that writes the
 *      providers' statements: what the period owes each person
 *      (settlement_person_payouts, lines per item and fund source), written
 *      once with the period's close.
 *   2. persons_reconcile: per person, the period's own payments plus those
 *      carried out later = the ledger's payee credits of the period
 *      (ledger_v1_payee_totals, owned by the ledger: 0017), count and fen;
 *      carried in = adjustments. A difference is printed and counted: the
 *      close stops before any payout, providers' or persons'.
 *   3. persons_payout (monthly closes only; a daily close is the day's
 *      review): the persons of the period with an account
 *      (settlement_person_accounts) and not paid yet become one new batch
 *      PP-<period>-<seq> (settlement_person_batches: lines, total), in one
 *      transaction under the settlement lock; every batch of the period is
 *      (re)written from the database as payout-PP-<period>-<seq>.csv (one
 *      line per person) and payout-PP-<period>-<seq>-items.csv (one line per
 *      person, item and fund source), each with a control line; the persons
 *      without an account are printed and written to
 *      unpaid-persons-<period>.csv. Then paid + unpaid = the period's
 *      person payouts, or an error.
 *
 * A person without an account is never skipped silently and never paid
 * twice: the row stays unpaid (batch_id NULL) until `person-account` records
 * an account (which prints the months it is owed) and the month is closed
 * again; that close pays exactly the rows still unpaid, in a new batch of
 * the same month. The next month's close pays only its own month.
 *
 * CSV files: a header, then the records; the last record is "control",
 * with the number of lines in the column before amount_fen and their sum
 * in amount_fen. Re-running a close writes the same files.
 *
 * Command-line only (blocking); the caller owns the connection.
 */
#ifndef SETTLEMENT_PERSONS_H
#define SETTLEMENT_PERSONS_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

typedef struct persons_period {
    const char *text;  /* "YYYY-MM" or "YYYY-MM-DD" */
    const char *grain; /* "month" or "day" */
    int64_t start_ms, end_ms;
} persons_period;

/* Step 1: in the caller's open transaction (which holds the settlement
 * lock). 0, or -1 with err (the caller rolls back). */
int persons_statements(PGconn *pg, const persons_period *pp, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Step 2: prints the differences and a total line, records every person
 * in settlement_person_reconciliations. Returns the number of persons
 * with a difference, or -1 with err. */
int persons_reconcile(PGconn *pg, const persons_period *pp, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Step 3 (a month): batch, files, unpaid list, totals into out_dir.
 * 0, or -1 with err. */
int persons_payout(PGconn *pg, const persons_period *pp, const char *out_dir, char *err,
                   size_t errlen) __attribute__((warn_unused_result));

/* The arguments of person-account: a person id (64 lowercase hex, as the
 * registry writes it) and a bank account (close_bank_account_ok). 0, or -1
 * with what is wrong. Pure. */
int persons_account_args_ok(const char *person, const char *account, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* person-account: records (or replaces) where person is paid and prints
 * the closed months still owing them. 0, or -1 with err. */
int persons_set_account(PGconn *pg, const char *person, const char *account, char *err,
                        size_t errlen) __attribute__((warn_unused_result));

#endif
