/*
 * auth: header checks and signatures of the terminal API. See auth.h.
 */
#include "auth.h"
#include "common/sign.h"

#include <stdio.h>
#include <string.h>

static bool auth_id_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '-';
}

static int auth_copy(const http_request *req, const char *name, char *out, size_t cap,
                     size_t minlen, size_t maxlen, bool (*ok)(char), char *err, size_t errlen)
{
    size_t vlen;
    const char *v = http_header_get(req, name, &vlen);
    if (v == NULL) {
        snprintf(err, errlen, "header %s is missing", name);
        return -1;
    }
    if (vlen < minlen || vlen > maxlen || vlen >= cap) {
        snprintf(err, errlen, "header %s must be %zu to %zu characters", name, minlen, maxlen);
        return -1;
    }
    for (size_t i = 0; i < vlen; i++) {
        if (!ok(v[i])) {
            snprintf(err, errlen, "header %s has a character outside its alphabet", name);
            return -1;
        }
    }
    memcpy(out, v, vlen);
    out[vlen] = '\0';
    return (int)vlen;
}

static bool auth_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

static bool auth_lower_hex(char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
}

int auth_parse_headers(const http_request *req, int64_t now_s, auth_headers *out, char *err,
                       size_t errlen)
{
    if (auth_copy(req, "x-terminal-id", out->terminal_id, sizeof(out->terminal_id), 1, 64,
                  auth_id_char, err, errlen) < 0 ||
        auth_copy(req, "x-timestamp", out->timestamp, sizeof(out->timestamp), 1, 12, auth_digit,
                  err, errlen) < 0 ||
        auth_copy(req, "x-nonce", out->nonce, sizeof(out->nonce), 16, 64, auth_id_char, err,
                  errlen) < 0)
        return -1;
    int sl = auth_copy(req, "x-signature", out->signature, sizeof(out->signature), 64, 64,
                       auth_lower_hex, err, errlen);
    if (sl < 0)
        return -1;
    out->siglen = (size_t)sl;
    int64_t ts = 0;
    for (const char *p = out->timestamp; *p; p++)
        ts = ts * 10 + (*p - '0');
    out->ts = ts;
    if (ts < now_s - AUTH_WINDOW_S || ts > now_s + AUTH_WINDOW_S) {
        snprintf(err, errlen, "header X-Timestamp is more than %d s from the gateway's clock",
                 AUTH_WINDOW_S);
        return -1;
    }
    return 0;
}

bool auth_verify(const auth_headers *h, const char *secret, const char *method, const char *path,
                 const char *body, size_t bodylen)
{
    char want[SIGN_HEX_LEN + 1];
    sign_request(want, secret, method, path, h->timestamp, h->nonce, body, bodylen);
    return sign_equal(want, h->signature, h->siglen);
}
