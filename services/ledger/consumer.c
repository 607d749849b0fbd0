/*
 * consumer: read, apply in batches, relay. See consumer.h.
 */
#include "consumer.h"

#include "relay.h"
#include "store.h"

#include "common/card.h"
#include "common/log.h"
#include "common/metrics.h"
#include "topup.pb-c.h"

#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONSUMER_BATCHES_PER_WAKE 8
#define CONSUMER_RECOVER_LIMIT    5000

static struct {
    struct event_base *base;
    deps *d;
    consumer_config cfg;
    kafka_consumer *kc;
    store st;
    relay rl;
    kafka_record *recs;
    store_item *items;
    const journal_entry **ptrs; /* the committed entries of a batch, for the relay */
    int64_t *ids;
    int n;        /* records of the pending batch (0: none) */
    bool pending; /* a batch waits to be applied again */
    int64_t retry_at_ms;
    int wake_fd[2];
    struct event *wake_ev, *tick_ev;
    bool draining;
    void (*drained)(void);
} c = {.wake_fd = {-1, -1}};

static metric *m_applied[JOURNAL_KINDS], *m_moves, *m_rejected, *m_dead, *m_batches, *m_batch_size,
    *m_apply_s, *m_lag_s, *m_lag, *m_failures, *m_inflight;

/* ------------------------------------------------------------ assignment */

static int consumer_offsets(void *arg, rd_kafka_topic_partition_list_t *parts, char *err,
                            size_t errlen)
{
    if (!pg_alive(c.d->pg)) {
        snprintf(err, errlen, "postgresql is unavailable");
        return -1;
    }
    return pg_offsets_load(c.d->pg, c.cfg.group, parts, err, errlen);
}

bool consumer_assigned(void)
{
    return c.kc && kafka_consumer_assigned(c.kc);
}

/* ----------------------------------------------------------------- batch */

static void consumer_items(void)
{
    for (int i = 0; i < c.n; i++) {
        kafka_record *rec = &c.recs[i];
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

/* Applies the pending batch. 0 when committed (or nothing to do), -1 when
 * it must be retried. */
static int consumer_apply(void)
{
    char err[512];
    int64_t t0 = event_now_ms();
    if (store_apply(&c.st, c.items, c.n, t0, err, sizeof(err)) < 0)
        goto fail;
    for (int i = 0; i < c.n; i++) {
        if (!c.items[i].dead_letter)
            continue;
        if (kafka_dead_letter(c.d->producer, c.recs[i].raw, c.items[i].reason, err, sizeof(err)) <
            0) {
            store_abort(&c.st);
            goto fail;
        }
    }
    if (store_commit(&c.st, err, sizeof(err)) < 0)
        goto fail;

    int64_t now = event_now_ms();
    metrics_observe(m_apply_s, (double)(now - t0) / 1000.0);
    metrics_add(m_batches, 1);
    metrics_observe(m_batch_size, c.n);
    size_t k = 0;
    int64_t outbox_key = INT64_MAX;
    for (int i = 0; i < c.n; i++) {
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
            metrics_add(m_rejected, 1);
            log_kv(LOG_WARN, "event_rejected", "topic", it->topic, "event_id",
                   it->reject_event_id ? it->reject_event_id : "", "reason", it->reason, NULL);
            continue;
        }
        metrics_add(m_applied[it->e.kind], 1);
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
    kafka_records_release(c.recs, c.n);
    c.n = 0;
    c.pending = false;
    return 0;
fail:
    /* a COMMIT cut off may still have committed: its outbox rows are
     * relayed from the table */
    c.rl.dirty = true;
    metrics_add(m_failures, 1);
    log_error("batch_not_applied", "%d events kept, retrying in 1 s: %s", c.n, err);
    c.pending = true;
    c.retry_at_ms = event_now_ms() + 1000;
    return -1;
}

/* Reads and applies while there is something to read. */
static void consumer_pump(void)
{
    if (c.draining)
        return;
    if (c.pending) {
        if (event_now_ms() < c.retry_at_ms)
            return;
        if (!pg_alive(c.d->pg)) {
            c.retry_at_ms = event_now_ms() + 1000;
            return;
        }
        char err[512];
        if (store_mark_committed(&c.st, c.items, c.n, err, sizeof(err)) < 0) {
            log_warn("batch_check_failed", "%s", err);
            c.retry_at_ms = event_now_ms() + 1000;
            return;
        }
        if (consumer_apply() < 0)
            return;
    }
    for (int b = 0; b < CONSUMER_BATCHES_PER_WAKE; b++) {
        if (c.rl.inflight >= c.cfg.inflight_max)
            return; /* the relay is behind: let acknowledgements catch up */
        c.n = kafka_consumer_poll(c.kc, c.recs, c.cfg.batch_max, 0);
        if (c.n == 0)
            return;
        consumer_items();
        if (consumer_apply() < 0)
            return;
        if (c.n < c.cfg.batch_max && b > 0)
            return;
    }
    /* a backlog: come back after the loop has served everything else */
    event_active(c.wake_ev, EV_READ, 0);
}

static void consumer_on_wake(evutil_socket_t fd, short what, void *arg)
{
    char buf[256];
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
    consumer_pump();
}

static void consumer_on_tick(evutil_socket_t fd, short what, void *arg)
{
    consumer_pump();
    if (!c.pending && !c.draining) {
        char err[512];
        if (relay_recover(&c.rl, c.d->pg, CONSUMER_RECOVER_LIMIT, err, sizeof(err)) < 0)
            log_warn("outbox_recover_failed", "%s", err);
        else if (c.rl.inflight == 0 && store_flush_done(&c.st, err, sizeof(err)) < 0)
            log_warn("outbox_flush_failed", "%s", err);
    }
    metrics_set(m_lag, kafka_consumer_lag(c.kc));
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
    static const char *const kinds[JOURNAL_KINDS] = {"kind=\"swipe\"", "kind=\"reversal\"",
                                                     "kind=\"topup\"", "kind=\"allocation\"",
                                                     "kind=\"transfer\""};
    for (int k = 0; k < JOURNAL_KINDS; k++)
        m_applied[k] = metrics_counter("ledger_entries_applied_total",
                                       "Journal entries committed, by kind.", kinds[k]);
    m_moves = metrics_counter("ledger_cards_carried_over_total",
                              "Replaced cards whose balances the ledger now moves to their "
                              "replacement (BalanceCarryOver applied).",
                              NULL);
    m_rejected = metrics_counter("ledger_events_rejected_total",
                                 "Events read and not applied (duplicate, invalid, over budget, "
                                 "undecodable), recorded in ledger_rejections.",
                                 NULL);
    m_dead = metrics_counter("ledger_events_undecodable_total",
                             "Records the consumer dead-lettered before decoding.", NULL);
    m_batches = metrics_counter("ledger_batches_total", "Transactions committed.", NULL);
    m_failures = metrics_counter("ledger_batch_failures_total",
                                 "Batches rolled back and retried (PostgreSQL unavailable).", NULL);
    static const double sizes[] = {1, 10, 50, 100, 250, 500, 1000, 2000, 5000, 10000};
    m_batch_size = metrics_histogram("ledger_batch_events", "Events per transaction.", NULL, sizes,
                                     (int)(sizeof(sizes) / sizeof(sizes[0])));
    m_apply_s =
        metrics_histogram("ledger_batch_apply_seconds", "Time to apply and commit one batch.", NULL,
                          metrics_latency_bounds, metrics_latency_nbounds);
    m_lag_s = metrics_histogram("ledger_event_lag_seconds",
                                "From the gateway's authorization to the ledger's commit, per "
                                "swipe or reversal.",
                                NULL, metrics_latency_bounds, metrics_latency_nbounds);
    m_lag = metrics_gauge("ledger_consumer_lag_messages",
                          "Messages behind the high watermark of the assignment.", NULL);
    m_inflight = metrics_gauge("ledger_relay_inflight_entries",
                               "Committed entries whose posting or Redis effect is not yet "
                               "acknowledged.",
                               NULL);
}

int consumer_setup(struct event_base *base, deps *d, const consumer_config *cfg, char *err,
                   size_t errlen)
{
    c.base = base;
    c.d = d;
    c.cfg = *cfg;
    consumer_metrics();
    store_init(&c.st, d->pg, cfg->group);
    relay_init(&c.rl, d->producer, d->redis, &c.st);
    c.recs = calloc((size_t)cfg->batch_max, sizeof(*c.recs));
    c.items = calloc((size_t)cfg->batch_max, sizeof(*c.items));
    c.ptrs = calloc((size_t)cfg->batch_max, sizeof(*c.ptrs));
    c.ids = calloc((size_t)cfg->batch_max, sizeof(*c.ids));
    if (c.recs == NULL || c.items == NULL || c.ptrs == NULL || c.ids == NULL) {
        snprintf(err, errlen, "out of memory for a batch of %d", cfg->batch_max);
        return -1;
    }
    const char *const topics[] = {TOPIC_SWIPES, TOPIC_TOPUPS, NULL};
    /* a static member: restarted after a crash, it gets its partitions
     * back at once rather than after the dead session times out */
    const char *const extra[] = {"group.instance.id", cfg->instance, "session.timeout.ms", "10000",
                                 NULL};
    c.kc = kafka_consumer_new(cfg->brokers, cfg->group, topics, consumer_offsets, NULL, d->producer,
                              cfg->instance[0] ? extra : extra + 2, err, errlen);
    if (c.kc == NULL)
        return -1;
    if (pipe2(c.wake_fd, O_NONBLOCK | O_CLOEXEC) < 0) {
        snprintf(err, errlen, "pipe failed");
        return -1;
    }
    rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(kafka_consumer_handle(c.kc));
    rd_kafka_queue_io_event_enable(q, c.wake_fd[1], "1", 1);
    rd_kafka_queue_destroy(q);
    c.wake_ev = event_new(base, c.wake_fd[0], EV_READ | EV_PERSIST, consumer_on_wake, NULL);
    c.tick_ev = event_new(base, -1, EV_PERSIST, consumer_on_tick, NULL);
    struct timeval tick = {0, 100 * 1000};
    if (c.wake_ev == NULL || c.tick_ev == NULL || event_add(c.wake_ev, NULL) < 0 ||
        event_add(c.tick_ev, &tick) < 0) {
        snprintf(err, errlen, "cannot add the consumer's events");
        return -1;
    }
    return 0;
}

void consumer_drain(void (*done)(void))
{
    c.draining = true;
    c.drained = done;
    log_info("consumer_draining", "%lld entries in flight", (long long)c.rl.inflight);
}

void consumer_cleanup(void)
{
    if (c.wake_ev)
        event_free(c.wake_ev);
    if (c.tick_ev)
        event_free(c.tick_ev);
    if (c.kc) {
        rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(kafka_consumer_handle(c.kc));
        rd_kafka_queue_io_event_enable(q, -1, NULL, 0);
        rd_kafka_queue_destroy(q);
    }
    kafka_records_release(c.recs, c.n);
    kafka_consumer_free(c.kc);
    for (int i = 0; i < 2; i++)
        if (c.wake_fd[i] >= 0)
            close(c.wake_fd[i]);
    store_cleanup(&c.st);
    free(c.recs);
    free(c.items);
    free(c.ptrs);
    free(c.ids);
    memset(&c, 0, sizeof(c));
}
