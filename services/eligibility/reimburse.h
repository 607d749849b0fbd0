/*
 * reimburse: paid invoices refunded into the person's own account (kind
 * reimburse: medication, resident medical insurance, the family doctor,
 * devices for 低保/低边 families, …).
 *
 *   reimburse record PERSON_ID --item I --amount FEN --invoice REF --paid-on YYYY-MM-DD --actor A
 *   reimburse list [--person P]
 *
 * The invoice is checked against the item's rule (the person entitled to
 * the item on the day it was paid, with today's attributes), its annual
 * cap (the invoices of the same year already refunded) and refunded once
 * per item (the same invoice twice is refused naming the first
 * reimbursement). A recorded invoice is a TopupIssued ("rb-<id>", payee
 * "person"): the ledger journals it as a payment to the person and
 * settlement pays it in the month's person payout.
 *
 * The handler of commands.h's table: 0, 1 refused (printed), 2 a store or
 * the broker failed.
 */
#ifndef ELIG_REIMBURSE_H
#define ELIG_REIMBURSE_H

#include "registry.h"

int reimburse_command(registry *r, int argc, char **argv);

#endif
