/*
 * onecard-settlement: provider statements per period from the ledger's
 * postings, reconciled to the fen, with payout files and anomaly holds;
 * and the payments into persons' own accounts, paid by the month.
 *
 *   onecard-settlement [serve]        the daemon: accumulates postings
 *   onecard-settlement close ...      close a day or a month
 *   onecard-settlement release ...    lift an anomaly hold
 *   onecard-settlement bank-account   where a provider is paid
 *   onecard-settlement person-account where a person is paid (own account)
 *   onecard-settlement report ...     utilisation per item and fund
 *   onecard-settlement --help         (the command line: common/cli.h)
 *
 * Start-up: configuration from the environment (dies naming a bad
 * variable), logging, signals and the admin port, then PostgreSQL and
 * Kafka, then the consumer. The first SIGTERM stops reading; the batch in
 * hand is either committed or read again after the restart.
 */
#include "commands.h"
#include "consumer.h"

#include "common/cli.h"
#include "common/daemon.h"
#include "common/deps.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static settlement_config cfg;

static const config_var config_table[] = {
    DAEMON_CONFIG_ROWS(&cfg.d, 9103, "settlement"),
    SETTLEMENT_CONFIG_ROWS(&cfg),
    {NULL, CONFIG_STR, NULL, NULL, 0, 0, NULL},
};

static deps service_deps;

static bool settlement_ready(void *arg, char *why, size_t whylen)
{
    if (!deps_ready(&service_deps, why, whylen))
        return false;
    if (!consumer_assigned()) {
        snprintf(why, whylen, "no partitions assigned yet");
        return false;
    }
    return true;
}

static void settlement_drain(void *arg)
{
    consumer_drain();
    daemon_stop();
}

static int settlement_command(int argc, char **argv)
{
    return commands_run(argc, argv, config_table, &cfg);
}

static const cli_command settlement_commands[] = {
    {"close", "结算一日或一月 / close a day or a month: statements, reconciliation, payouts",
     "close --period YYYY-MM|YYYY-MM-DD [--out DIR] [--wait S] [--early] [--format text|json]",
     settlement_command},
    {"release", "解除异常暂扣 / lift an anomaly hold", "release PROVIDER --period P --actor NAME",
     settlement_command},
    {"bank-account", "设置服务商收款账户 / where a provider is paid",
     "bank-account PROVIDER ACCOUNT", settlement_command},
    {"person-account", "设置个人收款账户 / where a person is paid (own account)",
     "person-account PERSON ACCOUNT  (PERSON: 64 hex)", settlement_command},
    {"report", "按项目和资金的使用情况 / utilisation per item and fund",
     "report --period YYYY-MM --format json|csv", settlement_command},
    {NULL, NULL, NULL, NULL},
};

static const cli_program settlement_program = {
    "onecard-settlement", "服务商结算与支付 / provider statements, reconciliation and payouts",
    true, settlement_commands, config_table};

int main(int argc, char **argv)
{
    char err[512];

    /* 0. the command line: a command, help, a usage error, or the daemon */
    int code = cli_main(&settlement_program, argc, argv);
    if (code != CLI_DAEMON)
        return code;

    /* 1. configuration, logging, signals, admin port */
    struct event_base *base =
        daemon_setup(config_table, &cfg.d, settlement_ready, NULL, settlement_drain, NULL);

    /* 2. PostgreSQL and the producer (dead letters) */
    if (deps_setup(&service_deps, base, &cfg.d, DEPS_KAFKA | DEPS_PG, 5000, err, sizeof(err)) < 0)
        daemon_die("%s", err);

    /* 3. the consumer: batches of postings, one transaction each */
    consumer_config ccfg = {cfg.d.kafka_brokers, cfg.group, cfg.instance, (int)cfg.batch_max,
                            (int)cfg.tz_offset_min};
    if (consumer_setup(base, &service_deps, &ccfg, err, sizeof(err)) < 0)
        daemon_die("%s", err);

    log_info("process_up", "group %s, batches of up to %lld, admin on port %lld", cfg.group,
             (long long)cfg.batch_max, (long long)cfg.d.admin_port);
    daemon_run();

    /* cleanup, in reverse order */
    consumer_cleanup();
    deps_cleanup(&service_deps, (int)cfg.d.drain_ms);
    log_info("process_down", "stopped");
    daemon_cleanup(config_table);
    return 0;
}
