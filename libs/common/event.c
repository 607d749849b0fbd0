/*
 * event: the registry of event types and the envelope checks. See event.h.
 */
#include "common/event.h"

#include "agency.pb-c.h"
#include "application.pb-c.h"
#include "eligibility.pb-c.h"
#include "ledger.pb-c.h"
#include "rating.pb-c.h"
#include "registry.pb-c.h"
#include "settlement.pb-c.h"
#include "swipe.pb-c.h"
#include "topup.pb-c.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

const event_type event_types[] = {
    {"onecard.v1.SwipeAuthorized", TOPIC_SWIPES, &onecard__v1__swipe_authorized__descriptor},
    {"onecard.v1.SwipeReversed", TOPIC_SWIPES, &onecard__v1__swipe_reversed__descriptor},
    {"onecard.v1.SwipeDeclined", TOPIC_DECLINES, &onecard__v1__swipe_declined__descriptor},
    {"onecard.v1.TopupIssued", TOPIC_TOPUPS, &onecard__v1__topup_issued__descriptor},
    {"onecard.v1.BalanceCarryOver", TOPIC_TOPUPS, &onecard__v1__balance_carry_over__descriptor},
    {"onecard.v1.CreditReturned", TOPIC_TOPUPS, &onecard__v1__credit_returned__descriptor},
    {"onecard.v1.EligibilityChanged", TOPIC_ELIGIBILITY,
     &onecard__v1__eligibility_changed__descriptor},
    {"onecard.v1.CardStatusChanged", TOPIC_CARD_STATUS,
     &onecard__v1__card_status_changed__descriptor},
    {"onecard.v1.EntitlementChanged", TOPIC_CARD_STATUS,
     &onecard__v1__entitlement_changed__descriptor},
    {"onecard.v1.RatingSubmitted", TOPIC_RATINGS, &onecard__v1__rating_submitted__descriptor},
    {"onecard.v1.LedgerPosting", TOPIC_POSTINGS, &onecard__v1__ledger_posting__descriptor},
    {"onecard.v1.SettlementStatement", TOPIC_SETTLEMENTS,
     &onecard__v1__settlement_statement__descriptor},
    {"onecard.v1.ProviderScore", TOPIC_PROVIDER_SCORES, &onecard__v1__provider_score__descriptor},
    {"onecard.v1.PersonChanged", TOPIC_REGISTRY, &onecard__v1__person_changed__descriptor},
    {"onecard.v1.CardChanged", TOPIC_REGISTRY, &onecard__v1__card_changed__descriptor},
    {"onecard.v1.ProviderChanged", TOPIC_REGISTRY, &onecard__v1__provider_changed__descriptor},
    {"onecard.v1.TerminalChanged", TOPIC_REGISTRY, &onecard__v1__terminal_changed__descriptor},
    {"onecard.v1.ApplicationChanged", TOPIC_APPLICATIONS,
     &onecard__v1__application_changed__descriptor},
    {"onecard.v1.AgencySwipe", TOPIC_AGENCY_SWIPES, &onecard__v1__agency_swipe__descriptor},
};
const size_t event_types_count = sizeof(event_types) / sizeof(event_types[0]);

const event_type *event_type_by_ce(const char *ce_type, size_t len)
{
    for (size_t i = 0; i < event_types_count; i++) {
        if (strlen(event_types[i].ce_type) == len &&
            memcmp(event_types[i].ce_type, ce_type, len) == 0)
            return &event_types[i];
    }
    return NULL;
}

const event_type *event_type_by_desc(const ProtobufCMessageDescriptor *desc)
{
    for (size_t i = 0; i < event_types_count; i++)
        if (event_types[i].desc == desc)
            return &event_types[i];
    return NULL;
}

const char *event_id_of(const ProtobufCMessage *msg)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, "event_id");
    if (f == NULL || f->type != PROTOBUF_C_TYPE_STRING)
        return "";
    const char *const *s = (const char *const *)((const char *)msg + f->offset);
    return *s ? *s : "";
}

ProtobufCMessage *event_decode(const event_type *type, const uint8_t *payload, size_t len,
                               char *err, size_t errlen)
{
    ProtobufCMessage *m = protobuf_c_message_unpack(type->desc, NULL, len, payload);
    if (m == NULL) {
        snprintf(err, errlen, "payload is not a valid %s (%zu bytes)", type->ce_type, len);
        return NULL;
    }
    const char *id = event_id_of(m);
    size_t idlen = strlen(id);
    if (idlen == 0 || idlen > 64) {
        snprintf(err, errlen, "%s: event_id %s", type->ce_type,
                 idlen == 0 ? "missing" : "longer than 64 characters");
        protobuf_c_message_free_unpacked(m, NULL);
        return NULL;
    }
    return m;
}

/* The value of msg's int64 field name, or 0 when its type has none. */
static int64_t event_int64_field(const ProtobufCMessage *msg, const char *name)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, name);
    if (f == NULL || f->type != PROTOBUF_C_TYPE_INT64 || f->label == PROTOBUF_C_LABEL_REPEATED)
        return 0;
    return *(const int64_t *)((const char *)msg + f->offset);
}

int64_t event_time_of(const ProtobufCMessage *msg)
{
    /* every event type has occurred_at_ms but the statement, which happens
     * when its period is closed */
    static const char *const fields[] = {"occurred_at_ms", "closed_at_ms"};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        int64_t ms = event_int64_field(msg, fields[i]);
        if (ms > 0)
            return ms;
    }
    return 0;
}

int event_format_time(int64_t ms, char *out)
{
    out[0] = '\0';
    if (ms < 0 || ms > INT64_C(253402300799999)) /* 9999-12-31T23:59:59.999Z */
        return -1;
    time_t sec = (time_t)(ms / 1000);
    struct tm tm;
    if (gmtime_r(&sec, &tm) == NULL)
        return -1;
    if (strftime(out, EVENT_TIME_LEN + 1, "%Y-%m-%dT%H:%M:%S", &tm) != 19) {
        out[0] = '\0';
        return -1;
    }
    unsigned frac = (unsigned)(ms % 1000);
    char *p = out + 19;
    p[0] = '.';
    p[1] = (char)('0' + frac / 100);
    p[2] = (char)('0' + frac / 10 % 10);
    p[3] = (char)('0' + frac % 10);
    p[4] = 'Z';
    p[5] = '\0';
    return 0;
}

void event_ce_time(const ProtobufCMessage *msg, char *out)
{
    int64_t ms = event_time_of(msg);
    if (ms > 0 && event_format_time(ms, out) == 0)
        return;
    if (event_format_time(event_now_ms(), out) < 0) /* a clock set before 1970 */
        snprintf(out, EVENT_TIME_LEN + 1, "1970-01-01T00:00:00.000Z");
}

void event_dataschema(const event_type *t, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s%s", EVENT_DATASCHEMA_PREFIX, t->ce_type);
}

void event_random(void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom((unsigned char *)buf + got, n - got, 0);
        if (r > 0)
            got += (size_t)r;
    }
}

void event_new_id(char *out)
{
    unsigned char b[16];
    event_random(b, sizeof(b));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, EVENT_ID_LEN + 1,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
}

int64_t event_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
