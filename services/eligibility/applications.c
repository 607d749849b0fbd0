/*
 * applications: submitting, reviewing, listing applications: the actions
 * (shared by the commands below and the operator API, api/), then the
 * commands. See applications.h; the review's rules are review.c's.
 */
#include "applications.h"

#include "args.h"
#include "catalogue.h"
#include "commands.h"
#include "ident.h"
#include "materials.h"
#include "operators.h"
#include "review.h"

#include "common/cli.h"
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
/* The outbox: every row of elig_application_history is one
 * ApplicationChanged, with the event id it was given when written, sent
 * after the transaction that wrote it and marked published once the
 * broker acknowledged it. An approval projects the person's card first, so
 * a published approval is one the card carries. */
#define APPLICATIONS_OUTBOX_BATCH 200

/* One sender at a time (the actions of every process and the daemon): two
 * would send a row twice. The actions wait for the lock, the daemon tries. */
#define APPLICATIONS_OUTBOX_LOCK "7236900001"

int applications_outbox(registry *r, const char *id, bool wait)
{
    char err[512];
    PGresult *lk =
        pg_exec(r->pg, "BEGIN", 0, NULL, err, sizeof(err)) < 0
            ? NULL
            : pg_query(
                  r->pg,
                  wait ? "SELECT true FROM (SELECT pg_advisory_xact_lock(" APPLICATIONS_OUTBOX_LOCK
                         ")) l"
                       : "SELECT pg_try_advisory_xact_lock(" APPLICATIONS_OUTBOX_LOCK ")",
                  0, NULL, err, sizeof(err));
    if (lk == NULL) {
        pg_rollback(r->pg);
        registry_fail("the applications' outbox: %s", err);
        return -1;
    }
    bool mine = PQgetvalue(lk, 0, 0)[0] == 't';
    PQclear(lk);
    if (!mine) { /* another sender is at it: it sends ours too */
        pg_rollback(r->pg);
        return 0;
    }
    const char *p[] = {id};
    PGresult *res = pg_query(
        r->pg,
        "SELECT h.application_id, h.seq, h.event_id, h.to_state, coalesce(h.from_state, ''), "
        "coalesce(h.role, ''), coalesce(h.operator_id, ''), coalesce(h.reason, ''), "
        "a.person_id, a.items::text, coalesce(a.effective_from::text, ''), a.agent_relation IS "
        "NOT NULL, (extract(epoch FROM h.at) * 1000)::bigint FROM elig_application_history h "
        "JOIN elig_applications a USING (application_id) WHERE NOT h.published AND ($1::text IS "
        "NULL OR h.application_id = $1) ORDER BY h.application_id, h.seq LIMIT 200",
        1, p, err, sizeof(err));
    if (res == NULL) {
        pg_rollback(r->pg);
        registry_fail("the applications' outbox: %s", err);
        return -1;
    }
    int sent = 0;
    for (int i = 0; i < PQntuples(res); i++) {
        const char *app = PQgetvalue(res, i, 0), *state = PQgetvalue(res, i, 3);
        const char *from = PQgetvalue(res, i, 4), *role = PQgetvalue(res, i, 5);
        const char *person = PQgetvalue(res, i, 8);
        bool escalated = strcmp(state, "escalated") == 0;
        bool approved = strcmp(state, "approved") == 0;
        bool why = strcmp(state, "rejected") == 0 || strcmp(state, "returned") == 0;
        if (approved && registry_project_person(r, person) < 0)
            break;
        Onecard__V1__ApplicationChanged m = ONECARD__V1__APPLICATION_CHANGED__INIT;
        char buf[512], *codes[40];
        size_t n = 0;
        snprintf(buf, sizeof(buf), "%s", PQgetvalue(res, i, 9));
        for (char *c = strtok(buf, "{},"); c && n < 40; c = strtok(NULL, "{},"))
            codes[n++] = c;
        m.event_id = PQgetvalue(res, i, 2);
        m.application_id = (char *)app;
        m.person_id = (char *)person;
        m.items = codes;
        m.n_items = n;
        m.state = (char *)state;
        m.from_state = (char *)from;
        /* escalated: the overdue stage's level, and the stage as the reason */
        m.level = (char *)(escalated ? review_level(from) : role);
        m.operator_id = PQgetvalue(res, i, 6);
        m.reason = escalated ? (char *)from : why ? PQgetvalue(res, i, 7) : (char *)"";
        m.effective_from = approved ? PQgetvalue(res, i, 10) : (char *)"";
        m.by_agent = PQgetvalue(res, i, 11)[0] == 't';
        m.occurred_at_ms = atoll(PQgetvalue(res, i, 12));
        if (registry_publish(r, &m.base, app) < 0)
            break;
        const char *u[] = {app, PQgetvalue(res, i, 1)};
        if (pg_exec(r->pg,
                    "UPDATE elig_application_history SET published = true WHERE "
                    "application_id = $1 AND seq = $2",
                    2, u, err, sizeof(err)) < 0) {
            registry_fail("the applications' outbox: %s", err);
            break;
        }
        sent++;
    }
    /* the rows marked are the ones the broker acknowledged */
    int rc = sent == PQntuples(res) ? sent : -1;
    PQclear(res);
    if (pg_exec(r->pg, "COMMIT", 0, NULL, err, sizeof(err)) < 0) {
        pg_rollback(r->pg);
        registry_fail("the applications' outbox: %s", err);
        return -1;
    }
    return rc;
}

/* ----------------------------------------------------------------- submit */

/* The person's areas (village, town, district) hold who's area: 0, or 1
 * (refused). A NULL who (a command's actor) and the roles without an area
 * see everything. */
static int applications_in_area(const operators_who *who, const char *const areas[3],
                                const char *what)
{
    if (who == NULL)
        return 0;
    const char *col = applications_area_column(who->role);
    if (col == NULL)
        return 0; /* finance, auditor, administrator: every area */
    const char *area = areas[strcmp(col, "village") == 0 ? 0 : strcmp(col, "town") == 0 ? 1 : 2];
    if (strcmp(area, who->area) != 0) {
        registry_refuse(REFUSE_FORBIDDEN, "%s is not in your area (%s %s): refused", what,
                        who->role, who->area);
        return 1;
    }
    return 0;
}

/* The areas of row 0 of a result whose columns first..first+2 hold them. */
#define applications_areas(res, first)                                                             \
    (const char *const[3])                                                                         \
    {                                                                                              \
        PQgetvalue(res, 0, first), PQgetvalue(res, 0, (first) + 1),                                \
            PQgetvalue(res, 0, (first) + 2)                                                        \
    }

/* Submitting or resubmitting for a person: a reviewer of their area or an
 * administrator (finance and auditors never do). */
static int applications_may_act(const operators_who *who, const char *const areas[3],
                                const char *what)
{
    if (who == NULL)
        return 0;
    if (applications_area_column(who->role) == NULL && strcmp(who->role, "administrator") != 0) {
        registry_refuse(REFUSE_FORBIDDEN, "a %s operator does not submit applications", who->role);
        return 1;
    }
    return applications_in_area(who, areas, what);
}

int applications_submit(registry *r, const operators_who *who, const char *actor,
                        const applications_new *in, char id[32], int *nitems)
{
    static const char *const relations[] = {"guardian", "family", "community-worker", NULL};
    const char *rel = in->agent_relation, *aid = in->agent_id;
    id[0] = '\0';
    *nitems = 0;
    if ((rel == NULL) != (aid == NULL)) {
        registry_fail("agent-relation and agent-id go together");
        return 1;
    }
    char agent[IDENT_PERSON_LEN + 1] = "", err[512];
    if (rel) {
        if (!args_one_of(rel, relations)) {
            registry_fail("agent-relation must be guardian, family or community-worker");
            return 1;
        }
        if (ident_national_id_check(aid, err, sizeof(err)) < 0) {
            registry_fail("agent-id: %s", err);
            return 1;
        }
        ident_person_id(agent, r->cfg->id_salt, aid);
    }
    catalogue c;
    if (registry_catalogue(r, registry_today(), &c) < 0)
        return CLI_DEPENDENCY;
    if (registry_begin(r, actor) < 0) {
        catalogue_free(&c);
        return CLI_DEPENDENCY;
    }
    const char *p0[] = {in->person_id};
    PGresult *pr = pg_query(r->pg,
                            "SELECT " REGISTRY_PERSON_COLS ", p.village, p.town, p.district FROM "
                            "elig_persons p WHERE p.person_id = $1 FOR UPDATE",
                            1, p0, err, sizeof(err));
    int rc = pr ? 0 : CLI_DEPENDENCY;
    if (pr == NULL)
        registry_fail("%s", err);
    else if (PQntuples(pr) == 0) {
        registry_refuse(REFUSE_NOT_FOUND, "person %.64s is not registered", in->person_id);
        rc = 1;
    }
    if (rc == 0 && who) {
        int ncols = PQnfields(pr);
        rc = applications_may_act(who, applications_areas(pr, ncols - 3), "the person");
    }
    /* every item: in the catalogue, granted by application, admitted by its rule */
    pg_array arr = {0};
    char list[512];
    snprintf(list, sizeof(list), "%s", in->items);
    int n = 0;
    for (char *s = strtok(list, ","); s && rc == 0; s = strtok(NULL, ",")) {
        const rules_item *it = catalogue_find(&c, s);
        rules_person rp = registry_person_row(pr, 0, 0);
        if (it == NULL) {
            registry_fail("items: %.40s is not in the catalogue", s);
            rc = 1;
        } else if (!it->application) {
            registry_fail("items: %s is granted from the registry; no application is needed", s);
            rc = 1;
        } else if (!rules_eligible(&it->expr, &rp, registry_today())) {
            registry_fail("items: person %.12s… is not eligible for %s (%s)", in->person_id, s,
                          it->eligibility);
            rc = 1;
        } else {
            pg_array_add(&arr, s);
            n++;
        }
    }
    if (rc == 0 && n == 0) {
        registry_fail("items: name at least one item");
        rc = 1;
    }
    PGresult *res = NULL;
    if (rc == 0) {
        const char *p[] = {in->person_id, pg_array_text(&arr), rel, rel ? agent : NULL, actor};
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
            rc = CLI_DEPENDENCY;
        } else if (PQntuples(res) == 0) {
            registry_refuse(REFUSE_CONFLICT, "person %.12s… has an open application for %s already",
                            in->person_id, in->items);
            rc = 1;
        }
    }
    rc = registry_end(r, rc);
    if (rc == 0) {
        snprintf(id, 32, "%s", PQgetvalue(res, 0, 0));
        *nitems = n;
        if (applications_outbox(r, id, true) < 0)
            rc = CLI_DEPENDENCY;
    }
    PQclear(res);
    PQclear(pr);
    pg_array_free(&arr);
    catalogue_free(&c);
    return rc;
}

/* --------------------------------------------------------------- decisions */

/* The application and its applicant's areas (APP_* columns), locked when
 * lock: 0 / 1 / 2. */
static PGresult *applications_load(registry *r, const char *id, bool lock, int *rc)
{
    char err[512], sql[1024];
    const char *p[] = {id};
    snprintf(sql, sizeof(sql),
             "SELECT a.state, a.person_id, a.items::text, p.village, p.town, p.district, "
             "a.agent_relation IS NOT NULL, a.stage_since::date - DATE '1970-01-01', "
             "coalesce(a.reason, ''), coalesce(a.effective_from::text, ''), "
             "to_char(a.submitted_at, 'YYYY-MM-DD\"T\"HH24:MI:SSOF'), a.submitted_by, "
             "coalesce(a.agent_relation, ''), to_char(a.stage_since, "
             "'YYYY-MM-DD\"T\"HH24:MI:SSOF') FROM elig_applications a JOIN elig_persons p USING "
             "(person_id) WHERE a.application_id = $1%s",
             lock ? " FOR UPDATE OF a" : "");
    PGresult *a = pg_query(r->pg, sql, 1, p, err, sizeof(err));
    *rc = 0;
    if (a == NULL) {
        registry_fail("%s", err);
        *rc = CLI_DEPENDENCY;
    } else if (PQntuples(a) == 0) {
        registry_refuse(REFUSE_NOT_FOUND, "no application %.32s", id);
        *rc = 1;
    }
    return a;
}

int applications_decide(registry *r, const operators_who *who, const char *id, const char *decision,
                        const char *reason, applications_decided *out)
{
    memset(out, 0, sizeof(*out));
    if (strcmp(decision, "pass") != 0 && strcmp(decision, "reject") != 0 &&
        strcmp(decision, "return") != 0) {
        registry_fail("decision must be pass, reject or return, not \"%.20s\"", decision);
        return 1;
    }
    if (strcmp(decision, "pass") != 0 && (reason == NULL || reason[0] == '\0')) {
        registry_fail("reason is required to %s an application", decision);
        return 1;
    }
    if (registry_begin(r, who->id) < 0)
        return CLI_DEPENDENCY;
    int rc;
    PGresult *a = applications_load(r, id, true, &rc);
    const char *next = NULL;
    char err[512], today[RULES_DATE_LEN], what[64];
    rules_date_format(today, registry_today());
    snprintf(what, sizeof(what), "application %.32s", id);
    if (rc == 0)
        rc = applications_in_area(who, applications_areas(a, APP_VILLAGE), what);
    if (rc == 0 &&
        review_next(PQgetvalue(a, 0, 0), who->role, decision, &next, err, sizeof(err)) < 0) {
        registry_refuse(strcmp(who->role, "village") == 0 || strcmp(who->role, "town") == 0 ||
                                strcmp(who->role, "district") == 0
                            ? REFUSE_CONFLICT
                            : REFUSE_FORBIDDEN,
                        "application %s: %s", id, err);
        rc = 1;
    }
    if (rc == 0) {
        /* the same level again (after a return) is the same person's to decide */
        const char *p[] = {id, who->id, who->role};
        PGresult *h = pg_query(r->pg,
                               "SELECT role FROM elig_application_history WHERE application_id "
                               "= $1 AND operator_id = $2 AND role <> $3 LIMIT 1",
                               3, p, err, sizeof(err));
        if (h == NULL) {
            registry_fail("%s", err);
            rc = CLI_DEPENDENCY;
        } else if (PQntuples(h) > 0) {
            registry_refuse(REFUSE_CONFLICT,
                            "application %s: operator %s decided it at the %s level already; "
                            "each level is decided by another person",
                            id, who->id, PQgetvalue(h, 0, 0));
            rc = 1;
        }
        PQclear(h);
    }
    PGresult *cards = NULL;
    if (rc == 0) {
        bool approve = strcmp(next, "approved") == 0;
        const char *p[] = {id, next, who->id, who->role, PQgetvalue(a, 0, 0), reason, today};
        rc = pg_exec(r->pg,
                     "WITH u AS (UPDATE elig_applications SET state = $2, stage_since = now(), "
                     "escalated_at = NULL, reason = CASE WHEN $2 IN ('rejected', 'returned') "
                     "THEN $6 ELSE reason END, effective_from = CASE WHEN $2 = 'approved' THEN "
                     "$7::date END WHERE application_id = $1 RETURNING 1) INSERT INTO "
                     "elig_application_history (application_id, operator_id, role, from_state, "
                     "to_state, reason) VALUES ($1, $3, $4, $5, $2, $6)",
                     7, p, err, sizeof(err)) < 0
                 ? CLI_DEPENDENCY
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
                     ? CLI_DEPENDENCY
                     : 0;
        if (rc != 0)
            registry_fail("%s", err);
        if (rc == 0 && approve) {
            char persons[80];
            snprintf(persons, sizeof(persons), "{%s}", PQgetvalue(a, 0, 1));
            cards = registry_settle(r, persons);
            if (cards == NULL)
                rc = CLI_DEPENDENCY;
        }
    }
    rc = registry_end(r, rc);
    if (rc != 0) {
        PQclear(cards);
    } else {
        bool approve = strcmp(next, "approved") == 0;
        snprintf(out->from, sizeof(out->from), "%s", PQgetvalue(a, 0, 0));
        snprintf(out->next, sizeof(out->next), "%s", next);
        if (approve)
            snprintf(out->effective, sizeof(out->effective), "%s", today);
        /* the card (an approval) and the event; what fails here is
         * finished by the daemon's outbox (feed.c) */
        if (approve && registry_settled(r, cards) < 0)
            rc = CLI_DEPENDENCY;
        if (applications_outbox(r, id, true) < 0)
            rc = CLI_DEPENDENCY;
    }
    PQclear(a);
    return rc;
}

int applications_access(registry *r, const operators_who *who, const char *id, bool act)
{
    int rc;
    char what[64];
    snprintf(what, sizeof(what), "application %.32s", id);
    PGresult *a = applications_load(r, id, false, &rc);
    if (rc == 0)
        rc = act ? applications_may_act(who, applications_areas(a, APP_VILLAGE), what)
                 : applications_in_area(who, applications_areas(a, APP_VILLAGE), what);
    PQclear(a);
    return rc;
}

int applications_resubmit(registry *r, const operators_who *who, const char *actor, const char *id)
{
    if (registry_begin(r, actor) < 0)
        return CLI_DEPENDENCY;
    int rc;
    char what[64];
    snprintf(what, sizeof(what), "application %.32s", id);
    PGresult *a = applications_load(r, id, true, &rc);
    if (rc == 0)
        rc = applications_may_act(who, applications_areas(a, APP_VILLAGE), what);
    if (rc == 0 && strcmp(PQgetvalue(a, 0, 0), "returned") != 0) {
        registry_refuse(REFUSE_CONFLICT,
                        "application %s is %s: only a returned application is resubmitted", id,
                        PQgetvalue(a, 0, 0));
        rc = 1;
    }
    char err[512];
    const char *p[] = {id, actor};
    if (rc == 0 && pg_exec(r->pg,
                           "WITH u AS (UPDATE elig_applications SET state = 'submitted', "
                           "stage_since = now(), escalated_at = NULL WHERE application_id = $1 "
                           "RETURNING 1) INSERT INTO elig_application_history (application_id, "
                           "operator_id, role, from_state, to_state, reason) VALUES ($1, NULL, "
                           "NULL, 'returned', 'submitted', 'resubmitted by ' || $2)",
                           2, p, err, sizeof(err)) < 0) {
        registry_fail("%s", err);
        rc = CLI_DEPENDENCY;
    }
    rc = registry_end(r, rc);
    if (rc == 0 && applications_outbox(r, id, true) < 0)
        rc = CLI_DEPENDENCY;
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

struct applications_queue_row {
    int row;
    int32_t deadline;
};

static int applications_by_deadline(const void *a, const void *b)
{
    const struct applications_queue_row *x = a, *y = b;
    return x->deadline != y->deadline ? (x->deadline < y->deadline ? -1 : 1) : x->row - y->row;
}

int applications_queue_load(registry *r, const operators_who *who, applications_queue *q)
{
    memset(q, 0, sizeof(*q));
    const char *col = applications_area_column(who->role);
    int days[3];
    if (col == NULL) {
        registry_refuse(REFUSE_FORBIDDEN, "a %s operator has no review queue", who->role);
        return 1;
    }
    if (applications_workdays(r, days) < 0)
        return 1;
    static const char *const states[] = {"submitted", "village-reviewed", "town-reviewed"};
    int lvl = applications_level_index(who->role);
    char sql[512], err[512];
    snprintf(sql, sizeof(sql),
             "SELECT a.application_id, left(a.person_id, 12), a.items::text, a.stage_since::date "
             "- DATE '1970-01-01', a.stage_since::date, a.agent_relation IS NOT NULL FROM "
             "elig_applications a JOIN elig_persons p USING (person_id) WHERE a.state = $1 AND "
             "p.%s = $2",
             col);
    const char *p[] = {states[lvl], who->area};
    PGresult *res = pg_query(r->pg, sql, 2, p, err, sizeof(err));
    if (res == NULL) {
        registry_fail("%s", err);
        return CLI_DEPENDENCY;
    }
    int n = PQntuples(res);
    q->rows = calloc((size_t)n + 1, sizeof(*q->rows));
    if (q->rows == NULL) {
        PQclear(res);
        registry_fail("out of memory");
        return CLI_DEPENDENCY;
    }
    for (int i = 0; i < n; i++) {
        q->rows[i].row = i;
        q->rows[i].deadline = review_deadline((int32_t)atol(PQgetvalue(res, i, 3)), days[lvl]);
    }
    qsort(q->rows, (size_t)n, sizeof(*q->rows), applications_by_deadline);
    q->res = res;
    q->n = n;
    q->days = days[lvl];
    return 0;
}

void applications_queue_at(const applications_queue *q, int k, applications_entry *e)
{
    PGresult *res = q->res;
    int i = q->rows[k].row;
    e->id = PQgetvalue(res, i, 0);
    e->person12 = PQgetvalue(res, i, 1);
    e->items = PQgetvalue(res, i, 2);
    e->since = PQgetvalue(res, i, 4);
    e->by_agent = strcmp(PQgetvalue(res, i, 5), "t") == 0;
    rules_date_format(e->due, q->rows[k].deadline);
    e->days_left = q->rows[k].deadline - registry_today();
}

void applications_queue_free(applications_queue *q)
{
    PQclear(q->res);
    free(q->rows);
    memset(q, 0, sizeof(*q));
}

int applications_view_load(registry *r, const operators_who *who, const char *id,
                           applications_view *v)
{
    memset(v, 0, sizeof(*v));
    int rc;
    char err[512], what[64];
    snprintf(what, sizeof(what), "application %.32s", id);
    PGresult *a = applications_load(r, id, false, &rc);
    if (rc == 0)
        rc = applications_in_area(who, applications_areas(a, APP_VILLAGE), what);
    const char *p[] = {id};
    PGresult *h = rc == 0 ? pg_query(r->pg,
                                     "SELECT to_char(at, 'YYYY-MM-DD\"T\"HH24:MI:SSOF'), "
                                     "coalesce(operator_id, 'applicant'), coalesce(role, ''), "
                                     "coalesce(from_state, ''), to_state, coalesce(reason, '') "
                                     "FROM elig_application_history WHERE application_id = $1 "
                                     "ORDER BY seq",
                                     1, p, err, sizeof(err))
                          : NULL;
    PGresult *m = NULL;
    if (rc == 0 && h != NULL) {
        /* the person's materials on file, and which this application rests on */
        const char *q[] = {id, PQgetvalue(a, 0, APP_PERSON)};
        m = pg_query(r->pg,
                     "SELECT m.kind, m.content_type, m.size_bytes, m.sha256, "
                     "to_char(m.uploaded_at, 'YYYY-MM-DD'), EXISTS (SELECT 1 FROM "
                     "elig_application_materials x WHERE x.application_id = $1 AND x.kind = "
                     "m.kind) FROM elig_materials m WHERE m.person_id = $2 ORDER BY m.kind",
                     2, q, err, sizeof(err));
    }
    if (rc == 0 && (h == NULL || m == NULL)) {
        registry_fail("%s", err);
        rc = CLI_DEPENDENCY;
    }
    if (rc != 0) {
        PQclear(a);
        PQclear(h);
        PQclear(m);
        return rc;
    }
    v->app = a;
    v->history = h;
    v->materials = m;
    return 0;
}

void applications_view_free(applications_view *v)
{
    PQclear(v->app);
    PQclear(v->history);
    PQclear(v->materials);
    memset(v, 0, sizeof(*v));
}

int applications_sweep(registry *r, const char *actor,
                       void (*each)(void *arg, const char *id, const char *state,
                                    const char *level),
                       void *arg, int *n)
{
    int days[3];
    *n = 0;
    if (applications_workdays(r, days) < 0)
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
        return CLI_DEPENDENCY;
    }
    int32_t today = registry_today();
    int rc = 0;
    for (int i = 0; i < PQntuples(res) && rc == 0; i++) {
        const char *state = PQgetvalue(res, i, 3), *id = PQgetvalue(res, i, 0);
        int lvl = applications_level_index(review_level(state));
        if (review_deadline((int32_t)atol(PQgetvalue(res, i, 4)), days[lvl]) >= today)
            continue;
        if (registry_begin(r, actor) < 0) {
            rc = CLI_DEPENDENCY;
            break;
        }
        /* still open at that stage and not escalated: another sweep may
         * have been first */
        const char *p[] = {id, state};
        PGresult *u = pg_query(r->pg,
                               "WITH u AS (UPDATE elig_applications SET escalated_at = now() "
                               "WHERE application_id = $1 AND state = $2 AND escalated_at IS "
                               "NULL RETURNING 1) INSERT INTO elig_application_history "
                               "(application_id, operator_id, role, from_state, to_state, "
                               "reason) SELECT $1, NULL, NULL, $2, 'escalated', 'overdue at ' || "
                               "$2 FROM u RETURNING 1",
                               2, p, err, sizeof(err));
        if (u == NULL || registry_commit(r) < 0) {
            if (u == NULL)
                registry_fail("%s", err);
            pg_rollback(r->pg);
            PQclear(u);
            rc = CLI_DEPENDENCY;
            break;
        }
        bool mine = PQntuples(u) > 0;
        PQclear(u);
        if (!mine)
            continue;
        if (applications_outbox(r, id, true) < 0)
            rc = CLI_DEPENDENCY;
        if (each)
            each(arg, id, state, review_level(state));
        (*n)++;
    }
    PQclear(res);
    return rc;
}

/* ---------------------------------------------------------------- commands */

static int applications_submit_command(registry *r, int argc, char **argv)
{
    int npos = args_check(argc, argv, "items,agent-relation,agent-id,actor");
    const char *items = args_opt(argc, argv, "items"), *actor = args_opt(argc, argv, "actor");
    if (npos != 1 || args_need(items, "items") || args_need(actor, "actor"))
        return 1;
    applications_new in = {.person_id = argv[0],
                           .items = items,
                           .agent_relation = args_opt(argc, argv, "agent-relation"),
                           .agent_id = args_opt(argc, argv, "agent-id")};
    char id[32];
    int n, rc = applications_submit(r, NULL, actor, &in, id, &n);
    if (id[0])
        printf("application %s: %d item(s) for person %.12s…%s, submitted; waits for the village "
               "level\n",
               id, n, argv[0], in.agent_relation ? " by an agent" : "");
    return rc;
}

static int applications_decide_command(registry *r, int argc, char **argv)
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
    applications_decided d;
    rc = applications_decide(r, &who, argv[0], decision, reason, &d);
    if (d.next[0])
        printf("application %s: %s -> %s by %s (%s %s)%s%s\n", argv[0], d.from, d.next, who.id,
               who.role, who.area, d.effective[0] ? "; the items are granted from " : "",
               d.effective);
    return rc;
}

static int applications_resubmit_command(registry *r, int argc, char **argv)
{
    int npos = args_check(argc, argv, "actor");
    const char *actor = args_opt(argc, argv, "actor");
    if (npos != 1 || args_need(actor, "actor"))
        return 1;
    int rc = applications_resubmit(r, NULL, actor, argv[0]);
    if (rc != 1)
        printf("application %s: resubmitted; waits for the village level again\n", argv[0]);
    return rc;
}

static int applications_queue_command(registry *r, int argc, char **argv)
{
    if (args_check(argc, argv, "session") != 0 ||
        args_need(args_opt(argc, argv, "session"), "session"))
        return 1;
    operators_who who;
    int rc = operators_session(r, args_opt(argc, argv, "session"), &who);
    if (rc != 0)
        return rc;
    applications_queue q;
    if ((rc = applications_queue_load(r, &who, &q)) != 0)
        return rc;
    printf("queue of %s (%s %s): %d application(s) at the %s level, %d working days each\n", who.id,
           who.role, who.area, q.n, who.role, q.days);
    for (int k = 0; k < q.n; k++) {
        applications_entry e;
        applications_queue_at(&q, k, &e);
        char left[48];
        if (e.days_left < 0)
            snprintf(left, sizeof(left), "OVERDUE by %d day(s)", -e.days_left);
        else
            snprintf(left, sizeof(left), "%d day(s) left", e.days_left);
        printf("  %-10s %-22s due %s  since %s  person %s…  %s%s\n", e.id, left, e.due, e.since,
               e.person12, e.items, e.by_agent ? "  (by an agent)" : "");
    }
    applications_queue_free(&q);
    return 0;
}

static int applications_show_command(registry *r, int argc, char **argv)
{
    if (args_check(argc, argv, "session") != 1 ||
        args_need(args_opt(argc, argv, "session"), "session"))
        return 1;
    operators_who who;
    int rc = operators_session(r, args_opt(argc, argv, "session"), &who);
    if (rc != 0)
        return rc;
    applications_view v;
    if ((rc = applications_view_load(r, &who, argv[0], &v)) != 0)
        return rc;
    PGresult *a = v.app, *h = v.history, *m = v.materials;
    printf("application %s: %s; person %.12s… (%s, %s, %s); items %s%s%s%s\n", argv[0],
           PQgetvalue(a, 0, APP_STATE), PQgetvalue(a, 0, APP_PERSON), PQgetvalue(a, 0, APP_VILLAGE),
           PQgetvalue(a, 0, APP_TOWN), PQgetvalue(a, 0, APP_DISTRICT), PQgetvalue(a, 0, APP_ITEMS),
           strcmp(PQgetvalue(a, 0, APP_BY_AGENT), "t") == 0 ? "; by an agent" : "",
           *PQgetvalue(a, 0, APP_EFFECTIVE) ? "; granted from " : "",
           PQgetvalue(a, 0, APP_EFFECTIVE));
    for (int i = 0; i < PQntuples(h); i++) {
        char at[17];
        snprintf(at, sizeof(at), "%s", PQgetvalue(h, i, HIST_AT));
        if (strlen(at) > 10)
            at[10] = ' '; /* 2026-12-05T10:00 -> 2026-12-05 10:00 */
        printf("  %s  %-12s %-8s %s -> %s%s%s\n", at, PQgetvalue(h, i, HIST_OPERATOR),
               PQgetvalue(h, i, HIST_ROLE),
               *PQgetvalue(h, i, HIST_FROM) ? PQgetvalue(h, i, HIST_FROM) : "(new)",
               PQgetvalue(h, i, HIST_TO), *PQgetvalue(h, i, HIST_REASON) ? ": " : "",
               PQgetvalue(h, i, HIST_REASON));
    }
    for (int i = 0; i < PQntuples(m); i++)
        printf("  material %-18s %-15s %8s bytes  sha256 %.16s…  %s%s\n",
               PQgetvalue(m, i, MAT_KIND), PQgetvalue(m, i, MAT_TYPE), PQgetvalue(m, i, MAT_SIZE),
               PQgetvalue(m, i, MAT_SHA256), PQgetvalue(m, i, MAT_UPLOADED),
               strcmp(PQgetvalue(m, i, MAT_THIS_APPLICATION), "t") == 0
                   ? ""
                   : "  (on file, from another application)");
    applications_view_free(&v);
    return 0;
}

static void applications_sweep_print(void *arg, const char *id, const char *state,
                                     const char *level)
{
    (void)arg;
    printf("application %s: overdue at %s (the %s level), escalated\n", id, state, level);
}

static int applications_sweep_command(registry *r, int argc, char **argv)
{
    int npos = args_check(argc, argv, "actor");
    const char *actor = args_opt(argc, argv, "actor");
    if (npos != 0 || args_need(actor, "actor"))
        return 1;
    int n, rc = applications_sweep(r, actor, applications_sweep_print, NULL, &n);
    if (rc != 1)
        printf("sweep: %d application(s) escalated\n", n);
    return rc;
}

int applications_command(registry *r, int argc, char **argv)
{
    static const struct {
        const char *sub;
        int (*run)(registry *, int, char **);
    } subs[] = {
        {"submit", applications_submit_command}, {"resubmit", applications_resubmit_command},
        {"decide", applications_decide_command}, {"queue", applications_queue_command},
        {"show", applications_show_command},     {"sweep", applications_sweep_command},
        {"material", materials_command}};
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
        if (strcmp(argv[0], subs[i].sub) == 0)
            return subs[i].run(r, argc - 1, argv + 1);
    return COMMANDS_USAGE;
}
