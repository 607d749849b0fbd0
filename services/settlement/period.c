/*
 * period: local days and months. See period.h.
 *
 * Civil dates from day numbers with Howard Hinnant's algorithm, so there
 * is no dependence on the process's TZ or on timegm.
 */
#include "period.h"

#include <stdio.h>
#include <string.h>

static const char *const period_grains[] = {"day", "month"};

const char *period_grain_name(period_grain g)
{
    return (unsigned)g < 2 ? period_grains[g] : "?";
}

static bool period_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int period_days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && period_leap(y) ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a civil date. */
static int64_t period_days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void period_civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
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
    if (n == 10 && (p->day < 1 || p->day > period_days_in_month(p->year, p->month))) {
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

static int64_t period_floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

void period_of_ms(int64_t ms, int tz_offset_min, period *day, period *month)
{
    int64_t days = period_floor_div(ms + (int64_t)tz_offset_min * 60000, 86400000);
    int y, m, d;
    period_civil_from_days(days, &y, &m, &d);
    *day = (period){PERIOD_DAY, y, m, d};
    *month = (period){PERIOD_MONTH, y, m, 0};
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
    int64_t z = period_days_from_civil(p->year, p->month, p->day) + 1;
    period_civil_from_days(z, &next->year, &next->month, &next->day);
}

void period_bounds_ms(const period *p, int tz_offset_min, int64_t *start, int64_t *end)
{
    int64_t first = period_days_from_civil(p->year, p->month, p->grain == PERIOD_DAY ? p->day : 1);
    period nx;
    period_next(p, &nx);
    int64_t last = period_days_from_civil(nx.year, nx.month, nx.grain == PERIOD_DAY ? nx.day : 1);
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
