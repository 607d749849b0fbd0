/*
 * jsonw: the JSON writer. See jsonw.h.
 */
#include "jsonw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jsonw_init(jsonw *w)
{
    memset(w, 0, sizeof(*w));
    w->first[0] = true;
}

void jsonw_free(jsonw *w)
{
    free(w->buf);
    memset(w, 0, sizeof(*w));
}

static void jsonw_put(jsonw *w, const char *s, size_t n)
{
    if (w->failed)
        return;
    if (w->len + n + 1 > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap < w->len + n + 1)
            cap *= 2;
        char *b = realloc(w->buf, cap);
        if (b == NULL) {
            w->failed = true;
            return;
        }
        w->buf = b;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

/* The length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t jsonw_utf8(const unsigned char *s, size_t n)
{
    if (s[0] < 0x80)
        return 1;
    size_t len = s[0] >= 0xC2 && s[0] <= 0xDF   ? 2
                 : s[0] >= 0xE0 && s[0] <= 0xEF ? 3
                 : s[0] >= 0xF0 && s[0] <= 0xF4 ? 4
                                                : 0;
    if (len == 0 || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] > 0x9F) ||
        (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] > 0x8F))
        return 0; /* overlong, a surrogate, beyond U+10FFFF */
    return len;
}

static void jsonw_quoted(jsonw *w, const char *v, size_t n)
{
    const unsigned char *s = (const unsigned char *)v;
    jsonw_put(w, "\"", 1);
    size_t i = 0, run = 0; /* run: bytes at s+i-run not written yet */
    while (i < n) {
        const char *esc = NULL;
        char u[8];
        size_t k = jsonw_utf8(s + i, n - i);
        if (k == 1 && (s[i] == '"' || s[i] == '\\'))
            esc = s[i] == '"' ? "\\\"" : "\\\\";
        else if (k == 1 && s[i] < 0x20) {
            snprintf(u, sizeof(u), "\\u%04x", s[i]);
            esc = u;
        } else if (k == 0)
            esc = "\xEF\xBF\xBD"; /* U+FFFD */
        if (esc == NULL) {
            i += k;
            run += k;
            continue;
        }
        jsonw_put(w, (const char *)s + i - run, run);
        jsonw_put(w, esc, strlen(esc));
        i += k ? k : 1;
        run = 0;
    }
    jsonw_put(w, (const char *)s + i - run, run);
    jsonw_put(w, "\"", 1);
}

/* The comma and the key before a value. */
static void jsonw_member(jsonw *w, const char *key)
{
    if (w->failed)
        return;
    if (w->depth == 0 && !w->first[0]) {
        w->failed = true; /* a second top value */
        return;
    }
    if (!w->first[w->depth])
        jsonw_put(w, ",", 1);
    w->first[w->depth] = false;
    bool in_obj = w->depth > 0 && w->close[w->depth] == '}';
    if (in_obj != (key != NULL)) {
        w->failed = true; /* a member without a key, or an element with one */
        return;
    }
    if (key) {
        jsonw_quoted(w, key, strlen(key));
        jsonw_put(w, ":", 1);
    }
}

static void jsonw_open(jsonw *w, const char *key, char open, char close)
{
    jsonw_member(w, key);
    if (w->failed)
        return;
    if (w->depth == JSONW_DEPTH) {
        w->failed = true;
        return;
    }
    jsonw_put(w, &open, 1);
    w->depth++;
    w->first[w->depth] = true;
    w->close[w->depth] = close;
}

void jsonw_obj(jsonw *w, const char *key)
{
    jsonw_open(w, key, '{', '}');
}

void jsonw_arr(jsonw *w, const char *key)
{
    jsonw_open(w, key, '[', ']');
}

void jsonw_end(jsonw *w)
{
    if (w->failed)
        return;
    if (w->depth == 0) {
        w->failed = true;
        return;
    }
    jsonw_put(w, &w->close[w->depth], 1);
    w->depth--;
}

void jsonw_strn(jsonw *w, const char *key, const char *v, size_t n)
{
    jsonw_member(w, key);
    if (!w->failed)
        jsonw_quoted(w, v, n);
}

void jsonw_str(jsonw *w, const char *key, const char *v)
{
    if (v == NULL)
        jsonw_null(w, key);
    else
        jsonw_strn(w, key, v, strlen(v));
}

void jsonw_int(jsonw *w, const char *key, int64_t v)
{
    char b[24];
    jsonw_member(w, key);
    jsonw_put(w, b, (size_t)snprintf(b, sizeof(b), "%lld", (long long)v));
}

void jsonw_bool(jsonw *w, const char *key, bool v)
{
    jsonw_member(w, key);
    jsonw_put(w, v ? "true" : "false", v ? 4 : 5);
}

void jsonw_null(jsonw *w, const char *key)
{
    jsonw_member(w, key);
    jsonw_put(w, "null", 4);
}

const char *jsonw_done(jsonw *w)
{
    if (w->failed || w->depth != 0 || w->first[0] || w->buf == NULL)
        return NULL;
    return w->buf;
}
