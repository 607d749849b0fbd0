/*
 * route: the operator API's routes and the pure parts of reading a
 * request. See api.h.
 */
#include "api.h"

#include "materials.h"

#include <stdio.h>
#include <string.h>

const api_route api_routes[] = {
    {"POST", "/v1/session", api_session_create, API_JSON, "session_create"},
    {"DELETE", "/v1/session", api_session_delete, API_AUTH | API_CHANGES, "session_delete"},
    {"GET", "/v1/me", api_me, API_AUTH, "me"},
    {"GET", "/v1/applications", api_applications_queue, API_AUTH, "applications_queue"},
    {"POST", "/v1/applications", api_applications_submit, API_AUTH | API_CHANGES | API_JSON,
     "applications_submit"},
    {"GET", "/v1/applications/{app}", api_applications_show, API_AUTH, "applications_show"},
    {"POST", "/v1/applications/{app}/decisions", api_applications_decide,
     API_AUTH | API_CHANGES | API_JSON, "applications_decide"},
    {"POST", "/v1/applications/{app}/resubmission", api_applications_resubmit,
     API_AUTH | API_CHANGES, "applications_resubmit"},
    {"PUT", "/v1/applications/{app}/materials/{kind}", api_materials_put,
     API_AUTH | API_CHANGES | API_BYTES, "materials_put"},
    {"GET", "/v1/applications/{app}/materials/{kind}", api_materials_get, API_AUTH,
     "materials_get"},
    {"GET", "/v1/persons", api_persons_search, API_AUTH, "persons_search"},
    {"GET", "/v1/persons/{person}", api_persons_show, API_AUTH, "persons_show"},
    {"GET", "/v1/providers", api_providers_list, API_AUTH, "providers_list"},
    {"GET", "/v1/providers/{provider}", api_providers_show, API_AUTH, "providers_show"},
    {"GET", "/v1/catalogue", api_catalogue_show, API_AUTH, "catalogue_show"},
    {"GET", "/v1/items/{item}/eligible", api_items_eligible, API_AUTH, "items_eligible"},
    {"GET", "/v1/attendance/pauses", api_attendance_pauses, API_AUTH, "attendance_pauses"},
    {"POST", "/v1/attendance/reports", api_attendance_report, API_AUTH | API_CHANGES | API_BYTES,
     "attendance_report"},
};
const int api_nroutes = (int)(sizeof(api_routes) / sizeof(api_routes[0]));

bool api_item_code_ok(const char *s, size_t n)
{
    if (n < 2 || n > 32 || s[0] < 'A' || s[0] > 'Z')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return false;
    return true;
}

static bool api_param_ok(const char *kind, size_t klen, const char *v, size_t n)
{
    if (klen == 4 && memcmp(kind, "item", 4) == 0)
        return api_item_code_ok(v, n);
    if (n == 0 || n >= API_PARAM_MAX)
        return false;
    if (klen == 3 && memcmp(kind, "app", 3) == 0) {
        if (n < 4 || n > 21 || memcmp(v, "AP-", 3) != 0)
            return false;
        for (size_t i = 3; i < n; i++)
            if (v[i] < '0' || v[i] > '9')
                return false;
        return true;
    }
    if (klen == 6 && memcmp(kind, "person", 6) == 0) {
        if (n != 64)
            return false;
        for (size_t i = 0; i < n; i++)
            if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f')))
                return false;
        return true;
    }
    if (klen == 8 && memcmp(kind, "provider", 8) == 0) { /* as elig_providers checks it */
        for (size_t i = 0; i < n; i++)
            if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'z') ||
                  (v[i] >= 'A' && v[i] <= 'Z') || v[i] == '_' || v[i] == '-'))
                return false;
        return n <= 64;
    }
    if (klen == 4 && memcmp(kind, "kind", 4) == 0) {
        for (int i = 0; materials_kinds[i]; i++)
            if (strlen(materials_kinds[i]) == n && memcmp(materials_kinds[i], v, n) == 0)
                return true;
        return false;
    }
    return false;
}

/* Does path match pattern? Fills params. */
static bool api_match(const char *pattern, const char *path, char params[2][API_PARAM_MAX])
{
    const char *p = pattern, *s = path;
    int np = 0;
    while (*p && *s) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            const char *end = strchr(s, '/');
            size_t n = end ? (size_t)(end - s) : strlen(s);
            if (close == NULL || np == 2 || !api_param_ok(p + 1, (size_t)(close - p - 1), s, n))
                return false;
            memcpy(params[np], s, n);
            params[np++][n] = '\0';
            p = close + 1;
            s += n;
            continue;
        }
        if (*p != *s)
            return false;
        p++, s++;
    }
    return *p == '\0' && *s == '\0';
}

int api_route_match(const char *method, const char *path, const api_route **route,
                    char params[2][API_PARAM_MAX], char *allow, size_t allowlen)
{
    bool path_known = false;
    size_t alen = 0;
    if (allowlen > 0)
        allow[0] = '\0';
    *route = NULL;
    for (int i = 0; i < api_nroutes; i++) {
        char tmp[2][API_PARAM_MAX];
        if (!api_match(api_routes[i].pattern, path, tmp))
            continue;
        path_known = true;
        if (strcmp(api_routes[i].method, method) == 0) {
            *route = &api_routes[i];
            memcpy(params, tmp, sizeof(tmp));
            return 0;
        }
        if (alen < allowlen) {
            int w = snprintf(allow + alen, allowlen - alen, "%s%s", alen ? ", " : "",
                             api_routes[i].method);
            alen += w > 0 ? (size_t)w : 0;
        }
    }
    return path_known ? -2 : -1;
}

int api_cookie(const char *header, const char *name, char *out, size_t outlen)
{
    size_t nlen = strlen(name);
    const char *s = header;
    while (s && *s) {
        while (*s == ' ' || *s == '\t')
            s++;
        const char *end = strchr(s, ';');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        const char *eq = memchr(s, '=', len);
        if (eq && (size_t)(eq - s) == nlen && memcmp(s, name, nlen) == 0) {
            size_t vlen = len - nlen - 1;
            const char *v = eq + 1;
            while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
                vlen--;
            if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"')
                v++, vlen -= 2;
            if (vlen + 1 > outlen)
                return -1;
            memcpy(out, v, vlen);
            out[vlen] = '\0';
            return 0;
        }
        s = end ? end + 1 : NULL;
    }
    return -1;
}
