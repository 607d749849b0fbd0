/*
 * onecard-eligibility: the registry (persons, cards, providers, terminals),
 * the service catalogue, entitlements and their Redis projection.
 *
 *   onecard-eligibility [serve]      the daemon: the feed (feed.h), the
 *                                    operator API (api/api.h) and the
 *                                    gauges of its tables (gauges.h)
 *   onecard-eligibility COMMAND ...  an operator command (commands.h)
 *   onecard-eligibility --help       (the command line: common/cli.h)
 *
 * Start-up: configuration from the environment (dies naming a bad
 * variable), logging, signals and the admin port, then the connections
 * this service needs; /readyz reports them. The first SIGTERM drains, a
 * second exits.
 */
#include "api/api.h"
#include "attfeed.h"
#include "commands.h"
#include "feed.h"
#include "gauges.h"

#include "common/cli.h"
#include "common/daemon.h"
#include "common/deps.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>

static elig_config cfg;

static const config_var config_table[] = {
    DAEMON_CONFIG_ROWS(&cfg.d, 9104, "eligibility"),
    ELIG_CONFIG_ROWS(&cfg),
    {NULL, CONFIG_STR, NULL, NULL, 0, 0, NULL},
};

static deps service_deps;

static bool elig_ready(void *arg, char *why, size_t whylen)
{
    if (!deps_ready(&service_deps, why, whylen))
        return false;
    if (!feed_assigned()) {
        snprintf(why, whylen, "the feed has no partitions assigned yet");
        return false;
    }
    return true;
}

static void service_drain(void *arg)
{
    feed_drain();
    attfeed_drain();
    daemon_stop();
}

static int elig_command(int argc, char **argv)
{
    return commands_run(argc, argv, config_table, &cfg);
}

int main(int argc, char **argv)
{
    char err[512];

    /* 0. the command line: a command, help, a usage error, or the daemon */
    cli_program program = {"onecard-eligibility",
                           "资格与登记：人员、卡、服务商、目录 / the registry, the catalogue and "
                           "entitlements",
                           true, commands_cli(elig_command), config_table};
    int code = cli_main(&program, argc, argv);
    if (code != CLI_DAEMON)
        return code;

    /* 1. configuration, logging, signals, admin port */
    struct event_base *base =
        daemon_setup(config_table, &cfg.d, elig_ready, NULL, service_drain, NULL);

    /* 2. the components this service depends on */
    if (deps_setup(&service_deps, base, &cfg.d, DEPS_KAFKA | DEPS_REDIS | DEPS_PG, 5000, err,
                   sizeof(err)) < 0)
        daemon_die("%s", err);

    /* 3. the feed: onecard.eligibility.v1 into the registry */
    if (feed_setup(base, &cfg, cfg.group, err, sizeof(err)) < 0)
        daemon_die("%s", err);

    /* 4. the 在训 check: attendance from onecard.swipes.v1, the daily check */
    if (attfeed_setup(base, &cfg, err, sizeof(err)) < 0)
        daemon_die("%s", err);

    /* 5. the operator API, and the escalation sweep on its connections */
    if (api_setup(base, &cfg, err, sizeof(err)) < 0)
        daemon_die("%s", err);

    /* 6. the gauges read from the registry's tables, on a timer */
    if (gauges_setup(base, &cfg, err, sizeof(err)) < 0)
        daemon_die("%s", err);

    log_info("process_up", "group %s, admin on port %lld", cfg.group, (long long)cfg.d.admin_port);
    daemon_run();

    /* cleanup, in reverse order */
    gauges_cleanup();
    api_cleanup();
    attfeed_cleanup();
    feed_cleanup();
    deps_cleanup(&service_deps, (int)cfg.d.drain_ms);
    log_info("process_down", "stopped");
    daemon_cleanup(config_table);
    return 0;
}
