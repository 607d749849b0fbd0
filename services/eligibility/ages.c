/*
 * ages: the daily sweep of age limits. See ages.h.
 *
 * The candidates are a thirtieth of the holders (born on the day's day of
 * a month); the comparison of the day before with the day keeps only those
 * whose card changes, usually the few with a birthday at an age limit. The
 * writes go in pipelines of 500 cards, like rebuild-directory's.
 */
#include "ages.h"

#include "args.h"
#include "catalogue.h"
#include "commands.h"
#include "rules.h"

#include "common/cli.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AGES_CATCH_UP_DAYS 31

static bool ages_differ(const rules_entitlement *a, const rules_entitlement *b, int n)
{
    for (int i = 0; i < n; i++)
        if (a[i].entitled != b[i].entitled || a[i].annual_cap_fen != b[i].annual_cap_fen)
            return true;
    return false;
}

int ages_sweep(registry *r, int32_t day, const char *actor, int *cards, char *err, size_t errlen)
{
    int y, m, d;
    rules_civil(day, &y, &m, &d);
    char date[RULES_DATE_LEN], dom[4];
    rules_date_format(date, day);
    snprintf(dom, sizeof(dom), "%d", d);
    *cards = 0;
    catalogue c;
    if (registry_catalogue(r, day, &c) < 0) {
        snprintf(err, errlen, "no catalogue");
        return -1;
    }
    if (registry_begin_err(r, actor, err, errlen) < 0) {
        catalogue_free(&c);
        return -1;
    }
    const char *p[] = {dom};
    PGresult *res = pg_query(r->pg,
                             "SELECT c.card_no, " REGISTRY_PERSON_COLS " FROM "
                             "elig_persons p JOIN elig_cards c "
                             "USING (person_id) WHERE c.status IN ('active', 'frozen') AND "
                             "(extract(day FROM p.birth_date) = $1::int OR ($1::int = 1 AND "
                             "extract(day FROM p.birth_date) > 28))",
                             1, p, err, errlen);
    int rc = res ? 0 : -1;
    rules_entitlement before[CATALOGUE_MAX_ITEMS], after[CATALOGUE_MAX_ITEMS];
    for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
        rules_person rp = registry_person_row(res, i, 1);
        rules_entitlements(c.items, c.nitems, &rp, day - 1, before);
        rules_entitlements(c.items, c.nitems, &rp, day, after);
        if (!ages_differ(before, after, c.nitems))
            continue;
        registry_project_entitlements(r, &c, PQgetvalue(res, i, 0), &rp, day);
        if (++*cards % 500 == 0 && registry_sync(r) < 0) {
            snprintf(err, errlen, "the directory (Redis) refused the projection");
            rc = -1;
        }
    }
    PQclear(res);
    catalogue_free(&c);
    if (rc == 0 && registry_sync(r) < 0) {
        snprintf(err, errlen, "the directory (Redis) refused the projection");
        rc = -1;
    }
    char n[16];
    snprintf(n, sizeof(n), "%d", *cards);
    const char *q[] = {date, n};
    if (rc == 0 && pg_exec(r->pg,
                           "INSERT INTO elig_age_sweeps (day, cards) VALUES ($1, $2) ON CONFLICT "
                           "(day) DO UPDATE SET cards = EXCLUDED.cards, swept_at = now()",
                           2, q, err, errlen) < 0)
        rc = -1;
    if (rc == 0 && pg_commit(r->pg, err, errlen) < 0)
        rc = -1;
    if (rc < 0)
        pg_rollback(r->pg);
    return rc;
}

int ages_catch_up(registry *r, int32_t today, char *err, size_t errlen)
{
    PGresult *res = pg_query(r->pg, "SELECT max(day) FROM elig_age_sweeps", 0, NULL, err, errlen);
    if (res == NULL)
        return -1;
    int32_t last = today - 1;
    char why[128];
    if (!PQgetisnull(res, 0, 0) &&
        rules_date_parse(PQgetvalue(res, 0, 0), &last, why, sizeof(why)) < 0)
        last = today - 1;
    PQclear(res);
    if (last < today - AGES_CATCH_UP_DAYS)
        last = today - AGES_CATCH_UP_DAYS;
    for (int32_t day = last + 1; day <= today; day++) {
        int cards;
        if (ages_sweep(r, day, "eligibility-ages", &cards, err, errlen) < 0)
            return -1;
        char date[RULES_DATE_LEN];
        rules_date_format(date, day);
        log_info("ages_swept", "%s: %d cards re-projected", date, cards);
    }
    return 0;
}

int ages_command(registry *r, int argc, char **argv)
{
    int npos = args_check(argc, argv, "day,actor");
    const char *actor = args_opt(argc, argv, "actor"), *on = args_opt(argc, argv, "day");
    if (npos != 0)
        return npos < 0 ? 1 : COMMANDS_USAGE; /* args_check named a bad option */
    if (args_need(actor, "actor"))
        return 1;
    int32_t day = registry_today();
    char err[512];
    if (on && rules_date_parse(on, &day, err, sizeof(err)) < 0) {
        registry_fail("--day: %s", err);
        return 1;
    }
    int cards;
    if (ages_sweep(r, day, actor, &cards, err, sizeof(err)) < 0) {
        registry_fail("%s", err);
        return CLI_DEPENDENCY;
    }
    char date[RULES_DATE_LEN];
    rules_date_format(date, day);
    printf("ages %s: %d cards re-projected\n", date, cards);
    return 0;
}
