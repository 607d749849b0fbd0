/*
 * config: parse a declarative table of environment variables. See config.h.
 */
#include "common/config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

int config_expand_host(const char *text, const char *host, char *out, size_t outlen)
{
    size_t n = 0;
    for (const char *p = text; *p;) {
        const char *add = p;
        size_t len = 1;
        if (strncmp(p, "{host}", 6) == 0) {
            add = host;
            len = strlen(host);
            p += 6;
        } else {
            p++;
        }
        if (n + len >= outlen)
            return -1;
        memcpy(out + n, add, len);
        n += len;
    }
    out[n] = '\0';
    return 0;
}

int config_parse(const config_var *var, const char *text, char *err, size_t errlen)
{
    switch (var->type) {
    case CONFIG_STR:
    case CONFIG_SECRET: {
        if (text[0] == '\0' && var->def == NULL) {
            snprintf(err, errlen, "%s: must not be empty (%s)", var->name, var->help);
            return -1;
        }
        char *copy = NULL;
        if (strstr(text, "{host}") != NULL) {
            char host[256], buf[1024];
            if (gethostname(host, sizeof(host)) < 0)
                snprintf(host, sizeof(host), "localhost");
            host[sizeof(host) - 1] = '\0';
            if (config_expand_host(text, host, buf, sizeof(buf)) < 0) {
                snprintf(err, errlen, "%s: too long once {host} is expanded", var->name);
                return -1;
            }
            copy = strdup(buf);
        } else {
            copy = strdup(text);
        }
        if (copy == NULL) {
            snprintf(err, errlen, "%s: out of memory", var->name);
            return -1;
        }
        char **dst = var->target;
        free(*dst);
        *dst = copy;
        return 0;
    }
    case CONFIG_INT: {
        char *end = NULL;
        errno = 0;
        long long v = strtoll(text, &end, 10);
        bool digits = (text[0] >= '0' && text[0] <= '9') || (text[0] == '-' && text[1] != '\0');
        if (!digits || *end != '\0' || errno == ERANGE) {
            snprintf(err, errlen, "%s: \"%s\" is not an integer (%s)", var->name, text, var->help);
            return -1;
        }
        if (v < var->min || v > var->max) {
            snprintf(err, errlen, "%s: %lld is out of range %" PRId64 "..%" PRId64 " (%s)",
                     var->name, v, var->min, var->max, var->help);
            return -1;
        }
        *(int64_t *)var->target = v;
        return 0;
    }
    case CONFIG_BOOL: {
        bool v;
        if (!strcasecmp(text, "1") || !strcasecmp(text, "true") || !strcasecmp(text, "yes") ||
            !strcasecmp(text, "on"))
            v = true;
        else if (!strcasecmp(text, "0") || !strcasecmp(text, "false") || !strcasecmp(text, "no") ||
                 !strcasecmp(text, "off"))
            v = false;
        else {
            snprintf(err, errlen, "%s: \"%s\" is not a boolean (true/false) (%s)", var->name, text,
                     var->help);
            return -1;
        }
        *(bool *)var->target = v;
        return 0;
    }
    }
    snprintf(err, errlen, "%s: unknown type", var->name);
    return -1;
}

int config_load(const config_var *table, char *err, size_t errlen)
{
    for (const config_var *v = table; v->name != NULL; v++) {
        const char *text = getenv(v->name);
        if (text == NULL) {
            if (v->def == NULL) {
                snprintf(err, errlen, "%s: required but not set (%s)", v->name, v->help);
                return -1;
            }
            text = v->def;
        }
        if (config_parse(v, text, err, errlen) < 0)
            return -1;
    }
    return config_check_secrets(table, err, errlen);
}

int config_check_secrets(const config_var *table, char *err, size_t errlen)
{
    bool site = false;
    for (const config_var *v = table; v->name != NULL; v++)
        if (strcmp(v->name, "ONECARD_DEPLOYMENT") == 0) {
            const char *d = getenv(v->name);
            d = d ? d : (v->def ? v->def : "local");
            if (strcmp(d, "site") != 0 && strcmp(d, "local") != 0) {
                snprintf(err, errlen, "%s: \"%.32s\" is neither local nor site (%s)", v->name, d,
                         v->help);
                return -1;
            }
            site = strcmp(d, "site") == 0;
        }
    if (!site)
        return 0;
    for (const config_var *v = table; v->name != NULL; v++) {
        if (v->type != CONFIG_SECRET)
            continue;
        const char *text = getenv(v->name);
        if (text == NULL || text[0] == '\0' || (v->def && strcmp(text, v->def) == 0)) {
            snprintf(err, errlen,
                     "%s: 站点部署必须设置此密钥，不能为空或公开默认值 / a site deployment "
                     "(ONECARD_DEPLOYMENT=site) needs this secret set, not empty and not the "
                     "public default (%s)",
                     v->name, v->help);
            return -1;
        }
    }
    return 0;
}

void config_free(const config_var *table)
{
    for (const config_var *v = table; v->name != NULL; v++) {
        if (v->type == CONFIG_STR || v->type == CONFIG_SECRET) {
            char **dst = v->target;
            free(*dst);
            *dst = NULL;
        }
    }
}
