/*
 * fuzz_json: the strict JSON body parser, json_parse_object(), on any
 * bytes, with the field tables of the terminal API's four bodies (swipe,
 * reversal, rating, balance inquiry; docs/terminal-api.md), the gateway's
 * own (request_schema).
 *
 * Beyond "no crash, no read outside the body, no undefined behaviour", it
 * checks the promises request.c relies on when the parse succeeds: every
 * required field was seen; a string field is NUL-terminated and as long
 * as its bounds allow; an integer is within its bounds; an array has at
 * most JSON_ARRAY_MAX elements, each within bounds. A failure always
 * leaves a NUL-terminated message.
 */
#include "fuzz.h"
#include "common/json.h"
#include "request.h"

#include <string.h>

static void fuzz_check_success(const json_field *f, int nf)
{
    for (int i = 0; i < nf; i++) {
        FUZZ_REQUIRE(f[i].seen || !f[i].required);
        if (!f[i].seen)
            continue;
        if (f[i].type == JSON_STRING) {
            const char *nul = memchr(f[i].str, '\0', sizeof(f[i].str));
            FUZZ_REQUIRE(nul != NULL);
            /* the length in bytes is within bounds; an escaped NUL (\u0000)
             * is refused, so strlen is that length */
            int64_t len = (int64_t)(nul - f[i].str);
            FUZZ_REQUIRE(len >= f[i].min && len <= f[i].max);
        } else if (f[i].type == JSON_INT) {
            FUZZ_REQUIRE(f[i].num >= f[i].min && f[i].num <= f[i].max);
        } else {
            FUZZ_REQUIRE(f[i].narr >= 0 && f[i].narr <= JSON_ARRAY_MAX);
            for (int k = 0; k < f[i].narr; k++) {
                const char *nul = memchr(f[i].arr[k], '\0', JSON_STR_MAX);
                FUZZ_REQUIRE(nul != NULL);
                int64_t len = (int64_t)(nul - f[i].arr[k]);
                FUZZ_REQUIRE(len >= f[i].min && len <= f[i].max);
            }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_field f[REQUEST_MAX_FIELDS];
    char err[256];
    for (int kind = REQUEST_SWIPE; kind <= REQUEST_BALANCE; kind++) {
        int nf = request_schema((request_kind)kind, f);
        memset(err, 'x', sizeof(err));
        if (json_parse_object((const char *)data, size, f, nf, err, sizeof(err)) == 0) {
            fuzz_check_success(f, nf);
        } else {
            FUZZ_REQUIRE(memchr(err, '\0', sizeof(err)) != NULL && err[0] != '\0');
        }
    }
    return 0;
}
