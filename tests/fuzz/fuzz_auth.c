/*
 * fuzz_auth: the terminal API's authentication on any request bytes: the
 * request is parsed as the server does (http_parse), then the four headers
 * are read and checked (auth_parse_headers) against a fixed clock, and the
 * signature is verified (auth_verify) with a fixed terminal secret, over
 * the body the request carries.
 *
 * Beyond "no crash, no undefined behaviour", it checks: accepted headers
 * are NUL-terminated, of the contract's lengths and alphabets, and the
 * timestamp is within the window of the clock; a refusal always says why;
 * and the constant-time comparison agrees with a plain one on the
 * signature computed here. The seeds (make-corpus.py) are requests signed
 * with FUZZ_SECRET at FUZZ_NOW, so the fuzzer starts from requests that
 * pass, and mutates from there.
 */
#include "auth.h"
#include "common/card.h"
#include "common/sign.h"
#include "fuzz.h"
#include "http.h"

#include <string.h>

#define FUZZ_NOW    INT64_C(1767225600) /* 2026-01-01T00:00:00Z */
#define FUZZ_SECRET "fuzz-terminal-secret"

static bool fuzz_all(const char *s, const char *alphabet)
{
    return s[strspn(s, alphabet)] == '\0';
}

static void fuzz_check_headers(const auth_headers *h)
{
    static const char id_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "0123456789_-";
    FUZZ_REQUIRE(memchr(h->terminal_id, '\0', sizeof(h->terminal_id)) != NULL);
    FUZZ_REQUIRE(memchr(h->timestamp, '\0', sizeof(h->timestamp)) != NULL);
    FUZZ_REQUIRE(memchr(h->nonce, '\0', sizeof(h->nonce)) != NULL);
    FUZZ_REQUIRE(memchr(h->signature, '\0', sizeof(h->signature)) != NULL);
    size_t tl = strlen(h->terminal_id), nl = strlen(h->nonce);
    FUZZ_REQUIRE(tl >= 1 && tl <= 64 && fuzz_all(h->terminal_id, id_chars));
    FUZZ_REQUIRE(nl >= 16 && nl <= 64 && fuzz_all(h->nonce, id_chars));
    FUZZ_REQUIRE(h->timestamp[0] != '\0' && fuzz_all(h->timestamp, "0123456789"));
    FUZZ_REQUIRE(h->siglen == SIGN_HEX_LEN && strlen(h->signature) == SIGN_HEX_LEN);
    FUZZ_REQUIRE(fuzz_all(h->signature, "0123456789abcdef"));
    FUZZ_REQUIRE(h->ts >= FUZZ_NOW - AUTH_WINDOW_S && h->ts <= FUZZ_NOW + AUTH_WINDOW_S);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    http_request req;
    int status;
    const char *why;
    int hl = http_parse(buf, size, &req, &status, &why);
    if (hl <= 0)
        return 0;
    /* the body: what the request carries, up to its Content-Length */
    const char *body = buf + hl;
    size_t bodylen = size - (size_t)hl;
    if (bodylen > req.content_length)
        bodylen = req.content_length;

    auth_headers h;
    memset(&h, 0, sizeof(h));
    char err[256];
    err[0] = '\0';
    if (auth_parse_headers(&req, FUZZ_NOW, &h, err, sizeof(err)) < 0) {
        FUZZ_REQUIRE(err[0] != '\0' && memchr(err, '\0', sizeof(err)) != NULL);
        return 0;
    }
    fuzz_check_headers(&h);
    bool ok = auth_verify(&h, FUZZ_SECRET, req.method, req.path, body, bodylen);
    char want[SIGN_HEX_LEN + 1];
    sign_request(want, FUZZ_SECRET, req.method, req.path, h.timestamp, h.nonce, body, bodylen);
    FUZZ_REQUIRE(ok == (strcmp(want, h.signature) == 0));
    /* a different secret never verifies what this one signed */
    if (ok)
        FUZZ_REQUIRE(!auth_verify(&h, FUZZ_SECRET "x", req.method, req.path, body, bodylen));

    /* the card number check, on the first bytes of the body */
    char card[24];
    size_t cl = bodylen < sizeof(card) - 1 ? bodylen : sizeof(card) - 1;
    memcpy(card, body, cl);
    card[cl] = '\0';
    (void)card_no_valid(card);
    return 0;
}
