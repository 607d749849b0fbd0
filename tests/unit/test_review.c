/*
 * test_review: the three-level review of an application (review.c): who
 * decides what at each stage, in a table, and the working-day deadlines.
 */
#include "check.h"
#include "review.h"
#include "rules.h"

#include <string.h>

static void test_next(void)
{
    static const struct {
        const char *state, *role, *decision;
        const char *next; /* NULL: refused */
        const char *err;
    } rows[] = {
        {"submitted", "village", "pass", "village-reviewed", NULL},
        {"submitted", "village", "reject", "rejected", NULL},
        {"submitted", "village", "return", "returned", NULL},
        {"village-reviewed", "town", "pass", "town-reviewed", NULL},
        {"village-reviewed", "town", "return", "returned", NULL},
        {"town-reviewed", "district", "pass", "approved", NULL},
        {"town-reviewed", "district", "reject", "rejected", NULL},
        /* a level is never skipped */
        {"submitted", "town", "pass", NULL, "waits for the village level, not the town level"},
        {"submitted", "district", "pass", NULL, "waits for the village level"},
        {"village-reviewed", "district", "pass", NULL, "waits for the town level"},
        {"village-reviewed", "village", "pass", NULL, "waits for the town level"},
        /* decided once */
        {"approved", "district", "pass", NULL, "approved already: a decision is made once"},
        {"rejected", "village", "pass", NULL, "rejected already"},
        {"returned", "village", "pass", NULL, "waits for the applicant to resubmit"},
        /* only reviewers, only three decisions */
        {"submitted", "finance", "pass", NULL, "a finance operator does not review"},
        {"submitted", "administrator", "pass", NULL, "does not review"},
        {"submitted", "village", "approve", NULL, "--decision must be pass, reject or return"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *next = "x";
        char err[256] = "";
        int rc =
            review_next(rows[i].state, rows[i].role, rows[i].decision, &next, err, sizeof(err));
        if (rows[i].next)
            CHECK(rc == 0 && next && strcmp(next, rows[i].next) == 0, "row %zu: %s", i,
                  next ? next : err);
        else
            CHECK(rc < 0 && next == NULL && strstr(err, rows[i].err), "row %zu: \"%s\"", i, err);
    }
    CHECK(review_level("submitted") && strcmp(review_level("submitted"), "village") == 0, "lvl");
    CHECK(review_level("approved") == NULL && review_level(NULL) == NULL, "no level");
}

static void test_deadline(void)
{
    static const struct {
        int y, m, d, n;
        int wy, wm, wd;
    } rows[] = {
        {2026, 12, 4, 5, 2026, 12, 11},  /* a Friday + 5 working days: the next Friday */
        {2026, 12, 5, 1, 2026, 12, 7},   /* a Saturday + 1: Monday */
        {2026, 12, 7, 10, 2026, 12, 21}, /* a Monday + 10: two weeks later */
        {2026, 12, 31, 2, 2027, 1, 4},   /* across the year (no holiday calendar) */
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        CHECK(review_deadline(rules_days(rows[i].y, rows[i].m, rows[i].d), rows[i].n) ==
                  rules_days(rows[i].wy, rows[i].wm, rows[i].wd),
              "row %zu", i);
    int days[3];
    char err[200];
    CHECK(review_workdays_parse("5,5,10", days, err, sizeof(err)) == 0 && days[0] == 5 &&
              days[2] == 10,
          "5,5,10");
    static const char *const bad[] = {"5,5", "5,5,10,1", "0,5,10", "5,5,61", "a,b,c", "", "5,,10"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(review_workdays_parse(bad[i], days, err, sizeof(err)) < 0 &&
                  strstr(err, "ONECARD_REVIEW_WORKDAYS"),
              "\"%s\" refused", bad[i]);
}

int main(void)
{
    test_next();
    test_deadline();
    return CHECK_DONE();
}
