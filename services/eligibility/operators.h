/*
 * operators: the federation's staff who review applications, and their
 * sessions.
 *
 *   operator add ID --role R --area A --actor X    (the password on stdin)
 *   operator login ID                              (the password on stdin;
 *                                                   prints a session token)
 *   operator token ID --days N --label L --actor X (a token for a script,
 *                                                   valid N days, 1..366)
 *
 * Roles: village, town, district (the three review levels), finance,
 * auditor, administrator. A reviewer answers for one area: a village
 * reviewer for the village (as the registry names it), a town reviewer for
 * the town, a district approver for the district; the other roles for
 * "*". Passwords (10 characters at least) are kept as Argon2id encodings
 * (libargon2: 3 passes over 64 MiB, a 16-byte random salt), never in the
 * audit trail. Five wrong passwords in a row lock the operator for 15
 * minutes (a locked operator is refused without a check). A session token
 * (32 random bytes, hex) is shown once, kept as its SHA-256, and expires
 * after 8 hours; a script's token is a session of kind "token", as long
 * as it was made for. Either is sent to the operator API as a bearer
 * token or (a person's, signed in with the API) its session cookie; a
 * request with the cookie that changes anything also carries the
 * session's CSRF token (operators_csrf: derived from the token, so nothing
 * more is stored).
 *
 * The handler of commands.h's table: 0, 1 refused (printed), 2 the store
 * failed.
 */
#ifndef ELIG_OPERATORS_H
#define ELIG_OPERATORS_H

#include "registry.h"

#define OPERATORS_LOCK_AFTER 5

typedef struct operators_who {
    char id[33], role[16], area[128];
} operators_who;

int operators_command(registry *r, int argc, char **argv);

typedef struct operators_signed_in {
    operators_who who;
    char token[65];   /* shown once */
    char csrf[33];    /* operators_csrf(token) */
    char expires[32]; /* ISO 8601 with the offset */
} operators_signed_in;

/* Signs id in with password: 0 with a new session; 1 refused (a wrong
 * operator or password: REFUSE_UNAUTHORIZED, counted towards the lock; a
 * locked operator: REFUSE_LOCKED, not checked); 2 the store failed. */
int operators_login(registry *r, const char *id, const char *password, operators_signed_in *out);

/* Ends the session of token (nothing to end is not an error): 0 / 2. */
int operators_logout(registry *r, const char *token);

/* The CSRF token of a session: 32 hex of SHA-256("csrf:" + token). */
void operators_csrf(const char *token, char csrf[33]);

/* The operator signed in with token (a session not expired): 0, or 1 with
 * the reason printed (no such session, expired), 2 the store failed. */
int operators_session(registry *r, const char *token, operators_who *who);

/* The password on stdin (its first line, without the line end) into buf:
 * 0, or -1 (printed). */
int operators_read_password(char *buf, size_t len);

#endif
