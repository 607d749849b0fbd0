/*
 * Unit tests of event: every registered type round-trips through
 * protobuf-c, the envelope check refuses what a consumer must not see, and
 * the ce_time and ce_dataschema headers say when and what (RFC 3339 UTC of
 * the event's own time; the URN of its protobuf message).
 */
#include "check.h"
#include "common/event.h"
#include "sample.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    char err[256], id[EVENT_ID_LEN + 1];
    CHECK(event_types_count == 19, "every event of the design: %zu", event_types_count);
    for (size_t i = 0; i < event_types_count; i++) {
        const event_type *t = &event_types[i];
        CHECK(event_type_by_ce(t->ce_type, strlen(t->ce_type)) == t, "lookup %s", t->ce_type);
        CHECK(event_type_by_desc(t->desc) == t, "lookup by descriptor %s", t->ce_type);
        CHECK(strncmp(t->topic, "onecard.", 8) == 0 && strstr(t->topic, ".v1"), "topic %s",
              t->topic);
        event_new_id(id);
        ProtobufCMessage *m = sample_new(t->desc, id);
        size_t len = protobuf_c_message_get_packed_size(m);
        uint8_t *buf = malloc(len);
        protobuf_c_message_pack(m, buf);
        ProtobufCMessage *back = event_decode(t, buf, len, err, sizeof(err));
        CHECK(back != NULL, "%s: %s", t->ce_type, err);
        if (back) {
            CHECK(strcmp(event_id_of(back), id) == 0, "%s event_id", t->ce_type);
            size_t len2 = protobuf_c_message_get_packed_size(back);
            uint8_t *buf2 = malloc(len2);
            protobuf_c_message_pack(back, buf2);
            CHECK(len2 == len && memcmp(buf, buf2, len) == 0, "%s bytes stable", t->ce_type);
            free(buf2);
            protobuf_c_message_free_unpacked(back, NULL);
        }
        /* every message has an event_id: an empty one is refused */
        CHECK(strcmp(event_id_of(m), id) == 0, "%s has event_id", t->ce_type);
        protobuf_c_message_free_unpacked(m, NULL);
        free(buf);
    }
    CHECK(event_type_by_ce("onecard.v1.Nope", 15) == NULL, "unknown ce_type");

    const event_type *sw = event_type_by_ce("onecard.v1.SwipeAuthorized", 26);
    static const struct {
        const char *bytes;
        size_t len;
        const char *want;
    } bad[] = {
        {"", 0, "event_id missing"},            /* empty message: no event_id */
        {"\x0a\x05", 2, "not a valid"},         /* truncated string */
        {"\xff\xff\xff\xff", 4, "not a valid"}, /* garbage */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        ProtobufCMessage *m =
            event_decode(sw, (const uint8_t *)bad[i].bytes, bad[i].len, err, sizeof(err));
        CHECK(m == NULL && strstr(err, bad[i].want), "bad row %zu: err \"%s\"", i, err);
    }
    /* uuid shape */
    event_new_id(id);
    CHECK(strlen(id) == 36 && id[8] == '-' && id[14] == '4', "uuid v4 %s", id);

    /* ce_time: RFC 3339 UTC with milliseconds, from Unix ms */
    static const struct {
        int64_t ms;
        int rc;
        const char *want;
    } times[] = {
        {0, 0, "1970-01-01T00:00:00.000Z"},
        {1, 0, "1970-01-01T00:00:00.001Z"},
        {946684800000, 0, "2000-01-01T00:00:00.000Z"},
        {1709251199999, 0, "2024-02-29T23:59:59.999Z"}, /* a leap day */
        {1740817800123, 0, "2025-03-01T08:30:00.123Z"},
        {INT64_C(253402300799999), 0, "9999-12-31T23:59:59.999Z"},
        {INT64_C(253402300800000), -1, ""}, /* year 10000: not RFC 3339 */
        {-1, -1, ""},
        {INT64_MIN, -1, ""},
        {INT64_MAX, -1, ""},
    };
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        char out[EVENT_TIME_LEN + 1] = "junk";
        int rc = event_format_time(times[i].ms, out);
        CHECK(rc == times[i].rc && strcmp(out, times[i].want) == 0, "time row %zu: %d \"%s\"", i,
              rc, out);
        CHECK(rc < 0 || strlen(out) == EVENT_TIME_LEN, "time row %zu: length", i);
    }

    /* the event's own time: occurred_at_ms, closed_at_ms for a statement,
     * now when unset or negative */
    static const struct {
        const char *ce_type, *field;
        int64_t set, want;
    } when[] = {
        {"onecard.v1.SwipeAuthorized", "occurred_at_ms", 1740817800123, 1740817800123},
        {"onecard.v1.SwipeAuthorized", "occurred_at_ms", 0, 0},
        {"onecard.v1.SwipeAuthorized", "occurred_at_ms", -5, 0},
        {"onecard.v1.LedgerPosting", "posted_at_ms", 1740817800123, 0}, /* not its event time */
        {"onecard.v1.SettlementStatement", "closed_at_ms", 946684800000, 946684800000},
        {"onecard.v1.SettlementStatement", "closed_at_ms", 0, 0},
    };
    for (size_t i = 0; i < sizeof(when) / sizeof(when[0]); i++) {
        const event_type *t = event_type_by_ce(when[i].ce_type, strlen(when[i].ce_type));
        ProtobufCMessage *m = protobuf_c_message_unpack(t->desc, NULL, 0, (const uint8_t *)"");
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field_by_name(t->desc, when[i].field);
        CHECK(m && f, "when row %zu: %s.%s", i, when[i].ce_type, when[i].field);
        if (m == NULL || f == NULL)
            continue;
        *(int64_t *)((char *)m + f->offset) = when[i].set;
        CHECK(event_time_of(m) == when[i].want, "when row %zu: %lld", i,
              (long long)event_time_of(m));
        char out[EVENT_TIME_LEN + 1], want[EVENT_TIME_LEN + 1];
        int64_t before = event_now_ms();
        event_ce_time(m, out);
        if (when[i].want > 0) {
            CHECK(event_format_time(when[i].want, want) == 0 && strcmp(out, want) == 0,
                  "when row %zu: ce_time %s", i, out);
        } else { /* now: between the clock before and after, to the second */
            char lo[EVENT_TIME_LEN + 1], hi[EVENT_TIME_LEN + 1];
            CHECK(event_format_time(before / 1000 * 1000, lo) == 0 &&
                      event_format_time(event_now_ms() / 1000 * 1000 + 999, hi) == 0 &&
                      strcmp(lo, out) <= 0 && strcmp(out, hi) <= 0,
                  "when row %zu: ce_time %s is now", i, out);
        }
        protobuf_c_message_free_unpacked(m, NULL);
    }

    /* ce_dataschema names the message by its full protobuf name, for every type */
    for (size_t i = 0; i < event_types_count; i++) {
        char schema[EVENT_DATASCHEMA_MAX], want[EVENT_DATASCHEMA_MAX + 8];
        event_dataschema(&event_types[i], schema, sizeof(schema));
        snprintf(want, sizeof(want), "urn:onecard:proto:%s", event_types[i].desc->name);
        CHECK(strcmp(schema, want) == 0 && strlen(want) < EVENT_DATASCHEMA_MAX, "dataschema %s",
              schema);
        /* and every sample has a ce_time of its own occurred_at */
        event_new_id(id);
        ProtobufCMessage *m = sample_new(event_types[i].desc, id);
        char out[EVENT_TIME_LEN + 1], want_time[EVENT_TIME_LEN + 1];
        event_ce_time(m, out);
        CHECK(event_time_of(m) > 0 && event_format_time(event_time_of(m), want_time) == 0 &&
                  strcmp(out, want_time) == 0,
              "%s: ce_time %s", event_types[i].ce_type, out);
        protobuf_c_message_free_unpacked(m, NULL);
    }
    return CHECK_DONE();
}
