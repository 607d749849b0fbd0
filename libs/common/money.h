/*
 * money: what an amount of money is, for every service. Money is int64_t
 * fen (never a float); an amount is outside input until it is parsed
 * here, and one limit bounds it everywhere (the gateway's JSON, the
 * ledger's journal, settlement's postings, the catalogue), so a value one
 * service accepts is never refused by the next.
 */
#ifndef ONECARD_MONEY_H
#define ONECARD_MONEY_H

#include <stdbool.h>
#include <stdint.h>

/* 1 billion yuan: an amount beyond it is bad input wherever it appears. */
#define MONEY_MAX_FEN INT64_C(100000000000)

/* Parses s, a whole number of fen written as decimal digits only (no sign,
 * space or exponent), 0..MONEY_MAX_FEN. true with *out, or false (out
 * unchanged). */
bool money_parse_fen(const char *s, int64_t *out) __attribute__((warn_unused_result));

/* 0 <= fen <= MONEY_MAX_FEN. */
static inline bool money_in_range(int64_t fen)
{
    return fen >= 0 && fen <= MONEY_MAX_FEN;
}

#endif
