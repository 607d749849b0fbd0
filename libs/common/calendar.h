/*
 * calendar: the federation's local calendar, from one setting.
 *
 * Daily and annual caps (gateway, ledger's rebuild), settlement days and
 * months, and rating months all count in local time: UTC shifted by
 * ONECARD_TZ_OFFSET_MIN (480, China Standard Time, which has no daylight
 * saving). A swipe at 00:30 on the 1st, local, belongs to the 1st and its
 * month for every service. Civil dates come from day numbers (Howard
 * Hinnant's algorithms), so nothing depends on the process's TZ or timegm.
 * Pure functions; any thread.
 */
#ifndef ONECARD_CALENDAR_H
#define ONECARD_CALENDAR_H

#include "common/config.h"

#include <stddef.h>
#include <stdint.h>

/* The config row every service that counts days or months declares. */
#define CALENDAR_CONFIG_ROW(ptr)                                                                   \
    {                                                                                              \
        "ONECARD_TZ_OFFSET_MIN", CONFIG_INT, (ptr), "480", -720, 840,                              \
            "the local calendar (days, months, years of caps, settlement and ratings), minutes "   \
            "from UTC"                                                                             \
    }

typedef struct calendar_date {
    int year, month, day;
} calendar_date;

/* The local date of a Unix time in ms. */
calendar_date calendar_of_ms(int64_t ms, int tz_offset_min);

/* The local hour (0..23) of a Unix time in ms. */
int calendar_hour_of_ms(int64_t ms, int tz_offset_min);

/* Days since 1970-01-01 of a civil date, and back. */
int64_t calendar_days_from_civil(int year, int month, int day);
calendar_date calendar_civil_from_days(int64_t days);

/* Days in a month of a year (leap years counted). */
int calendar_days_in_month(int year, int month);

/* The local "yyyymmdd" (9 bytes) and "yyyy" (5 bytes) of a time: the keys
 * of the daily and annual cap counters. */
void calendar_cap_keys(int64_t ms, int tz_offset_min, char *day9, char *year5);

/* The local month "YYYY-MM" (8 bytes) of a time. */
void calendar_month(int64_t ms, int tz_offset_min, char *month8);

/* A benefit period's end (issue 15, item 3; the catalogue's credit_ends
 * column): the last day the credit granted for period "YYYY-MM" may be
 * spent, by the item's rule:
 *   month    the period's last day;
 *   year     the 31st of December of the period's year;
 *   grace:N  N days (1..366) after the period's last day;
 *   never    none: out is "" (the credit never lapses).
 * out: "YYYY-MM-DD" (11 bytes). 0, or -1 with err (an unknown rule, a
 * malformed period). calendar_credit_rule_ok checks a rule alone. */
int calendar_credit_ends(const char *rule, const char *period, char *out11, char *err,
                         size_t errlen);
int calendar_credit_rule_ok(const char *rule);

#endif
