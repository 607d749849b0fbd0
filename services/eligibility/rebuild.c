/*
 * rebuild: `rebuild-directory`. See rebuild.h.
 *
 * The catalogue, then three reads (providers, terminals, cards with their
 * holders' attributes), then the writes: the cards' in pipelines sent
 * every 500 cards, so no pipeline grows with the population.
 */
#include "rebuild.h"

#include "attendance.h"

#include "common/cli.h"

#include <stdio.h>
#include <stdlib.h>

int rebuild_command(registry *r, int argc, char **argv)
{
    char err[512];
    catalogue c;
    if (registry_catalogue(r, registry_today(), &c) < 0)
        return CLI_DEPENDENCY;
    for (int i = 0; i < c.nitems; i++)
        registry_project_item(r, &c.items[i]);
    PGresult *pv = pg_query(r->pg,
                            "SELECT provider_id, status, category, coalesce((SELECT "
                            "string_agg(item_code, ',' ORDER BY item_code) FROM elig_designations "
                            "d WHERE d.provider_id = p.provider_id), '') FROM elig_providers p",
                            0, NULL, err, sizeof(err));
    PGresult *tm = pv ? pg_query(r->pg,
                                 "SELECT terminal_id, provider_id, secret, status FROM "
                                 "elig_terminals",
                                 0, NULL, err, sizeof(err))
                      : NULL;
    char sql[1024];
    snprintf(
        sql, sizeof(sql),
        "SELECT c.card_no, c.person_id, c.status, c.pin_salt, c.pin_hash, " REGISTRY_PERSON_COLS
        ", %s FROM elig_cards c JOIN elig_persons p USING (person_id)",
        registry_quotes_sql);
    PGresult *cd = tm ? pg_query(r->pg, sql, 0, NULL, err, sizeof(err)) : NULL;
    if (cd == NULL) {
        registry_fail("%s", err);
        PQclear(pv);
        PQclear(tm);
        catalogue_free(&c);
        return CLI_DEPENDENCY;
    }
    for (int i = 0; i < PQntuples(pv); i++)
        directory_put_provider(&r->dir, PQgetvalue(pv, i, 0), PQgetvalue(pv, i, 1),
                               PQgetvalue(pv, i, 2), PQgetvalue(pv, i, 3));
    for (int i = 0; i < PQntuples(tm); i++)
        directory_put_terminal(&r->dir, PQgetvalue(tm, i, 0), PQgetvalue(tm, i, 1),
                               PQgetvalue(tm, i, 2), PQgetvalue(tm, i, 3));
    int32_t today = registry_today();
    int rc = registry_sync(r);
    for (int i = 0; i < PQntuples(cd) && rc == 0; i++) {
        const char *card = PQgetvalue(cd, i, 0), *status = PQgetvalue(cd, i, 2);
        directory_put_card_hashed(&r->dir, card, PQgetvalue(cd, i, 1), status, PQgetvalue(cd, i, 3),
                                  PQgetvalue(cd, i, 4));
        rules_person rp = registry_person_row(cd, i, 5);
        registry_project_entitlements(r, &c, card, &rp, today);
        registry_project_quotes(r, card, PQgetvalue(cd, i, PQnfields(cd) - 1));
        if (i % 500 == 499)
            rc = registry_sync(r);
    }
    /* the items the 在训 check paused (attendance.h) */
    if (rc == 0 && attendance_project_all(r) < 0)
        rc = CLI_DEPENDENCY;
    if (rc == 0)
        rc = registry_sync(r);
    if (rc == 0)
        printf("directory rebuilt: %d items, %d providers, %d terminals, %d cards\n", c.nitems,
               PQntuples(pv), PQntuples(tm), PQntuples(cd));
    PQclear(pv);
    PQclear(tm);
    PQclear(cd);
    catalogue_free(&c);
    return rc == 0 ? 0 : CLI_DEPENDENCY;
}
