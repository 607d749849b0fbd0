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

/* The value of "key": "..." after *p (JSON escapes \" \\ \n \/ undone), and
 * *p moved past it; -1 when there is none or it does not fit. */
static int vec_string(const char **p, const char *key, char *out, size_t cap)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "\"%s\": \"", key);
    const char *s = strstr(*p, pat);
    if (s == NULL)
        return -1;
    s += strlen(pat);
    size_t n = 0;
    for (; *s && *s != '"'; s++) {
        char c = *s;
        if (c == '\\') {
            s++;
            c = *s == 'n' ? '\n' : *s; /* \" \\ \/ stand for themselves */
            if (*s != 'n' && *s != '"' && *s != '\\' && *s != '/')
                return -1; /* an escape the vectors never use */
        }
        if (n + 1 >= cap)
            return -1;
        out[n++] = c;
    }
    out[n] = '\0';
    *p = s;
    return *s == '"' ? 0 : -1;
}

/* docs/terminal-api-vectors.json: every vector's signature is what the
 * gateway computes, and what it accepts. */
static void test_vectors(void)
{
    FILE *fp = fopen(TERMINAL_API_VECTORS, "rb");
    CHECK(fp != NULL, "%s is readable", TERMINAL_API_VECTORS);
    if (fp == NULL)
        return;
    static char doc[1 << 15];
    doc[fread(doc, 1, sizeof(doc) - 1, fp)] = '\0';
    fclose(fp);
    const char *p = doc;
    int n = 0;
    char name[256], secret[128], method[8], path[256], ts[24], nonce[65], body[2048];
    char bodyhash[72], sts[512], sig[65];
    while (vec_string(&p, "name", name, sizeof(name)) == 0) {
        int bad = vec_string(&p, "secret", secret, sizeof(secret)) ||
                  vec_string(&p, "method", method, sizeof(method)) ||
                  vec_string(&p, "path", path, sizeof(path)) ||
                  vec_string(&p, "timestamp", ts, sizeof(ts)) ||
                  vec_string(&p, "nonce", nonce, sizeof(nonce)) ||
                  vec_string(&p, "body", body, sizeof(body)) ||
                  vec_string(&p, "body_sha256", bodyhash, sizeof(bodyhash)) ||
                  vec_string(&p, "string_to_sign", sts, sizeof(sts)) ||
                  vec_string(&p, "signature", sig, sizeof(sig));
        CHECK(!bad, "vector \"%s\": every field is there", name);
        if (bad)
            return;
        char hash[SIGN_HEX_LEN + 1], mine[SIGN_HEX_LEN + 1], want_sts[512];
        sign_sha256_hex(hash, body, strlen(body));
        CHECK(strcmp(hash, bodyhash) == 0, "vector \"%s\": body_sha256", name);
        snprintf(want_sts, sizeof(want_sts), "%s\n%s\n%s\n%s\n%s", method, path, ts, nonce, hash);
        CHECK(strcmp(want_sts, sts) == 0, "vector \"%s\": string_to_sign", name);
        sign_request(mine, secret, method, path, ts, nonce, body, strlen(body));
        CHECK(strcmp(mine, sig) == 0, "vector \"%s\": signature %s, the gateway's %s", name, sig,
              mine);
        auth_headers h;
        memset(&h, 0, sizeof(h));
        snprintf(h.terminal_id, sizeof(h.terminal_id), "T0001");
        snprintf(h.timestamp, sizeof(h.timestamp), "%s", ts);
        snprintf(h.nonce, sizeof(h.nonce), "%s", nonce);
        h.siglen = (size_t)snprintf(h.signature, sizeof(h.signature), "%s", sig);
        CHECK(auth_verify(&h, secret, method, path, body, strlen(body)),
              "vector \"%s\": auth_verify accepts it", name);
        body[0] = body[0] ? (char)(body[0] ^ 1) : 'x';
        CHECK(!auth_verify(&h, secret, method, path, body, strlen(body)),
              "vector \"%s\": and refuses another body", name);
        n++;
    }
    CHECK(n >= 5, "%d vectors read", n);
}

int main(void)
{
    test_vectors();
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
