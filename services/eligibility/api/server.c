/*
 * server: the operator API's listener and the path of every request:
 * the URI's path decoded, its route (404, 405 with Allow), the body read
 * whole within the route's limit (413) and of the route's type (415), the
 * session checked (auth.c), then the route's handler with refusals
 * captured for its answer. Each request is counted by route and status
 * (onecard_eligibility_api_requests_total) and timed
 * (onecard_eligibility_api_request_seconds), and logged with the operator
 * and never a token, a password or a body.
 *
 * "/", "/console" and "/console/…" are the operator console's files
 * (console.c), counted as the route "console".
 *
 * The same loop runs the escalation sweep of overdue applications every
 * ONECARD_REVIEW_SWEEP_S seconds with the API's connections.
 */
#include "api.h"

#include "applications.h"
#include "materials.h"

#include "common/log.h"
#include "common/redis.h"
#include "common/metrics.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define API_JSON_MAX (64 * 1024)

static struct evhttp *api_http;
static registry api_reg;
static bool api_reg_open;
static struct event *api_sweep_ev;
static metric *api_m_seconds;

static const char *api_method_name(enum evhttp_cmd_type c)
{
    switch (c) {
    case EVHTTP_REQ_GET:
        return "GET";
    case EVHTTP_REQ_POST:
        return "POST";
    case EVHTTP_REQ_PUT:
        return "PUT";
    case EVHTTP_REQ_DELETE:
        return "DELETE";
    case EVHTTP_REQ_HEAD:
        return "HEAD";
    case EVHTTP_REQ_OPTIONS:
        return "OPTIONS";
    case EVHTTP_REQ_PATCH:
        return "PATCH";
    default:
        return "OTHER";
    }
}

const char *api_query(api_request *q, const char *name)
{
    static char value[256];
    const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(q->req));
    if (query == NULL)
        return NULL;
    struct evkeyvalq kv;
    if (evhttp_parse_query_str(query, &kv) < 0)
        return NULL;
    const char *v = evhttp_find_header(&kv, name);
    const char *out = NULL;
    if (v && strlen(v) < sizeof(value)) {
        snprintf(value, sizeof(value), "%s", v);
        out = value;
    }
    evhttp_clear_headers(&kv);
    return out;
}

/* Does the Content-Type header name type (parameters aside)? */
static bool api_type_is(const char *header, const char *type)
{
    size_t n = strlen(type);
    return header && strncasecmp(header, type, n) == 0 &&
           (header[n] == '\0' || header[n] == ';' || header[n] == ' ');
}

/* The connections, made good again after a restart of a store. */
static void api_reconnect(registry *r)
{
    (void)pg_alive(r->pg);         /* a connection PostgreSQL closed while idle: reset */
    (void)redis_sync_alive(r->rc); /* the same for Redis */
}

static void api_count(const api_request *q, const char *route, double seconds)
{
    char labels[128];
    snprintf(labels, sizeof(labels), "route=\"%s\",status=\"%d\"", route, q->status);
    metrics_add(metrics_counter("onecard_eligibility_api_requests_total",
                                "operator API requests by route and answer status", labels),
                1);
    metrics_observe(api_m_seconds, seconds);
}

static void api_handle(struct evhttp_request *req, void *arg)
{
    (void)arg;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    api_request *q = calloc(1, sizeof(*q));
    if (q == NULL) {
        evhttp_send_error(req, 503, "out of memory");
        return;
    }
    q->req = req;
    q->r = &api_reg;
    const char *method = api_method_name(evhttp_request_get_command(req));
    const char *route_name = "none";
    unsigned char *body = NULL;
    char *path = NULL;
    registry_capture(q->refusal, sizeof(q->refusal));

    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *raw = uri ? evhttp_uri_get_path(uri) : NULL;
    size_t plen = 0;
    path = raw ? evhttp_uridecode(raw, 0, &plen) : NULL;
    char allow[64];
    int m;
    if (path == NULL || strlen(path) != plen) {
        api_error(q, 400, "invalid", "the request's path is not valid");
        goto done;
    }
    if (strcmp(path, "/") == 0 || strcmp(path, "/console") == 0 ||
        strncmp(path, "/console/", 9) == 0) {
        route_name = "console";
        api_console_serve(q, path, method);
        goto done;
    }
    m = api_route_match(method, path, &q->route, q->params, allow, sizeof(allow));
    if (m == -1) {
        api_error(q, 404, "no_route", "no operator API route is %.128s (docs/operator-api.md)",
                  path);
        goto done;
    }
    if (m == -2) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
        api_error(q, 405, "method_not_allowed", "%s is not allowed on %.128s; allowed: %s", method,
                  path, allow);
        goto done;
    }
    route_name = q->route->name;

    /* the body, whole, within the route's limit and of its type */
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    size_t max = q->route->flags & API_BYTES  ? (size_t)MATERIALS_MAX_BYTES
                 : q->route->flags & API_JSON ? (size_t)API_JSON_MAX
                                              : 0;
    if (len > max) {
        if (max == 0)
            api_error(q, 400, "invalid", "%s %s takes no body", method, path);
        else
            api_error(q, 413, "too_large", "the body is %zu bytes, over the route's %zu", len, max);
        goto done;
    }
    const char *ctype = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
    if ((q->route->flags & API_JSON) && !api_type_is(ctype, "application/json")) {
        api_error(q, 415, "unsupported_type", "the body must be application/json, not %.64s",
                  ctype ? ctype : "(no Content-Type)");
        goto done;
    }
    body = malloc(len + 1);
    if (body == NULL) {
        api_error(q, 503, "unavailable", "out of memory");
        goto done;
    }
    evbuffer_copyout(in, body, len);
    body[len] = '\0';
    q->body = body;
    q->body_len = len;

    api_reconnect(q->r);
    if ((q->route->flags & API_AUTH) && api_authenticate(q) < 0)
        goto done;
    q->refusal[0] = '\0';
    registry_capture(q->refusal, sizeof(q->refusal));
    q->route->handler(q);

done:
    registry_capture(NULL, 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    api_count(q, route_name, s);
    char ms[24];
    snprintf(ms, sizeof(ms), "%.1f", s * 1000);
    char status[8];
    snprintf(status, sizeof(status), "%d", q->status);
    log_kv(q->status >= 500 ? LOG_WARN : LOG_INFO, "api_request", "method", method, "route",
           route_name, "status", status, "ms", ms, "operator", q->who.id[0] ? q->who.id : "-",
           NULL);
    free(path);
    free(body);
    memset(q->token, 0, sizeof(q->token));
    free(q);
}

static void api_sweep_print(void *arg, const char *id, const char *state, const char *level)
{
    (void)arg;
    log_kv(LOG_INFO, "application_escalated", "application", id, "state", state, "level", level,
           NULL);
}

static void api_sweep(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    char refusal[512];
    int n = 0;
    registry_capture(refusal, sizeof(refusal));
    api_reconnect(&api_reg);
    int rc = applications_sweep(&api_reg, "eligibility-sweep", api_sweep_print, NULL, &n);
    registry_capture(NULL, 0);
    if (rc != 0)
        log_warn("sweep_failed", "the escalation sweep failed: %s", refusal);
    else if (n > 0)
        log_info("sweep", "%d application(s) escalated", n);
}

int api_setup(struct event_base *base, elig_config *cfg, char *err, size_t errlen)
{
    api_m_seconds = metrics_histogram("onecard_eligibility_api_request_seconds",
                                      "operator API requests, time to answer", NULL,
                                      metrics_latency_bounds, metrics_latency_nbounds);
    if (cfg->operator_port == 0)
        return 0;
    char why[512];
    registry_capture(why, sizeof(why));
    int rc = registry_open(&api_reg, cfg, REG_REDIS | REG_KAFKA);
    registry_capture(NULL, 0);
    if (rc < 0) {
        snprintf(err, errlen, "operator API: %s", why);
        return -1;
    }
    api_reg_open = true;
    api_console_setup(cfg->console_dir, cfg->console_vendor_dir);
    api_http = evhttp_new(base);
    if (api_http == NULL) {
        snprintf(err, errlen, "operator API: evhttp_new failed");
        return -1;
    }
    evhttp_set_allowed_methods(api_http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                             EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD |
                                             EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
    /* bodies past the largest route's limit are refused by evhttp itself */
    evhttp_set_max_body_size(api_http, MATERIALS_MAX_BYTES + API_JSON_MAX);
    evhttp_set_max_headers_size(api_http, 16384);
    evhttp_set_timeout(api_http, 30);
    evhttp_set_gencb(api_http, api_handle, NULL);
    if (evhttp_bind_socket(api_http, cfg->operator_addr, (ev_uint16_t)cfg->operator_port) != 0) {
        snprintf(err, errlen, "operator API: cannot listen on %s:%lld (port in use?)",
                 cfg->operator_addr, (long long)cfg->operator_port);
        return -1;
    }
    if (cfg->review_sweep_s > 0) {
        api_sweep_ev = event_new(base, -1, EV_PERSIST, api_sweep, NULL);
        struct timeval tv = {.tv_sec = (time_t)cfg->review_sweep_s};
        if (api_sweep_ev == NULL || event_add(api_sweep_ev, &tv) < 0) {
            snprintf(err, errlen, "operator API: the sweep's timer failed");
            return -1;
        }
    }
    log_info("operator_api", "operator API on %s:%lld", cfg->operator_addr,
             (long long)cfg->operator_port);
    return 0;
}

void api_cleanup(void)
{
    if (api_sweep_ev)
        event_free(api_sweep_ev);
    api_sweep_ev = NULL;
    if (api_http)
        evhttp_free(api_http);
    api_http = NULL;
    if (api_reg_open)
        registry_close(&api_reg);
    api_reg_open = false;
}
