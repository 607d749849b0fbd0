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
#define TOPIC_DLQ             "onecard.dlq.v1"

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

/* Fills buf with n bytes from the kernel's random source. */
void event_random(void *buf, size_t n);

/* Writes a random UUIDv4 into out (EVENT_ID_LEN + 1 bytes). */
void event_new_id(char *out);

/* Unix time in milliseconds. */
int64_t event_now_ms(void);

#endif
