/*
 * http: a small HTTP/1.1 server for the terminal API. See http.h.
 */
#include "http.h"
#include "common/event.h"
#include "common/log.h"
#include "common/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ================================================================ parser */

/* RFC 9110 tchar. Not strchr alone: it finds the terminating NUL too. */
static bool http_token_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

int http_parse(const char *buf, size_t len, http_request *req, int *status, const char **why)
{
    const char *end = NULL;
    for (size_t i = 0; i + 3 < len; i++) {
        if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n') {
            end = buf + i;
            break;
        }
    }
    if (end == NULL) {
        if (len >= HTTP_MAX_HEADER_BYTES) {
            *status = 431;
            *why = "request headers larger than 8 KiB";
            return -1;
        }
        return 0;
    }
    size_t hlen = (size_t)(end - buf) + 4;
    if (hlen > HTTP_MAX_HEADER_BYTES) {
        *status = 431;
        *why = "request headers larger than 8 KiB";
        return -1;
    }
    memset(req, 0, sizeof(*req));
    req->header_len = hlen;
    *status = 400;
    /* request line: METHOD SP PATH SP HTTP/1.x CRLF; a CR alone does not
     * end it (the byte after it would be skipped unseen) */
    const char *p = buf, *eol = memchr(buf, '\r', (size_t)(end - buf) + 1);
    if (eol[1] != '\n') {
        *why = "malformed request line";
        return -1;
    }
    const char *sp1 = memchr(p, ' ', (size_t)(eol - p));
    if (sp1 == NULL || sp1 == p || (size_t)(sp1 - p) >= sizeof(req->method)) {
        *status = sp1 && sp1 != p ? 501 : 400;
        *why = sp1 && sp1 != p ? "method not implemented" : "malformed request line";
        return -1;
    }
    for (const char *q = p; q < sp1; q++)
        if (*q < 'A' || *q > 'Z') {
            *why = "malformed method";
            return -1;
        }
    memcpy(req->method, p, (size_t)(sp1 - p));
    const char *path = sp1 + 1;
    const char *sp2 = memchr(path, ' ', (size_t)(eol - path));
    if (sp2 == NULL || sp2 == path || path[0] != '/') {
        *why = "malformed request target";
        return -1;
    }
    if ((size_t)(sp2 - path) >= sizeof(req->path)) {
        *status = 414;
        *why = "request target longer than 255 bytes";
        return -1;
    }
    for (const char *q = path; q < sp2; q++)
        if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f) {
            *why = "malformed request target";
            return -1;
        }
    memcpy(req->path, path, (size_t)(sp2 - path));
    const char *ver = sp2 + 1;
    size_t verlen = (size_t)(eol - ver);
    if (verlen == 8 && memcmp(ver, "HTTP/1.1", 8) == 0) {
        req->keep_alive = true;
    } else if (verlen == 8 && memcmp(ver, "HTTP/1.0", 8) == 0) {
        req->keep_alive = false;
    } else {
        *status = 505;
        *why = "HTTP version not supported (HTTP/1.1 only)";
        return -1;
    }
    /* headers */
    p = eol + 2;
    while (p < end + 2) {
        eol = memchr(p, '\r', (size_t)(end + 2 - p));
        if (eol == NULL || eol[1] != '\n') {
            *why = "malformed header line";
            return -1;
        }
        if (eol == p)
            break;
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        if (colon == NULL || colon == p) {
            *why = "malformed header line";
            return -1;
        }
        for (const char *q = p; q < colon; q++)
            if (!http_token_char(*q)) {
                *why = "malformed header name";
                return -1;
            }
        if (req->nheaders == HTTP_MAX_HEADERS) {
            *status = 431;
            *why = "more than 32 headers";
            return -1;
        }
        const char *v = colon + 1, *ve = eol;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        for (const char *q = v; q < ve; q++)
            if ((unsigned char)*q < 0x20 && *q != '\t') {
                *why = "control character in a header value";
                return -1;
            }
        http_header *h = &req->headers[req->nheaders++];
        h->name = p;
        h->nlen = (size_t)(colon - p);
        h->value = v;
        h->vlen = (size_t)(ve - v);
        p = eol + 2;
    }
    size_t vlen;
    const char *te = http_header_get(req, "transfer-encoding", &vlen);
    if (te) {
        *status = 501;
        *why = "Transfer-Encoding is not supported; send Content-Length";
        return -1;
    }
    int ncl = 0;
    for (int i = 0; i < req->nheaders; i++) {
        const http_header *h = &req->headers[i];
        if (h->nlen != 14 || strncasecmp(h->name, "content-length", 14) != 0)
            continue;
        if (++ncl > 1) {
            *why = "duplicate Content-Length";
            return -1;
        }
        if (h->vlen == 0 || h->vlen > 9) {
            *status = h->vlen > 9 ? 413 : 400;
            *why = h->vlen > 9 ? "body larger than 8 KiB" : "malformed Content-Length";
            return -1;
        }
        size_t n = 0;
        for (size_t k = 0; k < h->vlen; k++) {
            if (h->value[k] < '0' || h->value[k] > '9') {
                *why = "malformed Content-Length";
                return -1;
            }
            n = n * 10 + (size_t)(h->value[k] - '0');
        }
        req->content_length = n;
        req->has_content_length = true;
    }
    if (req->content_length > HTTP_MAX_BODY) {
        *status = 413;
        *why = "body larger than 8 KiB";
        return -1;
    }
    const char *conn = http_header_get(req, "connection", &vlen);
    if (conn && vlen == 5 && strncasecmp(conn, "close", 5) == 0)
        req->keep_alive = false;
    else if (conn && vlen == 10 && strncasecmp(conn, "keep-alive", 10) == 0)
        req->keep_alive = true;
    return (int)hlen;
}

const char *http_header_get(const http_request *req, const char *name, size_t *vlen)
{
    size_t n = strlen(name);
    for (int i = 0; i < req->nheaders; i++) {
        if (req->headers[i].nlen == n && strncasecmp(req->headers[i].name, name, n) == 0) {
            *vlen = req->headers[i].vlen;
            return req->headers[i].value;
        }
    }
    *vlen = 0;
    return NULL;
}

/* ================================================================ server */

struct http_conn {
    struct http_conn *prev, *next; /* the open connections, for the drain */
    struct bufferevent *bev;
    struct event *deadline; /* the current request must arrive by then */
    int refs;               /* the connection itself + holds */
    bool open;              /* the socket is still there */
    bool busy;              /* a request is being handled */
    bool close_after;       /* answer, then close */
    http_request req;
    char *reqbuf;                      /* header + body of the request being handled */
    char rid[HTTP_REQUEST_ID_LEN + 1]; /* the X-Request-Id of the answer */
};

/* Request ids: 8 hex digits drawn when the server starts, then a count:
 * unique across the gateway's processes (with odds of 1 in 2^32 per pair
 * of processes), without a random draw per request. */
static uint32_t http_rid_prefix, http_rid_seq;

static void http_next_rid(http_conn *c)
{
    snprintf(c->rid, sizeof(c->rid), "%08x%08x", http_rid_prefix, ++http_rid_seq);
}

const char *http_request_id(const http_conn *c)
{
    return c->rid;
}

static struct evconnlistener *http_listener;
static http_conn *http_conns; /* open connections, newest first */
static http_handler_fn http_handler;
static void *http_handler_arg;
static http_limits http_lim;
static int http_nconns;
static bool http_accepting = true;
static metric *http_m_conns, *http_m_refused, *http_m_timeouts;

static void http_conn_unref(http_conn *c)
{
    if (--c->refs > 0)
        return;
    free(c->reqbuf);
    free(c);
}

static void http_conn_close(http_conn *c)
{
    if (!c->open)
        return;
    c->open = false;
    if (c->prev)
        c->prev->next = c->next;
    else
        http_conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    if (c->deadline)
        event_free(c->deadline);
    c->deadline = NULL;
    bufferevent_free(c->bev);
    c->bev = NULL;
    http_nconns--;
    metrics_set(http_m_conns, http_nconns);
    http_conn_unref(c);
}

static void http_process(http_conn *c);

static void http_write_raw(http_conn *c, int status, const char *extra, const char *body,
                           size_t bodylen)
{
    static const struct {
        int code;
        const char *text;
    } reasons[] = {{200, "OK"},
                   {202, "Accepted"},
                   {400, "Bad Request"},
                   {401, "Unauthorized"},
                   {404, "Not Found"},
                   {405, "Method Not Allowed"},
                   {408, "Request Timeout"},
                   {409, "Conflict"},
                   {413, "Payload Too Large"},
                   {414, "URI Too Long"},
                   {415, "Unsupported Media Type"},
                   {429, "Too Many Requests"},
                   {431, "Request Header Fields Too Large"},
                   {500, "Internal Server Error"},
                   {501, "Not Implemented"},
                   {503, "Service Unavailable"},
                   {505, "HTTP Version Not Supported"}};
    const char *text = "Unknown";
    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
        if (reasons[i].code == status)
            text = reasons[i].text;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    if (c->rid[0] == '\0')
        http_next_rid(c); /* an answer before any request was whole */
    evbuffer_add_printf(out,
                        "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                        "Content-Length: %zu\r\nConnection: %s\r\nX-Request-Id: %s\r\n%s\r\n",
                        status, text, bodylen, c->close_after ? "close" : "keep-alive", c->rid,
                        extra ? extra : "");
    c->rid[0] = '\0'; /* the next request gets its own */
    evbuffer_add(out, body, bodylen);
}

static void http_error_json(char *buf, size_t len, const char *code, const char *message)
{
    char esc[512];
    log_json_escape(esc, sizeof(esc), message);
    snprintf(buf, len, "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}", code, esc);
}

/* An answer about the request itself, before any handler: then close. */
static void http_reject(http_conn *c, int status, const char *code, const char *why)
{
    char body[768];
    http_error_json(body, sizeof(body), code, why);
    c->close_after = true;
    http_write_raw(c, status, NULL, body, strlen(body));
    bufferevent_disable(c->bev, EV_READ);
    c->busy = true; /* nothing more is read; the write callback closes */
}

void http_respond(http_conn *c, int status, const char *extra_headers, const char *body,
                  size_t bodylen)
{
    if (c->open) {
        if (!c->req.keep_alive || http_accepting == false)
            c->close_after = true;
        http_write_raw(c, status, extra_headers, body, bodylen);
        c->busy = false;
        free(c->reqbuf);
        c->reqbuf = NULL;
        if (!c->close_after) {
            bufferevent_enable(c->bev, EV_READ);
            http_process(c); /* bytes that arrived meanwhile */
        }
    }
    http_conn_unref(c);
}

void http_respond_error(http_conn *c, int status, const char *code, const char *message)
{
    char body[768];
    http_error_json(body, sizeof(body), code, message);
    const char *extra = status == 503   ? "Retry-After: 1\r\n"
                        : status == 429 ? "Retry-After: 1\r\n"
                                        : NULL;
    http_respond(c, status, extra, body, strlen(body));
}

http_conn *http_hold(http_conn *c)
{
    c->refs++;
    return c;
}

bool http_conn_alive(const http_conn *c)
{
    return c->open;
}

static void http_on_deadline(evutil_socket_t fd, short what, void *arg)
{
    http_conn *c = arg;
    metrics_add(http_m_timeouts, 1);
    if (c->busy) /* the handler owns the answer; it will find the socket gone */
        return;
    http_reject(c, 408, "invalid_request", "request not received in time");
}

/* Tries to take one complete request from the input and dispatch it. */
static void http_process(http_conn *c)
{
    if (!c->open || c->busy)
        return;
    struct evbuffer *in = bufferevent_get_input(c->bev);
    size_t avail = evbuffer_get_length(in);
    if (avail == 0) {
        event_del(c->deadline);
        return;
    }
    if (!event_pending(c->deadline, EV_TIMEOUT, NULL)) {
        struct timeval tv = {http_lim.request_timeout_s, 0};
        event_add(c->deadline, &tv);
    }
    size_t look = avail < HTTP_MAX_HEADER_BYTES ? avail : HTTP_MAX_HEADER_BYTES;
    const char *buf = (const char *)evbuffer_pullup(in, (ssize_t)look);
    int status = 0;
    const char *why = NULL;
    int hl = http_parse(buf, look, &c->req, &status, &why);
    if (hl < 0) {
        const char *code = status == 413   ? "too_large"
                           : status == 414 ? "uri_too_long"
                           : status == 501 ? "not_implemented"
                                           : "invalid_request";
        http_reject(c, status, code, why);
        return;
    }
    if (hl == 0)
        return;
    size_t total = (size_t)hl + c->req.content_length;
    if (avail < total)
        return; /* wait for the body; the deadline bounds how long */
    event_del(c->deadline);
    c->reqbuf = malloc(total + 1);
    if (c->reqbuf == NULL) {
        http_reject(c, 503, "unavailable", "out of memory");
        return;
    }
    evbuffer_remove(in, c->reqbuf, total);
    c->reqbuf[total] = '\0';
    /* re-point the parsed headers into our own copy */
    int st2;
    const char *why2;
    http_parse(c->reqbuf, (size_t)hl, &c->req, &st2, &why2);
    c->req.body = c->reqbuf + hl;
    c->busy = true;
    bufferevent_disable(c->bev, EV_READ);
    http_next_rid(c);
    http_handler(http_hold(c), &c->req, http_handler_arg);
}

static void http_on_read(struct bufferevent *bev, void *arg)
{
    http_process(arg);
}

static void http_on_write(struct bufferevent *bev, void *arg)
{
    http_conn *c = arg;
    if (c->close_after && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
        http_conn_close(c);
}

static void http_on_event(struct bufferevent *bev, short what, void *arg)
{
    http_conn *c = arg;
    if (what & BEV_EVENT_TIMEOUT)
        metrics_add(http_m_timeouts, 1);
    http_conn_close(c);
}

static void http_on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                           int salen, void *arg)
{
    struct event_base *base = evconnlistener_get_base(l);
    if (http_nconns >= http_lim.max_connections || !http_accepting) {
        metrics_add(http_m_refused, 1);
        static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: "
                                   "application/json\r\nContent-Length: 79\r\nConnection: "
                                   "close\r\nRetry-After: 1\r\n\r\n{\"error\":{\"code\":"
                                   "\"unavailable\",\"message\":\"too many connections, retry\"}}";
        ssize_t w = send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        (void)w;
        evutil_closesocket(fd);
        return;
    }
    http_conn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        evutil_closesocket(fd);
        return;
    }
    c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
    c->deadline = evtimer_new(base, http_on_deadline, c);
    if (c->bev == NULL || c->deadline == NULL) {
        if (c->bev)
            bufferevent_free(c->bev);
        else
            evutil_closesocket(fd);
        if (c->deadline)
            event_free(c->deadline);
        free(c);
        return;
    }
    c->refs = 1;
    c->open = true;
    c->next = http_conns;
    if (http_conns)
        http_conns->prev = c;
    http_conns = c;
    http_nconns++;
    metrics_set(http_m_conns, http_nconns);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct timeval idle = {http_lim.idle_timeout_s, 0};
    bufferevent_set_timeouts(c->bev, &idle, NULL);
    bufferevent_setcb(c->bev, http_on_read, http_on_write, http_on_event, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

int http_server_start(struct event_base *base, const char *addr, int port,
                      const http_limits *limits, http_handler_fn handler, void *arg, char *err,
                      size_t errlen)
{
    http_m_conns =
        metrics_gauge("onecard_gateway_http_connections", "Open terminal connections.", NULL);
    http_m_refused = metrics_counter("onecard_gateway_http_connections_refused_total",
                                     "Connections refused over the connection limit.", NULL);
    http_m_timeouts = metrics_counter("onecard_gateway_http_timeouts_total",
                                      "Requests or idle connections that timed out.", NULL);
    http_handler = handler;
    http_handler_arg = arg;
    http_lim = *limits;
    event_random(&http_rid_prefix, sizeof(http_rid_prefix));
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
        snprintf(err, errlen, "ONECARD_HTTP_ADDR: \"%s\" is not an IPv4 address", addr);
        return -1;
    }
    http_listener = evconnlistener_new_bind(base, http_on_accept, NULL,
                                            LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 1024,
                                            (struct sockaddr *)&sin, sizeof(sin));
    if (http_listener == NULL) {
        snprintf(err, errlen, "cannot listen on %s:%d (port in use?)", addr, port);
        return -1;
    }
    return 0;
}

/* Idle: no request being handled or arriving, and the last answer written. */
static bool http_conn_idle(http_conn *c)
{
    return !c->busy && evbuffer_get_length(bufferevent_get_input(c->bev)) == 0 &&
           evbuffer_get_length(bufferevent_get_output(c->bev)) == 0;
}

void http_server_drain(void)
{
    http_accepting = false;
    if (http_listener)
        evconnlistener_free(http_listener);
    http_listener = NULL;
    int closed = 0, left = 0;
    http_conn *next;
    for (http_conn *c = http_conns; c; c = next) {
        next = c->next;
        if (http_conn_idle(c)) {
            http_conn_close(c);
            closed++;
        } else {
            c->close_after = true; /* answered, then closed (http_on_write) */
            left++;
        }
    }
    log_info("http_draining", "listener closed, %d idle connection(s) closed, %d finishing", closed,
             left);
}

int http_server_connections(void)
{
    return http_nconns;
}

void http_server_cleanup(void)
{
    if (http_listener)
        evconnlistener_free(http_listener);
    http_listener = NULL;
    /* whatever the drain left: a connection held by a request still in
     * flight is freed when that request is answered (http_respond) */
    while (http_conns)
        http_conn_close(http_conns);
}
