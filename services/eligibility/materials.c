/*
 * materials: checking and storing an application's documents. See
 * materials.h.
 */
#include "materials.h"

#include "applications.h"
#include "args.h"

#include "common/cli.h"
#include "common/sign.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *materials_check(const unsigned char *buf, size_t len, char *err, size_t errlen)
{
    if (len == 0) {
        snprintf(err, errlen, "the file is empty");
        return NULL;
    }
    if (len > MATERIALS_MAX_BYTES) {
        snprintf(err, errlen, "the file is %zu bytes, over the %d-byte (5 MiB) limit", len,
                 MATERIALS_MAX_BYTES);
        return NULL;
    }
    if (len >= 5 && memcmp(buf, "%PDF-", 5) == 0)
        return "application/pdf";
    if (len >= 3 && buf[0] == 0xff && buf[1] == 0xd8 && buf[2] == 0xff)
        return "image/jpeg";
    if (len >= 8 && memcmp(buf, "\x89PNG\r\n\x1a\n", 8) == 0)
        return "image/png";
    snprintf(err, errlen, "the file is not a PDF, a JPEG or a PNG (by its first bytes)");
    return NULL;
}

const char *const materials_kinds[] = {
    "certificate",        "diagnosis",    "assessment", "id-card",
    "household-register", "income-proof", "other",      NULL};

int materials_store(registry *r, const operators_who *who, const char *actor, const char *id,
                    const char *kind, const unsigned char *buf, size_t len, materials_stored *out)
{
    memset(out, 0, sizeof(*out));
    if (!args_one_of(kind, materials_kinds)) {
        registry_fail("kind must be certificate, diagnosis, assessment, id-card, "
                      "household-register, income-proof or other");
        return 1;
    }
    char err[512];
    const char *type = materials_check(buf, len, err, sizeof(err));
    if (type == NULL) {
        registry_fail("%s", err);
        return 1;
    }
    int rc = applications_access(r, who, id, true);
    if (rc != 0)
        return rc;
    char size[24];
    sign_sha256_hex(out->sha256, buf, len);
    snprintf(size, sizeof(size), "%zu", len);
    char *hex = malloc(2 * len + 3);
    if (hex == NULL) {
        registry_fail("out of memory");
        return CLI_DEPENDENCY;
    }
    hex[0] = '\\';
    hex[1] = 'x';
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        hex[2 + 2 * i] = digits[buf[i] >> 4];
        hex[3 + 2 * i] = digits[buf[i] & 15];
    }
    hex[2 + 2 * len] = '\0';
    if (registry_begin(r, actor) < 0) {
        free(hex);
        return CLI_DEPENDENCY;
    }
    const char *p[] = {id, kind, out->sha256, type, size, hex, actor};
    PGresult *res = pg_query(
        r->pg,
        "WITH a AS (SELECT person_id FROM elig_applications WHERE application_id = $1 AND state "
        "IN ('submitted', 'returned', 'village-reviewed', 'town-reviewed')), old AS (SELECT "
        "m.sha256 FROM elig_materials m JOIN a USING (person_id) WHERE m.kind = $2), up AS "
        "(INSERT INTO elig_materials (person_id, kind, sha256, content_type, size_bytes, "
        "content, uploaded_by) SELECT person_id, $2, $3, $4, $5::int, $6::bytea, $7 FROM a ON "
        "CONFLICT (person_id, kind) DO UPDATE SET sha256 = EXCLUDED.sha256, content_type = "
        "EXCLUDED.content_type, size_bytes = EXCLUDED.size_bytes, content = EXCLUDED.content, "
        "uploaded_by = EXCLUDED.uploaded_by, uploaded_at = now() WHERE elig_materials.sha256 <> "
        "EXCLUDED.sha256 RETURNING 1), link AS (INSERT INTO elig_application_materials SELECT "
        "$1, $2 FROM a ON CONFLICT DO NOTHING RETURNING 1) SELECT (SELECT count(*) FROM a), "
        "coalesce((SELECT sha256 FROM old), ''), (SELECT count(*) FROM up)",
        7, p, err, sizeof(err));
    free(hex);
    if (res == NULL) {
        registry_fail("%s", err);
        rc = CLI_DEPENDENCY;
    } else if (strcmp(PQgetvalue(res, 0, 0), "0") == 0) {
        registry_refuse(REFUSE_CONFLICT,
                        "no open application %.32s (materials go with an application under "
                        "review)",
                        id);
        rc = 1;
    }
    rc = registry_end(r, rc);
    if (rc == 0) {
        const char *old = PQgetvalue(res, 0, 1);
        out->type = type;
        out->how = strcmp(old, out->sha256) == 0 ? "reused" : old[0] ? "replaced" : "stored";
    }
    PQclear(res);
    return rc;
}

int materials_fetch(registry *r, const operators_who *who, const char *id, const char *kind,
                    materials_file *out)
{
    memset(out, 0, sizeof(*out));
    if (!args_one_of(kind, materials_kinds)) {
        registry_fail("kind must be certificate, diagnosis, assessment, id-card, "
                      "household-register, income-proof or other");
        return 1;
    }
    int rc = applications_access(r, who, id, false);
    if (rc != 0)
        return rc;
    char err[512];
    const char *p[] = {id, kind};
    PGresult *res = pg_query(r->pg,
                             "SELECT m.content_type, m.sha256, m.content FROM elig_materials m "
                             "JOIN elig_applications a USING (person_id) WHERE "
                             "a.application_id = $1 AND m.kind = $2",
                             2, p, err, sizeof(err));
    if (res == NULL) {
        registry_fail("%s", err);
        return CLI_DEPENDENCY;
    }
    if (PQntuples(res) == 0) {
        registry_refuse(REFUSE_NOT_FOUND, "no %s on file for application %.32s", kind, id);
        PQclear(res);
        return 1;
    }
    size_t n = 0;
    out->bytes = PQunescapeBytea((const unsigned char *)PQgetvalue(res, 0, 2), &n);
    if (out->bytes == NULL) {
        registry_fail("out of memory");
        PQclear(res);
        return CLI_DEPENDENCY;
    }
    out->len = n;
    snprintf(out->type, sizeof(out->type), "%s", PQgetvalue(res, 0, 0));
    snprintf(out->sha256, sizeof(out->sha256), "%s", PQgetvalue(res, 0, 1));
    PQclear(res);
    return 0;
}

void materials_file_free(materials_file *f)
{
    PQfreemem(f->bytes);
    memset(f, 0, sizeof(*f));
}

int materials_command(registry *r, int argc, char **argv)
{
    int npos = args_check(argc, argv, "kind,file,actor");
    const char *kind = args_opt(argc, argv, "kind"), *path = args_opt(argc, argv, "file");
    const char *actor = args_opt(argc, argv, "actor");
    if (npos != 1 || args_need(kind, "kind") || args_need(path, "file") ||
        args_need(actor, "actor"))
        return 1;
    if (!args_one_of(kind, materials_kinds)) {
        registry_fail("--kind must be certificate, diagnosis, assessment, id-card, "
                      "household-register, income-proof or other");
        return 1;
    }
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        registry_fail("--file %s: %s", path, strerror(errno));
        return 1;
    }
    unsigned char *buf = malloc(MATERIALS_MAX_BYTES + 1);
    size_t len = buf ? fread(buf, 1, MATERIALS_MAX_BYTES + 1, fp) : 0;
    fclose(fp);
    char err[512];
    if (buf == NULL || materials_check(buf, len, err, sizeof(err)) == NULL) {
        registry_fail("--file %s: %s", path, buf ? err : "out of memory");
        free(buf);
        return 1;
    }
    materials_stored st;
    int rc = materials_store(r, NULL, actor, argv[0], kind, buf, len, &st);
    free(buf);
    if (rc == 0)
        printf("application %s: %s %s, %zu bytes, sha256 %.16s… %s\n", argv[0], kind, st.type, len,
               st.sha256,
               strcmp(st.how, "reused") == 0     ? "(on file already: reused, not stored again)"
               : strcmp(st.how, "replaced") == 0 ? "(replaces the earlier version)"
                                                 : "(stored)");
    return rc;
}
