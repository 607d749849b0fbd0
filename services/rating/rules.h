/*
 * rules: whether one rating counts, decided from the rating and the swipe
 * it names; pure and table-tested.
 *
 * A rating counts only when it belongs to an approved, unreversed swipe,
 * comes from the terminal that made that swipe (and so from its provider),
 * is given within 7 days of the swipe, and is the first for that swipe.
 * A swipe not read yet is no reason to reject: the rating is parked
 * (RULES_PENDING) and decided again when the swipe arrives; only after a
 * grace period with every swipe read does it become RULES_SWIPE_UNKNOWN
 * (decide.c). The per-card cap needs the counts of the database, so
 * decide.c decides RULES_OVER_CAP; the code and wording live here.
 *
 * Reason codes match the gateway's refusals (lua/rate.lua) where both
 * exist. No state: any thread.
 */
#ifndef RATING_RULES_H
#define RATING_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RULES_MAX_AGE_MS    (7LL * 86400 * 1000) /* a rating within 7 days of its swipe */
#define RULES_CLOCK_SKEW_MS (60LL * 1000)        /* gateways' clocks may differ this much */

typedef enum rules_verdict {
    RULES_OK = 0,
    RULES_PENDING,           /* the swipe is not read yet: park */
    RULES_INVALID,           /* the rating itself is malformed */
    RULES_SWIPE_UNKNOWN,     /* no such swipe, after the grace period */
    RULES_SWIPE_REVERSED,    /* the swipe was reversed */
    RULES_OTHER_TERMINAL,    /* rated from a terminal that did not make the swipe */
    RULES_PROVIDER_MISMATCH, /* names another provider than the swipe's */
    RULES_TOO_OLD,           /* more than 7 days after the swipe */
    RULES_BEFORE_SWIPE,      /* dated before the swipe */
    RULES_ALREADY_RATED,     /* the swipe has a rating already */
    RULES_OVER_CAP,          /* the card rated this provider too often this month */
    RULES_REVERSED_AFTER,    /* accepted, then taken back by the swipe's reversal */
    RULES_NVERDICTS
} rules_verdict;

typedef struct rules_rating {
    const char *event_id, *swipe_id, *terminal_id, *provider_id;
    int32_t score;
    int64_t occurred_at_ms;
} rules_rating;

typedef struct rules_swipe {
    bool authorized; /* the authorization was read */
    bool reversed;   /* a reversal was read */
    bool rated;      /* an accepted rating exists for it */
    const char *terminal_id, *provider_id;
    int64_t occurred_at_ms;
} rules_swipe;

/* Decides one rating against its swipe (NULL: never seen). Writes a
 * sentence naming what is wrong into reason (always, "" for RULES_OK). */
rules_verdict rules_check(const rules_rating *r, const rules_swipe *s, char *reason, size_t len);

/* The reason code of a verdict ("swipe_reversed", ...). */
const char *rules_code(rules_verdict v);

/* The local month "YYYY-MM" (calendar.h: UTC shifted by tz_offset_min, as
 * settlement counts months) of a Unix-ms time into out (at least 8 bytes). */
void rules_period(char *out, size_t len, int64_t ms, int tz_offset_min);

/* True when a rating is part of what a 5-star burst is made of: 5 stars,
 * given at most after_ms after its swipe. */
bool rules_burst_candidate(int32_t score, int64_t rating_ms, int64_t swipe_ms, int64_t after_ms);

#endif
