/*
 * claims: the checks a quote and a reimbursement share. See claims.h.
 */
#include "claims.h"

#include "common/cli.h"
#include "common/money.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int claims_check(registry *r, const catalogue *c, directory_kind kind, const char *person_id,
                 const char *item_code, const char *amount, int32_t day, claims_claim *out)
{
    memset(out, 0, sizeof(*out));
    const rules_item *it = catalogue_find(c, item_code);
    if (it == NULL) {
        registry_fail("--item %.40s is not in the catalogue", item_code);
        return 1;
    }
    if (it->kind != kind) {
        registry_fail("--item %s is a %s item, not a %s item", it->code,
                      directory_kind_name(it->kind), directory_kind_name(kind));
        return 1;
    }
    if (amount == NULL || strspn(amount, "0123456789") != strlen(amount) ||
        !money_parse_fen(amount, &out->amount_fen) || out->amount_fen <= 0) {
        registry_fail("--amount \"%.24s\" is not a positive whole number of fen", amount);
        return 1;
    }
    char err[512];
    const char *p[] = {person_id};
    PGresult *res = pg_query(r->pg,
                             "SELECT c.card_no, " REGISTRY_PERSON_COLS " FROM "
                             "elig_persons p LEFT JOIN elig_cards "
                             "c ON c.person_id = p.person_id AND c.status = 'active' WHERE "
                             "p.person_id = $1 FOR UPDATE OF p",
                             1, p, err, sizeof(err));
    if (res == NULL) {
        registry_fail("%s", err);
        return CLI_DEPENDENCY;
    }
    int rc = 0;
    if (PQntuples(res) == 0) {
        registry_fail("person %.64s is not registered", person_id);
        rc = 1;
    } else if (PQgetisnull(res, 0, 0)) {
        registry_fail("person %.64s has no card in use (issue or unfreeze one first)", person_id);
        rc = 1;
    } else {
        rules_person rp = registry_person_row(res, 0, 1);
        rules_entitlement e[CATALOGUE_MAX_ITEMS];
        rules_entitlements(c->items, c->nitems, &rp, day, e);
        int k = (int)(it - c->items);
        char d[RULES_DATE_LEN];
        if (!e[k].entitled) {
            registry_fail("person %.64s is not entitled to %s on %s (%s)", person_id, it->code,
                          rules_date_format(d, day), it->eligibility);
            rc = 1;
        } else {
            snprintf(out->card_no, sizeof(out->card_no), "%s", PQgetvalue(res, 0, 0));
            snprintf(out->period, sizeof(out->period), "%.7s", rules_date_format(d, day));
            out->item = it;
        }
    }
    PQclear(res);
    return rc;
}

int claims_cap(registry *r, const claims_claim *cl, const char *person_id, const char *already_sql)
{
    char err[512], year[8];
    snprintf(year, sizeof(year), "%.4s", cl->period);
    const char *p[] = {person_id, cl->item->code, year};
    PGresult *res = pg_query(r->pg, already_sql, 3, p, err, sizeof(err));
    if (res == NULL) {
        registry_fail("%s", err);
        return CLI_DEPENDENCY;
    }
    int64_t already = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    if (already + cl->amount_fen > cl->item->annual_cap_fen) {
        registry_fail("%lld fen for %s is over its annual cap: %lld fen a year, %lld already "
                      "paid to this person in %s, %lld left",
                      (long long)cl->amount_fen, cl->item->code,
                      (long long)cl->item->annual_cap_fen, (long long)already, year,
                      (long long)(cl->item->annual_cap_fen - already));
        return 1;
    }
    return 0;
}
