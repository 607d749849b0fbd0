/*
 * http: the gateway's HTTP/1.1 server on libevent bufferevents.
 *
 * Written for the terminal API rather than taken from evhttp so that every
 * answer, including the ones about the request itself (too large, too slow,
 * malformed), is the contract's JSON, and so that the request parser is a
 * pure function a fuzzer can drive. Keep-alive; one request in flight per
 * connection (terminals do not pipeline; bytes that arrive early wait);
 * Content-Length bodies only; limits on header size, header count, body
 * size, connections, and the time a request may take to arrive.
 *
 * Loop thread only.
 */
#ifndef GATEWAY_HTTP_H
#define GATEWAY_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;

#define HTTP_MAX_HEADERS      32
#define HTTP_MAX_HEADER_BYTES 8192
#define HTTP_MAX_BODY         8192

typedef struct http_header {
    const char *name, *value;
    size_t nlen, vlen;
} http_header;

typedef struct http_request {
    char method[8];
    char path[256];
    http_header headers[HTTP_MAX_HEADERS];
    int nheaders;
    size_t content_length;
    bool has_content_length;
    bool keep_alive;
    size_t header_len; /* bytes of the request line and headers */
    const char *body;  /* set by the server before dispatch */
} http_request;

/* Parses the request line and headers at buf. Returns the header length
 * when complete, 0 when more bytes are needed, -1 on an error with the HTTP
 * status to answer in *status and the reason in *why. Header pointers point
 * into buf. Pure: no allocation, no I/O. */
int http_parse(const char *buf, size_t len, http_request *req, int *status, const char **why);

/* The value of a header (case-insensitive name), or NULL; *vlen its length. */
const char *http_header_get(const http_request *req, const char *name, size_t *vlen);

typedef struct http_conn http_conn;

/* Every answer carries an X-Request-Id header (16 hex digits) that names
 * it in the gateway's log lines: what a terminal vendor quotes to support.
 * The id of the request being handled on c. */
#define HTTP_REQUEST_ID_LEN 16
const char *http_request_id(const http_conn *c);

/* Called once per complete request. The handler answers now or later with
 * http_respond(); until then the connection reads nothing more. */
typedef void (*http_handler_fn)(http_conn *c, http_request *req, void *arg);

typedef struct http_limits {
    int max_connections;
    int request_timeout_s; /* from a request's first byte to its last */
    int idle_timeout_s;    /* keep-alive idle */
} http_limits;

int http_server_start(struct event_base *base, const char *addr, int port,
                      const http_limits *limits, http_handler_fn handler, void *arg, char *err,
                      size_t errlen) __attribute__((warn_unused_result));
/* The first step of a shutdown: closes the listening socket (new
 * connections are refused, not left waiting in the backlog), closes every
 * idle keep-alive connection at once, and lets the others finish the
 * request they are on: its answer says "Connection: close" and the
 * connection closes once it is written. */
void http_server_drain(void);
/* Closes every connection still open and the listener. A connection whose
 * request is still in flight is freed when that request is answered. */
void http_server_cleanup(void);
/* Open connections (the drain is over when this is 0). */
int http_server_connections(void);

/* Answers the connection's current request. extra_headers is NULL or lines
 * ending in \r\n. If c has closed meanwhile this only frees the request. */
void http_respond(http_conn *c, int status, const char *extra_headers, const char *body,
                  size_t bodylen);
/* Answers with the contract's error JSON. */
void http_respond_error(http_conn *c, int status, const char *code, const char *message);

/* A handle that outlives the connection: take one before going asynchronous
 * and give it back with http_respond (which releases it) or http_release. */
http_conn *http_hold(http_conn *c);
bool http_conn_alive(const http_conn *c);

#endif
