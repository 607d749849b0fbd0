/*
 * store: applies a batch of journal entries to PostgreSQL in one
 * transaction, in which the consumer also stores the offsets of every
 * partition the batch came from (batch_offsets_store). That single transaction is the ledger's
 * exactly-once guarantee: an event's entry and the offset past it commit together or not at all.
 *
 * One batch is a handful of statements whatever its size: every column
 * travels as one array parameter and is unnested server-side (no SQL is
 * ever pasted together from values). The database balances the entries and
 * maintains the account balances itself (the trigger of 0002_ledger.sql);
 * the store checks budgets first, so an over-budget top-up or payment is
 * rejected with a reason instead of failing the whole batch. A top-up and a
 * payment share one idempotency key, the topup_id.
 *
 * Fund shares (0021_fund_shares.sql): a wallet's money is kept per fund
 * (its lines name the fund), so before the entries are written each swipe
 * is split over the wallet's balances per fund at that point of the stream
 * (pro rata, to the fen: shares_split, the funds in the order central,
 * provincial, municipal, district, then others by name; a wallet with no
 * money left is charged to the swipe's fund_source), each reversal takes
 * exactly the shares of its swipe, and a top-up adds its own shares. The
 * same events in the same order give the same split on replay. The split
 * is kept on the entry (ledger_entries.fund_shares).
 *
 * A BalanceCarryOver is an item of its own kind (move): it records that a
 * card was replaced. After the batch's entries are written, every replaced
 * card the batch touched whose wallets are not at zero has them moved to
 * its replacement by 'transfer' entries the store makes itself (the sweep),
 * in the same transaction, with an outbox row of their own; each fund's
 * balance moves in a share of its own.
 *
 * Usage: store_begin_batch(), store_apply() (decides which items become
 * entries and which are rejected, and writes them), then the caller
 * dead-letters what it must and calls store_commit(), or store_abort() on
 * any failure and retries the same items later. Loop thread only.
 */
#ifndef LEDGER_STORE_H
#define LEDGER_STORE_H

#include "idmap.h"
#include "journal.h"

#include "common/pg.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct store_item {
    const char *topic; /* where the event was read; NULL for an allocation */
    int32_t partition;
    int64_t offset;
    bool ok;          /* an entry to write; otherwise a rejection */
    bool dead_letter; /* rejected here and must go to the DLQ */
    bool committed;   /* found committed by an earlier attempt: skipped */
    journal_entry e;  /* when ok */
    bool move;        /* a card replaced (e unused): recorded, not an entry */
    journal_move mv;  /* when move */
    const char *reject_event_id;
    int64_t reject_amount_fen;
    const char *reject_code; /* ledger_rejections.code: "over_budget", or NULL */
    char reason[240];        /* when !ok */
    int64_t entry_id;        /* after store_apply, for entries */
} store_item;

/* A wallet's money per fund (what the card holds: minus the balance), as
 * the batch moves it; the funds in their split order. */
#define STORE_PURSE_FUNDS 8
typedef struct store_purse {
    int n;
    char fund[STORE_PURSE_FUNDS][JOURNAL_FUND_MAX];
    int64_t money[STORE_PURSE_FUNDS];
} store_purse;

/* An entry's shares. */
typedef struct store_split {
    int n;
    journal_share s[JOURNAL_SHARES_MAX];
} store_split;

typedef struct store {
    PGconn *pg;
    const char *group;
    idmap names, seen;
    idmap purse_of, swipe_of; /* wallet name -> purse; swipe id -> shares */
    store_purse *purses;
    int npurses, purses_cap;
    store_split *swipes; /* the shares of the swipes reversals name */
    int nswipes, swipes_cap;
    pg_array arr[24];
    int64_t *done; /* outbox rows whose effects are done, deleted with the next batch */
    size_t ndone, done_cap;
    /* the sweep's transfers of the last store_apply, for the relay; they
     * point into sweep_res and sweep_ids, valid until the next one */
    store_item *sweep;
    int nsweep, sweep_cap;
    PGresult *sweep_res;
    char (*sweep_ids)[48];
} store;

void store_init(store *s, PGconn *pg, const char *group);

/* Applies the items (see the file comment); on success the transaction is
 * open, items that became duplicates or over budget are !ok with their
 * reason, and entries have their entry_id. -1 with err: rolled back. */
int store_apply(store *s, store_item *items, int n, int64_t now_ms, char *err, size_t errlen)
    __attribute__((warn_unused_result));
int store_commit(store *s, char *err, size_t errlen) __attribute__((warn_unused_result));
void store_abort(store *s);

/* Queues outbox rows to delete with the next batch (or store_flush_done). */
void store_done(store *s, const int64_t *ids, size_t n);
/* Deletes the queued outbox rows in a transaction of their own. */
int store_flush_done(store *s, char *err, size_t errlen) __attribute__((warn_unused_result));

void store_cleanup(store *s);

#endif
