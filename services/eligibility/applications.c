/*
 * applications: submitting, reviewing, listing applications. See
 * applications.h; the review's rules are review.c's.
 */
#include "applications.h"

#include "args.h"
#include "catalogue.h"
#include "commands.h"
#include "ident.h"
#include "materials.h"
#include "operators.h"
#include "review.h"

#include "common/event.h"

#include "application.pb-c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The level's column of elig_persons: the area a reviewer answers for. */
static const char *applications_area_column(const char *role)
{
    return strcmp(role, "village") == 0    ? "village"
           : strcmp(role, "town") == 0     ? "town"
           : strcmp(role, "district") == 0 ? "district"
                                           : NULL;
}

/* Publishes the change (waits for the broker). 0 / -1 (printed). */
static int applications_publish(registry *r, const char *id, const char *person, const char *items,
                                const char *state, const char *from, const char *level,
                                const char *op, const char *reason, const char *effective,
                                bool by_agent)
{
    Onecard__V1__ApplicationChanged m = ONECARD__V1__APPLICATION_CHANGED__INIT;
    char eid[EVENT_ID_LEN + 1], buf[512];
    event_new_id(eid);
    char *codes[40];
    size_t n = 0;
    snprintf(buf, sizeof(buf), "%s", items);
    for (char *s = strtok(buf, "{},"); s && n < 40; s = strtok(NULL, "{},"))
        codes[n++] = s;
    m.event_id = eid;
    m.application_id = (char *)id;
    m.person_id = (char *)person;
    m.items = codes;
    m.n_items = n;
    m.state = (char *)state;
    m.from_state = (char *)(from ? from : "");
    m.level = (char *)(level ? level : "");
    m.operator_id = (char *)(op ? op : "");
    m.reason = (char *)(reason ? reason : "");
    m.effective_from = (char *)(effective ? effective : "");
    m.by_agent = by_agent;
    m.occurred_at_ms = event_now_ms();
    return registry_publish(r, &m.base, id);
}

/* ----------------------------------------------------------------- submit */

static int applications_submit(registry *r, int argc, char **argv)
{
    int npos = args_check(argc, argv, "items,agent-relation,agent-id,actor");
    const char *items = args_opt(argc, argv, "items"), *actor = args_opt(argc, argv, "actor");
    const char *rel = args_opt(argc, argv, "agent-relation"),
               *aid = args_opt(argc, argv, "agent-id");
    if (npos != 1 || args_need(items, "items") || args_need(actor, "actor"))
        return 1;
    static const char *const relations[] = {"guardian", "family", "community-worker", NULL};
    if ((rel == NULL) != (aid == NULL)) {
        registry_fail("--agent-relation and --agent-id go together");
        return 1;
    }
    char agent[IDENT_PERSON_LEN + 1] = "", err[512];
    if (rel) {
        if (!args_one_of(rel, relations)) {
            registry_fail("--agent-relation must be guardian, family or community-worker");
            return 1;
        }
        if (ident_national_id_check(aid, err, sizeof(err)) < 0) {
            registry_fail("--agent-id: %s", err);
            return 1;
        }
        ident_person_id(agent, r->cfg->id_salt, aid);
    }
    catalogue c;
    if (registry_catalogue(r, &c) < 0)
        return 2;
    if (registry_begin(r, actor) < 0) {
        catalogue_free(&c);
        return 2;
    }
    const char *p0[] = {argv[0]};
    PGresult *pr = pg_query(r->pg,
                            "SELECT " REGISTRY_PERSON_COLS " FROM elig_persons p WHERE "
                            "p.person_id = $1 FOR UPDATE",
                            1, p0, err, sizeof(err));
    int rc = pr ? 0 : 2;
    if (pr == NULL)
        registry_fail("%s", err);
    else if (PQntuples(pr) == 0) {
        registry_fail("person %.64s is not registered", argv[0]);
        rc = 1;
    }
    /* every item: in the catalogue, granted by application, admitted by its rule */
    pg_array arr = {0};
    char list[512];
    snprintf(list, sizeof(list), "%s", items);
    int nitems = 0;
    for (char *s = strtok(list, ","); s && rc == 0; s = strtok(NULL, ",")) {
        const rules_item *it = catalogue_find(&c, s);
        rules_person rp = registry_person_row(pr, 0, 0);
        if (it == NULL) {
            registry_fail("--items: %.40s is not in the catalogue", s);
            rc = 1;
        } else if (!it->application) {
            registry_fail("--items: %s is granted from the registry; no application is needed", s);
            rc = 1;
        } else if (!rules_eligible(&it->expr, &rp, registry_today())) {
            registry_fail("--items: person %.12s… is not eligible for %s (%s)", argv[0], s,
                          it->eligibility);
            rc = 1;
        } else {
            pg_array_add(&arr, s);
            nitems++;
        }
    }
    PGresult *res = NULL;
    if (rc == 0) {
        const char *p[] = {argv[0], pg_array_text(&arr), rel, rel ? agent : NULL, actor};
        res = pg_query(r->pg,
                       "WITH a AS (INSERT INTO elig_applications (application_id, person_id, "
                       "items, agent_relation, agent_id_hash, submitted_by) SELECT 'AP-' || "
                       "nextval('elig_application_seq'), $1, (SELECT array_agg(x ORDER BY x) "
                       "FROM unnest($2::text[]) x), $3, $4, $5 ON CONFLICT DO NOTHING RETURNING "
                       "application_id, items::text) INSERT INTO elig_application_history "
                       "(application_id, operator_id, role, from_state, to_state) SELECT "
                       "application_id, NULL, NULL, NULL, 'submitted' FROM a RETURNING "
                       "application_id, (SELECT items FROM a)",
                       5, p, err, sizeof(err));
        if (res == NULL) {
            registry_fail("%s", err);
            rc = 2;
        } else if (PQntuples(res) == 0) {
            registry_fail("person %.12s… has an open application for %s already", argv[0], items);
            rc = 1;
        }
    }
    rc = registry_end(r, rc);
    if (rc == 0) {
        const char *id = PQgetvalue(res, 0, 0);
        if (applications_publish(r, id, argv[0], PQgetvalue(res, 0, 1), "submitted", NULL, NULL,
                                 NULL, NULL, NULL, rel != NULL) < 0)
            rc = 2;
        printf("application %s: %d item(s) for person %.12s…%s, submitted; waits for the village "
               "level\n",
               id, nitems, argv[0], rel ? " by an agent" : "");
    }
    PQclear(res);
    PQclear(pr);
    pg_array_free(&arr);
    catalogue_free(&c);
    return rc;
}

/* --------------------------------------------------------------- decisions */

/* The application and its applicant's areas, locked: 0 / 1 / 2. */
static PGresult *applications_load(registry *r, const char *id, int *rc)
{
    char err[512];
    const char *p[] = {id};
    PGresult *a = pg_query(r->pg,
                           "SELECT a.state, a.person_id, a.items::text, p.village, p.town, "
                           "p.district, a.agent_relation IS NOT NULL, a.stage_since::date - "
                           "DATE '1970-01-01', coalesce(a.reason, ''), "
                           "coalesce(a.effective_from::text, '') FROM elig_applications a JOIN "
                           "elig_persons p USING (person_id) WHERE a.application_id = $1 FOR "
                           "UPDATE OF a",
                           1, p, err, sizeof(err));
    *rc = 0;
    if (a == NULL) {
        registry_fail("%s", err);
        *rc = 2;
    } else if (PQntuples(a) == 0) {
        registry_fail("no application %.32s", id);
        *rc = 1;
    }
    return a;
}

/* The operator may see (and, at their level, decide) the application: a
 * reviewer only in their area. 0 / 1 (printed). */
static int applications_in_area(const operators_who *who, PGresult *a, const char *id)
{
    const char *col = applications_area_column(who->role);
    if (col == NULL)
        return 0; /* finance, auditor, administrator: every area */
    const char *area = PQgetvalue(a, 0,
                                  strcmp(col, "village") == 0 ? 3
                                  : strcmp(col, "town") == 0  ? 4
                                                              : 5);
    if (strcmp(area, who->area) != 0) {
        registry_fail("application %s is not in your area (%s %s): refused", id, who->role,
                      who->area);
        return 1;
    }
    return 0;
}

static int applications_decide(registry *r, int argc, char **argv)
{
    int npos = args_check(argc, argv, "decision,reason,session");
    const char *decision = args_opt(argc, argv, "decision");
    const char *reason = args_opt(argc, argv, "reason"), *session = args_opt(argc, argv, "session");
    if (npos != 1 || args_need(decision, "decision") || args_need(session, "session"))
        return 1;
    if (strcmp(decision, "pass") != 0 && (reason == NULL || reason[0] == '\0')) {
        registry_fail("--reason is required to %s an application", decision);
        return 1;
    }
    operators_who who;
    int rc = operators_session(r, session, &who);
    if (rc != 0)
        return rc;
    if (registry_begin(r, who.id) < 0)
        return 2;
    const char *id = argv[0];
    PGresult *a = applications_load(r, id, &rc);
    const char *next = NULL;
    char err[512], today[RULES_DATE_LEN];
    rules_date_format(today, registry_today());
    if (rc == 0)
        rc = applications_in_area(&who, a, id);
    if (rc == 0 &&
        review_next(PQgetvalue(a, 0, 0), who.role, decision, &next, err, sizeof(err)) < 0) {
        registry_fail("application %s: %s", id, err);
        rc = 1;
    }
    if (rc == 0) {
        /* the same level again (after a return) is the same person's to decide */
        const char *p[] = {id, who.id, who.role};
        PGresult *h = pg_query(r->pg,
                               "SELECT role FROM elig_application_history WHERE application_id "
                               "= $1 AND operator_id = $2 AND role <> $3 LIMIT 1",
                               3, p, err, sizeof(err));
        if (h == NULL) {
            registry_fail("%s", err);
            rc = 2;
        } else if (PQntuples(h) > 0) {
            registry_fail("application %s: operator %s decided it at the %s level already; each "
                          "level is decided by another person",
                          id, who.id, PQgetvalue(h, 0, 0));
            rc = 1;
        }
        PQclear(h);
    }
    PGresult *cards = NULL;
    if (rc == 0) {
        bool approve = strcmp(next, "approved") == 0;
        const char *p[] = {id, next, who.id, who.role, PQgetvalue(a, 0, 0), reason, today};
        rc = pg_exec(r->pg,
                     "WITH u AS (UPDATE elig_applications SET state = $2, stage_since = now(), "
                     "escalated_at = NULL, reason = CASE WHEN $2 IN ('rejected', 'returned') "
                     "THEN $6 ELSE reason END, effective_from = CASE WHEN $2 = 'approved' THEN "
                     "$7::date END WHERE application_id = $1 RETURNING 1) INSERT INTO "
                     "elig_application_history (application_id, operator_id, role, from_state, "
                     "to_state, reason) VALUES ($1, $3, $4, $5, $2, $6)",
                     7, p, err, sizeof(err)) < 0
                 ? 2
                 : 0;
        /* an approval grants the items from today: a dated change each */
        const char *g[] = {id, today, PQgetvalue(a, 0, 1)};
        if (rc == 0 && approve)
            rc = pg_exec(r->pg,
                         "INSERT INTO elig_person_changes (person_id, attr, value, "
                         "effective_from, event_id, source) SELECT $3, 'grant:' || x, '1', "
                         "$2::date, 'application-' || $1, 'application' FROM unnest((SELECT "
                         "items FROM elig_applications WHERE application_id = $1)) x ON "
                         "CONFLICT DO NOTHING",
                         3, g, err, sizeof(err)) < 0
                     ? 2
                     : 0;
        if (rc != 0)
            registry_fail("%s", err);
        if (rc == 0 && approve) {
            char persons[80];
            snprintf(persons, sizeof(persons), "{%s}", PQgetvalue(a, 0, 1));
            cards = registry_settle(r, persons);
            if (cards == NULL)
                rc = 2;
        }
    }
    rc = registry_end(r, rc);
    if (rc != 0) {
        PQclear(cards);
    } else {
        const char *person = PQgetvalue(a, 0, 1);
        bool approve = strcmp(next, "approved") == 0;
        if (approve && (registry_settled(r, cards) < 0 || registry_project_person(r, person) < 0))
            rc = 2;
        if (applications_publish(r, id, person, PQgetvalue(a, 0, 2), next, PQgetvalue(a, 0, 0),
                                 who.role, who.id, reason, approve ? today : NULL,
                                 strcmp(PQgetvalue(a, 0, 6), "t") == 0) < 0)
            rc = 2;
        printf("application %s: %s -> %s by %s (%s %s)%s%s\n", id, PQgetvalue(a, 0, 0), next,
               who.id, who.role, who.area, approve ? "; the items are granted from " : "",
               approve ? today : "");
    }
    PQclear(a);
    return rc;
}

static int applications_resubmit(registry *r, int argc, char **argv)
{
    int npos = args_check(argc, argv, "actor");
    const char *actor = args_opt(argc, argv, "actor");
    if (npos != 1 || args_need(actor, "actor"))
        return 1;
    if (registry_begin(r, actor) < 0)
        return 2;
    int rc;
    PGresult *a = applications_load(r, argv[0], &rc);
    if (rc == 0 && strcmp(PQgetvalue(a, 0, 0), "returned") != 0) {
        registry_fail("application %s is %s: only a returned application is resubmitted", argv[0],
                      PQgetvalue(a, 0, 0));
        rc = 1;
    }
    char err[512];
    const char *p[] = {argv[0], actor};
    if (rc == 0 && pg_exec(r->pg,
                           "WITH u AS (UPDATE elig_applications SET state = 'submitted', "
                           "stage_since = now(), escalated_at = NULL WHERE application_id = $1 "
                           "RETURNING 1) INSERT INTO elig_application_history (application_id, "
                           "operator_id, role, from_state, to_state, reason) VALUES ($1, NULL, "
                           "NULL, 'returned', 'submitted', 'resubmitted by ' || $2)",
                           2, p, err, sizeof(err)) < 0) {
        registry_fail("%s", err);
        rc = 2;
    }
    rc = registry_end(r, rc);
    if (rc == 0) {
        if (applications_publish(r, argv[0], PQgetvalue(a, 0, 1), PQgetvalue(a, 0, 2), "submitted",
                                 "returned", NULL, NULL, NULL, NULL,
                                 strcmp(PQgetvalue(a, 0, 6), "t") == 0) < 0)
            rc = 2;
        printf("application %s: resubmitted; waits for the village level again\n", argv[0]);
    }
    PQclear(a);
    return rc;
}

/* ------------------------------------------------------------------ lists */

static int applications_workdays(registry *r, int days[3])
{
    char err[200];
    if (review_workdays_parse(r->cfg->review_workdays, days, err, sizeof(err)) < 0) {
        registry_fail("%s", err);
        return -1;
    }
    return 0;
}

static int applications_level_index(const char *level)
{
    return strcmp(level, "village") == 0 ? 0 : strcmp(level, "town") == 0 ? 1 : 2;
}

typedef struct applications_row {
    int row;
    int32_t deadline;
} applications_row;

static int applications_by_deadline(const void *a, const void *b)
{
    const applications_row *x = a, *y = b;
    return x->deadline != y->deadline ? (x->deadline < y->deadline ? -1 : 1) : x->row - y->row;
}

static int applications_queue(registry *r, int argc, char **argv)
{
    if (args_check(argc, argv, "session") != 0 ||
        args_need(args_opt(argc, argv, "session"), "session"))
        return 1;
    operators_who who;
    int rc = operators_session(r, args_opt(argc, argv, "session"), &who), days[3];
    if (rc != 0)
        return rc;
    const char *col = applications_area_column(who.role);
    if (col == NULL) {
        registry_fail("a %s operator has no review queue", who.role);
        return 1;
    }
    if (applications_workdays(r, days) < 0)
        return 1;
    static const char *const states[] = {"submitted", "village-reviewed", "town-reviewed"};
    int lvl = applications_level_index(who.role);
    char sql[512], err[512];
    snprintf(sql, sizeof(sql),
             "SELECT a.application_id, left(a.person_id, 12), a.items::text, a.stage_since::date "
             "- DATE '1970-01-01', a.stage_since::date, a.agent_relation IS NOT NULL FROM "
             "elig_applications a JOIN elig_persons p USING (person_id) WHERE a.state = $1 AND "
             "p.%s = $2",
             col);
    const char *p[] = {states[lvl], who.area};
    PGresult *res = pg_query(r->pg, sql, 2, p, err, sizeof(err));
    if (res == NULL) {
        registry_fail("%s", err);
        return 2;
    }
    int n = PQntuples(res);
    applications_row *rows = calloc((size_t)n + 1, sizeof(*rows));
    for (int i = 0; i < n; i++) {
        rows[i].row = i;
        rows[i].deadline = review_deadline((int32_t)atol(PQgetvalue(res, i, 3)), days[lvl]);
    }
    qsort(rows, (size_t)n, sizeof(*rows), applications_by_deadline);
    int32_t today = registry_today();
    printf("queue of %s (%s %s): %d application(s) at the %s level, %d working days each\n", who.id,
           who.role, who.area, n, who.role, days[lvl]);
    for (int k = 0; k < n; k++) {
        int i = rows[k].row;
        char due[RULES_DATE_LEN], left[48];
        rules_date_format(due, rows[k].deadline);
        int32_t d = rows[k].deadline - today;
        if (d < 0)
            snprintf(left, sizeof(left), "OVERDUE by %d day(s)", -d);
        else
            snprintf(left, sizeof(left), "%d day(s) left", d);
        printf("  %-10s %-22s due %s  since %s  person %s…  %s%s\n", PQgetvalue(res, i, 0), left,
               due, PQgetvalue(res, i, 4), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
               strcmp(PQgetvalue(res, i, 5), "t") == 0 ? "  (by an agent)" : "");
    }
    free(rows);
    PQclear(res);
    return 0;
}

static int applications_show(registry *r, int argc, char **argv)
{
    if (args_check(argc, argv, "session") != 1 ||
        args_need(args_opt(argc, argv, "session"), "session"))
        return 1;
    operators_who who;
    int rc = operators_session(r, args_opt(argc, argv, "session"), &who);
    if (rc != 0)
        return rc;
    char err[512];
    if (pg_exec(r->pg, "BEGIN", 0, NULL, err, sizeof(err)) < 0) {
        registry_fail("%s", err);
        return 2;
    }
    PGresult *a = applications_load(r, argv[0], &rc);
    if (rc == 0)
        rc = applications_in_area(&who, a, argv[0]);
    const char *p[] = {argv[0]};
    PGresult *h = rc == 0 ? pg_query(r->pg,
                                     "SELECT to_char(at, 'YYYY-MM-DD HH24:MI'), "
                                     "coalesce(operator_id, 'applicant'), coalesce(role, ''), "
                                     "coalesce(from_state, ''), to_state, coalesce(reason, '') "
                                     "FROM elig_application_history WHERE application_id = $1 "
                                     "ORDER BY seq",
                                     1, p, err, sizeof(err))
                          : NULL;
    if (rc == 0 && h == NULL) {
        registry_fail("%s", err);
        rc = 2;
    }
    if (rc == 0) {
        printf("application %s: %s; person %.12s… (%s, %s, %s); items %s%s%s%s\n", argv[0],
               PQgetvalue(a, 0, 0), PQgetvalue(a, 0, 1), PQgetvalue(a, 0, 3), PQgetvalue(a, 0, 4),
               PQgetvalue(a, 0, 5), PQgetvalue(a, 0, 2),
               strcmp(PQgetvalue(a, 0, 6), "t") == 0 ? "; by an agent" : "",
               *PQgetvalue(a, 0, 9) ? "; granted from " : "", PQgetvalue(a, 0, 9));
        for (int i = 0; i < PQntuples(h); i++)
            printf("  %s  %-12s %-8s %s -> %s%s%s\n", PQgetvalue(h, i, 0), PQgetvalue(h, i, 1),
                   PQgetvalue(h, i, 2), *PQgetvalue(h, i, 3) ? PQgetvalue(h, i, 3) : "(new)",
                   PQgetvalue(h, i, 4), *PQgetvalue(h, i, 5) ? ": " : "", PQgetvalue(h, i, 5));
        /* the person's materials on file, and which this application rests on */
        const char *q[] = {argv[0], PQgetvalue(a, 0, 1)};
        PGresult *m = pg_query(r->pg,
                               "SELECT m.kind, m.content_type, m.size_bytes, left(m.sha256, 16), "
                               "to_char(m.uploaded_at, 'YYYY-MM-DD'), EXISTS (SELECT 1 FROM "
                               "elig_application_materials x WHERE x.application_id = $1 AND "
                               "x.kind = m.kind) FROM elig_materials m WHERE m.person_id = $2 "
                               "ORDER BY m.kind",
                               2, q, err, sizeof(err));
        for (int i = 0; m && i < PQntuples(m); i++)
            printf("  material %-18s %-15s %8s bytes  sha256 %s…  %s%s\n", PQgetvalue(m, i, 0),
                   PQgetvalue(m, i, 1), PQgetvalue(m, i, 2), PQgetvalue(m, i, 3),
                   PQgetvalue(m, i, 4),
                   strcmp(PQgetvalue(m, i, 5), "t") == 0 ? ""
                                                         : "  (on file, from another "
                                                           "application)");
        PQclear(m);
    }
    pg_rollback(r->pg);
    PQclear(h);
    PQclear(a);
    return rc;
}

/* Every open application past its stage's time limit, not escalated at
 * this stage yet: an ApplicationChanged "escalated", once. */
static int applications_sweep(registry *r, int argc, char **argv)
{
    int npos = args_check(argc, argv, "actor");
    const char *actor = args_opt(argc, argv, "actor");
    int days[3];
    if (npos != 0 || args_need(actor, "actor") || applications_workdays(r, days) < 0)
        return 1;
    char err[512];
    PGresult *res = pg_query(r->pg,
                             "SELECT application_id, person_id, items::text, state, "
                             "stage_since::date - DATE '1970-01-01', agent_relation IS NOT NULL "
                             "FROM elig_applications WHERE state IN ('submitted', "
                             "'village-reviewed', 'town-reviewed') AND escalated_at IS NULL",
                             0, NULL, err, sizeof(err));
    if (res == NULL) {
        registry_fail("%s", err);
        return 2;
    }
    int32_t today = registry_today();
    int escalated = 0, rc = 0;
    for (int i = 0; i < PQntuples(res) && rc == 0; i++) {
        const char *state = PQgetvalue(res, i, 3), *id = PQgetvalue(res, i, 0);
        int lvl = applications_level_index(review_level(state));
        if (review_deadline((int32_t)atol(PQgetvalue(res, i, 4)), days[lvl]) >= today)
            continue;
        if (registry_begin(r, actor) < 0)
            return 2;
        const char *p[] = {id, state};
        if (pg_exec(r->pg,
                    "WITH u AS (UPDATE elig_applications SET escalated_at = now() WHERE "
                    "application_id = $1 RETURNING 1) INSERT INTO elig_application_history "
                    "(application_id, operator_id, role, from_state, to_state, reason) VALUES "
                    "($1, NULL, NULL, $2, 'escalated', 'overdue at ' || $2)",
                    2, p, err, sizeof(err)) < 0 ||
            registry_commit(r) < 0) {
            registry_fail("%s", err);
            pg_rollback(r->pg);
            rc = 2;
            break;
        }
        if (applications_publish(r, id, PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), "escalated",
                                 state, review_level(state), NULL, state, NULL,
                                 strcmp(PQgetvalue(res, i, 5), "t") == 0) < 0)
            rc = 2;
        printf("application %s: overdue at %s (the %s level), escalated\n", id, state,
               review_level(state));
        escalated++;
    }
    printf("sweep: %d application(s) escalated\n", escalated);
    PQclear(res);
    return rc;
}

int applications_command(registry *r, int argc, char **argv)
{
    static const struct {
        const char *sub;
        int (*run)(registry *, int, char **);
    } subs[] = {{"submit", applications_submit}, {"resubmit", applications_resubmit},
                {"decide", applications_decide}, {"queue", applications_queue},
                {"show", applications_show},     {"sweep", applications_sweep},
                {"material", materials_command}};
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
        if (strcmp(argv[0], subs[i].sub) == 0)
            return subs[i].run(r, argc - 1, argv + 1);
    return COMMANDS_USAGE;
}
