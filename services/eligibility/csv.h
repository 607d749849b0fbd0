/*
 * csv: splits one line of a CSV (RFC 4180 quoting: "a,b" and "" inside
 * quotes) or TSV (no quoting) file into fields, in place. The parsers of
 * every file this service takes from outside (the catalogue, person and
 * provider lists, civil-affairs feeds) start here, and the fuzz target
 * tests/fuzz/fuzz_csv.c drives them all. Pure; any thread.
 */
#ifndef ELIG_CSV_H
#define ELIG_CSV_H

#include <stddef.h>

/* Splits line (NUL-terminated, modified in place; a trailing CR/LF is
 * dropped) at delim into at most max fields. Returns the number of fields,
 * or -1 with err (an unterminated quote, text after a closing quote, more
 * than max fields, a NUL byte or a line break inside a field). */
int csv_split(char *line, char delim, char **fields, int max, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Reads the next line of buf (len bytes) from *pos into line (room linelen),
 * NUL-terminated. Returns its length, -1 at the end, -2 when the line is
 * longer than linelen - 1 (it is skipped) or holds a NUL byte. */
int csv_next_line(const char *buf, size_t len, size_t *pos, char *line, size_t linelen);

#endif
