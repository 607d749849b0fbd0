/*
 * fuzz_shares: the parser of an item's fund shares (the catalogue's
 * fund_source column, libs/common/shares.c) and of the split amounts the
 * ledger stores, on any bytes.
 *
 * Promises checked beyond "no crash, no undefined behaviour, no leak":
 * accepted basis points are 1..4 shares of distinct known levels, each
 * 1..10000, summing to exactly 10000, and read back the same from what
 * shares_format writes; splitting an amount taken from the input by them
 * gives shares that sum to that amount exactly, each within one fen of its
 * exact part, and minus that for minus the amount; accepted amounts are
 * non-zero, within the limit and round-trip too; every failure leaves a
 * message.
 */
#include "common/shares.h"
#include "fuzz.h"

#include <stdbool.h>
#include <string.h>

static bool fuzz_same(const shares *a, const shares *b)
{
    if (a->n != b->n)
        return false;
    for (int i = 0; i < a->n; i++)
        if (a->level[i] != b->level[i] || a->v[i] != b->v[i])
            return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 512)
        return 0;
    char text[513];
    memcpy(text, data, size);
    text[size] = '\0';
    shares s, back, out, neg;
    char err[256], fmt[SHARES_TEXT_MAX];
    err[0] = '\0';
    if (shares_parse(text, &s, err, sizeof(err)) == 0) {
        FUZZ_REQUIRE(s.n >= 1 && s.n <= SHARES_LEVELS && shares_sum(&s) == SHARES_BP);
        for (int i = 0; i < s.n; i++) {
            FUZZ_REQUIRE(s.v[i] >= 1 && s.v[i] <= SHARES_BP);
            FUZZ_REQUIRE((unsigned)s.level[i] < SHARES_LEVELS);
            for (int j = 0; j < i; j++)
                FUZZ_REQUIRE(s.level[i] != s.level[j]);
        }
        shares_format(&s, fmt, sizeof(fmt));
        FUZZ_REQUIRE(shares_parse(fmt, &back, err, sizeof(err)) == 0 && fuzz_same(&s, &back));
        /* an amount from the input's bytes, up to the money limit */
        int64_t amount = 0;
        for (size_t i = 0; i < size && i < 8; i++)
            amount = amount * 131 + data[i];
        amount %= INT64_C(100000000001);
        FUZZ_REQUIRE(shares_split(amount, &s, &out, err, sizeof(err)) == 0);
        FUZZ_REQUIRE(shares_sum(&out) == amount && out.n == s.n);
        FUZZ_REQUIRE(shares_split(-amount, &s, &neg, err, sizeof(err)) == 0);
        for (int i = 0; i < s.n; i++) {
            __int128 d = (__int128)out.v[i] * SHARES_BP - (__int128)amount * s.v[i];
            FUZZ_REQUIRE(d > -SHARES_BP && d < SHARES_BP);
            FUZZ_REQUIRE(neg.v[i] == -out.v[i]);
        }
    } else {
        FUZZ_REQUIRE(err[0] != '\0');
    }
    err[0] = '\0';
    if (shares_parse_amounts(text, INT64_C(100000000000), &s, err, sizeof(err)) == 0) {
        FUZZ_REQUIRE(s.n >= 1 && s.n <= SHARES_LEVELS);
        for (int i = 0; i < s.n; i++)
            FUZZ_REQUIRE(s.v[i] != 0 && s.v[i] <= INT64_C(100000000000) &&
                         s.v[i] >= -INT64_C(100000000000));
        shares_format(&s, fmt, sizeof(fmt));
        FUZZ_REQUIRE(shares_parse_amounts(fmt, INT64_C(100000000000), &back, err, sizeof(err)) ==
                         0 &&
                     fuzz_same(&s, &back));
    } else {
        FUZZ_REQUIRE(err[0] != '\0');
    }
    return 0;
}
