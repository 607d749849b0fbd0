/*
 * fuzz_json: the strict JSON body parser, json_parse_object(), on any
 * bytes, with the field tables of the terminal API's four bodies (swipe,
 * reversal, rating, balance inquiry; TERMINAL-API.md), as api.c builds
 * them.
 *
 * Beyond "no crash, no read outside the body, no undefined behaviour", it
 * checks the promises api.c relies on when the parse succeeds: every
 * required field was seen; a string field is NUL-terminated and as long
 * as its bounds allow; an integer is within its bounds; an array has at
 * most JSON_ARRAY_MAX elements, each within bounds. A failure always
 * leaves a NUL-terminated message.
 */
#include "fuzz.h"
#include "json.h"

#include <string.h>

#define FUZZ_NFIELDS 5

static void fuzz_table(int kind, json_field *f, int *nf)
{
    memset(f, 0, sizeof(json_field) * FUZZ_NFIELDS);
    int n = 0;
    f[n++] = (json_field){
        .name = "request_id", .type = JSON_STRING, .required = true, .min = 1, .max = 64};
    if (kind == 0) { /* POST /v1/swipes */
        f[n++] = (json_field){
            .name = "card_no", .type = JSON_STRING, .required = true, .min = 16, .max = 19};
        f[n++] =
            (json_field){.name = "pin", .type = JSON_STRING, .required = true, .min = 6, .max = 6};
        f[n++] = (json_field){
            .name = "item_code", .type = JSON_STRING, .required = true, .min = 1, .max = 64};
        f[n++] = (json_field){.name = "amount_fen",
                              .type = JSON_INT,
                              .required = true,
                              .min = 1,
                              .max = INT64_C(100000000000)};
    } else if (kind == 1) { /* POST /v1/ratings */
        f[n++] = (json_field){
            .name = "swipe_id", .type = JSON_STRING, .required = true, .min = 1, .max = 64};
        f[n++] =
            (json_field){.name = "score", .type = JSON_INT, .required = true, .min = 1, .max = 5};
        f[n++] = (json_field){
            .name = "tags", .type = JSON_STRING_ARRAY, .required = false, .min = 1, .max = 32};
    } else if (kind == 2) { /* POST /v1/balance-inquiries */
        f[n++] = (json_field){
            .name = "card_no", .type = JSON_STRING, .required = true, .min = 16, .max = 19};
        f[n++] =
            (json_field){.name = "pin", .type = JSON_STRING, .required = true, .min = 6, .max = 6};
    } /* kind 3, the reversal: request_id alone */
    *nf = n;
}

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
    json_field f[FUZZ_NFIELDS];
    char err[256];
    for (int kind = 0; kind < 4; kind++) {
        int nf;
        fuzz_table(kind, f, &nf);
        memset(err, 'x', sizeof(err));
        if (json_parse_object((const char *)data, size, f, nf, err, sizeof(err)) == 0) {
            fuzz_check_success(f, nf);
        } else {
            FUZZ_REQUIRE(memchr(err, '\0', sizeof(err)) != NULL && err[0] != '\0');
        }
    }
    return 0;
}
