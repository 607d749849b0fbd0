/*
 * Unit tests of the terminal API's authentication (auth.c): the four
 * headers, the timestamp window, the signature over method, path,
 * timestamp, nonce and body, and the card number's Luhn check.
 */
#include "auth.h"
#include "check.h"
#include "common/card.h"
#include "common/sign.h"
#include "http.h"

#include <stdio.h>
#include <string.h>

#define NOW    INT64_C(1767225600)
#define SECRET "secret-a"
#define BODY   "{\"request_id\":\"r1\"}"

/* Builds a signed request into buf; each argument NULL leaves that header
 * out. Returns the length. */
static size_t build(char *buf, size_t cap, const char *id, const char *ts, const char *nonce,
                    const char *sig)
{
    char want[SIGN_HEX_LEN + 1];
    if (sig == NULL && ts && nonce) {
        sign_request(want, SECRET, "POST", "/v1/ratings", ts, nonce, BODY, strlen(BODY));
        sig = want;
    }
    int n =
        snprintf(buf, cap, "POST /v1/ratings HTTP/1.1\r\nContent-Length: %zu\r\n", strlen(BODY));
    if (id)
        n += snprintf(buf + n, cap - (size_t)n, "X-Terminal-Id: %s\r\n", id);
    if (ts)
        n += snprintf(buf + n, cap - (size_t)n, "X-Timestamp: %s\r\n", ts);
    if (nonce)
        n += snprintf(buf + n, cap - (size_t)n, "X-Nonce: %s\r\n", nonce);
    if (sig && strcmp(sig, "-") != 0)
        n += snprintf(buf + n, cap - (size_t)n, "X-Signature: %s\r\n", sig);
    n += snprintf(buf + n, cap - (size_t)n, "\r\n%s", BODY);
    return (size_t)n;
}

#define NONCE "0123456789abcdef"

static const struct {
    const char *id, *ts, *nonce, *sig;
    const char *err; /* NULL: accepted */
} rows[] = {
    {"T0001", "1767225600", NONCE, NULL, NULL},
    {"T0001", "1767225900", NONCE, NULL, NULL},            /* +300 s */
    {"T0001", "1767225300", NONCE, NULL, NULL},            /* -300 s */
    {"T0001", "1767225901", NONCE, NULL, "X-Timestamp"},   /* +301 s */
    {"T0001", "1767225299", NONCE, NULL, "X-Timestamp"},   /* -301 s */
    {"T0001", "999999999999", NONCE, NULL, "X-Timestamp"}, /* far future, 12 digits */
    {"T0001", "1767225600x", NONCE, NULL, "X-Timestamp"},
    {"T0001", "1767225600", "0123456789abcde", NULL, "X-Nonce"}, /* 15 */
    {"T0001", "1767225600", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
     NULL, NULL}, /* 64 */
    {"T0001", "1767225600", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0",
     NULL, "X-Nonce"}, /* 65 */
    {"T0001", "1767225600", "0123456789abcde.", NULL, "X-Nonce"},
    {"T 1", "1767225600", NONCE, NULL, "X-Terminal-Id"},
    {NULL, "1767225600", NONCE, NULL, "X-Terminal-Id"},
    {"T0001", NULL, NONCE, "-", "X-Timestamp"},
    {"T0001", "1767225600", NULL, "-", "X-Nonce"},
    {"T0001", "1767225600", NONCE, "-", "X-Signature"},
    {"T0001", "1767225600", NONCE,
     "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", "X-Signature"},
    {"T0001", "1767225600", NONCE, "0123456789abcdef", "X-Signature"},
};

int main(void)
{
    char buf[1024], err[256];
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        size_t len = build(buf, sizeof(buf), rows[i].id, rows[i].ts, rows[i].nonce, rows[i].sig);
        http_request req;
        int status;
        const char *why;
        int hl = http_parse(buf, len, &req, &status, &why);
        CHECK(hl > 0, "row %zu: http_parse: %s", i, hl < 0 ? why : "incomplete");
        if (hl <= 0)
            continue;
        auth_headers h;
        memset(&h, 0, sizeof(h));
        err[0] = '\0';
        int rc = auth_parse_headers(&req, NOW, &h, err, sizeof(err));
        if (rows[i].err) {
            CHECK(rc < 0 && strcasestr(err, rows[i].err) != NULL, "row %zu: rc %d \"%s\"", i, rc,
                  err);
            continue;
        }
        CHECK(rc == 0, "row %zu: refused: %s", i, err);
        CHECK(auth_verify(&h, SECRET, "POST", "/v1/ratings", buf + hl, strlen(BODY)),
              "row %zu: signature", i);
        CHECK(!auth_verify(&h, "secret-b", "POST", "/v1/ratings", buf + hl, strlen(BODY)),
              "row %zu: another secret", i);
        CHECK(!auth_verify(&h, SECRET, "POST", "/v1/swipes", buf + hl, strlen(BODY)),
              "row %zu: another path", i);
        CHECK(!auth_verify(&h, SECRET, "POST", "/v1/ratings", buf + hl, strlen(BODY) - 1),
              "row %zu: another body", i);
    }

    static const struct {
        const char *card;
        bool ok;
    } cards[] = {
        {"6222000000000001234", true}, {"4111111111111111", true},
        {"4111111111111112", false},   {"411111111111111", false},
        {"79927398713", false},        {"4111 111111111111", false},
        {"00000000000000000", true},   {"", false},
    };
    for (size_t i = 0; i < sizeof(cards) / sizeof(cards[0]); i++)
        CHECK(card_no_valid(cards[i].card) == cards[i].ok, "card %s", cards[i].card);
    return CHECK_DONE();
}
