/*
 * consumer: read, decide and score in batches, publish. See consumer.h.
 */
#include "consumer.h"

#include "publish.h"

#include "common/batch.h"
#include "common/log.h"
#include "common/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONSUMER_PENDING_LIMIT  5000
#define CONSUMER_MAX_PARTITIONS 256 /* of onecard.swipes.v1 that consumer_pace follows */

/* The walk (wake, pump, retry, drain, offsets) is libs/common/batch.c's;
 * this file paces the two topics, decides ratings and publishes scores. */
static struct {
    deps *d;
    const rating_config *cfg;
    batch_consumer *bc;
    store st;
    const kafka_record *recs; /* the batch being applied */
    store_item *items;
    bool *committed; /* batch_committed's answer on a retry */
    int64_t pending_at_ms;
    bool ratings_paused; /* swipes first: see consumer_pace */
    uint64_t assignment; /* hash of the assignment consumer_pace last saw */
    int64_t swipes_start[CONSUMER_MAX_PARTITIONS]; /* where each swipes partition starts */
} c;

static metric *m_ratings[RULES_NVERDICTS], *m_swipes, *m_reversals, *m_duplicates, *m_dead,
    *m_parked, *m_published, *m_bursts;

/* ------------------------------------------------------------ assignment */

/* Where each swipes partition starts (PostgreSQL's offsets), for the pace. */
static void consumer_assigned_at(void *arg, const rd_kafka_topic_partition_list_t *parts)
{
    (void)arg;
    for (int i = 0; i < parts->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &parts->elems[i];
        if (strcmp(tp->topic, TOPIC_SWIPES) == 0 && tp->partition >= 0 &&
            tp->partition < CONSUMER_MAX_PARTITIONS)
            c.swipes_start[tp->partition] = tp->offset;
    }
}

bool consumer_assigned(void)
{
    return batch_assigned(c.bc);
}

/* ---------------------------------------------------------- swipes first */

/* While the consumer is far behind on swipes (a service catching up after
 * an outage, or started on full topics), reading both topics at the same
 * pace makes most ratings overtake their swipe: each is parked, taken out
 * again when its swipe's batch comes, and the parked-rating timer scans
 * them all every second. So while the swipes of the assignment are more
 * than 4 batches behind, the ratings partitions are paused, and resumed
 * once swipes are within a batch of their end. This changes the order in
 * which events are read, never what is decided: a rating is decided
 * against whatever swipes have been read, parked ratings still wait for
 * their swipe, offsets are still stored with each batch (librdkafka
 * resumes a partition after the last message it delivered). A swipes
 * partition from which nothing has been read yet is behind by what lies
 * between the offset it was assigned at (PostgreSQL's) and its end, so the
 * first fetch, which may bring ratings before any swipe, pauses the
 * ratings at once; one whose end is not known yet counts as not behind, so
 * it cannot hold the ratings back. Partitions stay paused
 * across a rebalance, so every change of the assignment applies the
 * current state to all ratings partitions again. */
static void consumer_pace(void)
{
    if (c.bc == NULL)
        return;
    rd_kafka_t *rk = kafka_consumer_handle(batch_kafka(c.bc));
    rd_kafka_topic_partition_list_t *parts = NULL;
    if (rd_kafka_assignment(rk, &parts) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return;
    rd_kafka_position(rk, parts);
    rd_kafka_topic_partition_list_t *ratings = rd_kafka_topic_partition_list_new(parts->cnt + 1);
    uint64_t seen = 1469598103934665603ull; /* FNV-1a over topic, partition */
    int64_t behind = 0;
    for (int i = 0; i < parts->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &parts->elems[i];
        for (const char *ch = tp->topic; *ch; ch++)
            seen = (seen ^ (uint8_t)*ch) * 1099511628211ull;
        seen = (seen ^ (uint32_t)tp->partition) * 1099511628211ull;
        if (strcmp(tp->topic, TOPIC_RATINGS) == 0) {
            rd_kafka_topic_partition_list_add(ratings, tp->topic, tp->partition);
            continue;
        }
        int64_t lo = -1, hi = -1, pos = tp->offset;
        if (rd_kafka_get_watermark_offsets(rk, tp->topic, tp->partition, &lo, &hi) != 0)
            continue;
        if (pos < 0 && tp->partition >= 0 && tp->partition < CONSUMER_MAX_PARTITIONS)
            pos = c.swipes_start[tp->partition]; /* nothing read yet: where it starts */
        if (pos == RD_KAFKA_OFFSET_BEGINNING)
            pos = lo;
        if (pos >= 0 && hi > pos)
            behind += hi - pos;
    }
    bool pause = c.ratings_paused ? behind > c.cfg->batch_max : behind > 4 * c.cfg->batch_max;
    bool moved = seen != c.assignment;
    if (ratings->cnt > 0 && (pause != c.ratings_paused || moved)) {
        rd_kafka_resp_err_t e = pause ? rd_kafka_pause_partitions(rk, ratings)
                                      : rd_kafka_resume_partitions(rk, ratings);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (pause != c.ratings_paused)
                log_info(pause ? "ratings_paused" : "ratings_resumed",
                         "swipes %lld behind: ratings %s", (long long)behind,
                         pause ? "wait until the swipes are read" : "read again");
            c.ratings_paused = pause;
            c.assignment = seen;
        } else {
            log_warn("ratings_pace_failed", "%s", rd_kafka_err2str(e));
        }
    } else if (ratings->cnt == 0) {
        c.assignment = seen;
    }
    rd_kafka_topic_partition_list_destroy(ratings);
    rd_kafka_topic_partition_list_destroy(parts);
}

/* ----------------------------------------------------------------- batch */

static void consumer_items(const kafka_record *recs, int n)
{
    for (int i = 0; i < n; i++) {
        const kafka_record *rec = &recs[i];
        store_item *it = &c.items[i];
        memset(it, 0, sizeof(*it));
        it->topic = rec->topic;
        it->partition = rec->partition;
        it->offset = rec->offset;
        it->rating_idx = -1;
        if (rec->dead) {
            metrics_add(m_dead, 1);
            continue;
        }
        const ProtobufCMessageDescriptor *desc = rec->type->desc;
        if (desc == &onecard__v1__swipe_authorized__descriptor) {
            it->kind = STORE_SWIPE;
            it->swipe = (const Onecard__V1__SwipeAuthorized *)rec->msg;
        } else if (desc == &onecard__v1__swipe_reversed__descriptor) {
            it->kind = STORE_REVERSAL;
            it->reversal = (const Onecard__V1__SwipeReversed *)rec->msg;
        } else if (desc == &onecard__v1__rating_submitted__descriptor) {
            it->kind = STORE_RATING;
            it->rating = (const Onecard__V1__RatingSubmitted *)rec->msg;
        }
    }
}

/* Counts what the last transaction decided; logs every rejection. */
static void consumer_account(void)
{
    for (int v = 0; v < RULES_NVERDICTS; v++)
        metrics_add(m_ratings[v], c.st.verdicts[v]);
    metrics_add(m_swipes, c.st.swipes);
    metrics_add(m_reversals, c.st.reversals);
    metrics_add(m_duplicates, c.st.duplicates);
    metrics_add(m_bursts, c.st.bursts_flagged);
    for (int i = 0; i < c.st.nratings; i++) {
        const store_rating *r = &c.st.ratings[i];
        if (r->verdict == RULES_OK || r->verdict == RULES_PENDING)
            continue;
        log_kv(LOG_WARN, "rating_rejected", "event_id", r->event_id, "swipe_id", r->swipe_id,
               "provider_id", r->provider_id, "terminal_id", r->terminal_id, "reason_code",
               rules_code(r->verdict), "reason", r->reason, NULL);
    }
}

static void consumer_dlq_acked(void *opaque, int err, const char *errstr, int32_t partition,
                               int64_t offset)
{
    *(int *)opaque = err ? -1 : 1;
}

/* A parked rating rejected later: its record is gone from the consumer, so
 * the event is encoded again and sent to the DLQ with the same headers a
 * dead letter carries. Waits for the broker's ack. */
static int consumer_dlq_parked(const store_rating *r, char *err, size_t errlen)
{
    Onecard__V1__RatingSubmitted ev = ONECARD__V1__RATING_SUBMITTED__INIT;
    ev.event_id = (char *)r->event_id;
    ev.rating_id = (char *)r->rating_id;
    ev.swipe_id = (char *)r->swipe_id;
    ev.terminal_id = (char *)r->terminal_id;
    ev.provider_id = (char *)r->provider_id;
    ev.card_no = (char *)r->card_no;
    ev.score = r->score;
    ev.occurred_at_ms = r->occurred_at_ms;
    size_t len = protobuf_c_message_get_packed_size(&ev.base);
    uint8_t *buf = malloc(len + 1);
    if (buf == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    protobuf_c_message_pack(&ev.base, buf);
    /* the rating's own headers (its original ce_source is not kept) */
    rd_kafka_headers_t *h =
        kafka_event_headers(NULL, event_type_by_desc(ev.base.descriptor), &ev.base);
    char reason[320];
    snprintf(reason, sizeof(reason), "%s: %s", rules_code(r->verdict), r->reason);
    rd_kafka_header_add(h, "onecard_dlq_reason", -1, reason, -1);
    rd_kafka_header_add(h, "onecard_dlq_topic", -1, TOPIC_RATINGS, -1);
    volatile int done = 0;
    int rc = kafka_produce_raw(c.d->producer, TOPIC_DLQ, r->provider_id, strlen(r->provider_id),
                               buf, len, h, consumer_dlq_acked, (void *)&done, err, errlen);
    free(buf);
    if (rc < 0) {
        rd_kafka_headers_destroy(h);
        return -1;
    }
    while (done == 0)
        kafka_producer_poll(c.d->producer, 100);
    if (done != 1) {
        snprintf(err, errlen, "dead letter not acknowledged");
        return -1;
    }
    kafka_dead_letter_count(TOPIC_RATINGS, reason);
    return 0;
}

static int consumer_dead_letters(char *err, size_t errlen)
{
    for (int i = 0; i < c.st.nratings; i++) {
        const store_rating *r = &c.st.ratings[i];
        if (r->verdict == RULES_OK || r->verdict == RULES_PENDING)
            continue;
        if (r->item < 0) {
            if (consumer_dlq_parked(r, err, errlen) < 0)
                return -1;
            continue;
        }
        char reason[320];
        snprintf(reason, sizeof(reason), "%s: %s", rules_code(r->verdict), r->reason);
        if (kafka_dead_letter(c.d->producer, c.recs[r->item].raw, reason, err, errlen) < 0)
            return -1;
    }
    return 0;
}

/* The batch's hook: decide, one transaction with the offsets, dead
 * letters, then publish the scores that moved. On a retry the items are the
 * first attempt's, marked where that attempt did commit. */
static int consumer_apply(void *arg, kafka_record *recs, int n, bool retry, char *err,
                          size_t errlen)
{
    (void)arg;
    c.recs = recs;
    if (!retry) {
        consumer_items(recs, n);
    } else { /* an earlier attempt whose COMMIT's reply was lost may have committed */
        if (batch_committed(c.bc, recs, n, c.committed, err, errlen) < 0)
            return -1;
        for (int i = 0; i < n; i++)
            c.items[i].committed = c.committed[i];
    }
    int64_t t0 = event_now_ms();
    if (store_apply(&c.st, c.items, n, t0, err, errlen) < 0)
        return -1;
    if (batch_offsets_store(c.bc, recs, n, err, errlen) < 0 ||
        consumer_dead_letters(err, errlen) < 0) {
        store_abort(&c.st);
        return -1;
    }
    if (store_commit(&c.st, err, errlen) < 0)
        return -1;
    int64_t now = event_now_ms();
    consumer_account();
    metrics_add(m_published, publish_send(&c.st.publish, c.d->producer, now));
    c.recs = NULL;
    return 0;
}

/* Swipes first (consumer_pace), then read. */
static bool consumer_may_read(void *arg)
{
    (void)arg;
    consumer_pace();
    return true;
}

/* Decides parked ratings again (see consumer.h). */
static void consumer_parked(void)
{
    char err[512];
    int64_t now = event_now_ms();
    int64_t lag = kafka_consumer_lag(batch_kafka(c.bc));
    bool caught_up = lag == 0 && consumer_assigned();
    int n = 0;
    if (store_resolve_pending(&c.st, now, c.cfg->grace_ms, caught_up, CONSUMER_PENDING_LIMIT, &n,
                              err, sizeof(err)) < 0) {
        log_warn("parked_not_decided", "%s", err);
        return;
    }
    if (n == 0)
        return;
    if (consumer_dead_letters(err, sizeof(err)) < 0) {
        store_abort(&c.st);
        log_warn("parked_not_decided", "%s", err);
        return;
    }
    if (store_commit(&c.st, err, sizeof(err)) < 0) {
        log_warn("parked_not_decided", "%s", err);
        return;
    }
    consumer_account();
    metrics_add(m_published, publish_send(&c.st.publish, c.d->producer, now));
    log_info("parked_decided", "%d parked ratings decided", n);
}

static void consumer_tick(void *arg, bool idle)
{
    (void)arg;
    int64_t now = event_now_ms();
    if (idle && now >= c.pending_at_ms && pg_alive(c.d->pg)) {
        c.pending_at_ms = now + 1000;
        consumer_parked();
        metrics_set(m_parked, store_pending_count(&c.st));
    }
}

/* ----------------------------------------------------------------- setup */

static void consumer_metrics(void)
{
    static char labels[RULES_NVERDICTS][64];
    for (int v = 0; v < RULES_NVERDICTS; v++) {
        snprintf(labels[v], sizeof(labels[v]), "verdict=\"%s\"", rules_code(v));
        m_ratings[v] = metrics_counter("onecard_rating_ratings_total",
                                       "Ratings decided, by verdict (accepted, parked, or the "
                                       "reason of the rejection).",
                                       labels[v]);
    }
    m_swipes =
        metrics_counter("onecard_rating_swipes_total", "Swipe authorizations recorded.", NULL);
    m_reversals =
        metrics_counter("onecard_rating_reversals_total", "Swipe reversals recorded.", NULL);
    m_duplicates = metrics_counter("onecard_rating_events_duplicate_total",
                                   "Events whose event_id was applied already.", NULL);
    m_dead = metrics_counter("onecard_rating_events_undecodable_total",
                             "Records dead-lettered before decoding.", NULL);
    m_parked = metrics_gauge("onecard_rating_parked_ratings",
                             "Ratings waiting for their swipe (rating_pending).", NULL);
    m_published =
        metrics_counter("onecard_rating_scores_published_total",
                        "ProviderScore events queued on onecard.provider-scores.v1.", NULL);
    m_bursts = metrics_counter("onecard_rating_burst_windows_flagged_total",
                               "Terminal windows at or over the 5-star burst threshold, counted "
                               "each time a batch adds to one.",
                               NULL);
}

int consumer_setup(struct event_base *base, deps *d, const rating_config *cfg, char *err,
                   size_t errlen)
{
    c.d = d;
    c.cfg = cfg;
    consumer_metrics();
    store_config sc = {cfg->cap_per_month,   cfg->burst_after_ms,    cfg->burst_window_ms,
                       cfg->burst_threshold, cfg->prior_weight,      cfg->publish_delta_milli,
                       cfg->d.redis_host,    (int)cfg->d.redis_port, (int)cfg->tz_offset_min};
    store_init(&c.st, d->pg, cfg->group, &sc);
    c.items = calloc((size_t)cfg->batch_max, sizeof(*c.items));
    c.committed = calloc((size_t)cfg->batch_max, sizeof(*c.committed));
    if (c.items == NULL || c.committed == NULL) {
        snprintf(err, errlen, "out of memory for a batch of %lld", (long long)cfg->batch_max);
        return -1;
    }
    const char *const topics[] = {TOPIC_RATINGS, TOPIC_SWIPES, NULL};
    /* prefetch at most 8 MiB: the batch is the unit of work, and the
     * default (64 MiB) is most of the service's memory */
    const char *const extra[] = {"queued.max.messages.kbytes", "8192", NULL};
    batch_config bcfg = {cfg->d.kafka_brokers, cfg->group, cfg->instance, topics,
                         (int)cfg->batch_max,  "rating",   extra};
    batch_hooks hooks = {.apply = consumer_apply,
                         .assigned = consumer_assigned_at,
                         .may_read = consumer_may_read,
                         .tick = consumer_tick};
    c.bc = batch_new(base, d, &bcfg, &hooks, NULL, err, errlen);
    return c.bc ? 0 : -1;
}

void consumer_drain(void)
{
    batch_drain(c.bc);
    log_info("consumer_draining", "stopped reading");
}

void consumer_cleanup(void)
{
    batch_free(c.bc);
    store_cleanup(&c.st);
    free(c.items);
    free(c.committed);
    memset(&c, 0, sizeof(c));
}
