/*
 * people: the persons endpoints.
 *
 *   GET /v1/persons?card_tail=NNNN | ?name=N    search (at most 50)
 *   GET /v1/persons/{person}                    a person's page
 *
 * A reviewer (village, town, district) sees the persons of their area; the
 * finance office, auditors and administrators every person. Names and
 * phone numbers (elig_person_private) are shown to the reviewers, who deal
 * with the applicants, and to administrators; finance and auditors work
 * with ids, amounts and masked cards. Searching by name is for those who
 * see names. A card number is always masked. A card tail (digits only) is
 * matched as the prefix of the reversed number and a name as a prefix, so
 * both searches use an index (deploy/sql/0026) instead of reading every
 * card or name.
 */
#include "api.h"

#include "common/card.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define API_SEARCH_MAX 50

/* The SQL condition limiting persons p to who's area ($2: the area). */
static const char *api_area_sql(const operators_who *who)
{
    const char *col = api_area_column(who);
    return col == NULL                   ? "$2::text IS NOT NULL"
           : strcmp(col, "village") == 0 ? "p.village = $2"
           : strcmp(col, "town") == 0    ? "p.town = $2"
                                         : "p.district = $2";
}

static void api_card(jsonw *w, const char *key, const char *card_no)
{
    char masked[32];
    jsonw_str(w, key, card_no[0] ? card_mask(masked, sizeof(masked), card_no) : NULL);
}

void api_persons_search(api_request *q)
{
    const char *tail = api_query(q, "card_tail"), *name = api_query(q, "name");
    char err[512], sql[1400];
    if ((tail == NULL) == (name == NULL)) {
        api_error(q, 400, "invalid",
                  "search by card_tail (the card number's last 4 to 6 digits) "
                  "or by name, one of them");
        return;
    }
    if (tail &&
        (strlen(tail) < 4 || strlen(tail) > 6 || strspn(tail, "0123456789") != strlen(tail))) {
        api_error(q, 400, "invalid", "card_tail must be the last 4 to 6 digits of a card number");
        return;
    }
    if (name && !api_sees_names(&q->who)) {
        api_error(q, 403, "forbidden", "a %s operator does not see names: search by card_tail",
                  q->who.role);
        return;
    }
    if (name && (strlen(name) < 1 || strlen(name) > 64)) {
        api_error(q, 400, "invalid", "name must be 1 to 64 bytes");
        return;
    }
    bool names = api_sees_names(&q->who);
    snprintf(sql, sizeof(sql),
             "SELECT p.person_id, coalesce(c.card_no, ''), p.district, p.town, p.village, "
             "p.status, p.category, p.grade, %s FROM elig_persons p LEFT JOIN elig_cards c ON "
             "c.person_id = p.person_id AND c.status IN ('active', 'frozen') %s WHERE %s AND %s "
             "ORDER BY p.person_id LIMIT %d",
             names ? "coalesce(v.name, '')" : "''",
             names ? "LEFT JOIN elig_person_private v ON v.person_id = p.person_id" : "",
             api_area_sql(&q->who),
             tail ? "EXISTS (SELECT 1 FROM elig_cards t WHERE t.person_id = p.person_id AND "
                    "reverse(t.card_no) LIKE reverse($1) || '%')"
                  : "v.name LIKE replace(replace(replace($1, '\\', '\\\\'), '%', '\\%'), '_', "
                    "'\\_') || '%'",
             API_SEARCH_MAX + 1);
    const char *p[] = {tail ? tail : name, q->who.area};
    PGresult *res = pg_query(q->r->pg, sql, 2, p, err, sizeof(err));
    if (res == NULL) {
        api_store_failed(q, err);
        return;
    }
    int n = PQntuples(res);
    jsonw w;
    jsonw_init(&w);
    jsonw_obj(&w, NULL);
    jsonw_arr(&w, "persons");
    for (int i = 0; i < n && i < API_SEARCH_MAX; i++) {
        jsonw_obj(&w, NULL);
        jsonw_str(&w, "person_id", PQgetvalue(res, i, 0));
        api_card(&w, "card", PQgetvalue(res, i, 1));
        jsonw_str(&w, "district", PQgetvalue(res, i, 2));
        jsonw_str(&w, "town", PQgetvalue(res, i, 3));
        jsonw_str(&w, "village", PQgetvalue(res, i, 4));
        jsonw_str(&w, "status", PQgetvalue(res, i, 5));
        jsonw_str(&w, "category", PQgetvalue(res, i, 6));
        if (atoi(PQgetvalue(res, i, 7)) == 0)
            jsonw_null(&w, "grade");
        else
            jsonw_int(&w, "grade", atoi(PQgetvalue(res, i, 7)));
        if (names)
            jsonw_str(&w, "name", PQgetvalue(res, i, 8));
        jsonw_end(&w);
    }
    jsonw_end(&w);
    jsonw_bool(&w, "more", n > API_SEARCH_MAX);
    jsonw_end(&w);
    PQclear(res);
    api_json(q, 200, &w);
}

void api_persons_show(api_request *q)
{
    char err[512], sql[1024];
    bool names = api_sees_names(&q->who);
    snprintf(sql, sizeof(sql),
             "SELECT p.category, p.grade, p.care_level, p.household, p.status, p.district, "
             "p.town, p.village, p.registered, p.granted, to_char(p.birth_date, 'YYYY'), %s, "
             "p.evidence FROM elig_persons p %s WHERE p.person_id = $1 AND %s",
             names ? "coalesce(v.name, ''), coalesce(v.phone, '')" : "'', ''",
             names ? "LEFT JOIN elig_person_private v ON v.person_id = p.person_id" : "",
             api_area_sql(&q->who));
    const char *p[] = {q->params[0], q->who.area};
    PGresult *res = pg_query(q->r->pg, sql, 2, p, err, sizeof(err));
    if (res == NULL) {
        api_store_failed(q, err);
        return;
    }
    if (PQntuples(res) == 0) {
        /* not registered, or not in the area: the same answer, so an id
         * outside the area tells nothing */
        PQclear(res);
        api_error(q, 404, "not_found", "no person %.12s… in your area (%s %s)", q->params[0],
                  q->who.role, q->who.area);
        return;
    }
    const char *pp[] = {q->params[0]};
    PGresult *cards = pg_query(q->r->pg,
                               "SELECT card_no, status, to_char(issued_at, 'YYYY-MM-DD'), "
                               "coalesce(replaced_by, '') FROM elig_cards WHERE person_id = $1 "
                               "ORDER BY issued_at",
                               1, pp, err, sizeof(err));
    PGresult *changes =
        cards ? pg_query(q->r->pg,
                         "SELECT attr, value, effective_from::text, source, to_char(recorded_at, "
                         "'YYYY-MM-DD\"T\"HH24:MI:SSOF') FROM elig_person_changes WHERE "
                         "person_id = $1 ORDER BY effective_from, recorded_at",
                         1, pp, err, sizeof(err))
              : NULL;
    PGresult *apps = changes ? pg_query(q->r->pg,
                                        "SELECT application_id, state, items::text, "
                                        "to_char(submitted_at, 'YYYY-MM-DD') FROM "
                                        "elig_applications WHERE person_id = $1 ORDER BY "
                                        "submitted_at DESC LIMIT 20",
                                        1, pp, err, sizeof(err))
                             : NULL;
    PGresult *iss = apps ? pg_query(q->r->pg,
                                    "SELECT period, item_code, amount_fen FROM elig_issuances "
                                    "WHERE person_id = $1 ORDER BY period DESC, item_code LIMIT "
                                    "200",
                                    1, pp, err, sizeof(err))
                         : NULL;
    if (iss == NULL) {
        PQclear(res), PQclear(cards), PQclear(changes), PQclear(apps);
        api_store_failed(q, err);
        return;
    }
    jsonw w;
    jsonw_init(&w);
    jsonw_obj(&w, NULL);
    jsonw_str(&w, "person_id", q->params[0]);
    if (names) {
        jsonw_str(&w, "name", PQgetvalue(res, 0, 11));
        jsonw_str(&w, "phone", PQgetvalue(res, 0, 12)[0] ? PQgetvalue(res, 0, 12) : NULL);
    }
    jsonw_str(&w, "category", PQgetvalue(res, 0, 0));
    /* grade 0: a child registered on a diagnosis or a suspicion, no grade */
    if (atoi(PQgetvalue(res, 0, 1)) == 0)
        jsonw_null(&w, "grade");
    else
        jsonw_int(&w, "grade", atoi(PQgetvalue(res, 0, 1)));
    jsonw_str(&w, "evidence", PQgetvalue(res, 0, 13));
    jsonw_int(&w, "care_level", atoi(PQgetvalue(res, 0, 2)));
    jsonw_str(&w, "household", PQgetvalue(res, 0, 3));
    jsonw_str(&w, "status", PQgetvalue(res, 0, 4));
    jsonw_int(&w, "birth_year", atoi(PQgetvalue(res, 0, 10)));
    jsonw_obj(&w, "area");
    jsonw_str(&w, "district", PQgetvalue(res, 0, 5));
    jsonw_str(&w, "town", PQgetvalue(res, 0, 6));
    jsonw_str(&w, "village", PQgetvalue(res, 0, 7));
    jsonw_end(&w);
    jsonw_str(&w, "registered", PQgetvalue(res, 0, 8));
    /* ",A,B," -> ["A","B"] */
    jsonw_arr(&w, "granted_by_application");
    const char *g = PQgetvalue(res, 0, 9);
    while (*g) {
        size_t n = strcspn(g, ",");
        if (n)
            jsonw_strn(&w, NULL, g, n);
        g += n + (g[n] == ',');
    }
    jsonw_end(&w);
    jsonw_arr(&w, "cards");
    for (int i = 0; i < PQntuples(cards); i++) {
        jsonw_obj(&w, NULL);
        api_card(&w, "card", PQgetvalue(cards, i, 0));
        jsonw_str(&w, "status", PQgetvalue(cards, i, 1));
        jsonw_str(&w, "issued", PQgetvalue(cards, i, 2));
        api_card(&w, "replaced_by", PQgetvalue(cards, i, 3));
        jsonw_end(&w);
    }
    jsonw_end(&w);
    jsonw_arr(&w, "changes");
    for (int i = 0; i < PQntuples(changes); i++) {
        jsonw_obj(&w, NULL);
        jsonw_str(&w, "attr", PQgetvalue(changes, i, 0));
        jsonw_str(&w, "value", PQgetvalue(changes, i, 1));
        jsonw_str(&w, "effective_from", PQgetvalue(changes, i, 2));
        jsonw_str(&w, "source", PQgetvalue(changes, i, 3));
        jsonw_str(&w, "recorded_at", PQgetvalue(changes, i, 4));
        jsonw_end(&w);
    }
    jsonw_end(&w);
    jsonw_arr(&w, "applications");
    for (int i = 0; i < PQntuples(apps); i++) {
        jsonw_obj(&w, NULL);
        jsonw_str(&w, "application_id", PQgetvalue(apps, i, 0));
        jsonw_str(&w, "state", PQgetvalue(apps, i, 1));
        api_pg_array(&w, "items", PQgetvalue(apps, i, 2));
        jsonw_str(&w, "submitted", PQgetvalue(apps, i, 3));
        jsonw_end(&w);
    }
    jsonw_end(&w);
    jsonw_arr(&w, "issuances");
    for (int i = 0; i < PQntuples(iss); i++) {
        jsonw_obj(&w, NULL);
        jsonw_str(&w, "period", PQgetvalue(iss, i, 0));
        jsonw_str(&w, "item", PQgetvalue(iss, i, 1));
        jsonw_int(&w, "amount_fen", atoll(PQgetvalue(iss, i, 2)));
        jsonw_end(&w);
    }
    jsonw_end(&w);
    jsonw_end(&w);
    PQclear(res), PQclear(cards), PQclear(changes), PQclear(apps), PQclear(iss);
    api_json(q, 200, &w);
}
