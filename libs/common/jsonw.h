/*
 * jsonw: a JSON writer for answers (the operator API's): objects, arrays,
 * strings, integers, booleans and null into a growing buffer, commas and
 * escapes taken care of. Strings are written as valid UTF-8 whatever they
 * hold: quotes, backslashes and control characters escaped, a byte that
 * is not part of a valid UTF-8 sequence replaced by U+FFFD. Money is an
 * integer (fen), never a float: there is no float writer.
 *
 * A key is given for a member of an object and NULL for an element of an
 * array (or the top value). Nesting is bounded (JSONW_DEPTH); an
 * allocation failure or a misuse (closing what is not open, too deep)
 * marks the writer failed, jsonw_done says so, and nothing after counts.
 */
#ifndef ONECARD_JSONW_H
#define ONECARD_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSONW_DEPTH 16

typedef struct jsonw {
    char *buf;
    size_t len, cap;
    int depth;
    bool first[JSONW_DEPTH + 1]; /* no member written yet at this depth */
    char close[JSONW_DEPTH + 1]; /* '}' or ']' */
    bool failed;
} jsonw;

void jsonw_init(jsonw *w);
void jsonw_free(jsonw *w);

void jsonw_obj(jsonw *w, const char *key);
void jsonw_arr(jsonw *w, const char *key);
void jsonw_end(jsonw *w); /* closes the innermost object or array */

void jsonw_str(jsonw *w, const char *key, const char *v); /* NULL: null */
void jsonw_strn(jsonw *w, const char *key, const char *v, size_t n);
void jsonw_int(jsonw *w, const char *key, int64_t v);
void jsonw_bool(jsonw *w, const char *key, bool v);
void jsonw_null(jsonw *w, const char *key);

/* The text (NUL-terminated) when the writer did not fail and everything
 * opened is closed; else NULL. */
const char *jsonw_done(jsonw *w);

#endif
