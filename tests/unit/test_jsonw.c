/*
 * test_jsonw: the JSON writer (libs/common/jsonw.c): nesting and commas,
 * escapes, invalid UTF-8 replaced, misuse marks the writer failed; and
 * every text it writes is read back by the strict parser (json.h).
 */
#include "check.h"
#include "common/json.h"
#include "common/jsonw.h"

#include <string.h>

static void test_strings(void)
{
    static const struct {
        const char *in;
        size_t n; /* 0: strlen */
        const char *want;
    } rows[] = {
        {"plain", 0, "{\"s\":\"plain\"}"},
        {"", 0, "{\"s\":\"\"}"},
        {"a\"b\\c", 0, "{\"s\":\"a\\\"b\\\\c\"}"},
        {"tab\tnl\n", 0, "{\"s\":\"tab\\u0009nl\\u000a\"}"},
        {"肢体康复", 0, "{\"s\":\"肢体康复\"}"},
        {"\xff", 0, "{\"s\":\"\xEF\xBF\xBD\"}"},                                 /* not UTF-8 */
        {"a\xE8\x82", 0, "{\"s\":\"a\xEF\xBF\xBD\xEF\xBF\xBD\"}"},               /* cut short */
        {"\xC0\xAF", 0, "{\"s\":\"\xEF\xBF\xBD\xEF\xBF\xBD\"}"},                 /* overlong */
        {"\xED\xA0\x80", 0, "{\"s\":\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"}"}, /* surrogate */
        {"nul\0in", 6, "{\"s\":\"nul\\u0000in\"}"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        jsonw w;
        jsonw_init(&w);
        jsonw_obj(&w, NULL);
        jsonw_strn(&w, "s", rows[i].in, rows[i].n ? rows[i].n : strlen(rows[i].in));
        jsonw_end(&w);
        const char *out = jsonw_done(&w);
        CHECK(out && strcmp(out, rows[i].want) == 0, "row %zu: %s", i, out ? out : "(failed)");
        /* the strict parser reads it back (it refuses an escaped NUL by design) */
        if (rows[i].n != 0) {
            jsonw_free(&w);
            continue;
        }
        json_field f[] = {{.name = "s", .type = JSON_STRING, .required = true, .max = 64}};
        char err[128];
        CHECK(out && json_parse_object(out, strlen(out), f, 1, err, sizeof(err)) == 0,
              "row %zu: not read back: %s", i, err);
        jsonw_free(&w);
    }
}

static void test_nesting(void)
{
    jsonw w;
    jsonw_init(&w);
    jsonw_obj(&w, NULL);
    jsonw_str(&w, "id", "AP-1");
    jsonw_int(&w, "fen", -9007199254740993LL);
    jsonw_bool(&w, "t", true);
    jsonw_null(&w, "n");
    jsonw_str(&w, "z", NULL);
    jsonw_arr(&w, "items");
    jsonw_str(&w, NULL, "R02-AUTISM");
    jsonw_obj(&w, NULL);
    jsonw_int(&w, "k", 1);
    jsonw_end(&w);
    jsonw_arr(&w, NULL);
    jsonw_end(&w);
    jsonw_end(&w);
    jsonw_obj(&w, "empty");
    jsonw_end(&w);
    jsonw_end(&w);
    const char *out = jsonw_done(&w);
    const char *want =
        "{\"id\":\"AP-1\",\"fen\":-9007199254740993,\"t\":true,\"n\":null,\"z\":null,"
        "\"items\":[\"R02-AUTISM\",{\"k\":1},[]],\"empty\":{}}";
    CHECK(out && strcmp(out, want) == 0, "%s", out ? out : "(failed)");
    jsonw_free(&w);
}

static void test_misuse(void)
{
    static const struct {
        const char *what;
        int steps; /* a script: o=obj a=arr e=end s=str with key k=str without key */
        const char *script;
    } rows[] = {
        {"nothing written", 0, ""},
        {"left open", 1, "o"},
        {"closed twice", 3, "oee"},
        {"a member without a key", 2, "ok"},
        {"an element with a key", 2, "as"},
        {"two top values", 4, "oeoe"},
        {"too deep", 17, "aaaaaaaaaaaaaaaaa"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        jsonw w;
        jsonw_init(&w);
        for (int k = 0; k < rows[i].steps; k++) {
            char c = rows[i].script[k];
            bool in_obj = w.depth > 0 && w.close[w.depth] == '}';
            const char *key = in_obj ? "x" : NULL;
            if (c == 'o')
                jsonw_obj(&w, key);
            else if (c == 'a')
                jsonw_arr(&w, key);
            else if (c == 'e')
                jsonw_end(&w);
            else if (c == 's')
                jsonw_str(&w, "x", "v");
            else
                jsonw_str(&w, NULL, "v");
        }
        CHECK(jsonw_done(&w) == NULL, "%s: accepted", rows[i].what);
        jsonw_free(&w);
    }
}

int main(void)
{
    test_strings();
    test_nesting();
    test_misuse();
    return CHECK_DONE();
}
