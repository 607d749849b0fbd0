/*
 * calendar: see calendar.h.
 */
#include "common/calendar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t calendar_floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

int64_t calendar_days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

calendar_date calendar_civil_from_days(int64_t z)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    calendar_date c;
    c.day = (int)(doy - (153 * mp + 2) / 5 + 1);
    c.month = (int)(mp < 10 ? mp + 3 : mp - 9);
    c.year = (int)(yoe + era * 400 + (c.month <= 2));
    return c;
}

int calendar_days_in_month(int y, int m)
{
    static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12)
        return 0;
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dim[m - 1];
}

calendar_date calendar_of_ms(int64_t ms, int tz_offset_min)
{
    return calendar_civil_from_days(
        calendar_floor_div(ms + (int64_t)tz_offset_min * 60000, 86400000));
}

int calendar_hour_of_ms(int64_t ms, int tz_offset_min)
{
    int64_t in_day = ms + (int64_t)tz_offset_min * 60000 -
                     calendar_floor_div(ms + (int64_t)tz_offset_min * 60000, 86400000) * 86400000;
    return (int)(in_day / 3600000);
}

void calendar_cap_keys(int64_t ms, int tz_offset_min, char *day9, char *year5)
{
    calendar_date c = calendar_of_ms(ms, tz_offset_min);
    /* years 0..9999 keep the fixed width */
    unsigned y = (unsigned)c.year % 10000u, m = (unsigned)c.month % 100u,
             d = (unsigned)c.day % 100u;
    if (day9)
        snprintf(day9, 9, "%04u%02u%02u", y, m, d);
    if (year5)
        snprintf(year5, 5, "%04u", y);
}

void calendar_month(int64_t ms, int tz_offset_min, char *month8)
{
    calendar_date c = calendar_of_ms(ms, tz_offset_min);
    snprintf(month8, 8, "%04u-%02u", (unsigned)c.year % 10000u, (unsigned)c.month % 100u);
}

/* grace:N's N, or -1 */
static int calendar_grace_days(const char *rule)
{
    if (strncmp(rule, "grace:", 6) != 0)
        return -1;
    const char *d = rule + 6;
    size_t n = strlen(d);
    if (n == 0 || n > 3 || strspn(d, "0123456789") != n)
        return -1;
    int v = atoi(d);
    return v >= 1 && v <= 366 ? v : -1;
}

int calendar_credit_rule_ok(const char *rule)
{
    return rule != NULL && (strcmp(rule, "month") == 0 || strcmp(rule, "year") == 0 ||
                            strcmp(rule, "never") == 0 || calendar_grace_days(rule) > 0);
}

int calendar_credit_ends(const char *rule, const char *period, char *out11, char *err,
                         size_t errlen)
{
    out11[0] = '\0';
    if (!calendar_credit_rule_ok(rule)) {
        snprintf(err, errlen, "credit_ends \"%.16s\" is not month, year, grace:N (1..366) or never",
                 rule ? rule : "");
        return -1;
    }
    if (period == NULL || strlen(period) != 7 || period[4] != '-' ||
        strspn(period, "0123456789-") != 7) {
        snprintf(err, errlen, "period \"%.16s\" is not YYYY-MM", period ? period : "");
        return -1;
    }
    int y = atoi(period), m = atoi(period + 5);
    if (y < 1970 || y > 9999 || m < 1 || m > 12) {
        snprintf(err, errlen, "period \"%.16s\" is not YYYY-MM", period);
        return -1;
    }
    if (strcmp(rule, "never") == 0)
        return 0;
    calendar_date d = {y, m, calendar_days_in_month(y, m)};
    if (strcmp(rule, "year") == 0)
        d = (calendar_date){y, 12, 31};
    else if (strcmp(rule, "month") != 0)
        d = calendar_civil_from_days(calendar_days_from_civil(y, m, d.day) +
                                     calendar_grace_days(rule));
    snprintf(out11, 11, "%04u-%02u-%02u", (unsigned)d.year % 10000u, (unsigned)d.month % 100u,
             (unsigned)d.day % 100u);
    return 0;
}
