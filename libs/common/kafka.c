/*
 * kafka: producer and consumer wrappers over librdkafka. See kafka.h.
 *
 * Follows librdkafka's examples: every conf_set checked with an errstr, a
 * delivery-report and an error callback always set, conf ownership passed
 * to rd_kafka_new, retry on __QUEUE_FULL, only __FATAL stops the process,
 * flush with a timeout at shutdown, consumer_close before destroy.
 *
 * Security lives here too, once for the process: kafka_security_apply adds
 * SASL/SCRAM-SHA-512 (and TLS with the stack's CA for sasl_ssl) to every
 * handle, so no caller sets security.protocol itself.
 */
#include "common/kafka.h"
#include "common/log.h"
#include "common/metrics.h"

#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ================================================================ common */

static metric *kafka_m_produced, *kafka_m_failed, *kafka_m_consumed;

static void kafka_metrics_once(void)
{
    if (kafka_m_produced)
        return;
    kafka_m_produced = metrics_counter("onecard_kafka_delivered_total",
                                       "Messages acknowledged by the broker.", NULL);
    kafka_m_failed = metrics_counter("onecard_kafka_delivery_failed_total",
                                     "Messages whose delivery failed or timed out.", NULL);
    kafka_m_consumed = metrics_counter("onecard_kafka_consumed_total", "Messages consumed.", NULL);
}

static int kafka_conf_set_all(rd_kafka_conf_t *conf, const char *const *kv, char *err,
                              size_t errlen)
{
    for (int i = 0; kv && kv[i]; i += 2) {
        char errstr[256];
        if (rd_kafka_conf_set(conf, kv[i], kv[i + 1], errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
            snprintf(err, errlen, "kafka setting %s=%s: %s", kv[i], kv[i + 1], errstr);
            return -1;
        }
    }
    return 0;
}

/* ============================================================== security */

static kafka_security kafka_sec;
static bool kafka_sec_loaded;
static char kafka_sec_password[512];

/* Checks s and reads its password into pw (pwlen bytes). */
static int kafka_security_check(const kafka_security *s, char *pw, size_t pwlen, char *err,
                                size_t errlen)
{
    const char *proto = s->protocol ? s->protocol : "plaintext";
    if (strcmp(proto, "plaintext") != 0 && strcmp(proto, "sasl_plaintext") != 0 &&
        strcmp(proto, "sasl_ssl") != 0) {
        snprintf(err, errlen,
                 "ONECARD_KAFKA_SECURITY_PROTOCOL must be plaintext, sasl_plaintext or sasl_ssl, "
                 "not \"%.40s\"",
                 proto);
        return -1;
    }
    pw[0] = '\0';
    if (strcmp(proto, "plaintext") == 0)
        return 0;
    if (s->sasl_user == NULL || s->sasl_user[0] == '\0') {
        snprintf(err, errlen, "ONECARD_KAFKA_SASL_USER is required with %s", proto);
        return -1;
    }
    if (s->sasl_password_file && s->sasl_password_file[0]) {
        FILE *f = fopen(s->sasl_password_file, "r");
        if (f == NULL) {
            snprintf(err, errlen, "ONECARD_KAFKA_SASL_PASSWORD_FILE %s: cannot read it",
                     s->sasl_password_file);
            return -1;
        }
        if (fgets(pw, (int)pwlen, f) == NULL)
            pw[0] = '\0';
        fclose(f);
        pw[strcspn(pw, "\r\n")] = '\0';
    } else if (s->sasl_password) {
        snprintf(pw, pwlen, "%s", s->sasl_password);
    }
    if (pw[0] == '\0') {
        snprintf(err, errlen,
                 "ONECARD_KAFKA_SASL_PASSWORD_FILE (or ONECARD_KAFKA_SASL_PASSWORD) is required "
                 "with %s",
                 proto);
        return -1;
    }
    return 0;
}

int kafka_security_use(const kafka_security *s, char *err, size_t errlen)
{
    char pw[sizeof(kafka_sec_password)];
    if (kafka_security_check(s, pw, sizeof(pw), err, errlen) < 0)
        return -1;
    memcpy(kafka_sec_password, pw, sizeof(pw));
    kafka_sec = *s; /* the strings stay owned by the caller's table */
    kafka_sec_loaded = true;
    return 0;
}

int kafka_security_apply(rd_kafka_conf_t *conf, char *err, size_t errlen)
{
    if (!kafka_sec_loaded) {
        static kafka_security env;
        const config_var rows[] = {KAFKA_SECURITY_ROWS(&env),
                                   {NULL, CONFIG_STR, NULL, NULL, 0, 0, NULL}};
        if (config_load(rows, err, errlen) < 0 || kafka_security_use(&env, err, errlen) < 0)
            return -1;
    }
    const char *proto = kafka_sec.protocol ? kafka_sec.protocol : "plaintext";
    if (strcmp(proto, "plaintext") == 0)
        return 0;
    const char *const kv[] = {
        "security.protocol", proto, "sasl.mechanisms", "SCRAM-SHA-512", "sasl.username",
        kafka_sec.sasl_user, NULL};
    if (kafka_conf_set_all(conf, kv, err, errlen) < 0)
        return -1;
    char errstr[256];
    if (rd_kafka_conf_set(conf, "sasl.password", kafka_sec_password, errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK) {
        snprintf(err, errlen, "kafka setting sasl.password: %s", errstr); /* not the value */
        return -1;
    }
    if (strcmp(proto, "sasl_ssl") == 0 && kafka_sec.ca && kafka_sec.ca[0]) {
        const char *const tls[] = {"ssl.ca.location", kafka_sec.ca, NULL};
        if (kafka_conf_set_all(conf, tls, err, errlen) < 0)
            return -1;
    }
    return 0;
}

/* ============================================================== producer */

struct kafka_producer {
    rd_kafka_t *rk;
    char *source;
    struct event *wake_ev, *tick_ev;
    int wake_fd[2];
    bool brokers_up;
    bool fatal;
};

typedef struct kafka_dr_ctx {
    kafka_delivery_fn cb;
    void *opaque;
} kafka_dr_ctx;

static void kafka_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    kafka_dr_ctx *ctx = m->_private;
    kafka_producer *p = opaque;
    if (m->err) {
        metrics_add(kafka_m_failed, 1);
    } else {
        metrics_add(kafka_m_produced, 1);
        p->brokers_up = true;
    }
    if (ctx) {
        if (ctx->cb && m->err &&
            rd_kafka_message_status(m) == RD_KAFKA_MSG_STATUS_POSSIBLY_PERSISTED) {
            char why[256];
            snprintf(why, sizeof(why), "possibly persisted: %s", rd_kafka_err2str(m->err));
            ctx->cb(ctx->opaque, KAFKA_ERR_POSSIBLY_PERSISTED, why, m->partition, m->offset);
        } else if (ctx->cb) {
            ctx->cb(ctx->opaque, m->err, m->err ? rd_kafka_err2str(m->err) : NULL, m->partition,
                    m->offset);
        }
        free(ctx);
    }
}

static void kafka_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    kafka_producer *p = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char fatal[512];
        rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
        log_error("kafka_fatal", "%s: %s", rd_kafka_err2name(orig), fatal);
        if (p)
            p->fatal = true;
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN && p)
        p->brokers_up = false;
    log_warn("kafka_error", "%s: %s", rd_kafka_err2name(err), reason);
}

/* Statistics arrive every second: a broker in state UP means ready. */
static int kafka_stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    kafka_producer *p = opaque;
    p->brokers_up = strstr(json, "\"state\":\"UP\"") != NULL;
    return 0;
}

static void kafka_on_wake(evutil_socket_t fd, short what, void *arg)
{
    kafka_producer *p = arg;
    char buf[256];
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
    while (rd_kafka_poll(p->rk, 0) > 0)
        ;
}

static void kafka_on_tick(evutil_socket_t fd, short what, void *arg)
{
    kafka_producer *p = arg;
    rd_kafka_poll(p->rk, 0);
}

kafka_producer *kafka_producer_new(const char *brokers, const char *source, struct event_base *base,
                                   int delivery_timeout_ms, const char *const *extra, char *err,
                                   size_t errlen)
{
    kafka_metrics_once();
    kafka_producer *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->wake_fd[0] = p->wake_fd[1] = -1;
    char timeout[32];
    snprintf(timeout, sizeof(timeout), "%d", delivery_timeout_ms);
    const char *const base_conf[] = {"bootstrap.servers",
                                     brokers,
                                     "enable.idempotence",
                                     "true",
                                     "acks",
                                     "all",
                                     "linger.ms",
                                     "5",
                                     "delivery.timeout.ms",
                                     timeout,
                                     "socket.connection.setup.timeout.ms",
                                     "3000",
                                     "reconnect.backoff.max.ms",
                                     "1000",
                                     "statistics.interval.ms",
                                     "1000",
                                     "compression.type",
                                     "lz4",
                                     NULL};
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (kafka_conf_set_all(conf, base_conf, err, errlen) < 0 ||
        kafka_security_apply(conf, err, errlen) < 0 ||
        kafka_conf_set_all(conf, extra, err, errlen) < 0) {
        rd_kafka_conf_destroy(conf);
        free(p);
        return NULL;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, kafka_dr_cb);
    rd_kafka_conf_set_error_cb(conf, kafka_error_cb);
    rd_kafka_conf_set_stats_cb(conf, kafka_stats_cb);
    rd_kafka_conf_set_opaque(conf, p);
    char errstr[512];
    p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (p->rk == NULL) {
        snprintf(err, errlen, "kafka producer: %s", errstr);
        rd_kafka_conf_destroy(conf);
        free(p);
        return NULL;
    }
    conf = NULL; /* owned by rk now */
    p->source = strdup(source);
    if (base) {
        if (pipe2(p->wake_fd, O_NONBLOCK | O_CLOEXEC) < 0) {
            snprintf(err, errlen, "kafka producer: pipe failed");
            kafka_producer_free(p, 0);
            return NULL;
        }
        rd_kafka_queue_t *q = rd_kafka_queue_get_main(p->rk);
        rd_kafka_queue_io_event_enable(q, p->wake_fd[1], "1", 1);
        rd_kafka_queue_destroy(q);
        p->wake_ev = event_new(base, p->wake_fd[0], EV_READ | EV_PERSIST, kafka_on_wake, p);
        p->tick_ev = event_new(base, -1, EV_PERSIST, kafka_on_tick, p);
        struct timeval tv = {0, 100000};
        if (!p->wake_ev || !p->tick_ev || event_add(p->wake_ev, NULL) < 0 ||
            event_add(p->tick_ev, &tv) < 0) {
            snprintf(err, errlen, "kafka producer: cannot attach to the event loop");
            kafka_producer_free(p, 0);
            return NULL;
        }
    }
    return p;
}

rd_kafka_headers_t *kafka_event_headers(const char *source, const event_type *t,
                                        const ProtobufCMessage *msg)
{
    char when[EVENT_TIME_LEN + 1], schema[EVENT_DATASCHEMA_MAX];
    event_ce_time(msg, when);
    event_dataschema(t, schema, sizeof(schema));
    rd_kafka_headers_t *h = rd_kafka_headers_new(7);
    rd_kafka_header_add(h, "ce_id", -1, event_id_of(msg), -1);
    rd_kafka_header_add(h, "ce_type", -1, t->ce_type, -1);
    if (source)
        rd_kafka_header_add(h, "ce_source", -1, source, -1);
    rd_kafka_header_add(h, "ce_specversion", -1, EVENT_SPECVERSION, -1);
    rd_kafka_header_add(h, "ce_time", -1, when, -1);
    rd_kafka_header_add(h, "ce_dataschema", -1, schema, -1);
    rd_kafka_header_add(h, "content-type", -1, EVENT_CONTENT_TYPE, -1);
    return h;
}

int kafka_produce_raw(kafka_producer *p, const char *topic, const void *key, size_t keylen,
                      const void *payload, size_t len, rd_kafka_headers_t *hdrs,
                      kafka_delivery_fn cb, void *opaque, char *err, size_t errlen)
{
    kafka_dr_ctx *ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    ctx->cb = cb;
    ctx->opaque = opaque;
    for (int attempt = 0;; attempt++) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            p->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, keylen),
            RD_KAFKA_V_VALUE((void *)payload, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(ctx), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
            return 0;
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL && attempt < 10) {
            rd_kafka_poll(p->rk, 10);
            continue;
        }
        snprintf(err, errlen, "produce to %s: %s", topic, rd_kafka_err2str(e));
        free(ctx);
        return -1;
    }
}

int kafka_produce(kafka_producer *p, const ProtobufCMessage *msg, const char *topic,
                  const char *key, size_t keylen, kafka_delivery_fn cb, void *opaque, char *err,
                  size_t errlen)
{
    const event_type *t = event_type_by_desc(msg->descriptor);
    if (t == NULL) {
        snprintf(err, errlen, "produce: %s is not an onecard event type", msg->descriptor->name);
        return -1;
    }
    const char *id = event_id_of(msg);
    if (id[0] == '\0') {
        snprintf(err, errlen, "produce: %s without event_id", t->ce_type);
        return -1;
    }
    uint8_t stackbuf[1024];
    size_t len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = len <= sizeof(stackbuf) ? stackbuf : malloc(len);
    if (buf == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    protobuf_c_message_pack(msg, buf);
    rd_kafka_headers_t *h = kafka_event_headers(p->source, t, msg);
    int rc = kafka_produce_raw(p, topic ? topic : t->topic, key, keylen, buf, len, h, cb, opaque,
                               err, errlen);
    if (rc < 0)
        rd_kafka_headers_destroy(h);
    if (buf != stackbuf)
        free(buf);
    return rc;
}

void kafka_producer_poll(kafka_producer *p, int timeout_ms)
{
    rd_kafka_poll(p->rk, timeout_ms);
}

int kafka_producer_flush(kafka_producer *p, int timeout_ms)
{
    rd_kafka_flush(p->rk, timeout_ms);
    return rd_kafka_outq_len(p->rk);
}

bool kafka_producer_ready(const kafka_producer *p)
{
    return p->brokers_up && !p->fatal;
}

bool kafka_producer_fatal(const kafka_producer *p)
{
    return p->fatal;
}

rd_kafka_t *kafka_producer_handle(kafka_producer *p)
{
    return p->rk;
}

void kafka_producer_free(kafka_producer *p, int timeout_ms)
{
    if (p == NULL)
        return;
    if (p->wake_ev)
        event_free(p->wake_ev);
    if (p->tick_ev)
        event_free(p->tick_ev);
    if (p->rk) {
        int left = kafka_producer_flush(p, timeout_ms);
        if (left > 0)
            log_warn("kafka_flush_incomplete", "%d message(s) not delivered at shutdown", left);
        rd_kafka_destroy(p->rk);
    }
    if (p->wake_fd[0] >= 0)
        close(p->wake_fd[0]);
    if (p->wake_fd[1] >= 0)
        close(p->wake_fd[1]);
    free(p->source);
    free(p);
}

/* ============================================================== consumer */

#define KAFKA_START_MAX 256

struct kafka_consumer {
    rd_kafka_t *rk;
    kafka_offsets_fn offsets;
    void *offsets_arg;
    kafka_producer *dlq;
    bool assigned;
    /* the offsets of the current assignment: a partition nothing was read
     * from since has no position yet, and its lag runs from there */
    struct {
        char topic[64];
        int32_t partition;
        int64_t offset;
    } start[KAFKA_START_MAX];
    int nstart;
};

static void kafka_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                               rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    kafka_consumer *c = opaque;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        char e[512];
        for (int i = 0; i < parts->cnt; i++)
            parts->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
        while (c->offsets(c->offsets_arg, parts, e, sizeof(e)) < 0) {
            log_warn("kafka_offsets_unavailable", "cannot read stored offsets: %s; retrying", e);
            sleep(1);
        }
        for (int i = 0; i < parts->cnt; i++) {
            char part[16], off[24];
            snprintf(part, sizeof(part), "%d", (int)parts->elems[i].partition);
            snprintf(off, sizeof(off), "%lld", (long long)parts->elems[i].offset);
            log_kv(LOG_INFO, "kafka_assign", "topic", parts->elems[i].topic, "partition", part,
                   "offset", off, NULL);
        }
        rd_kafka_assign(rk, parts);
        c->nstart = 0;
        for (int i = 0; i < parts->cnt && c->nstart < KAFKA_START_MAX; i++) {
            snprintf(c->start[c->nstart].topic, sizeof(c->start[0].topic), "%s",
                     parts->elems[i].topic);
            c->start[c->nstart].partition = parts->elems[i].partition;
            c->start[c->nstart].offset = parts->elems[i].offset;
            c->nstart++;
        }
        c->assigned = true;
    } else {
        log_info("kafka_revoke", "%d partition(s) revoked", parts->cnt);
        rd_kafka_assign(rk, NULL);
        c->assigned = false;
    }
}

kafka_consumer *kafka_consumer_new(const char *brokers, const char *group,
                                   const char *const *topics, kafka_offsets_fn offsets, void *arg,
                                   kafka_producer *dlq, const char *const *extra, char *err,
                                   size_t errlen)
{
    kafka_metrics_once();
    kafka_consumer *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->offsets = offsets;
    c->offsets_arg = arg;
    c->dlq = dlq;
    const char *const kv[] = {"bootstrap.servers",
                              brokers,
                              "group.id",
                              group,
                              "enable.auto.commit",
                              "false",
                              "enable.auto.offset.store",
                              "false",
                              "auto.offset.reset",
                              "earliest",
                              "enable.partition.eof",
                              "false",
                              "socket.connection.setup.timeout.ms",
                              "3000",
                              "reconnect.backoff.max.ms",
                              "1000",
                              NULL};
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (kafka_conf_set_all(conf, kv, err, errlen) < 0 ||
        kafka_security_apply(conf, err, errlen) < 0 ||
        (extra && kafka_conf_set_all(conf, extra, err, errlen) < 0)) {
        rd_kafka_conf_destroy(conf);
        free(c);
        return NULL;
    }
    rd_kafka_conf_set_error_cb(conf, kafka_error_cb);
    rd_kafka_conf_set_rebalance_cb(conf, kafka_rebalance_cb);
    rd_kafka_conf_set_opaque(conf, c);
    char errstr[512];
    c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (c->rk == NULL) {
        snprintf(err, errlen, "kafka consumer: %s", errstr);
        rd_kafka_conf_destroy(conf);
        free(c);
        return NULL;
    }
    conf = NULL;
    rd_kafka_poll_set_consumer(c->rk);
    int n = 0;
    while (topics[n])
        n++;
    rd_kafka_topic_partition_list_t *subs = rd_kafka_topic_partition_list_new(n);
    for (int i = 0; i < n; i++)
        rd_kafka_topic_partition_list_add(subs, topics[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(c->rk, subs);
    rd_kafka_topic_partition_list_destroy(subs);
    if (e) {
        snprintf(err, errlen, "kafka subscribe: %s", rd_kafka_err2str(e));
        rd_kafka_destroy(c->rk);
        free(c);
        return NULL;
    }
    return c;
}

void kafka_dead_letter_count(const char *topic, const char *reason)
{
    char cls[64], t[96], labels[192];
    metrics_reason_class(cls, sizeof(cls), reason);
    metrics_label_value(t, sizeof(t), topic);
    snprintf(labels, sizeof(labels), "topic=\"%s\",reason=\"%s\"", t, cls);
    metrics_add(metrics_counter("onecard_dlq_messages_total",
                                "Messages sent to onecard.dlq.v1, by source topic and reason "
                                "class.",
                                labels),
                1);
}

static void kafka_dlq_delivered(void *opaque, int err, const char *errstr, int32_t partition,
                                int64_t offset)
{
    *(int *)opaque = err ? 2 : 1;
}

int kafka_dead_letter(kafka_producer *dlq, const rd_kafka_message_t *m, const char *reason,
                      char *err, size_t errlen)
{
    rd_kafka_headers_t *orig = NULL;
    rd_kafka_headers_t *h;
    if (rd_kafka_message_headers(m, &orig) == RD_KAFKA_RESP_ERR_NO_ERROR && orig)
        h = rd_kafka_headers_copy(orig);
    else
        h = rd_kafka_headers_new(4);
    char num[32];
    rd_kafka_header_add(h, "onecard_dlq_reason", -1, reason, -1);
    rd_kafka_header_add(h, "onecard_dlq_topic", -1, rd_kafka_topic_name(m->rkt), -1);
    snprintf(num, sizeof(num), "%d", (int)m->partition);
    rd_kafka_header_add(h, "onecard_dlq_partition", -1, num, -1);
    snprintf(num, sizeof(num), "%lld", (long long)m->offset);
    rd_kafka_header_add(h, "onecard_dlq_offset", -1, num, -1);
    volatile int done = 0;
    if (kafka_produce_raw(dlq, TOPIC_DLQ, m->key, m->key_len, m->payload, m->len, h,
                          kafka_dlq_delivered, (void *)&done, err, errlen) < 0) {
        rd_kafka_headers_destroy(h);
        return -1;
    }
    while (done == 0)
        rd_kafka_poll(dlq->rk, 100);
    if (done != 1) {
        snprintf(err, errlen, "dead letter not acknowledged");
        return -1;
    }
    kafka_dead_letter_count(rd_kafka_topic_name(m->rkt), reason);
    log_kv(LOG_WARN, "dead_lettered", "topic", rd_kafka_topic_name(m->rkt), "reason", reason, NULL);
    return 0;
}

/* Decodes one message into rec, dead-lettering it when it cannot be. */
static void kafka_decode(kafka_consumer *c, rd_kafka_message_t *m, kafka_record *rec)
{
    memset(rec, 0, sizeof(*rec));
    rec->raw = m;
    rec->topic = rd_kafka_topic_name(m->rkt);
    rec->partition = m->partition;
    rec->offset = m->offset;
    rec->key = m->key;
    rec->keylen = m->key_len;
    rec->timestamp_ms = rd_kafka_message_timestamp(m, NULL);
    char reason[256] = "";
    rd_kafka_headers_t *h = NULL;
    const void *val = NULL;
    size_t vlen = 0;
    if (rd_kafka_message_headers(m, &h) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        rd_kafka_header_get_last(h, "ce_type", &val, &vlen) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        val == NULL) {
        snprintf(reason, sizeof(reason), "missing ce_type header");
    } else {
        rec->type = event_type_by_ce(val, vlen);
        if (rec->type == NULL)
            snprintf(reason, sizeof(reason), "unknown ce_type \"%.*s\"",
                     (int)(vlen > 100 ? 100 : vlen), (const char *)val);
        else
            rec->msg = event_decode(rec->type, m->payload, m->len, reason, sizeof(reason));
    }
    if (rec->msg)
        return;
    rec->type = NULL;
    rec->dead = true;
    char err[256];
    while (kafka_dead_letter(c->dlq, m, reason, err, sizeof(err)) < 0) {
        log_error("dead_letter_failed", "%s; retrying", err);
        sleep(1);
    }
}

int kafka_consumer_poll(kafka_consumer *c, kafka_record *recs, int max, int timeout_ms)
{
    int n = 0;
    while (n < max) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, n == 0 ? timeout_ms : 0);
        if (m == NULL)
            break;
        if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
            /* e.g. fenced: another member took this group.instance.id. The
             * handle cannot recover; a fresh process can, and loses nothing
             * (offsets are stored with the data), so exit for the
             * supervisor to start one, as after a kill -9. */
            char why[512];
            rd_kafka_resp_err_t orig = rd_kafka_fatal_error(c->rk, why, sizeof(why));
            log_error("kafka_fatal", "consumer: %s: %s: exiting", rd_kafka_err2name(orig), why);
            exit(75);
        }
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                log_warn("kafka_consume_error", "%s", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            if (n == 0)
                break;
            continue;
        }
        kafka_decode(c, m, &recs[n++]);
    }
    metrics_add(kafka_m_consumed, n);
    return n;
}

void kafka_records_release(kafka_record *recs, int n)
{
    for (int i = 0; i < n; i++) {
        if (recs[i].msg)
            protobuf_c_message_free_unpacked(recs[i].msg, NULL);
        if (recs[i].raw)
            rd_kafka_message_destroy(recs[i].raw);
        recs[i].msg = NULL;
        recs[i].raw = NULL;
    }
}

int64_t kafka_consumer_lag_each(kafka_consumer *c,
                                void (*fn)(void *arg, const char *topic, int32_t partition,
                                           int64_t lag),
                                void *arg)
{
    rd_kafka_topic_partition_list_t *parts = NULL;
    if (rd_kafka_assignment(c->rk, &parts) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return -1;
    rd_kafka_position(c->rk, parts);
    int64_t lag = 0;
    for (int i = 0; i < parts->cnt; i++) {
        int64_t lo = 0, hi = 0;
        if (rd_kafka_get_watermark_offsets(c->rk, parts->elems[i].topic, parts->elems[i].partition,
                                           &lo, &hi) != 0)
            continue;
        int64_t pos = parts->elems[i].offset;
        for (int k = 0; pos < 0 && k < c->nstart; k++) /* nothing read yet: as assigned */
            if (c->start[k].partition == parts->elems[i].partition &&
                strcmp(c->start[k].topic, parts->elems[i].topic) == 0)
                pos = c->start[k].offset == RD_KAFKA_OFFSET_END ? hi : c->start[k].offset;
        if (pos < 0)
            pos = lo;
        int64_t behind = hi > pos ? hi - pos : 0;
        lag += behind;
        if (fn)
            fn(arg, parts->elems[i].topic, parts->elems[i].partition, behind);
    }
    rd_kafka_topic_partition_list_destroy(parts);
    return lag;
}

int64_t kafka_consumer_lag(kafka_consumer *c)
{
    return kafka_consumer_lag_each(c, NULL, NULL);
}

bool kafka_consumer_assigned(const kafka_consumer *c)
{
    return c->assigned;
}

rd_kafka_t *kafka_consumer_handle(kafka_consumer *c)
{
    return c->rk;
}

void kafka_consumer_free(kafka_consumer *c)
{
    if (c == NULL)
        return;
    rd_kafka_consumer_close(c->rk);
    rd_kafka_destroy(c->rk);
    free(c);
}
