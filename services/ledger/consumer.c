/*
 * consumer: read, apply in batches, relay. See consumer.h.
 */
#include "consumer.h"

#include "relay.h"
#include "store.h"

#include "common/batch.h"
#include "common/card.h"
#include "common/log.h"
#include "common/metrics.h"
#include "swipe.pb-c.h"
#include "topup.pb-c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONSUMER_RECOVER_LIMIT 5000

/* The walk (wake, pump, retry, drain, offsets) is libs/common/batch.c's;
 * this file turns events into journal entries, and relays what committed. */
static struct {
    deps *d;
    consumer_config cfg;
    batch_consumer *bc;
    store st;
    relay rl;
    store_item *items;
    const journal_entry **ptrs; /* the committed entries of a batch, for the relay */
    bool *committed;            /* batch_committed's answer on a retry */
    int64_t *ids;
    bool draining;
    void (*drained)(void);
} c;

static metric *m_applied[JOURNAL_KINDS], *m_fen[JOURNAL_KINDS], *m_moves, *m_dead, *m_lag_s,
    *m_inflight;

bool consumer_assigned(void)
{
    return batch_assigned(c.bc);
}

/* ----------------------------------------------------------------- batch */

static void consumer_items(const kafka_record *recs, int n)
{
    for (int i = 0; i < n; i++) {
        const kafka_record *rec = &recs[i];
        store_item *it = &c.items[i];
        memset(it, 0, sizeof(*it));
        it->topic = rec->topic;
        it->partition = rec->partition;
        it->offset = rec->offset;
        if (rec->dead) {
            snprintf(it->reason, sizeof(it->reason),
                     "undecodable or of an unknown type: dead-lettered");
            metrics_add(m_dead, 1);
            continue;
        }
        char why[200];
        if (rec->type && rec->type->desc == &onecard__v1__balance_carry_over__descriptor) {
            if (journal_move_from_event(rec->msg, &it->mv, why, sizeof(why)) < 0) {
                it->dead_letter = true;
                it->reject_event_id = event_id_of(rec->msg);
                snprintf(it->reason, sizeof(it->reason), "invalid: %s", why);
            } else {
                it->move = true;
            }
            continue;
        }
        if (journal_from_event(rec->type, rec->msg, &it->e, why, sizeof(why)) < 0) {
            it->dead_letter = true;
            it->reject_event_id = event_id_of(rec->msg);
            snprintf(it->reason, sizeof(it->reason), "invalid: %s", why);
            continue;
        }
        it->ok = true;
    }
}

/* The sweep's transfers of the batch just committed: an outbox row of their
 * own, relayed whole (there may be more of them than records in a batch). */
static void consumer_relay_sweep(void)
{
    int n = c.st.nsweep;
    if (n == 0)
        return;
    metrics_add(m_applied[JOURNAL_TRANSFER], n);
    for (int i = 0; i < n; i++)
        metrics_add(m_fen[JOURNAL_TRANSFER], c.st.sweep[i].e.amount_fen);
    const journal_entry **ptrs = calloc((size_t)n, sizeof(*ptrs));
    int64_t *ids = calloc((size_t)n, sizeof(*ids));
    if (ptrs == NULL || ids == NULL) {
        c.rl.dirty = true; /* the outbox has them */
    } else {
        int64_t key = INT64_MAX; /* the outbox row is keyed by the first entry */
        for (int i = 0; i < n; i++) {
            ptrs[i] = &c.st.sweep[i].e;
            ids[i] = c.st.sweep[i].entry_id;
            if (ids[i] < key)
                key = ids[i];
        }
        relay_entries(&c.rl, ptrs, ids, (size_t)n, key);
    }
    free(ptrs);
    free(ids);
}

/* Before applying a batch again after a failure whose outcome is unknown
 * (a COMMIT cut off by a crashing server may have committed): the items
 * the stored offsets already cover are skipped. */
static int consumer_committed(const kafka_record *recs, int n, char *err, size_t errlen)
{
    if (batch_committed(c.bc, recs, n, c.committed, err, errlen) < 0)
        return -1;
    for (int i = 0; i < n; i++)
        if (c.committed[i]) {
            c.items[i].ok = false;
            c.items[i].move = false;
            c.items[i].dead_letter = false;
            c.items[i].committed = true;
        }
    return 0;
}

/* onecard_ledger_events_rejected_total by the class of the reason
 * ("invalid", "over_budget", "duplicate", ...; metrics_reason_class). */
static void consumer_count_rejected(const char *reason)
{
    char cls[64], labels[96];
    metrics_reason_class(cls, sizeof(cls), reason);
    snprintf(labels, sizeof(labels), "reason=\"%s\"", cls);
    metrics_add(metrics_counter("onecard_ledger_events_rejected_total",
                                "Events read and not applied (duplicate, invalid, over budget, "
                                "undecodable), recorded in ledger_rejections, by reason.",
                                labels),
                1);
}

/* The batch's hook: entries, one transaction with the offsets, then the
 * relay of what committed. On a retry the items are the first attempt's,
 * marked where that attempt did commit. */
static int consumer_apply(void *arg, kafka_record *recs, int n, bool retry, char *err,
                          size_t errlen)
{
    (void)arg;
    if (!retry)
        consumer_items(recs, n);
    else if (consumer_committed(recs, n, err, errlen) < 0)
        goto fail;
    int64_t t0 = event_now_ms();
    if (store_apply(&c.st, c.items, n, t0, err, errlen) < 0)
        goto fail;
    if (batch_offsets_store(c.bc, recs, n, err, errlen) < 0) {
        store_abort(&c.st);
        goto fail;
    }
    for (int i = 0; i < n; i++) {
        if (!c.items[i].dead_letter)
            continue;
        if (kafka_dead_letter(c.d->producer, recs[i].raw, c.items[i].reason, err, errlen) < 0) {
            store_abort(&c.st);
            goto fail;
        }
    }
    if (store_commit(&c.st, err, errlen) < 0)
        goto fail;

    int64_t now = event_now_ms();
    size_t k = 0;
    int64_t outbox_key = INT64_MAX;
    for (int i = 0; i < n; i++) {
        store_item *it = &c.items[i];
        if (it->committed)
            continue;
        if (it->move) {
            metrics_add(m_moves, 1);
            char from[CARD_MASKED_MAX], to[CARD_MASKED_MAX];
            log_kv(LOG_INFO, "card_carried_over", "from",
                   card_mask(from, sizeof(from), it->mv.from_card_no), "to",
                   card_mask(to, sizeof(to), it->mv.to_card_no), "event_id", it->mv.event_id, NULL);
            continue;
        }
        if (!it->ok) {
            consumer_count_rejected(it->reason);
            log_kv(LOG_WARN, "event_rejected", "topic", it->topic, "event_id",
                   it->reject_event_id ? it->reject_event_id : "", "reason", it->reason, NULL);
            continue;
        }
        metrics_add(m_applied[it->e.kind], 1);
        metrics_add(m_fen[it->e.kind], it->e.amount_fen);
        if (it->e.kind == JOURNAL_SWIPE || it->e.kind == JOURNAL_REVERSAL)
            metrics_observe(m_lag_s, (double)(now - it->e.occurred_at_ms) / 1000.0);
        c.ptrs[k] = &it->e;
        c.ids[k++] = it->entry_id;
        if (it->entry_id < outbox_key)
            outbox_key = it->entry_id;
    }
    relay_entries(&c.rl, c.ptrs, c.ids, k, outbox_key); /* the row keyed by the first entry */
    consumer_relay_sweep();
    metrics_set(m_inflight, c.rl.inflight);
    return 0;
fail:
    /* a COMMIT cut off may still have committed: its outbox rows are
     * relayed from the table */
    c.rl.dirty = true;
    return -1;
}

/* The relay is behind: let acknowledgements catch up before reading more. */
static bool consumer_may_read(void *arg)
{
    (void)arg;
    return c.rl.inflight < c.cfg.inflight_max;
}

static void consumer_tick(void *arg, bool idle)
{
    (void)arg;
    if (idle) {
        char err[512];
        if (relay_recover(&c.rl, c.d->pg, CONSUMER_RECOVER_LIMIT, err, sizeof(err)) < 0)
            log_warn("outbox_recover_failed", "%s", err);
        else if (c.rl.inflight == 0 && store_flush_done(&c.st, err, sizeof(err)) < 0)
            log_warn("outbox_flush_failed", "%s", err);
    }
    metrics_set(m_inflight, c.rl.inflight);
    if (c.draining && c.rl.inflight == 0 && c.drained) {
        void (*done)(void) = c.drained;
        c.drained = NULL;
        char err[512];
        if (store_flush_done(&c.st, err, sizeof(err)) < 0)
            log_warn("outbox_flush_failed", "%s", err);
        done();
    }
}

/* ----------------------------------------------------------------- setup */

static void consumer_metrics(void)
{
    static const char *const kinds[JOURNAL_KINDS] = {
        "kind=\"swipe\"",    "kind=\"reversal\"", "kind=\"topup\"", "kind=\"allocation\"",
        "kind=\"transfer\"", "kind=\"payment\"",  "kind=\"return\""};
    for (int k = 0; k < JOURNAL_KINDS; k++) {
        m_applied[k] = metrics_counter("onecard_ledger_entries_applied_total",
                                       "Journal entries committed, by kind.", kinds[k]);
        m_fen[k] = metrics_counter("onecard_ledger_entries_fen_total",
                                   "Amount of the journal entries committed, by kind, in fen "
                                   "(top-ups issued, payments to persons, swipes, ...).",
                                   kinds[k]);
    }
    m_moves = metrics_counter("onecard_ledger_cards_carried_over_total",
                              "Replaced cards whose balances the ledger now moves to their "
                              "replacement (BalanceCarryOver applied).",
                              NULL);
    /* the classes every ledger knows, present from the start */
    static const char *const reasons[] = {"duplicate", "invalid", "over budget", "refused"};
    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
        char cls[64], labels[96];
        metrics_reason_class(cls, sizeof(cls), reasons[i]);
        snprintf(labels, sizeof(labels), "reason=\"%s\"", cls);
        metrics_counter("onecard_ledger_events_rejected_total",
                        "Events read and not applied (duplicate, invalid, over budget, "
                        "undecodable), recorded in ledger_rejections, by reason.",
                        labels);
    }
    m_dead = metrics_counter("onecard_ledger_events_undecodable_total",
                             "Records the consumer dead-lettered before decoding.", NULL);
    m_lag_s = metrics_histogram("onecard_ledger_event_lag_seconds",
                                "From the gateway's authorization to the ledger's commit, per "
                                "swipe or reversal.",
                                NULL, metrics_latency_bounds, metrics_latency_nbounds);
    m_inflight = metrics_gauge("onecard_ledger_relay_inflight_entries",
                               "Committed entries whose posting or Redis effect is not yet "
                               "acknowledged.",
                               NULL);
}

int consumer_setup(struct event_base *base, deps *d, const consumer_config *cfg, char *err,
                   size_t errlen)
{
    c.d = d;
    c.cfg = *cfg;
    consumer_metrics();
    store_init(&c.st, d->pg, cfg->group);
    relay_init(&c.rl, d->producer, d->redis, &c.st);
    c.items = calloc((size_t)cfg->batch_max, sizeof(*c.items));
    c.committed = calloc((size_t)cfg->batch_max, sizeof(*c.committed));
    c.ptrs = calloc((size_t)cfg->batch_max, sizeof(*c.ptrs));
    c.ids = calloc((size_t)cfg->batch_max, sizeof(*c.ids));
    if (c.items == NULL || c.ptrs == NULL || c.ids == NULL || c.committed == NULL) {
        snprintf(err, errlen, "out of memory for a batch of %d", cfg->batch_max);
        return -1;
    }
    const char *const topics[] = {TOPIC_SWIPES, TOPIC_TOPUPS, NULL};
    batch_config bcfg = {cfg->brokers,   cfg->group, cfg->instance, topics,
                         cfg->batch_max, "ledger",   NULL};
    batch_hooks hooks = {
        .apply = consumer_apply, .may_read = consumer_may_read, .tick = consumer_tick};
    c.bc = batch_new(base, d, &bcfg, &hooks, NULL, err, errlen);
    return c.bc ? 0 : -1;
}

void consumer_drain(void (*done)(void))
{
    batch_drain(c.bc);
    c.draining = true;
    c.drained = done;
    log_info("consumer_draining", "%lld entries in flight", (long long)c.rl.inflight);
}

void consumer_cleanup(void)
{
    batch_free(c.bc);
    store_cleanup(&c.st);
    free(c.items);
    free(c.committed);
    free(c.ptrs);
    free(c.ids);
    memset(&c, 0, sizeof(c));
}
