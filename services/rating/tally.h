/*
 * tally: what decided ratings write, inside the store's transaction
 * (store.h).
 *
 * Each rating lands in one table by its verdict: rating_accepted,
 * rating_rejected (with its reason code and sentence), or rating_pending
 * while its swipe is unseen. An accepted rating then moves the running
 * sums: count, sum and star distribution per provider and per provider
 * and item (rating_scores), the same per month (rating_monthly), its tags
 * (rating_tags), and, for a 5-star rating given soon after its swipe, its
 * terminal's burst window (rating_bursts; a window at the threshold is
 * logged as rating_burst_flagged and counted). A provider with accepted
 * ratings and no category yet gets one from the directory (categories.h)
 * before the sums are read back for the scores (publish.h).
 *
 * The reverse: a reversal read after its swipe's rating was accepted takes
 * the rating back (tally_retract): out of rating_accepted into
 * rating_rejected as reversed_after_rating, its stars and tags out of the
 * sums.
 *
 * Why running sums rather than aggregating rating_accepted for a score:
 * the scores are needed after every batch, and a sum moves by the batch's
 * deltas in one upsert per key, however many ratings came before.
 * Loop thread only.
 */
#ifndef RATING_TALLY_H
#define RATING_TALLY_H

#include "store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Takes back the accepted ratings of the swipes that the reversals among
 * items (neither duplicate nor committed) reverse, at now_ms; counts them
 * in s->retracted and s->verdicts. 0, or -1 with err. */
int tally_retract(store *s, store_item *items, int n, int64_t now_ms, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Writes every rating of s->ratings by its verdict (decide.h) and counts
 * it in s->verdicts (final: nothing is parked; decide_ratings made every
 * unseen swipe swipe_unknown). Then the new providers' categories, the
 * sums, tags and bursts of the accepted ones, and the scores they moved
 * marked for publication (publish_mark on s->publish). 0, or -1 with err. */
int tally_write(store *s, bool final, int64_t now_ms, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
