/*
 * persons: registering, modifying and showing a person. See persons.h.
 *
 * Each change is one audited PostgreSQL transaction (the actor set by
 * registry_begin), then the directory, then its event: a person's
 * attributes are a history of changes (elig_person_changes) from which
 * registry_settle computes those in force today, so a change dated ahead
 * takes effect on its day (the feed's sweep). The event, PersonChanged on
 * onecard.registry.v1, is read back from elig_persons after the commit
 * (registry_persons_changed, as bulk.c's import does), so it carries the
 * person's whole state, never only the attributes a command named.
 */
#include "persons.h"

#include "args.h"
#include "commands.h"
#include "ident.h"

#include "common/cli.h"
#include "common/event.h"
#include "common/jsonw.h"
#include "common/log.h"

#include "registry.pb-c.h"

#include <stdio.h>
#include <string.h>

static const char *const persons_categories[] = {"visual",       "hearing",     "speech",   "limb",
                                                 "intellectual", "psychiatric", "multiple", NULL};
static const char *const persons_households[] = {"none", "dibao", "near-poor", NULL};
static const char *const persons_statuses[] = {"active", "deceased", "revoked", "moved-out", NULL};
static const char *const persons_evidence[] = {"certificate", "assessment", "diagnosis",
                                               "suspected", NULL};

/* A diagnosis or a suspicion carries no grade (0). */
static bool persons_ungraded(const char *evidence)
{
    return strcmp(evidence, "diagnosis") == 0 || strcmp(evidence, "suspected") == 0;
}

/* The grade that goes with evidence: g (1..4) for a certificate or an
 * assessment form; none (or 0) for a diagnosis or a suspicion. 0 / -1
 * (printed). */
static int persons_grade(const char *evidence, const char *g, int *grade)
{
    if (!persons_ungraded(evidence))
        return args_int(g, "grade", 1, 4, grade);
    if (g && strcmp(g, "0") != 0) {
        registry_fail("--grade %s: evidence %s carries no grade (give none, or 0)", g, evidence);
        return -1;
    }
    *grade = 0;
    return 0;
}

/* Only a child under 7 on day is registered without a certificate. 0 /
 * -1 (printed). */
static int persons_under_7(const char *evidence, int32_t bday, int32_t day)
{
    int years, months;
    rules_age(bday, day, &years, &months);
    if (strcmp(evidence, "certificate") != 0 && years >= 7) {
        registry_fail("--evidence %s: only a child under 7 is registered without a disability "
                      "certificate (this person is %d)",
                      evidence, years);
        return -1;
    }
    return 0;
}

/* After the commit that changed the person: its PersonChanged with the
 * whole state elig_persons now holds (the registry topic is compacted: the
 * latest event of a person is all a late consumer reads), waited for.
 * 0 / -1 (printed). */
static int persons_changed(registry *r, int op, const char *pid, const char *actor)
{
    pg_array one = {0};
    pg_array_add(&one, pid);
    const char *persons = pg_array_text(&one);
    if (persons == NULL)
        registry_fail("out of memory");
    int rc = persons && registry_persons_changed(r, op, persons, actor) >= 0 ? 0 : -1;
    pg_array_free(&one);
    if (registry_flush(r) > 0)
        rc = -1;
    return rc;
}

int persons_add_command(registry *r, int argc, char **argv)
{
    if (args_check(argc, argv,
                   "national-id,name,category,grade,care-level,birth,district,town,village,"
                   "household,phone,since,actor,evidence") < 0)
        return 1;
    const char *evidence = args_opt(argc, argv, "evidence");
    if (evidence == NULL)
        evidence = "certificate";
    const char *id = args_opt(argc, argv, "national-id"), *name = args_opt(argc, argv, "name");
    const char *cat = args_opt(argc, argv, "category"), *birth = args_opt(argc, argv, "birth");
    const char *district = args_opt(argc, argv, "district"), *town = args_opt(argc, argv, "town");
    const char *village = args_opt(argc, argv, "village"), *hh = args_opt(argc, argv, "household");
    const char *actor = args_opt(argc, argv, "actor"), *since = args_opt(argc, argv, "since");
    int grade, care;
    char err[512];
    int32_t bday, sday = registry_today();
    if (args_need(id, "national-id") || args_need(name, "name") || args_need(cat, "category") ||
        args_need(birth, "birth") || args_need(district, "district") || args_need(town, "town") ||
        args_need(village, "village") || args_need(hh, "household") || args_need(actor, "actor"))
        return 1;
    if (!args_one_of(evidence, persons_evidence)) {
        registry_fail("--evidence \"%.32s\" is not certificate, assessment, diagnosis or suspected",
                      evidence);
        return 1;
    }
    if (persons_grade(evidence, args_opt(argc, argv, "grade"), &grade) < 0 ||
        args_int(args_opt(argc, argv, "care-level"), "care-level", 0, 3, &care))
        return 1;
    if (ident_national_id_check(id, err, sizeof(err)) < 0) {
        registry_fail("%s", err);
        return 1;
    }
    if (!args_one_of(cat, persons_categories) || !args_one_of(hh, persons_households)) {
        registry_fail("unknown %s \"%s\"",
                      args_one_of(cat, persons_categories) ? "household" : "category",
                      args_one_of(cat, persons_categories) ? hh : cat);
        return 1;
    }
    if (rules_date_parse(birth, &bday, err, sizeof(err)) < 0 ||
        (since && rules_date_parse(since, &sday, err, sizeof(err)) < 0)) {
        registry_fail("%s", err);
        return 1;
    }
    if (bday > registry_today() || sday > registry_today() + 366) {
        registry_fail("%s is in the future", bday > registry_today() ? "--birth" : "--since");
        return 1;
    }
    if (persons_under_7(evidence, bday, sday) < 0)
        return 1;
    char pid[IDENT_PERSON_LEN + 1], g[4], c[4], sd[RULES_DATE_LEN], ev[80];
    ident_person_id(pid, r->cfg->id_salt, id);
    snprintf(g, sizeof(g), "%d", grade);
    snprintf(c, sizeof(c), "%d", care);
    rules_date_format(sd, sday);
    snprintf(ev, sizeof(ev), "reg-%.40s", pid);
    if (registry_begin(r, actor) < 0)
        return CLI_DEPENDENCY;
    const char *phone = args_opt(argc, argv, "phone");
    const char *p[] = {pid,     cat, g,  c,    birth, district, town,
                       village, hh,  sd, name, phone, ev,       evidence};
    PGresult *res = pg_query(
        r->pg,
        "WITH p AS (INSERT INTO elig_persons (person_id, category, grade, care_level, birth_date, "
        "district, town, village, household, registered, evidence) VALUES ($1, $2, $3::int, "
        "$4::int, $5, $6, $7, $8, $9, $10, $14) ON CONFLICT DO NOTHING RETURNING person_id), "
        "q AS (INSERT INTO elig_person_private SELECT person_id, $11, $12 FROM p), "
        "c AS (INSERT INTO elig_person_changes (person_id, attr, value, effective_from, event_id, "
        "source) SELECT person_id, a, v, $10::date, $13, 'registration' FROM p, (VALUES "
        "('category', $2), ('grade', $3::text), ('care_level', $4::text), ('household', $9), "
        "('status', 'active'), ('evidence', $14)) x(a, v)) SELECT count(*) FROM p",
        14, p, err, sizeof(err));
    if (res == NULL) {
        registry_fail("%s", err);
        pg_rollback(r->pg);
        return CLI_DEPENDENCY;
    }
    bool created = strcmp(PQgetvalue(res, 0, 0), "1") == 0;
    PQclear(res);
    if (registry_commit(r) < 0)
        return CLI_DEPENDENCY;
    if (!created) {
        printf("person %s already registered (nothing changed)\n", pid);
        return 0;
    }
    if (persons_changed(r, ONECARD__V1__REGISTRY_OP__CREATED, pid, actor) < 0)
        return CLI_DEPENDENCY;
    printf("person %s\n", pid);
    return 0;
}

int persons_modify_command(registry *r, int argc, char **argv)
{
    int npos = args_check(argc, argv,
                          "grade,care-level,household,category,status,effective,actor,evidence");
    if (npos != 1)
        return COMMANDS_USAGE;
    const char *pid = argv[0], *eff = args_opt(argc, argv, "effective"),
               *actor = args_opt(argc, argv, "actor");
    const char *hh = args_opt(argc, argv, "household"), *cat = args_opt(argc, argv, "category");
    const char *st = args_opt(argc, argv, "status");
    const char *g = args_opt(argc, argv, "grade"), *cl = args_opt(argc, argv, "care-level");
    const char *evd = args_opt(argc, argv, "evidence");
    int32_t eday;
    int tmp;
    char err[512];
    if (args_need(eff, "effective") || args_need(actor, "actor") ||
        (cl && args_int(cl, "care-level", 0, 3, &tmp)))
        return 1;
    if (evd && !args_one_of(evd, persons_evidence)) {
        registry_fail("--evidence \"%.32s\" is not certificate, assessment, diagnosis or suspected",
                      evd);
        return 1;
    }
    /* the grade goes with the evidence: none for a diagnosis or a
     * suspicion (recorded as 0), 1..4 otherwise */
    static char g0[] = "0";
    if (evd && persons_ungraded(evd)) {
        if (persons_grade(evd, g, &tmp) < 0)
            return 1;
        g = g0;
    } else if (evd && g == NULL) {
        registry_fail("--evidence %s needs --grade 1..4 (the grade it carries)", evd);
        return 1;
    } else if (g && args_int(g, "grade", 1, 4, &tmp) < 0) {
        return 1;
    }
    if (rules_date_parse(eff, &eday, err, sizeof(err)) < 0) {
        registry_fail("--effective: %s", err);
        return 1;
    }
    if (eday > registry_today() + 366) {
        registry_fail("--effective %s is more than a year in the future", eff);
        return 1;
    }
    if ((hh && !args_one_of(hh, persons_households)) ||
        (cat && !args_one_of(cat, persons_categories)) ||
        (st && !args_one_of(st, persons_statuses))) {
        registry_fail("unknown household, category or status");
        return 1;
    }
    if (!hh && !cat && !st && !g && !cl && !evd) {
        registry_fail("nothing to modify");
        return 1;
    }
    /* against the person as registered: a grade alone needs evidence
     * that carries one; no certificate only under 7 */
    if (g || evd) {
        const char *q[] = {pid};
        PGresult *cur = pg_query(r->pg,
                                 "SELECT evidence, birth_date FROM elig_persons WHERE "
                                 "person_id = $1",
                                 1, q, err, sizeof(err));
        int32_t bday;
        int bad = 0;
        if (cur == NULL) {
            registry_fail("%s", err);
            bad = 2;
        } else if (PQntuples(cur) == 1 && evd == NULL && persons_ungraded(PQgetvalue(cur, 0, 0))) {
            registry_fail("--grade: person %.12s… has no certificate yet (evidence %s); give "
                          "--evidence certificate or assessment with the grade",
                          pid, PQgetvalue(cur, 0, 0));
            bad = 1;
        } else if (PQntuples(cur) == 1 && evd &&
                   (rules_date_parse(PQgetvalue(cur, 0, 1), &bday, err, sizeof(err)) < 0 ||
                    persons_under_7(evd, bday, eday) < 0)) {
            bad = 1;
        }
        PQclear(cur);
        if (bad)
            return bad;
    }
    char ev[EVENT_ID_LEN + 1];
    event_new_id(ev);
    if (registry_begin(r, actor) < 0)
        return CLI_DEPENDENCY;
    const char *p[] = {pid, eff, ev, cat, g, cl, hh, st, evd};
    PGresult *res = pg_query(
        r->pg,
        "WITH c AS (INSERT INTO elig_person_changes (person_id, attr, value, effective_from, "
        "event_id, source) SELECT $1, a, v, $2::date, $3, 'operator' FROM (VALUES ('category', "
        "$4), ('grade', $5), ('care_level', $6), ('household', $7), ('status', $8), "
        "('evidence', $9)) x(a, v) "
        "WHERE v IS NOT NULL AND EXISTS (SELECT 1 FROM elig_persons WHERE person_id = $1) "
        "RETURNING 1) SELECT count(*) FROM c",
        9, p, err, sizeof(err));
    if (res == NULL || strcmp(PQgetvalue(res, 0, 0), "0") == 0) {
        registry_fail("%s", res ? "no such person" : err);
        PQclear(res);
        pg_rollback(r->pg);
        return res ? 1 : CLI_DEPENDENCY;
    }
    PQclear(res);
    /* the attributes in force today, and the card following the status
     * at once (a death, revocation or move stops it; becoming active again
     * restarts one stopped that way) */
    pg_array one = {0};
    pg_array_add(&one, pid);
    const char *persons = pg_array_text(&one);
    PGresult *cards = persons ? registry_settle(r, persons) : NULL;
    pg_array_free(&one);
    if (cards == NULL) {
        pg_rollback(r->pg);
        return CLI_DEPENDENCY;
    }
    if (registry_commit(r) < 0) {
        PQclear(cards);
        return CLI_DEPENDENCY;
    }
    if (registry_settled(r, cards) < 0)
        return CLI_DEPENDENCY;
    if (registry_project_person(r, pid) < 0)
        return CLI_DEPENDENCY;
    if (persons_changed(r, ONECARD__V1__REGISTRY_OP__UPDATED, pid, actor) < 0)
        return CLI_DEPENDENCY;
    printf("person %s modified from %s\n", pid, eff);
    return 0;
}

/* Prints a person's attributes, cards, change history, entitlements
 * (issuances) and audit trail; never the name unless --private yes. */
static void persons_json_str(const char *s)
{
    char buf[4096];
    log_json_escape(buf, sizeof(buf), s);
    printf("\"%s\"", buf);
}

int persons_show_command(registry *r, int argc, char **argv)
{
    int npos = args_check(argc, argv, "private,format");
    const char *priv = args_opt(argc, argv, "private");
    const char *format = args_opt(argc, argv, "format");
    if (npos != 1)
        return COMMANDS_USAGE;
    cli_format fmt = CLI_FORMAT_TEXT;
    char ferr[128];
    if (format && cli_format_parse(format, &fmt, ferr, sizeof(ferr)) < 0) {
        registry_fail("%s", ferr);
        return COMMANDS_USAGE;
    }
    static const struct {
        const char *title, *sql;
    } parts[] = {
        {"person",
         "SELECT category, grade, evidence, care_level, household, status, birth_date, district, "
         "town, village, registered FROM elig_persons WHERE person_id = $1"},
        {"cards", "SELECT card_no, status, issued_at, updated_at FROM elig_cards WHERE person_id "
                  "= $1 ORDER BY issued_at"},
        {"changes",
         "SELECT effective_from, attr, value, source, event_id FROM "
         "elig_person_changes WHERE person_id = $1 ORDER BY effective_from, recorded_at, event_id"},
        {"issuances", "SELECT period, item_code, amount_fen, wallet, fund_source, programme, "
                      "published FROM elig_issuances WHERE person_id = $1 ORDER BY period, "
                      "item_code"},
        {"corrections",
         "SELECT period, item_code, seq, amount_fen, CASE WHEN amount_fen > 0 THEN 'arrears' "
         "ELSE 'overpaid' END AS kind, card_no, published FROM elig_issuance_corrections WHERE "
         "person_id = $1 ORDER BY period, item_code, seq"},
        {"carry-overs", "SELECT from_card_no, to_card_no, reason, requested_at, coalesce(sent_at::"
                        "text, 'pending') AS sent_at FROM elig_card_carryovers WHERE person_id = "
                        "$1 ORDER BY requested_at"},
        {"audit", "SELECT at, actor, tbl, op, coalesce(before::text, '-'), coalesce(after::text, "
                  "'-') FROM elig_audit WHERE coalesce(after, before)->>'person_id' = $1 ORDER "
                  "BY audit_id"},
        {"private", "SELECT name, coalesce(phone, '-') FROM elig_person_private WHERE person_id "
                    "= $1"},
    };
    char err[512];
    const char *p[] = {argv[0]};
    for (size_t k = 0; k < sizeof(parts) / sizeof(parts[0]); k++) {
        if (strcmp(parts[k].title, "private") == 0 && (priv == NULL || strcmp(priv, "yes") != 0))
            continue;
        PGresult *res = pg_query(r->pg, parts[k].sql, 1, p, err, sizeof(err));
        if (res == NULL) {
            registry_fail("%s", err);
            return CLI_DEPENDENCY;
        }
        if (k == 0 && PQntuples(res) == 0) {
            PQclear(res);
            registry_fail("no such person");
            return CLI_REFUSED;
        }
        if (fmt == CLI_FORMAT_JSON) { /* {"person_id":..,"TITLE":[{column:value}],..} */
            if (k == 0) {
                printf("{\"person_id\":");
                persons_json_str(argv[0]);
            }
            printf(",");
            persons_json_str(parts[k].title);
            printf(":[");
            for (int i = 0; i < PQntuples(res); i++) {
                printf("%s{", i ? "," : "");
                for (int c = 0; c < PQnfields(res); c++) {
                    if (c)
                        printf(",");
                    persons_json_str(PQfname(res, c));
                    printf(":");
                    persons_json_str(PQgetvalue(res, i, c));
                }
                printf("}");
            }
            printf("]");
            PQclear(res);
            continue;
        }
        printf("%s:\n", parts[k].title);
        for (int i = 0; i < PQntuples(res); i++) {
            printf(" ");
            for (int c = 0; c < PQnfields(res); c++)
                printf(" %s=%s", PQfname(res, c), PQgetvalue(res, i, c));
            printf("\n");
        }
        PQclear(res);
    }
    if (fmt == CLI_FORMAT_JSON)
        printf("}\n");
    return CLI_OK;
}

/* ------------------------------------------------------------- eligible */

#define PERSONS_ELIGIBLE_CHUNK 2000

/* Cursor "YYYY-MM-DD/<64 hex>": 0 with its parts, -1 malformed. */
static int persons_cursor_parse(const char *s, char *day, char *pid)
{
    if (strlen(s) != 10 + 1 + 64 || s[10] != '/')
        return -1;
    for (int i = 0; i < 10; i++)
        if (!(i == 4 || i == 7 ? s[i] == '-' : (s[i] >= '0' && s[i] <= '9')))
            return -1;
    for (int i = 11; i < 75; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return -1;
    memcpy(day, s, 10), day[10] = '\0';
    memcpy(pid, s + 11, 64), pid[64] = '\0';
    return 0;
}

int persons_eligible(registry *r, const persons_eligible_query *pq, persons_eligible_fn emit,
                     void *arg, char *cursor, size_t cursorlen)
{
    char day[11] = "9999-12-31", pid[65] = "", err[512], sql[1200];
    cursor[0] = '\0';
    if (pq->after && pq->after[0] && persons_cursor_parse(pq->after, day, pid) < 0) {
        registry_fail("after must be the cursor of the previous page (YYYY-MM-DD/person id)");
        return 1;
    }
    static const char *const cols[] = {"village", "town", "district"};
    const char *col = NULL;
    for (size_t k = 0; pq->area_col && k < sizeof(cols) / sizeof(cols[0]); k++)
        if (strcmp(pq->area_col, cols[k]) == 0)
            col = cols[k];
    catalogue c;
    if (registry_catalogue(r, registry_today(), &c) < 0)
        return CLI_DEPENDENCY;
    const rules_item *it = catalogue_find(&c, pq->item);
    if (it == NULL) {
        registry_refuse(REFUSE_NOT_FOUND, "%.40s is not in the catalogue", pq->item);
        catalogue_free(&c);
        return 1;
    }
    snprintf(
        sql, sizeof(sql),
        "SELECT p.person_id, p.village, p.town, p.district, p.birth_date, %s, " REGISTRY_PERSON_COLS
        " FROM elig_persons p %s WHERE p.status = 'active' AND "
        "(p.birth_date < $1::date OR (p.birth_date = $1::date AND p.person_id > $2)) AND "
        "%s%s%s ORDER BY p.birth_date DESC, p.person_id LIMIT %d",
        pq->names ? "coalesce(v.name, '')" : "''",
        pq->names ? "LEFT JOIN elig_person_private v ON v.person_id = p.person_id" : "",
        col ? "p." : "", col ? col : "$3::text IS NOT NULL", col ? " = $3" : "",
        PERSONS_ELIGIBLE_CHUNK);
    int32_t today = registry_today();
    int n = 0, rc = 0;
    for (;;) {
        const char *p[] = {day, pid, pq->area ? pq->area : "*"};
        PGresult *res = pg_query(r->pg, sql, 3, p, err, sizeof(err));
        if (res == NULL) {
            registry_fail("%s", err);
            rc = CLI_DEPENDENCY;
            break;
        }
        int rows = PQntuples(res);
        for (int i = 0; i < rows; i++) {
            snprintf(day, sizeof(day), "%s", PQgetvalue(res, i, 4));
            snprintf(pid, sizeof(pid), "%s", PQgetvalue(res, i, 0));
            rules_person person = registry_person_row(res, i, 6);
            if (!rules_eligible(&it->expr, &person, today))
                continue;
            emit(arg, res, i);
            if (++n == pq->limit) {
                snprintf(cursor, cursorlen, "%s/%s", day, pid);
                break;
            }
        }
        PQclear(res);
        if (n == pq->limit || rows < PERSONS_ELIGIBLE_CHUNK)
            break;
    }
    catalogue_free(&c);
    return rc;
}

void persons_eligible_json(persons_eligible_page *page, const PGresult *res, int i)
{
    jsonw_obj(page->w, NULL);
    jsonw_str(page->w, "person_id", PQgetvalue(res, i, 0));
    jsonw_str(page->w, "village", PQgetvalue(res, i, 1));
    jsonw_str(page->w, "town", PQgetvalue(res, i, 2));
    jsonw_str(page->w, "district", PQgetvalue(res, i, 3));
    jsonw_str(page->w, "birth_date", PQgetvalue(res, i, 4));
    if (page->names)
        jsonw_str(page->w, "name", PQgetvalue(res, i, 5)[0] ? PQgetvalue(res, i, 5) : NULL);
    jsonw_end(page->w);
}

static void persons_eligible_json_cb(void *arg, const PGresult *res, int i)
{
    persons_eligible_json(arg, res, i);
}

static void persons_eligible_print(void *arg, const PGresult *res, int i)
{
    (void)arg;
    printf("%s\t%s\t%s\t%s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
           PQgetvalue(res, i, 3));
}

int persons_eligible_command(registry *r, int argc, char **argv)
{
    int npos = args_check(argc, argv, "limit,after,format");
    int limit = 100;
    if (npos != 1 || (args_opt(argc, argv, "limit") &&
                      args_int(args_opt(argc, argv, "limit"), "limit", 1, 1000000, &limit) < 0))
        return COMMANDS_USAGE;
    cli_format fmt = CLI_FORMAT_TEXT;
    char ferr[128];
    if (args_opt(argc, argv, "format") &&
        cli_format_parse(args_opt(argc, argv, "format"), &fmt, ferr, sizeof(ferr)) < 0) {
        registry_fail("%s", ferr);
        return COMMANDS_USAGE;
    }
    persons_eligible_query pq = {
        .item = argv[0], .after = args_opt(argc, argv, "after"), .limit = limit};
    char cursor[80];
    if (fmt == CLI_FORMAT_TEXT) {
        int rc = persons_eligible(r, &pq, persons_eligible_print, NULL, cursor, sizeof(cursor));
        if (rc == 0 && cursor[0])
            fprintf(stderr, "more may follow: --after %s\n", cursor);
        return rc;
    }
    /* the operator API's answer, for every area */
    jsonw w;
    jsonw_init(&w);
    jsonw_obj(&w, NULL);
    jsonw_str(&w, "item", pq.item);
    jsonw_str(&w, "area", "*");
    jsonw_arr(&w, "persons");
    persons_eligible_page page = {&w, false};
    int rc = persons_eligible(r, &pq, persons_eligible_json_cb, &page, cursor, sizeof(cursor));
    jsonw_end(&w);
    jsonw_str(&w, "next_after", cursor[0] ? cursor : NULL);
    jsonw_end(&w);
    if (rc == 0) {
        const char *text = jsonw_done(&w);
        if (text == NULL) {
            registry_fail("person eligible: out of memory");
            rc = CLI_DEPENDENCY;
        } else {
            printf("%s\n", text);
        }
    }
    jsonw_free(&w);
    return rc;
}
