/*
 * fuzz_api: the operator API's pure readers of a request (api/route.c):
 * the route of a method and path, and a cookie of the Cookie header. The
 * input is "METHOD\nPATH\nCOOKIE-HEADER". Beyond no crash: a matched route
 * has the method asked for, its parameters are NUL-terminated and of
 * their kind (an application id, a person id, a material kind); a 405's
 * Allow list is NUL-terminated; a cookie found fits its buffer. The same
 * path asked of the console (api_console_path): a file it names is
 * relative, of the allowed characters, without "..", an empty or a hidden
 * segment, and has a content type.
 */
#include "api/api.h"
#include "fuzz.h"
#include "materials.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    char *method = buf, *path = strchr(buf, '\n'), *cookie = NULL;
    if (path) {
        *path++ = '\0';
        cookie = strchr(path, '\n');
        if (cookie)
            *cookie++ = '\0';
    } else {
        path = (char *)"";
    }
    const api_route *route;
    char params[2][API_PARAM_MAX], allow[64];
    int m = api_route_match(method, path, &route, params, allow, sizeof(allow));
    FUZZ_REQUIRE(m == 0 || m == -1 || m == -2);
    FUZZ_REQUIRE(memchr(allow, '\0', sizeof(allow)) != NULL);
    if (m == 0) {
        FUZZ_REQUIRE(route != NULL && strcmp(route->method, method) == 0);
        const char *p = strchr(route->pattern, '{');
        for (int i = 0; p && i < 2; i++, p = strchr(p + 1, '{')) {
            FUZZ_REQUIRE(memchr(params[i], '\0', API_PARAM_MAX) != NULL);
            if (strncmp(p, "{app}", 5) == 0)
                FUZZ_REQUIRE(strncmp(params[i], "AP-", 3) == 0 &&
                             strspn(params[i] + 3, "0123456789") == strlen(params[i] + 3));
            else if (strncmp(p, "{person}", 8) == 0)
                FUZZ_REQUIRE(strlen(params[i]) == 64 &&
                             strspn(params[i], "0123456789abcdef") == 64);
            else if (strncmp(p, "{provider}", 10) == 0)
                FUZZ_REQUIRE(strlen(params[i]) >= 1 && strlen(params[i]) <= 64 &&
                             strspn(params[i],
                                    "0123456789abcdefghijklmnopqrstuvwxyz"
                                    "ABCDEFGHIJKLMNOPQRSTUVWXYZ_-") == strlen(params[i]));
            else if (strncmp(p, "{item}", 6) == 0)
                FUZZ_REQUIRE(strlen(params[i]) >= 2 && strlen(params[i]) <= 32 &&
                             params[i][0] >= 'A' && params[i][0] <= 'Z' &&
                             strspn(params[i], "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") ==
                                 strlen(params[i]));
            else {
                bool kind = false;
                for (int k = 0; materials_kinds[k]; k++)
                    kind |= strcmp(materials_kinds[k], params[i]) == 0;
                FUZZ_REQUIRE(kind);
            }
        }
    }
    char rel[256];
    const char *type;
    int c = api_console_path(path, rel, sizeof(rel), &type);
    FUZZ_REQUIRE(c >= -1 && c <= 1);
    if (c >= 0) {
        FUZZ_REQUIRE(type != NULL && memchr(rel, '\0', sizeof(rel)) != NULL);
        FUZZ_REQUIRE(rel[0] != '/' && rel[0] != '.' && strstr(rel, "..") == NULL &&
                     strstr(rel, "/.") == NULL && strstr(rel, "//") == NULL);
        FUZZ_REQUIRE(strspn(rel, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                 "0123456789._-/") == strlen(rel));
    }
    if (cookie) {
        char out[65];
        if (api_cookie(cookie, "onecard_session", out, sizeof(out)) == 0)
            FUZZ_REQUIRE(strlen(out) < sizeof(out));
    }
    free(buf);
    return 0;
}
