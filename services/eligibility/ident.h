/*
 * ident: the identifiers of the registry, checked before anything is
 * stored: the 18-character national id (GB 11643, ISO 7064 MOD 11-2 check
 * character) and the person id derived from it (card numbers follow
 * libs/common/card.h).
 *
 * The national id is never stored: person_id = hex(SHA-256(salt ":" id)),
 * with the id's trailing 'x' upper-cased first, so the same person always
 * gets the same key and a copy of the database without the salt does not
 * reveal ids. Pure functions; any thread.
 */
#ifndef ELIG_IDENT_H
#define ELIG_IDENT_H

#include <stdbool.h>
#include <stddef.h>

#define IDENT_PERSON_LEN 64

/* 0 when id is a well-formed national id with a correct check character
 * and a plausible birth date; -1 with the reason in err. */
int ident_national_id_check(const char *id, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Writes the person id (IDENT_PERSON_LEN hex + NUL) of a checked id. */
void ident_person_id(char *out, const char *salt, const char *id);

#endif
