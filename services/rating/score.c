/*
 * score: Bayesian averages in integer milli-points. See score.h.
 */
#include "score.h"

#include <stdio.h>

/* a / b rounded half up, for b > 0 and a >= 0 */
static int64_t score_div_round(int64_t a, int64_t b)
{
    return (a + b / 2) / b;
}

int32_t score_mean_milli(int64_t n, int64_t sum)
{
    if (n <= 0 || sum < 0)
        return SCORE_NEUTRAL_MILLI;
    return (int32_t)score_div_round(sum * 1000, n);
}

int32_t score_bayes_milli(int64_t n, int64_t sum, int32_t prior_milli, int64_t weight)
{
    if (weight < 0)
        weight = 0;
    if (n < 0 || sum < 0)
        n = sum = 0;
    if (n + weight == 0)
        return prior_milli;
    return (int32_t)score_div_round(weight * (int64_t)prior_milli + sum * 1000, weight + n);
}

bool score_material(int32_t prev_milli, int32_t now_milli, int32_t delta_milli)
{
    if (prev_milli < 0)
        return true;
    int32_t d = now_milli - prev_milli;
    return (d < 0 ? -d : d) >= delta_milli;
}

int score_compare(const void *a, const void *b)
{
    const score_entry *x = a, *y = b;
    if (x->bayes_milli != y->bayes_milli)
        return x->bayes_milli > y->bayes_milli ? -1 : 1;
    if (x->n != y->n)
        return x->n > y->n ? -1 : 1;
    return 0;
}

size_t score_bottom_count(size_t n, int pct)
{
    if (n == 0 || pct <= 0)
        return 0;
    if (pct >= 100)
        return n;
    size_t k = (n * (size_t)pct + 99) / 100;
    return k == 0 ? 1 : k;
}

void score_format(char *out, size_t len, int32_t milli)
{
    const char *sign = milli < 0 ? "-" : "";
    int32_t m = milli < 0 ? -milli : milli;
    snprintf(out, len, "%s%d.%03d", sign, m / 1000, m % 1000);
}
