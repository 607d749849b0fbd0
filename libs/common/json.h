/*
 * json: a strict parser for the flat JSON objects of request bodies (the
 * terminal API's, the operator API's).
 *
 * The caller describes the object it accepts as a table of fields (name,
 * type, required, bounds); anything else is refused with a message that
 * names the field: not JSON, an unknown field, a duplicated field, a
 * missing one, a wrong type, out of range. Pure and bounded: no
 * allocation, so it can be fuzzed directly.
 */
#ifndef ONECARD_JSON_H
#define ONECARD_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { JSON_STRING, JSON_INT, JSON_STRING_ARRAY } json_type;

#define JSON_ARRAY_MAX 8
#define JSON_STR_MAX   65

typedef struct json_field {
    const char *name;
    json_type type;
    bool required;
    int64_t min, max; /* JSON_INT: value bounds; strings: length bounds in bytes */
    /* results */
    bool seen;
    /* JSON_STRING: a longer string (a reason, a name) goes to ext, extlen
     * bytes with the NUL, when ext is set; else to str */
    char *ext;
    size_t extlen;
    char str[JSON_STR_MAX];                 /* JSON_STRING, NUL-terminated */
    int64_t num;                            /* JSON_INT */
    char arr[JSON_ARRAY_MAX][JSON_STR_MAX]; /* JSON_STRING_ARRAY */
    int narr;
} json_field;

/* Parses one object from buf (len bytes) into fields. Returns 0, or -1 with
 * a message naming the field at fault in err. */
int json_parse_object(const char *buf, size_t len, json_field *fields, int nfields, char *err,
                      size_t errlen) __attribute__((warn_unused_result));

#endif
