/*
 * onecard-emit: produces one sample event of every type through the shared
 * Kafka producer (idempotent, CloudEvents headers) to its home topic, waits
 * for every acknowledgement, and prints one JSON line per event:
 * {"ce_type", "topic", "event_id", "partition", "offset"}. The first
 * end-to-end test reads them back with kcat and decodes them with protoc.
 *
 * usage: onecard-emit [brokers]   (default $ONECARD_KAFKA_BROKERS)
 */
#include "common/event.h"
#include "common/kafka.h"
#include "common/log.h"
#include "sample.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct emit_result {
    const event_type *type;
    char event_id[EVENT_ID_LEN + 1];
    int done; /* 0 pending, 1 acknowledged, 2 failed */
    int32_t partition;
    int64_t offset;
    char err[128];
} emit_result;

static void emit_delivered(void *opaque, int err, const char *errstr, int32_t partition,
                           int64_t offset)
{
    emit_result *r = opaque;
    r->done = err ? 2 : 1;
    r->partition = partition;
    r->offset = offset;
    if (err)
        snprintf(r->err, sizeof(r->err), "%s", errstr);
}

int main(int argc, char **argv)
{
    const char *brokers = argc > 1 ? argv[1] : getenv("ONECARD_KAFKA_BROKERS");
    char err[512];
    if (brokers == NULL || brokers[0] == '\0') {
        fprintf(stderr, "usage: onecard-emit BROKERS (or set ONECARD_KAFKA_BROKERS)\n");
        return 2;
    }
    if (log_setup("emit", "warn", err, sizeof(err)) < 0)
        return 2;
    kafka_producer *p =
        kafka_producer_new(brokers, "/onecard/emit", NULL, 10000, NULL, err, sizeof(err));
    if (p == NULL) {
        fprintf(stderr, "onecard-emit: %s\n", err);
        return 1;
    }
    emit_result *res = calloc(event_types_count, sizeof(*res));
    int rc = 0;
    for (size_t i = 0; i < event_types_count && res; i++) {
        res[i].type = &event_types[i];
        event_new_id(res[i].event_id);
        ProtobufCMessage *m = sample_new(event_types[i].desc, res[i].event_id);
        if (m == NULL || kafka_produce(p, m, NULL, res[i].event_id, EVENT_ID_LEN, emit_delivered,
                                       &res[i], err, sizeof(err)) < 0) {
            fprintf(stderr, "onecard-emit: %s: %s\n", event_types[i].ce_type,
                    m ? err : "out of memory");
            res[i].done = 2;
            rc = 1;
        }
        if (m)
            protobuf_c_message_free_unpacked(m, NULL);
    }
    kafka_producer_flush(p, 15000);
    for (size_t i = 0; i < event_types_count && res; i++) {
        if (res[i].done != 1) {
            fprintf(stderr, "onecard-emit: %s not acknowledged: %s\n", res[i].type->ce_type,
                    res[i].done == 0 ? "timed out" : res[i].err);
            rc = 1;
            continue;
        }
        printf("{\"ce_type\":\"%s\",\"topic\":\"%s\",\"event_id\":\"%s\",\"partition\":%d,"
               "\"offset\":%lld}\n",
               res[i].type->ce_type, res[i].type->topic, res[i].event_id, (int)res[i].partition,
               (long long)res[i].offset);
    }
    free(res);
    kafka_producer_free(p, 1000);
    return res ? rc : 1;
}
