/*
 * auth: who is asking. A request carries a session as a bearer token
 * (Authorization: Bearer <64 hex>: a script's token, or a session used by
 * a program) or as the session cookie the sign-in sets (onecard_session:
 * HttpOnly, SameSite=Strict, Path=/v1, Secure when ONECARD_OPERATOR_SECURE_COOKIE
 * says the operators reach the API over TLS). With the cookie, a request
 * that changes anything must also carry X-CSRF-Token, the session's CSRF
 * token (operators_csrf), which a page of another site cannot read.
 *
 * Sign-in: the operator's own lock (5 wrong passwords, 15 minutes,
 * operators.c) and, before it, a throttle per client address: at most
 * API_LOGIN_BURST attempts in a row, then one per API_LOGIN_EVERY_S
 * seconds (429 with Retry-After), so a guesser cannot run through operator
 * ids either.
 */
#include "api.h"

#include "common/json.h"

#include <event2/http.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#define API_COOKIE         "onecard_session"
#define API_LOGIN_BURST    20
#define API_LOGIN_EVERY_S  3
#define API_THROTTLE_SLOTS 256

static bool api_hex64(const char *s)
{
    return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

/* ----------------------------------------------------------- throttle */

typedef struct api_slot {
    char addr[48];
    double tokens;
    time_t at;
} api_slot;
static api_slot api_slots[API_THROTTLE_SLOTS];

bool api_login_allowed(const char *addr)
{
    time_t now = time(NULL);
    api_slot *slot = NULL, *oldest = &api_slots[0];
    for (int i = 0; i < API_THROTTLE_SLOTS; i++) {
        if (strcmp(api_slots[i].addr, addr) == 0) {
            slot = &api_slots[i];
            break;
        }
        if (api_slots[i].at < oldest->at)
            oldest = &api_slots[i];
    }
    if (slot == NULL) {
        slot = oldest; /* the least recently seen address gives up its slot */
        snprintf(slot->addr, sizeof(slot->addr), "%s", addr);
        slot->tokens = API_LOGIN_BURST;
        slot->at = now;
    }
    slot->tokens += (double)(now - slot->at) / API_LOGIN_EVERY_S;
    if (slot->tokens > API_LOGIN_BURST)
        slot->tokens = API_LOGIN_BURST;
    slot->at = now;
    if (slot->tokens < 1)
        return false;
    slot->tokens -= 1;
    return true;
}

/* ----------------------------------------------------------- sessions */

int api_authenticate(api_request *q)
{
    struct evkeyvalq *h = evhttp_request_get_input_headers(q->req);
    const char *auth = evhttp_find_header(h, "Authorization");
    const char *cookie = evhttp_find_header(h, "Cookie");
    if (auth) {
        if (strncmp(auth, "Bearer ", 7) != 0 || !api_hex64(auth + 7)) {
            api_error(q, 401, "unauthorized",
                      "Authorization must be \"Bearer\" and a 64-hex-digit token");
            return -1;
        }
        snprintf(q->token, sizeof(q->token), "%s", auth + 7);
    } else if (cookie && api_cookie(cookie, API_COOKIE, q->token, sizeof(q->token)) == 0 &&
               api_hex64(q->token)) {
        q->by_cookie = true;
    } else {
        q->token[0] = '\0';
        api_error(q, 401, "unauthorized",
                  "sign in first (POST /v1/session), or send a token as \"Authorization: "
                  "Bearer TOKEN\"");
        return -1;
    }
    int rc = operators_session(q->r, q->token, &q->who);
    if (rc != 0) {
        api_refused(q, rc);
        return -1;
    }
    if (q->by_cookie && (q->route->flags & API_CHANGES)) {
        char csrf[33];
        operators_csrf(q->token, csrf);
        const char *sent = evhttp_find_header(h, "X-CSRF-Token");
        if (sent == NULL || strcmp(sent, csrf) != 0) {
            api_error(q, 403, "csrf",
                      "X-CSRF-Token is %s: a change made with the session cookie carries the "
                      "session's CSRF token (csrf_token of POST /v1/session or GET /v1/me)",
                      sent ? "wrong" : "missing");
            return -1;
        }
    }
    return 0;
}

static void api_who(jsonw *w, const operators_who *who)
{
    jsonw_obj(w, "operator");
    jsonw_str(w, "id", who->id);
    jsonw_str(w, "role", who->role);
    jsonw_str(w, "area", who->area);
    jsonw_end(w);
}

void api_session_create(api_request *q)
{
    char password[257];
    json_field f[] = {
        {.name = "operator", .type = JSON_STRING, .required = true, .min = 2, .max = 32},
        {.name = "password",
         .type = JSON_STRING,
         .required = true,
         .min = 1,
         .max = 256,
         .ext = password,
         .extlen = sizeof(password)},
    };
    if (api_body(q, f, 2) < 0)
        return;
    const char *addr = NULL;
    ev_uint16_t port;
    evhttp_connection_get_peer(evhttp_request_get_connection(q->req), (char **)&addr, &port);
    if (!api_login_allowed(addr ? addr : "?")) {
        memset(password, 0, sizeof(password));
        evhttp_add_header(evhttp_request_get_output_headers(q->req), "Retry-After", "3");
        api_error(q, 429, "too_many_requests",
                  "too many sign-in attempts from this address; try again in a few seconds");
        return;
    }
    operators_signed_in s;
    int rc = operators_login(q->r, f[0].str, password, &s);
    memset(password, 0, sizeof(password));
    if (rc != 0) {
        api_refused(q, rc);
        return;
    }
    q->who = s.who;
    char cookie[160];
    snprintf(cookie, sizeof(cookie), "%s=%s; Path=/v1; HttpOnly; SameSite=Strict%s", API_COOKIE,
             s.token, q->r->cfg->operator_secure_cookie ? "; Secure" : "");
    evhttp_add_header(evhttp_request_get_output_headers(q->req), "Set-Cookie", cookie);
    jsonw w;
    jsonw_init(&w);
    jsonw_obj(&w, NULL);
    api_who(&w, &s.who);
    jsonw_str(&w, "token", s.token);
    jsonw_str(&w, "csrf_token", s.csrf);
    jsonw_str(&w, "expires_at", s.expires);
    jsonw_end(&w);
    memset(&s, 0, sizeof(s));
    api_json(q, 201, &w);
}

void api_session_delete(api_request *q)
{
    int rc = operators_logout(q->r, q->token);
    if (rc != 0) {
        api_refused(q, rc);
        return;
    }
    char cookie[128];
    snprintf(cookie, sizeof(cookie), "%s=; Path=/v1; HttpOnly; SameSite=Strict; Max-Age=0",
             API_COOKIE);
    evhttp_add_header(evhttp_request_get_output_headers(q->req), "Set-Cookie", cookie);
    jsonw w;
    jsonw_init(&w);
    jsonw_obj(&w, NULL);
    jsonw_bool(&w, "signed_out", true);
    jsonw_end(&w);
    api_json(q, 200, &w);
}

void api_me(api_request *q)
{
    char csrf[33];
    operators_csrf(q->token, csrf);
    jsonw w;
    jsonw_init(&w);
    jsonw_obj(&w, NULL);
    api_who(&w, &q->who);
    jsonw_str(&w, "csrf_token", csrf);
    jsonw_str(&w, "authenticated_by", q->by_cookie ? "cookie" : "bearer");
    jsonw_end(&w);
    api_json(q, 200, &w);
}

bool api_sees_names(const operators_who *who)
{
    return strcmp(who->role, "village") == 0 || strcmp(who->role, "town") == 0 ||
           strcmp(who->role, "district") == 0 || strcmp(who->role, "administrator") == 0;
}

const char *api_area_column(const operators_who *who)
{
    return strcmp(who->role, "village") == 0    ? "village"
           : strcmp(who->role, "town") == 0     ? "town"
           : strcmp(who->role, "district") == 0 ? "district"
                                                : NULL;
}
