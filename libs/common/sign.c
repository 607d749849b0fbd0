/*
 * sign: HMAC-SHA256 request signatures and PIN proofs with OpenSSL's
 * libcrypto. See sign.h.
 */
#include "common/sign.h"
#include "common/event.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

static void sign_hex(char *out, const unsigned char *d, size_t n)
{
    static const char hexd[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hexd[d[i] >> 4];
        out[2 * i + 1] = hexd[d[i] & 15];
    }
    out[2 * n] = '\0';
}

void sign_sha256_hex(char *out, const void *data, size_t len)
{
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256(data, len, d);
    sign_hex(out, d, sizeof(d));
}

static void sign_hmac_hex(char *out, const char *key, const char *msg, size_t msglen)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)msg, msglen, d, &dlen);
    sign_hex(out, d, dlen);
}

void sign_request(char *out, const char *secret, const char *method, const char *path,
                  const char *timestamp, const char *nonce, const void *body, size_t bodylen)
{
    char bodyhash[SIGN_HEX_LEN + 1];
    char msg[1024];
    sign_sha256_hex(bodyhash, body, bodylen);
    int n =
        snprintf(msg, sizeof(msg), "%s\n%s\n%s\n%s\n%s", method, path, timestamp, nonce, bodyhash);
    if (n < 0 || (size_t)n >= sizeof(msg))
        n = (int)sizeof(msg) - 1; /* inputs are bounded by the parser well below this */
    sign_hmac_hex(out, secret, msg, (size_t)n);
}

bool sign_equal(const char *a, const char *b, size_t blen)
{
    if (blen != SIGN_HEX_LEN)
        return false;
    return CRYPTO_memcmp(a, b, SIGN_HEX_LEN) == 0;
}

void sign_pin_proof(char *out, const char *pepper, const char *card_no, const char *pin)
{
    char msg[128];
    int n = snprintf(msg, sizeof(msg), "%s:%s", card_no, pin);
    sign_hmac_hex(out, pepper, msg, n < 0 ? 0 : (size_t)n);
}

void sign_pin_hash(char *out, const char *salt, const char *proof)
{
    unsigned char d[SHA_DIGEST_LENGTH];
    char msg[256];
    int n = snprintf(msg, sizeof(msg), "%s%s", salt, proof);
    SHA1((const unsigned char *)msg, n < 0 ? 0 : (size_t)n, d);
    sign_hex(out, d, sizeof(d));
}

void sign_pin_new(char salt[33], char hash[41], const char *pepper, const char *card_no,
                  const char *pin)
{
    unsigned char r[16];
    char proof[SIGN_HEX_LEN + 1];
    event_random(r, sizeof(r));
    sign_hex(salt, r, sizeof(r));
    sign_pin_proof(proof, pepper, card_no, pin);
    sign_pin_hash(hash, salt, proof);
}
