/*
 * providers: the providers and the catalogue, read over HTTP.
 *
 *   GET /v1/providers[?district=D][&item=CODE]   the designated providers
 *                                                (at most 500), what the
 *                                                provider list command shows
 *   GET /v1/providers/{provider}                 one provider: designations,
 *                                                terminals (never a secret)
 *   GET /v1/catalogue                            the items of the catalogue
 *                                                version in force today
 *                                                (version_id, version, effective)
 *
 * Every signed-in role reads these: a provider and the service list are
 * public facts of the federation, not a person's data. They are the
 * eligibility service's own tables; ratings, statements and holds are the
 * rating and settlement services' and are read there.
 */
#include "api.h"

#include "common/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define API_PROVIDERS_MAX 500

static void api_provider_json(jsonw *w, const PGresult *res, int i)
{
    jsonw_str(w, "provider_id", PQgetvalue(res, i, 0));
    jsonw_str(w, "name", PQgetvalue(res, i, 1));
    jsonw_str(w, "district", PQgetvalue(res, i, 2));
    jsonw_str(w, "category", PQgetvalue(res, i, 3));
    jsonw_str(w, "status", PQgetvalue(res, i, 4));
    jsonw_str(w, "reason", PQgetvalue(res, i, 5)[0] ? PQgetvalue(res, i, 5) : NULL);
    api_pg_array(w, "items", PQgetvalue(res, i, 6));
    jsonw_int(w, "terminals", atoi(PQgetvalue(res, i, 7)));
}

#define API_PROVIDER_COLS                                                                          \
    "p.provider_id, p.name, p.district, p.category, p.status, coalesce(p.reason, ''), "            \
    "coalesce((SELECT array_agg(d.item_code ORDER BY d.item_code) FROM elig_designations d "       \
    "WHERE d.provider_id = p.provider_id), '{}')::text, (SELECT count(*) FROM elig_terminals t "   \
    "WHERE t.provider_id = p.provider_id AND t.status = 'active')"

void api_providers_list(api_request *q)
{
    const char *district = api_query(q, "district"), *item = api_query(q, "item");
    if (district && (district[0] == '\0' || strlen(district) > 64)) {
        api_error(q, 400, "invalid", "district must be 1 to 64 bytes");
        return;
    }
    if (item && !api_item_code_ok(item, strlen(item))) {
        api_error(q, 400, "invalid", "item must be an item code such as R02-AUTISM");
        return;
    }
    char err[512], sql[1024];
    snprintf(sql, sizeof(sql),
             "SELECT " API_PROVIDER_COLS " FROM elig_providers p WHERE ($1::text IS NULL OR "
             "p.district = $1) AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM elig_designations "
             "d WHERE d.provider_id = p.provider_id AND d.item_code = $2)) ORDER BY "
             "p.provider_id LIMIT %d",
             API_PROVIDERS_MAX + 1);
    const char *p[] = {district, item};
    PGresult *res = pg_query(q->r->pg, sql, 2, p, err, sizeof(err));
    if (res == NULL) {
        api_store_failed(q, err);
        return;
    }
    int n = PQntuples(res);
    jsonw w;
    jsonw_init(&w);
    jsonw_obj(&w, NULL);
    jsonw_arr(&w, "providers");
    for (int i = 0; i < n && i < API_PROVIDERS_MAX; i++) {
        jsonw_obj(&w, NULL);
        api_provider_json(&w, res, i);
        jsonw_end(&w);
    }
    jsonw_end(&w);
    jsonw_bool(&w, "more", n > API_PROVIDERS_MAX);
    jsonw_end(&w);
    PQclear(res);
    api_json(q, 200, &w);
}

void api_providers_show(api_request *q)
{
    char err[512];
    const char *p[] = {q->params[0]};
    PGresult *res = pg_query(q->r->pg,
                             "SELECT " API_PROVIDER_COLS ", to_char(p.updated_at, "
                             "'YYYY-MM-DD\"T\"HH24:MI:SSOF') FROM elig_providers p WHERE "
                             "p.provider_id = $1",
                             1, p, err, sizeof(err));
    PGresult *tm = res ? pg_query(q->r->pg,
                                  "SELECT terminal_id, status, to_char(updated_at, "
                                  "'YYYY-MM-DD\"T\"HH24:MI:SSOF') FROM elig_terminals WHERE "
                                  "provider_id = $1 ORDER BY terminal_id",
                                  1, p, err, sizeof(err))
                       : NULL;
    if (tm == NULL) {
        PQclear(res);
        api_store_failed(q, err);
        return;
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        PQclear(tm);
        api_error(q, 404, "not_found", "no provider %.64s", q->params[0]);
        return;
    }
    jsonw w;
    jsonw_init(&w);
    jsonw_obj(&w, NULL);
    api_provider_json(&w, res, 0);
    jsonw_str(&w, "updated_at", PQgetvalue(res, 0, 8));
    jsonw_arr(&w, "terminal_list");
    for (int i = 0; i < PQntuples(tm); i++) {
        jsonw_obj(&w, NULL);
        jsonw_str(&w, "terminal_id", PQgetvalue(tm, i, 0));
        jsonw_str(&w, "status", PQgetvalue(tm, i, 1));
        jsonw_str(&w, "updated_at", PQgetvalue(tm, i, 2));
        jsonw_end(&w);
    }
    jsonw_end(&w);
    jsonw_end(&w);
    PQclear(res);
    PQclear(tm);
    api_json(q, 200, &w);
}

void api_catalogue_show(api_request *q)
{
    /* the version in force today, read the one way every reader reads it */
    catalogue c;
    if (registry_catalogue(q->r, registry_today(), &c) < 0) {
        api_refused(q, CLI_DEPENDENCY);
        return;
    }
    char from[RULES_DATE_LEN], to[RULES_DATE_LEN];
    jsonw w;
    jsonw_init(&w);
    jsonw_obj(&w, NULL);
    jsonw_int(&w, "version_id", c.version_id);
    jsonw_str(&w, "version", c.version);
    jsonw_str(&w, "effective", rules_date_format(from, c.effective_day));
    jsonw_arr(&w, "items");
    for (int i = 0; i < c.nitems; i++) {
        const rules_item *it = &c.items[i];
        jsonw_obj(&w, NULL);
        jsonw_str(&w, "code", it->code);
        jsonw_str(&w, "category", it->category);
        jsonw_str(&w, "name_zh", it->name_zh);
        jsonw_str(&w, "name_en", it->name_en);
        jsonw_str(&w, "kind", directory_kind_name(it->kind));
        jsonw_str(&w, "unit", catalogue_unit_names[it->unit]);
        jsonw_int(&w, "standard_fen", it->standard_fen);
        jsonw_int(&w, "annual_cap_fen", it->annual_cap_fen);
        jsonw_bool(&w, "application", it->application);
        jsonw_str(&w, "eligibility", it->eligibility);
        jsonw_str(&w, "programme", it->programme);
        jsonw_str(&w, "effective_from", rules_date_format(from, it->from_day));
        jsonw_str(&w, "effective_to", it->to_day ? rules_date_format(to, it->to_day) : NULL);
        jsonw_end(&w);
    }
    jsonw_end(&w);
    jsonw_int(&w, "total", c.nitems);
    jsonw_end(&w);
    catalogue_free(&c);
    api_json(q, 200, &w);
}
