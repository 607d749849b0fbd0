/*
 * histogram: a small log-linear latency histogram in the manner of
 * HdrHistogram, for the load generator.
 *
 * Values are unsigned integers in whatever unit the caller picks (the bench
 * records nanoseconds). Values below 2 * HISTOGRAM_SUB are counted exactly;
 * above that, each power-of-two range [2^k, 2^(k+1)) is cut into
 * HISTOGRAM_SUB equal buckets, so any recorded value is known to within
 * 1 / HISTOGRAM_SUB of itself (0.78 %) over the whole range, with a few
 * thousand counters: 1 ns .. 60 s needs 3,808 of them (30 KiB).
 *
 * Percentiles report the highest value of the bucket they fall in (never
 * lower than the truth, like HdrHistogram's "highest equivalent value"),
 * capped by the exact maximum. Values above the highest trackable value
 * are counted at that value and in `clamped`.
 *
 * Not thread-safe: one histogram per thread, merge at the end.
 */
#ifndef BENCH_HISTOGRAM_H
#define BENCH_HISTOGRAM_H

#include <stddef.h>
#include <stdint.h>

#define HISTOGRAM_SUB_BITS 7
#define HISTOGRAM_SUB      (1u << HISTOGRAM_SUB_BITS) /* buckets per power of two */

typedef struct histogram {
    uint64_t highest; /* highest trackable value */
    size_t nbuckets;
    uint64_t *counts;
    uint64_t total;   /* values recorded */
    uint64_t clamped; /* values above highest, recorded as highest */
    uint64_t min, max;
    long double sum; /* for the mean */
} histogram;

/* Sets up an empty histogram for values 0..highest (highest >= 1). Returns
 * 0, or -1 with the reason in err (out of memory). */
int histogram_init(histogram *h, uint64_t highest, char *err, size_t errlen)
    __attribute__((warn_unused_result));

void histogram_record(histogram *h, uint64_t value);

/* Adds every count of src into dst; both must have the same highest value.
 * Returns 0, or -1 when they do not. */
int histogram_merge(histogram *dst, const histogram *src);

/* The value at percentile pct (0 < pct <= 100): the smallest bucket upper
 * bound at or below which pct % of the values lie, capped by the maximum.
 * 0 for an empty histogram. */
uint64_t histogram_percentile(const histogram *h, double pct);

double histogram_mean(const histogram *h);

/* The bucket a value falls in, and that bucket's lowest and highest values
 * (exposed for the unit test). */
size_t histogram_index(uint64_t value);
uint64_t histogram_bucket_low(size_t index);
uint64_t histogram_bucket_high(size_t index);

void histogram_reset(histogram *h);
void histogram_cleanup(histogram *h);

#endif
