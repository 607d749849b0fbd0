/*
 * rating_feed: parses onecard-rating-produce's records. See rating_feed.h.
 */
#include "rating_feed.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int feed_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (s == NULL || *s == '\0')
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int feed_at(const char *s, int64_t now_ms, int64_t *out)
{
    if (strcmp(s, "now") == 0) {
        *out = now_ms;
        return 0;
    }
    int64_t v;
    if (strncmp(s, "now-", 4) == 0) {
        if (feed_int(s + 4, 0, 100LL * 365 * 86400, &v) < 0)
            return -1;
        *out = now_ms - v * 1000;
        return 0;
    }
    if (feed_int(s, 1, 253402300799999LL, &v) < 0)
        return -1;
    *out = v;
    return 0;
}

static int feed_id(const char *name, const char *s, char *err, size_t errlen)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64) {
        snprintf(err, errlen, "%s must be 1 to 64 characters", name);
        return -1;
    }
    return 0;
}

int feed_parse(char *line, int64_t now_ms, feed_record *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof(*r));
    char *f[12], *save = NULL;
    int nf = 0;
    for (char *t = strtok_r(line, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
        if (nf == 12) {
            snprintf(err, errlen, "too many fields");
            return -1;
        }
        f[nf++] = t;
    }
    if (nf == 0 || f[0][0] == '#')
        return 0;
    int64_t v;
    if (strcmp(f[0], "swipe") == 0 || strcmp(f[0], "reverse") == 0) {
        if (nf != 7) {
            snprintf(err, errlen, "%s needs SWIPE_ID CARD TERMINAL PROVIDER ITEM AT", f[0]);
            return -1;
        }
        r->kind = f[0][0] == 's' ? FEED_SWIPE : FEED_REVERSE;
        r->swipe_id = f[1];
        r->card_no = f[2];
        r->terminal_id = f[3];
        r->provider_id = f[4];
        r->item_code = f[5];
        if (feed_id("SWIPE_ID", f[1], err, errlen) < 0 || feed_id("CARD", f[2], err, errlen) < 0 ||
            feed_id("TERMINAL", f[3], err, errlen) < 0 ||
            feed_id("PROVIDER", f[4], err, errlen) < 0 || feed_id("ITEM", f[5], err, errlen) < 0)
            return -1;
        if (feed_at(f[6], now_ms, &r->at_ms) < 0) {
            snprintf(err, errlen, "AT \"%.40s\" is neither Unix ms, now, nor now-SECONDS", f[6]);
            return -1;
        }
        return 1;
    }
    if (strcmp(f[0], "rating") == 0) {
        if (nf != 8 && nf != 9) {
            snprintf(err, errlen,
                     "rating needs EVENT_ID|- SWIPE_ID CARD TERMINAL PROVIDER SCORE AT [TAGS]");
            return -1;
        }
        r->kind = FEED_RATING;
        r->event_id = strcmp(f[1], "-") == 0 ? NULL : f[1];
        r->swipe_id = f[2];
        r->card_no = f[3];
        r->terminal_id = f[4];
        r->provider_id = f[5];
        if ((r->event_id && feed_id("EVENT_ID", f[1], err, errlen) < 0) ||
            feed_id("SWIPE_ID", f[2], err, errlen) < 0 || feed_id("CARD", f[3], err, errlen) < 0 ||
            feed_id("TERMINAL", f[4], err, errlen) < 0 ||
            feed_id("PROVIDER", f[5], err, errlen) < 0)
            return -1;
        if (feed_int(f[6], -1000, 1000, &v) < 0) {
            snprintf(err, errlen, "SCORE \"%.20s\" is not a whole number in -1000..1000", f[6]);
            return -1;
        }
        r->score = (int32_t)v;
        if (feed_at(f[7], now_ms, &r->at_ms) < 0) {
            snprintf(err, errlen, "AT \"%.40s\" is neither Unix ms, now, nor now-SECONDS", f[7]);
            return -1;
        }
        if (nf == 9) {
            char *tsave = NULL;
            for (char *t = strtok_r(f[8], ",", &tsave); t; t = strtok_r(NULL, ",", &tsave)) {
                if (r->ntags == FEED_TAGS_MAX) {
                    snprintf(err, errlen, "more than %d tags", FEED_TAGS_MAX);
                    return -1;
                }
                if (strlen(t) > 32) {
                    snprintf(err, errlen, "tag \"%.40s\" is longer than 32 characters", t);
                    return -1;
                }
                r->tags[r->ntags++] = t;
            }
        }
        return 1;
    }
    if (strcmp(f[0], "bench") == 0) {
        if (nf != 3) {
            snprintf(err, errlen, "bench needs PROVIDERS RATINGS");
            return -1;
        }
        r->kind = FEED_BENCH;
        if (feed_int(f[1], 1, 1000000, &r->providers) < 0 ||
            feed_int(f[2], 1, 100000000, &r->ratings) < 0) {
            snprintf(err, errlen, "PROVIDERS (1..1000000) and RATINGS (1..100000000) are counts");
            return -1;
        }
        return 1;
    }
    snprintf(err, errlen, "unknown record \"%.20s\" (swipe, reverse, rating, bench)", f[0]);
    return -1;
}
