/*
 * sign: the terminal request signature of the terminal API, and the PIN
 * proof, shared by the gateway (which verifies), the load generator and the
 * tests (which sign), and the registry (which stores PIN hashes).
 *
 *   signature = hex(HMAC-SHA256(secret, METHOD "\n" PATH "\n" TIMESTAMP "\n"
 *                                       NONCE "\n" hex(SHA256(body))))
 *
 * The PIN never leaves the gateway in clear: it becomes
 *   proof = hex(HMAC-SHA256(pepper, card_no ":" pin))
 * and Redis keeps only SHA1(salt || proof) (Lua's redis.sha1hex), so a copy
 * of Redis without the gateway's pepper cannot be brute-forced.
 */
#ifndef ONECARD_SIGN_H
#define ONECARD_SIGN_H

#include <stdbool.h>
#include <stddef.h>

#define SIGN_HEX_LEN 64 /* hex of a SHA-256 digest */

/* Writes the signature's lowercase hex + NUL into out (SIGN_HEX_LEN + 1). */
void sign_request(char *out, const char *secret, const char *method, const char *path,
                  const char *timestamp, const char *nonce, const void *body, size_t bodylen);

/* Constant-time comparison of two hex strings of length SIGN_HEX_LEN. */
bool sign_equal(const char *a, const char *b, size_t blen);

/* hex(SHA256(data)) into out (SIGN_HEX_LEN + 1). */
void sign_sha256_hex(char *out, const void *data, size_t len);

/* The PIN proof (SIGN_HEX_LEN + 1). */
void sign_pin_proof(char *out, const char *pepper, const char *card_no, const char *pin);

/* The stored PIN hash: hex(SHA1(salt || proof)) (40 + 1). */
void sign_pin_hash(char *out, const char *salt, const char *proof);

/* A new stored PIN: a random salt (32 hex + NUL) and the hash of the salt
 * and the PIN's proof (40 hex + NUL). The one way a PIN is stored, by the
 * registry and by the directory's card records. */
void sign_pin_new(char salt[33], char hash[41], const char *pepper, const char *card_no,
                  const char *pin);

#endif
