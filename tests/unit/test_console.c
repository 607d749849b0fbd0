/*
 * test_console: which file a path under /console/ names (api/console.c's
 * api_console_path, the pure part of the console's file server), in a
 * table: the files and their content types, the vendor file, and every
 * path that must name nothing (a way out of the directory, a hidden file,
 * an unknown type, an empty segment, a path too long).
 */
#include "api/api.h"
#include "check.h"

#include <string.h>

int main(void)
{
    static const struct {
        const char *path;
        int kind; /* 0 the console's, 1 the vendor's, -1 nothing */
        const char *rel, *type;
    } rows[] = {
        {"/console/", 0, "index.html", "text/html; charset=utf-8"},
        {"/console/index.html", 0, "index.html", "text/html; charset=utf-8"},
        {"/console/app.js", 0, "app.js", "text/javascript; charset=utf-8"},
        {"/console/console.css", 0, "console.css", "text/css; charset=utf-8"},
        {"/console/i18n/zh-CN.json", 0, "i18n/zh-CN.json", "application/json; charset=utf-8"},
        {"/console/img/logo.svg", 0, "img/logo.svg", "image/svg+xml"},
        {"/console/a.b.png", 0, "a.b.png", "image/png"},
        {"/console/vendor/echarts.min.js", 1, "echarts.min.js", "text/javascript; charset=utf-8"},
        /* nothing else */
        {"/console", -1, "", NULL}, /* the server redirects it */
        {"/", -1, "", NULL},
        {"/v1/console/app.js", -1, "", NULL},
        {"/consoleapp.js", -1, "", NULL},
        {"/console/../etc/passwd", -1, "", NULL},
        {"/console/i18n/../app.js", -1, "", NULL},
        {"/console/..", -1, "", NULL},
        {"/console/a..b.js", -1, "", NULL}, /* harmless, but no file has it */
        {"/console/.gitignore", -1, "", NULL},
        {"/console/i18n/.x.json", -1, "", NULL},
        {"/console//etc/passwd.js", -1, "", NULL},
        {"/console/i18n/", -1, "", NULL},
        {"/console/i18n//en.json", -1, "", NULL},
        {"/console/app", -1, "", NULL},
        {"/console/app.JS", -1, "", NULL},
        {"/console/app.js.map", -1, "", NULL},
        {"/console/dir.js/file", -1, "", NULL},
        {"/console/a b.js", -1, "", NULL},
        {"/console/a%2e.js", -1, "", NULL},
        {"/console/a\\b.js", -1, "", NULL},
        {"/console/中文.js", -1, "", NULL},
        {"/console/vendor/echarts.js", -1, "", NULL},
        {"/console/vendor/other.min.js", -1, "", NULL},
        {"/console/vendor/", -1, "", NULL},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char rel[256];
        const char *type = "x";
        int k = api_console_path(rows[i].path, rel, sizeof(rel), &type);
        CHECK(k == rows[i].kind, "%s: %d, not %d", rows[i].path, k, rows[i].kind);
        CHECK(strcmp(rel, rows[i].rel) == 0, "%s: rel %s, not %s", rows[i].path, rel, rows[i].rel);
        CHECK(rows[i].type ? type && strcmp(type, rows[i].type) == 0 : type == NULL, "%s: type %s",
              rows[i].path, type ? type : "(none)");
    }
    /* a path longer than 200 bytes, or than rel, names nothing */
    char longp[300] = "/console/";
    memset(longp + 9, 'a', 250);
    memcpy(longp + 256, ".js", 4);
    char rel[256];
    const char *type;
    CHECK(api_console_path(longp, rel, sizeof(rel), &type) == -1, "a long path");
    char small[8];
    CHECK(api_console_path("/console/app.js", small, 6, &type) == -1 && small[0] == '\0',
          "rel too small");
    CHECK(api_console_path("/console/app.js", small, sizeof(small), &type) == 0 &&
              strcmp(small, "app.js") == 0,
          "rel just big enough");
    return CHECK_DONE();
}
