/*
 * Unit tests of the gateway's HTTP request parser (http_parse): one row per
 * request, with the status it must be refused with (or 0 when it must be
 * accepted, or -1 when more bytes are needed). The rows marked "fuzz" are
 * inputs fuzz_http found; they stay here as regressions.
 */
#include "check.h"
#include "http.h"

#include <string.h>

#define CRLF "\r\n"

static const struct {
    const char *name;
    const char *req;
    size_t len; /* 0: strlen(req) */
    int status; /* 0 accepted, -1 incomplete, else the refusal's status */
} rows[] = {
    {"swipe", "POST /v1/swipes HTTP/1.1" CRLF "Content-Length: 2" CRLF CRLF "{}", 0, 0},
    {"no headers", "GET / HTTP/1.1" CRLF CRLF, 0, 0},
    {"incomplete", "POST /v1/swipes HTTP/1.1" CRLF "Content-Le", 0, -1},
    {"http/1.0", "GET / HTTP/1.0" CRLF CRLF, 0, 0},
    {"http/2", "GET / HTTP/2.0" CRLF CRLF, 0, 505},
    {"long method", "PROPFINDX / HTTP/1.1" CRLF CRLF, 0, 501},
    {"lower method", "post / HTTP/1.1" CRLF CRLF, 0, 400},
    {"no slash", "GET x HTTP/1.1" CRLF CRLF, 0, 400},
    {"chunked", "POST / HTTP/1.1" CRLF "Transfer-Encoding: chunked" CRLF CRLF, 0, 501},
    {"two lengths", "POST / HTTP/1.1" CRLF "Content-Length: 1" CRLF "content-length: 1" CRLF CRLF,
     0, 400},
    {"body too large", "POST / HTTP/1.1" CRLF "Content-Length: 8193" CRLF CRLF, 0, 413},
    {"length not digits", "POST / HTTP/1.1" CRLF "Content-Length: 1x" CRLF CRLF, 0, 400},
    {"space in name", "GET / HTTP/1.1" CRLF "Bad Name: x" CRLF CRLF, 0, 400},
    {"control in value", "GET / HTTP/1.1" CRLF "X-A: a\x01" CRLF CRLF, 0, 400},
    {"bare CR in header", "GET / HTTP/1.1" CRLF "X-A: a\rb" CRLF CRLF, 0, 400},
    /* fuzz: a CR alone ended the request line, and the byte after it was
     * skipped; then a NUL passed for a header name character */
    {"fuzz: CR without LF after the request line", "S / HTTP/1.1\r\0\0:" CRLF CRLF, 20, 400},
    {"CR without LF after the request line", "GET / HTTP/1.1\rXX-A: 1" CRLF CRLF, 0, 400},
    {"fuzz: NUL in a header name", "GET / HTTP/1.1" CRLF "X\0A: 1" CRLF CRLF, 26, 400},
    {"NUL as a header name", "GET / HTTP/1.1" CRLF "\0: 1" CRLF CRLF, 24, 400},
};

int main(void)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        size_t len = rows[i].len ? rows[i].len : strlen(rows[i].req);
        http_request req;
        int status = 0;
        const char *why = NULL;
        int hl = http_parse(rows[i].req, len, &req, &status, &why);
        if (rows[i].status == 0)
            CHECK(hl > 0, "%s: refused (%d, %s)", rows[i].name, status, why ? why : "");
        else if (rows[i].status == -1)
            CHECK(hl == 0, "%s: %d", rows[i].name, hl);
        else
            CHECK(hl < 0 && status == rows[i].status && why != NULL, "%s: got %d status %d",
                  rows[i].name, hl, status);
    }

    /* what an accepted request holds */
    static const char ok[] =
        "POST /v1/swipes HTTP/1.1" CRLF "Content-Type:  application/json \t" CRLF
        "CONTENT-LENGTH: 12" CRLF "Connection: close" CRLF CRLF "{\"a\":\"b\"}xx";
    http_request req;
    int status;
    const char *why;
    int hl = http_parse(ok, sizeof(ok) - 1, &req, &status, &why);
    CHECK(hl == (int)(strstr(ok, CRLF CRLF) - ok) + 4, "header length %d", hl);
    CHECK(strcmp(req.method, "POST") == 0 && strcmp(req.path, "/v1/swipes") == 0, "%s %s",
          req.method, req.path);
    CHECK(req.content_length == 12 && req.has_content_length && !req.keep_alive, "length, close");
    size_t vlen;
    const char *ct = http_header_get(&req, "content-type", &vlen);
    CHECK(ct && vlen == 16 && strncmp(ct, "application/json", 16) == 0, "value trimmed");
    CHECK(http_header_get(&req, "x-nonce", &vlen) == NULL && vlen == 0, "absent header");

    /* headers larger than 8 KiB, complete or not */
    static char big[HTTP_MAX_HEADER_BYTES + 64];
    memset(big, 'a', sizeof(big));
    memcpy(big, "GET / HTTP/1.1" CRLF "X-A: ", 21);
    CHECK(http_parse(big, sizeof(big), &req, &status, &why) < 0 && status == 431, "431");
    memcpy(big + sizeof(big) - 4, CRLF CRLF, 4);
    CHECK(http_parse(big, sizeof(big), &req, &status, &why) < 0 && status == 431, "431 whole");
    return CHECK_DONE();
}
