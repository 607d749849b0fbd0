/*
 * operators: the federation's staff who review applications, and their
 * sessions.
 *
 *   operator add ID --role R --area A --actor X    (the password on stdin)
 *   operator login ID                              (the password on stdin;
 *                                                   prints a session token)
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
 * after 8 hours.
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

/* The operator signed in with token (a session not expired): 0, or 1 with
 * the reason printed (no such session, expired), 2 the store failed. */
int operators_session(registry *r, const char *token, operators_who *who);

/* The password on stdin (its first line, without the line end) into buf:
 * 0, or -1 (printed). */
int operators_read_password(char *buf, size_t len);

#endif
