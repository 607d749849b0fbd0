/*
 * rules: the acceptance rules of one rating. See rules.h.
 */
#include "rules.h"

#include "common/calendar.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const rules_codes[RULES_NVERDICTS] = {
    [RULES_OK] = "accepted",
    [RULES_PENDING] = "pending",
    [RULES_INVALID] = "invalid",
    [RULES_SWIPE_UNKNOWN] = "swipe_unknown",
    [RULES_SWIPE_REVERSED] = "swipe_reversed",
    [RULES_OTHER_TERMINAL] = "swipe_of_another_terminal",
    [RULES_PROVIDER_MISMATCH] = "provider_mismatch",
    [RULES_TOO_OLD] = "too_old",
    [RULES_BEFORE_SWIPE] = "rated_before_swipe",
    [RULES_ALREADY_RATED] = "already_rated",
    [RULES_OVER_CAP] = "over_cap",
    [RULES_REVERSED_AFTER] = "reversed_after_rating",
};

const char *rules_code(rules_verdict v)
{
    if ((int)v < 0 || v >= RULES_NVERDICTS)
        return "unknown";
    return rules_codes[v];
}

static bool rules_empty(const char *s)
{
    return s == NULL || *s == '\0';
}

rules_verdict rules_check(const rules_rating *r, const rules_swipe *s, char *reason, size_t len)
{
    reason[0] = '\0';
    if (rules_empty(r->swipe_id) || rules_empty(r->terminal_id) || rules_empty(r->provider_id)) {
        snprintf(reason, len, "rating %s lacks its swipe_id, terminal_id or provider_id",
                 r->event_id ? r->event_id : "");
        return RULES_INVALID;
    }
    if (r->score < 1 || r->score > 5) {
        snprintf(reason, len, "score %d is outside 1..5", (int)r->score);
        return RULES_INVALID;
    }
    if (r->occurred_at_ms <= 0) {
        snprintf(reason, len, "occurred_at_ms %lld is not a time", (long long)r->occurred_at_ms);
        return RULES_INVALID;
    }
    if (s != NULL && s->reversed) {
        snprintf(reason, len, "swipe %s was reversed", r->swipe_id);
        return RULES_SWIPE_REVERSED;
    }
    if (s == NULL || !s->authorized) {
        snprintf(reason, len, "swipe %s has not been seen", r->swipe_id);
        return RULES_PENDING;
    }
    if (strcmp(s->terminal_id, r->terminal_id) != 0) {
        snprintf(reason, len, "swipe %s was made by terminal %s, the rating comes from %s",
                 r->swipe_id, s->terminal_id, r->terminal_id);
        return RULES_OTHER_TERMINAL;
    }
    if (strcmp(s->provider_id, r->provider_id) != 0) {
        snprintf(reason, len, "swipe %s belongs to provider %s, the rating names %s", r->swipe_id,
                 s->provider_id, r->provider_id);
        return RULES_PROVIDER_MISMATCH;
    }
    int64_t age = r->occurred_at_ms - s->occurred_at_ms;
    if (age < -RULES_CLOCK_SKEW_MS) {
        snprintf(reason, len, "rated %lld s before swipe %s", (long long)(-age / 1000),
                 r->swipe_id);
        return RULES_BEFORE_SWIPE;
    }
    if (age > RULES_MAX_AGE_MS) {
        snprintf(reason, len, "rated %lld h after swipe %s, more than 7 days",
                 (long long)(age / 3600000), r->swipe_id);
        return RULES_TOO_OLD;
    }
    if (s->rated) {
        snprintf(reason, len, "swipe %s has been rated already", r->swipe_id);
        return RULES_ALREADY_RATED;
    }
    return RULES_OK;
}

void rules_period(char *out, size_t len, int64_t ms, int tz_offset_min)
{
    char month[8];
    if (ms < 0) {
        snprintf(out, len, "0000-00");
        return;
    }
    calendar_month(ms, tz_offset_min, month);
    snprintf(out, len, "%s", month);
}

bool rules_burst_candidate(int32_t score, int64_t rating_ms, int64_t swipe_ms, int64_t after_ms)
{
    return score == 5 && rating_ms >= swipe_ms - RULES_CLOCK_SKEW_MS &&
           rating_ms - swipe_ms <= after_ms;
}
