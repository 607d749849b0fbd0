/*
 * encoding: an imported file's text made UTF-8, or refused, before any of
 * it is parsed. Staff save their lists from Excel or WPS: "CSV UTF-8"
 * gives UTF-8 with a byte order mark, plain "CSV" on a Chinese Windows
 * gives GBK (code page 936), and both reach us. The rule, in this order:
 *
 *   1. valid UTF-8 (strict: no overlong forms, no surrogates, nothing past
 *      U+10FFFF; with a byte order mark or without) is taken as it is,
 *      whatever was declared: GBK text is practically never valid UTF-8
 *      past a few characters, and an ASCII file is the same in both;
 *   2. otherwise, declared gbk or gb18030 (one and the same here: GB18030
 *      is a superset of GBK and GB2312), it is converted with glibc's
 *      iconv; bytes that are not GB18030 either are refused naming their
 *      line;
 *   3. otherwise (not declared, or declared utf-8) it is refused naming the
 *      line of the first byte that is not UTF-8; undeclared, the message
 *      suggests --encoding gbk. Never guessed: a wrong guess would store
 *      garbled names that no later check could tell from real ones.
 *
 * A UTF-16 file (it starts with a UTF-16 byte order mark) is refused as
 * such. Lines are counted from 1 by LF, as csv.h counts them.
 *
 * Pure apart from iconv; any thread.
 */
#ifndef ELIG_ENCODING_H
#define ELIG_ENCODING_H

#include <stddef.h>

typedef enum encoding_kind {
    ENCODING_AUTO,   /* nothing declared: UTF-8 or refused */
    ENCODING_UTF8,   /* --encoding utf-8 */
    ENCODING_GB18030 /* --encoding gbk or gb18030 */
} encoding_kind;

/* The value of --encoding (NULL: none given) into *kind: utf-8, gbk or
 * gb18030, in any case. 0, or -1 with err. */
int encoding_parse(const char *name, encoding_kind *kind, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* The offset of the first byte of buf (len bytes) that does not belong to
 * a valid UTF-8 sequence, or len when there is none. */
size_t encoding_utf8_bad(const char *buf, size_t len);

/* Makes *buf (*len bytes, malloc'd) UTF-8 as the comment above says: 0,
 * with *buf and *len replaced by the converted text when it was converted
 * (the old buffer freed); or -1 with err ("line 3: ..."), *buf untouched
 * and still the caller's. */
int encoding_to_utf8(char **buf, size_t *len, encoding_kind kind, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
