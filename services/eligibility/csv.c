/*
 * csv: the CSV record reader and the TSV line splitter. See csv.h.
 *
 * csv_read copies each field into the caller's store as it goes, so the
 * buffer stays untouched (the importers keep the whole file and read it
 * once); a fault moves the reader to the line after the bad record's first
 * and returns, leaving what was copied of it behind.
 */
#include "csv.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

void csv_reader_init(csv_reader *r, const char *buf, size_t len)
{
    r->buf = buf;
    r->len = len;
    r->pos = len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    r->line = 1;
}

/* Moves the reader from the start of a bad record to the line after its
 * first: where reading goes on. */
static void csv_skip_line(csv_reader *r)
{
    const char *nl = memchr(r->buf + r->pos, '\n', r->len - r->pos);
    r->pos = nl ? (size_t)(nl - r->buf) + 1 : r->len;
    r->line++;
}

/* The reason of a bad record into err, with the line of the fault when it
 * is not the record's first. Returns -1. */
__attribute__((format(printf, 5, 6))) static int csv_fault(char *err, size_t errlen, int at_line,
                                                           int first_line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    if (at_line != first_line && n >= 0 && (size_t)n < errlen)
        snprintf(err + n, errlen - (size_t)n, " (line %d)", at_line);
    return -1;
}

/* Whether buf[i] ends a record: LF, CRLF, or a CR that is the last byte. */
static bool csv_at_eol(const char *b, size_t len, size_t i)
{
    return b[i] == '\n' || (b[i] == '\r' && (i + 1 == len || b[i + 1] == '\n'));
}

int csv_read(csv_reader *r, char *store, size_t storelen, char **fields, int max, int *line,
             char *err, size_t errlen)
{
    const char *b = r->buf;
    size_t len = r->len, i = r->pos, w = 0;
    while (i < len && csv_at_eol(b, len, i)) { /* blank lines: counted, never records */
        i += b[i] == '\r' ? 2 : 1;
        r->line++;
    }
    if (i > len)
        i = len; /* a lone CR at the very end */
    r->pos = i;
    *line = r->line;
    if (i == len)
        return 0;
    int cur = r->line, nf = 0;
    for (;;) {
        if (w >= storelen) {
            csv_skip_line(r);
            return csv_fault(err, errlen, cur, *line, "record longer than %zu bytes", storelen);
        }
        if (nf < max)
            fields[nf] = store + w;
        nf++;
        if (i < len && b[i] == '"') {
            int open_line = cur;
            for (i++;;) {
                if (i == len) {
                    csv_skip_line(r);
                    return csv_fault(err, errlen, open_line, *line, "field %d: unterminated quote",
                                     nf);
                }
                char c = b[i];
                if (c == '"' && (i + 1 == len || b[i + 1] != '"')) {
                    i++;
                    break;
                }
                if (c == '\0') {
                    csv_skip_line(r);
                    return csv_fault(err, errlen, cur, *line, "field %d: NUL byte", nf);
                }
                if (w + 1 >= storelen) {
                    csv_skip_line(r);
                    return csv_fault(err, errlen, open_line, *line,
                                     "field %d: a quoted field longer than %zu bytes, or its "
                                     "closing quote is missing",
                                     nf, storelen);
                }
                if (c == '\n')
                    cur++;
                store[w++] = c;
                i += c == '"' ? 2 : 1;
            }
            if (i < len && b[i] != ',' && !csv_at_eol(b, len, i)) {
                csv_skip_line(r);
                if (open_line != cur) /* most likely a stray quote that a later one "closed" */
                    return csv_fault(err, errlen, open_line, *line,
                                     "field %d: unterminated quote, or text after its closing "
                                     "quote on line %d",
                                     nf, cur);
                return csv_fault(err, errlen, cur, *line, "field %d: text after the closing quote",
                                 nf);
            }
        } else {
            for (; i < len && b[i] != ',' && !csv_at_eol(b, len, i); i++) {
                if (b[i] == '"' || b[i] == '\r' || b[i] == '\0') {
                    const char *what = b[i] == '"'    ? "stray quote"
                                       : b[i] == '\r' ? "stray line break"
                                                      : "NUL byte";
                    csv_skip_line(r);
                    return csv_fault(err, errlen, cur, *line, "field %d: %s", nf, what);
                }
                if (w + 1 >= storelen) {
                    csv_skip_line(r);
                    return csv_fault(err, errlen, cur, *line, "record longer than %zu bytes",
                                     storelen);
                }
                store[w++] = b[i];
            }
        }
        store[w++] = '\0';
        if (i < len && b[i] == ',') {
            i++;
            continue;
        }
        if (i < len) { /* LF or CRLF */
            i += b[i] == '\r' && i + 1 < len ? 2 : 1;
            cur++;
        }
        r->pos = i;
        r->line = cur;
        if (nf > max) {
            snprintf(err, errlen, "more than %d fields", max);
            return -1;
        }
        return nf;
    }
}

int csv_tsv_split(char *line, char **fields, int max, char *err, size_t errlen)
{
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    int nf = 0;
    for (char *s = line;;) {
        if (nf >= max) {
            snprintf(err, errlen, "more than %d fields", max);
            return -1;
        }
        fields[nf++] = s;
        s += strcspn(s, "\t\r\n");
        if (*s == '\0')
            return nf;
        if (*s != '\t') {
            snprintf(err, errlen, "field %d: stray line break", nf);
            return -1;
        }
        *s++ = '\0';
    }
}

int csv_next_line(const char *buf, size_t len, size_t *pos, char *line, size_t linelen)
{
    if (*pos >= len)
        return -1;
    const char *s = buf + *pos;
    const char *nl = memchr(s, '\n', len - *pos);
    size_t l = nl ? (size_t)(nl - s) : len - *pos;
    *pos += l + (nl ? 1 : 0);
    if (l >= linelen || memchr(s, '\0', l) != NULL)
        return -2;
    memcpy(line, s, l);
    line[l] = '\0';
    return (int)l;
}
