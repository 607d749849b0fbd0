/*
 * Unit tests of event: every registered type round-trips through
 * protobuf-c, and the envelope check refuses what a consumer must not see.
 */
#include "check.h"
#include "common/event.h"
#include "sample.h"

#include <stdlib.h>
#include <string.h>

int main(void)
{
    char err[256], id[EVENT_ID_LEN + 1];
    CHECK(event_types_count == 15, "every event of the design: %zu", event_types_count);
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
    return CHECK_DONE();
}
