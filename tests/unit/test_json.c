/*
 * Unit tests of the gateway's strict JSON body parser (json_parse_object)
 * with the swipe's field table: one row per body, with the message it must
 * be refused with (NULL when accepted).
 */
#include "check.h"
#include "common/money.h"
#include "common/json.h"

#include <string.h>

static void swipe_table(json_field *f)
{
    memset(f, 0, 5 * sizeof(*f));
    f[0] = (json_field){
        .name = "request_id", .type = JSON_STRING, .required = true, .min = 1, .max = 64};
    f[1] = (json_field){
        .name = "card_no", .type = JSON_STRING, .required = true, .min = 16, .max = 19};
    f[2] = (json_field){.name = "pin", .type = JSON_STRING, .required = true, .min = 6, .max = 6};
    f[3] = (json_field){.name = "tags", .type = JSON_STRING_ARRAY, .min = 1, .max = 8};
    f[4] = (json_field){
        .name = "amount_fen", .type = JSON_INT, .required = true, .min = 1, .max = MONEY_MAX_FEN};
}

#define OK "\"card_no\":\"6222000000000001234\",\"pin\":\"123456\""

static const struct {
    const char *body;
    const char *err; /* a part of the message; NULL: accepted */
} rows[] = {
    {"{\"request_id\":\"r\"," OK ",\"amount_fen\":1}", NULL},
    {" {\"request_id\" : \"r\" ,\n" OK ", \"amount_fen\":100000000000,\"tags\":[]}\r\n", NULL},
    {"{\"request_id\":\"\\u00e9\\/\"," OK ",\"amount_fen\":1,\"tags\":[\"a\",\"b\"]}", NULL},
    {"", "not a JSON object"},
    {"[]", "not a JSON object"},
    {"{\"request_id\":\"r\"," OK "}", "\"amount_fen\" is missing"},
    {"{\"request_id\":\"r\"," OK ",\"amount_fen\":1,\"x\":1}", "unknown field \"x\""},
    {"{\"request_id\":\"r\",\"request_id\":\"s\"," OK ",\"amount_fen\":1}", "appears twice"},
    {"{\"request_id\":1," OK ",\"amount_fen\":1}", "\"request_id\" must be a string"},
    {"{\"request_id\":\"\"," OK ",\"amount_fen\":1}", "1 to 64 characters"},
    {"{\"request_id\":\"r\"," OK ",\"amount_fen\":0}", "between 1 and"},
    {"{\"request_id\":\"r\"," OK ",\"amount_fen\":100000000001}", "between 1 and"},
    {"{\"request_id\":\"r\"," OK ",\"amount_fen\":99999999999999999999}", "between 1 and"},
    {"{\"request_id\":\"r\"," OK ",\"amount_fen\":-9223372036854775808}", "between 1 and"},
    {"{\"request_id\":\"r\"," OK ",\"amount_fen\":1.5}", "must be an integer"},
    {"{\"request_id\":\"r\"," OK ",\"amount_fen\":01}", "must be an integer"},
    {"{\"request_id\":\"r\"," OK ",\"amount_fen\":\"1\"}", "must be an integer"},
    {"{\"request_id\":\"\\u0000\"," OK ",\"amount_fen\":1}", "not a valid JSON string"},
    {"{\"request_id\":\"\\ud800\"," OK ",\"amount_fen\":1}", "not a valid JSON string"},
    /* strings are UTF-8 (RFC 8259): 康复 is taken; a stray continuation
     * byte, an overlong form, a surrogate, a code point over U+10FFFF and a
     * cut sequence are not */
    {"{\"request_id\":\"\xe5\xba\xb7\xe5\xa4\x8d\"," OK ",\"amount_fen\":1}", NULL},
    {"{\"request_id\":\"\x80\"," OK ",\"amount_fen\":1}", "\"request_id\" is not valid UTF-8"},
    {"{\"request_id\":\"\xc0\xaf\"," OK ",\"amount_fen\":1}", "is not valid UTF-8"},
    {"{\"request_id\":\"\xe0\x80\xaf\"," OK ",\"amount_fen\":1}", "is not valid UTF-8"},
    {"{\"request_id\":\"\xed\xa0\x80\"," OK ",\"amount_fen\":1}", "is not valid UTF-8"},
    {"{\"request_id\":\"\xf4\x90\x80\x80\"," OK ",\"amount_fen\":1}", "is not valid UTF-8"},
    {"{\"request_id\":\"\xe5\xba\"," OK ",\"amount_fen\":1}", "is not valid UTF-8"},
    {"{\"request_id\":\"r\"," OK ",\"amount_fen\":1,\"tags\":[\"\xff\"]}",
     "\"tags\" is not valid UTF-8"},
    {"{\"r\xffq\":\"r\"," OK ",\"amount_fen\":1}", "a field name is not valid UTF-8"},
    {"{\"request_id\":\"r\"," OK ",\"amount_fen\":1}x", "unexpected data"},
    {"{\"request_id\":\"r\"," OK ",\"amount_fen\":1", "not valid JSON"},
    {"{\"request_id\":\"r\"," OK ",\"amount_fen\":1,\"tags\":[\"a\",1]}", "array of strings"},
    {"{\"request_id\":\"r\"," OK ",\"amount_fen\":1,\"tags\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\","
     "\"7\",\"8\",\"9\"]}",
     "more than 8 elements"},
};

int main(void)
{
    json_field f[5];
    char err[256];
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        swipe_table(f);
        err[0] = '\0';
        int rc = json_parse_object(rows[i].body, strlen(rows[i].body), f, 5, err, sizeof(err));
        if (rows[i].err == NULL)
            CHECK(rc == 0, "row %zu: refused: %s", i, err);
        else
            CHECK(rc < 0 && strstr(err, rows[i].err) != NULL, "row %zu: rc %d, \"%s\"", i, rc, err);
    }

    /* what an accepted body holds */
    static const char body[] = "{\"request_id\":\"a\\\"b\\u4e2d\"," OK
                               ",\"amount_fen\":12000,\"tags\":[\"kind\",\"on-time\"]}";
    swipe_table(f);
    CHECK(json_parse_object(body, sizeof(body) - 1, f, 5, err, sizeof(err)) == 0, "%s", err);
    CHECK(strcmp(f[0].str, "a\"b\xe4\xb8\xad") == 0, "escapes decoded: %s", f[0].str);
    CHECK(f[4].num == 12000 && f[3].narr == 2 && strcmp(f[3].arr[1], "on-time") == 0, "values");
    /* the body is not NUL-terminated: nothing past len is read */
    CHECK(json_parse_object(body, sizeof(body) - 2, f, 5, err, sizeof(err)) < 0, "cut short");

    /* a longer string into a buffer of the caller's (ext): bounds in bytes */
    static const struct {
        const char *body;
        const char *want, *err;
    } longs[] = {
        {"{\"reason\":\"缺少诊断证明，请补交医院出具的诊断证明原件扫描件\"}",
         "缺少诊断证明，请补交医院出具的诊断证明原件扫描件", NULL},
        {"{\"reason\":\"\"}", NULL, "must be 1 to 200 characters"},
        {"{\"reason\":\"0123456789012345678901234567890123456789012345678901234567890123456789"
         "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567"
         "8901234567890123456789012345678901234567890123\"}",
         NULL, "must be 1 to 200 characters"},
    };
    for (size_t i = 0; i < sizeof(longs) / sizeof(longs[0]); i++) {
        char reason[256];
        json_field g[] = {{.name = "reason",
                           .type = JSON_STRING,
                           .required = true,
                           .min = 1,
                           .max = 200,
                           .ext = reason,
                           .extlen = sizeof(reason)}};
        int rc = json_parse_object(longs[i].body, strlen(longs[i].body), g, 1, err, sizeof(err));
        if (longs[i].err == NULL)
            CHECK(rc == 0 && strcmp(reason, longs[i].want) == 0, "long %zu: %s", i,
                  rc == 0 ? reason : err);
        else
            CHECK(rc < 0 && strstr(err, longs[i].err) != NULL, "long %zu: rc %d, \"%s\"", i, rc,
                  err);
    }
    return CHECK_DONE();
}
