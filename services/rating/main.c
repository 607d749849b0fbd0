/*
 * onecard-rating: ratings tied to real swipes, provider scores, the
 * year-end review.
 *
 *   onecard-rating [serve]         the daemon (consumer.h)
 *   onecard-rating review ...      the year-end elimination list (review.h)
 *   onecard-rating --help          (the command line: common/cli.h)
 *
 * Start-up: configuration from the environment (dies naming a bad
 * variable), logging, signals and the admin port, then PostgreSQL and the
 * producer (dead letters, provider scores), then the consumer. The first
 * SIGTERM stops reading after the batch in hand; a second exits.
 */
#include "consumer.h"
#include "review.h"

#include "common/cli.h"
#include "common/daemon.h"
#include "common/deps.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static rating_config cfg;

static const config_var config_table[] = {
    DAEMON_CONFIG_ROWS(&cfg.d, 9105, "rating"),
    RATING_CONFIG_ROWS(&cfg),
    {NULL, CONFIG_STR, NULL, NULL, 0, 0, NULL},
};

static deps service_deps;

static bool rating_ready(void *arg, char *why, size_t whylen)
{
    if (!deps_ready(&service_deps, why, whylen))
        return false;
    if (!consumer_assigned()) {
        snprintf(why, whylen, "no partitions assigned yet");
        return false;
    }
    return true;
}

static void rating_drain(void *arg)
{
    consumer_drain();
    daemon_stop();
}

/* `review`: arguments, configuration, PostgreSQL, the report. */
static int rating_command(int argc, char **argv)
{
    char err[512];
    review_args a;
    if (review_parse_args(argc, argv, &a, err, sizeof(err)) < 0) {
        fprintf(stderr, "rating: review: %s\n", err);
        return CLI_USAGE;
    }
    if (config_load(config_table, err, sizeof(err)) < 0) {
        fprintf(stderr, "rating: %s\n", err);
        config_free(config_table);
        return CLI_USAGE;
    }
    if (log_setup(cfg.d.service_name, "warn", err, sizeof(err)) < 0)
        fprintf(stderr, "rating: %s\n", err);
    int rc = CLI_DEPENDENCY;
    PGconn *pg = pg_connect(cfg.d.pg_dsn, 3, 500, NULL, err, sizeof(err));
    if (pg == NULL)
        fprintf(stderr, "rating: review: %s\n", err);
    else
        rc = review_run(pg, &a, cfg.prior_weight, cfg.burst_threshold);
    if (pg)
        PQfinish(pg);
    config_free(config_table);
    return rc;
}

static const cli_command rating_commands[] = {
    {"review", "年终淘汰名单 / the year-end elimination list of providers",
     "review --year YYYY [--min-ratings N] [--below SCORE | --bottom-pct P] [--format text|json] "
     "[--confirm]",
     rating_command},
    {NULL, NULL, NULL, NULL},
};

static const cli_program rating_program = {
    "onecard-rating", "评价与服务商评分 / ratings, provider scores, the year-end review", true,
    rating_commands, config_table};

int main(int argc, char **argv)
{
    char err[512];

    /* 0. the command line: a command, help, a usage error, or the daemon */
    int code = cli_main(&rating_program, argc, argv);
    if (code != CLI_DAEMON)
        return code;

    /* 1. configuration, logging, signals, admin port */
    struct event_base *base =
        daemon_setup(config_table, &cfg.d, rating_ready, NULL, rating_drain, NULL);

    /* 2. PostgreSQL and the producer (dead letters, scores); Redis is read
     * blocking, for provider categories only (categories.c) */
    if (deps_setup(&service_deps, base, &cfg.d, DEPS_KAFKA | DEPS_PG, 5000, err, sizeof(err)) < 0)
        daemon_die("%s", err);

    /* 3. the consumer */
    if (consumer_setup(base, &service_deps, &cfg, err, sizeof(err)) < 0)
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
