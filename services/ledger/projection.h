/*
 * projection: what Redis should hold for every card's money, computed from
 * the ledger and the events it has not applied yet.
 *
 *   wallet(card, w) = ledger available(card, w)
 *                   + pending swipe and reversal events of (card, w)
 *                   - top-ups committed but not yet credited (outbox rows
 *                     whose marker key Redis does not have)
 *   holds(card)     = one per pending swipe or reversal event
 *
 * "Pending" means read from Kafka beyond the ledger's offsets stored in
 * PostgreSQL, in the same snapshot as the balances: so the projection is
 * exact at the instant of the snapshot. reconcile compares it with Redis,
 * rebuild-cache writes it. Only wallet accounts and the entries that move
 * them count: a payment (paid into a person's bank account, a payee
 * account) has no hot balance and is never in the projection. Command-line
 * only (blocking).
 */
#ifndef LEDGER_PROJECTION_H
#define LEDGER_PROJECTION_H

#include "idmap.h"

#include <hiredis/hiredis.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct proj_wallet {
    char *name;
    int64_t ledger_fen;  /* available in the ledger */
    int64_t pending_fen; /* pending events' effect */
    int64_t uncredited_fen;
} proj_wallet;

typedef struct proj_hold {
    char *event_id;
    char *wallet;
    char *item;
    int64_t at_ms;
    int64_t fen; /* signed, as the gateway writes it */
} proj_hold;

typedef struct proj_marker {
    char *key; /* topup:{c:T}:N:<id> */
    char *wallet;
    int64_t fen;
} proj_marker;

typedef struct proj_card {
    char *card_no;
    proj_wallet *wallets;
    int nwallets;
    proj_hold *holds;
    int nholds;
    proj_marker *markers; /* outbox top-ups */
    int nmarkers;
} proj_card;

typedef struct projection {
    idmap index; /* card_no -> position in cards */
    proj_card *cards;
    size_t n, cap;
    int64_t pending_events;
} projection;

/* Builds the projection for cards starting with prefix ("" for all).
 * pg must have no transaction open; the snapshot's transaction stays open
 * (REPEATABLE READ) so the caller can read more from the same instant, and
 * is ended by the caller. Returns 0 or -1 with err. */
int projection_build(projection *p, PGconn *pg, const char *brokers, const char *group,
                     const char *prefix, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Marks outbox top-ups whose marker Redis already has as credited (their
 * money is in the Redis wallet). Returns 0 or -1 with err. */
int projection_check_markers(projection *p, redisContext *rc, char *err, size_t errlen)
    __attribute__((warn_unused_result));

proj_card *projection_card(projection *p, const char *card_no);
int64_t projection_expected(const proj_wallet *w);
void projection_free(projection *p);

#endif
