/*
 * decide: the verdict of every rating of a batch or a resolution, inside
 * the store's transaction (store.h).
 *
 * rules.c decides one rating against one swipe and knows no database;
 * this is the part that needs one. The swipes the ratings name are read in
 * one statement, from rating_swipes, which already holds the swipes of the
 * batch itself, with whether each has an accepted rating already; within
 * the batch, the first rating accepted for a swipe makes the next one
 * already_rated. A swipe not read yet parks the rating (RULES_PENDING),
 * unless the decision is final (a parked rating past its grace period,
 * every swipe read): then it is swipe_unknown. Last, the per-card cap
 * (RULES_OVER_CAP): accepted ratings of one card for one provider in one
 * local month, counting those in rating_accepted and then this batch's in
 * stream order. Nothing is written here; tally.c writes what was decided.
 * Loop thread only.
 */
#ifndef RATING_DECIDE_H
#define RATING_DECIDE_H

#include "store.h"

#include <stdbool.h>
#include <stddef.h>

/* Decides every rating of s->ratings: sets its verdict, reason and period,
 * and for an accepted one its swipe's item code and time. The item codes
 * point into *swipes, which the caller passes to decide_release once the
 * ratings are written. final: a swipe still unseen means swipe_unknown
 * rather than parking. 0, or -1 with err (nothing left to release). */
int decide_ratings(store *s, bool final, PGresult **swipes, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Frees swipes (may be NULL) and forgets the item codes that pointed
 * into it. */
void decide_release(store *s, PGresult *swipes);

#endif
