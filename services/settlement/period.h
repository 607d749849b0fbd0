/*
 * period: settlement periods as plain data, pure functions.
 *
 * A period is a local day "YYYY-MM-DD" or a local month "YYYY-MM"; local
 * means UTC shifted by ONECARD_TZ_OFFSET_MIN (480 for China, as the gateway
 * and the ledger count daily caps). A posting belongs to the day and the
 * month of its occurred_at_ms. The parser takes operator input (the
 * --period argument), so it refuses anything but those two shapes with a
 * valid calendar date, naming what is wrong; it has a fuzz target.
 */
#ifndef SETTLEMENT_PERIOD_H
#define SETTLEMENT_PERIOD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PERIOD_LEN 11 /* "YYYY-MM-DD" + NUL */

typedef enum period_grain { PERIOD_DAY = 0, PERIOD_MONTH } period_grain;

typedef struct period {
    period_grain grain;
    int year, month, day; /* day is 0 for a month */
} period;

/* Parses s ("YYYY-MM" or "YYYY-MM-DD", years 2000..2999). 0, or -1 with
 * the reason in err. */
int period_parse(const char *s, period *p, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Writes the period's text into out (PERIOD_LEN bytes). */
void period_format(const period *p, char *out);

/* "day" or "month". */
const char *period_grain_name(period_grain g);

/* The local day and month of a Unix time in ms. */
void period_of_ms(int64_t ms, int tz_offset_min, period *day, period *month);

/* The period right after p, of the same grain. */
void period_next(const period *p, period *next);

/* [start, end) of the period as Unix ms. */
void period_bounds_ms(const period *p, int tz_offset_min, int64_t *start, int64_t *end);

/* Compares two periods of the same grain: <0, 0, >0. */
int period_cmp(const period *a, const period *b);

#endif
