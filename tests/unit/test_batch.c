/*
 * test_batch: the shared exactly-once batch consumer (libs/common/batch.c)
 * on librdkafka's mock cluster, with the offsets kept by the test the way
 * a service keeps them in PostgreSQL (stored with each batch applied):
 *   - it starts where the stored offsets say, never at Kafka's;
 *   - every record is applied once, in order within its partition, in
 *     batches of at most batch_max;
 *   - a batch whose apply fails is kept and applied again whole, with
 *     retry set, and nothing after it is read before it commits;
 *   - may_read holds reading back;
 *   - after a drain nothing more is applied; a new consumer of the group
 *     (a restart) resumes exactly after the last batch applied.
 */
#include "check.h"
#include "common/batch.h"
#include "common/event.h"
#include "common/kafka.h"
#include "common/log.h"
#include "sample.h"

#include <event2/event.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdlib.h>
#include <string.h>

#define TOPIC  TOPIC_SWIPES
#define NPART  2
#define FIRST  40 /* records produced before the first consumer */
#define SECOND 9  /* and before the restart */
#define MAXOFF 128

static struct {
    int64_t stored[NPART];      /* next offset per partition, "in the database" */
    int applied[NPART][MAXOFF]; /* times each offset was applied */
    int64_t last[NPART];        /* the last offset applied, for the order */
    int order_errors, batches, oversize, calls, fail_at, retries, retry_mismatch, held;
    int64_t failed_first[2]; /* partition, offset of the first record of the failed batch */
    int failed_n;
    bool hold; /* may_read says no */
    int total;
    struct event_base *base;
} t;

static int test_offsets(void *arg, rd_kafka_topic_partition_list_t *parts, char *err, size_t errlen)
{
    for (int i = 0; i < parts->cnt; i++) {
        int32_t p = parts->elems[i].partition;
        parts->elems[i].offset =
            p >= 0 && p < NPART && t.stored[p] > 0 ? t.stored[p] : RD_KAFKA_OFFSET_BEGINNING;
    }
    return 0;
}

static int test_apply(void *arg, kafka_record *recs, int n, bool retry, char *err, size_t errlen)
{
    t.calls++;
    if (n > 7)
        t.oversize++;
    if (retry) {
        t.retries++;
        if (n != t.failed_n || recs[0].partition != t.failed_first[0] ||
            recs[0].offset != t.failed_first[1])
            t.retry_mismatch++;
    }
    if (t.calls == t.fail_at) { /* the transaction fails: nothing is stored */
        t.failed_n = n;
        t.failed_first[0] = recs[0].partition;
        t.failed_first[1] = recs[0].offset;
        snprintf(err, errlen, "injected failure");
        return -1;
    }
    for (int i = 0; i < n; i++) {
        int32_t p = recs[i].partition;
        int64_t o = recs[i].offset;
        if (p < 0 || p >= NPART || o < 0 || o >= MAXOFF)
            continue;
        if (o <= t.last[p] && t.last[p] >= 0)
            t.order_errors++;
        t.last[p] = o;
        t.applied[p][o]++;
        t.stored[p] = o + 1; /* "in the same transaction" */
        t.total++;
    }
    t.batches++;
    return 0;
}

static bool test_may_read(void *arg)
{
    if (t.hold)
        t.held++;
    return !t.hold;
}

static void test_check(evutil_socket_t fd, short what, void *arg)
{
    if (t.total >= *(int *)arg)
        event_base_loopbreak(t.base);
}

static void test_deadline(evutil_socket_t fd, short what, void *arg)
{
    event_base_loopbreak(t.base);
}

/* Runs the loop until want records were applied in all, or timeout_s. */
static void run_until(int want, int timeout_s)
{
    struct event *tick = event_new(t.base, -1, EV_PERSIST, test_check, &want);
    struct timeval tv = {0, 50 * 1000};
    event_add(tick, &tv);
    struct event *deadline = evtimer_new(t.base, test_deadline, NULL);
    struct timeval dl = {timeout_s, 0};
    evtimer_add(deadline, &dl);
    event_base_dispatch(t.base);
    event_free(tick);
    event_free(deadline);
}

static void produce(kafka_producer *p, int n, int salt)
{
    const event_type *sw = event_type_by_ce("onecard.v1.SwipeAuthorized", 26);
    for (int i = 0; i < n; i++) {
        char id[EVENT_ID_LEN + 1], key[48];
        event_new_id(id);
        snprintf(key, sizeof(key), "card-%d-%d", salt, i);
        ProtobufCMessage *m = sample_new(sw->desc, id);
        char err[256];
        if (kafka_produce(p, m, NULL, key, strlen(key), NULL, NULL, err, sizeof(err)) < 0)
            CHECK(0, "produce: %s", err);
        protobuf_c_message_free_unpacked(m, NULL);
    }
    kafka_producer_poll(p, 0);
    kafka_producer_flush(p, 10000);
}

int main(void)
{
    char err[512];
    if (log_setup("test", getenv("TEST_LOG") ? getenv("TEST_LOG") : "error", err, sizeof(err)) < 0)
        return 1;
    memset(&t, 0, sizeof(t));
    for (int p = 0; p < NPART; p++)
        t.last[p] = -1;
    const char *const mock[] = {"test.mock.num.brokers", "1", NULL};
    kafka_producer *prod =
        kafka_producer_new("unused:1", "/onecard/test", NULL, 5000, mock, err, sizeof(err));
    CHECK(prod != NULL, "producer: %s", err);
    if (prod == NULL)
        return CHECK_DONE();
    rd_kafka_mock_cluster_t *mc = rd_kafka_handle_mock_cluster(kafka_producer_handle(prod));
    rd_kafka_mock_topic_create(mc, TOPIC, NPART, 1);
    rd_kafka_mock_topic_create(mc, TOPIC_DLQ, 1, 1);
    produce(prod, FIRST, 1);

    /* what an earlier run stored: partition 0 was read up to offset 3 */
    t.stored[0] = 3;
    t.fail_at = 2;
    t.base = event_base_new();
    deps d = {.producer = prod};
    const char *const topics[] = {TOPIC, NULL};
    batch_config cfg = {
        rd_kafka_mock_cluster_bootstraps(mc), "test-batch", "test-1", topics, 7, "test", NULL};
    batch_hooks hooks = {.apply = test_apply, .offsets = test_offsets, .may_read = test_may_read};
    batch_consumer *b = batch_new(t.base, &d, &cfg, &hooks, NULL, err, sizeof(err));
    CHECK(b != NULL, "batch_new: %s", err);
    if (b == NULL)
        return CHECK_DONE();
    run_until(FIRST - 3, 30);
    CHECK(batch_assigned(b), "assigned");
    int below = 0, twice = 0, missing = 0;
    for (int p = 0; p < NPART; p++)
        for (int o = 0; o < MAXOFF; o++) {
            if (p == 0 && o < 3 && t.applied[p][o])
                below++;
            if (t.applied[p][o] > 1)
                twice++;
        }
    int64_t ends[NPART];
    for (int p = 0; p < NPART; p++) {
        int64_t lo = 0, hi = 0;
        rd_kafka_query_watermark_offsets(kafka_producer_handle(prod), TOPIC, p, &lo, &hi, 5000);
        ends[p] = hi;
        for (int64_t o = p == 0 ? 3 : 0; o < hi; o++)
            if (t.applied[p][o] != 1)
                missing++;
    }
    CHECK(ends[0] + ends[1] == FIRST, "produced %lld", (long long)(ends[0] + ends[1]));
    CHECK(t.total == FIRST - 3, "applied %d of %d", t.total, FIRST - 3);
    CHECK(below == 0, "started at the stored offset, not at Kafka's beginning (%d below)", below);
    CHECK(twice == 0 && missing == 0, "each once: %d twice, %d missing", twice, missing);
    CHECK(t.order_errors == 0, "in order within a partition (%d out of order)", t.order_errors);
    CHECK(t.oversize == 0, "batches of at most batch_max (%d over)", t.oversize);
    CHECK(t.retries == 1 && t.retry_mismatch == 0,
          "the failed batch applied again whole (%d retries, %d mismatches)", t.retries,
          t.retry_mismatch);

    /* may_read holds the consumer back */
    t.hold = true;
    produce(prod, 3, 2);
    int before = t.total;
    run_until(before + 1, 2);
    CHECK(t.total == before && t.held > 0, "held back: %d applied, asked %d times",
          t.total - before, t.held);
    t.hold = false;
    run_until(before + 3, 15);
    CHECK(t.total == before + 3, "read again once allowed: %d", t.total - before);

    /* drained: nothing more is applied */
    batch_drain(b);
    produce(prod, SECOND, 3);
    before = t.total;
    run_until(before + 1, 2);
    CHECK(t.total == before, "nothing applied after the drain (%d)", t.total - before);
    batch_free(b);

    /* a restart of the same static member resumes after the last batch */
    b = batch_new(t.base, &d, &cfg, &hooks, NULL, err, sizeof(err));
    CHECK(b != NULL, "batch_new again: %s", err);
    run_until(before + SECOND, 30);
    CHECK(t.total == before + SECOND, "after the restart: %d of %d", t.total - before, SECOND);
    twice = 0;
    for (int p = 0; p < NPART; p++)
        for (int o = 0; o < MAXOFF; o++)
            if (t.applied[p][o] > 1)
                twice++;
    CHECK(twice == 0, "nothing applied twice across the restart (%d)", twice);
    batch_free(b);
    event_base_free(t.base);
    kafka_producer_free(prod, 1000);
    return CHECK_DONE();
}
