/*
 * admin: /metrics, /healthz, /readyz on a per-service port. See admin.h.
 */
#include "common/admin.h"
#include "common/metrics.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <stdio.h>
#include <string.h>

static struct evhttp *admin_http;
static admin_ready_fn admin_ready;
static void *admin_ready_arg;

static void admin_reply(struct evhttp_request *req, int code, const char *reason, const char *ctype,
                        struct evbuffer *body)
{
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", ctype);
    evhttp_send_reply(req, code, reason, body);
}

static void admin_metrics(struct evhttp_request *req, void *arg)
{
    struct evbuffer *b = evbuffer_new();
    if (b == NULL) {
        evhttp_send_error(req, 500, "out of memory");
        return;
    }
    metrics_render(b);
    admin_reply(req, 200, "OK", "text/plain; version=0.0.4", b);
    evbuffer_free(b);
}

static void admin_healthz(struct evhttp_request *req, void *arg)
{
    struct evbuffer *b = evbuffer_new();
    if (b == NULL) {
        evhttp_send_error(req, 500, "out of memory");
        return;
    }
    evbuffer_add_printf(b, "{\"status\":\"ok\"}\n");
    admin_reply(req, 200, "OK", "application/json", b);
    evbuffer_free(b);
}

static void admin_readyz(struct evhttp_request *req, void *arg)
{
    char why[256] = "";
    bool ok = admin_ready ? admin_ready(admin_ready_arg, why, sizeof(why)) : true;
    struct evbuffer *b = evbuffer_new();
    if (b == NULL) {
        evhttp_send_error(req, 500, "out of memory");
        return;
    }
    if (ok)
        evbuffer_add_printf(b, "{\"status\":\"ready\"}\n");
    else
        evbuffer_add_printf(b, "{\"status\":\"not ready\",\"reason\":\"%s\"}\n", why);
    admin_reply(req, ok ? 200 : 503, ok ? "OK" : "Service Unavailable", "application/json", b);
    evbuffer_free(b);
}

static void admin_notfound(struct evhttp_request *req, void *arg)
{
    evhttp_send_error(req, 404, "not found");
}

int admin_setup(struct event_base *base, const char *addr, int port, admin_ready_fn ready,
                void *arg, char *err, size_t errlen)
{
    admin_http = evhttp_new(base);
    if (admin_http == NULL) {
        snprintf(err, errlen, "admin: evhttp_new failed");
        return -1;
    }
    admin_ready = ready;
    admin_ready_arg = arg;
    evhttp_set_allowed_methods(admin_http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST);
    evhttp_set_max_body_size(admin_http, 65536);
    evhttp_set_timeout(admin_http, 10);
    evhttp_set_cb(admin_http, "/metrics", admin_metrics, NULL);
    evhttp_set_cb(admin_http, "/healthz", admin_healthz, NULL);
    evhttp_set_cb(admin_http, "/readyz", admin_readyz, NULL);
    evhttp_set_gencb(admin_http, admin_notfound, NULL);
    if (evhttp_bind_socket(admin_http, addr ? addr : "127.0.0.1", (unsigned short)port) != 0) {
        snprintf(err, errlen, "admin: cannot listen on %s:%d (port in use?)",
                 addr ? addr : "127.0.0.1", port);
        evhttp_free(admin_http);
        admin_http = NULL;
        return -1;
    }
    return 0;
}

int admin_route(const char *path, void (*cb)(struct evhttp_request *, void *), void *arg)
{
    return admin_http ? evhttp_set_cb(admin_http, path, cb, arg) : -1;
}

void admin_cleanup(void)
{
    if (admin_http)
        evhttp_free(admin_http);
    admin_http = NULL;
}
