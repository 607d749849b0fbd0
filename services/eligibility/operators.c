/*
 * operators: adding operators, signing in, sessions. See operators.h.
 */
#include "operators.h"

#include "args.h"
#include "commands.h"

#include "common/cli.h"
#include "common/event.h"
#include "common/sign.h"

#include <argon2.h>
#include <stdio.h>
#include <string.h>

#define OPERATORS_T_COST   3
#define OPERATORS_M_COST   65536 /* KiB: 64 MiB */
#define OPERATORS_PARALLEL 1

static const char *const operators_roles[] = {"village", "town",          "district", "finance",
                                              "auditor", "administrator", NULL};

int operators_read_password(char *buf, size_t len)
{
    if (fgets(buf, (int)len, stdin) == NULL) {
        registry_fail("the password is read from stdin: none was given");
        return -1;
    }
    buf[strcspn(buf, "\r\n")] = '\0';
    return 0;
}

static void operators_hex(char *out, const unsigned char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static int operators_add(registry *r, int argc, char **argv)
{
    int npos = args_check(argc, argv, "role,area,actor");
    const char *role = args_opt(argc, argv, "role"), *area = args_opt(argc, argv, "area");
    const char *actor = args_opt(argc, argv, "actor");
    if (npos != 1 || args_need(role, "role") || args_need(area, "area") ||
        args_need(actor, "actor"))
        return 1;
    if (!args_one_of(role, operators_roles)) {
        registry_fail("--role must be village, town, district, finance, auditor or "
                      "administrator, not \"%.20s\"",
                      role);
        return 1;
    }
    bool reviewer =
        strcmp(role, "village") == 0 || strcmp(role, "town") == 0 || strcmp(role, "district") == 0;
    if (reviewer == (strcmp(area, "*") == 0)) {
        registry_fail(reviewer ? "--area: a %s reviewer answers for one %s, not \"*\""
                               : "--area: a %s operator's area is \"*\"",
                      role, role);
        return 1;
    }
    char password[256];
    if (operators_read_password(password, sizeof(password)) < 0)
        return 1;
    if (strlen(password) < 10) {
        registry_fail("the password must be 10 characters at least");
        return 1;
    }
    unsigned char salt[16];
    event_random(salt, sizeof(salt));
    char encoded[160];
    int rc =
        argon2id_hash_encoded(OPERATORS_T_COST, OPERATORS_M_COST, OPERATORS_PARALLEL, password,
                              strlen(password), salt, sizeof(salt), 32, encoded, sizeof(encoded));
    memset(password, 0, sizeof(password));
    if (rc != ARGON2_OK) {
        registry_fail("argon2id: %s", argon2_error_message(rc));
        return CLI_DEPENDENCY;
    }
    if (registry_begin(r, actor) < 0)
        return CLI_DEPENDENCY;
    char err[512];
    const char *p[] = {argv[0], role, area, encoded};
    PGresult *res = pg_query(r->pg,
                             "INSERT INTO elig_operators (operator_id, role, area, password_hash) "
                             "VALUES ($1, $2, $3, $4) ON CONFLICT (operator_id) DO NOTHING "
                             "RETURNING 1",
                             4, p, err, sizeof(err));
    int out = 0;
    if (res == NULL) {
        registry_fail("%s", strstr(err, "operator_id_check")
                                ? "operator id must be 2-32 of a-z 0-9 . _ -"
                                : err);
        out = strstr(err, "operator_id_check") ? 1 : CLI_DEPENDENCY;
    } else if (PQntuples(res) == 0) {
        registry_fail("operator %s exists already", argv[0]);
        out = 1;
    }
    PQclear(res);
    out = registry_end(r, out);
    if (out == 0)
        printf("operator %s: %s for %s\n", argv[0], role, area);
    return out;
}

int operators_login(registry *r, const char *id, const char *password, operators_signed_in *out)
{
    memset(out, 0, sizeof(*out));
    if (registry_begin(r, id) < 0)
        return CLI_DEPENDENCY;
    char err[512];
    const char *p[] = {id};
    PGresult *res = pg_query(r->pg,
                             "SELECT password_hash, locked_until > now(), "
                             "to_char(locked_until, 'YYYY-MM-DD HH24:MI'), disabled, role, area "
                             "FROM elig_operators WHERE operator_id = $1 FOR UPDATE",
                             1, p, err, sizeof(err));
    if (res == NULL) {
        registry_fail("%s", err);
        pg_rollback(r->pg);
        return CLI_DEPENDENCY;
    }
    int rc = 0;
    if (PQntuples(res) == 0 || strcmp(PQgetvalue(res, 0, 3), "t") == 0) {
        registry_refuse(REFUSE_UNAUTHORIZED, "wrong operator or password");
        rc = 1;
    } else if (strcmp(PQgetvalue(res, 0, 1), "t") == 0) {
        registry_refuse(REFUSE_LOCKED, "operator %s is locked until %s after %d wrong passwords",
                        id, PQgetvalue(res, 0, 2), OPERATORS_LOCK_AFTER);
        rc = 1;
    } else if (argon2id_verify(PQgetvalue(res, 0, 0), password, strlen(password)) != ARGON2_OK) {
        char lock[8];
        snprintf(lock, sizeof(lock), "%d", OPERATORS_LOCK_AFTER);
        const char *q[] = {id, lock};
        PGresult *u = pg_query(r->pg,
                               "UPDATE elig_operators SET failed_logins = failed_logins + 1, "
                               "locked_until = CASE WHEN failed_logins + 1 >= $2::int THEN now() "
                               "+ interval '15 minutes' END WHERE operator_id = $1 RETURNING "
                               "failed_logins",
                               2, q, err, sizeof(err));
        registry_refuse(REFUSE_UNAUTHORIZED, "wrong operator or password");
        PQclear(u);
        /* the failure is kept: committed */
        rc = registry_commit(r) < 0 ? CLI_DEPENDENCY : 1;
        PQclear(res);
        return rc;
    }
    if (rc != 0) {
        PQclear(res);
        pg_rollback(r->pg);
        return rc;
    }
    snprintf(out->who.id, sizeof(out->who.id), "%s", id);
    snprintf(out->who.role, sizeof(out->who.role), "%s", PQgetvalue(res, 0, 4));
    snprintf(out->who.area, sizeof(out->who.area), "%s", PQgetvalue(res, 0, 5));
    PQclear(res);
    unsigned char raw[32];
    char hash[SIGN_HEX_LEN + 1];
    event_random(raw, sizeof(raw));
    operators_hex(out->token, raw, sizeof(raw));
    sign_sha256_hex(hash, out->token, strlen(out->token));
    const char *q[] = {hash, id};
    res = pg_query(r->pg,
                   "WITH s AS (INSERT INTO elig_sessions (token_hash, operator_id, expires_at) "
                   "VALUES ($1, $2, now() + interval '8 hours') RETURNING expires_at) UPDATE "
                   "elig_operators SET failed_logins = 0, locked_until = NULL WHERE operator_id "
                   "= $2 RETURNING (SELECT to_char(expires_at, "
                   "'YYYY-MM-DD\"T\"HH24:MI:SSOF') FROM s)",
                   2, q, err, sizeof(err));
    if (res == NULL || registry_commit(r) < 0) {
        if (res == NULL)
            registry_fail("%s", err);
        pg_rollback(r->pg);
        PQclear(res);
        memset(out, 0, sizeof(*out));
        return CLI_DEPENDENCY;
    }
    snprintf(out->expires, sizeof(out->expires), "%s", PQgetvalue(res, 0, 0));
    operators_csrf(out->token, out->csrf);
    PQclear(res);
    return 0;
}

static int operators_login_command(registry *r, int argc, char **argv)
{
    if (args_check(argc, argv, "") != 1)
        return 1;
    char password[256];
    if (operators_read_password(password, sizeof(password)) < 0)
        return 1;
    operators_signed_in s;
    int rc = operators_login(r, argv[0], password, &s);
    memset(password, 0, sizeof(password));
    if (rc == 0) {
        /* 2026-12-05T18:00:00+08 -> 2026-12-05 18:00 */
        printf("session %s (operator %s, until %.10s %.5s)\n", s.token, argv[0], s.expires,
               s.expires + 11);
    }
    memset(&s, 0, sizeof(s));
    return rc;
}

/* A token for a script: a session of its own kind, for days. */
static int operators_token_command(registry *r, int argc, char **argv)
{
    int npos = args_check(argc, argv, "days,label,actor");
    const char *days = args_opt(argc, argv, "days"), *label = args_opt(argc, argv, "label");
    const char *actor = args_opt(argc, argv, "actor");
    int ndays;
    if (npos != 1 || args_need(days, "days") || args_need(label, "label") ||
        args_need(actor, "actor") || args_int(days, "days", 1, 366, &ndays) < 0)
        return 1;
    if (strlen(label) > 64) {
        registry_fail("--label: at most 64 characters");
        return 1;
    }
    unsigned char raw[32];
    char token[65], hash[SIGN_HEX_LEN + 1], err[512];
    event_random(raw, sizeof(raw));
    operators_hex(token, raw, sizeof(raw));
    sign_sha256_hex(hash, token, strlen(token));
    if (registry_begin(r, actor) < 0)
        return CLI_DEPENDENCY;
    const char *p[] = {hash, argv[0], days, label};
    PGresult *res = pg_query(r->pg,
                             "INSERT INTO elig_sessions (token_hash, operator_id, expires_at, "
                             "kind, label) SELECT $1, operator_id, now() + make_interval(days => "
                             "$3::int), 'token', $4 FROM elig_operators WHERE operator_id = $2 "
                             "AND NOT disabled RETURNING to_char(expires_at, 'YYYY-MM-DD')",
                             4, p, err, sizeof(err));
    int rc = 0;
    if (res == NULL) {
        registry_fail("%s", err);
        rc = CLI_DEPENDENCY;
    } else if (PQntuples(res) == 0) {
        registry_refuse(REFUSE_NOT_FOUND, "no operator %.32s", argv[0]);
        rc = 1;
    }
    rc = registry_end(r, rc);
    if (rc == 0)
        printf("token %s (operator %s, \"%s\", until %s): shown once; send it as "
               "\"Authorization: Bearer TOKEN\"\n",
               token, argv[0], label, PQgetvalue(res, 0, 0));
    PQclear(res);
    memset(token, 0, sizeof(token));
    return rc;
}

int operators_logout(registry *r, const char *token)
{
    char hash[SIGN_HEX_LEN + 1], err[512];
    sign_sha256_hex(hash, token, strlen(token));
    const char *p[] = {hash};
    if (pg_exec(r->pg, "DELETE FROM elig_sessions WHERE token_hash = $1", 1, p, err, sizeof(err)) <
        0) {
        registry_fail("%s", err);
        return CLI_DEPENDENCY;
    }
    return 0;
}

void operators_csrf(const char *token, char csrf[33])
{
    char in[80], hash[SIGN_HEX_LEN + 1];
    int n = snprintf(in, sizeof(in), "csrf:%s", token);
    sign_sha256_hex(hash, in, (size_t)n);
    snprintf(csrf, 33, "%.32s", hash);
}

int operators_session(registry *r, const char *token, operators_who *who)
{
    memset(who, 0, sizeof(*who));
    if (token == NULL || strlen(token) != 64 || strspn(token, "0123456789abcdef") != 64) {
        registry_refuse(REFUSE_UNAUTHORIZED, "not a session token (sign in: operator login ID)");
        return 1;
    }
    char hash[SIGN_HEX_LEN + 1], err[512];
    sign_sha256_hex(hash, token, strlen(token));
    const char *p[] = {hash};
    PGresult *res = pg_query(r->pg,
                             "SELECT o.operator_id, o.role, o.area, s.expires_at > now(), "
                             "o.disabled FROM elig_sessions s JOIN elig_operators o USING "
                             "(operator_id) WHERE s.token_hash = $1",
                             1, p, err, sizeof(err));
    if (res == NULL) {
        registry_fail("%s", err);
        return CLI_DEPENDENCY;
    }
    int rc = 0;
    if (PQntuples(res) == 0) {
        registry_refuse(REFUSE_UNAUTHORIZED, "no such session (sign in: operator login ID)");
        rc = 1;
    } else if (strcmp(PQgetvalue(res, 0, 3), "t") != 0 || strcmp(PQgetvalue(res, 0, 4), "t") == 0) {
        registry_refuse(REFUSE_UNAUTHORIZED, "the session has expired; sign in again");
        rc = 1;
    } else {
        snprintf(who->id, sizeof(who->id), "%s", PQgetvalue(res, 0, 0));
        snprintf(who->role, sizeof(who->role), "%s", PQgetvalue(res, 0, 1));
        snprintf(who->area, sizeof(who->area), "%s", PQgetvalue(res, 0, 2));
    }
    PQclear(res);
    return rc;
}

int operators_command(registry *r, int argc, char **argv)
{
    const char *sub = argv[0];
    argc--, argv++;
    if (strcmp(sub, "add") == 0)
        return operators_add(r, argc, argv);
    if (strcmp(sub, "login") == 0)
        return operators_login_command(r, argc, argv);
    if (strcmp(sub, "token") == 0)
        return operators_token_command(r, argc, argv);
    return COMMANDS_USAGE;
}
