/*
 * Unit tests of the Kafka wrappers' error paths on librdkafka's mock
 * cluster (never a stand-in for the real broker of an end-to-end test):
 *   - a message the broker acknowledges reports success, with its offset;
 *   - a message the broker cannot take before the delivery timeout reports
 *     failure to the caller (the gateway's 503 rests on this);
 *   - a message sent but not acknowledged in time reports
 *     KAFKA_ERR_POSSIBLY_PERSISTED, never a plain failure (the gateway must
 *     then not give the money back);
 *   - a message with an unknown ce_type and one that does not decode reach
 *     onecard.dlq.v1 with the reason, and the consumer goes on to the next;
 *   - every message produced carries the CloudEvents headers, ce_time and
 *     ce_dataschema included.
 */
#include "check.h"
#include "common/kafka.h"
#include "common/log.h"
#include "sample.h"

#include <librdkafka/rdkafka_mock.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    int done; /* 0 pending, 1 ok, 2 failed, 3 possibly persisted */
    int64_t offset;
} result;

static void delivered(void *opaque, int err, const char *errstr, int32_t partition, int64_t offset)
{
    result *r = opaque;
    r->done = err == KAFKA_ERR_POSSIBLY_PERSISTED ? 3 : err ? 2 : 1;
    r->offset = offset;
}

static int wait_for(kafka_producer *p, result *r, int ms)
{
    for (int waited = 0; r->done == 0 && waited < ms; waited += 50)
        kafka_producer_poll(p, 50);
    return r->done;
}

static int offsets_from_start(void *arg, rd_kafka_topic_partition_list_t *parts, char *err,
                              size_t errlen)
{
    for (int i = 0; i < parts->cnt; i++)
        parts->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
    return 0;
}

int main(void)
{
    char err[512];
    if (log_setup("test", "error", err, sizeof(err)) < 0)
        return 1;
    const char *const mock[] = {"test.mock.num.brokers", "1", NULL};
    kafka_producer *p =
        kafka_producer_new("unused:1", "/onecard/test", NULL, 1500, mock, err, sizeof(err));
    CHECK(p != NULL, "producer: %s", err);
    if (p == NULL)
        return CHECK_DONE();
    rd_kafka_mock_cluster_t *mc = rd_kafka_handle_mock_cluster(kafka_producer_handle(p));
    CHECK(mc != NULL, "mock cluster");
    rd_kafka_mock_topic_create(mc, TOPIC_SWIPES, 1, 1);
    rd_kafka_mock_topic_create(mc, TOPIC_DLQ, 1, 1);

    /* 1. acknowledged */
    char id[EVENT_ID_LEN + 1];
    event_new_id(id);
    const event_type *sw = event_type_by_ce("onecard.v1.SwipeAuthorized", 26);
    ProtobufCMessage *m = sample_new(sw->desc, id);
    result r1 = {0, -1};
    CHECK(kafka_produce(p, m, NULL, "6222", 4, delivered, &r1, err, sizeof(err)) == 0, "%s", err);
    CHECK(wait_for(p, &r1, 10000) == 1, "acknowledged (done=%d)", r1.done);
    CHECK(r1.offset == 0, "first offset %lld", (long long)r1.offset);

    /* 2. broker down: the report says failed within the delivery timeout */
    rd_kafka_mock_broker_set_down(mc, 1);
    result r2 = {0, -1};
    time_t t0 = time(NULL);
    CHECK(kafka_produce(p, m, NULL, "6222", 4, delivered, &r2, err, sizeof(err)) == 0, "%s", err);
    CHECK(wait_for(p, &r2, 10000) == 2, "not acknowledged must fail (done=%d)", r2.done);
    CHECK(time(NULL) - t0 <= 5, "failure reported within the timeout");
    rd_kafka_mock_broker_set_up(mc, 1);

    /* 2b. sent, but the answer comes after the delivery timeout (1.5 s) */
    result r2b = {0, -1};
    rd_kafka_mock_broker_push_request_error_rtts(mc, 1, 0 /* Produce */, 1,
                                                 RD_KAFKA_RESP_ERR_NO_ERROR, 4000);
    CHECK(kafka_produce(p, m, NULL, "6222", 4, delivered, &r2b, err, sizeof(err)) == 0, "%s", err);
    CHECK(wait_for(p, &r2b, 10000) == 3, "a sent, unanswered message is possibly persisted (%d)",
          r2b.done);
    /* and it is in the log: the consumer below reads it */

    /* 3. dead letters: unknown ce_type, undecodable payload, then a good one */
    rd_kafka_headers_t *h = rd_kafka_headers_new(1);
    rd_kafka_header_add(h, "ce_type", -1, "onecard.v1.Bogus", -1);
    result r3 = {0, -1}, r4 = {0, -1}, r5 = {0, -1};
    CHECK(kafka_produce_raw(p, TOPIC_SWIPES, "k", 1, "x", 1, h, delivered, &r3, err, sizeof(err)) ==
              0,
          "%s", err);
    h = rd_kafka_headers_new(1);
    rd_kafka_header_add(h, "ce_type", -1, sw->ce_type, -1);
    CHECK(kafka_produce_raw(p, TOPIC_SWIPES, "k", 1, "\xff\xff\xff", 3, h, delivered, &r4, err,
                            sizeof(err)) == 0,
          "%s", err);
    CHECK(kafka_produce(p, m, NULL, "6222", 4, delivered, &r5, err, sizeof(err)) == 0, "%s", err);
    CHECK(wait_for(p, &r5, 10000) == 1 && r3.done == 1 && r4.done == 1, "produced %d %d %d",
          r3.done, r4.done, r5.done);

    const char *bootstraps = rd_kafka_mock_cluster_bootstraps(mc);
    const char *const topics[] = {TOPIC_SWIPES, NULL};
    kafka_consumer *c = kafka_consumer_new(bootstraps, "test-group", topics, offsets_from_start,
                                           NULL, p, NULL, err, sizeof(err));
    CHECK(c != NULL, "consumer: %s", err);
    /* the CloudEvents headers every good message carries, one row each */
    char want_time[EVENT_TIME_LEN + 1], want_schema[EVENT_DATASCHEMA_MAX];
    CHECK(event_format_time(event_time_of(m), want_time) == 0, "sample time");
    event_dataschema(sw, want_schema, sizeof(want_schema));
    const struct {
        const char *name, *want;
    } ce[] = {
        {"ce_id", id},
        {"ce_type", "onecard.v1.SwipeAuthorized"},
        {"ce_source", "/onecard/test"},
        {"ce_specversion", "1.0"},
        {"ce_time", want_time},
        {"ce_dataschema", "urn:onecard:proto:onecard.v1.SwipeAuthorized"},
        {"content-type", "application/protobuf"},
    };
    CHECK(strcmp(want_schema, "urn:onecard:proto:onecard.v1.SwipeAuthorized") == 0, "%s",
          want_schema);
    int good = 0, dead = 0, total = 0, headers_ok = 0;
    kafka_record recs[16];
    for (int round = 0; c && round < 200 && total < 5; round++) {
        int n = kafka_consumer_poll(c, recs, 16, 100);
        for (int i = 0; i < n; i++) {
            total++;
            if (recs[i].dead)
                dead++;
            else if (recs[i].msg)
                good++;
            rd_kafka_headers_t *rh = NULL;
            if (recs[i].dead || rd_kafka_message_headers(recs[i].raw, &rh) != 0)
                continue;
            int ok = 1;
            for (size_t k = 0; k < sizeof(ce) / sizeof(ce[0]); k++) {
                const void *v = NULL;
                size_t vlen = 0;
                int hit = rd_kafka_header_get_last(rh, ce[k].name, &v, &vlen) == 0 &&
                          vlen == strlen(ce[k].want) && memcmp(v, ce[k].want, vlen) == 0;
                CHECK(hit, "header %s: \"%.*s\"", ce[k].name, (int)vlen, v ? (const char *)v : "");
                ok &= hit;
            }
            headers_ok += ok;
        }
        kafka_records_release(recs, n);
    }
    CHECK(total == 5 && good == 3 && dead == 2, "consumed %d: good %d dead %d", total, good, dead);
    CHECK(headers_ok == 3, "CloudEvents headers on %d of 3", headers_ok);

    /* the DLQ holds both, with their reasons */
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, err, sizeof(err));
    rd_kafka_conf_set(conf, "group.id", "test-dlq-reader", err, sizeof(err));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, TOPIC_DLQ, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    int found_unknown = 0, found_undecodable = 0;
    for (int round = 0; round < 100 && found_unknown + found_undecodable < 2; round++) {
        rd_kafka_message_t *dm = rd_kafka_consumer_poll(rk, 100);
        if (dm == NULL)
            continue;
        rd_kafka_headers_t *dh = NULL;
        const void *v = NULL;
        size_t vlen = 0;
        if (!dm->err && rd_kafka_message_headers(dm, &dh) == 0 &&
            rd_kafka_header_get_last(dh, "onecard_dlq_reason", &v, &vlen) == 0) {
            if (memmem(v, vlen, "unknown ce_type", 15))
                found_unknown++;
            if (memmem(v, vlen, "not a valid", 11))
                found_undecodable++;
        }
        rd_kafka_message_destroy(dm);
    }
    CHECK(found_unknown == 1 && found_undecodable == 1, "dlq reasons: unknown %d undecodable %d",
          found_unknown, found_undecodable);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);

    kafka_consumer_free(c);
    protobuf_c_message_free_unpacked(m, NULL);
    kafka_producer_free(p, 1000);
    return CHECK_DONE();
}
