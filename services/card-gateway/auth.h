/*
 * auth: the terminal API's request authentication, as pure functions: the
 * four headers' syntax, the timestamp window, and the HMAC-SHA256
 * signature compared in constant time. The terminal directory and the
 * nonce store (Redis) are the caller's.
 */
#ifndef GATEWAY_AUTH_H
#define GATEWAY_AUTH_H

#include "http.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUTH_WINDOW_S 300

typedef struct auth_headers {
    char terminal_id[65];
    char timestamp[24];
    char nonce[65];
    char signature[65];
    size_t siglen;
    int64_t ts;
} auth_headers;

/* Reads and checks X-Terminal-Id, X-Timestamp (within AUTH_WINDOW_S of
 * now_s), X-Nonce (16-64 of [A-Za-z0-9_-]) and X-Signature (64 lowercase
 * hex). Returns 0, or -1 with the reason in err. */
int auth_parse_headers(const http_request *req, int64_t now_s, auth_headers *out, char *err,
                       size_t errlen) __attribute__((warn_unused_result));

/* True when the signature matches secret over the request. */
bool auth_verify(const auth_headers *h, const char *secret, const char *method, const char *path,
                 const char *body, size_t bodylen);

#endif
