/*
 * histogram: log-linear buckets, exact below 2 * HISTOGRAM_SUB. See
 * histogram.h.
 *
 * Layout of the counters: indexes 0 .. 2*SUB-1 hold the values themselves;
 * after that, each power of two 2^b (b > SUB_BITS) owns SUB buckets of
 * width 2^(b - SUB_BITS). The index is computed from the position of the
 * highest set bit, with no loop and no floating point, so recording costs a
 * few instructions.
 */
#include "histogram.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t histogram_index(uint64_t value)
{
    if (value < 2 * (uint64_t)HISTOGRAM_SUB)
        return (size_t)value;
    unsigned bits = 63u - (unsigned)__builtin_clzll(value); /* >= SUB_BITS + 1 */
    unsigned shift = bits - HISTOGRAM_SUB_BITS;             /* >= 1 */
    uint64_t sub = value >> shift;                          /* SUB .. 2*SUB-1 */
    return 2 * (size_t)HISTOGRAM_SUB + (size_t)(shift - 1) * HISTOGRAM_SUB +
           (size_t)(sub - HISTOGRAM_SUB);
}

uint64_t histogram_bucket_low(size_t index)
{
    if (index < 2 * (size_t)HISTOGRAM_SUB)
        return index;
    size_t j = index - 2 * (size_t)HISTOGRAM_SUB;
    unsigned shift = (unsigned)(j / HISTOGRAM_SUB) + 1;
    uint64_t sub = (uint64_t)(j % HISTOGRAM_SUB) + HISTOGRAM_SUB;
    return sub << shift;
}

uint64_t histogram_bucket_high(size_t index)
{
    if (index < 2 * (size_t)HISTOGRAM_SUB)
        return index;
    unsigned shift = (unsigned)((index - 2 * (size_t)HISTOGRAM_SUB) / HISTOGRAM_SUB) + 1;
    return histogram_bucket_low(index) + ((uint64_t)1 << shift) - 1;
}

int histogram_init(histogram *h, uint64_t highest, char *err, size_t errlen)
{
    memset(h, 0, sizeof(*h));
    if (highest < 1 || highest > (UINT64_MAX >> 1)) {
        snprintf(err, errlen, "histogram: highest value out of range");
        return -1;
    }
    h->highest = highest;
    h->nbuckets = histogram_index(highest) + 1;
    h->counts = calloc(h->nbuckets, sizeof(h->counts[0]));
    if (h->counts == NULL) {
        snprintf(err, errlen, "histogram: out of memory for %zu buckets", h->nbuckets);
        return -1;
    }
    h->min = UINT64_MAX;
    return 0;
}

void histogram_record(histogram *h, uint64_t value)
{
    if (value < h->min)
        h->min = value;
    if (value > h->max)
        h->max = value;
    h->sum += (long double)value;
    h->total++;
    if (value > h->highest) {
        h->clamped++;
        value = h->highest;
    }
    h->counts[histogram_index(value)]++;
}

int histogram_merge(histogram *dst, const histogram *src)
{
    if (dst->highest != src->highest)
        return -1;
    for (size_t i = 0; i < dst->nbuckets; i++)
        dst->counts[i] += src->counts[i];
    if (src->total > 0) {
        if (src->min < dst->min)
            dst->min = src->min;
        if (src->max > dst->max)
            dst->max = src->max;
    }
    dst->total += src->total;
    dst->clamped += src->clamped;
    dst->sum += src->sum;
    return 0;
}

uint64_t histogram_percentile(const histogram *h, double pct)
{
    if (h->total == 0)
        return 0;
    if (pct > 100.0)
        pct = 100.0;
    /* the rank of the value wanted, 1-based; the epsilon keeps 99.9 % of
     * 1000 at rank 999 despite binary floating point */
    double want = ceil(pct / 100.0 * (double)h->total - 1e-9);
    uint64_t rank = want < 1.0 ? 1 : (uint64_t)want;
    if (rank > h->total)
        rank = h->total;
    uint64_t seen = 0;
    for (size_t i = 0; i < h->nbuckets; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            uint64_t v = histogram_bucket_high(i);
            if (v > h->max)
                v = h->max;
            if (v < h->min)
                v = h->min;
            return v;
        }
    }
    return h->max; /* not reached: the counts sum to total */
}

double histogram_mean(const histogram *h)
{
    return h->total ? (double)(h->sum / (long double)h->total) : 0.0;
}

void histogram_reset(histogram *h)
{
    memset(h->counts, 0, h->nbuckets * sizeof(h->counts[0]));
    h->total = h->clamped = h->max = 0;
    h->min = UINT64_MAX;
    h->sum = 0;
}

void histogram_cleanup(histogram *h)
{
    free(h->counts);
    h->counts = NULL;
    h->nbuckets = 0;
}
