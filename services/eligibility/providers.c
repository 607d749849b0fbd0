/*
 * providers: adding, designating, suspending and reinstating a provider.
 * See providers.h.
 *
 * Each is one audited PostgreSQL transaction; then the provider's record
 * in the directory is rewritten whole from PostgreSQL (status, category,
 * designated items: the gateway declines a suspended provider's next
 * swipe) and ProviderChanged is published with the same state.
 */
#include "providers.h"

#include "args.h"
#include "commands.h"

#include "common/cli.h"
#include "common/event.h"

#include "registry.pb-c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Writes the provider's directory record from PostgreSQL and publishes
 * ProviderChanged. */
static int providers_project(registry *r, const char *id, Onecard__V1__RegistryOp op,
                             const char *actor)
{
    char err[512];
    const char *p[] = {id};
    PGresult *res = pg_query(r->pg,
                             "SELECT p.status, p.category, p.name, p.district, coalesce((SELECT "
                             "string_agg(item_code, ',' ORDER BY item_code) FROM "
                             "elig_designations d WHERE d.provider_id = p.provider_id), '') FROM "
                             "elig_providers p WHERE provider_id = $1",
                             1, p, err, sizeof(err));
    if (res == NULL || PQntuples(res) != 1) {
        registry_fail("%s", res ? "no such provider" : err);
        PQclear(res);
        return -1;
    }
    directory_put_provider(&r->dir, id, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
                           PQgetvalue(res, 0, 4));
    int rc = registry_sync(r);
    char *items = strdup(PQgetvalue(res, 0, 4)), *list[CATALOGUE_MAX_ITEMS];
    size_t n = 0;
    for (char *s = strtok(items, ","); s && n < CATALOGUE_MAX_ITEMS; s = strtok(NULL, ","))
        list[n++] = s;
    Onecard__V1__ProviderChanged pc = ONECARD__V1__PROVIDER_CHANGED__INIT;
    char eid[EVENT_ID_LEN + 1];
    event_new_id(eid);
    pc.event_id = eid;
    pc.op = op;
    pc.provider_id = (char *)id;
    pc.name = PQgetvalue(res, 0, 2);
    pc.district = PQgetvalue(res, 0, 3);
    pc.status = PQgetvalue(res, 0, 0);
    pc.n_designated_items = n;
    pc.designated_items = list;
    pc.actor = (char *)actor;
    pc.occurred_at_ms = event_now_ms();
    if (rc == 0)
        rc = registry_publish(r, &pc.base, id);
    free(items);
    PQclear(res);
    return rc;
}

/* Designates items (a,b) to the provider, inside the transaction; an unknown
 * item code refuses all. 0 / -1 (printed). */
static int providers_designate(registry *r, const char *id, const char *items)
{
    char err[512];
    const char *p[] = {id, items};
    PGresult *res = pg_query(r->pg,
                             "SELECT string_agg(i, ',') FROM unnest(string_to_array($1, ',')) i "
                             "WHERE i NOT IN (SELECT code FROM elig_catalogue_items)",
                             1, p + 1, err, sizeof(err));
    if (res == NULL) {
        registry_fail("%s", err);
        return -1;
    }
    if (!PQgetisnull(res, 0, 0)) {
        registry_fail("unknown item code(s): %s", PQgetvalue(res, 0, 0));
        PQclear(res);
        return -1;
    }
    PQclear(res);
    if (pg_exec(r->pg,
                "INSERT INTO elig_designations SELECT $1::text, i FROM unnest(string_to_array($2, "
                "',')) "
                "i ON CONFLICT DO NOTHING",
                2, p, err, sizeof(err)) < 0) {
        registry_fail("%s", err);
        return -1;
    }
    return 0;
}

int providers_command(registry *r, int argc, char **argv)
{
    const char *sub = argv[0];
    argc--, argv++;
    int npos = args_check(argc, argv, "name,district,category,items,reason,actor");
    const char *actor = args_opt(argc, argv, "actor"), *items = args_opt(argc, argv, "items");
    if (npos != 1 || args_need(actor, "actor"))
        return 1;
    const char *id = argv[0];
    char err[512];
    if (strcmp(sub, "add") == 0) {
        const char *name = args_opt(argc, argv, "name"),
                   *district = args_opt(argc, argv, "district");
        const char *cat = args_opt(argc, argv, "category");
        if (args_need(name, "name") || args_need(district, "district") ||
            args_need(cat, "category") || args_need(items, "items") || registry_begin(r, actor) < 0)
            return 1;
        const char *p[] = {id, name, district, cat};
        if (pg_exec(r->pg,
                    "INSERT INTO elig_providers (provider_id, name, district, category, status) "
                    "VALUES ($1, $2, $3, $4, 'active')",
                    4, p, err, sizeof(err)) < 0) {
            registry_fail("%s", err);
            pg_rollback(r->pg);
            return 1;
        }
        if (providers_designate(r, id, items) < 0) {
            pg_rollback(r->pg);
            return 1;
        }
        if (registry_commit(r) < 0 ||
            providers_project(r, id, ONECARD__V1__REGISTRY_OP__CREATED, actor) < 0)
            return CLI_DEPENDENCY;
        printf("provider %s added\n", id);
        return 0;
    }
    if (strcmp(sub, "designate") == 0) {
        if (args_need(items, "items") || registry_begin(r, actor) < 0)
            return 1;
        if (providers_designate(r, id, items) < 0) {
            pg_rollback(r->pg);
            return 1;
        }
        if (registry_commit(r) < 0 ||
            providers_project(r, id, ONECARD__V1__REGISTRY_OP__UPDATED, actor) < 0)
            return CLI_DEPENDENCY;
        printf("provider %s designated %s\n", id, items);
        return 0;
    }
    if (strcmp(sub, "suspend") == 0 || strcmp(sub, "reinstate") == 0) {
        const char *reason = args_opt(argc, argv, "reason");
        bool suspend = sub[0] == 's';
        if (args_need(reason, "reason") || registry_begin(r, actor) < 0)
            return 1;
        const char *p[] = {id, suspend ? "suspended" : "active", reason};
        PGresult *res = pg_query(r->pg,
                                 "UPDATE elig_providers SET status = $2, reason = $3, updated_at "
                                 "= now() WHERE provider_id = $1 RETURNING 1",
                                 3, p, err, sizeof(err));
        if (res == NULL || PQntuples(res) != 1) {
            registry_fail("%s", res ? "no such provider" : err);
            PQclear(res);
            pg_rollback(r->pg);
            return res ? 1 : CLI_DEPENDENCY;
        }
        PQclear(res);
        if (registry_commit(r) < 0 || providers_project(r, id,
                                                        suspend ? ONECARD__V1__REGISTRY_OP__DISABLED
                                                                : ONECARD__V1__REGISTRY_OP__UPDATED,
                                                        actor) < 0)
            return CLI_DEPENDENCY;
        printf("provider %s %s\n", id, suspend ? "suspended" : "active");
        return 0;
    }
    return COMMANDS_USAGE;
}
