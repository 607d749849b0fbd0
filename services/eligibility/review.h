/*
 * review: the rules of the three-level review of an application, as pure
 * functions (applications.c applies them to the store):
 *
 *   submitted --village--> village-reviewed --town--> town-reviewed
 *             --district--> approved
 *
 * At each stage only the reviewer of that level decides: "pass" moves the
 * application up, "reject" ends it (a reason is required), "return" sends
 * it back to the applicant for materials (a reason: what is missing; a
 * resubmission starts again at the village). A decided application
 * (approved, rejected) is never decided again; a level cannot be skipped;
 * one operator never decides two levels of one application.
 *
 * Time limits: each stage has a number of working days (Monday to Friday;
 * ONECARD_REVIEW_WORKDAYS, "village,town,district", default 5,5,10) from
 * the day it began; past it the application is overdue, listed first and
 * escalated once (an ApplicationChanged "escalated").
 */
#ifndef ELIG_REVIEW_H
#define ELIG_REVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The level that decides an application in state, or NULL (none does:
 * decided, or returned to the applicant). */
const char *review_level(const char *state);

/* The state after role decides (pass | reject | return) on an application
 * in state: 0 with *next, or -1 with err naming what is wrong. Roles:
 * village, town, district (the others never decide). */
int review_next(const char *state, const char *role, const char *decision, const char **next,
                char *err, size_t errlen) __attribute__((warn_unused_result));

/* "5,5,10" into days[3] (1..60 each): 0, or -1 with err. */
int review_workdays_parse(const char *s, int days[3], char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* The last day of a stage that began on day (days since 1970-01-01) and
 * has n working days: the n-th weekday after it. */
int32_t review_deadline(int32_t day, int n);

#endif
