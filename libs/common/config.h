/*
 * config: service configuration from the environment, as one declarative
 * table per service (pgbouncer's CF_ABS table, reduced to what a container
 * needs: name, type, target, default, bounds).
 *
 * A missing required variable or a malformed value is a start-up error that
 * names the variable; the service prints it and exits. Nothing is re-read at
 * run time.
 */
#ifndef ONECARD_CONFIG_H
#define ONECARD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { CONFIG_STR, CONFIG_INT, CONFIG_BOOL } config_type;

typedef struct config_var {
    const char *name; /* environment variable, e.g. ONECARD_ADMIN_PORT */
    config_type type; /* how to parse it */
    void *target;     /* char ** (malloc'd), int64_t *, or bool * */
    const char *def;  /* default as text; NULL means required */
    int64_t min, max; /* bounds for CONFIG_INT (inclusive) */
    const char *help; /* one line, shown in errors and --help */
} config_var;

/* Parses every row of table (terminated by a row with name == NULL) from the
 * environment. Returns 0, or -1 at the first bad row with "NAME: reason" in
 * err; targets parsed before the failure stay set (call config_free). */
int config_load(const config_var *table, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Parses one value as the table would. Exposed for tests. */
int config_parse(const config_var *var, const char *text, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Frees the strings config_load allocated. */
void config_free(const config_var *table);

/* Prints the table (name, default, help) to stdout for --help. */
void config_usage(const config_var *table);

#endif
