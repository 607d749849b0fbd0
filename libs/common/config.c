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

int config_parse(const config_var *var, const char *text, char *err, size_t errlen)
{
    switch (var->type) {
    case CONFIG_STR: {
        if (text[0] == '\0' && var->def == NULL) {
            snprintf(err, errlen, "%s: must not be empty (%s)", var->name, var->help);
            return -1;
        }
        char *copy = strdup(text);
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
    return 0;
}

void config_free(const config_var *table)
{
    for (const config_var *v = table; v->name != NULL; v++) {
        if (v->type == CONFIG_STR) {
            char **dst = v->target;
            free(*dst);
            *dst = NULL;
        }
    }
}

void config_usage(const config_var *table)
{
    for (const config_var *v = table; v->name != NULL; v++)
        printf("  %-28s %s (default: %s)\n", v->name, v->help, v->def ? v->def : "required");
}
