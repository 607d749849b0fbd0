/*
 * rating_feed: the line format of onecard-rating-produce, parsed apart from
 * the producer so that the fuzzer and the unit tests can reach it.
 *
 *   swipe   SWIPE_ID CARD TERMINAL PROVIDER ITEM AT
 *   reverse SWIPE_ID CARD TERMINAL PROVIDER ITEM AT
 *   rating  EVENT_ID|- SWIPE_ID CARD TERMINAL PROVIDER SCORE AT [TAG,TAG...]
 *   bench   PROVIDERS RATINGS
 *
 * AT is Unix milliseconds, "now", or "now-SECONDS" (a swipe or rating
 * dated in the past, which the gateway would never produce: that is the
 * point of a stale-rating test). SCORE is any integer in -1000..1000 so a
 * test can send an invalid one. "-" as EVENT_ID means a fresh one; giving
 * one twice replays an event. `bench` asks for RATINGS swipes spread over
 * PROVIDERS providers, then one rating for each.
 */
#ifndef RATING_FEED_H
#define RATING_FEED_H

#include <stddef.h>
#include <stdint.h>

#define FEED_TAGS_MAX 8

typedef enum { FEED_SWIPE, FEED_REVERSE, FEED_RATING, FEED_BENCH } feed_kind;

typedef struct feed_record {
    feed_kind kind;
    const char *event_id; /* NULL: make a fresh one */
    const char *swipe_id, *card_no, *terminal_id, *provider_id, *item_code;
    int32_t score;
    int64_t at_ms;
    char *tags[FEED_TAGS_MAX];
    size_t ntags;
    int64_t providers, ratings; /* bench */
} feed_record;

/* Parses one line (modified in place; the record points into it).
 * Returns 1 for a record, 0 for a blank line or a # comment, -1 with err
 * naming the field that is wrong. */
int feed_parse(char *line, int64_t now_ms, feed_record *r, char *err, size_t errlen);

#endif
