/*
 * fixtures: the bench's own corner of the directory (one item, one
 * provider, N terminals, M cards) and the names the fleet uses for them.
 *
 * Everything is written through common/directory.h, never key by key, so
 * the bench stays right when the key layout changes. The names are derived
 * from an index, so the fleet can rebuild any card number or terminal id
 * without keeping a table, and a second --setup overwrites the first one
 * (PINs and wrong-PIN counters are reset, nothing accumulates).
 *
 * No money: a wallet is written by the ledger alone, when it applies a
 * top-up, so that Redis and the journal agree and `onecard-ledger
 * reconcile` stays OK after a bench. tools/bench/bench-cards funds the
 * cards that way (an allocation into the fund FIXTURES_FUND, then one
 * TopupIssued per card), from the lines fixtures_print_cards writes.
 *
 * Blocking; start-up only.
 */
#ifndef BENCH_FIXTURES_H
#define BENCH_FIXTURES_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define FIXTURES_ITEM         "BENCH-01"
#define FIXTURES_WALLET       "rehab"
#define FIXTURES_CATEGORY     "rehabilitation"
#define FIXTURES_STANDARD_FEN 5000
#define FIXTURES_PROVIDER     "PBENCH"
#define FIXTURES_PIN          "123456"
#define FIXTURES_FUND         "bench" /* a fund source of its own: bench money stays apart */
#define FIXTURES_CARD_LEN     19
#define FIXTURES_ID_MAX       32
#define FIXTURES_SECRET_MAX   (FIXTURES_ID_MAX + 8)

/* The index-th bench card (0-based): "6222" "88" + 12-digit index + check
 * digit, 19 digits + NUL into out (FIXTURES_CARD_LEN + 1). */
void fixtures_card_no(char *out, uint64_t index);

/* The index-th terminal (0-based) "TB00001" and person "pb-1", each into
 * FIXTURES_ID_MAX bytes; a terminal's secret "secret-TB00001" into
 * FIXTURES_SECRET_MAX bytes. */
void fixtures_terminal_id(char *out, int index);
void fixtures_terminal_secret(char *out, const char *terminal_id);
void fixtures_person_id(char *out, uint64_t index);

/* Writes the item, the provider, terminals 0..terminals-1 and cards
 * 0..cards-1 (active, PIN 123456 hashed with pepper, entitled to the item
 * from FIXTURES_FUND; no wallet: see above) in pipelined chunks. Progress goes to log (may be
 * NULL). Returns 0, or -1 with the reason in err. */
int fixtures_load(redisContext *ctx, const char *pepper, int terminals, uint64_t cards, FILE *log,
                  char *err, size_t errlen) __attribute__((warn_unused_result));

/* Prints one line per bench card 0..cards-1: "CARD_NO WALLET ITEM FUND",
 * what a top-up of that card names (tools/bench/bench-cards turns each into
 * an onecard-produce topup record). */
void fixtures_print_cards(FILE *out, uint64_t cards);

/* Prints, one "name value" per line, what redis-benchmark needs to run the
 * gateway's swipe script for card_no as terminal_id would: the six keys
 * (the idempotency key and the swipe id carry __rand_int__ so that each
 * call is a fresh approval), the swipe id, the PIN proof of the bench PIN
 * and the item's catalogue entry. */
void fixtures_print_keys(FILE *out, const char *card_no, const char *terminal_id,
                         const char *pepper);

#endif
