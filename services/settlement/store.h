/*
 * store: applies a batch of postings to PostgreSQL in one transaction with
 * the consumer offsets of every partition it came from, so each posting
 * counts exactly once whatever happens to the process.
 *
 * Idempotent on the posting's event_id as well: the ledger's relay
 * publishes at least once, so the same posting may come again from another
 * offset; settlement_postings keeps every applied id, and only rows that
 * were new there reach the accumulators. The batch takes the settlement
 * advisory lock, which a close takes too: a batch sees a period either
 * open (its postings accumulate there) or closed (they are carried to the
 * next open period as adjustments), never half-closed.
 *
 * Registry changes in the batch (holders.h) are projected first, in the
 * same transaction, so a posting of the batch finds its card's holder.
 *
 * Loop thread only; the caller owns the items.
 */
#ifndef SETTLEMENT_STORE_H
#define SETTLEMENT_STORE_H

#include "holders.h"
#include "period.h"
#include "posting.h"

#include "common/pg.h"

#include <stdbool.h>
#include <stdint.h>

/* Both the consumer's batches and the close take it (transaction-scoped). */
#define SETTLEMENT_LOCK_KEY "7262041"

typedef struct store_item {
    const char *topic; /* where it was read */
    int32_t partition;
    int64_t offset;
    holders_change holder; /* a registry change to project (then never ok) */
    bool ok;               /* a posting to apply; otherwise a rejection or a holder */
    bool dead;             /* rejected here: goes to the DLQ */
    bool duplicate;        /* found applied already (after store_apply) */
    posting p;
    const char *reject_event_id;
    char reason[240];
} store_item;

typedef struct store {
    PGconn *pg;
    const char *group;
    int tz_offset_min;
    pg_array arr[16];
} store;

void store_init(store *s, PGconn *pg, const char *group, int tz_offset_min);

/* Applies the items (see the file comment) in one transaction left open:
 * the caller stores the offsets past them and dead-letters what it must,
 * then store_commit() or store_abort(). -1 with err: rolled back. */
int store_apply(store *s, store_item *items, int n, char *err, size_t errlen)
    __attribute__((warn_unused_result));
int store_commit(store *s, char *err, size_t errlen) __attribute__((warn_unused_result));
void store_abort(store *s);

/* The period a posting of natural period nat lands in, given the closed
 * periods of that grain (closed[0..nclosed), any order): nat itself when
 * open, else the first later period that is not closed. Returns true when
 * it was carried. */
bool store_target_period(const period *nat, char closed[][PERIOD_LEN], int nclosed, period *target);

void store_cleanup(store *s);

#endif
