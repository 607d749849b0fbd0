/*
 * score: the arithmetic of provider scores, pure and table-tested.
 *
 * A provider's (or an item's) score is a Bayesian average: its own stars
 * pulled towards the mean of its category by a prior worth `weight`
 * ratings,
 *
 *     bayes = (weight * prior + sum * 1000) / (weight + n)    (milli-points)
 *
 * so a handful of ratings moves a score only a little away from what the
 * category usually gets, and thousands of ratings speak for themselves: 3
 * five-star ratings do not outrank 3,000 ratings that average a good score.
 * Everything is integer milli-points (4125 = 4.125 stars), rounded half up,
 * so the same sums give the same score on every machine. No state, no
 * allocation: any thread.
 */
#ifndef RATING_SCORE_H
#define RATING_SCORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCORE_NEUTRAL_MILLI 3000 /* the prior of a category with no ratings yet */

/* The plain mean of n ratings summing to sum, in milli-points;
 * SCORE_NEUTRAL_MILLI when n is 0. */
int32_t score_mean_milli(int64_t n, int64_t sum);

/* The Bayesian average (see above). weight < 0 counts as 0; with n and
 * weight both 0 the prior is returned. */
int32_t score_bayes_milli(int64_t n, int64_t sum, int32_t prior_milli, int64_t weight);

/* True when a score moved enough to publish again: never published
 * (prev < 0), or moved by delta_milli or more. */
bool score_material(int32_t prev_milli, int32_t now_milli, int32_t delta_milli);

/* One ranked entry: its score and its count. */
typedef struct score_entry {
    int32_t bayes_milli;
    int64_t n;
} score_entry;

/* qsort order, best first: higher score, then more ratings. */
int score_compare(const void *a, const void *b);

/* How many of n ranked providers make the bottom pct percent (rounded up,
 * at least 1 when n > 0 and pct > 0, at most n). */
size_t score_bottom_count(size_t n, int pct);

/* Formats milli-points as "4.125" into out (at least 16 bytes). */
void score_format(char *out, size_t len, int32_t milli);

#endif
