/*
 * fuzz_http: the gateway's HTTP/1.1 request parser, http_parse(), on any
 * bytes a terminal (or anyone who reaches port 8080) can send.
 *
 * Beyond "no crash, no read outside the buffer, no undefined behaviour",
 * it checks what the server in http.c builds on: a complete request's
 * header block ends in CRLF CRLF within the input and within 8 KiB; every
 * header points inside that block; the method and path are NUL-terminated
 * C strings; the body length is within the 8 KiB limit; an error always
 * names a status and a reason; and parsing the header block again from a
 * copy of exactly its length (which is what the server does once the body
 * has arrived) gives the same request.
 */
#include "fuzz.h"
#include "http.h"

#include <stdbool.h>
#include <string.h>

static bool fuzz_within(const char *p, size_t n, const char *lo, size_t len)
{
    return p >= lo && p <= lo + len && n <= (size_t)(lo + len - p);
}

static void fuzz_check_request(const http_request *req, const char *buf, size_t hl)
{
    FUZZ_REQUIRE(req->header_len == hl);
    FUZZ_REQUIRE(memchr(req->method, '\0', sizeof(req->method)) != NULL);
    FUZZ_REQUIRE(memchr(req->path, '\0', sizeof(req->path)) != NULL);
    FUZZ_REQUIRE(req->method[0] != '\0' && req->path[0] == '/');
    FUZZ_REQUIRE(req->nheaders >= 0 && req->nheaders <= HTTP_MAX_HEADERS);
    FUZZ_REQUIRE(req->content_length <= HTTP_MAX_BODY);
    FUZZ_REQUIRE(req->has_content_length || req->content_length == 0);
    for (int i = 0; i < req->nheaders; i++) {
        const http_header *h = &req->headers[i];
        FUZZ_REQUIRE(h->nlen > 0 && fuzz_within(h->name, h->nlen, buf, hl));
        FUZZ_REQUIRE(fuzz_within(h->value, h->vlen, buf, hl));
        FUZZ_REQUIRE(memchr(h->name, '\0', h->nlen) == NULL);
        FUZZ_REQUIRE(memchr(h->name, ':', h->nlen) == NULL);
        FUZZ_REQUIRE(memchr(h->value, '\r', h->vlen) == NULL);
        FUZZ_REQUIRE(memchr(h->value, '\n', h->vlen) == NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    http_request req;
    int status = 0;
    const char *why = NULL;
    int hl = http_parse(buf, size, &req, &status, &why);
    if (hl < 0) {
        FUZZ_REQUIRE(status >= 400 && status <= 599);
        FUZZ_REQUIRE(why != NULL && why[0] != '\0');
        return 0;
    }
    if (hl == 0) {
        FUZZ_REQUIRE(size < HTTP_MAX_HEADER_BYTES);
        return 0;
    }
    FUZZ_REQUIRE((size_t)hl <= size && hl <= HTTP_MAX_HEADER_BYTES);
    FUZZ_REQUIRE(memcmp(buf + hl - 4, "\r\n\r\n", 4) == 0);
    fuzz_check_request(&req, buf, (size_t)hl);

    /* the lookups the API makes */
    static const char *const names[] = {"content-type", "x-terminal-id", "x-timestamp",
                                        "x-nonce",      "x-signature",   "connection"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        size_t vlen = 99;
        const char *v = http_header_get(&req, names[i], &vlen);
        FUZZ_REQUIRE(v != NULL || vlen == 0);
        FUZZ_REQUIRE(v == NULL || fuzz_within(v, vlen, buf, (size_t)hl));
    }

    /* the server's second parse, from its own copy of the header block */
    char *copy = malloc((size_t)hl);
    FUZZ_REQUIRE(copy != NULL);
    memcpy(copy, buf, (size_t)hl);
    http_request again;
    int st2 = 0;
    const char *why2 = NULL;
    FUZZ_REQUIRE(http_parse(copy, (size_t)hl, &again, &st2, &why2) == hl);
    fuzz_check_request(&again, copy, (size_t)hl);
    FUZZ_REQUIRE(again.nheaders == req.nheaders);
    FUZZ_REQUIRE(again.content_length == req.content_length);
    FUZZ_REQUIRE(again.keep_alive == req.keep_alive);
    FUZZ_REQUIRE(strcmp(again.method, req.method) == 0 && strcmp(again.path, req.path) == 0);
    free(copy);
    return 0;
}
