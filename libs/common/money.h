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
#include <stddef.h>
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

/* A field of a ledger account name ("<kind>:<x>[:<y>][:<year>]": a card,
 * provider, wallet, fund or item): present, at most max bytes, printable,
 * without the names' separators ':' and '|'. The ledger builds names from
 * these fields and settlement checks a posting's with the same rule. */
bool money_account_field_ok(const char *s, size_t max) __attribute__((warn_unused_result));

#endif
