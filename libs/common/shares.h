/*
 * shares: the fund levels that pay for an item, and the one rule that splits
 * an amount of money between them, to the fen.
 *
 * The money for one item comes from several levels of government (central,
 * provincial, municipal, district) and the federation answers to each of
 * them, so every grant, swipe, reversal and payout is split into its fund
 * shares. The catalogue writes an item's shares in basis points
 * ("central:5000,provincial:3000,municipal:2000", a bare "central" is
 * "central:10000"); eligibility splits each grant by them; the ledger splits
 * a swipe by the wallet's current balance per fund; settlement sums what the
 * postings name. Everyone splits with shares_split, so the same amount and
 * the same weights give the same fen everywhere.
 *
 * The split (shares_split): each share gets floor(|amount| * w / W) (W the
 * sum of the weights), then the fen left over are given one at a time to the
 * shares with the largest remainder (|amount| * w mod W), ties going to the
 * share listed first. A negative amount is split as its absolute value and
 * negated, so the split of -a is exactly minus the split of a. The shares
 * always sum to the amount exactly; a share of weight 0 gets 0.
 *
 * Pure functions, no allocation: any thread.
 */
#ifndef ONECARD_SHARES_H
#define ONECARD_SHARES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* central, provincial, municipal, district */
#define SHARES_LEVELS 4
#define SHARES_BP     10000 /* the whole, in basis points */
/* The longest formatted list: 4 x "provincial:" and 12 digits, with commas. */
#define SHARES_TEXT_MAX 128

typedef enum shares_level {
    SHARES_CENTRAL = 0,
    SHARES_PROVINCIAL,
    SHARES_MUNICIPAL,
    SHARES_DISTRICT,
} shares_level;

/* A list of shares in the order written: basis points (catalogue), fen (a
 * split amount) or any non-negative weights (balances). Each level at most
 * once. */
typedef struct shares {
    int n;
    shares_level level[SHARES_LEVELS];
    int64_t v[SHARES_LEVELS];
} shares;

/* "central", "provincial", "municipal", "district"; "?" when out of range. */
const char *shares_level_name(shares_level l);
/* The level named s (exactly), or -1. */
int shares_level_parse(const char *s);

/* Parses an item's shares in basis points: "level:bp[,level:bp...]" or a
 * bare "level" (= level:10000); each level known and at most once, each
 * share 1..10000 written in digits, the shares summing to 10000. 0 with
 * *out, or -1 with what is wrong in err (out unchanged). */
int shares_parse(const char *text, shares *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Parses amounts as shares_format writes them ("central:271,provincial:-3"):
 * each level known and at most once, each amount a non-zero integer within
 * +-limit. 0 with *out, or -1 with err. */
int shares_parse_amounts(const char *text, int64_t limit, shares *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Writes "level:v,level:v" into out (at least SHARES_TEXT_MAX bytes is
 * always enough). Returns out. */
char *shares_format(const shares *s, char *out, size_t len);

/* Splits amount by the weights w (each >= 0, their sum > 0 and at most
 * INT64_MAX) into out: out->level = w->level in the same order, out->v the
 * fen of each, summing exactly to amount (the rule in the file comment).
 * 0, or -1 with err when the weights are unusable. out may not alias w. */
int shares_split(int64_t amount, const shares *w, shares *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* The same rule on bare weights (for funds named by any account name, as
 * the ledger's are): out[i] the fen of w[i], i < n <= SHARES_LEVELS. */
int shares_split_weights(int64_t amount, const int64_t *w, int n, int64_t *out, char *err,
                         size_t errlen) __attribute__((warn_unused_result));

/* Removes the shares whose value is 0, keeping the order of the rest. */
void shares_drop_zero(shares *s);

/* The sum of the values. */
int64_t shares_sum(const shares *s);

/* A single share: level l with value v. */
void shares_single(shares *s, shares_level l, int64_t v);

#endif
