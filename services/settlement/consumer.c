/*
 * consumer: read postings, apply them in batches. See consumer.h.
 */
#include "consumer.h"

#include "store.h"

#include "common/log.h"
#include "common/metrics.h"

#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONSUMER_BATCHES_PER_WAKE 8

static struct {
    deps *d;
    consumer_config cfg;
    kafka_consumer *kc;
    store st;
    kafka_record *recs;
    store_item *items;
    int n;        /* records of the batch in hand (0: none) */
    bool pending; /* it waits to be applied again */
    int64_t retry_at_ms;
    int wake_fd[2];
    struct event *wake_ev, *tick_ev;
    bool draining;
} c = {.wake_fd = {-1, -1}};

static metric *m_applied[3], *m_rejected, *m_batches, *m_failures, *m_apply_s, *m_lag;

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

/* Turns the records in hand into items (again on every attempt: an attempt
 * that rolled back may have marked some as duplicates). */
static void consumer_items(void)
{
    for (int i = 0; i < c.n; i++) {
        kafka_record *rec = &c.recs[i];
        store_item *it = &c.items[i];
        memset(it, 0, sizeof(*it));
        it->partition = rec->partition;
        it->offset = rec->offset;
        if (rec->dead) {
            snprintf(it->reason, sizeof(it->reason),
                     "undecodable or of an unknown type: dead-lettered");
            continue;
        }
        char why[200];
        const Onecard__V1__LedgerPosting *m = (const void *)rec->msg;
        if (rec->type->desc == &onecard__v1__ledger_posting__descriptor && m->kind &&
            (strcmp(m->kind, "allocation") == 0 || strcmp(m->kind, "transfer") == 0)) {
            /* money into a fund or budget, or from a replaced card to its
             * replacement: no provider, nothing to settle */
            it->reject_event_id = m->event_id;
            snprintf(it->reason, sizeof(it->reason), "skipped: %s is not settled",
                     m->kind[0] == 'a' ? "an allocation" : "a card's carry-over");
            continue;
        }
        if (rec->type->desc != &onecard__v1__ledger_posting__descriptor) {
            snprintf(why, sizeof(why), "%s is not a ledger posting", rec->type->ce_type);
        } else if (posting_from_msg((const void *)rec->msg, &it->p, why, sizeof(why)) == 0) {
            it->ok = true;
            continue;
        }
        it->dead = true;
        it->reject_event_id = event_id_of(rec->msg);
        snprintf(it->reason, sizeof(it->reason), "invalid: %s", why);
    }
}

static int consumer_apply(void)
{
    char err[512];
    int64_t t0 = event_now_ms();
    consumer_items();
    if (store_apply(&c.st, TOPIC_POSTINGS, c.items, c.n, err, sizeof(err)) < 0)
        goto fail;
    for (int i = 0; i < c.n; i++) {
        if (c.items[i].dead && kafka_dead_letter(c.d->producer, c.recs[i].raw, c.items[i].reason,
                                                 err, sizeof(err)) < 0) {
            store_abort(&c.st);
            goto fail;
        }
    }
    if (store_commit(&c.st, err, sizeof(err)) < 0)
        goto fail;
    metrics_observe(m_apply_s, (double)(event_now_ms() - t0) / 1000.0);
    metrics_add(m_batches, 1);
    for (int i = 0; i < c.n; i++) {
        store_item *it = &c.items[i];
        if (it->ok) {
            metrics_add(m_applied[it->p.kind], 1);
            continue;
        }
        metrics_add(m_rejected, 1);
        if (it->dead)
            log_kv(LOG_WARN, "posting_rejected", "event_id",
                   it->reject_event_id ? it->reject_event_id : "", "reason", it->reason, NULL);
    }
    kafka_records_release(c.recs, c.n);
    c.n = 0;
    c.pending = false;
    return 0;
fail:
    metrics_add(m_failures, 1);
    log_error("batch_not_applied", "%d postings kept, retrying in 1 s: %s", c.n, err);
    c.pending = true;
    c.retry_at_ms = event_now_ms() + 1000;
    return -1;
}

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
        if (consumer_apply() < 0)
            return;
    }
    for (int b = 0; b < CONSUMER_BATCHES_PER_WAKE; b++) {
        c.n = kafka_consumer_poll(c.kc, c.recs, c.cfg.batch_max, 0);
        if (c.n == 0)
            return;
        if (consumer_apply() < 0)
            return;
        if (c.n < c.cfg.batch_max && b > 0)
            return;
    }
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
    metrics_set(m_lag, kafka_consumer_lag(c.kc));
}

static void consumer_metrics(void)
{
    static const char *const kinds[] = {"kind=\"swipe\"", "kind=\"reversal\"", "kind=\"topup\""};
    for (int k = 0; k < 3; k++)
        m_applied[k] = metrics_counter("settlement_postings_applied_total",
                                       "Postings accumulated, by kind.", kinds[k]);
    m_rejected = metrics_counter("settlement_postings_rejected_total",
                                 "Postings read and not applied (duplicate, invalid, "
                                 "undecodable), recorded in settlement_rejections.",
                                 NULL);
    m_batches = metrics_counter("settlement_batches_total", "Transactions committed.", NULL);
    m_failures = metrics_counter("settlement_batch_failures_total",
                                 "Batches rolled back and retried (PostgreSQL unavailable).", NULL);
    m_apply_s =
        metrics_histogram("settlement_batch_apply_seconds", "Time to apply and commit one batch.",
                          NULL, metrics_latency_bounds, metrics_latency_nbounds);
    m_lag = metrics_gauge("settlement_consumer_lag_messages",
                          "Postings behind the high watermark of the assignment.", NULL);
}

int consumer_setup(struct event_base *base, deps *d, const consumer_config *cfg, char *err,
                   size_t errlen)
{
    c.d = d;
    c.cfg = *cfg;
    consumer_metrics();
    store_init(&c.st, d->pg, cfg->group, cfg->tz_offset_min);
    c.recs = calloc((size_t)cfg->batch_max, sizeof(*c.recs));
    c.items = calloc((size_t)cfg->batch_max, sizeof(*c.items));
    if (c.recs == NULL || c.items == NULL) {
        snprintf(err, errlen, "out of memory for a batch of %d", cfg->batch_max);
        return -1;
    }
    const char *const topics[] = {TOPIC_POSTINGS, NULL};
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

void consumer_drain(void)
{
    c.draining = true;
    log_info("consumer_draining", "%d postings in hand%s", c.n,
             c.pending ? " (not applied: read again after the restart)" : "");
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
    memset(&c, 0, sizeof(c));
}
