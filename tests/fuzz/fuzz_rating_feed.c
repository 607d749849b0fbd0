/*
 * fuzz_rating_feed: onecard-rating-produce's record parser, feed_parse(),
 * on any line. Beyond no crash and no undefined behaviour, it checks what
 * the producer relies on when a record parses: the fields of its kind are
 * set, a score is within -1000..1000, at most FEED_TAGS_MAX tags, each
 * non-empty and at most 32 bytes; a failure leaves a message.
 */
#include "fuzz.h"
#include "rating_feed.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *line = malloc(size + 1);
    if (line == NULL)
        return 0;
    memcpy(line, data, size);
    line[size] = '\0';
    feed_record r;
    char err[256] = "";
    int rc = feed_parse(line, 1780000000000LL, &r, err, sizeof(err));
    FUZZ_REQUIRE(rc >= -1 && rc <= 1);
    if (rc < 0)
        FUZZ_REQUIRE(err[0] != '\0' && memchr(err, '\0', sizeof(err)) != NULL);
    if (rc == 1 && r.kind != FEED_BENCH) {
        FUZZ_REQUIRE(r.swipe_id && r.card_no && r.terminal_id && r.provider_id);
        FUZZ_REQUIRE(strlen(r.swipe_id) >= 1 && strlen(r.swipe_id) <= 64);
    }
    if (rc == 1 && r.kind == FEED_RATING) {
        FUZZ_REQUIRE(r.score >= -1000 && r.score <= 1000);
        FUZZ_REQUIRE(r.ntags <= FEED_TAGS_MAX);
        for (size_t i = 0; i < r.ntags; i++)
            FUZZ_REQUIRE(r.tags[i][0] != '\0' && strlen(r.tags[i]) <= 32);
    }
    if (rc == 1 && r.kind == FEED_BENCH)
        FUZZ_REQUIRE(r.providers >= 1 && r.ratings >= 1);
    free(line);
    return 0;
}
