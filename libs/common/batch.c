/*
 * batch: see batch.h.
 */
#include "common/batch.h"

#include "common/event.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/pg.h"

#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BATCH_PER_WAKE  8
#define BATCH_RETRY_MS  1000
#define BATCH_EXTRA_MAX 16
#define BATCH_LAGS_MAX  128 /* (topic, partition) lag series, at most */

struct batch_consumer {
    deps *d;
    batch_hooks hooks;
    void *arg;
    char *group;
    int batch_max;
    kafka_consumer *kc;
    kafka_record *recs;
    int n;        /* records in hand (0: none) */
    bool pending; /* they wait to be applied again */
    int64_t retry_at_ms;
    int wake_fd[2];
    struct event *wake_ev, *tick_ev;
    bool draining;
    char *consumer; /* the `consumer` label of its series */
    metric *m_failures, *m_batches, *m_batch_size, *m_apply_s;
    /* onecard_consumer_lag_messages{consumer, topic, partition}: a series
     * per partition this member was ever assigned, 0 once revoked */
    struct {
        char topic[64];
        int32_t partition;
        bool seen;
        metric *m;
    } lags[BATCH_LAGS_MAX];
    int nlags;
    pg_array offs[4]; /* batch_offsets_store's parameters */
};

/* PostgreSQL answers (or the service keeps its offsets elsewhere). */
static bool batch_store_up(batch_consumer *b)
{
    return b->d->pg == NULL || pg_alive(b->d->pg);
}

static int batch_offsets(void *arg, rd_kafka_topic_partition_list_t *parts, char *err,
                         size_t errlen)
{
    batch_consumer *b = arg;
    if (!batch_store_up(b)) {
        snprintf(err, errlen, "postgresql is unavailable");
        return -1;
    }
    if (b->hooks.offsets ? b->hooks.offsets(b->arg, parts, err, errlen) < 0
                         : pg_offsets_load(b->d->pg, b->group, parts, err, errlen) < 0)
        return -1;
    if (b->hooks.assigned)
        b->hooks.assigned(b->arg, parts);
    return 0;
}

/* Applies the records in hand; 0 when committed, -1 when kept for a retry. */
static int batch_apply(batch_consumer *b, bool retry)
{
    char err[512] = "";
    int64_t t0 = event_now_ms();
    if (b->hooks.apply(b->arg, b->recs, b->n, retry, err, sizeof(err)) < 0) {
        metrics_add(b->m_failures, 1);
        log_error("batch_not_applied", "%d events kept, retrying in 1 s: %s", b->n, err);
        b->pending = true;
        b->retry_at_ms = event_now_ms() + BATCH_RETRY_MS;
        return -1;
    }
    metrics_observe(b->m_apply_s, (double)(event_now_ms() - t0) / 1000.0);
    metrics_add(b->m_batches, 1);
    metrics_observe(b->m_batch_size, b->n);
    kafka_records_release(b->recs, b->n);
    b->n = 0;
    b->pending = false;
    return 0;
}

static void batch_pump(batch_consumer *b)
{
    if (b->draining)
        return;
    if (b->pending) {
        if (event_now_ms() < b->retry_at_ms)
            return;
        if (!batch_store_up(b)) {
            b->retry_at_ms = event_now_ms() + BATCH_RETRY_MS;
            return;
        }
        if (batch_apply(b, true) < 0)
            return;
    }
    for (int i = 0; i < BATCH_PER_WAKE; i++) {
        if (b->hooks.may_read && !b->hooks.may_read(b->arg))
            return;
        b->n = kafka_consumer_poll(b->kc, b->recs, b->batch_max, 0);
        if (b->n == 0)
            return;
        if (batch_apply(b, false) < 0)
            return;
        if (b->n < b->batch_max && i > 0)
            return;
    }
    /* a backlog: come back after the loop has served everything else */
    event_active(b->wake_ev, EV_READ, 0);
}

static void batch_on_wake(evutil_socket_t fd, short what, void *arg)
{
    char buf[256];
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
    batch_pump(arg);
}

/* kafka_consumer_lag_each's callback: one partition's lag into its series,
 * registered when the partition is first seen. */
static void batch_lag_one(void *arg, const char *topic, int32_t partition, int64_t lag)
{
    batch_consumer *b = arg;
    int i = 0;
    while (i < b->nlags && (b->lags[i].partition != partition || strcmp(b->lags[i].topic, topic)))
        i++;
    if (i == b->nlags) {
        if (b->nlags == BATCH_LAGS_MAX)
            return;
        char t[96], labels[256];
        metrics_label_value(t, sizeof(t), topic);
        snprintf(labels, sizeof(labels), "consumer=\"%s\",topic=\"%s\",partition=\"%d\"",
                 b->consumer, t, (int)partition);
        snprintf(b->lags[i].topic, sizeof(b->lags[i].topic), "%s", topic);
        b->lags[i].partition = partition;
        b->lags[i].m = metrics_gauge("onecard_consumer_lag_messages",
                                     "Messages behind the high watermark, per partition of the "
                                     "assignment (0 once revoked).",
                                     labels);
        b->nlags++;
    }
    b->lags[i].seen = true;
    metrics_set(b->lags[i].m, lag);
}

static void batch_on_tick(evutil_socket_t fd, short what, void *arg)
{
    batch_consumer *b = arg;
    batch_pump(b);
    if (b->hooks.tick)
        b->hooks.tick(b->arg, !b->pending && !b->draining);
    for (int i = 0; i < b->nlags; i++)
        b->lags[i].seen = false;
    if (kafka_consumer_lag_each(b->kc, batch_lag_one, b) < 0)
        return;
    for (int i = 0; i < b->nlags; i++)
        if (!b->lags[i].seen)
            metrics_set(b->lags[i].m, 0);
}

batch_consumer *batch_new(struct event_base *base, deps *d, const batch_config *cfg,
                          const batch_hooks *hooks, void *arg, char *err, size_t errlen)
{
    batch_consumer *b = calloc(1, sizeof(*b));
    if (b == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    b->wake_fd[0] = b->wake_fd[1] = -1;
    b->d = d;
    b->hooks = *hooks;
    b->arg = arg;
    b->batch_max = cfg->batch_max;
    b->group = strdup(cfg->group);
    b->recs = calloc((size_t)cfg->batch_max, sizeof(*b->recs));
    if (b->group == NULL || b->recs == NULL) {
        snprintf(err, errlen, "out of memory for a batch of %d", cfg->batch_max);
        batch_free(b);
        return NULL;
    }
    b->consumer = strdup(cfg->metric_prefix);
    if (b->consumer == NULL) {
        snprintf(err, errlen, "out of memory");
        batch_free(b);
        return NULL;
    }
    char labels[128];
    snprintf(labels, sizeof(labels), "consumer=\"%s\"", cfg->metric_prefix);
    b->m_failures =
        metrics_counter("onecard_consumer_batch_failures_total",
                        "Batches rolled back and retried (PostgreSQL unavailable).", labels);
    b->m_batches =
        metrics_counter("onecard_consumer_batches_total", "Transactions committed.", labels);
    static const double sizes[] = {1, 10, 50, 100, 250, 500, 1000, 2000, 5000, 10000};
    b->m_batch_size = metrics_histogram("onecard_consumer_batch_events", "Events per transaction.",
                                        labels, sizes, (int)(sizeof(sizes) / sizeof(sizes[0])));
    b->m_apply_s = metrics_histogram("onecard_consumer_batch_apply_seconds",
                                     "Time to apply and commit one batch.", labels,
                                     metrics_latency_bounds, metrics_latency_nbounds);
    /* a static member: restarted after a crash, it gets its partitions
     * back at once rather than after the dead session times out */
    const char *extra[BATCH_EXTRA_MAX + 9];
    int ne = 0;
    if (cfg->instance && cfg->instance[0]) {
        extra[ne++] = "group.instance.id";
        extra[ne++] = cfg->instance;
    }
    extra[ne++] = "session.timeout.ms";
    extra[ne++] = "10000";
    /* fewer, larger fetches: the broker answers once 64 KiB are waiting or
     * 100 ms have passed, not for every few records. At a thousand swipes
     * a second this cut the broker's and the consumers' CPU per swipe (the
     * batches, and so the transactions, grow too); the price is at most
     * 100 ms more lag a hop. A service's own settings (cfg->extra) win. */
    extra[ne++] = "fetch.wait.max.ms";
    extra[ne++] = "100";
    extra[ne++] = "fetch.min.bytes";
    extra[ne++] = "65536";
    for (int i = 0; cfg->extra && cfg->extra[i] && cfg->extra[i + 1] && ne < BATCH_EXTRA_MAX + 8;
         i += 2) {
        extra[ne++] = cfg->extra[i];
        extra[ne++] = cfg->extra[i + 1];
    }
    extra[ne] = NULL;
    b->kc = kafka_consumer_new(cfg->brokers, cfg->group, cfg->topics, batch_offsets, b, d->producer,
                               extra, err, errlen);
    if (b->kc == NULL) {
        batch_free(b);
        return NULL;
    }
    if (pipe2(b->wake_fd, O_NONBLOCK | O_CLOEXEC) < 0) {
        snprintf(err, errlen, "pipe failed");
        batch_free(b);
        return NULL;
    }
    rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(kafka_consumer_handle(b->kc));
    rd_kafka_queue_io_event_enable(q, b->wake_fd[1], "1", 1);
    rd_kafka_queue_destroy(q);
    b->wake_ev = event_new(base, b->wake_fd[0], EV_READ | EV_PERSIST, batch_on_wake, b);
    b->tick_ev = event_new(base, -1, EV_PERSIST, batch_on_tick, b);
    struct timeval tick = {0, 100 * 1000};
    if (b->wake_ev == NULL || b->tick_ev == NULL || event_add(b->wake_ev, NULL) < 0 ||
        event_add(b->tick_ev, &tick) < 0) {
        snprintf(err, errlen, "cannot add the consumer's events");
        batch_free(b);
        return NULL;
    }
    return b;
}

bool batch_assigned(const batch_consumer *b)
{
    return b && b->kc && kafka_consumer_assigned(b->kc);
}

void batch_drain(batch_consumer *b)
{
    b->draining = true;
}

int batch_in_hand(const batch_consumer *b)
{
    return b ? b->n : 0;
}

bool batch_retrying(const batch_consumer *b)
{
    return b && b->pending;
}

kafka_consumer *batch_kafka(batch_consumer *b)
{
    return b->kc;
}

int batch_offsets_store(batch_consumer *b, const kafka_record *recs, int n, char *err,
                        size_t errlen)
{
    for (int k = 0; k < 4; k++)
        pg_array_reset(&b->offs[k]);
    for (int i = 0; i < n; i++) {
        bool last = true; /* the last record of its (topic, partition) */
        for (int j = i + 1; j < n && last; j++)
            last = recs[j].partition != recs[i].partition || strcmp(recs[j].topic, recs[i].topic);
        if (!last)
            continue;
        pg_array_add(&b->offs[0], b->group);
        pg_array_add(&b->offs[1], recs[i].topic);
        pg_array_add_int(&b->offs[2], recs[i].partition);
        pg_array_add_int(&b->offs[3], recs[i].offset + 1);
    }
    if (b->offs[0].n == 0)
        return 0;
    return pg_exec_arrays(
        b->d->pg,
        "INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset) "
        "SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[]) "
        "ON CONFLICT (consumer_group, topic, partition) DO UPDATE SET next_offset = "
        "EXCLUDED.next_offset, updated_at = now()",
        b->offs, NULL, 4, err, errlen);
}

int batch_committed(batch_consumer *b, const kafka_record *recs, int n, bool *committed, char *err,
                    size_t errlen)
{
    const char *p[] = {b->group};
    PGresult *r = pg_query(b->d->pg,
                           "SELECT topic, partition, next_offset FROM consumer_offsets WHERE "
                           "consumer_group = $1",
                           1, p, err, errlen);
    if (r == NULL)
        return -1;
    for (int i = 0; i < n; i++) {
        committed[i] = false;
        for (int row = 0; row < PQntuples(r) && !committed[i]; row++)
            committed[i] = strcmp(PQgetvalue(r, row, 0), recs[i].topic) == 0 &&
                           strtol(PQgetvalue(r, row, 1), NULL, 10) == recs[i].partition &&
                           strtoll(PQgetvalue(r, row, 2), NULL, 10) > recs[i].offset;
    }
    PQclear(r);
    return 0;
}

void batch_free(batch_consumer *b)
{
    if (b == NULL)
        return;
    if (b->wake_ev)
        event_free(b->wake_ev);
    if (b->tick_ev)
        event_free(b->tick_ev);
    if (b->kc) {
        rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(kafka_consumer_handle(b->kc));
        rd_kafka_queue_io_event_enable(q, -1, NULL, 0);
        rd_kafka_queue_destroy(q);
    }
    if (b->recs)
        kafka_records_release(b->recs, b->n);
    kafka_consumer_free(b->kc);
    for (int i = 0; i < 2; i++)
        if (b->wake_fd[i] >= 0)
            close(b->wake_fd[i]);
    free(b->recs);
    for (int k = 0; k < 4; k++)
        pg_array_free(&b->offs[k]);
    free(b->group);
    free(b->consumer);
    free(b);
}
