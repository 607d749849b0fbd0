/*
 * catload: `catalogue load`. See catload.h.
 */
#include "catload.h"

#include "args.h"
#include "commands.h"

#include "common/cli.h"

#include <stdio.h>
#include <string.h>

/* The tier tables, in the load's transaction: every row upserted, the
 * rows the file no longer has removed. The rows written or removed, or -1
 * (printed). */
static int catload_tiers(registry *r, const catalogue *c)
{
    pg_array tier = {0}, when = {0}, ord = {0}, value = {0}, basis = {0};
    for (int k = 0; k < c->tiers->n; k++) {
        pg_array_add(&tier, catalogue_tier_names[c->tiers->rows[k].tier]);
        pg_array_add(&when, c->tier_when[k]);
        pg_array_add_int(&ord, k);
        pg_array_add_int(&value, c->tiers->rows[k].value);
        pg_array_add(&basis, c->tier_basis[k]);
    }
    const char *p[] = {pg_array_text(&tier), pg_array_text(&when), pg_array_text(&ord),
                       pg_array_text(&value), pg_array_text(&basis)};
    char err[512];
    int n = -1;
    PGresult *up = NULL, *del = NULL;
    if (p[0] && p[1] && p[2] && p[3] && p[4]) {
        up = pg_query(r->pg,
                      "INSERT INTO elig_catalogue_tiers AS t (tier, when_rule, ord, value, "
                      "legal_basis) SELECT * FROM unnest($1::text[], $2::text[], $3::int[], "
                      "$4::bigint[], $5::text[]) ON CONFLICT (tier, when_rule) DO UPDATE SET ord "
                      "= EXCLUDED.ord, value = EXCLUDED.value, legal_basis = EXCLUDED.legal_basis "
                      "WHERE (t.*) IS DISTINCT FROM (EXCLUDED.*) RETURNING 1",
                      5, p, err, sizeof(err));
        del = up ? pg_query(r->pg,
                            "DELETE FROM elig_catalogue_tiers WHERE (tier, when_rule) NOT IN "
                            "(SELECT * FROM unnest($1::text[], $2::text[])) RETURNING 1",
                            2, p, err, sizeof(err))
                 : NULL;
        if (del)
            n = PQntuples(up) + PQntuples(del);
    } else {
        snprintf(err, sizeof(err), "out of memory");
    }
    if (n < 0)
        registry_fail("catalogue tier tables: %s", err);
    PQclear(up);
    PQclear(del);
    pg_array_free(&tier), pg_array_free(&when), pg_array_free(&ord), pg_array_free(&value);
    pg_array_free(&basis);
    return n;
}

int catload_command(registry *r, int argc, char **argv)
{
    int npos = args_check(argc, argv, "actor");
    if (npos != 2 || strcmp(argv[0], "load") != 0)
        return COMMANDS_USAGE;
    const char *actor = args_opt(argc, argv, "actor") ? args_opt(argc, argv, "actor") : "operator";
    catalogue c;
    char err[512];
    if (catalogue_load_file(&c, argv[1], err, sizeof(err)) < 0) {
        registry_fail("catalogue %s: %s", argv[1], err);
        return 1;
    }
    if (registry_begin(r, actor) < 0) {
        catalogue_free(&c);
        return CLI_DEPENDENCY;
    }
    int changed = 0, defaults = 0;
    for (int i = 0; i < c.nitems; i++) {
        const rules_item *it = &c.items[i];
        char std[24], ann[24], day[24], weeks[8], from[RULES_DATE_LEN], to[RULES_DATE_LEN];
        snprintf(std, sizeof(std), "%lld", (long long)it->standard_fen);
        snprintf(ann, sizeof(ann), "%lld", (long long)it->annual_cap_fen);
        snprintf(day, sizeof(day), "%lld", (long long)it->daily_cap_fen);
        snprintf(weeks, sizeof(weeks), "%d", it->attendance_weeks);
        rules_date_format(from, it->from_day);
        if (it->to_day)
            rules_date_format(to, it->to_day);
        const char *p[] = {it->code,
                           c.version,
                           it->category,
                           it->name_zh,
                           it->name_en,
                           it->group,
                           catalogue_unit_names[it->unit],
                           std,
                           catalogue_tier_names[it->tier],
                           it->eligibility,
                           ann,
                           day,
                           it->exclusive[0] ? it->exclusive : NULL,
                           it->fund_source,
                           it->programme,
                           it->issued ? "t" : "f",
                           from,
                           it->to_day ? to : NULL,
                           it->is_default ? "t" : "f",
                           it->procedure,
                           it->legal_basis,
                           directory_kind_name(it->kind),
                           it->application ? "t" : "f",
                           it->fund_shares,
                           weeks};
        PGresult *res = pg_query(
            r->pg,
            "INSERT INTO elig_catalogue_items AS c (code, version, category, name_zh, name_en, "
            "item_group, unit, standard_fen, tier_rule, eligibility, annual_cap_fen, "
            "daily_cap_fen, exclusive_group, fund_source, programme, issued, effective_from, "
            "effective_to, is_default, procedure, legal_basis, kind, application, fund_shares, "
            "attendance_weeks) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
            "$14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25) ON "
            "CONFLICT (code) DO "
            "UPDATE SET version = EXCLUDED.version, category = EXCLUDED.category, name_zh = "
            "EXCLUDED.name_zh, name_en = EXCLUDED.name_en, item_group = EXCLUDED.item_group, unit "
            "= "
            "EXCLUDED.unit, standard_fen = EXCLUDED.standard_fen, tier_rule = EXCLUDED.tier_rule, "
            "eligibility = EXCLUDED.eligibility, annual_cap_fen = EXCLUDED.annual_cap_fen, "
            "daily_cap_fen = EXCLUDED.daily_cap_fen, exclusive_group = EXCLUDED.exclusive_group, "
            "fund_source = EXCLUDED.fund_source, programme = EXCLUDED.programme, issued = "
            "EXCLUDED.issued, effective_from = EXCLUDED.effective_from, effective_to = "
            "EXCLUDED.effective_to, is_default = EXCLUDED.is_default, procedure = "
            "EXCLUDED.procedure, legal_basis = EXCLUDED.legal_basis, kind = EXCLUDED.kind, "
            "application = EXCLUDED.application, fund_shares = EXCLUDED.fund_shares, "
            "attendance_weeks = EXCLUDED.attendance_weeks WHERE "
            "(c.*) IS DISTINCT FROM (EXCLUDED.*) RETURNING code",
            25, p, err, sizeof(err));
        if (res == NULL) {
            registry_fail("catalogue item %s: %s", it->code, err);
            pg_rollback(r->pg);
            catalogue_free(&c);
            return CLI_DEPENDENCY;
        }
        changed += PQntuples(res);
        PQclear(res);
        defaults += it->is_default;
        registry_project_item(r, it);
    }
    int tiers_changed = catload_tiers(r, &c);
    if (tiers_changed < 0) {
        pg_rollback(r->pg);
        catalogue_free(&c);
        return CLI_DEPENDENCY;
    }
    int rc = registry_commit(r) < 0 || registry_sync(r) < 0 ? CLI_DEPENDENCY : 0;
    if (rc == 0)
        printf("catalogue %s: %d items, %d changed, %d figures marked as defaults to confirm; "
               "tier tables: %d rows, %d rows written or removed\n",
               c.version, c.nitems, changed, defaults, c.tiers->n, tiers_changed);
    catalogue_free(&c);
    return rc;
}
