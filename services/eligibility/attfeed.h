/*
 * attfeed: the daemon's half of the 在训 check (attendance.h).
 *
 * - Attendance by swipe: a consumer group of its own ("<group>-attendance",
 *   ONECARD_ELIGIBILITY_GROUP's name with that suffix) reads
 *   onecard.swipes.v1 with libs/common/batch.c's exactly-once consumer;
 *   every SwipeAuthorized of an item checked for attendance is that
 *   person's attendance on the swipe's local day (ONECARD_TZ_OFFSET_MIN),
 *   recorded with the batch's offsets in one transaction; a pause it
 *   resumes takes effect after the commit (attendance_effects). A reversal
 *   does not undo the attendance: the person was there.
 * - The check once a day, in the first minute of the local hour
 *   ONECARD_ATTENDANCE_CHECK_HOUR (-1: never; the command still runs it),
 *   as of that day, and every minute the effects a failure left undone.
 * - On the daemon's first idle minute and then once a day: the catalogue
 *   version in force today projected (catload_project_today), so a version
 *   loaded ahead of its date takes over on that date. It rides on this
 *   tick, the daemon's one daily timer, rather than a timer of its own.
 *
 * Loop thread; blocking calls to PostgreSQL, Redis and the broker on it.
 */
#ifndef ELIG_ATTFEED_H
#define ELIG_ATTFEED_H

#include "registry.h"

struct event_base;

int attfeed_setup(struct event_base *base, elig_config *cfg, char *err, size_t errlen)
    __attribute__((warn_unused_result));
void attfeed_drain(void);
void attfeed_cleanup(void);

#endif
