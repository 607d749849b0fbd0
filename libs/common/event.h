/*
 * event: the event envelope shared by producers and consumers.
 *
 * Every event type of onecard.v1 is listed once here with its CloudEvents
 * type (the ce_type header, which is how a consumer knows what the payload
 * is without guessing) and its home topic. Every message's first field is
 * its event_id; validation checks it before a consumer sees the message.
 */
#ifndef ONECARD_EVENT_H
#define ONECARD_EVENT_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EVENT_SPECVERSION  "1.0"
#define EVENT_CONTENT_TYPE "application/protobuf"
#define EVENT_ID_LEN       36 /* UUID text, without the NUL */
#define EVENT_TIME_LEN     24 /* "2025-03-01T08:30:00.123Z", without the NUL */

/* ce_dataschema is this prefix and the message's full protobuf name
 * ("urn:onecard:proto:onecard.v1.SwipeAuthorized"). The schema's version is
 * the package's: compatible changes (proto/README.md) keep the URI, an
 * incompatible one is a new package (onecard.v2), so a new URI. */
#define EVENT_DATASCHEMA_PREFIX "urn:onecard:proto:"
#define EVENT_DATASCHEMA_MAX    128 /* with the NUL */

/* Topics. Keys: swipes, topups, postings, card-status by card_no; ratings,
 * settlements, provider-scores by provider_id; eligibility by person_id. */
#define TOPIC_SWIPES          "onecard.swipes.v1"
#define TOPIC_DECLINES        "onecard.declines.v1"
#define TOPIC_TOPUPS          "onecard.topups.v1"
#define TOPIC_POSTINGS        "onecard.postings.v1"
#define TOPIC_RATINGS         "onecard.ratings.v1"
#define TOPIC_ELIGIBILITY     "onecard.eligibility.v1"
#define TOPIC_CARD_STATUS     "onecard.card-status.v1"
#define TOPIC_REGISTRY        "onecard.registry.v1"
#define TOPIC_SETTLEMENTS     "onecard.settlements.v1"
#define TOPIC_PROVIDER_SCORES "onecard.provider-scores.v1"
#define TOPIC_APPLICATIONS    "onecard.applications.v1" /* by application_id */
#define TOPIC_DLQ             "onecard.dlq.v1"
/* agency view: no full card number, no registry personal data; by masked card */
#define TOPIC_AGENCY_SWIPES "onecard.agency.swipes.v1"

typedef struct event_type {
    const char *ce_type; /* "onecard.v1.SwipeAuthorized" */
    const char *topic;   /* home topic */
    const ProtobufCMessageDescriptor *desc;
} event_type;

extern const event_type event_types[];
extern const size_t event_types_count;

/* Looks up by ce_type (len bytes, not NUL-terminated) or by descriptor.
 * Returns NULL when unknown. */
const event_type *event_type_by_ce(const char *ce_type, size_t len);
const event_type *event_type_by_desc(const ProtobufCMessageDescriptor *desc);

/* Returns the message's event_id (never NULL; "" when unset). */
const char *event_id_of(const ProtobufCMessage *msg);

/* Decodes payload as type and checks the envelope (event_id present, at most
 * 64 characters). Returns the message (free with protobuf_c_message_free_unpacked)
 * or NULL with the reason in err. */
ProtobufCMessage *event_decode(const event_type *type, const uint8_t *payload, size_t len,
                               char *err, size_t errlen);

/* The CloudEvents attributes beyond id, type, source and specversion, as
 * kafka_produce writes them into the ce_time and ce_dataschema headers. Any
 * thread.
 *
 * event_time_of returns the moment the event happened in Unix ms: the
 * message's occurred_at_ms, or closed_at_ms for a SettlementStatement; 0
 * when its type has neither or it is unset (0 or negative).
 *
 * event_format_time writes ms as RFC 3339 UTC with milliseconds
 * ("2025-03-01T08:30:00.123Z") into out (EVENT_TIME_LEN + 1 bytes).
 * Returns 0, or -1 (out empty) when ms is before 1970 or after year 9999.
 *
 * event_ce_time writes msg's ce_time into out (EVENT_TIME_LEN + 1 bytes):
 * its event_time_of, or now when it has none.
 *
 * event_dataschema writes t's ce_dataschema into out (outlen bytes,
 * EVENT_DATASCHEMA_MAX is enough for every type). */
int64_t event_time_of(const ProtobufCMessage *msg);
int event_format_time(int64_t ms, char *out) __attribute__((warn_unused_result));
void event_ce_time(const ProtobufCMessage *msg, char *out);
void event_dataschema(const event_type *t, char *out, size_t outlen);

/* Fills buf with n bytes from the kernel's random source. */
void event_random(void *buf, size_t n);

/* Writes a random UUIDv4 into out (EVENT_ID_LEN + 1 bytes). */
void event_new_id(char *out);

/* Unix time in milliseconds. */
int64_t event_now_ms(void);

#endif
