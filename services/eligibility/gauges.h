/*
 * gauges: the eligibility service's state an on-call person and the
 * federation watch, read from its own tables on a timer
 * (ONECARD_ELIGIBILITY_GAUGES_S, 0: never) with a connection of its own,
 * never on a request's path:
 *
 *   onecard_eligibility_applications{state}        applications by state
 *                                                  (submitted, village-reviewed,
 *                                                  town-reviewed, approved,
 *                                                  rejected, returned)
 *   onecard_eligibility_applications_overdue{level}  open past their stage's
 *                                                  working days (review.h,
 *                                                  ONECARD_REVIEW_WORKDAYS), by
 *                                                  the level that must decide
 *   onecard_eligibility_entitlements_paused        items paused by the 在训 check
 *                                                  and not resumed (elig_item_pauses)
 *   onecard_eligibility_attendance_report_rows_24h  rows of providers' attendance
 *                                                  reports recorded in the last 24 h
 *
 * All series exist from start-up (0 until the first read). Loop thread.
 */
#ifndef ELIG_GAUGES_H
#define ELIG_GAUGES_H

#include "registry.h"

struct event_base;

/* Registers the series and starts the timer (its first read at once).
 * 0, or -1 with err (no connection, no timer). */
int gauges_setup(struct event_base *base, elig_config *cfg, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Reads the tables into the series now. 0, or -1 with err (left as they were). */
int gauges_refresh(registry *r, char *err, size_t errlen) __attribute__((warn_unused_result));

void gauges_cleanup(void);

#endif
