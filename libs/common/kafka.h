/*
 * kafka: the producer and consumer wrappers every service uses.
 *
 * Producer: enable.idempotence=true (which implies acks=all and ordered,
 * de-duplicated retries); every message carries the CloudEvents Kafka
 * binding headers ce_id, ce_type, ce_source, ce_specversion, ce_time,
 * ce_dataschema and content-type (kafka_event_headers); the delivery report of each message is
 * handed back to the caller's callback, which is how the gateway answers "approved" only once the
 * broker has acknowledged. With an event base the producer is served by the loop (a pipe wakes it
 * when reports arrive); without one the caller polls.
 *
 * Consumer: no automatic commits and no offset store: on every assignment
 * the service's offsets callback says where to start (a service keeps its
 * offsets in PostgreSQL, in the same transaction as its effects). Messages
 * whose ce_type is unknown or whose payload does not decode are sent to
 * onecard.dlq.v1 with the reason in a header, acknowledged by the broker,
 * and handed to the caller marked dead so that it still advances its offset.
 *
 * Thread safety: one thread per handle; delivery callbacks run on the thread
 * that polls (the loop's, with an event base).
 */
#ifndef ONECARD_KAFKA_H
#define ONECARD_KAFKA_H

#include "common/config.h"
#include "common/event.h"

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;

/* err is 0 when the broker acknowledged the message; partition and offset
 * are then where it landed. Otherwise errstr says why it was not, and err is
 * KAFKA_ERR_POSSIBLY_PERSISTED when the message may have reached the log all
 * the same (sent, but the acknowledgement lost to a timeout or a broken
 * connection): its effects must then be neither undone nor assumed. */
#define KAFKA_ERR_POSSIBLY_PERSISTED (-100000)

/* How every client of the process authenticates to the broker: one set of
 * settings per process (each service its own principal), applied by
 * kafka_security_apply to every producer and consumer. */
typedef struct kafka_security {
    char *protocol;      /* ONECARD_KAFKA_SECURITY_PROTOCOL: plaintext, sasl_plaintext, sasl_ssl */
    char *sasl_user;     /* ONECARD_KAFKA_SASL_USER */
    char *sasl_password; /* ONECARD_KAFKA_SASL_PASSWORD (prefer the file) */
    char *sasl_password_file; /* ONECARD_KAFKA_SASL_PASSWORD_FILE */
    char *ca;                 /* ONECARD_KAFKA_CA: PEM CA for sasl_ssl ("" = system store) */
} kafka_security;

/* The rows of a config table that fill a kafka_security (daemons include
 * them through DAEMON_CONFIG_ROWS; tools get them from the environment by
 * themselves, see kafka_security_apply). */
#define KAFKA_SECURITY_ROWS(s)                                                                     \
    {"ONECARD_KAFKA_SECURITY_PROTOCOL",                                                            \
     CONFIG_STR,                                                                                   \
     &(s)->protocol,                                                                               \
     "plaintext",                                                                                  \
     0,                                                                                            \
     0,                                                                                            \
     "Kafka security: plaintext, sasl_plaintext or sasl_ssl (SCRAM-SHA-512)"},                     \
        {"ONECARD_KAFKA_SASL_USER",   CONFIG_STR, &(s)->sasl_user, "", 0, 0,                       \
         "Kafka SASL/SCRAM principal"},                                                            \
        {"ONECARD_KAFKA_SASL_PASSWORD",                                                            \
         CONFIG_STR,                                                                               \
         &(s)->sasl_password,                                                                      \
         "",                                                                                       \
         0,                                                                                        \
         0,                                                                                        \
         "Kafka SASL password (ONECARD_KAFKA_SASL_PASSWORD_FILE is preferred)"},                   \
        {"ONECARD_KAFKA_SASL_PASSWORD_FILE",                                                       \
         CONFIG_STR,                                                                               \
         &(s)->sasl_password_file,                                                                 \
         "",                                                                                       \
         0,                                                                                        \
         0,                                                                                        \
         "file holding the Kafka SASL password (first line)"},                                     \
    {                                                                                              \
        "ONECARD_KAFKA_CA", CONFIG_STR, &(s)->ca, "", 0, 0,                                        \
            "PEM CA file that signed the broker's certificate (sasl_ssl)"                          \
    }

/* Makes s (already loaded by the caller's config table) the settings of the
 * process. Returns -1 with err when they do not fit together. */
int kafka_security_use(const kafka_security *s, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Adds the process's security settings to conf (the environment's when
 * kafka_security_use was not called). Every producer and consumer of the
 * process goes through here. Returns -1 with err on a bad setting or an
 * unreadable password file; never puts the password in err. */
int kafka_security_apply(rd_kafka_conf_t *conf, char *err, size_t errlen)
    __attribute__((warn_unused_result));

typedef void (*kafka_delivery_fn)(void *opaque, int err, const char *errstr, int32_t partition,
                                  int64_t offset);

typedef struct kafka_producer kafka_producer;

/* Creates an idempotent producer. source names the ce_source (e.g.
 * "/onecard/card-gateway"). delivery_timeout_ms bounds how long a message
 * may wait for an acknowledgement before its report says it failed. extra
 * is NULL or a NULL-terminated list of "key", "value" librdkafka settings.
 * Returns NULL with err on a bad setting. */
kafka_producer *kafka_producer_new(const char *brokers, const char *source, struct event_base *base,
                                   int delivery_timeout_ms, const char *const *extra, char *err,
                                   size_t errlen);

/* Encodes msg and produces it to topic (NULL: the type's home topic) with
 * key. cb may be NULL. Returns 0 when queued (cb will be called exactly
 * once), -1 with err when not (cb is not called). Retries briefly on a full
 * queue. */
int kafka_produce(kafka_producer *p, const ProtobufCMessage *msg, const char *topic,
                  const char *key, size_t keylen, kafka_delivery_fn cb, void *opaque, char *err,
                  size_t errlen) __attribute__((warn_unused_result));

/* The CloudEvents binding headers of msg, of type t: ce_id (its event_id),
 * ce_type, ce_source (omitted when source is NULL), ce_specversion, ce_time
 * (event_ce_time), ce_dataschema (event_dataschema) and content-type. The
 * caller owns the list (kafka_produce_raw takes it on success). Any thread. */
rd_kafka_headers_t *kafka_event_headers(const char *source, const event_type *t,
                                        const ProtobufCMessage *msg);

/* Produces raw bytes with the given headers (ownership of hdrs passes to
 * the producer on success only). */
int kafka_produce_raw(kafka_producer *p, const char *topic, const void *key, size_t keylen,
                      const void *payload, size_t len, rd_kafka_headers_t *hdrs,
                      kafka_delivery_fn cb, void *opaque, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Serves delivery reports and errors for up to timeout_ms. */
void kafka_producer_poll(kafka_producer *p, int timeout_ms);

/* Waits up to timeout_ms for every queued message; returns how many are
 * still outstanding (0 when all were reported). */
int kafka_producer_flush(kafka_producer *p, int timeout_ms);

/* True when some broker is up and the producer has no fatal error. */
bool kafka_producer_ready(const kafka_producer *p);
/* True after a fatal (idempotence) error: the service must stop. */
bool kafka_producer_fatal(const kafka_producer *p);
rd_kafka_t *kafka_producer_handle(kafka_producer *p);

/* Flushes for up to timeout_ms, reports what is left, and frees. */
void kafka_producer_free(kafka_producer *p, int timeout_ms);

/* ---------------------------------------------------------------- consumer */

typedef struct kafka_record {
    const event_type *type; /* NULL when dead-lettered */
    ProtobufCMessage *msg;  /* decoded event; NULL when dead-lettered */
    bool dead;              /* sent to the DLQ: skip it, but advance the offset */
    const char *topic;
    int32_t partition;
    int64_t offset;
    const void *key;
    size_t keylen;
    int64_t timestamp_ms;
    rd_kafka_message_t *raw; /* owned until kafka_records_release */
} kafka_record;

/* Fills each element's offset with where to start: the stored next offset,
 * or RD_KAFKA_OFFSET_BEGINNING when nothing is stored. Returns 0, or -1 with
 * err (the wrapper retries every second until it succeeds). */
typedef int (*kafka_offsets_fn)(void *arg, rd_kafka_topic_partition_list_t *parts, char *err,
                                size_t errlen);

typedef struct kafka_consumer kafka_consumer;

/* Creates a consumer in group, subscribed to topics (NULL-terminated).
 * dlq is the producer used for dead letters (not owned). extra is NULL or
 * a NULL-terminated list of "key", "value" librdkafka settings (e.g.
 * group.instance.id: a static member restarted after a crash gets its
 * partitions back at once instead of after the session timeout). */
kafka_consumer *kafka_consumer_new(const char *brokers, const char *group,
                                   const char *const *topics, kafka_offsets_fn offsets, void *arg,
                                   kafka_producer *dlq, const char *const *extra, char *err,
                                   size_t errlen);

/* Waits up to timeout_ms for the first message, then takes what is already
 * there, up to max. Returns the number of records filled (dead ones
 * included), 0 on timeout. Release with kafka_records_release. A fatal
 * consumer error (a static member fenced by another with its
 * group.instance.id) ends the process with status 75 after logging
 * kafka_fatal: only a new process can rejoin. */
int kafka_consumer_poll(kafka_consumer *c, kafka_record *recs, int max, int timeout_ms);
void kafka_records_release(kafka_record *recs, int n);

/* Messages behind the high watermark summed over the assignment, from the
 * cached watermarks; -1 when unknown. */
int64_t kafka_consumer_lag(kafka_consumer *c);
/* Calls fn once per partition of the assignment with its lag (as
 * kafka_consumer_lag counts it; partitions whose watermarks are not known
 * yet are skipped). Returns the sum, or -1 when the assignment is unknown.
 * The consumer's thread only. */
int64_t kafka_consumer_lag_each(kafka_consumer *c,
                                void (*fn)(void *arg, const char *topic, int32_t partition,
                                           int64_t lag),
                                void *arg);
/* True while the consumer holds an assignment. */
bool kafka_consumer_assigned(const kafka_consumer *c);
rd_kafka_t *kafka_consumer_handle(kafka_consumer *c);

/* Sends one message to the DLQ with reason, waiting for the broker's ack,
 * and counts it in onecard_dlq_messages_total{topic, reason} (reason by
 * its class, metrics_reason_class). Returns 0 or -1. Used by the wrapper and by services that
 * reject a message after decoding it (failed validation). */
int kafka_dead_letter(kafka_producer *dlq, const rd_kafka_message_t *m, const char *reason,
                      char *err, size_t errlen);

/* Counts one message a service sent to the DLQ itself (not through
 * kafka_dead_letter) in onecard_dlq_messages_total{topic, reason}. Any
 * thread. */
void kafka_dead_letter_count(const char *topic, const char *reason);

/* Closes (leaves the group) and frees. */
void kafka_consumer_free(kafka_consumer *c);

#endif
