/*
 * scripts: the gateway's Lua scripts (lua/) and their interface with C, in
 * one place.
 *
 * Each script's header names its KEYS and ARGV in order on two lines,
 * "-- @keys a b c" and "-- @argv x y z" ("name..." last: any number more);
 * the tables below are the same names as enums (SWIPE_K_CARD, SWIPE_A_AMOUNT,
 * ...), which is how C fills a call's arguments: argv[SWIPE_A_AMOUNT] =
 * amount, never by counting. tests/unit/test_scripts.c checks every table
 * against its script's header, so the two sides cannot drift apart.
 *
 * Loop thread only.
 */
#ifndef GATEWAY_SCRIPTS_H
#define GATEWAY_SCRIPTS_H

#include "common/redis.h"

#include <stdbool.h>

/* clang-format off */
#define SCRIPTS_ENUM(P, N, s) P##N,
#define SCRIPTS_NAME(P, N, s) #s,

/* swipe.lua: authorize one swipe */
#define SWIPE_KEYS(X, P) \
    X(P, CARD, card) \
    X(P, WALLET, wallet) \
    X(P, HOLDS, holds) \
    X(P, CAPS, caps) \
    X(P, IDEM, idem) \
    X(P, SWIPE, swipe)
#define SWIPE_ARGS(X, P) \
    X(P, FINGERPRINT, fingerprint) \
    X(P, PIN_PROOF, pin_proof) \
    X(P, ITEM_CODE, item_code) \
    X(P, ITEM_INFO, item_info) \
    X(P, PROVIDER_STATE, provider_state) \
    X(P, AMOUNT, amount) \
    X(P, DAY, day) \
    X(P, YEAR, year) \
    X(P, SWIPE_ID, swipe_id) \
    X(P, TERMINAL, terminal) \
    X(P, PROVIDER, provider) \
    X(P, NOW, now) \
    X(P, CARD_NO, card_no) \
    X(P, APPROVAL, approval) \
    X(P, EVENT_ID, event_id) \
    X(P, REQUEST_ID, request_id) \
    X(P, GATEWAY_ID, gateway_id)
enum { SWIPE_KEYS(SCRIPTS_ENUM, SWIPE_K_) SWIPE_NKEYS };
enum { SWIPE_ARGS(SCRIPTS_ENUM, SWIPE_A_) SWIPE_NARGS };

/* release.lua: give a swipe back (its event not delivered) */
#define RELEASE_KEYS(X, P) \
    X(P, IDEM, idem) \
    X(P, WALLET, wallet) \
    X(P, HOLDS, holds) \
    X(P, CAPS, caps) \
    X(P, SWIPE, swipe)
#define RELEASE_ARGS(X, P) \
    X(P, EVENT_ID, event_id) \
    X(P, WALLET, wallet) \
    X(P, AMOUNT, amount) \
    X(P, ITEM, item) \
    X(P, DAY, day) \
    X(P, YEAR, year) \
    X(P, GATEWAY_ID, gateway_id)
enum { RELEASE_KEYS(SCRIPTS_ENUM, RELEASE_K_) RELEASE_NKEYS };
enum { RELEASE_ARGS(SCRIPTS_ENUM, RELEASE_A_) RELEASE_NARGS };

/* reverse.lua and rate.lua: a request about a swipe; reverse.lua also
 * takes the keys of the swipe's card, and the card number they are of */
#define ONSWIPE_KEYS(X, P) \
    X(P, SWIPE, swipe) \
    X(P, IDEM, idem)
#define REVERSE_KEYS(X, P) \
    ONSWIPE_KEYS(X, P) \
    X(P, WALLET, wallet) \
    X(P, HOLDS, holds) \
    X(P, CAPS, caps)
#define ONSWIPE_ARGS(X, P) \
    X(P, FINGERPRINT, fingerprint) \
    X(P, TERMINAL, terminal) \
    X(P, NOW, now) \
    X(P, EVENT_ID, event_id) \
    X(P, GATEWAY_ID, gateway_id) \
    X(P, REQUEST_ID, request_id)
#define REVERSE_ARGS(X, P) \
    ONSWIPE_ARGS(X, P) \
    X(P, CARD_NO, card_no)
#define RATE_ARGS(X, P) \
    ONSWIPE_ARGS(X, P) \
    X(P, SCORE, score) \
    X(P, TAGS, tags...)
enum { ONSWIPE_KEYS(SCRIPTS_ENUM, ONSWIPE_K_) ONSWIPE_NKEYS };
enum { REVERSE_KEYS(SCRIPTS_ENUM, REVERSE_K_) REVERSE_NKEYS };
enum { REVERSE_ARGS(SCRIPTS_ENUM, REVERSE_A_) REVERSE_NARGS };
enum { RATE_ARGS(SCRIPTS_ENUM, RATE_A_) RATE_NARGS }; /* RATE_A_TAGS: the first tag */

/* unreverse.lua and unrate.lua: undo one (its event not delivered);
 * unreverse.lua with the card's wallet, holds and caps keys and its number */
#define UNREVERSE_KEYS(X, P) \
    ONSWIPE_KEYS(X, P) \
    X(P, WALLET, wallet) \
    X(P, HOLDS, holds) \
    X(P, CAPS, caps)
#define UNDO_ARGS(X, P) \
    X(P, EVENT_ID, event_id) \
    X(P, GATEWAY_ID, gateway_id)
#define UNREVERSE_ARGS(X, P) \
    UNDO_ARGS(X, P) \
    X(P, CARD_NO, card_no)
enum { UNREVERSE_KEYS(SCRIPTS_ENUM, UNREVERSE_K_) UNREVERSE_NKEYS };
enum { UNDO_ARGS(SCRIPTS_ENUM, UNDO_A_) UNDO_NARGS };
enum { UNREVERSE_ARGS(SCRIPTS_ENUM, UNREVERSE_A_) UNREVERSE_NARGS };

/* finalize.lua: the event is acknowledged */
#define FINALIZE_KEYS(X, P) \
    X(P, IDEM, idem) \
    X(P, SWIPE, swipe)
#define FINALIZE_ARGS(X, P) \
    X(P, PART, part)
enum { FINALIZE_KEYS(SCRIPTS_ENUM, FINALIZE_K_) FINALIZE_NKEYS };
enum { FINALIZE_ARGS(SCRIPTS_ENUM, FINALIZE_A_) FINALIZE_NARGS };

/* balance.lua: a balance inquiry */
#define BALANCE_KEYS(X, P) \
    X(P, CARD, card) \
    X(P, WALLET, wallet) \
    X(P, ENDS, ends)
#define BALANCE_ARGS(X, P) \
    X(P, PIN_PROOF, pin_proof)
enum { BALANCE_KEYS(SCRIPTS_ENUM, BALANCE_K_) BALANCE_NKEYS };
enum { BALANCE_ARGS(SCRIPTS_ENUM, BALANCE_A_) BALANCE_NARGS };

/* claim.lua: take over a part another gateway left pending */
#define CLAIM_KEYS(X, P) \
    X(P, SWIPE, swipe)
#define CLAIM_ARGS(X, P) \
    X(P, PART, part) \
    X(P, OWNER, owner) \
    X(P, GATEWAY_ID, gateway_id)
enum { CLAIM_KEYS(SCRIPTS_ENUM, CLAIM_K_) CLAIM_NKEYS };
enum { CLAIM_ARGS(SCRIPTS_ENUM, CLAIM_A_) CLAIM_NARGS };

/* heartbeat.lua and forget.lua: which gateways are alive */
#define HEARTBEAT_KEYS(X, P) \
    X(P, HEARTBEATS, heartbeats)
#define HEARTBEAT_ARGS(X, P) \
    X(P, GATEWAY_ID, gateway_id) \
    X(P, DEAD_MS, dead_ms)
#define FORGET_KEYS(X, P) \
    X(P, HEARTBEATS, heartbeats) \
    X(P, INFLIGHT, inflight)
#define FORGET_ARGS(X, P) \
    X(P, GATEWAY_ID, gateway_id) \
    X(P, LEASE, lease)
enum { HEARTBEAT_KEYS(SCRIPTS_ENUM, HEARTBEAT_K_) HEARTBEAT_NKEYS };
enum { HEARTBEAT_ARGS(SCRIPTS_ENUM, HEARTBEAT_A_) HEARTBEAT_NARGS };
enum { FORGET_KEYS(SCRIPTS_ENUM, FORGET_K_) FORGET_NKEYS };
enum { FORGET_ARGS(SCRIPTS_ENUM, FORGET_A_) FORGET_NARGS };
/* clang-format on */

/* One script: its Redis handle and its interface. */
typedef struct scripts_def {
    redis_script script;
    const char *const *keys, *const *args; /* names, in order */
    int nkeys, nargs;
    bool variadic; /* the last argument repeats ("name...") */
} scripts_def;

extern scripts_def scripts_swipe, scripts_release, scripts_reverse, scripts_unreverse, scripts_rate,
    scripts_unrate, scripts_finalize, scripts_balance, scripts_claim, scripts_heartbeat,
    scripts_forget;

/* Every script with its source, for the tests: NULL-terminated. */
extern scripts_def *const scripts_all[];

/* Computes every script's SHA1. */
void scripts_setup(void);

/* EVALSHA of s: keys then args (nargs more than s->nargs only when it is
 * variadic). Lengths are computed here. 0 when sent, -1 when not (a call
 * that does not match the interface is refused and logged). */
int scripts_call(redis_client *c, const scripts_def *s, const char *const *keys,
                 const char *const *args, int nargs, redis_reply_fn cb, void *arg);

#endif
