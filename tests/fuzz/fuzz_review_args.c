/*
 * fuzz_review_args: the arguments of `onecard-rating review`,
 * review_parse_args(), one argument per input line. When they parse, the
 * thresholds the report relies on hold: a year in 2000..9999, a --below
 * score within 0..5 stars, a --bottom-pct in 1..100 in that mode, a
 * non-negative --min-ratings; a failure always names what is wrong.
 */
#include "fuzz.h"
#include "review.h"

#include <string.h>

#define FUZZ_ARGS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *buf = malloc(size + 1);
    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    char *argv[FUZZ_ARGS + 1];
    int argc = 0;
    argv[argc++] = "review";
    for (char *p = buf; argc < FUZZ_ARGS;) {
        char *nl = strchr(p, '\n');
        argv[argc++] = p;
        if (nl == NULL)
            break;
        *nl = '\0';
        p = nl + 1;
    }
    argv[argc] = NULL;
    review_args a;
    char err[256] = "";
    if (review_parse_args(argc, argv, &a, err, sizeof(err)) == 0) {
        FUZZ_REQUIRE(a.year >= 2000 && a.year <= 9999);
        FUZZ_REQUIRE(a.below_milli >= 0 && a.below_milli <= 5000);
        FUZZ_REQUIRE(a.min_ratings >= 0);
        FUZZ_REQUIRE(a.mode == REVIEW_BELOW || (a.bottom_pct >= 1 && a.bottom_pct <= 100));
    } else {
        FUZZ_REQUIRE(err[0] != '\0');
    }
    int32_t m = review_parse_milli(argv[argc - 1]);
    FUZZ_REQUIRE(m >= -1 && m <= 5000);
    free(buf);
    return 0;
}
