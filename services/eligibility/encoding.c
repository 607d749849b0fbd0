/*
 * encoding: the UTF-8 check and the GBK/GB18030 conversion of imported
 * files. See encoding.h.
 *
 * The UTF-8 check is the table of well-formed byte sequences of the
 * Unicode standard (chapter 3, table 3-7): the second byte's range depends
 * on the first, which is what rules out overlong forms, surrogates and
 * code points past U+10FFFF.
 */
#include "encoding.h"

#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int encoding_parse(const char *name, encoding_kind *kind, char *err, size_t errlen)
{
    if (name == NULL) {
        *kind = ENCODING_AUTO;
    } else if (strcasecmp(name, "utf-8") == 0) {
        *kind = ENCODING_UTF8;
    } else if (strcasecmp(name, "gbk") == 0 || strcasecmp(name, "gb18030") == 0) {
        *kind = ENCODING_GB18030;
    } else {
        snprintf(err, errlen, "--encoding \"%.32s\" is not utf-8, gbk or gb18030", name);
        return -1;
    }
    return 0;
}

size_t encoding_utf8_bad(const char *buf, size_t len)
{
    const unsigned char *s = (const unsigned char *)buf;
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t more;                   /* continuation bytes after the first */
        unsigned lo = 0x80, hi = 0xBF; /* the second byte's range */
        if (c >= 0xC2 && c <= 0xDF) {
            more = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            more = 2;
            lo = c == 0xE0 ? 0xA0 : 0x80;
            hi = c == 0xED ? 0x9F : 0xBF;
        } else if (c >= 0xF0 && c <= 0xF4) {
            more = 3;
            lo = c == 0xF0 ? 0x90 : 0x80;
            hi = c == 0xF4 ? 0x8F : 0xBF;
        } else {
            return i;
        }
        if (len - i - 1 < more || s[i + 1] < lo || s[i + 1] > hi)
            return i;
        for (size_t k = 2; k <= more; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return i;
        i += more + 1;
    }
    return len;
}

/* The line (from 1) that buf[off] is on. */
static int encoding_line(const char *buf, size_t off)
{
    int line = 1;
    const char *p = buf, *end = buf + off;
    while (p < end) {
        p = memchr(p, '\n', (size_t)(end - p));
        if (p == NULL)
            break;
        line++;
        p++;
    }
    return line;
}

/* Converts *buf from GB18030 to UTF-8 (encoding_to_utf8's contract). */
static int encoding_from_gb18030(char **buf, size_t *len, char *err, size_t errlen)
{
    iconv_t cd = iconv_open("UTF-8", "GB18030");
    if (cd == (iconv_t)-1) {
        snprintf(err, errlen, "no GB18030 converter (iconv): %s", strerror(errno));
        return -1;
    }
    /* a GB18030 character of n bytes is at most 3n/2 bytes of UTF-8 */
    size_t cap = *len + *len / 2 + 16, used = 0, inleft = *len;
    char *out = malloc(cap), *in = *buf;
    int rc = out ? 0 : -1;
    if (out == NULL)
        snprintf(err, errlen, "out of memory converting from GB18030");
    while (rc == 0 && inleft > 0) {
        char *o = out + used;
        size_t oleft = cap - used;
        size_t n = iconv(cd, &in, &inleft, &o, &oleft);
        used = (size_t)(o - out);
        if (n != (size_t)-1)
            break;
        if (errno == E2BIG) {
            char *bigger = realloc(out, cap * 2);
            if (bigger == NULL) {
                snprintf(err, errlen, "out of memory converting from GB18030");
                rc = -1;
            } else {
                out = bigger;
                cap *= 2;
            }
            continue;
        }
        snprintf(err, errlen, "line %d: byte 0x%02X is not GBK or GB18030%s",
                 encoding_line(*buf, (size_t)(in - *buf)), (unsigned char)*in,
                 errno == EINVAL ? " (the file ends inside a character)" : "");
        rc = -1;
    }
    iconv_close(cd);
    if (rc < 0) {
        free(out);
        return -1;
    }
    free(*buf);
    *buf = out;
    *len = used;
    return 0;
}

int encoding_to_utf8(char **buf, size_t *len, encoding_kind kind, char *err, size_t errlen)
{
    const unsigned char *s = (const unsigned char *)*buf;
    if (*len >= 2 && ((s[0] == 0xFF && s[1] == 0xFE) || (s[0] == 0xFE && s[1] == 0xFF))) {
        snprintf(err, errlen,
                 "line 1: the file is UTF-16 (it starts with a UTF-16 byte order mark); save it "
                 "as UTF-8 or GBK");
        return -1;
    }
    size_t bad = encoding_utf8_bad(*buf, *len);
    if (bad == *len)
        return 0;
    if (kind == ENCODING_GB18030)
        return encoding_from_gb18030(buf, len, err, errlen);
    int line = encoding_line(*buf, bad);
    if (kind == ENCODING_UTF8)
        snprintf(err, errlen, "line %d: byte 0x%02X is not UTF-8 (declared --encoding utf-8)", line,
                 s[bad]);
    else
        snprintf(err, errlen,
                 "line %d: byte 0x%02X is not UTF-8; if the file was saved as GBK (plain \"CSV\" "
                 "from Excel or WPS on a Chinese system), import it with --encoding gbk",
                 line, s[bad]);
    return -1;
}
