/*
 * issue: the issuance run for one period,
 *
 *   issue --period YYYY-MM [--actor A]     (actor: "issuance" when none)
 *
 * idempotent and resumable (the steps are numbered in issue.c): what each
 * person is due for the period, written to elig_issuances, corrected for
 * late changes, and published as TopupIssued. Prints the totals per fund
 * source and programme.
 *
 * The handler of commands.h's table. Returns the exit code: 0, 1 when the
 * period is refused, 3 when a store or the broker failed. Blocking; one
 * thread.
 */
#ifndef ELIG_ISSUE_H
#define ELIG_ISSUE_H

#include "registry.h"

int issue_command(registry *r, int argc, char **argv);

/* Publishes (and marks published once acknowledged) every unpublished
 * top-up of the period and every approved quote and recorded
 * reimbursement, whatever its period; *published counts them. 0, or -1
 * when some were not acknowledged (printed): the next run publishes
 * them. Outside a transaction. */
int issue_publish(registry *r, const char *period, long *published);

/* The issuance run of one period ("YYYY-MM"), as `issue --period` runs it:
 * `catalogue load --correction yes` runs it for each period the new version
 * changes. Returns the exit code (0, 1 refused, 2 failed). */
int issue_period(registry *r, const char *period, const char *actor);

#endif
