/*
 * materials: the documents an application rests on.
 *
 *   application material APP_ID --kind K --file PATH --actor A
 *
 * Kinds: certificate, diagnosis, assessment, id-card, household-register,
 * income-proof, other. A file must be a PDF, a JPEG or a PNG (told by its
 * first bytes, not its name) of at most 5 MiB; anything else is refused
 * before a byte is stored. Each kind is stored once per person, named by
 * its SHA-256: the same file again is reused, not stored twice; a new
 * version replaces the old one; a later application of the person finds
 * it on file (application show lists it). The content is in PostgreSQL
 * (elig_materials), never in a log.
 *
 * materials_check is the pure part (the fuzz target's): the content type
 * of the bytes, or why they are refused.
 */
#ifndef ELIG_MATERIALS_H
#define ELIG_MATERIALS_H

#include "operators.h"
#include "registry.h"

#include <stddef.h>

#define MATERIALS_MAX_BYTES (5 * 1024 * 1024)

/* The content type of buf (application/pdf, image/jpeg, image/png), or
 * NULL with err saying why it is refused (empty, over 5 MiB, another
 * type). */
const char *materials_check(const unsigned char *buf, size_t len, char *err, size_t errlen);

/* The handler of "application material". */
int materials_command(registry *r, int argc, char **argv);

/* The kinds, NULL-terminated. */
extern const char *const materials_kinds[];

typedef struct materials_stored {
    char sha256[65];
    const char *type; /* the content type the bytes are */
    const char *how;  /* stored, replaced (a new version), reused (the same again) */
} materials_stored;

/* Stores a material of an open application (who: an operator who may act
 * for the person, applications_access; NULL: a command's actor): 0, 1
 * refused, 3 failed. */
int materials_store(registry *r, const operators_who *who, const char *actor, const char *id,
                    const char *kind, const unsigned char *buf, size_t len, materials_stored *out);

typedef struct materials_file {
    unsigned char *bytes;
    size_t len;
    char type[32], sha256[65];
} materials_file;

/* The person's material of a kind, as who may see it (in their area). */
int materials_fetch(registry *r, const operators_who *who, const char *id, const char *kind,
                    materials_file *out);
void materials_file_free(materials_file *f);

#endif
