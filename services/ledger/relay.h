/*
 * relay: the after-commit effects of journal entries, at least once.
 *
 * Each committed batch has a row in ledger_outbox that lists its entries.
 * For each entry the relay publishes its LedgerPosting on onecard.postings.v1 (key: the card), a
 * swipe's or a reversal's agency view on onecard.agency.swipes.v1 (key: the masked card), and
 * applies its Redis side: a swipe's or a reversal's hold is dropped (posted.lua), a top-up is
 * credited to the hot balance exactly once (credit.lua, guarded by a marker key); a payment (paid
 * into a person's own bank account) and an allocation have no Redis side. When the broker and Redis
 * have both acknowledged every entry of a batch, its outbox row is queued for deletion with the
 * next store transaction. Anything that failed, and whatever a crash left in the outbox, is relayed
 * again by relay_recover: posting ids are derived from the source event, so a re-published posting
 * is a duplicate a consumer drops, and both Redis scripts are idempotent.
 *
 * Why an outbox rather than producing inside the transaction: the journal
 * commit must not wait on the broker (PostgreSQL is the source of truth and
 * keeps applying while Kafka is away), and a crash between the commit and
 * the acknowledgement must not lose a posting. The fast path relays from
 * memory right after the commit; the outbox is read only after a failure
 * or a restart. Loop thread only.
 */
#ifndef LEDGER_RELAY_H
#define LEDGER_RELAY_H

#include "journal.h"
#include "store.h"

#include "common/kafka.h"
#include "common/redis.h"

#include <stdbool.h>
#include <stdint.h>

#define RELAY_STALL_MS 30000

typedef struct relay {
    kafka_producer *producer;
    redis_client *redis;
    store *store;
    int64_t inflight;    /* entries not yet acknowledged (this generation) */
    bool dirty;          /* something failed or a restart: read the outbox */
    unsigned generation; /* bumped when in-flight effects are given up on */
    int64_t progress_ms; /* last acknowledgement, or the last relay when idle */
} relay;

/* dirty starts true: the outbox is read once at start-up. */
void relay_init(relay *r, kafka_producer *producer, redis_client *redis, store *st);

/* Relays entries[i] with entry_ids[i], the entries of the outbox row
 * outbox_key (the batch's first entry id); the row is deleted once every
 * effect is acknowledged. Everything it needs is copied. */
void relay_entries(relay *r, const journal_entry *const *entries, const int64_t *entry_ids,
                   size_t n, int64_t outbox_key);

/* When nothing is in flight and the relay is dirty: reads whole outbox
 * rows (oldest first) up to limit entries, at least one row, and relays
 * them again. Effects in flight with
 * no acknowledgement for RELAY_STALL_MS are given up on first (their rows
 * are still in the outbox, and relaying again is idempotent): a lost
 * report must not stop the outbox from draining. Returns the number
 * relayed, or -1 with err. */
int relay_recover(relay *r, PGconn *pg, int limit, char *err, size_t errlen);

#endif
