/*
 * attendance: the 在训 monthly check (seed 001: 康复训练对象在训情况每月核查
 * 机制) — a person entitled to a training item (the catalogue's
 * attendance_weeks > 0) who has not attended it for that many weeks has
 * the item paused, with a notice event; attendance resumes it.
 *
 * The pipeline, each step safe to re-run (the check is idempotent: run
 * twice on one day, the second changes nothing):
 *   1. attendance is recorded in elig_attendance (the latest day per
 *      person and item): an approved swipe of the item (attfeed.h reads
 *      onecard.swipes.v1 with a consumer group of its own), or a row of a
 *      provider's attendance report (`attendance report FILE`, attrules.h);
 *   2. the check (`attendance check [--as-of DATE]`, and the daemon once a
 *      day at ONECARD_ATTENDANCE_CHECK_HOUR) finds everyone with a current
 *      card entitled to a checked item on that day (the rules of rules.h),
 *      records the day it first found them (the weeks of someone who never
 *      attended count from there), and opens a pause in elig_item_pauses
 *      for each whose weeks since the basis (attrules.h) reached the
 *      item's attendance_weeks, in one transaction;
 *   3. attendance after a pause's basis closes it (resumed_on, by swipe
 *      or report) in the transaction that records the attendance;
 *   4. after the commit, the effects of every pause or resume not yet
 *      published: the card's field p:<item> in Redis set or removed
 *      (the gateway declines a paused item as item_paused), and an
 *      EntitlementChanged (paused, resumed) on onecard.card-status.v1,
 *      keyed by the card; the row is marked published once the broker
 *      acknowledged it. A step 4 cut short is finished by the next
 *      check, report or swipe batch (an event may then be sent twice:
 *      consumers see the same pause or resume again, never a wrong one).
 *
 * A paused item stays granted: its monthly credit is issued as before and
 * kept on the card, and spent once the item is resumed. The pause is a
 * notice that the person may have left the course, not a verdict (the
 * provider's report may simply be late); ending an entitlement is the
 * registry's business (a status or an approval withdrawn).
 *
 * Commands: blocking, on the caller's thread. attendance_effects and
 * attendance_record also run on the daemon's loop (attfeed.h).
 */
#ifndef ELIG_ATTENDANCE_H
#define ELIG_ATTENDANCE_H

#include "registry.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* `attendance check|report|paused ...` (commands.h). */
int attendance_command(registry *r, int argc, char **argv);

/* Step 2 as of day, by actor, for everyone (person NULL) or one person
 * (re-checked after a correction). 0 with *entitled the (person, item)
 * pairs checked and *paused the pauses opened, or -1 (printed; rolled
 * back). Runs step 4 after the commit. */
int attendance_check(registry *r, int32_t day, const char *person, const char *actor, int *entitled,
                     int *paused) __attribute__((warn_unused_result));

/* Step 1 and 3 for attendances (person, item, day as YYYY-MM-DD, arrays
 * of the same length), inside the caller's open transaction; source:
 * "swipe" or "report". Persons not in the registry and items not checked
 * are skipped. 0 with *resumed the pauses closed, or -1 with err. */
int attendance_record(registry *r, pg_array *pid, pg_array *item, pg_array *day, const char *source,
                      long *resumed, char *err, size_t errlen) __attribute__((warn_unused_result));

/* A provider's attendance report (attrules.h's CSV, name for messages),
 * recorded as `attendance report` and POST /v1/attendance/reports do:
 * every row checked first (one wrong row refuses the whole), then steps
 * 1 and 3 in one transaction, then step 4. district: every row's person
 * must be of it (a district operator), or NULL. 0 with out, 1 refused
 * (registry_refuse: nothing recorded), 3 a store failed (CLI_DEPENDENCY). */
typedef struct attendance_report_result {
    int rows, fresh; /* rows in the file; of them not recorded before */
    long resumed;    /* pauses closed */
    bool published;  /* step 4 done now (else by the next check or batch) */
} attendance_report_result;
int attendance_report_apply(registry *r, const char *name, const char *buf, size_t len,
                            const char *district, const char *actor, attendance_report_result *out)
    __attribute__((warn_unused_result));

/* An open pause as attendance_paused_list passes it (strings valid during
 * the call; card_masked NULL without a current card). */
typedef struct attendance_pause {
    const char *person_id, *card_masked, *item_code, *paused_on, *basis_day;
    const char *village, *town, *district;
} attendance_pause;
typedef void (*attendance_paused_fn)(void *arg, const attendance_pause *pause);

/* A pause as a JSON object into arg (a struct jsonw *: the API's and
 * `attendance paused --format json`'s shape); an attendance_paused_fn. */
void attendance_pause_json(void *arg, const attendance_pause *pause);

/* The open pauses of persons whose area_col ("village", "town",
 * "district"; NULL: all) is area, oldest first: the number, or -1
 * (registry_fail). */
int attendance_paused_list(registry *r, const char *area_col, const char *area,
                           attendance_paused_fn emit, void *arg);

/* Step 4: the effects of every pause or resume not yet published. The
 * number published, or -1 (logged and printed; done by the next call). */
int attendance_effects(registry *r);

/* The open pauses of the person onto card_no (a new card), appended to
 * the directory's pipeline (the caller syncs). */
void attendance_project_card(registry *r, const char *card_no, const char *person_id);
/* Every open pause onto its person's current card (rebuild-directory),
 * appended to the pipeline. The number, or -1 (printed). */
int attendance_project_all(registry *r);

#endif
