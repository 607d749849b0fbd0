/*
 * reply: answers and stored answers. See reply.h.
 */
#include "reply.h"

#include "reasons.h"

#include "common/log.h"
#include "common/metrics.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static metric *reply_m_latency, *reply_m_unavailable;
static struct {
    int code;
    metric *m;
} reply_m_codes[] = {{200, NULL}, {202, NULL}, {400, NULL}, {401, NULL}, {404, NULL}, {405, NULL},
                     {409, NULL}, {413, NULL}, {415, NULL}, {429, NULL}, {503, NULL}};

void reply_setup(void)
{
    for (size_t i = 0; i < sizeof(reply_m_codes) / sizeof(reply_m_codes[0]); i++) {
        char l[32];
        snprintf(l, sizeof(l), "code=\"%d\"", reply_m_codes[i].code);
        reply_m_codes[i].m = metrics_counter("onecard_gateway_http_requests_total",
                                             "Terminal requests by status.", l);
    }
    reply_m_latency = metrics_histogram("onecard_gateway_http_request_duration_seconds",
                                        "Terminal request latency.", NULL, metrics_latency_bounds,
                                        metrics_latency_nbounds);
    reply_m_unavailable = metrics_counter("onecard_gateway_unavailable_total",
                                          "Requests answered 503 (a dependency was down).", NULL);
}

/* ============================================================ answering */

void reply_finish(request *r, int status, const char *extra, const char *body)
{
    for (size_t i = 0; i < sizeof(reply_m_codes) / sizeof(reply_m_codes[0]); i++)
        if (reply_m_codes[i].code == status)
            metrics_add(reply_m_codes[i].m, 1);
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    metrics_observe(reply_m_latency, (double)(t1.tv_sec - r->t0.tv_sec) +
                                         (double)(t1.tv_nsec - r->t0.tv_nsec) / 1e9);
    http_respond(r->conn, status, extra, body, strlen(body));
    request_free(r);
}

void reply_error_with(request *r, int status, const char *code, const char *extra,
                      const char *message)
{
    char body[768], esc[512];
    log_json_escape(esc, sizeof(esc), message);
    snprintf(body, sizeof(body), "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}", code, esc);
    if (status == 503)
        metrics_add(reply_m_unavailable, 1);
    if (extra == NULL && (status == 503 || status == 429))
        extra = "Retry-After: 1\r\n";
    reply_finish(r, status, extra, body);
}

void reply_error(request *r, int status, const char *code, const char *message)
{
    reply_error_with(r, status, code, NULL, message);
}

void reply_unavailable(request *r, const char *what)
{
    log_kv(LOG_WARN, "unavailable", "terminal", r->auth.terminal_id, "request_id", r->request_id,
           "reason", what, "rid", r->conn ? http_request_id(r->conn) : "", NULL);
    reply_error(r, 503, "unavailable", what);
}

void reply_refusal(request *r, const char *reason)
{
    const reasons_row *row = reasons_find(reason);
    char body[768];
    snprintf(body, sizeof(body),
             "{\"error\":{\"code\":\"conflict\",\"reason\":\"%s\",\"message\":\"%s\","
             "\"display_zh\":\"%s\"}}",
             row ? row->code : "conflict", row ? row->message : "refused",
             row ? row->display_zh : "");
    reply_finish(r, 409, NULL, body);
}

/* ======================================================= stored answers */

bool reply_script_ran(const redisReply *reply)
{
    return reply != NULL &&
           (reply->type == REDIS_REPLY_ARRAY || reply->type == REDIS_REPLY_INTEGER);
}

/* Splits a tab-separated stored answer into at most max fields (in place). */
static int reply_split(char *s, char **out, int max)
{
    int n = 0;
    while (n < max) {
        out[n++] = s;
        char *tab = strchr(s, '\t');
        if (tab == NULL)
            break;
        *tab = '\0';
        s = tab + 1;
    }
    return n;
}

int reply_stored(request *r, redisReply *reply, const char *script, char *stored, size_t cap,
                 char **f, int maxf, int minf, bool *replay)
{
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements < 1) {
        if (reply && reply->type == REDIS_REPLY_ERROR)
            log_error("script_error", "%s: %s", script, reply->str);
        reply_unavailable(r, "redis unavailable");
        return -1;
    }
    const char *tag = reply->element[0]->str;
    if (strcmp(tag, "conflict") == 0) {
        reply_refusal(r, "request_id_reused");
        return -1;
    }
    snprintf(stored, cap, "%s", reply->elements > 1 ? reply->element[1]->str : "");
    int nf = reply_split(stored, f, maxf);
    if (nf < minf) {
        reply_unavailable(r, "unreadable answer");
        return -1;
    }
    *replay = strcmp(tag, "replay") == 0;
    return nf;
}
