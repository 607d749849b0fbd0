/*
 * Unit tests of log: JSON escaping (a log line must stay one valid JSON
 * object whatever a terminal sends) and level names.
 */
#include "check.h"
#include "common/log.h"

#include <string.h>

static const struct {
    const char *in;
    size_t outlen;
    const char *want;
} cases[] = {
    {"plain", 64, "plain"},
    {"a\"b", 64, "a\\\"b"},
    {"back\\slash", 64, "back\\\\slash"},
    {"line\nbreak\r\t", 64, "line\\nbreak\\r\\t"},
    {"\x01\x1f", 64, "\\u0001\\u001f"},
    {"卡号", 64, "卡号"},
    {"truncated", 5, "trun"},
    {"ab\"", 4, "ab"}, /* never half an escape */
    {"", 8, ""},
};

int main(void)
{
    char out[64], err[128];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        log_json_escape(out, cases[i].outlen, cases[i].in);
        CHECK(strcmp(out, cases[i].want) == 0, "row %zu: got \"%s\" want \"%s\"", i, out,
              cases[i].want);
    }
    CHECK(log_setup("t", "debug", err, sizeof(err)) == 0 && log_min_level == LOG_DEBUG, "debug");
    CHECK(log_setup("t", "WARN", err, sizeof(err)) == 0 && log_min_level == LOG_WARN, "WARN");
    CHECK(log_setup("t", "loud", err, sizeof(err)) < 0 && strstr(err, "loud"), "err %s", err);
    return CHECK_DONE();
}
