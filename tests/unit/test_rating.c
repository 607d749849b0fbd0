/*
 * test_rating: the rating service's pure parts, table-driven: Bayesian
 * ordering cases (a few perfect ratings never outrank thousands of good
 * ones), the acceptance rules of one rating, the review's arguments, and
 * the bottom-percent count.
 */
#include "check.h"

#include "review.h"
#include "rules.h"
#include "score.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- scores */

typedef struct {
    const char *name;
    int64_t n_a, sum_a; /* provider A */
    int64_t n_b, sum_b; /* provider B */
    int32_t prior;      /* the category's mean */
    int expect;         /* 1: A ranks above B, -1: below */
} order_case;

static void test_ordering(void)
{
    const int64_t w = 50; /* the service's default prior weight */
    static const order_case cases[] = {
        {"3 x 5 stars vs 3,000 averaging 4.0", 3, 15, 3000, 12000, 3800, -1},
        {"3 x 5 stars vs 3,000 averaging 4.0, low prior", 3, 15, 3000, 12000, 3000, -1},
        {"3 x 5 stars vs 3,000 averaging 4.0, prior 3.9", 3, 15, 3000, 12000, 3900, -1},
        /* the limit of a pure Bayesian average: against 3,000 ratings at
         * exactly the category's mean, 3 perfect ones edge ahead (3.962 vs
         * 3.900); --min-ratings keeps thin evidence out of the review */
        {"3 x 5 stars vs 3,000 at exactly the prior 3.9", 3, 15, 3000, 11700, 3900, 1},
        {"1 x 5 stars vs 3,000 averaging 3.6, prior 3.5", 1, 5, 3000, 10800, 3500, -1},
        {"10 x 5 stars vs 3,000 averaging 4.2, prior 3.8", 10, 50, 3000, 12600, 3800, -1},
        {"3 x 5 stars vs 3,000 averaging 2.0: the bad one ranks last", 3, 15, 3000, 6000, 3500, 1},
        {"3 x 1 star vs 3,000 averaging 2.5: few bad ratings are not damning", 3, 3, 3000, 7500,
         3800, 1},
        {"3,000 at 4.5 vs 3,000 at 4.4", 3000, 13500, 3000, 13200, 3800, 1},
        {"300 at 4.5 vs 3,000 at 4.4: enough evidence wins", 300, 1350, 3000, 13200, 3800, 1},
        {"0 ratings vs 3,000 averaging 4.0, prior 3.8", 0, 0, 3000, 12000, 3800, -1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const order_case *c = &cases[i];
        score_entry a = {score_bayes_milli(c->n_a, c->sum_a, c->prior, w), c->n_a};
        score_entry b = {score_bayes_milli(c->n_b, c->sum_b, c->prior, w), c->n_b};
        int got = score_compare(&a, &b) < 0 ? 1 : -1;
        CHECK(got == c->expect, "%s: A %d (n %lld) vs B %d (n %lld)", c->name, a.bayes_milli,
              (long long)a.n, b.bayes_milli, (long long)b.n);
    }
    /* sorting a whole table puts the well-rated established providers first */
    score_entry t[] = {{score_bayes_milli(3, 15, 3800, w), 3},
                       {score_bayes_milli(3000, 12600, 3800, w), 3000},
                       {score_bayes_milli(30, 60, 3800, w), 30},
                       {score_bayes_milli(3000, 7500, 3800, w), 3000}};
    qsort(t, 4, sizeof(t[0]), score_compare);
    CHECK(t[0].n == 3000 && t[0].bayes_milli > 4100, "first: %d n %lld", t[0].bayes_milli,
          (long long)t[0].n);
    CHECK(t[3].n == 3000 && t[3].bayes_milli < 2600, "last: %d n %lld", t[3].bayes_milli,
          (long long)t[3].n);
}

typedef struct {
    int64_t n, sum;
    int32_t prior;
    int64_t w;
    int32_t want;
} bayes_case;

static void test_bayes(void)
{
    static const bayes_case cases[] = {
        {0, 0, 3800, 20, 3800},    /* no ratings: the prior */
        {0, 0, 3800, 0, 3800},     /* no ratings, no weight: the prior */
        {4, 20, 3000, 0, 5000},    /* no weight: the plain mean */
        {20, 100, 3000, 20, 4000}, /* half and half */
        {3, 10, 3000, 0, 3333},    /* 3.3333 rounds down */
        {3, 11, 3000, 0, 3667},    /* 3.6667 rounds up */
        {1, 5, 3500, 1, 4250},     /* (3500 + 5000) / 2 */
        {3000, 12000, 3800, 20, 3999},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const bayes_case *c = &cases[i];
        int32_t got = score_bayes_milli(c->n, c->sum, c->prior, c->w);
        CHECK(got == c->want, "case %zu: got %d want %d", i, got, c->want);
    }
    CHECK(score_mean_milli(0, 0) == SCORE_NEUTRAL_MILLI, "empty mean");
    CHECK(score_mean_milli(3, 14) == 4667, "mean of 5,5,4");
    CHECK(score_material(-1, 4000, 50), "first publication");
    CHECK(!score_material(4000, 4049, 50), "49 milli is not material");
    CHECK(score_material(4000, 3950, 50), "50 milli down is material");
    static const struct {
        size_t n;
        int pct;
        size_t want;
    } bottom[] = {{0, 10, 0},  {1, 10, 1}, {10, 10, 1},   {11, 10, 2},
                  {20, 10, 2}, {20, 0, 0}, {20, 100, 20}, {3, 50, 2}};
    for (size_t i = 0; i < sizeof(bottom) / sizeof(bottom[0]); i++)
        CHECK(score_bottom_count(bottom[i].n, bottom[i].pct) == bottom[i].want,
              "bottom %d%% of %zu: %zu", bottom[i].pct, bottom[i].n,
              score_bottom_count(bottom[i].n, bottom[i].pct));
    char buf[16];
    score_format(buf, sizeof(buf), 4125);
    CHECK(strcmp(buf, "4.125") == 0, "%s", buf);
    score_format(buf, sizeof(buf), 3000);
    CHECK(strcmp(buf, "3.000") == 0, "%s", buf);
}

/* ----------------------------------------------------------------- rules */

#define DAY (86400LL * 1000)
#define T0  1780000000000LL

typedef struct {
    const char *name;
    const char *terminal, *provider;
    int32_t score;
    int64_t at;
    int swipe; /* 0 none, 1 authorized, 2 reversed, 3 authorized and rated, 4 reversal only */
    rules_verdict want;
} rules_case;

static void test_rules(void)
{
    static const rules_case cases[] = {
        {"accepted", "T1", "P1", 5, T0 + 60000, 1, RULES_OK},
        {"accepted at 7 days exactly", "T1", "P1", 4, T0 + 7 * DAY, 1, RULES_OK},
        {"too old at 7 days + 1 ms", "T1", "P1", 4, T0 + 7 * DAY + 1, 1, RULES_TOO_OLD},
        {"swipe not seen: parked", "T1", "P1", 5, T0, 0, RULES_PENDING},
        {"reversal only: reversed", "T1", "P1", 5, T0, 4, RULES_SWIPE_REVERSED},
        {"reversed", "T1", "P1", 5, T0 + 1000, 2, RULES_SWIPE_REVERSED},
        {"another terminal", "T2", "P1", 5, T0 + 1000, 1, RULES_OTHER_TERMINAL},
        {"another provider", "T1", "P2", 5, T0 + 1000, 1, RULES_PROVIDER_MISMATCH},
        {"already rated", "T1", "P1", 3, T0 + 1000, 3, RULES_ALREADY_RATED},
        {"within clock skew before the swipe", "T1", "P1", 3, T0 - 30000, 1, RULES_OK},
        {"well before the swipe", "T1", "P1", 3, T0 - 3600000, 1, RULES_BEFORE_SWIPE},
        {"score 0", "T1", "P1", 0, T0 + 1000, 1, RULES_INVALID},
        {"score 6", "T1", "P1", 6, T0 + 1000, 1, RULES_INVALID},
        {"no terminal", "", "P1", 5, T0 + 1000, 1, RULES_INVALID},
        {"no time", "T1", "P1", 5, 0, 1, RULES_INVALID},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const rules_case *c = &cases[i];
        rules_rating r = {"e1", "S1", c->terminal, c->provider, c->score, c->at};
        rules_swipe s = {.authorized = c->swipe == 1 || c->swipe == 2 || c->swipe == 3,
                         .reversed = c->swipe == 2 || c->swipe == 4,
                         .rated = c->swipe == 3,
                         .terminal_id = "T1",
                         .provider_id = "P1",
                         .occurred_at_ms = T0};
        char reason[240];
        rules_verdict v = rules_check(&r, c->swipe ? &s : NULL, reason, sizeof(reason));
        CHECK(v == c->want, "%s: got %s (%s) want %s", c->name, rules_code(v), reason,
              rules_code(c->want));
        CHECK((v == RULES_OK) == (reason[0] == '\0'), "%s: reason \"%s\"", c->name, reason);
    }
    char p[8];
    rules_period(p, sizeof(p), 1767225599999LL, 0); /* 2025-12-31T23:59:59.999Z */
    CHECK(strcmp(p, "2025-12") == 0, "%s", p);
    rules_period(p, sizeof(p), 1767225600000LL, 0);
    CHECK(strcmp(p, "2026-01") == 0, "%s", p);
    /* 00:30 on 1 January 2026 in Beijing is 16:30 UTC on 31 December: the
     * rating falls in January, the month settlement puts its swipe in */
    rules_period(p, sizeof(p), 1767198600000LL, 480);
    CHECK(strcmp(p, "2026-01") == 0, "00:30 local on the 1st: %s", p);
    rules_period(p, sizeof(p), 1767198600000LL - 3600000LL, 480);
    CHECK(strcmp(p, "2025-12") == 0, "23:30 local on the 31st: %s", p);
    CHECK(rules_burst_candidate(5, T0 + 119000, T0, 120000), "5 stars after 119 s");
    CHECK(!rules_burst_candidate(5, T0 + 121000, T0, 120000), "5 stars after 121 s");
    CHECK(!rules_burst_candidate(4, T0 + 1000, T0, 120000), "4 stars");
    CHECK(strcmp(rules_code(RULES_OTHER_TERMINAL), "swipe_of_another_terminal") == 0, "code");
}

/* ---------------------------------------------------------------- review */

typedef struct {
    const char *args; /* space-separated, after "review" */
    int ok;
    int year;
    review_mode mode;
    int64_t min;
    int32_t below;
    int pct;
    const char *err_has;
} args_case;

static void test_review_args(void)
{
    static const args_case cases[] = {
        {"--year 2026", 1, 2026, REVIEW_BELOW, 30, 3000, 0, NULL},
        {"--year 2026 --min-ratings 30 --below 3.0", 1, 2026, REVIEW_BELOW, 30, 3000, 0, NULL},
        {"--year 2026 --below 2.75 --min-ratings 5 --format json", 1, 2026, REVIEW_BELOW, 5, 2750,
         0, NULL},
        {"--year 2026 --bottom-pct 10", 1, 2026, REVIEW_BOTTOM_PCT, 30, 3000, 10, NULL},
        {"--year 2026 --bottom-pct 10 --below 3", 0, 0, 0, 0, 0, 0, "give one"},
        {"--min-ratings 30", 0, 0, 0, 0, 0, 0, "--year is required"},
        {"--year 26", 0, 0, 0, 0, 0, 0, "--year"},
        {"--year 2026 --below 5.5", 0, 0, 0, 0, 0, 0, "--below"},
        {"--year 2026 --below 3.0001", 0, 0, 0, 0, 0, 0, "--below"},
        {"--year 2026 --below -1", 0, 0, 0, 0, 0, 0, "--below"},
        {"--year 2026 --bottom-pct 0", 0, 0, 0, 0, 0, 0, "--bottom-pct"},
        {"--year 2026 --min-ratings x", 0, 0, 0, 0, 0, 0, "--min-ratings"},
        {"--year 2026 --format xml", 0, 0, 0, 0, 0, 0, "--format"},
        {"--year 2026 --frobnicate", 0, 0, 0, 0, 0, 0, "unknown argument"},
        {"--year", 0, 0, 0, 0, 0, 0, "needs a value"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const args_case *c = &cases[i];
        char buf[256], *argv[16];
        int argc = 0;
        snprintf(buf, sizeof(buf), "%s", c->args);
        argv[argc++] = "review";
        for (char *t = strtok(buf, " "); t && argc < 16; t = strtok(NULL, " "))
            argv[argc++] = t;
        review_args a;
        char err[256] = "";
        int rc = review_parse_args(argc, argv, &a, err, sizeof(err));
        CHECK((rc == 0) == (c->ok == 1), "\"%s\": rc %d err %s", c->args, rc, err);
        if (rc == 0 && c->ok)
            CHECK(a.year == c->year && a.mode == c->mode && a.min_ratings == c->min &&
                      a.below_milli == c->below && a.bottom_pct == c->pct,
                  "\"%s\": year %d mode %d min %lld below %d pct %d", c->args, a.year, a.mode,
                  (long long)a.min_ratings, a.below_milli, a.bottom_pct);
        if (c->err_has)
            CHECK(strstr(err, c->err_has) != NULL, "\"%s\": err \"%s\"", c->args, err);
    }
    static const struct {
        const char *s;
        int32_t want;
    } milli[] = {{"3", 3000}, {"3.0", 3000}, {"2.75", 2750}, {"0.001", 1},
                 {"5", 5000}, {"5.001", -1}, {"", -1},       {"3.", -1},
                 {".5", -1},  {"3.5x", -1},  {"99", -1}};
    for (size_t i = 0; i < sizeof(milli) / sizeof(milli[0]); i++)
        CHECK(review_parse_milli(milli[i].s) == milli[i].want, "\"%s\": %d", milli[i].s,
              review_parse_milli(milli[i].s));
}

/* The suspension runs the registry's command and reports its failure. */
static void test_review_suspend(void)
{
    char err[512];
    CHECK(review_suspend("/bin/true", "P1", "r", 5000, err, sizeof(err)) == 0, "true: %s", err);
    CHECK(review_suspend("/bin/false", "P1", "r", 5000, err, sizeof(err)) < 0 &&
              strstr(err, "status 1") != NULL,
          "false: %s", err);
    CHECK(review_suspend("/nonexistent/onecard-eligibility", "P1", "r", 5000, err, sizeof(err)) <
                  0 &&
              strstr(err, "cannot run") != NULL,
          "missing: %s", err);
}

int main(void)
{
    test_ordering();
    test_bayes();
    test_rules();
    test_review_args();
    test_review_suspend();
    return CHECK_DONE();
}
