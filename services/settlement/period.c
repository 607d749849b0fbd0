/*
 * period: local days and months. See period.h.
 *
 * Civil dates and day numbers come from libs/common/calendar.c.
 */
#include "period.h"

#include "common/calendar.h"

#include <stdio.h>
#include <string.h>

static const char *const period_grains[] = {"day", "month"};

const char *period_grain_name(period_grain g)
{
    return (unsigned)g < 2 ? period_grains[g] : "?";
}

static int period_digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int period_parse(const char *s, period *p, char *err, size_t errlen)
{
    memset(p, 0, sizeof(*p));
    if (s == NULL) {
        snprintf(err, errlen, "the period is missing (YYYY-MM or YYYY-MM-DD)");
        return -1;
    }
    size_t n = strnlen(s, 16);
    if ((n != 7 && n != 10) || s[4] != '-' || (n == 10 && s[7] != '-')) {
        snprintf(err, errlen, "period \"%.16s\" is neither YYYY-MM nor YYYY-MM-DD", s);
        return -1;
    }
    p->year = period_digits(s, 4);
    p->month = period_digits(s + 5, 2);
    p->day = n == 10 ? period_digits(s + 8, 2) : 0;
    p->grain = n == 10 ? PERIOD_DAY : PERIOD_MONTH;
    if (p->year < 0 || p->month < 0 || p->day < 0) {
        snprintf(err, errlen, "period \"%.16s\" has a non-digit where a digit belongs", s);
        return -1;
    }
    if (p->year < 2000 || p->year > 2999) {
        snprintf(err, errlen, "period \"%.16s\": year %d is outside 2000..2999", s, p->year);
        return -1;
    }
    if (p->month < 1 || p->month > 12) {
        snprintf(err, errlen, "period \"%.16s\": month %d is not 1..12", s, p->month);
        return -1;
    }
    if (n == 10 && (p->day < 1 || p->day > calendar_days_in_month(p->year, p->month))) {
        snprintf(err, errlen, "period \"%.16s\": %04d-%02d has no day %d", s, p->year, p->month,
                 p->day);
        return -1;
    }
    return 0;
}

void period_format(const period *p, char *out)
{
    unsigned y = (unsigned)p->year % 10000u, m = (unsigned)p->month % 100u,
             d = (unsigned)p->day % 100u;
    if (p->grain == PERIOD_DAY)
        snprintf(out, PERIOD_LEN, "%04u-%02u-%02u", y, m, d);
    else
        snprintf(out, PERIOD_LEN, "%04u-%02u", y, m);
}

void period_of_ms(int64_t ms, int tz_offset_min, period *day, period *month)
{
    calendar_date c = calendar_of_ms(ms, tz_offset_min);
    *day = (period){PERIOD_DAY, c.year, c.month, c.day};
    *month = (period){PERIOD_MONTH, c.year, c.month, 0};
}

void period_next(const period *p, period *next)
{
    *next = *p;
    if (p->grain == PERIOD_MONTH) {
        next->month++;
        if (next->month > 12) {
            next->month = 1;
            next->year++;
        }
        return;
    }
    calendar_date c =
        calendar_civil_from_days(calendar_days_from_civil(p->year, p->month, p->day) + 1);
    next->year = c.year;
    next->month = c.month;
    next->day = c.day;
}

void period_bounds_ms(const period *p, int tz_offset_min, int64_t *start, int64_t *end)
{
    int64_t first =
        calendar_days_from_civil(p->year, p->month, p->grain == PERIOD_DAY ? p->day : 1);
    period nx;
    period_next(p, &nx);
    int64_t last = calendar_days_from_civil(nx.year, nx.month, nx.grain == PERIOD_DAY ? nx.day : 1);
    int64_t shift = (int64_t)tz_offset_min * 60000;
    *start = first * 86400000 - shift;
    *end = last * 86400000 - shift;
}

int period_cmp(const period *a, const period *b)
{
    if (a->year != b->year)
        return a->year < b->year ? -1 : 1;
    if (a->month != b->month)
        return a->month < b->month ? -1 : 1;
    if (a->day != b->day)
        return a->day < b->day ? -1 : 1;
    return 0;
}
