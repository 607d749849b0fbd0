/*
 * answer: the operator API's answers. Every answer is JSON (a material's
 * download aside) with the headers a browser needs to treat it as data
 * only: no caching, no sniffing, no framing, no script. An error is
 * {"error": {"code": "…", "message": "…"}}: the code for programs (stable,
 * docs/operator-api.md), the message for people, naming the field or the
 * rule at fault.
 */
#include "api.h"

#include "common/cli.h"
#include "common/json.h"

#include <event2/buffer.h>
#include <event2/http.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void api_headers(api_request *q, const char *type)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(q->req);
    evhttp_add_header(h, "Content-Type", type);
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    evhttp_add_header(h, "X-Frame-Options", "DENY");
    evhttp_add_header(h, "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
    evhttp_add_header(h, "Referrer-Policy", "no-referrer");
}

static const char *api_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 413:
        return "Payload Too Large";
    case 415:
        return "Unsupported Media Type";
    case 423:
        return "Locked";
    case 429:
        return "Too Many Requests";
    default:
        return "Service Unavailable";
    }
}

void api_json(api_request *q, int status, jsonw *w)
{
    const char *text = jsonw_done(w);
    if (text == NULL) {
        jsonw_free(w);
        api_error(q, 503, "unavailable", "the answer could not be written (out of memory)");
        return;
    }
    api_headers(q, "application/json; charset=utf-8");
    struct evbuffer *b = evbuffer_new();
    if (b)
        evbuffer_add(b, text, strlen(text));
    q->status = status;
    evhttp_send_reply(q->req, status, api_reason(status), b);
    if (b)
        evbuffer_free(b);
    jsonw_free(w);
}

void api_error(api_request *q, int status, const char *code, const char *fmt, ...)
{
    char msg[640];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    jsonw w;
    jsonw_init(&w);
    jsonw_obj(&w, NULL);
    jsonw_obj(&w, "error");
    jsonw_str(&w, "code", code);
    jsonw_str(&w, "message", msg);
    jsonw_end(&w);
    jsonw_end(&w);
    const char *text = jsonw_done(&w);
    api_headers(q, "application/json; charset=utf-8");
    struct evbuffer *b = evbuffer_new();
    if (b && text)
        evbuffer_add(b, text, strlen(text));
    q->status = status;
    evhttp_send_reply(q->req, status, api_reason(status), b);
    if (b)
        evbuffer_free(b);
    jsonw_free(&w);
}

void api_refused(api_request *q, int rc)
{
    if (rc == CLI_DEPENDENCY) {
        api_error(q, 503, "unavailable", "%s",
                  q->refusal[0] ? q->refusal : "a store or the broker failed; try again");
        return;
    }
    static const struct {
        int status;
        const char *code;
    } kinds[] = {
        [REFUSE_INVALID] = {400, "invalid"},           [REFUSE_NOT_FOUND] = {404, "not_found"},
        [REFUSE_FORBIDDEN] = {403, "forbidden"},       [REFUSE_CONFLICT] = {409, "conflict"},
        [REFUSE_UNAUTHORIZED] = {401, "unauthorized"}, [REFUSE_LOCKED] = {423, "locked"},
    };
    registry_refusal k = registry_refusal_kind();
    api_error(q, kinds[k].status, kinds[k].code, "%s", q->refusal[0] ? q->refusal : "refused");
}

int api_query_int(api_request *q, const char *name, int lo, int hi, int def, int *out)
{
    const char *v = api_query(q, name);
    *out = def;
    if (v == NULL)
        return 0;
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (end == v || *end != '\0' || errno != 0 || n < lo || n > hi) {
        api_error(q, 400, "invalid", "%s must be an integer from %d to %d", name, lo, hi);
        return -1;
    }
    *out = (int)n;
    return 0;
}

void api_store_failed(api_request *q, const char *err)
{
    snprintf(q->refusal, sizeof(q->refusal), "%s", err);
    api_refused(q, CLI_DEPENDENCY);
}

int api_body(api_request *q, json_field *fields, int n)
{
    char err[256];
    if (json_parse_object((const char *)q->body, q->body_len, fields, n, err, sizeof(err)) < 0) {
        api_error(q, 400, "invalid", "%s", err);
        return -1;
    }
    return 0;
}

void api_pg_array(jsonw *w, const char *key, const char *arr)
{
    jsonw_arr(w, key);
    const char *s = arr;
    if (*s == '{')
        s++;
    while (*s && *s != '}') {
        size_t n = strcspn(s, ",}");
        jsonw_strn(w, NULL, s, n);
        s += n;
        if (*s == ',')
            s++;
    }
    jsonw_end(w);
}
