/*
 * csv: line splitting. See csv.h.
 */
#include "csv.h"

#include <stdio.h>
#include <string.h>

int csv_split(char *line, char delim, char **fields, int max, char *err, size_t errlen)
{
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    int nf = 0;
    char *r = line, *w = line;
    for (;;) {
        if (nf >= max) {
            snprintf(err, errlen, "more than %d fields", max);
            return -1;
        }
        fields[nf++] = w;
        if (delim == ',' && *r == '"') {
            r++;
            for (;;) {
                if (*r == '\0') {
                    snprintf(err, errlen, "field %d: unterminated quote", nf);
                    return -1;
                }
                if (*r == '"' && r[1] == '"') {
                    *w++ = '"';
                    r += 2;
                } else if (*r == '"') {
                    r++;
                    break;
                } else {
                    *w++ = *r++;
                }
            }
            if (*r != '\0' && *r != delim) {
                snprintf(err, errlen, "field %d: text after the closing quote", nf);
                return -1;
            }
        } else {
            while (*r != '\0' && *r != delim) {
                if (*r == '\r' || *r == '\n' || (delim == ',' && *r == '"')) {
                    snprintf(err, errlen, "field %d: stray %s", nf,
                             *r == '"' ? "quote" : "line break");
                    return -1;
                }
                *w++ = *r++;
            }
        }
        if (*r == '\0') {
            *w = '\0';
            return nf;
        }
        *w++ = '\0';
        r++;
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
