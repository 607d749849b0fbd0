/*
 * Unit tests of the bench's latency histogram: the bucket layout (exact
 * below 256, then 128 buckets per power of two), the error bound over the
 * whole 1 ns .. 60 s range, percentiles of known distributions, clamping
 * and merging. Table-driven; prints "N passed, N failed".
 */
#include "check.h"
#include "histogram.h"

#include <stdint.h>
#include <stdio.h>

#define SIXTY_S_NS 60000000000ull

/* |got - want| <= want * tol, and got >= want (percentiles never under-report) */
static int near_above(uint64_t got, uint64_t want, double tol)
{
    return got >= want && (double)(got - want) <= (double)want * tol;
}

static void test_layout(void)
{
    static const struct {
        uint64_t value;
        size_t index;
        uint64_t low, high;
    } rows[] = {
        {0, 0, 0, 0},
        {1, 1, 1, 1},
        {100, 100, 100, 100},
        {255, 255, 255, 255},
        {256, 256, 256, 257},
        {257, 256, 256, 257},
        {258, 257, 258, 259},
        {511, 383, 510, 511},
        {512, 384, 512, 515},
        {1023, 511, 1020, 1023},
        {1024, 512, 1024, 1031},
        {1000000, 1780, 999424, 1003519}, /* 1 ms in ns: in [2^19, 2^20), width 2^12 */
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        size_t idx = histogram_index(rows[i].value);
        CHECK(idx == rows[i].index, "row %zu: value %llu index %zu", i,
              (unsigned long long)rows[i].value, idx);
        CHECK(histogram_bucket_low(idx) == rows[i].low, "row %zu: low %llu", i,
              (unsigned long long)histogram_bucket_low(idx));
        CHECK(histogram_bucket_high(idx) == rows[i].high, "row %zu: high %llu", i,
              (unsigned long long)histogram_bucket_high(idx));
    }
}

static void test_error_bound(void)
{
    char err[128];
    histogram h;
    CHECK(histogram_init(&h, SIXTY_S_NS, err, sizeof(err)) == 0, "%s", err);
    CHECK(h.nbuckets == 3808, "60 s in ns takes %zu buckets", h.nbuckets);

    /* buckets tile the range: each one starts right after the previous */
    size_t gaps = 0;
    for (size_t i = 0; i + 1 < h.nbuckets; i++)
        if (histogram_bucket_high(i) + 1 != histogram_bucket_low(i + 1) ||
            histogram_index(histogram_bucket_low(i + 1)) != i + 1)
            gaps++;
    CHECK(gaps == 0, "%zu buckets do not tile", gaps);

    /* every value from 1 ns to 60 s sits in a bucket at most 1/128 wide */
    size_t bad = 0, tried = 0;
    for (uint64_t v = 1; v <= SIXTY_S_NS; v += v / 97 + 1) {
        size_t i = histogram_index(v);
        uint64_t lo = histogram_bucket_low(i), hi = histogram_bucket_high(i);
        tried++;
        if (i >= h.nbuckets || v < lo || v > hi || (double)(hi - lo) > (double)v / 128.0)
            bad++;
    }
    CHECK(bad == 0 && tried > 2000, "%zu of %zu values outside the 1/128 bound", bad, tried);
    histogram_cleanup(&h);
}

static void test_percentiles(void)
{
    /* each row records lo, lo+step, .. hi (none when lo > hi), then n1
     * copies of v1 and n2 copies of v2, and asks for one percentile */
    static const struct {
        const char *name;
        uint64_t lo, hi, step, v1, n1, v2, n2;
        double pct;
        uint64_t want;
    } rows[] = {
        {"uniform 1..10000 us, p50", 1000, 10000000, 1000, 0, 0, 0, 0, 50.0, 5000000},
        {"uniform 1..10000 us, p90", 1000, 10000000, 1000, 0, 0, 0, 0, 90.0, 9000000},
        {"uniform 1..10000 us, p99", 1000, 10000000, 1000, 0, 0, 0, 0, 99.0, 9900000},
        {"uniform 1..10000 us, p99.9", 1000, 10000000, 1000, 0, 0, 0, 0, 99.9, 9990000},
        {"uniform 1..10000 us, max", 1000, 10000000, 1000, 0, 0, 0, 0, 100.0, 10000000},
        {"uniform 0..255 exact, p50", 0, 255, 1, 0, 0, 0, 0, 50.0, 127},
        {"one value, p50", 1, 0, 1, 12345678, 1, 0, 0, 50.0, 12345678},
        {"one value, p0.001", 1, 0, 1, 12345678, 1, 0, 0, 0.001, 12345678},
        {"990 x 1 ms + 10 x 1 s, p99", 1, 0, 1, 1000000, 990, 1000000000, 10, 99.0, 1000000},
        {"990 x 1 ms + 10 x 1 s, p99.1", 1, 0, 1, 1000000, 990, 1000000000, 10, 99.1, 1000000000},
        {"990 x 1 ms + 10 x 1 s, p99.9", 1, 0, 1, 1000000, 990, 1000000000, 10, 99.9, 1000000000},
        {"near the top, max", 1, 0, 1, 59000000000ull, 3, 0, 0, 100.0, 59000000000ull},
    };
    char err[128];
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        histogram h;
        if (histogram_init(&h, SIXTY_S_NS, err, sizeof(err)) != 0) {
            CHECK(0, "%s", err);
            continue;
        }
        for (uint64_t v = rows[r].lo; v <= rows[r].hi; v += rows[r].step)
            histogram_record(&h, v);
        for (uint64_t k = 0; k < rows[r].n1; k++)
            histogram_record(&h, rows[r].v1);
        for (uint64_t k = 0; k < rows[r].n2; k++)
            histogram_record(&h, rows[r].v2);
        uint64_t got = histogram_percentile(&h, rows[r].pct);
        CHECK(near_above(got, rows[r].want, 1.0 / 128), "%s: got %llu want %llu", rows[r].name,
              (unsigned long long)got, (unsigned long long)rows[r].want);
        histogram_cleanup(&h);
    }
}

static void test_edges(void)
{
    char err[128];
    histogram h, other, wrong;
    CHECK(histogram_init(&h, 0, err, sizeof(err)) == -1, "highest 0 is refused");
    CHECK(histogram_init(&h, 1000, err, sizeof(err)) == 0, "%s", err);
    CHECK(histogram_percentile(&h, 50) == 0 && histogram_mean(&h) == 0.0, "empty gives 0");

    /* above the highest trackable value: counted, clamped, max kept exact */
    histogram_record(&h, 5000);
    CHECK(h.total == 1 && h.clamped == 1 && h.max == 5000, "clamped %llu",
          (unsigned long long)h.clamped);
    CHECK(histogram_percentile(&h, 100) == 5000, "all clamped: p100 is the true value");
    histogram_reset(&h);
    CHECK(h.total == 0 && histogram_percentile(&h, 99) == 0, "reset empties");

    /* merge: the union of two histograms, same percentiles as one */
    CHECK(histogram_init(&other, 1000, err, sizeof(err)) == 0, "%s", err);
    for (uint64_t v = 1; v <= 500; v++)
        histogram_record(&h, v);
    for (uint64_t v = 501; v <= 1000; v++)
        histogram_record(&other, v);
    CHECK(histogram_merge(&h, &other) == 0, "merge");
    CHECK(h.total == 1000 && h.min == 1 && h.max == 1000, "merged total %llu",
          (unsigned long long)h.total);
    CHECK(near_above(histogram_percentile(&h, 50), 500, 1.0 / 128), "merged p50 %llu",
          (unsigned long long)histogram_percentile(&h, 50));
    CHECK(histogram_mean(&h) > 500.49 && histogram_mean(&h) < 500.51, "mean %f",
          histogram_mean(&h));
    CHECK(histogram_init(&wrong, 2000, err, sizeof(err)) == 0, "%s", err);
    CHECK(histogram_merge(&h, &wrong) == -1, "different ranges do not merge");
    histogram_cleanup(&wrong);
    histogram_cleanup(&other);
    histogram_cleanup(&h);
}

int main(void)
{
    test_layout();
    test_error_bound();
    test_percentiles();
    test_edges();
    return CHECK_DONE();
}
