/*
 * attrules: the pure rules of the 在训 check (attendance.h): how many
 * weeks since a person last attended a training item, when that pauses
 * the item, and the parser of a provider's attendance report.
 *
 * The weeks count from the basis day: the latest attendance (an approved
 * swipe of the item, or a row of a report), or, for someone who never
 * attended, the first check that found them entitled (a newly entitled
 * person is never paused at once). An item with attendance_weeks N is due
 * to be paused on the check of a day at least 7 * N days after its basis:
 * attended on a Monday, 4 weeks, still running on the fourth Sunday after,
 * paused from the fourth Monday on. An attendance after the basis of a
 * pause resumes it; one on or before the basis is old news and does not.
 *
 * The report is CSV (csv.h), the header naming its four columns in order:
 *
 *   provider_id,card_no,item_code,attended_on
 *   P-TRAIN-01,6288100000000018,E01-VOCATIONAL,2026-11-30
 *
 * one row per person, item and day attended. Every field is checked (the
 * provider id's shape, the card number's rule, the item code's shape, a
 * real date, not after today and not more than a year back) and a bad row
 * refuses the whole file, naming its line and field: a report half applied
 * would resume some persons and silently leave others paused.
 *
 * Pure; any thread. The fuzz target tests/fuzz/fuzz_attendance.c drives
 * the parser, tests/unit/test_attendance.c the arithmetic.
 */
#ifndef ELIG_ATTRULES_H
#define ELIG_ATTRULES_H

#include <stddef.h>
#include <stdint.h>

/* The most rows one report may hold. */
#define ATTRULES_ROWS_MAX 20000

/* The day the weeks count from: the later of since_day and last_day (0:
 * never attended). */
int32_t attrules_basis(int32_t since_day, int32_t last_day);
/* Whole weeks from basis to as_of (0 when as_of is not after it). */
int attrules_weeks_since(int32_t basis, int32_t as_of);
/* 1 when an item checked every `weeks` weeks (> 0) is due to be paused
 * on as_of; 0 otherwise (weeks <= 0: never). */
int attrules_due(int32_t basis, int weeks, int32_t as_of);
/* 1 when an attendance on day resumes a pause counted from basis. */
int attrules_resumes(int32_t basis, int32_t day);

typedef struct attrules_row {
    char provider_id[65];
    char card_no[20];
    char item_code[32];
    int32_t day;
    int line; /* the line of the file it was read from */
} attrules_row;

/* Parses a report (len bytes of buf) into rows (room for max); today: the
 * latest day a row may name (one year back at most). Returns the number of
 * rows (>= 1), or -1 with "line N: reason" in err (nothing is kept). */
int attrules_report_parse(const char *buf, size_t len, int32_t today, attrules_row *rows, int max,
                          char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
