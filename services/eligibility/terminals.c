/*
 * terminals: adding and disabling a terminal. See terminals.h.
 *
 * A terminal's secret (32 random bytes, hex) is made here, stored in
 * PostgreSQL and the directory, and printed once; the terminal signs its
 * requests with it. The change is one audited transaction, then the
 * directory, then TerminalChanged (which never carries the secret).
 */
#include "terminals.h"

#include "args.h"
#include "commands.h"

#include "common/cli.h"
#include "common/event.h"

#include "registry.pb-c.h"

#include <stdio.h>
#include <string.h>

/* A terminal's secret: 32 random bytes as 64 hex digits and a NUL. */
static void terminals_secret(char out[65])
{
    unsigned char b[32];
    event_random(b, sizeof(b));
    for (size_t i = 0; i < sizeof(b); i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

int terminals_command(registry *r, int argc, char **argv)
{
    const char *sub = argv[0];
    argc--, argv++;
    int npos = args_check(argc, argv, "provider,actor");
    const char *actor = args_opt(argc, argv, "actor"), *prov = args_opt(argc, argv, "provider");
    if (npos != 1 || args_need(actor, "actor"))
        return 1;
    const char *id = argv[0];
    char err[512], secret[65];
    bool add = strcmp(sub, "add") == 0;
    if (!add && strcmp(sub, "disable") != 0)
        return COMMANDS_USAGE;
    if ((add && args_need(prov, "provider")) || registry_begin(r, actor) < 0)
        return 1;
    terminals_secret(secret);
    const char *p[] = {id, prov, secret};
    PGresult *res =
        add ? pg_query(r->pg,
                       "INSERT INTO elig_terminals (terminal_id, provider_id, secret, status) "
                       "VALUES ($1, $2, $3, 'active') RETURNING provider_id, secret, status",
                       3, p, err, sizeof(err))
            : pg_query(r->pg,
                       "UPDATE elig_terminals SET status = 'disabled', updated_at = now() WHERE "
                       "terminal_id = $1 RETURNING provider_id, secret, status",
                       1, p, err, sizeof(err));
    if (res == NULL || PQntuples(res) != 1) {
        registry_fail("%s", res ? "no such terminal" : err);
        PQclear(res);
        pg_rollback(r->pg);
        return 1;
    }
    directory_put_terminal(&r->dir, id, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
                           PQgetvalue(res, 0, 2));
    Onecard__V1__TerminalChanged tc = ONECARD__V1__TERMINAL_CHANGED__INIT;
    char eid[EVENT_ID_LEN + 1];
    event_new_id(eid);
    tc.event_id = eid;
    tc.op = add ? ONECARD__V1__REGISTRY_OP__CREATED : ONECARD__V1__REGISTRY_OP__DISABLED;
    tc.terminal_id = (char *)id;
    tc.provider_id = PQgetvalue(res, 0, 0);
    tc.status = PQgetvalue(res, 0, 2);
    tc.actor = (char *)actor;
    tc.occurred_at_ms = event_now_ms();
    int rc = registry_commit(r) < 0 || registry_sync(r) < 0 || registry_publish(r, &tc.base, id) < 0
                 ? CLI_DEPENDENCY
                 : 0;
    if (rc == 0 && add)
        printf("terminal %s secret %s (shown once)\n", id, secret);
    else if (rc == 0)
        printf("terminal %s disabled\n", id);
    PQclear(res);
    return rc;
}
