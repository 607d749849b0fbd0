/*
 * config: service configuration from the environment, as one declarative
 * table per service (pgbouncer's CF_ABS table, reduced to what a container
 * needs: name, type, target, default, bounds).
 *
 * A missing required variable or a malformed value is a start-up error that
 * names the variable; the service prints it and exits. Nothing is re-read at
 * run time.
 *
 * A string value may say "{host}": it is replaced by the host name, so one
 * default ("ledger-{host}") gives every replica of a scaled container its
 * own consumer-group instance id.
 *
 * Rows of type CONFIG_SECRET (the ID salt, the PIN pepper) are checked when
 * the table's ONECARD_DEPLOYMENT row says "site": a secret left empty or at
 * its public default is a start-up error naming the variable. The local
 * stack and the tests are "local" and keep the defaults.
 */
#ifndef ONECARD_CONFIG_H
#define ONECARD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CONFIG_SECRET is a string that a site deployment must set (not empty,
 * not the public default). */
typedef enum { CONFIG_STR, CONFIG_INT, CONFIG_BOOL, CONFIG_SECRET } config_type;

typedef struct config_var {
    const char *name; /* environment variable, e.g. ONECARD_ADMIN_PORT */
    config_type type; /* how to parse it */
    void *target;     /* char ** (malloc'd), int64_t *, or bool * */
    const char *def;  /* default as text; NULL means required */
    int64_t min, max; /* bounds for CONFIG_INT (inclusive) */
    const char *help; /* one line, shown in errors and --help */
} config_var;

/* Parses every row of table (terminated by a row with name == NULL) from the
 * environment, then checks the secrets of a site deployment
 * (config_check_secrets). Returns 0, or -1 at the first bad row with
 * "NAME: reason" in err; targets parsed before the failure stay set (call
 * config_free). */
int config_load(const config_var *table, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Parses one value as the table would. Exposed for tests. */
int config_parse(const config_var *var, const char *text, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* In a table whose ONECARD_DEPLOYMENT row is "site" (read from the
 * environment), every CONFIG_SECRET row must be set and differ from its
 * public default. Returns 0, or -1 naming the first variable that is not. */
int config_check_secrets(const config_var *table, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Replaces each "{host}" of text by host into out. Pure; exposed for
 * tests. Returns 0, or -1 when out is too small. */
int config_expand_host(const char *text, const char *host, char *out, size_t outlen);

/* Frees the strings config_load allocated. */
void config_free(const config_var *table);

#endif
