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
 * period is refused, 2 when a store or the broker failed. Blocking; one
 * thread.
 */
#ifndef ELIG_ISSUE_H
#define ELIG_ISSUE_H

#include "registry.h"

int issue_command(registry *r, int argc, char **argv);

#endif
