/*
 * onecard-rating-produce: swipes, reversals and ratings for the rating
 * service's tests and benchmark, straight onto their topics through the
 * shared producer (no gateway: the tests need what the gateway refuses,
 * like a rating for a swipe that never happened or one eight days late).
 * The record format is in rating_feed.h.
 *
 * Waits for every acknowledgement; prints one JSON line per record
 * {"line", "event_id"}; exit 1 if any message failed, 2 on a malformed
 * record (naming the line; nothing after it is produced).
 *
 * usage: onecard-rating-produce [brokers]   (default $ONECARD_KAFKA_BROKERS)
 */
#include "rating_feed.h"

#include "common/event.h"
#include "common/kafka.h"
#include "common/log.h"
#include "rating.pb-c.h"
#include "swipe.pb-c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long produce_acked, produce_failed;

static void produce_delivered(void *opaque, int err, const char *errstr, int32_t partition,
                              int64_t offset)
{
    if (err)
        produce_failed++;
    else
        produce_acked++;
}

static int produce_swipe(kafka_producer *p, const feed_record *r, const char *id, char *err,
                         size_t errlen)
{
    if (r->kind == FEED_SWIPE) {
        Onecard__V1__SwipeAuthorized s = ONECARD__V1__SWIPE_AUTHORIZED__INIT;
        s.event_id = (char *)id;
        s.swipe_id = (char *)r->swipe_id;
        s.request_id = (char *)id;
        s.terminal_id = (char *)r->terminal_id;
        s.provider_id = (char *)r->provider_id;
        s.card_no = (char *)r->card_no;
        s.item_code = (char *)r->item_code;
        s.wallet = "rehab";
        s.fund_source = "test";
        s.amount_fen = 100;
        s.occurred_at_ms = r->at_ms;
        return kafka_produce(p, &s.base, NULL, s.card_no, strlen(s.card_no), produce_delivered,
                             NULL, err, errlen);
    }
    Onecard__V1__SwipeReversed v = ONECARD__V1__SWIPE_REVERSED__INIT;
    v.event_id = (char *)id;
    v.swipe_id = (char *)r->swipe_id;
    v.request_id = (char *)id;
    v.terminal_id = (char *)r->terminal_id;
    v.provider_id = (char *)r->provider_id;
    v.card_no = (char *)r->card_no;
    v.item_code = (char *)r->item_code;
    v.wallet = "rehab";
    v.fund_source = "test";
    v.amount_fen = 100;
    v.occurred_at_ms = r->at_ms;
    return kafka_produce(p, &v.base, NULL, v.card_no, strlen(v.card_no), produce_delivered, NULL,
                         err, errlen);
}

static int produce_rating(kafka_producer *p, const feed_record *r, const char *id, char *err,
                          size_t errlen)
{
    Onecard__V1__RatingSubmitted m = ONECARD__V1__RATING_SUBMITTED__INIT;
    m.event_id = (char *)id;
    m.rating_id = (char *)id;
    m.request_id = (char *)id;
    m.swipe_id = (char *)r->swipe_id;
    m.terminal_id = (char *)r->terminal_id;
    m.provider_id = (char *)r->provider_id;
    m.card_no = (char *)r->card_no;
    m.score = r->score;
    m.tags = (char **)r->tags;
    m.n_tags = r->ntags;
    m.occurred_at_ms = r->at_ms;
    return kafka_produce(p, &m.base, NULL, m.provider_id, strlen(m.provider_id), produce_delivered,
                         NULL, err, errlen);
}

/* RATINGS swipes over PROVIDERS providers (one terminal each), then a
 * rating for every swipe: provider k's ratings average about (k % 5) + 1. */
static int produce_bench(kafka_producer *p, const feed_record *b, char *err, size_t errlen)
{
    char run[EVENT_ID_LEN + 1], id[EVENT_ID_LEN + 1];
    event_new_id(run);
    run[8] = '\0';
    int64_t now = event_now_ms();
    for (int pass = 0; pass < 2; pass++)
        for (int64_t i = 0; i < b->ratings; i++) {
            char swipe[64], card[32], prov[32], term[32], item[16];
            int64_t k = i % b->providers;
            snprintf(swipe, sizeof(swipe), "%s-%lld", run, (long long)i);
            snprintf(card, sizeof(card), "6288%012lld", (long long)(i % 100000));
            snprintf(prov, sizeof(prov), "BP%lld", (long long)k);
            snprintf(term, sizeof(term), "BT%lld", (long long)k);
            snprintf(item, sizeof(item), "B-ITEM-%lld", (long long)(i % 3));
            feed_record r = {.kind = pass == 0 ? FEED_SWIPE : FEED_RATING,
                             .swipe_id = swipe,
                             .card_no = card,
                             .terminal_id = term,
                             .provider_id = prov,
                             .item_code = item};
            event_new_id(id);
            int rc;
            if (pass == 0) {
                r.at_ms = now - 3600 * 1000;
                rc = produce_swipe(p, &r, id, err, errlen);
            } else {
                int32_t s = (int32_t)(k % 5) + 1 + (int32_t)(i % 3) - 1;
                r.score = s < 1 ? 1 : s > 5 ? 5 : s;
                r.at_ms = now;
                rc = produce_rating(p, &r, id, err, errlen);
            }
            if (rc < 0)
                return -1;
            if ((i & 1023) == 1023)
                kafka_producer_poll(p, 0);
        }
    return 0;
}

int main(int argc, char **argv)
{
    const char *brokers = argc > 1 ? argv[1] : getenv("ONECARD_KAFKA_BROKERS");
    char err[512], line[2048];
    if (brokers == NULL || brokers[0] == '\0') {
        fprintf(stderr, "usage: onecard-rating-produce BROKERS < records\n");
        return 2;
    }
    if (log_setup("rating-produce", "warn", err, sizeof(err)) < 0)
        return 2;
    const char *const extra[] = {
        "linger.ms", "20", "batch.num.messages", "10000", "queue.buffering.max.messages",
        "1000000",   NULL};
    kafka_producer *p = kafka_producer_new(brokers, "/onecard/rating-produce", NULL, 30000, extra,
                                           err, sizeof(err));
    if (p == NULL) {
        fprintf(stderr, "onecard-rating-produce: %s\n", err);
        return 1;
    }
    int rc = 0, lineno = 0;
    while (rc == 0 && fgets(line, sizeof(line), stdin)) {
        lineno++;
        feed_record r;
        int got = feed_parse(line, event_now_ms(), &r, err, sizeof(err));
        if (got == 0)
            continue;
        char id[EVENT_ID_LEN + 1];
        if (got > 0) {
            if (r.event_id)
                snprintf(id, sizeof(id), "%s", r.event_id);
            else
                event_new_id(id);
            if (r.kind == FEED_BENCH)
                got = produce_bench(p, &r, err, sizeof(err));
            else if (r.kind == FEED_RATING)
                got = produce_rating(p, &r, id, err, sizeof(err));
            else
                got = produce_swipe(p, &r, id, err, sizeof(err));
        }
        if (got < 0) {
            fprintf(stderr, "onecard-rating-produce: line %d: %s\n", lineno, err);
            rc = 2;
            break;
        }
        printf("{\"line\":%d,\"event_id\":\"%s\"}\n", lineno, id);
    }
    int left = kafka_producer_flush(p, 120000);
    fprintf(stderr, "onecard-rating-produce: %ld acknowledged, %ld failed, %d unreported\n",
            produce_acked, produce_failed, left);
    kafka_producer_free(p, 1000);
    if (rc == 0 && (produce_failed || left))
        rc = 1;
    return rc;
}
