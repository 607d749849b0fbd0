/*
 * test_request: the terminal API's bodies as the gateway reads them
 * (services/card-gateway/request.h): each kind's field table and the
 * checks beyond it. One row per body: the kind, the body, and either the
 * part of the 400 message it is refused with, or what it parses into.
 */
#include "check.h"
#include "request.h"

#include "common/money.h"

#include <stdio.h>
#include <string.h>

#define CARD "\"card_no\":\"6222000000000001234\",\"pin\":\"123456\""

static const struct {
    request_kind kind;
    const char *body;
    const char *err;              /* a part of the message; NULL: accepted */
    const char *request_id, *str; /* accepted: the request_id; card_no or swipe_id */
    int64_t num;                  /* accepted: amount_fen or score */
    int ntags;
} rows[] = {
    /* swipes */
    {REQUEST_SWIPE, "{\"request_id\":\"r1\"," CARD ",\"item_code\":\"F-REHAB\",\"amount_fen\":500}",
     NULL, "r1", "6222000000000001234", 500, 0},
    {REQUEST_SWIPE,
     "{\"request_id\":\"r1\"," CARD ",\"item_code\":\"F\",\"amount_fen\":100000000000}", NULL, "r1",
     "6222000000000001234", MONEY_MAX_FEN, 0},
    {REQUEST_SWIPE,
     "{\"request_id\":\"r1\"," CARD ",\"item_code\":\"F\",\"amount_fen\":100000000001}",
     "between 1 and", NULL, NULL, 0, 0},
    {REQUEST_SWIPE, "{\"request_id\":\"r1\"," CARD ",\"item_code\":\"F\",\"amount_fen\":0}",
     "between 1 and", NULL, NULL, 0, 0},
    {REQUEST_SWIPE, "{\"request_id\":\"r1\"," CARD ",\"amount_fen\":1}", "\"item_code\" is missing",
     NULL, NULL, 0, 0},
    {REQUEST_SWIPE, "{\"request_id\":\"r 1\"," CARD ",\"item_code\":\"F\",\"amount_fen\":1}",
     "field \"request_id\" must be printable ASCII without spaces", NULL, NULL, 0, 0},
    {REQUEST_SWIPE,
     "{\"request_id\":\"r1\",\"card_no\":\"6222000000000001235\",\"pin\":\"123456\","
     "\"item_code\":\"F\",\"amount_fen\":1}",
     "field \"card_no\" must be 16-19 digits with a valid Luhn check digit", NULL, NULL, 0, 0},
    {REQUEST_SWIPE,
     "{\"request_id\":\"r1\",\"card_no\":\"6222000000000001234\",\"pin\":\"12345a\","
     "\"item_code\":\"F\",\"amount_fen\":1}",
     "field \"pin\" must be 6 digits", NULL, NULL, 0, 0},
    {REQUEST_SWIPE, "{\"request_id\":\"r1\"," CARD ",\"item_code\":\"F\",\"amount_fen\":1,\"x\":1}",
     "unknown field \"x\"", NULL, NULL, 0, 0},
    /* reversals: request_id alone */
    {REQUEST_REVERSAL, "{\"request_id\":\"rv\"}", NULL, "rv", "", 0, 0},
    {REQUEST_REVERSAL, "{\"request_id\":\"rv\"," CARD "}", "unknown field \"card_no\"", NULL, NULL,
     0, 0},
    {REQUEST_REVERSAL, "{}", "\"request_id\" is missing", NULL, NULL, 0, 0},
    /* ratings */
    {REQUEST_RATING, "{\"request_id\":\"rt\",\"swipe_id\":\"abcd1234-00\",\"score\":5}", NULL, "rt",
     "abcd1234-00", 5, 0},
    {REQUEST_RATING,
     "{\"request_id\":\"rt\",\"swipe_id\":\"s\",\"score\":1,\"tags\":[\"clean\",\"on_time\"]}",
     NULL, "rt", "s", 1, 2},
    {REQUEST_RATING, "{\"request_id\":\"rt\",\"swipe_id\":\"s\",\"score\":6}", "between 1 and",
     NULL, NULL, 0, 0},
    {REQUEST_RATING, "{\"request_id\":\"rt\",\"score\":3}", "\"swipe_id\" is missing", NULL, NULL,
     0, 0},
    /* balance inquiries */
    {REQUEST_BALANCE, "{\"request_id\":\"b\"," CARD "}", NULL, "b", "6222000000000001234", 0, 0},
    {REQUEST_BALANCE, "{\"request_id\":\"b\",\"card_no\":\"6222000000000001234\"}",
     "\"pin\" is missing", NULL, NULL, 0, 0},
    {REQUEST_BALANCE, "{\"request_id\":\"b\"," CARD ",\"amount_fen\":1}",
     "unknown field \"amount_fen\"", NULL, NULL, 0, 0},
};

int main(void)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        request r;
        memset(&r, 0, sizeof(r));
        r.kind = rows[i].kind;
        r.body = rows[i].body;
        r.bodylen = strlen(rows[i].body);
        char err[256] = "";
        int rc = request_parse(&r, err, sizeof(err));
        if (rows[i].err) {
            CHECK(rc == -1 && strstr(err, rows[i].err) != NULL, "row %zu: \"%s\", wanted \"%s\"", i,
                  err, rows[i].err);
            continue;
        }
        CHECK(rc == 0, "row %zu refused: %s", i, err);
        CHECK(strcmp(r.request_id, rows[i].request_id) == 0, "row %zu request_id %s", i,
              r.request_id);
        const char *str = r.kind == REQUEST_RATING ? r.swipe_id : r.card_no;
        CHECK(strcmp(str, rows[i].str) == 0, "row %zu: %s", i, str);
        int64_t num = r.kind == REQUEST_RATING ? r.score : r.amount;
        CHECK(num == rows[i].num, "row %zu: %lld", i, (long long)num);
        CHECK(r.ntags == rows[i].ntags, "row %zu: %d tags", i, r.ntags);
    }
    /* the tables: request_id first, the swipe's amount bounded by MONEY_MAX_FEN */
    static const int nfields[] = {
        [REQUEST_SWIPE] = 5, [REQUEST_REVERSAL] = 1, [REQUEST_RATING] = 4, [REQUEST_BALANCE] = 3};
    for (int k = REQUEST_SWIPE; k <= REQUEST_BALANCE; k++) {
        json_field f[REQUEST_MAX_FIELDS];
        int nf = request_schema((request_kind)k, f);
        CHECK(nf == nfields[k] && strcmp(f[0].name, "request_id") == 0, "kind %d: %d fields", k,
              nf);
    }
    json_field f[REQUEST_MAX_FIELDS];
    request_schema(REQUEST_SWIPE, f);
    CHECK(strcmp(f[4].name, "amount_fen") == 0 && f[4].max == MONEY_MAX_FEN, "amount_fen bound");
    return CHECK_DONE();
}
