/*
 * review: the year-end review, `onecard-rating review`.
 *
 *   review --year YYYY [--min-ratings N] [--below X.Y | --bottom-pct P]
 *          [--format text|json] [--confirm]
 *
 * Lists the providers whose ratings of that year put them below the
 * threshold: a Bayesian score under --below (default 3.0) with at least
 * --min-ratings ratings (default 30), or the bottom --bottom-pct percent
 * of their category among those with at least --min-ratings. Each line
 * carries the figures an operator acts on (score, plain mean, the
 * category's prior, count, distribution, monthly trend, top tags) and the
 * reasons, including ratings rejected for the provider's terminals (rating
 * swipes that never happened is an anomaly of its own) and flagged 5-star
 * bursts. Without --confirm nothing changes.
 *
 * --confirm suspends each listed provider through the registry, by running
 *   onecard-eligibility provider suspend ID --reason TEXT --actor rating-review
 * (ONECARD_ELIGIBILITY_BIN, or the onecard-eligibility next to this
 * executable), and records each outcome in rating_review. The service never
 * writes the registry itself. A provider already suspended by a review of
 * the same year is not suspended again.
 *
 * Exit: 0 done (1 with --confirm when some suspension failed), 2 bad
 * arguments or no database.
 */
#ifndef RATING_REVIEW_H
#define RATING_REVIEW_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { REVIEW_BELOW = 0, REVIEW_BOTTOM_PCT } review_mode;

typedef struct review_args {
    int year;
    review_mode mode;
    int64_t min_ratings;
    int32_t below_milli;
    int bottom_pct;
    bool json;
    bool confirm;
} review_args;

/* Parses the arguments after "review" (argv[0] is "review"). Returns 0, or
 * -1 with err naming the bad argument. Pure: for tests and the fuzzer. */
int review_parse_args(int argc, char *const *argv, review_args *a, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* "3", "3.0", "2.75" -> milli-points (3000, 3000, 2750); -1 when s is not a
 * decimal with at most 3 fraction digits between 0 and 5. */
int32_t review_parse_milli(const char *s);

/* Runs the suspension command for one provider and waits for it (at most
 * timeout_ms). Returns 0 when it exited 0, else -1 with what happened in
 * err (not found, signal, exit status, timeout). */
int review_suspend(const char *bin, const char *provider_id, const char *reason, int timeout_ms,
                   char *err, size_t errlen) __attribute__((warn_unused_result));

/* The whole command: report, and with --confirm the suspensions. Returns
 * the exit code. */
int review_run(PGconn *pg, const review_args *a, int64_t prior_weight, int64_t burst_threshold);

#endif
