/*
 * resume: see resume.h. The field names here are the ones the scripts
 * under lua/ write (swipe.lua, reverse.lua, rate.lua).
 */
#include "resume.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct resume_part {
    int kind;
    const char *name, *state, *owner, *event, *request, *at;
} resume_part;

static const resume_part resume_parts[] = {
    {RESUME_SWIPE, "swipe", "state", "gw", "event", "request", "at"},
    {RESUME_REVERSAL, "reversal", "rv_state", "rv_gw", "reversal_event", "rv_request", "rv_at"},
    {RESUME_RATING, "rating", "rt_state", "rt_gw", "rt_event", "rt_request", "rt_at"},
};

static const resume_part *resume_part_of(int kind)
{
    for (size_t i = 0; i < sizeof(resume_parts) / sizeof(resume_parts[0]); i++)
        if (resume_parts[i].kind == kind)
            return &resume_parts[i];
    return NULL;
}

const char *resume_kind_name(int kind)
{
    const resume_part *p = resume_part_of(kind);
    return p ? p->name : NULL;
}

const char *resume_field(const resume_record *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->names[i] && strcmp(r->names[i], name) == 0)
            return r->values[i];
    return NULL;
}

/* A decimal int64 filling the whole string; false if not. */
static bool resume_int(const char *s, int64_t *out)
{
    if (s == NULL || *s == '\0')
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = v;
    return true;
}

resume_verdict resume_decide(const resume_record *r, int kind, const char *me, const char *dead_id,
                             resume_alive_fn alive, void *alive_arg, int64_t now_ms, int64_t age_ms)
{
    const resume_part *p = resume_part_of(kind);
    if (p == NULL)
        return RESUME_NOTHING;
    const char *state = resume_field(r, p->state);
    if (state == NULL || strcmp(state, "pending") != 0)
        return RESUME_NOTHING;
    const char *owner = resume_field(r, p->owner);
    if (owner == NULL)
        owner = "";                                  /* written before owners were recorded */
    if (dead_id != NULL && strcmp(dead_id, me) == 0) /* our own, left behind */
        return strcmp(owner, me) == 0 ? RESUME_TAKE : RESUME_NOTHING;
    if (strcmp(owner, me) == 0)
        return RESUME_LIVE;
    bool owner_alive = owner[0] != '\0' && alive(owner, alive_arg);
    if (dead_id != NULL)
        return strcmp(owner, dead_id) == 0 || !owner_alive ? RESUME_TAKE : RESUME_NOTHING;
    if (owner_alive)
        return RESUME_LIVE;
    int64_t at;
    if (!resume_int(resume_field(r, p->at), &at))
        return RESUME_TAKE; /* unreadable: resume_read says what is wrong */
    return now_ms - at >= age_ms ? RESUME_TAKE : RESUME_YOUNG;
}

static int resume_need(const resume_record *r, const char *name, const char **out, char *err,
                       size_t errlen)
{
    *out = resume_field(r, name);
    if (*out == NULL) {
        snprintf(err, errlen, "field %s is missing", name);
        return -1;
    }
    return 0;
}

static int resume_need_int(const resume_record *r, const char *name, int64_t *out, char *err,
                           size_t errlen)
{
    if (!resume_int(resume_field(r, name), out)) {
        snprintf(err, errlen, "field %s is missing or not an integer", name);
        return -1;
    }
    return 0;
}

int resume_read(const resume_record *r, int kind, const char *swipe_id, resume_request *q,
                char *err, size_t errlen)
{
    const resume_part *p = resume_part_of(kind);
    memset(q, 0, sizeof(*q));
    if (p == NULL) {
        snprintf(err, errlen, "unknown part '%c'", kind);
        return -1;
    }
    q->kind = kind;
    q->swipe_id = swipe_id;
    if (resume_need(r, "card", &q->card_no, err, errlen) < 0 ||
        resume_need(r, "terminal", &q->terminal_id, err, errlen) < 0 ||
        resume_need(r, "provider", &q->provider_id, err, errlen) < 0 ||
        resume_need(r, "item", &q->item_code, err, errlen) < 0 ||
        resume_need(r, p->event, &q->event_id, err, errlen) < 0 ||
        resume_need(r, p->request, &q->request_id, err, errlen) < 0 ||
        resume_need_int(r, p->at, &q->at_ms, err, errlen) < 0)
        return -1;
    q->owner = resume_field(r, p->owner);
    if (q->owner == NULL)
        q->owner = "";
    q->person = resume_field(r, "person");
    if (q->person == NULL)
        q->person = "";
    if (kind == RESUME_RATING) {
        int64_t n;
        if (resume_need_int(r, "rt_score", &q->score, err, errlen) < 0)
            return -1;
        if (q->score < 1 || q->score > 5) {
            snprintf(err, errlen, "field rt_score is out of 1..5");
            return -1;
        }
        if (resume_field(r, "rt_ntags") == NULL)
            n = 0;
        else if (resume_need_int(r, "rt_ntags", &n, err, errlen) < 0)
            return -1;
        if (n < 0 || n > RESUME_MAX_TAGS) {
            snprintf(err, errlen, "field rt_ntags is out of 0..%d", RESUME_MAX_TAGS);
            return -1;
        }
        for (int i = 0; i < (int)n; i++) {
            char name[24];
            snprintf(name, sizeof(name), "rt_tag%d", i + 1);
            if (resume_need(r, name, &q->tags[i], err, errlen) < 0)
                return -1;
        }
        q->ntags = (int)n;
        return 0;
    }
    if (resume_need(r, "wallet", &q->wallet, err, errlen) < 0 ||
        resume_need(r, "fund", &q->fund, err, errlen) < 0 ||
        resume_need_int(r, "amount", &q->amount, err, errlen) < 0)
        return -1;
    if (kind == RESUME_SWIPE)
        return resume_need(r, "approval", &q->approval, err, errlen) < 0 ||
                       resume_need_int(r, "balance", &q->balance, err, errlen) < 0
                   ? -1
                   : 0;
    return resume_need_int(r, "rv_balance", &q->balance, err, errlen);
}

int resume_member(char *buf, size_t len, int kind, const char *swipe_key, const char *event_id)
{
    int n = snprintf(buf, len, "%c|%s|%s", kind, swipe_key, event_id);
    return n < 0 || (size_t)n >= len ? -1 : n;
}

int resume_member_parse(const char *member, int *kind, char *key, size_t keylen)
{
    if (resume_part_of(member[0]) == NULL || member[1] != '|')
        return -1;
    const char *start = member + 2, *end = strrchr(start, '|');
    if (end == NULL || end == start || (size_t)(end - start) >= keylen)
        return -1;
    *kind = member[0];
    memcpy(key, start, (size_t)(end - start));
    key[end - start] = '\0';
    return 0;
}
