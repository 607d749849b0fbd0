/*
 * Unit tests of config: every type's parse rules, one row per case, the
 * start-up errors that must name the variable, {host} in a value, and the
 * secrets a site deployment must set.
 */
#include "check.h"
#include "common/config.h"

#include <stdlib.h>
#include <string.h>

static int64_t t_int;
static bool t_bool;
static char *t_str;

static const struct {
    config_type type;
    const char *text;
    bool ok;
    int64_t want_int; /* CONFIG_INT / CONFIG_BOOL */
    const char *want_err;
} cases[] = {
    {CONFIG_INT, "8080", true, 8080, NULL},
    {CONFIG_INT, "1", true, 1, NULL},
    {CONFIG_INT, "65535", true, 65535, NULL},
    {CONFIG_INT, "0", false, 0, "out of range"},
    {CONFIG_INT, "65536", false, 0, "out of range"},
    {CONFIG_INT, "-5", false, 0, "out of range"},
    {CONFIG_INT, "80a", false, 0, "not an integer"},
    {CONFIG_INT, "", false, 0, "not an integer"},
    {CONFIG_INT, " 80", false, 0, "not an integer"},
    {CONFIG_INT, "99999999999999999999", false, 0, "not an integer"},
    {CONFIG_BOOL, "true", true, 1, NULL},
    {CONFIG_BOOL, "YES", true, 1, NULL},
    {CONFIG_BOOL, "0", true, 0, NULL},
    {CONFIG_BOOL, "off", true, 0, NULL},
    {CONFIG_BOOL, "maybe", false, 0, "not a boolean"},
    {CONFIG_STR, "127.0.0.1:19092", true, 0, NULL},
};

int main(void)
{
    char err[256];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        void *target = cases[i].type == CONFIG_INT    ? (void *)&t_int
                       : cases[i].type == CONFIG_BOOL ? (void *)&t_bool
                                                      : (void *)&t_str;
        config_var v = {"ONECARD_T", cases[i].type, target, "x", 1, 65535, "a test"};
        err[0] = '\0';
        int rc = config_parse(&v, cases[i].text, err, sizeof(err));
        CHECK((rc == 0) == cases[i].ok, "row %zu \"%s\": rc %d err %s", i, cases[i].text, rc, err);
        if (cases[i].ok && cases[i].type == CONFIG_INT)
            CHECK(t_int == cases[i].want_int, "row %zu: got %lld", i, (long long)t_int);
        if (cases[i].ok && cases[i].type == CONFIG_BOOL)
            CHECK(t_bool == (cases[i].want_int != 0), "row %zu: got %d", i, t_bool);
        if (cases[i].ok && cases[i].type == CONFIG_STR)
            CHECK(strcmp(t_str, cases[i].text) == 0, "row %zu: got %s", i, t_str);
        if (!cases[i].ok) {
            CHECK(strstr(err, cases[i].want_err) != NULL, "row %zu: err \"%s\"", i, err);
            CHECK(strncmp(err, "ONECARD_T:", 10) == 0, "row %zu: error must name the variable: %s",
                  i, err);
        }
    }

    /* config_load: defaults, a required variable, a malformed value. */
    char *s1 = NULL;
    int64_t port = 0;
    const config_var table[] = {
        {"ONECARD_TEST_HOST", CONFIG_STR, &s1, "localhost", 0, 0, "host"},
        {"ONECARD_TEST_PORT", CONFIG_INT, &port, NULL, 1, 65535, "port"},
        {NULL, CONFIG_STR, NULL, NULL, 0, 0, NULL},
    };
    unsetenv("ONECARD_TEST_HOST");
    unsetenv("ONECARD_TEST_PORT");
    CHECK(config_load(table, err, sizeof(err)) < 0, "missing required must fail");
    CHECK(strstr(err, "ONECARD_TEST_PORT: required") != NULL, "err: %s", err);
    setenv("ONECARD_TEST_PORT", "70000", 1);
    CHECK(config_load(table, err, sizeof(err)) < 0, "out of range must fail");
    CHECK(strstr(err, "ONECARD_TEST_PORT") != NULL, "err: %s", err);
    setenv("ONECARD_TEST_PORT", "15432", 1);
    CHECK(config_load(table, err, sizeof(err)) == 0, "err: %s", err);
    CHECK(port == 15432 && strcmp(s1, "localhost") == 0, "port %lld host %s", (long long)port, s1);
    config_free(table);
    CHECK(s1 == NULL, "config_free clears strings");

    /* {host}: each replica its own instance id */
    static const struct {
        const char *text, *host, *want;
    } hosts[] = {
        {"ledger-{host}", "abc123", "ledger-abc123"},
        {"{host}", "h", "h"},
        {"{host}-{host}", "a", "a-a"},
        {"no-host", "h", "no-host"},
        {"{hos}", "h", "{hos}"},
    };
    for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        char out[64];
        CHECK(config_expand_host(hosts[i].text, hosts[i].host, out, sizeof(out)) == 0 &&
                  strcmp(out, hosts[i].want) == 0,
              "expand %s: %s", hosts[i].text, out);
    }
    char tiny[4];
    CHECK(config_expand_host("{host}", "longname", tiny, sizeof(tiny)) < 0, "too small");
    char *inst = NULL;
    const config_var itable[] = {
        {"ONECARD_TEST_INSTANCE", CONFIG_STR, &inst, "ledger-{host}", 0, 0, "instance"},
        {NULL, CONFIG_STR, NULL, NULL, 0, 0, NULL},
    };
    unsetenv("ONECARD_TEST_INSTANCE");
    CHECK(config_load(itable, err, sizeof(err)) == 0, "err: %s", err);
    CHECK(inst && strncmp(inst, "ledger-", 7) == 0 && strstr(inst, "{host}") == NULL &&
              strlen(inst) > 7,
          "instance %s", inst ? inst : "(null)");
    config_free(itable);

    /* a site deployment refuses a secret that is empty or at its default */
    char *dep = NULL, *salt = NULL;
    const config_var stable[] = {
        {"ONECARD_DEPLOYMENT", CONFIG_STR, &dep, "local", 0, 0, "local or site"},
        {"ONECARD_TEST_SALT", CONFIG_SECRET, &salt, "public-salt", 0, 0, "salt"},
        {NULL, CONFIG_STR, NULL, NULL, 0, 0, NULL},
    };
    static const struct {
        const char *deployment, *salt; /* NULL: unset */
        bool ok;
        const char *want_err;
    } sites[] = {
        {NULL, NULL, true, NULL},
        {"local", "", true, NULL},
        {"local", NULL, true, NULL},
        {"site", NULL, false, "ONECARD_TEST_SALT"},
        {"site", "public-salt", false, "ONECARD_TEST_SALT"},
        {"site", "", false, "ONECARD_TEST_SALT"},
        {"site", "s3cret-from-the-vault", true, NULL},
        {"prod", "x", false, "ONECARD_DEPLOYMENT"},
    };
    for (size_t i = 0; i < sizeof(sites) / sizeof(sites[0]); i++) {
        if (sites[i].deployment)
            setenv("ONECARD_DEPLOYMENT", sites[i].deployment, 1);
        else
            unsetenv("ONECARD_DEPLOYMENT");
        if (sites[i].salt)
            setenv("ONECARD_TEST_SALT", sites[i].salt, 1);
        else
            unsetenv("ONECARD_TEST_SALT");
        err[0] = '\0';
        int rc = config_load(stable, err, sizeof(err));
        CHECK((rc == 0) == sites[i].ok, "site row %zu: rc %d err %s", i, rc, err);
        if (!sites[i].ok)
            CHECK(strstr(err, sites[i].want_err) != NULL, "site row %zu: err %s", i, err);
        config_free(stable);
    }
    unsetenv("ONECARD_DEPLOYMENT");
    unsetenv("ONECARD_TEST_SALT");
    free(t_str);
    return CHECK_DONE();
}
