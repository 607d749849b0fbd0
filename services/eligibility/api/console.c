/*
 * console: the operator console's files, served by the operator API's
 * listener under /console/ (GET / redirects there). The console is a page
 * of plain ES modules, CSS and two message catalogues in
 * ONECARD_CONSOLE_DIR (services/eligibility/console by default, the
 * source directory CMake compiled in, so the local stack and the tests
 * need no install step) that calls the /v1 API with the session cookie
 * and the CSRF token like any other client: every rule of role and area
 * stays on the server. ECharts is npm's (tools/console-npm, pinned),
 * served as /console/vendor/echarts.min.js from ONECARD_CONSOLE_VENDOR_DIR,
 * never from a CDN.
 *
 * A path is outside input (api_console_path, pure, the fuzz target's):
 * segments of [A-Za-z0-9._-] that do not start with a dot (no hidden
 * file) and no ".." anywhere, an extension of the fixed type table, nothing else;
 * the file's real path must then lie under the directory's (no symlink
 * out) and be a regular file. Every answer carries the console's
 * Content-Security-Policy (scripts, styles and connections of this origin
 * only, no inline script or style, no framing), nosniff, no referrer, and
 * an ETag (size and modification time) the browser revalidates
 * (Cache-Control: no-cache; 304 when it still holds).
 */
#include "api.h"

#include "common/log.h"

#include <event2/buffer.h>
#include <event2/http.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define API_CONSOLE_FILE_MAX (8 * 1024 * 1024)

const char api_console_csp[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

static char api_console_root[PATH_MAX];   /* realpath of ONECARD_CONSOLE_DIR, "" none */
static char api_console_vendor[PATH_MAX]; /* realpath of ONECARD_CONSOLE_VENDOR_DIR */

static const struct {
    const char *ext;
    const char *type;
} api_console_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
};

/* The files served from the vendor directory, by their name there. */
static const char *const api_console_vendored[] = {"echarts.min.js", NULL};

static bool api_console_segment_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

int api_console_path(const char *path, char *rel, size_t rellen, const char **type)
{
    *type = NULL;
    if (rellen == 0)
        return -1;
    rel[0] = '\0';
    if (strncmp(path, "/console/", 9) != 0)
        return -1;
    const char *s = path + 9;
    if (*s == '\0')
        s = "index.html";
    size_t n = strlen(s);
    if (n + 1 > rellen || n > 200)
        return -1;
    /* segments: non-empty, of the allowed characters, not starting with '.' */
    bool start = true;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '/') {
            if (start)
                return -1; /* an empty segment: "//" */
            start = true;
            continue;
        }
        if (!api_console_segment_char(s[i]) || (start && s[i] == '.'))
            return -1;
        start = false;
    }
    if (start)
        return -1; /* ends with '/' */
    if (strstr(s, "..") != NULL)
        return -1; /* harmless inside a name, but no file of the console has it */
    const char *dot = strrchr(s, '.');
    const char *slash = strrchr(s, '/');
    if (dot == NULL || (slash && dot < slash))
        return -1;
    for (size_t i = 0; i < sizeof(api_console_types) / sizeof(api_console_types[0]); i++)
        if (strcmp(dot, api_console_types[i].ext) == 0)
            *type = api_console_types[i].type;
    if (*type == NULL)
        return -1;
    if (strncmp(s, "vendor/", 7) == 0) {
        for (int i = 0; api_console_vendored[i]; i++)
            if (strcmp(s + 7, api_console_vendored[i]) == 0) {
                memcpy(rel, s + 7, strlen(s + 7) + 1);
                return 1;
            }
        *type = NULL;
        return -1;
    }
    memcpy(rel, s, n + 1);
    return 0;
}

void api_console_setup(const char *dir, const char *vendor)
{
    api_console_root[0] = api_console_vendor[0] = '\0';
    if (dir && dir[0] && realpath(dir, api_console_root) == NULL) {
        log_warn("console_missing", "ONECARD_CONSOLE_DIR %s cannot be read: no console", dir);
        api_console_root[0] = '\0';
    }
    if (vendor && vendor[0] && realpath(vendor, api_console_vendor) == NULL) {
        log_warn("console_vendor_missing",
                 "ONECARD_CONSOLE_VENDOR_DIR %s cannot be read (npm ci in tools/console-npm): "
                 "the console has no charts",
                 vendor);
        api_console_vendor[0] = '\0';
    }
}

static void api_console_headers(struct evkeyvalq *h, const char *type)
{
    evhttp_add_header(h, "Content-Type", type);
    evhttp_add_header(h, "Content-Security-Policy", api_console_csp);
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    evhttp_add_header(h, "Referrer-Policy", "no-referrer");
    evhttp_add_header(h, "X-Frame-Options", "DENY");
}

static void api_console_reply(api_request *q, int status, const char *reason, const char *type,
                              const char *text)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(q->req);
    api_console_headers(h, type);
    evhttp_add_header(h, "Cache-Control", "no-store");
    struct evbuffer *b = evbuffer_new();
    if (b && text)
        evbuffer_add(b, text, strlen(text));
    q->status = status;
    evhttp_send_reply(q->req, status, reason, b);
    if (b)
        evbuffer_free(b);
}

static void api_console_404(api_request *q)
{
    api_console_reply(q, 404, "Not Found", "text/html; charset=utf-8",
                      "<!doctype html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
                      "<title>未找到 Not found</title></head><body><main><h1>未找到 Not found</h1>"
                      "<p>控制台没有这个文件。The console has no such file.</p>"
                      "<p><a href=\"/console/\">返回控制台 Back to the console</a></p>"
                      "</main></body></html>\n");
}

void api_console_serve(api_request *q, const char *path, const char *method)
{
    struct evkeyvalq *out = evhttp_request_get_output_headers(q->req);
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        evhttp_add_header(out, "Allow", "GET, HEAD");
        api_console_reply(q, 405, "Method Not Allowed", "text/plain; charset=utf-8",
                          "只能读取 GET or HEAD only\n");
        return;
    }
    if (strcmp(path, "/") == 0 || strcmp(path, "/console") == 0) {
        evhttp_add_header(out, "Location", "/console/");
        api_console_reply(q, 302, "Found", "text/plain; charset=utf-8", "/console/\n");
        return;
    }
    char rel[256];
    const char *type;
    int kind = api_console_path(path, rel, sizeof(rel), &type);
    const char *root = kind == 1 ? api_console_vendor : api_console_root;
    if (kind < 0 || root[0] == '\0') {
        api_console_404(q);
        return;
    }
    char full[PATH_MAX * 2], real[PATH_MAX];
    snprintf(full, sizeof(full), "%s/%s", root, rel);
    size_t rlen = strlen(root);
    if (realpath(full, real) == NULL || strncmp(real, root, rlen) != 0 || real[rlen] != '/') {
        api_console_404(q); /* absent, or a symlink out of the directory */
        return;
    }
    int fd = open(real, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > API_CONSOLE_FILE_MAX) {
        if (fd >= 0)
            close(fd);
        api_console_404(q);
        return;
    }
    char etag[64];
    snprintf(etag, sizeof(etag), "\"%llx-%llx\"", (unsigned long long)st.st_size,
             (unsigned long long)st.st_mtim.tv_sec * 1000000000ull +
                 (unsigned long long)st.st_mtim.tv_nsec);
    api_console_headers(out, type);
    evhttp_add_header(out, "Cache-Control", "no-cache");
    evhttp_add_header(out, "ETag", etag);
    const char *inm = evhttp_find_header(evhttp_request_get_input_headers(q->req), "If-None-Match");
    if (inm && strcmp(inm, etag) == 0) {
        close(fd);
        q->status = 304;
        evhttp_send_reply(q->req, 304, "Not Modified", NULL);
        return;
    }
    struct evbuffer *b = evbuffer_new();
    if (b == NULL || (st.st_size > 0 && evbuffer_add_file(b, fd, 0, st.st_size) < 0)) {
        if (b)
            evbuffer_free(b);
        else
            close(fd);
        api_error(q, 503, "unavailable", "the console's file could not be read");
        return;
    }
    if (st.st_size == 0)
        close(fd);
    q->status = 200;
    evhttp_send_reply(q->req, 200, "OK", b);
    evbuffer_free(b);
}
