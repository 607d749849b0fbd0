/*
 * test_calendar: the local calendar every service counts in
 * (libs/common/calendar.c): days, months and cap keys at the boundaries
 * that matter (00:30 local on the 1st is still the previous day in UTC),
 * leap days, and day numbers both ways.
 */
#include "check.h"
#include "common/calendar.h"

#include <string.h>

int main(void)
{
    static const struct {
        int64_t ms;
        int tz;
        const char *day, *year, *month;
    } rows[] = {
        {0, 0, "19700101", "1970", "1970-01"},
        {-1, 0, "19691231", "1969", "1969-12"},
        {1767225599999LL, 0, "20251231", "2025", "2025-12"},
        {1767225600000LL, 0, "20260101", "2026", "2026-01"},
        /* 2026-01-01 00:30 +08:00 = 2025-12-31 16:30Z */
        {1767198600000LL, 480, "20260101", "2026", "2026-01"},
        {1767198600000LL, 0, "20251231", "2025", "2025-12"},
        /* 2026-01-01 00:00 +08:00 exactly, and a millisecond before */
        {1767196800000LL, 480, "20260101", "2026", "2026-01"},
        {1767196799999LL, 480, "20251231", "2025", "2025-12"},
        /* a leap day, local */
        {1709136000000LL, 480, "20240229", "2024", "2024-02"},
        /* west of UTC */
        {1767225600000LL, -300, "20251231", "2025", "2025-12"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char day[9], year[5], month[8];
        calendar_cap_keys(rows[i].ms, rows[i].tz, day, year);
        calendar_month(rows[i].ms, rows[i].tz, month);
        CHECK(strcmp(day, rows[i].day) == 0 && strcmp(year, rows[i].year) == 0 &&
                  strcmp(month, rows[i].month) == 0,
              "row %zu: %lld at %+d min: %s %s %s", i, (long long)rows[i].ms, rows[i].tz, day, year,
              month);
    }
    for (int64_t d = -800000; d <= 800000; d += 997) {
        calendar_date c = calendar_civil_from_days(d);
        CHECK(calendar_days_from_civil(c.year, c.month, c.day) == d, "day %lld round trip",
              (long long)d);
    }
    calendar_date c = calendar_of_ms(1767198600000LL, 480);
    CHECK(c.year == 2026 && c.month == 1 && c.day == 1, "calendar_of_ms: %d-%d-%d", c.year, c.month,
          c.day);

    /* benefit periods: the last day a period's credit may be spent */
    static const struct {
        const char *rule, *period, *ends; /* ends NULL: refused */
    } ends[] = {
        {"month", "2026-01", "2026-01-31"},
        {"month", "2026-02", "2026-02-28"},
        {"month", "2024-02", "2024-02-29"}, /* leap */
        {"month", "2026-12", "2026-12-31"},
        {"year", "2026-01", "2026-12-31"},
        {"year", "2026-12", "2026-12-31"},
        {"grace:15", "2026-01", "2026-02-15"},
        {"grace:1", "2026-12", "2027-01-01"}, /* across the year */
        {"grace:29", "2024-01", "2024-02-29"},
        {"grace:366", "2026-01", "2027-02-01"},
        {"never", "2026-05", ""},
        {"grace:0", "2026-01", NULL},
        {"grace:367", "2026-01", NULL},
        {"grace:", "2026-01", NULL},
        {"grace:1x", "2026-01", NULL},
        {"weekly", "2026-01", NULL},
        {"", "2026-01", NULL},
        {"month", "2026-13", NULL},
        {"month", "2026-1", NULL},
        {"month", "26-01-01", NULL},
    };
    for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
        char out[11], err[128];
        int rc = calendar_credit_ends(ends[i].rule, ends[i].period, out, err, sizeof(err));
        if (ends[i].ends == NULL)
            CHECK(rc < 0 && err[0], "credit_ends %s %s: refused", ends[i].rule, ends[i].period);
        else
            CHECK(rc == 0 && strcmp(out, ends[i].ends) == 0, "credit_ends %s %s: %s, not %s",
                  ends[i].rule, ends[i].period, rc == 0 ? out : err, ends[i].ends);
    }
    return CHECK_DONE();
}
