/*
 * json: a strict flat-object parser. See json.h.
 */
#include "json.h"

#include <stdio.h>
#include <string.h>

typedef struct json_cursor {
    const char *p, *end;
} json_cursor;

static void json_ws(json_cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int json_hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char ch = p[i];
        v <<= 4;
        if (ch >= '0' && ch <= '9')
            v |= (unsigned)(ch - '0');
        else if (ch >= 'a' && ch <= 'f')
            v |= (unsigned)(ch - 'a' + 10);
        else if (ch >= 'A' && ch <= 'F')
            v |= (unsigned)(ch - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* Reads a string into out (cap bytes incl. NUL). Returns its length, -1 if
 * malformed, -2 if longer than cap - 1. */
/* The length of the UTF-8 sequence at p (RFC 3629: the shortest form, no
 * surrogates, at most U+10FFFF), or 0 when the bytes are not one. */
static size_t json_utf8_len(const unsigned char *p, const unsigned char *end)
{
    size_t n = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
    if (n == 0 || p[0] > 0xf4 || (size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f) || /* overlong, surrogate */
        (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] > 0x8f))   /* overlong, > U+10FFFF */
        return 0;
    return n;
}

/* A JSON string into out: its length, -1 when it is not a JSON string, -2
 * when it does not fit, -3 when it is not valid UTF-8. */
static int json_string(json_cursor *c, char *out, size_t cap)
{
    if (c->p >= c->end || *c->p != '"')
        return -1;
    c->p++;
    size_t n = 0;
    bool too_long = false;
    while (c->p < c->end && *c->p != '"') {
        unsigned char ch = (unsigned char)*c->p++;
        char enc[4];
        size_t elen = 1;
        if (ch < 0x20)
            return -1;
        if (ch == '\\') {
            if (c->p >= c->end)
                return -1;
            char e = *c->p++;
            switch (e) {
            case '"':
                enc[0] = '"';
                break;
            case '\\':
                enc[0] = '\\';
                break;
            case '/':
                enc[0] = '/';
                break;
            case 'b':
                enc[0] = '\b';
                break;
            case 'f':
                enc[0] = '\f';
                break;
            case 'n':
                enc[0] = '\n';
                break;
            case 'r':
                enc[0] = '\r';
                break;
            case 't':
                enc[0] = '\t';
                break;
            case 'u': {
                unsigned u;
                if (c->end - c->p < 4 || json_hex4(c->p, &u) < 0 || u == 0)
                    return -1;
                c->p += 4;
                if (u >= 0xd800 && u <= 0xdfff)
                    return -1; /* no surrogates in the fields we accept */
                if (u < 0x80) {
                    enc[0] = (char)u;
                } else if (u < 0x800) {
                    enc[0] = (char)(0xc0 | (u >> 6));
                    enc[1] = (char)(0x80 | (u & 0x3f));
                    elen = 2;
                } else {
                    enc[0] = (char)(0xe0 | (u >> 12));
                    enc[1] = (char)(0x80 | ((u >> 6) & 0x3f));
                    enc[2] = (char)(0x80 | (u & 0x3f));
                    elen = 3;
                }
                break;
            }
            default:
                return -1;
            }
        } else if (ch < 0x80) {
            enc[0] = (char)ch;
        } else {
            const unsigned char *seq = (const unsigned char *)c->p - 1;
            elen = json_utf8_len(seq, (const unsigned char *)c->end);
            if (elen == 0)
                return -3;
            memcpy(enc, seq, elen);
            c->p += elen - 1;
        }
        if (n + elen < cap) {
            memcpy(out + n, enc, elen);
            n += elen;
        } else {
            too_long = true;
        }
    }
    if (c->p >= c->end)
        return -1;
    c->p++; /* closing quote */
    out[n < cap ? n : cap - 1] = '\0';
    return too_long ? -2 : (int)n;
}

/* Skips any JSON value (for the error path of an unknown field we still
 * report the field, so skipping is only needed to validate syntax). */
static int json_int(json_cursor *c, int64_t *out, bool *not_int)
{
    const char *s = c->p;
    bool neg = false;
    if (c->p < c->end && *c->p == '-') {
        neg = true;
        c->p++;
    }
    if (c->p >= c->end || *c->p < '0' || *c->p > '9')
        return -1;
    if (*c->p == '0' && c->p + 1 < c->end && c->p[1] >= '0' && c->p[1] <= '9')
        return -1;
    uint64_t v = 0;
    bool overflow = false;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        if (v > (UINT64_C(1) << 62))
            overflow = true;
        v = v * 10 + (uint64_t)(*c->p - '0');
        c->p++;
    }
    if (c->p < c->end && (*c->p == '.' || *c->p == 'e' || *c->p == 'E')) {
        *not_int = true;
        c->p++;
        while (c->p < c->end && strchr("0123456789+-eE.", *c->p))
            c->p++;
        return 0;
    }
    (void)s;
    if (overflow || v > (uint64_t)INT64_MAX) {
        *not_int = true; /* out of any range we accept */
        *out = neg ? INT64_MIN : INT64_MAX;
        return 0;
    }
    *out = neg ? -(int64_t)v : (int64_t)v;
    return 0;
}

/* Writes the message (a literal format with one %s) and fails. */
#define json_fail(err, errlen, fmt, name) (snprintf((err), (errlen), fmt, (name)), -1)

int json_parse_object(const char *buf, size_t len, json_field *fields, int nfields, char *err,
                      size_t errlen)
{
    json_cursor c = {buf, buf + len};
    for (int i = 0; i < nfields; i++) {
        fields[i].seen = false;
        fields[i].str[0] = '\0';
        if (fields[i].ext && fields[i].extlen > 0)
            fields[i].ext[0] = '\0';
        fields[i].num = 0;
        fields[i].narr = 0;
    }
    json_ws(&c);
    if (c.p >= c.end || *c.p != '{')
        return json_fail(err, errlen, "body is not a JSON object%s", "");
    c.p++;
    json_ws(&c);
    bool first = true;
    while (c.p < c.end && *c.p != '}') {
        if (!first) {
            if (*c.p != ',')
                return json_fail(err, errlen, "body is not valid JSON%s", "");
            c.p++;
            json_ws(&c);
        }
        first = false;
        char name[JSON_STR_MAX];
        int nl = json_string(&c, name, sizeof(name));
        if (nl == -1 || nl == -3)
            return json_fail(err, errlen, "body is not valid JSON%s",
                             nl == -3 ? ": a field name is not valid UTF-8" : "");
        json_field *f = NULL;
        for (int i = 0; nl >= 0 && i < nfields; i++)
            if (strcmp(fields[i].name, name) == 0)
                f = &fields[i];
        if (f == NULL)
            return json_fail(err, errlen, "unknown field \"%s\"", nl >= 0 ? name : "(long)");
        if (f->seen)
            return json_fail(err, errlen, "field \"%s\" appears twice", f->name);
        f->seen = true;
        json_ws(&c);
        if (c.p >= c.end || *c.p != ':')
            return json_fail(err, errlen, "body is not valid JSON%s", "");
        c.p++;
        json_ws(&c);
        if (c.p >= c.end)
            return json_fail(err, errlen, "body is not valid JSON%s", "");
        if (f->type == JSON_STRING) {
            if (*c.p != '"')
                return json_fail(err, errlen, "field \"%s\" must be a string", f->name);
            bool ext = f->ext && f->extlen > 0;
            int sl = json_string(&c, ext ? f->ext : f->str, ext ? f->extlen : sizeof(f->str));
            if (sl == -1)
                return json_fail(err, errlen, "field \"%s\" is not a valid JSON string", f->name);
            if (sl == -3)
                return json_fail(err, errlen, "field \"%s\" is not valid UTF-8", f->name);
            if (sl == -2 || sl > f->max || sl < f->min) {
                snprintf(err, errlen, "field \"%s\" must be %lld to %lld characters long", f->name,
                         (long long)f->min, (long long)f->max);
                return -1;
            }
        } else if (f->type == JSON_INT) {
            bool not_int = false;
            if (json_int(&c, &f->num, &not_int) < 0)
                return json_fail(err, errlen, "field \"%s\" must be an integer", f->name);
            if (not_int && (f->num == INT64_MAX || f->num == INT64_MIN)) {
                snprintf(err, errlen, "field \"%s\" must be between %lld and %lld", f->name,
                         (long long)f->min, (long long)f->max);
                return -1;
            }
            if (not_int)
                return json_fail(err, errlen, "field \"%s\" must be an integer", f->name);
            if (f->num < f->min || f->num > f->max) {
                snprintf(err, errlen, "field \"%s\" must be between %lld and %lld", f->name,
                         (long long)f->min, (long long)f->max);
                return -1;
            }
        } else {
            if (*c.p != '[')
                return json_fail(err, errlen, "field \"%s\" must be an array of strings", f->name);
            c.p++;
            json_ws(&c);
            while (c.p < c.end && *c.p != ']') {
                if (f->narr > 0) {
                    if (*c.p != ',')
                        return json_fail(err, errlen, "field \"%s\" is not a valid array", f->name);
                    c.p++;
                    json_ws(&c);
                }
                if (f->narr == JSON_ARRAY_MAX)
                    return json_fail(err, errlen, "field \"%s\" has more than 8 elements", f->name);
                if (c.p >= c.end || *c.p != '"')
                    return json_fail(err, errlen, "field \"%s\" must be an array of strings",
                                     f->name);
                int sl = json_string(&c, f->arr[f->narr], JSON_STR_MAX);
                if (sl == -1)
                    return json_fail(err, errlen, "field \"%s\" is not a valid array", f->name);
                if (sl == -3)
                    return json_fail(err, errlen, "field \"%s\" is not valid UTF-8", f->name);
                if (sl == -2 || sl > f->max || sl < f->min) {
                    snprintf(err, errlen,
                             "field \"%s\": each element must be %lld to %lld characters long",
                             f->name, (long long)f->min, (long long)f->max);
                    return -1;
                }
                f->narr++;
                json_ws(&c);
            }
            if (c.p >= c.end)
                return json_fail(err, errlen, "field \"%s\" is not a valid array", f->name);
            c.p++;
        }
        json_ws(&c);
    }
    if (c.p >= c.end)
        return json_fail(err, errlen, "body is not valid JSON%s", "");
    c.p++;
    json_ws(&c);
    if (c.p != c.end)
        return json_fail(err, errlen, "unexpected data after the JSON object%s", "");
    for (int i = 0; i < nfields; i++)
        if (fields[i].required && !fields[i].seen)
            return json_fail(err, errlen, "field \"%s\" is missing", fields[i].name);
    return 0;
}
