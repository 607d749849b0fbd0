/*
 * shares: fund levels and the split to the fen. See shares.h.
 */
#include "shares.h"

#include <stdio.h>
#include <string.h>

static const char *const shares_names[SHARES_LEVELS] = {"central", "provincial", "municipal",
                                                        "district"};

const char *shares_level_name(shares_level l)
{
    return (unsigned)l < SHARES_LEVELS ? shares_names[l] : "?";
}

int shares_level_parse(const char *s)
{
    for (int i = 0; s && i < SHARES_LEVELS; i++)
        if (strcmp(s, shares_names[i]) == 0)
            return i;
    return -1;
}

/* The level named by s[0..len), or -1. */
static int shares_level_parse_n(const char *s, size_t len)
{
    for (int i = 0; i < SHARES_LEVELS; i++)
        if (strlen(shares_names[i]) == len && memcmp(s, shares_names[i], len) == 0)
            return i;
    return -1;
}

/* A name for an error message: up to 16 printable ASCII bytes of s[0..len). */
static const char *shares_quote(char out[17], const char *s, size_t len)
{
    size_t i = 0;
    for (; i < len && i < 16; i++)
        out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    out[i] = '\0';
    return out;
}

/* Parses s[0..len) as an optionally signed decimal integer within +-limit.
 * true with *v. */
static bool shares_number(const char *s, size_t len, bool sign_ok, int64_t limit, int64_t *v)
{
    bool neg = false;
    if (len > 0 && sign_ok && s[0] == '-') {
        neg = true;
        s++;
        len--;
    }
    if (len == 0 || len > 15)
        return false;
    int64_t x = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        x = x * 10 + (s[i] - '0');
    }
    if (x > limit)
        return false;
    *v = neg ? -x : x;
    return true;
}

/* The walk both parsers share: "level[:value]" items separated by commas.
 * bp: basis points (a bare level is 10000, values 1..10000, sum 10000);
 * otherwise amounts (a value required, non-zero, within +-limit). */
static int shares_parse_list(const char *text, bool bp, int64_t limit, shares *out, char *err,
                             size_t errlen)
{
    shares s;
    memset(&s, 0, sizeof(s));
    char q[17];
    if (text == NULL || *text == '\0') {
        snprintf(err, errlen, "fund shares are empty (want e.g. central:5000,provincial:5000)");
        return -1;
    }
    const char *p = text;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *colon = memchr(p, ':', len);
        size_t nlen = colon ? (size_t)(colon - p) : len;
        if (len == 0) {
            snprintf(err, errlen, "fund shares: an empty share (two commas, or one at an end)");
            return -1;
        }
        int level = shares_level_parse_n(p, nlen);
        if (level < 0) {
            snprintf(err, errlen,
                     "fund shares: \"%s\" is not a fund level (central, provincial, municipal, "
                     "district)",
                     shares_quote(q, p, nlen));
            return -1;
        }
        for (int i = 0; i < s.n; i++)
            if ((int)s.level[i] == level) {
                snprintf(err, errlen, "fund shares: %s appears twice", shares_names[level]);
                return -1;
            }
        if (s.n == SHARES_LEVELS) { /* unreachable: 4 distinct levels at most */
            snprintf(err, errlen, "fund shares: more than %d shares", SHARES_LEVELS);
            return -1;
        }
        int64_t v;
        if (colon == NULL) {
            if (!bp) {
                snprintf(err, errlen, "fund shares: %s has no amount", shares_names[level]);
                return -1;
            }
            v = SHARES_BP;
        } else if (!shares_number(colon + 1, len - nlen - 1, !bp, bp ? SHARES_BP : limit, &v) ||
                   v == 0) {
            snprintf(err, errlen,
                     bp ? "fund shares: the share of %s, \"%s\", is not a whole number of basis "
                          "points 1..10000"
                        : "fund shares: the amount of %s, \"%s\", is not a non-zero whole "
                          "number of fen",
                     shares_names[level], shares_quote(q, colon + 1, len - nlen - 1));
            return -1;
        }
        s.level[s.n] = (shares_level)level;
        s.v[s.n] = v;
        s.n++;
        if (end == NULL)
            break;
        p = end + 1;
    }
    if (bp && shares_sum(&s) != SHARES_BP) {
        snprintf(err, errlen,
                 "fund shares sum to %lld basis points, not 10000 (%s; a single source is "
                 "one share of 10000)",
                 (long long)shares_sum(&s), shares_quote(q, text, strlen(text)));
        return -1;
    }
    *out = s;
    return 0;
}

int shares_parse(const char *text, shares *out, char *err, size_t errlen)
{
    return shares_parse_list(text, true, SHARES_BP, out, err, errlen);
}

int shares_parse_amounts(const char *text, int64_t limit, shares *out, char *err, size_t errlen)
{
    return shares_parse_list(text, false, limit, out, err, errlen);
}

char *shares_format(const shares *s, char *out, size_t len)
{
    size_t at = 0;
    if (len == 0)
        return out;
    out[0] = '\0';
    for (int i = 0; i < s->n && at < len; i++) {
        int n = snprintf(out + at, len - at, "%s%s:%lld", i ? "," : "",
                         shares_level_name(s->level[i]), (long long)s->v[i]);
        if (n < 0)
            break;
        at += (size_t)n;
    }
    return out;
}

int64_t shares_sum(const shares *s)
{
    int64_t sum = 0;
    for (int i = 0; i < s->n; i++)
        sum += s->v[i];
    return sum;
}

void shares_single(shares *s, shares_level l, int64_t v)
{
    memset(s, 0, sizeof(*s));
    s->n = 1;
    s->level[0] = l;
    s->v[0] = v;
}

void shares_drop_zero(shares *s)
{
    int k = 0;
    for (int i = 0; i < s->n; i++)
        if (s->v[i] != 0) {
            s->level[k] = s->level[i];
            s->v[k] = s->v[i];
            k++;
        }
    s->n = k;
}

int shares_split(int64_t amount, const shares *w, shares *out, char *err, size_t errlen)
{
    if (w->n < 1 || w->n > SHARES_LEVELS) {
        snprintf(err, errlen, "no fund shares to split %lld fen by", (long long)amount);
        return -1;
    }
    for (int i = 0; i < w->n; i++)
        if (w->v[i] < 0) {
            snprintf(err, errlen, "the weight of %s is negative", shares_level_name(w->level[i]));
            return -1;
        }
    int64_t v[SHARES_LEVELS];
    if (shares_split_weights(amount, w->v, w->n, v, err, errlen) < 0)
        return -1;
    memset(out, 0, sizeof(*out));
    out->n = w->n;
    for (int i = 0; i < w->n; i++) {
        out->level[i] = w->level[i];
        out->v[i] = v[i];
    }
    return 0;
}

int shares_split_weights(int64_t amount, const int64_t *w, int n, int64_t *out, char *err,
                         size_t errlen)
{
    if (n < 1 || n > SHARES_LEVELS) {
        snprintf(err, errlen, "no fund shares to split %lld fen by", (long long)amount);
        return -1;
    }
    if (amount == INT64_MIN) {
        snprintf(err, errlen, "amount out of range");
        return -1;
    }
    unsigned __int128 total = 0;
    for (int i = 0; i < n; i++) {
        if (w[i] < 0) {
            snprintf(err, errlen, "a fund weight is negative");
            return -1;
        }
        total += (unsigned __int128)w[i];
    }
    if (total == 0 || total > (unsigned __int128)INT64_MAX) {
        snprintf(err, errlen, "the fund weights sum to %s", total == 0 ? "zero" : "too much");
        return -1;
    }
    uint64_t a = amount < 0 ? (uint64_t)(-amount) : (uint64_t)amount;
    unsigned __int128 rem[SHARES_LEVELS];
    uint64_t given = 0;
    for (int i = 0; i < n; i++) {
        unsigned __int128 x = (unsigned __int128)a * (uint64_t)w[i];
        out[i] = (int64_t)(x / total);
        rem[i] = x % total;
        given += (uint64_t)out[i];
    }
    /* the odd fen: fewer than n of them, one each by largest remainder,
     * ties to the share listed first */
    for (uint64_t left = a - given; left > 0; left--) {
        int best = -1;
        for (int i = 0; i < n; i++)
            if (w[i] > 0 && (best < 0 || rem[i] > rem[best]))
                best = i;
        out[best]++;
        rem[best] = 0; /* one fen each at most */
    }
    if (amount < 0)
        for (int i = 0; i < n; i++)
            out[i] = -out[i];
    return 0;
}
