/*
 * attendance: the 在训 check, recording attendance, the pauses' effects and
 * the commands. See attendance.h; the arithmetic and the report's parser
 * are attrules.c's.
 */
#include "attendance.h"

#include "args.h"
#include "attrules.h"
#include "catalogue.h"
#include "commands.h"

#include "common/cli.h"
#include "common/card.h"
#include "common/jsonw.h"
#include "common/event.h"
#include "common/log.h"

#include "eligibility.pb-c.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ recording */

int attendance_record(registry *r, pg_array *pid, pg_array *item, pg_array *day, const char *source,
                      long *resumed, char *err, size_t errlen)
{
    *resumed = 0;
    if (pid->n == 0)
        return 0;
    const char *p[] = {pg_array_text(pid), pg_array_text(item), pg_array_text(day), source};
    if (p[0] == NULL || p[1] == NULL || p[2] == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* the latest day per person and item; a pause resumed by attendance
     * after its basis (attrules_resumes: day > basis) */
    PGresult *res = pg_query(
        r->pg,
        "WITH x AS (SELECT pid, item, max(day) AS day FROM unnest($1::text[], $2::text[], "
        "$3::date[]) x(pid, item, day) WHERE EXISTS (SELECT 1 FROM elig_persons p WHERE "
        "p.person_id = x.pid) AND EXISTS (SELECT 1 FROM elig_catalogue_items c WHERE c.code = "
        "x.item AND c.attendance_weeks > 0) GROUP BY pid, item), a AS (INSERT INTO "
        "elig_attendance AS a (person_id, item_code, since_day, last_day, last_source) SELECT "
        "pid, item, day, day, $4 FROM x ON CONFLICT (person_id, item_code) DO UPDATE SET "
        "last_day = EXCLUDED.last_day, last_source = EXCLUDED.last_source, updated_at = now() "
        "WHERE a.last_day IS NULL OR a.last_day < EXCLUDED.last_day RETURNING 1), u AS (UPDATE "
        "elig_item_pauses s SET resumed_on = x.day, resumed_by = $4, resumed_at = now() FROM x "
        "WHERE s.person_id = x.pid AND s.item_code = x.item AND s.resumed_at IS NULL AND x.day > "
        "s.basis_day RETURNING 1) SELECT (SELECT count(*) FROM a), (SELECT count(*) FROM u)",
        4, p, err, errlen);
    if (res == NULL)
        return -1;
    *resumed = atol(PQgetvalue(res, 0, 1));
    PQclear(res);
    return 0;
}

/* -------------------------------------------------------------- effects */

/* One EntitlementChanged, queued (registry_flush waits). */
static int attendance_event(registry *r, const char *card, const char *pid, const char *item,
                            const char *state, const char *reason, const char *since, int weeks,
                            const char *effective)
{
    Onecard__V1__EntitlementChanged m = ONECARD__V1__ENTITLEMENT_CHANGED__INIT;
    char eid[EVENT_ID_LEN + 1];
    event_new_id(eid);
    m.event_id = eid;
    m.card_no = (char *)card;
    m.person_id = (char *)pid;
    m.item_code = (char *)item;
    m.state = (char *)state;
    m.reason = (char *)reason;
    m.since = (char *)since;
    m.weeks = weeks;
    m.effective_date = (char *)effective;
    m.occurred_at_ms = event_now_ms();
    return registry_produce(r, &m.base, card);
}

int attendance_effects(registry *r)
{
    char err[512];
    PGresult *res = pg_query(
        r->pg,
        "SELECT s.pause_id, s.person_id, s.item_code, s.paused_on, s.basis_day, "
        "coalesce(s.resumed_on::text, ''), coalesce(s.resumed_by, ''), c.card_no, "
        "i.attendance_weeks, s.pause_published FROM elig_item_pauses s JOIN "
        "elig_catalogue_items i ON i.code = s.item_code LEFT JOIN elig_cards c ON c.person_id = "
        "s.person_id AND c.status IN ('active', 'frozen') WHERE NOT s.pause_published OR "
        "(s.resumed_at IS NOT NULL AND NOT s.resume_published) ORDER BY s.pause_id",
        0, NULL, err, sizeof(err));
    if (res == NULL) {
        log_error("attendance_effects_failed", "%s", err);
        registry_fail("attendance: %s", err);
        return -1;
    }
    int n = PQntuples(res);
    if (n == 0) {
        PQclear(res);
        return 0;
    }
    /* Redis first: a published pause the terminal does not yet decline
     * would be a notice that lies */
    for (int i = 0; i < n; i++) {
        const char *card = PQgetvalue(res, i, 7);
        bool open = PQgetvalue(res, i, 5)[0] == '\0';
        if (card[0])
            directory_put_pause(&r->dir, card, PQgetvalue(res, i, 2),
                                open ? PQgetvalue(res, i, 3) : NULL);
    }
    if (registry_sync(r) < 0) {
        log_error("attendance_effects_failed", "the pauses not written to Redis");
        PQclear(res);
        return -1;
    }
    pg_array all = {0}, resumed = {0};
    for (int i = 0; i < n; i++) {
        const char *card = PQgetvalue(res, i, 7), *pid = PQgetvalue(res, i, 1);
        const char *item = PQgetvalue(res, i, 2), *resumed_on = PQgetvalue(res, i, 5);
        int weeks = atoi(PQgetvalue(res, i, 8));
        if (card[0] && PQgetvalue(res, i, 9)[0] != 't')
            (void)attendance_event(r, card, pid, item, "paused", "no-attendance",
                                   PQgetvalue(res, i, 4), weeks, PQgetvalue(res, i, 3));
        if (card[0] && resumed_on[0])
            (void)attendance_event(r, card, pid, item, "resumed", PQgetvalue(res, i, 6), resumed_on,
                                   weeks, resumed_on);
        pg_array_add(&all, PQgetvalue(res, i, 0));
        if (resumed_on[0])
            pg_array_add(&resumed, PQgetvalue(res, i, 0));
        char masked[CARD_MASKED_MAX];
        log_info(resumed_on[0] ? "item_resumed" : "item_paused", "card %s item %s: %s %s",
                 card[0] ? card_mask(masked, sizeof(masked), card) : "(no card)", item,
                 resumed_on[0] ? "attended on" : "no attendance since",
                 resumed_on[0] ? resumed_on : PQgetvalue(res, i, 4));
    }
    PQclear(res);
    int rc = n;
    if (registry_flush(r) > 0) {
        log_error("attendance_effects_failed", "events not acknowledged; sent again later");
        rc = -1;
    } else {
        /* a person without a card has nobody to tell: marked all the same,
         * the card issued later gets the pause (attendance_project_card) */
        const char *p[] = {pg_array_text(&all), pg_array_text(&resumed)};
        if (p[0] == NULL || p[1] == NULL ||
            pg_exec(r->pg,
                    "UPDATE elig_item_pauses SET pause_published = true, resume_published = "
                    "resume_published OR pause_id = ANY($2::bigint[]) WHERE pause_id = "
                    "ANY($1::bigint[])",
                    2, p, err, sizeof(err)) < 0) {
            log_error("attendance_effects_failed", "%s", p[0] && p[1] ? err : "out of memory");
            rc = -1;
        }
    }
    pg_array_free(&all);
    pg_array_free(&resumed);
    return rc;
}

void attendance_project_card(registry *r, const char *card_no, const char *person_id)
{
    char err[512];
    const char *p[] = {person_id};
    PGresult *res = pg_query(r->pg,
                             "SELECT item_code, paused_on FROM elig_item_pauses WHERE person_id "
                             "= $1 AND resumed_at IS NULL",
                             1, p, err, sizeof(err));
    if (res == NULL) {
        log_error("attendance_project_failed", "%s", err);
        return;
    }
    for (int i = 0; i < PQntuples(res); i++)
        directory_put_pause(&r->dir, card_no, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
    PQclear(res);
}

int attendance_project_all(registry *r)
{
    char err[512];
    PGresult *res = pg_query(r->pg,
                             "SELECT c.card_no, s.item_code, s.paused_on FROM elig_item_pauses s "
                             "JOIN elig_cards c ON c.person_id = s.person_id AND c.status IN "
                             "('active', 'frozen') WHERE s.resumed_at IS NULL",
                             0, NULL, err, sizeof(err));
    if (res == NULL) {
        registry_fail("attendance: %s", err);
        return -1;
    }
    int n = PQntuples(res);
    for (int i = 0; i < n; i++)
        directory_put_pause(&r->dir, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
                            PQgetvalue(res, i, 2));
    PQclear(res);
    return n;
}

/* ---------------------------------------------------------------- check */

/* Everyone with a current card entitled on day to an item of c checked for
 * attendance, into pid/item. The number of pairs, or -1 (printed). */
static int attendance_entitled(registry *r, const catalogue *c, int32_t day, const char *person,
                               pg_array *pid, pg_array *item)
{
    char err[512];
    const char *p[] = {person};
    PGresult *res = pg_query(r->pg,
                             "SELECT p.person_id, " REGISTRY_PERSON_COLS
                             " FROM elig_persons p JOIN elig_cards c USING (person_id) WHERE "
                             "c.status IN ('active', 'frozen') AND ($1::text IS NULL OR "
                             "p.person_id = $1) ORDER BY p.person_id",
                             1, p, err, sizeof(err));
    if (res == NULL) {
        registry_fail("attendance: %s", err);
        return -1;
    }
    rules_entitlement *e = calloc(CATALOGUE_MAX_ITEMS, sizeof(*e));
    if (e == NULL) {
        PQclear(res);
        registry_fail("attendance: out of memory");
        return -1;
    }
    int n = 0;
    for (int i = 0; i < PQntuples(res); i++) {
        rules_person rp = registry_person_row(res, i, 1);
        rules_entitlements(c->items, c->nitems, &rp, day, e);
        for (int k = 0; k < c->nitems; k++)
            if (e[k].entitled && c->items[k].attendance_weeks > 0) {
                pg_array_add(pid, PQgetvalue(res, i, 0));
                pg_array_add(item, c->items[k].code);
                n++;
            }
    }
    free(e);
    PQclear(res);
    return n;
}

int attendance_check(registry *r, int32_t day, const char *person, const char *actor, int *entitled,
                     int *paused)
{
    char err[512], dtext[RULES_DATE_LEN];
    rules_date_format(dtext, day);
    *entitled = *paused = 0;
    catalogue c;
    if (registry_catalogue(r, day, &c) < 0)
        return -1;
    pg_array pid = {0}, item = {0}, ppid = {0}, pitem = {0}, pbasis = {0};
    PGresult *res = NULL;
    int rc = -1;
    int n = attendance_entitled(r, &c, day, person, &pid, &item);
    if (n < 0 || registry_begin(r, actor) < 0)
        goto out;
    *entitled = n;
    const char *p[] = {pg_array_text(&pid), pg_array_text(&item), dtext};
    if (p[0] == NULL || p[1] == NULL) {
        registry_fail("attendance: out of memory");
        pg_rollback(r->pg);
        goto out;
    }
    /* the first check that finds someone entitled starts their weeks */
    if (pg_exec(r->pg,
                "INSERT INTO elig_attendance (person_id, item_code, since_day) SELECT * , "
                "$3::date FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING",
                3, p, err, sizeof(err)) < 0 ||
        (res = pg_query(r->pg,
                        "SELECT a.person_id, a.item_code, a.since_day, coalesce(a.last_day::text, "
                        "'') FROM elig_attendance a JOIN unnest($1::text[], $2::text[]) x(pid, "
                        "item) ON a.person_id = x.pid AND a.item_code = x.item WHERE NOT EXISTS "
                        "(SELECT 1 FROM elig_item_pauses s WHERE s.person_id = a.person_id AND "
                        "s.item_code = a.item_code AND s.resumed_at IS NULL)",
                        2, p, err, sizeof(err))) == NULL) {
        registry_fail("attendance: %s", err);
        pg_rollback(r->pg);
        goto out;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        int32_t since = 0, last = 0;
        const rules_item *it = catalogue_find(&c, PQgetvalue(res, i, 1));
        char why[128];
        if (it == NULL || rules_date_parse(PQgetvalue(res, i, 2), &since, why, sizeof(why)) < 0 ||
            (PQgetvalue(res, i, 3)[0] &&
             rules_date_parse(PQgetvalue(res, i, 3), &last, why, sizeof(why)) < 0))
            continue;
        int32_t basis = attrules_basis(since, last);
        if (!attrules_due(basis, it->attendance_weeks, day))
            continue;
        char btext[RULES_DATE_LEN];
        pg_array_add(&ppid, PQgetvalue(res, i, 0));
        pg_array_add(&pitem, it->code);
        pg_array_add(&pbasis, rules_date_format(btext, basis));
    }
    PQclear(res);
    res = NULL;
    if (ppid.n > 0) {
        const char *q[] = {pg_array_text(&ppid), pg_array_text(&pitem), pg_array_text(&pbasis),
                           dtext};
        res = q[0] && q[1] && q[2]
                  ? pg_query(r->pg,
                             "INSERT INTO elig_item_pauses (person_id, item_code, paused_on, "
                             "basis_day, reason) SELECT pid, item, $4::date, basis, "
                             "'no-attendance' FROM unnest($1::text[], $2::text[], $3::date[]) "
                             "x(pid, item, basis) ON CONFLICT (person_id, item_code) WHERE "
                             "resumed_at IS NULL DO NOTHING RETURNING 1",
                             4, q, err, sizeof(err))
                  : NULL;
        if (res == NULL) {
            registry_fail("attendance: %s", q[0] && q[1] && q[2] ? err : "out of memory");
            pg_rollback(r->pg);
            goto out;
        }
        *paused = PQntuples(res);
    }
    if (registry_commit(r) < 0)
        goto out;
    rc = 0;
    if (attendance_effects(r) < 0)
        rc = -1;
out:
    PQclear(res);
    pg_array_free(&pid), pg_array_free(&item), pg_array_free(&ppid), pg_array_free(&pitem);
    pg_array_free(&pbasis);
    catalogue_free(&c);
    return rc;
}

/* ------------------------------------------------------------- commands */

static int attendance_check_command(registry *r, int argc, char **argv)
{
    if (args_check(argc, argv, "as-of,person,actor") != 1)
        return COMMANDS_USAGE;
    const char *asof = args_opt(argc, argv, "as-of"), *person = args_opt(argc, argv, "person");
    const char *actor = args_opt(argc, argv, "actor") ? args_opt(argc, argv, "actor") : "operator";
    int32_t day = registry_today();
    char why[128];
    if (asof && rules_date_parse(asof, &day, why, sizeof(why)) < 0) {
        registry_fail("--as-of: %s", why);
        return 1;
    }
    if (person && !card_person_id_valid(person)) {
        registry_fail("--person \"%.16s\" is not a person id (64 hex digits)", person);
        return 1;
    }
    int entitled, paused;
    if (attendance_check(r, day, person, actor, &entitled, &paused) < 0)
        return CLI_DEPENDENCY;
    char dtext[RULES_DATE_LEN];
    printf("attendance check %s: %d entitled to a training item checked for attendance, %d "
           "newly paused\n",
           rules_date_format(dtext, day), entitled, paused);
    return 0;
}

/* Reads FILE whole (at most 4 MiB). 0, or -1 (printed). */
static int attendance_read(const char *path, char **buf, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        registry_fail("attendance report %s: %s", path, strerror(errno));
        return -1;
    }
    *buf = malloc(4 << 20);
    *len = *buf ? fread(*buf, 1, 4 << 20, fp) : 0;
    fclose(fp);
    if (*buf == NULL || *len == (4 << 20)) {
        free(*buf);
        registry_fail("attendance report %s: larger than 4 MiB", path);
        return -1;
    }
    return 0;
}

/* Every row's provider, card and item as the registry knows them: the
 * first wrong row refuses the file. 0, 1 (refused, printed), -1 (printed). */
static int attendance_report_check(registry *r, const char *path, const attrules_row *rows, int n,
                                   pg_array *pid)
{
    char err[512];
    pg_array prov = {0}, card = {0}, item = {0};
    for (int i = 0; i < n; i++) {
        pg_array_add(&prov, rows[i].provider_id);
        pg_array_add(&card, rows[i].card_no);
        pg_array_add(&item, rows[i].item_code);
    }
    const char *p[] = {pg_array_text(&prov), pg_array_text(&card), pg_array_text(&item)};
    PGresult *res =
        p[0] && p[1] && p[2]
            ? pg_query(r->pg,
                       "SELECT x.ord, coalesce(c.person_id, ''), pr.provider_id IS NOT NULL, "
                       "coalesce(i.attendance_weeks, -1), d.provider_id IS NOT NULL FROM "
                       "unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY x(prov, card, "
                       "item, ord) LEFT JOIN elig_cards c ON c.card_no = x.card LEFT JOIN "
                       "elig_providers pr ON pr.provider_id = x.prov LEFT JOIN "
                       "elig_catalogue_items i ON i.code = x.item LEFT JOIN elig_designations d "
                       "ON d.provider_id = x.prov AND d.item_code = x.item ORDER BY x.ord",
                       3, p, err, sizeof(err))
            : NULL;
    pg_array_free(&prov), pg_array_free(&card), pg_array_free(&item);
    if (res == NULL) {
        registry_fail("attendance report %s: %s", path,
                      p[0] && p[1] && p[2] ? err : "out of memory");
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < PQntuples(res) && rc == 0; i++) {
        const attrules_row *row = &rows[i];
        const char *why = NULL;
        if (PQgetvalue(res, i, 1)[0] == '\0')
            why = "card_no: no such card";
        else if (PQgetvalue(res, i, 2)[0] != 't')
            why = "provider_id: no such provider";
        else if (atoi(PQgetvalue(res, i, 3)) < 0)
            why = "item_code: not an item of the catalogue";
        else if (atoi(PQgetvalue(res, i, 3)) == 0)
            why = "item_code: not checked for attendance (its attendance_weeks is 0)";
        else if (PQgetvalue(res, i, 4)[0] != 't')
            why = "provider_id: not designated for the item";
        if (why) {
            registry_fail("attendance report %s: line %d: %s; nothing recorded", path, row->line,
                          why);
            rc = 1;
        } else {
            pg_array_add(pid, PQgetvalue(res, i, 1));
        }
    }
    PQclear(res);
    return rc;
}

/* A district operator's report names only persons of their district: 0,
 * 1 (refused, printed), -1 (printed). */
static int attendance_report_area(registry *r, const char *path, pg_array *pid,
                                  const char *district)
{
    char err[512];
    const char *p[] = {pg_array_text(pid), district};
    PGresult *res = p[0] ? pg_query(r->pg,
                                    "SELECT count(*) FROM elig_persons WHERE person_id = "
                                    "ANY($1::text[]) AND district <> $2",
                                    2, p, err, sizeof(err))
                         : NULL;
    if (res == NULL) {
        registry_fail("attendance report %s: %s", path, p[0] ? err : "out of memory");
        return -1;
    }
    long outside = atol(PQgetvalue(res, 0, 0));
    PQclear(res);
    if (outside > 0) {
        registry_refuse(REFUSE_FORBIDDEN,
                        "attendance report %s: %ld rows name persons outside district %s; "
                        "nothing recorded",
                        path, outside, district);
        return 1;
    }
    return 0;
}

int attendance_report_apply(registry *r, const char *name, const char *buf, size_t len,
                            const char *district, const char *actor, attendance_report_result *out)
{
    char err[512];
    memset(out, 0, sizeof(*out));
    attrules_row *rows = calloc(ATTRULES_ROWS_MAX, sizeof(*rows));
    int n = rows ? attrules_report_parse(buf, len, registry_today(), rows, ATTRULES_ROWS_MAX, err,
                                         sizeof(err))
                 : -1;
    if (n < 0) {
        registry_fail("attendance report %s: %s; nothing recorded", name,
                      rows ? err : "out of memory");
        free(rows);
        return rows ? 1 : CLI_DEPENDENCY;
    }
    pg_array pid = {0}, item = {0}, day = {0}, prov = {0}, card = {0};
    int rc = attendance_report_check(r, name, rows, n, &pid);
    if (rc != 0) {
        rc = rc < 0 ? CLI_DEPENDENCY : 1;
        goto out;
    }
    if (district && attendance_report_area(r, name, &pid, district) != 0) {
        rc = 1;
        goto out;
    }
    for (int i = 0; i < n; i++) {
        char d[RULES_DATE_LEN];
        pg_array_add(&item, rows[i].item_code);
        pg_array_add(&day, rules_date_format(d, rows[i].day));
        pg_array_add(&prov, rows[i].provider_id);
        pg_array_add(&card, rows[i].card_no);
    }
    if (registry_begin(r, actor) < 0) {
        rc = CLI_DEPENDENCY;
        goto out;
    }
    long resumed = 0;
    const char *p[] = {pg_array_text(&prov), pg_array_text(&card), pg_array_text(&item),
                       pg_array_text(&day)};
    PGresult *res =
        p[0] && p[1] && p[2] && p[3]
            ? pg_query(r->pg,
                       "INSERT INTO elig_attendance_reports (provider_id, card_no, item_code, "
                       "attended_on) SELECT DISTINCT * FROM unnest($1::text[], $2::text[], "
                       "$3::text[], $4::date[]) ON CONFLICT DO NOTHING RETURNING 1",
                       4, p, err, sizeof(err))
            : NULL;
    if (res == NULL ||
        attendance_record(r, &pid, &item, &day, "report", &resumed, err, sizeof(err)) < 0) {
        registry_fail("attendance report %s: %s; nothing recorded", name, err);
        PQclear(res);
        pg_rollback(r->pg);
        rc = CLI_DEPENDENCY;
        goto out;
    }
    int fresh = PQntuples(res);
    PQclear(res);
    if (registry_commit(r) < 0) {
        rc = CLI_DEPENDENCY;
        goto out;
    }
    out->rows = n, out->fresh = fresh, out->resumed = resumed;
    /* the effects not yet published are finished by the next check,
     * report or swipe batch when the broker is away now */
    out->published = attendance_effects(r) >= 0;
out:
    pg_array_free(&pid), pg_array_free(&item), pg_array_free(&day), pg_array_free(&prov);
    pg_array_free(&card);
    free(rows);
    return rc;
}

static int attendance_report_command(registry *r, int argc, char **argv)
{
    if (args_check(argc, argv, "actor") != 2)
        return COMMANDS_USAGE;
    const char *path = argv[1];
    const char *actor = args_opt(argc, argv, "actor") ? args_opt(argc, argv, "actor") : "operator";
    char *buf;
    size_t len;
    if (attendance_read(path, &buf, &len) < 0)
        return 1;
    attendance_report_result res;
    int rc = attendance_report_apply(r, path, buf, len, NULL, actor, &res);
    free(buf);
    if (rc != 0)
        return rc;
    printf("attendance report %s: %d rows, %d new, %ld paused items resumed\n", path, res.rows,
           res.fresh, res.resumed);
    return res.published ? 0 : CLI_DEPENDENCY;
}

int attendance_paused_list(registry *r, const char *area_col, const char *area,
                           attendance_paused_fn emit, void *arg)
{
    static const char *const cols[] = {"village", "town", "district"};
    const char *col = NULL;
    for (size_t k = 0; area_col && k < sizeof(cols) / sizeof(cols[0]); k++)
        if (strcmp(area_col, cols[k]) == 0)
            col = cols[k];
    char err[512], sql[900];
    snprintf(sql, sizeof(sql),
             "SELECT s.person_id, s.item_code, s.paused_on, s.basis_day, coalesce(c.card_no, ''), "
             "p.village, p.town, p.district FROM elig_item_pauses s JOIN elig_persons p ON "
             "p.person_id = s.person_id LEFT JOIN elig_cards c ON c.person_id = s.person_id AND "
             "c.status IN ('active', 'frozen') WHERE s.resumed_at IS NULL AND %s%s%s ORDER BY "
             "s.paused_on, s.pause_id",
             col ? "p." : "", col ? col : "$1::text IS NOT NULL", col ? " = $1" : "");
    const char *p[] = {area ? area : "*"};
    PGresult *res = pg_query(r->pg, sql, 1, p, err, sizeof(err));
    if (res == NULL) {
        registry_fail("attendance paused: %s", err);
        return -1;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        char masked[CARD_MASKED_MAX] = "";
        if (PQgetvalue(res, i, 4)[0])
            card_mask(masked, sizeof(masked), PQgetvalue(res, i, 4));
        attendance_pause pause = {PQgetvalue(res, i, 0), masked[0] ? masked : NULL,
                                  PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
                                  PQgetvalue(res, i, 3), PQgetvalue(res, i, 5),
                                  PQgetvalue(res, i, 6), PQgetvalue(res, i, 7)};
        emit(arg, &pause);
    }
    int n = PQntuples(res);
    PQclear(res);
    return n;
}

void attendance_pause_json(void *arg, const attendance_pause *s)
{
    jsonw *w = arg;
    jsonw_obj(w, NULL);
    jsonw_str(w, "person_id", s->person_id);
    jsonw_str(w, "card", s->card_masked);
    jsonw_str(w, "item", s->item_code);
    jsonw_str(w, "paused_on", s->paused_on);
    jsonw_str(w, "no_attendance_since", s->basis_day);
    jsonw_str(w, "village", s->village);
    jsonw_str(w, "town", s->town);
    jsonw_str(w, "district", s->district);
    jsonw_end(w);
}

static void attendance_paused_print(void *arg, const attendance_pause *s)
{
    (void)arg;
    printf("%s\t%s\t%s\tpaused %s\tno attendance since %s\n", s->person_id,
           s->card_masked ? s->card_masked : "-", s->item_code, s->paused_on, s->basis_day);
}

/* The open pauses, oldest first (card numbers masked); --format json:
 * the operator API's answer for every area. */
static int attendance_paused_command(registry *r, int argc, char **argv)
{
    if (args_check(argc, argv, "format") != 1)
        return COMMANDS_USAGE;
    cli_format fmt = CLI_FORMAT_TEXT;
    char ferr[128];
    if (args_opt(argc, argv, "format") &&
        cli_format_parse(args_opt(argc, argv, "format"), &fmt, ferr, sizeof(ferr)) < 0) {
        registry_fail("%s", ferr);
        return COMMANDS_USAGE;
    }
    if (fmt == CLI_FORMAT_TEXT) {
        int n = attendance_paused_list(r, NULL, NULL, attendance_paused_print, NULL);
        if (n < 0)
            return CLI_DEPENDENCY;
        printf("%d paused\n", n);
        return CLI_OK;
    }
    jsonw w;
    jsonw_init(&w);
    jsonw_obj(&w, NULL);
    jsonw_str(&w, "area", "*");
    jsonw_arr(&w, "pauses");
    int n = attendance_paused_list(r, NULL, NULL, attendance_pause_json, &w);
    jsonw_end(&w);
    jsonw_int(&w, "total", n);
    jsonw_end(&w);
    const char *text = n < 0 ? NULL : jsonw_done(&w);
    if (text)
        printf("%s\n", text);
    jsonw_free(&w);
    return n < 0 ? CLI_DEPENDENCY : text ? CLI_OK : CLI_DEPENDENCY;
}

int attendance_command(registry *r, int argc, char **argv)
{
    if (argc < 1)
        return COMMANDS_USAGE;
    if (strcmp(argv[0], "check") == 0)
        return attendance_check_command(r, argc, argv);
    if (strcmp(argv[0], "report") == 0)
        return attendance_report_command(r, argc, argv);
    if (strcmp(argv[0], "paused") == 0)
        return attendance_paused_command(r, argc, argv);
    return COMMANDS_USAGE;
}
