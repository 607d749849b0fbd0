/*
 * test_reasons: the decline and refusal reasons a terminal can be told are
 * one table (services/card-gateway/reasons.c) that the contract
 * (docs/terminal-api.md) lists row for row, and that covers every reason
 * the Lua scripts can return: a reason added to a script, to the table or
 * to the document alone fails here.
 */
#include "check.h"
#include "reasons.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return NULL;
    static char buf[1 << 17];
    size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    char *copy = malloc(n + 1);
    if (copy)
        memcpy(copy, buf, n + 1);
    return copy;
}

/* The document lists every row of the table, exactly, and no other. */
static void test_document(void)
{
    char *doc = slurp(TERMINAL_API_MD);
    CHECK(doc != NULL, "%s is readable", TERMINAL_API_MD);
    if (doc == NULL)
        return;
    size_t n;
    const reasons_row *rows = reasons_all(&n);
    for (size_t i = 0; i < n; i++) {
        char line[512];
        snprintf(line, sizeof(line), "\n| `%s` | %s | %s |\n", rows[i].code, rows[i].message,
                 rows[i].display_zh);
        CHECK(strstr(doc, line) != NULL, "the contract lists %s as \"%.*s\"", rows[i].code,
              (int)strlen(line) - 2, line + 1);
    }
    for (char *p = strstr(doc, "\n| `"); p; p = strstr(p + 1, "\n| `")) {
        char code[64] = "";
        if (sscanf(p, "\n| `%63[a-z_]`", code) != 1)
            continue; /* another table's row (a header name) */
        CHECK(reasons_find(code) != NULL, "the contract's reason %s is in reasons.c", code);
    }
    free(doc);
}

/* Every decline('x') and refuse('x') of the scripts is a row of its kind. */
static void test_scripts(void)
{
    DIR *d = opendir(GATEWAY_LUA_DIR);
    CHECK(d != NULL, "%s is readable", GATEWAY_LUA_DIR);
    if (d == NULL)
        return;
    int seen = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strstr(e->d_name, ".lua") == NULL)
            continue;
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", GATEWAY_LUA_DIR, e->d_name);
        char *src = slurp(path);
        for (int k = 0; src && k < 2; k++) {
            const char *call = k == 0 ? "decline('" : "refuse('";
            for (char *p = strstr(src, call); p; p = strstr(p + 1, call)) {
                char code[64] = "";
                sscanf(p + strlen(call), "%63[a-z_]", code);
                const reasons_row *row = reasons_find(code);
                CHECK(row != NULL && row->refusal == (k == 1), "%s: %s%s') is a %s in reasons.c",
                      e->d_name, call, code, k == 0 ? "decline" : "refusal");
                seen++;
            }
        }
        free(src);
    }
    closedir(d);
    CHECK(seen >= 20, "the scripts' reasons were read (%d)", seen);
}

int main(void)
{
    size_t n;
    const reasons_row *rows = reasons_all(&n);
    for (size_t i = 0; i < n; i++)
        CHECK(rows[i].message[0] && rows[i].display_zh[0] && reasons_find(rows[i].code) == &rows[i],
              "row %s: a message, a display text, once", rows[i].code);
    CHECK(reasons_find("nope") == NULL && reasons_find(NULL) == NULL, "unknown codes");
    test_document();
    test_scripts();
    return CHECK_DONE();
}
