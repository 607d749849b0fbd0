/*
 * api: the operator API, JSON over HTTP (libevent's evhttp), served by the
 * eligibility daemon on ONECARD_OPERATOR_PORT (docs/operator-api.md).
 *
 * The eligibility service owns applications, operators and persons, so
 * their API is its own, in the daemon's process and on its event loop,
 * with connections of its own (a registry: blocking PostgreSQL, Redis and
 * a Kafka producer that waits for acknowledgements, as the commands use).
 * A request is handled whole before the next: an Argon2id sign-in (about
 * 0.1 s) or a 5 MiB upload pauses the feed for as long, which the feed's
 * volume (civil-affairs changes, a few a minute) tolerates. Every action
 * is one of the commands' actions (applications.h, materials.h,
 * operators.h), so the API and the commands cannot disagree.
 *
 *   server.c   the listener: every request's path from the URI to the answer
 *   route.c    the route table and the pure parts (matching, parameters,
 *              the Cookie header): the fuzz target's
 *   auth.c     sessions (bearer token or cookie), CSRF, the sign-in throttle,
 *              and the session endpoints
 *   answer.c   JSON answers and errors
 *   reviews.c  the applications endpoints
 *   people.c   the persons endpoints
 *   providers.c  the providers and the catalogue in force
 *   reports.c  the reports the operators have by command: who is
 *              eligible for an item, the 在训 pauses, attendance reports
 *   console.c  the operator console's static files under /console/
 *              (services/eligibility/console/, docs/console.md)
 *
 * Loop thread only.
 */
#ifndef ELIG_API_H
#define ELIG_API_H

#include "operators.h"
#include "registry.h"

#include "common/jsonw.h"

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct evhttp_request;

/* Starts the listener (addr:port; port 0: no operator API). 0 / -1 with err. */
int api_setup(struct event_base *base, elig_config *cfg, char *err, size_t errlen)
    __attribute__((warn_unused_result));
void api_cleanup(void);

/* ------------------------------------------------------------- requests */

#define API_PARAM_MAX 72 /* a path parameter's bytes, with the NUL */

typedef struct api_request {
    struct evhttp_request *req;
    registry *r;
    const struct api_route *route;
    char params[2][API_PARAM_MAX]; /* the path's {…} in order */
    const unsigned char *body;     /* the whole body (NUL-terminated copy) */
    size_t body_len;
    /* the signed-in operator (routes with API_AUTH) */
    operators_who who;
    char token[65];
    bool by_cookie;
    char refusal[512]; /* registry_refuse's message, captured */
    int status;        /* the answer's, for the log and metrics */
} api_request;

/* ------------------------------------------------------------- routes */

#define API_AUTH    1u /* a session or a token is required */
#define API_CHANGES 2u /* changes something: with a cookie, the CSRF token too */
#define API_JSON    4u /* the body is a JSON object (Content-Type application/json) */
#define API_BYTES   8u /* the body is a file (materials) */

typedef struct api_route {
    const char *method;  /* GET, POST, PUT, DELETE */
    const char *pattern; /* /v1/applications/{app}/materials/{kind} */
    void (*handler)(api_request *q);
    unsigned flags;
    const char *name; /* the metrics label */
} api_route;

extern const api_route api_routes[];
extern const int api_nroutes;

/* The route of method and path (decoded, without the query): 0 with
 * *route and params; -1 no route has the path (404); -2 a route has the
 * path but not the method (405; allow lists the methods that do). A
 * parameter must match its kind: {app} AP-<digits>, {person} 64 hex, {provider} as elig_providers'
 * ids, {kind} a material kind, {item} an item code; else the path has no
 * route. Pure. */
int api_route_match(const char *method, const char *path, const api_route **route,
                    char params[2][API_PARAM_MAX], char *allow, size_t allowlen);

/* Is s (n bytes) an item code (R02-AUTISM: an upper-case letter, then
 * upper-case letters, digits and '-', 2 to 32 bytes)? Pure. */
bool api_item_code_ok(const char *s, size_t n);

/* The value of cookie name in a Cookie header (RFC 6265 pairs "a=b; c=d"):
 * 0 with it in out (at most outlen - 1 bytes, else -1), -1 when absent or
 * malformed. Pure. */
int api_cookie(const char *header, const char *name, char *out, size_t outlen);

/* A query parameter of the request's URI, decoded, or NULL. */
const char *api_query(api_request *q, const char *name);

/* ------------------------------------------------------------- answers */

/* Sends w's JSON with status (w is freed). */
void api_json(api_request *q, int status, jsonw *w);
/* An error: {"error": {"code": …, "message": …}} with status. */
void api_error(api_request *q, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* An action's refusal (rc 1: its kind's status and code, the captured
 * message) or failure (rc CLI_DEPENDENCY, 3: 503). */
void api_refused(api_request *q, int rc);
/* The integer query parameter name in [lo, hi], def when absent: 0 with
 * *out, or -1 answered (400 naming it). */
int api_query_int(api_request *q, const char *name, int lo, int hi, int def, int *out);
/* A store's failure (err: what failed): 503. */
void api_store_failed(api_request *q, const char *err);
/* A PostgreSQL array's text of plain codes ("{A,B}") as a JSON array. */
void api_pg_array(jsonw *w, const char *key, const char *arr);
/* Parses the JSON body into fields (json.h); on a refusal answers 400 and
 * returns -1. */
struct json_field;
int api_body(api_request *q, struct json_field *fields, int n);

/* ------------------------------------------------------------- handlers */

void api_session_create(api_request *q);
void api_session_delete(api_request *q);
void api_me(api_request *q);
/* Authenticates q for its route: 0, or -1 answered (401, 403 CSRF). */
int api_authenticate(api_request *q);
/* Does who's role see persons' names (the reviewers, administrators)? */
bool api_sees_names(const operators_who *who);
/* The registry column a reviewer's area is ("village", "town",
 * "district"), or NULL for the roles that see every area. */
const char *api_area_column(const operators_who *who);
/* Sign-in attempts from one address: false (answer 429) past the limit. */
bool api_login_allowed(const char *addr);

void api_applications_queue(api_request *q);
void api_applications_submit(api_request *q);
void api_applications_show(api_request *q);
void api_applications_decide(api_request *q);
void api_applications_resubmit(api_request *q);
void api_materials_put(api_request *q);
void api_materials_get(api_request *q);

void api_persons_search(api_request *q);
void api_persons_show(api_request *q);

/* providers.c */
void api_providers_list(api_request *q);
void api_providers_show(api_request *q);
void api_catalogue_show(api_request *q);

/* reports.c */
void api_items_eligible(api_request *q);
void api_attendance_pauses(api_request *q);
void api_attendance_report(api_request *q);

/* console.c */
/* The console's Content-Security-Policy, on each of its answers. */
extern const char api_console_csp[];
/* The file of a decoded path under /console/: 0 with rel (relative to
 * ONECARD_CONSOLE_DIR; "index.html" for "/console/") and its content type
 * from the fixed table; 1 for a file of the vendor directory (rel its
 * name there); -1 nothing may be served (404): not under /console/, an
 * empty or hidden segment, ".." anywhere, a character outside [A-Za-z0-9._-], an
 * unknown extension, rel past rellen. Pure. */
int api_console_path(const char *path, char *rel, size_t rellen, const char **type);
/* Where the files are (realpath'd once; a missing one: 404s, logged). */
void api_console_setup(const char *dir, const char *vendor);
/* Answers a request for "/", "/console" or "/console/…". */
void api_console_serve(api_request *q, const char *path, const char *method);

#endif
