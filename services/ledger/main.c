/*
 * onecard-ledger: the double-entry ledger. Applies swipes, reversals and
 * top-ups to PostgreSQL exactly once, publishes postings, keeps Redis's hot
 * balances in step, and rebuilds or checks them on command.
 *
 *   onecard-ledger [serve]           the daemon
 *   onecard-ledger reconcile         check the conservation invariants
 *   onecard-ledger rebuild-cache     rebuild Redis balances from the ledger
 *   onecard-ledger allocate ...      put money into a fund or a budget
 *   onecard-ledger report --year Y   the year-end report to the levels above
 *   onecard-ledger --help            (the command line: common/cli.h)
 *
 * Start-up: configuration from the environment (dies naming a bad variable),
 * logging, signals and the admin port, then PostgreSQL, Redis and Kafka,
 * then the consumer and the light reconcile's thread (watch.h). The first
 * SIGTERM stops reading and waits for the effects in flight; a second
 * exits.
 */
#include "commands.h"
#include "consumer.h"
#include "watch.h"

#include "common/cli.h"
#include "common/daemon.h"
#include "common/deps.h"
#include "common/log.h"

#include <stdlib.h>
#include <string.h>

static ledger_config cfg;

static const config_var config_table[] = {
    DAEMON_CONFIG_ROWS(&cfg.d, 9102, "ledger"),
    LEDGER_CONFIG_ROWS(&cfg),
    {NULL, CONFIG_STR, NULL, NULL, 0, 0, NULL},
};

static deps service_deps;

static bool ledger_ready(void *arg, char *why, size_t whylen)
{
    if (!deps_ready(&service_deps, why, whylen))
        return false;
    if (!consumer_assigned()) {
        snprintf(why, whylen, "no partitions assigned yet");
        return false;
    }
    return true;
}

static void ledger_drained(void)
{
    daemon_stop();
}

static void ledger_drain(void *arg)
{
    consumer_drain(ledger_drained);
}

static int ledger_command(int argc, char **argv)
{
    return commands_run(argc, argv, config_table, &cfg);
}

static const cli_command ledger_commands[] = {
    {"reconcile", "核对守恒不变量 / check the conservation invariants (journal, offsets, Redis)",
     "reconcile [--card-prefix P] [--retries N] [--format text|json]", ledger_command},
    {"rebuild-cache",
     "由账本重建 Redis 余额 / rebuild Redis balances, holds and caps from the ledger",
     "rebuild-cache [--card-prefix P]", ledger_command},
    {"allocate", "向资金或预算拨款 / put money into a fund or a programme budget",
     "allocate --fund SOURCE | --programme NAME --year YYYY --amount-fen N --ref ID",
     ledger_command},
    {"report", "年度资金报告 / the year-end fund report to the levels above",
     "report --year YYYY [--quarter 1-4] [--format text|json|csv|html[,...]] [--out DIR]",
     ledger_command},
    {"lapse", "退还到期未用额度 / return the unspent credit of ended benefit periods to its funds",
     "lapse --as-of YYYY-MM-DD [--format text|json]", ledger_command},
    {"return-credit", "退还卡内全部余额 / return all a card holds to its funds (death, moving out)",
     "return-credit --card N --reason death|moved --as-of YYYY-MM-DD [--format text|json]",
     ledger_command},
    {NULL, NULL, NULL, NULL},
};

static const cli_program ledger_program = {"onecard-ledger",
                                           "复式记账账本 / the double-entry ledger", true,
                                           ledger_commands, config_table};

int main(int argc, char **argv)
{
    char err[512];

    /* 0. the command line: a command, help, a usage error, or the daemon */
    int code = cli_main(&ledger_program, argc, argv);
    if (code != CLI_DAEMON)
        return code;

    /* 1. configuration, logging, signals, admin port */
    struct event_base *base =
        daemon_setup(config_table, &cfg.d, ledger_ready, NULL, ledger_drain, NULL);

    /* 2. PostgreSQL, Redis and the producer (postings, dead letters) */
    if (deps_setup(&service_deps, base, &cfg.d, DEPS_KAFKA | DEPS_REDIS | DEPS_PG, 5000, err,
                   sizeof(err)) < 0)
        daemon_die("%s", err);

    /* 3. the consumer: batches, store, relay */
    consumer_config ccfg = {cfg.d.kafka_brokers, cfg.group, cfg.instance, (int)cfg.batch_max,
                            cfg.inflight_max};
    if (consumer_setup(base, &service_deps, &ccfg, err, sizeof(err)) < 0)
        daemon_die("%s", err);

    /* 4. the light reconcile and budget gauges, on a thread of their own */
    if (watch_start(cfg.d.pg_dsn, cfg.watch_s, err, sizeof(err)) < 0)
        daemon_die("%s", err);

    log_info("process_up", "group %s, batches of up to %lld, admin on port %lld", cfg.group,
             (long long)cfg.batch_max, (long long)cfg.d.admin_port);
    daemon_run();

    /* cleanup, in reverse order */
    watch_stop();
    consumer_cleanup();
    deps_cleanup(&service_deps, (int)cfg.d.drain_ms);
    log_info("process_down", "stopped");
    daemon_cleanup(config_table);
    return 0;
}
