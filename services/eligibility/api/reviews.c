/*
 * reviews: the applications endpoints, each one of applications.h's
 * actions with the signed-in operator as who (role and area enforced
 * there, the same as for the commands):
 *
 *   GET  /v1/applications                      my review queue, overdue first
 *   POST /v1/applications                      submit (for a person of my area)
 *   GET  /v1/applications/{app}                the application, history, materials
 *   POST /v1/applications/{app}/decisions      pass | reject | return (+ reason)
 *   POST /v1/applications/{app}/resubmission   a returned application, again
 *   PUT  /v1/applications/{app}/materials/{kind}  upload (the body is the file)
 *   GET  /v1/applications/{app}/materials/{kind}  download
 */
#include "api.h"

#include "applications.h"
#include "materials.h"

#include "common/json.h"

#include <event2/buffer.h>
#include <event2/http.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void api_applications_queue(api_request *q)
{
    int limit;
    if (api_query_int(q, "limit", 1, 1000, 100, &limit) < 0)
        return;
    applications_queue aq;
    int rc = applications_queue_load(q->r, &q->who, &aq);
    if (rc != 0) {
        api_refused(q, rc);
        return;
    }
    jsonw w;
    jsonw_init(&w);
    jsonw_obj(&w, NULL);
    jsonw_str(&w, "level", q->who.role);
    jsonw_str(&w, "area", q->who.area);
    jsonw_int(&w, "working_days", aq.days);
    jsonw_int(&w, "total", aq.n);
    int overdue = 0;
    jsonw_arr(&w, "applications");
    for (int k = 0; k < aq.n; k++) {
        applications_entry e;
        applications_queue_at(&aq, k, &e);
        overdue += e.days_left < 0;
        if (k >= limit)
            continue;
        jsonw_obj(&w, NULL);
        jsonw_str(&w, "application_id", e.id);
        jsonw_str(&w, "person", e.person12);
        api_pg_array(&w, "items", e.items);
        jsonw_str(&w, "stage_since", e.since);
        jsonw_str(&w, "due", e.due);
        jsonw_int(&w, "days_left", e.days_left);
        jsonw_bool(&w, "overdue", e.days_left < 0);
        jsonw_bool(&w, "by_agent", e.by_agent);
        jsonw_end(&w);
    }
    jsonw_end(&w);
    jsonw_int(&w, "overdue", overdue);
    jsonw_end(&w);
    applications_queue_free(&aq);
    api_json(q, 200, &w);
}

void api_applications_submit(api_request *q)
{
    json_field f[] = {
        {.name = "person_id", .type = JSON_STRING, .required = true, .min = 64, .max = 64},
        {.name = "items", .type = JSON_STRING_ARRAY, .required = true, .min = 2, .max = 32},
        {.name = "agent_relation", .type = JSON_STRING, .min = 1, .max = 20},
        {.name = "agent_id", .type = JSON_STRING, .min = 18, .max = 18},
    };
    if (api_body(q, f, 4) < 0)
        return;
    if (f[1].narr == 0) {
        api_error(q, 400, "invalid", "field \"items\" names no item");
        return;
    }
    char items[JSON_ARRAY_MAX * JSON_STR_MAX];
    size_t n = 0;
    for (int i = 0; i < f[1].narr; i++) {
        if (strchr(f[1].arr[i], ',')) {
            api_error(q, 400, "invalid", "field \"items\": \"%s\" is not an item code",
                      f[1].arr[i]);
            return;
        }
        n += (size_t)snprintf(items + n, sizeof(items) - n, "%s%s", i ? "," : "", f[1].arr[i]);
    }
    applications_new in = {.person_id = f[0].str,
                           .items = items,
                           .agent_relation = f[2].seen ? f[2].str : NULL,
                           .agent_id = f[3].seen ? f[3].str : NULL};
    char id[32] = "";
    int nitems;
    int rc = applications_submit(q->r, &q->who, q->who.id, &in, id, &nitems);
    if (rc == 1 || id[0] == '\0') {
        api_refused(q, rc);
        return;
    }
    jsonw w;
    jsonw_init(&w);
    jsonw_obj(&w, NULL);
    jsonw_str(&w, "application_id", id);
    jsonw_str(&w, "state", "submitted");
    jsonw_int(&w, "items", nitems);
    jsonw_bool(&w, "published", rc == 0);
    jsonw_end(&w);
    api_json(q, 201, &w);
}

void api_applications_show(api_request *q)
{
    applications_view v;
    int rc = applications_view_load(q->r, &q->who, q->params[0], &v);
    if (rc != 0) {
        api_refused(q, rc);
        return;
    }
    PGresult *a = v.app, *h = v.history, *m = v.materials;
    jsonw w;
    jsonw_init(&w);
    jsonw_obj(&w, NULL);
    jsonw_str(&w, "application_id", q->params[0]);
    jsonw_str(&w, "state", PQgetvalue(a, 0, APP_STATE));
    jsonw_str(&w, "person_id", PQgetvalue(a, 0, APP_PERSON));
    api_pg_array(&w, "items", PQgetvalue(a, 0, APP_ITEMS));
    jsonw_obj(&w, "area");
    jsonw_str(&w, "district", PQgetvalue(a, 0, APP_DISTRICT));
    jsonw_str(&w, "town", PQgetvalue(a, 0, APP_TOWN));
    jsonw_str(&w, "village", PQgetvalue(a, 0, APP_VILLAGE));
    jsonw_end(&w);
    const char *rel = PQgetvalue(a, 0, APP_AGENT_RELATION);
    if (rel[0]) {
        jsonw_obj(&w, "agent");
        jsonw_str(&w, "relation", rel);
        jsonw_end(&w);
    } else {
        jsonw_null(&w, "agent");
    }
    jsonw_str(&w, "submitted_at", PQgetvalue(a, 0, APP_SUBMITTED_AT));
    jsonw_str(&w, "submitted_by", PQgetvalue(a, 0, APP_SUBMITTED_BY));
    jsonw_str(&w, "stage_since", PQgetvalue(a, 0, APP_STAGE_SINCE));
    const char *reason = PQgetvalue(a, 0, APP_REASON), *eff = PQgetvalue(a, 0, APP_EFFECTIVE);
    jsonw_str(&w, "reason", reason[0] ? reason : NULL);
    jsonw_str(&w, "effective_from", eff[0] ? eff : NULL);
    jsonw_arr(&w, "history");
    for (int i = 0; i < PQntuples(h); i++) {
        jsonw_obj(&w, NULL);
        jsonw_str(&w, "at", PQgetvalue(h, i, HIST_AT));
        jsonw_str(&w, "operator", PQgetvalue(h, i, HIST_OPERATOR));
        const char *role = PQgetvalue(h, i, HIST_ROLE), *from = PQgetvalue(h, i, HIST_FROM);
        const char *why = PQgetvalue(h, i, HIST_REASON);
        jsonw_str(&w, "role", role[0] ? role : NULL);
        jsonw_str(&w, "from", from[0] ? from : NULL);
        jsonw_str(&w, "to", PQgetvalue(h, i, HIST_TO));
        jsonw_str(&w, "reason", why[0] ? why : NULL);
        jsonw_end(&w);
    }
    jsonw_end(&w);
    jsonw_arr(&w, "materials");
    for (int i = 0; i < PQntuples(m); i++) {
        jsonw_obj(&w, NULL);
        jsonw_str(&w, "kind", PQgetvalue(m, i, MAT_KIND));
        jsonw_str(&w, "content_type", PQgetvalue(m, i, MAT_TYPE));
        jsonw_int(&w, "size_bytes", atoll(PQgetvalue(m, i, MAT_SIZE)));
        jsonw_str(&w, "sha256", PQgetvalue(m, i, MAT_SHA256));
        jsonw_str(&w, "uploaded", PQgetvalue(m, i, MAT_UPLOADED));
        jsonw_bool(&w, "this_application",
                   strcmp(PQgetvalue(m, i, MAT_THIS_APPLICATION), "t") == 0);
        jsonw_end(&w);
    }
    jsonw_end(&w);
    jsonw_end(&w);
    applications_view_free(&v);
    api_json(q, 200, &w);
}

void api_applications_decide(api_request *q)
{
    char reason[1024];
    json_field f[] = {
        {.name = "decision", .type = JSON_STRING, .required = true, .min = 4, .max = 6},
        {.name = "reason",
         .type = JSON_STRING,
         .min = 1,
         .max = 1000,
         .ext = reason,
         .extlen = sizeof(reason)},
    };
    if (api_body(q, f, 2) < 0)
        return;
    applications_decided d;
    int rc =
        applications_decide(q->r, &q->who, q->params[0], f[0].str, f[1].seen ? reason : NULL, &d);
    if (rc == 1 || d.next[0] == '\0') {
        api_refused(q, rc);
        return;
    }
    jsonw w;
    jsonw_init(&w);
    jsonw_obj(&w, NULL);
    jsonw_str(&w, "application_id", q->params[0]);
    jsonw_str(&w, "from", d.from);
    jsonw_str(&w, "state", d.next);
    jsonw_str(&w, "effective_from", d.effective[0] ? d.effective : NULL);
    jsonw_bool(&w, "published", rc == 0);
    jsonw_end(&w);
    api_json(q, 200, &w);
}

void api_applications_resubmit(api_request *q)
{
    int rc = applications_resubmit(q->r, &q->who, q->who.id, q->params[0]);
    if (rc == 1) {
        api_refused(q, rc);
        return;
    }
    jsonw w;
    jsonw_init(&w);
    jsonw_obj(&w, NULL);
    jsonw_str(&w, "application_id", q->params[0]);
    jsonw_str(&w, "state", "submitted");
    jsonw_bool(&w, "published", rc == 0);
    jsonw_end(&w);
    api_json(q, 200, &w);
}

void api_materials_put(api_request *q)
{
    const char *ctype =
        evhttp_find_header(evhttp_request_get_input_headers(q->req), "Content-Type");
    char err[256];
    const char *type = materials_check(q->body, q->body_len, err, sizeof(err));
    if (type == NULL) {
        api_error(q, q->body_len == 0 ? 400 : 415,
                  q->body_len == 0 ? "invalid" : "unsupported_type", "%s", err);
        return;
    }
    if (ctype == NULL || strncmp(ctype, type, strlen(type)) != 0) {
        api_error(q, 415, "unsupported_type", "the body is %s but Content-Type says %.64s", type,
                  ctype ? ctype : "nothing");
        return;
    }
    materials_stored st;
    int rc = materials_store(q->r, &q->who, q->who.id, q->params[0], q->params[1], q->body,
                             q->body_len, &st);
    if (rc != 0) {
        api_refused(q, rc);
        return;
    }
    jsonw w;
    jsonw_init(&w);
    jsonw_obj(&w, NULL);
    jsonw_str(&w, "application_id", q->params[0]);
    jsonw_str(&w, "kind", q->params[1]);
    jsonw_str(&w, "content_type", st.type);
    jsonw_int(&w, "size_bytes", (int64_t)q->body_len);
    jsonw_str(&w, "sha256", st.sha256);
    jsonw_str(&w, "stored", st.how);
    jsonw_end(&w);
    api_json(q, strcmp(st.how, "reused") == 0 ? 200 : 201, &w);
}

void api_materials_get(api_request *q)
{
    materials_file f;
    int rc = materials_fetch(q->r, &q->who, q->params[0], q->params[1], &f);
    if (rc != 0) {
        api_refused(q, rc);
        return;
    }
    struct evkeyvalq *h = evhttp_request_get_output_headers(q->req);
    char disp[200], etag[72];
    snprintf(disp, sizeof(disp), "attachment; filename=\"%s-%s.%s\"", q->params[0], q->params[1],
             strcmp(f.type, "application/pdf") == 0 ? "pdf"
             : strcmp(f.type, "image/png") == 0     ? "png"
                                                    : "jpg");
    snprintf(etag, sizeof(etag), "\"%s\"", f.sha256);
    evhttp_add_header(h, "Content-Type", f.type);
    evhttp_add_header(h, "Content-Disposition", disp);
    evhttp_add_header(h, "ETag", etag);
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    evhttp_add_header(h, "Content-Security-Policy", "default-src 'none'; sandbox");
    struct evbuffer *b = evbuffer_new();
    if (b)
        evbuffer_add(b, f.bytes, f.len);
    q->status = 200;
    evhttp_send_reply(q->req, 200, "OK", b);
    if (b)
        evbuffer_free(b);
    materials_file_free(&f);
}
