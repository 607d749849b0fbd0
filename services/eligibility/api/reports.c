/*
 * reports: the reports the operators have by command, over HTTP, each
 * one of the commands' actions with the signed-in operator's area:
 *
 *   GET  /v1/items/{item}/eligible[?limit=N][&after=CURSOR]
 *        who the item's rule admits today (person eligible): a page,
 *        youngest first, and the cursor of the next
 *   GET  /v1/attendance/pauses      the open 在训 pauses (attendance paused)
 *   POST /v1/attendance/reports     a provider's attendance report, the
 *        CSV of `attendance report` as the body (text/csv)
 *
 * A reviewer sees the persons of their area, finance and auditors every
 * person without names, administrators every person with names (as the
 * persons endpoints). An attendance report is recorded by a district
 * operator, for persons of their district only, or an administrator: it
 * resumes paused entitlements, so it is a change, with the CSRF token
 * when signed in by cookie, and audited with the operator as the actor.
 */
#include "api.h"

#include "common/cli.h"

#include "attendance.h"
#include "persons.h"

#include <event2/http.h>

#include <stdio.h>
#include <string.h>

#define API_ELIGIBLE_LIMIT_MAX 1000

static void api_eligible_person(void *arg, const PGresult *res, int i)
{
    persons_eligible_json(arg, res, i);
}

void api_items_eligible(api_request *q)
{
    int limit;
    if (api_query_int(q, "limit", 1, API_ELIGIBLE_LIMIT_MAX, 100, &limit) < 0)
        return;
    const char *after = api_query(q, "after");
    persons_eligible_query pq = {.item = q->params[0],
                                 .area_col = api_area_column(&q->who),
                                 .area = q->who.area,
                                 .after = after,
                                 .limit = limit,
                                 .names = api_sees_names(&q->who)};
    jsonw w;
    jsonw_init(&w);
    jsonw_obj(&w, NULL);
    jsonw_str(&w, "item", pq.item);
    jsonw_str(&w, "area", pq.area_col ? q->who.area : "*");
    jsonw_arr(&w, "persons");
    persons_eligible_page page = {&w, pq.names};
    char cursor[80];
    int rc = persons_eligible(q->r, &pq, api_eligible_person, &page, cursor, sizeof(cursor));
    if (rc != 0) {
        jsonw_free(&w);
        api_refused(q, rc);
        return;
    }
    jsonw_end(&w);
    jsonw_str(&w, "next_after", cursor[0] ? cursor : NULL);
    jsonw_end(&w);
    api_json(q, 200, &w);
}

void api_attendance_pauses(api_request *q)
{
    jsonw w;
    jsonw_init(&w);
    jsonw_obj(&w, NULL);
    const char *col = api_area_column(&q->who);
    jsonw_str(&w, "area", col ? q->who.area : "*");
    jsonw_arr(&w, "pauses");
    int n = attendance_paused_list(q->r, col, q->who.area, attendance_pause_json, &w);
    if (n < 0) {
        jsonw_free(&w);
        api_refused(q, CLI_DEPENDENCY);
        return;
    }
    jsonw_end(&w);
    jsonw_int(&w, "total", n);
    jsonw_end(&w);
    api_json(q, 200, &w);
}

void api_attendance_report(api_request *q)
{
    bool district = strcmp(q->who.role, "district") == 0;
    if (!district && strcmp(q->who.role, "administrator") != 0) {
        api_error(q, 403, "forbidden",
                  "a %s operator does not record attendance reports: a district operator or "
                  "an administrator does",
                  q->who.role);
        return;
    }
    const char *ctype =
        evhttp_find_header(evhttp_request_get_input_headers(q->req), "Content-Type");
    if (ctype == NULL || strncmp(ctype, "text/csv", 8) != 0) {
        api_error(q, 415, "unsupported_type",
                  "the body must be the attendance report as text/csv, not %.64s",
                  ctype ? ctype : "(no Content-Type)");
        return;
    }
    if (q->body_len == 0) {
        api_error(q, 400, "invalid", "the body is empty: send the attendance report's CSV");
        return;
    }
    attendance_report_result res;
    int rc = attendance_report_apply(q->r, "(body)", (const char *)q->body, q->body_len,
                                     district ? q->who.area : NULL, q->who.id, &res);
    if (rc != 0) {
        api_refused(q, rc);
        return;
    }
    jsonw w;
    jsonw_init(&w);
    jsonw_obj(&w, NULL);
    jsonw_int(&w, "rows", res.rows);
    jsonw_int(&w, "new", res.fresh);
    jsonw_int(&w, "resumed", res.resumed);
    jsonw_bool(&w, "published", res.published);
    jsonw_end(&w);
    api_json(q, 200, &w);
}
