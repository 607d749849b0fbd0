/*
 * review: the review's rules. See review.h.
 */
#include "review.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *state, *level, *passed;
} review_stages[] = {
    {"submitted", "village", "village-reviewed"},
    {"village-reviewed", "town", "town-reviewed"},
    {"town-reviewed", "district", "approved"},
};

const char *review_level(const char *state)
{
    for (size_t i = 0; state && i < sizeof(review_stages) / sizeof(review_stages[0]); i++)
        if (strcmp(state, review_stages[i].state) == 0)
            return review_stages[i].level;
    return NULL;
}

int review_next(const char *state, const char *role, const char *decision, const char **next,
                char *err, size_t errlen)
{
    *next = NULL;
    bool pass = strcmp(decision, "pass") == 0, reject = strcmp(decision, "reject") == 0,
         ret = strcmp(decision, "return") == 0;
    if (!pass && !reject && !ret) {
        snprintf(err, errlen, "--decision must be pass, reject or return, not \"%.16s\"", decision);
        return -1;
    }
    if (strcmp(role, "village") != 0 && strcmp(role, "town") != 0 &&
        strcmp(role, "district") != 0) {
        snprintf(err, errlen, "a %.16s operator does not review applications", role);
        return -1;
    }
    const char *level = review_level(state);
    if (level == NULL) {
        snprintf(err, errlen,
                 strcmp(state, "returned") == 0
                     ? "the application was returned for materials: it waits for the applicant "
                       "to resubmit"
                     : "the application is %s already: a decision is made once",
                 state);
        return -1;
    }
    if (strcmp(level, role) != 0) {
        snprintf(err, errlen,
                 "the application is %s: it waits for the %s level, not the %s level (no level "
                 "is skipped)",
                 state, level, role);
        return -1;
    }
    for (size_t i = 0; i < sizeof(review_stages) / sizeof(review_stages[0]); i++)
        if (strcmp(state, review_stages[i].state) == 0)
            *next = pass ? review_stages[i].passed : reject ? "rejected" : "returned";
    return 0;
}

int review_workdays_parse(const char *s, int days[3], char *err, size_t errlen)
{
    const char *p = s;
    for (int i = 0; i < 3; i++) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > 60 || (i < 2 && *end != ',') || (i == 2 && *end != '\0')) {
            snprintf(err, errlen,
                     "ONECARD_REVIEW_WORKDAYS \"%.32s\" is not three working-day limits 1..60 "
                     "(village,town,district)",
                     s);
            return -1;
        }
        days[i] = (int)v;
        p = end + 1;
    }
    return 0;
}

int32_t review_deadline(int32_t day, int n)
{
    /* 1970-01-01 was a Thursday: weekday (0 Monday) = (day + 3) % 7 */
    int32_t d = day;
    while (n > 0) {
        d++;
        if ((d + 3) % 7 < 5)
            n--;
    }
    return d;
}
