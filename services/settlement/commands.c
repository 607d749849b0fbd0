/*
 * commands: close, release, bank-account, person-account, report. See
 * commands.h.
 *
 * They run in the foreground with the daemon's configuration (the same
 * environment variables) and connect what they need, blocking.
 */
#include "commands.h"

#include "close.h"
#include "period.h"
#include "persons.h"
#include "report.h"

#include "common/cli.h"
#include "common/kafka.h"
#include "common/log.h"
#include "common/pg.h"
#include "common/redis.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void commands_usage(FILE *out)
{
    fprintf(out,
            "usage: onecard-settlement                     the daemon\n"
            "       onecard-settlement close --period YYYY-MM|YYYY-MM-DD [--out DIR] [--wait S]\n"
            "                                [--early]  (before the period ends: what is posted\n"
            "                                in it afterwards goes to the next statement)\n"
            "       onecard-settlement release PROVIDER --period P --actor NAME\n"
            "       onecard-settlement bank-account PROVIDER ACCOUNT\n"
            "       onecard-settlement person-account PERSON ACCOUNT  (PERSON: 64 hex; close\n"
            "                                a month again to pay what it owes them unpaid)\n"
            "       onecard-settlement report --period YYYY-MM --format json|csv\n"
            "       (close also takes --format text|json)\n");
}

typedef struct commands_args {
    const char *period, *out, *actor, *format;
    long wait_s;
    bool early;
    int first; /* index of the first positional argument */
} commands_args;

static int commands_parse(int argc, char **argv, commands_args *a)
{
    static const struct option opts[] = {{"period", required_argument, NULL, 'p'},
                                         {"out", required_argument, NULL, 'o'},
                                         {"actor", required_argument, NULL, 'a'},
                                         {"format", required_argument, NULL, 'f'},
                                         {"wait", required_argument, NULL, 'w'},
                                         {"early", no_argument, NULL, 'e'},
                                         {NULL, 0, NULL, 0}};
    memset(a, 0, sizeof(*a));
    a->wait_s = 120;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'p':
            a->period = optarg;
            break;
        case 'o':
            a->out = optarg;
            break;
        case 'a':
            a->actor = optarg;
            break;
        case 'f':
            a->format = optarg;
            break;
        case 'e':
            a->early = true;
            break;
        case 'w':
            a->wait_s = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || a->wait_s < 0 || a->wait_s > 86400) {
                fprintf(stderr, "settlement: --wait \"%s\" is not 0..86400 seconds\n", optarg);
                return -1;
            }
            break;
        default:
            return -1;
        }
    }
    a->first = optind;
    return 0;
}

static PGconn *commands_pg(settlement_config *cfg)
{
    char err[512];
    PGconn *pg = pg_connect(cfg->d.pg_dsn, 3, 1000, NULL, err, sizeof(err));
    if (pg == NULL)
        fprintf(stderr, "settlement: %s\n", err);
    return pg;
}

static redisContext *commands_redis(settlement_config *cfg)
{
    char err[512];
    redisContext *rc =
        redis_sync_connect(cfg->d.redis_host, (int)cfg->d.redis_port, 5000, err, sizeof(err));
    if (rc == NULL)
        fprintf(stderr, "settlement: %s\n", err);
    return rc;
}

/* close --format json: the run's report lines (what the text form prints,
 * captured from stdout) in one object with the period, the exit code and
 * the outcome, so a script reads them without parsing prose. */
static int close_run_as(close_ctx *x, const char *period_text, cli_format fmt)
{
    if (fmt == CLI_FORMAT_TEXT)
        return close_run(x, period_text);
    FILE *tmp = tmpfile();
    int saved = tmp ? dup(STDOUT_FILENO) : -1;
    if (saved < 0) {
        fprintf(stderr, "settlement: close: cannot capture the report\n");
        if (tmp)
            fclose(tmp);
        return CLI_DEPENDENCY;
    }
    fflush(stdout);
    dup2(fileno(tmp), STDOUT_FILENO);
    int rc = close_run(x, period_text);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    rewind(tmp);
    static const char *const outcome[] = {"closed", "differences", "usage", "dependency_failed"};
    char esc[2048], line[2048];
    log_json_escape(esc, sizeof(esc), period_text);
    printf("{\"period\":\"%s\",\"exit\":%d,\"outcome\":\"%s\",\"held\":[", esc, rc,
           rc >= 0 && rc <= 3 ? outcome[rc] : "failed");
    int n = 0;
    while (fgets(line, sizeof(line), tmp)) { /* the holds, by name */
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "close: HELD ", 12) == 0) {
            log_json_escape(esc, sizeof(esc), line + 12);
            printf("%s\"%s\"", n++ ? "," : "", esc);
        }
    }
    printf("],\"lines\":[");
    rewind(tmp);
    n = 0;
    while (fgets(line, sizeof(line), tmp)) {
        line[strcspn(line, "\n")] = '\0';
        log_json_escape(esc, sizeof(esc), line);
        printf("%s\"%s\"", n++ ? "," : "", esc);
    }
    printf("]}\n");
    fclose(tmp);
    return rc;
}

static int commands_close(settlement_config *cfg, const commands_args *a)
{
    char err[512];
    if (a->period == NULL) {
        fprintf(stderr, "settlement: close needs --period YYYY-MM or YYYY-MM-DD\n");
        return CLI_USAGE;
    }
    cli_format fmt = CLI_FORMAT_TEXT;
    if (a->format && cli_format_parse(a->format, &fmt, err, sizeof(err)) < 0) {
        fprintf(stderr, "settlement: close: %s\n", err);
        return CLI_USAGE;
    }
    close_ctx x = {.cfg = cfg,
                   .out_dir = a->out ? a->out : cfg->payout_dir,
                   .wait_s = (int)a->wait_s,
                   .early = a->early};
    int rc = CLI_DEPENDENCY;
    x.pg = commands_pg(cfg);
    if (x.pg == NULL)
        goto out;
    x.redis = commands_redis(cfg);
    if (x.redis == NULL)
        goto out;
    x.producer = kafka_producer_new(cfg->d.kafka_brokers, "/onecard/settlement", NULL, 30000, NULL,
                                    err, sizeof(err));
    if (x.producer == NULL) {
        fprintf(stderr, "settlement: %s\n", err);
        goto out;
    }
    rc = close_run_as(&x, a->period, fmt);
out:
    if (x.producer)
        kafka_producer_free(x.producer, 5000);
    if (x.redis)
        redisFree(x.redis);
    if (x.pg)
        PQfinish(x.pg);
    return rc;
}

static int commands_release(settlement_config *cfg, int argc, char **argv, const commands_args *a)
{
    char err[512];
    period p;
    if (a->first >= argc || a->actor == NULL || a->actor[0] == '\0') {
        fprintf(stderr, "settlement: release needs PROVIDER --period P --actor NAME\n");
        return CLI_USAGE;
    }
    if (period_parse(a->period, &p, err, sizeof(err)) < 0) {
        fprintf(stderr, "settlement: release: %s\n", err);
        return CLI_USAGE;
    }
    char text[PERIOD_LEN];
    period_format(&p, text);
    PGconn *pg = commands_pg(cfg);
    if (pg == NULL)
        return CLI_DEPENDENCY;
    const char *params[] = {argv[a->first], text, a->actor};
    PGresult *r = pg_query(pg,
                           "UPDATE settlement_holds SET released_by = $3, released_at = now() "
                           "WHERE provider_id = $1 AND period = $2 AND released_at IS NULL AND "
                           "rule <> 'no_bank_account' RETURNING rule, detail",
                           3, params, err, sizeof(err));
    int rc = 0;
    if (r == NULL) {
        fprintf(stderr, "settlement: release: %s\n", err);
        rc = CLI_DEPENDENCY;
    } else if (PQntuples(r) == 0) {
        printf("release: %s has no open anomaly hold for %s (a missing bank account is lifted "
               "by bank-account)\n",
               argv[a->first], text);
        rc = 1;
    } else {
        for (int i = 0; i < PQntuples(r); i++)
            printf("release: %s %s released by %s (%s)\n", argv[a->first], PQgetvalue(r, i, 0),
                   a->actor, PQgetvalue(r, i, 1));
        printf("release: run close --period %s again to write its payout\n", text);
    }
    PQclear(r);
    PQfinish(pg);
    return rc;
}

static int commands_bank_account(settlement_config *cfg, int argc, char **argv,
                                 const commands_args *a)
{
    char err[512];
    if (a->first + 2 != argc) {
        fprintf(stderr, "settlement: bank-account needs PROVIDER ACCOUNT\n");
        return CLI_USAGE;
    }
    const char *prov = argv[a->first], *acct = argv[a->first + 1];
    if (prov[0] == '\0' || strlen(prov) > 64 || strpbrk(prov, " ,:|\"") != NULL) {
        fprintf(stderr, "settlement: bank-account: provider id \"%.64s\" is malformed\n", prov);
        return CLI_USAGE;
    }
    if (close_bank_account_ok(acct, err, sizeof(err)) < 0) {
        fprintf(stderr, "settlement: bank-account: %s\n", err);
        return CLI_USAGE;
    }
    PGconn *pg = commands_pg(cfg);
    if (pg == NULL)
        return CLI_DEPENDENCY;
    const char *params[] = {prov, acct};
    int rc = 0;
    if (pg_exec(pg,
                "WITH s AS (INSERT INTO settlement_bank_accounts (provider_id, bank_account) "
                "VALUES ($1, $2) ON CONFLICT (provider_id) DO UPDATE SET bank_account = "
                "EXCLUDED.bank_account, updated_at = now()) UPDATE settlement_holds SET "
                "released_by = 'bank-account', released_at = now() WHERE provider_id = $1 AND "
                "rule = 'no_bank_account' AND released_at IS NULL",
                2, params, err, sizeof(err)) < 0) {
        fprintf(stderr, "settlement: bank-account: %s\n", err);
        rc = CLI_DEPENDENCY;
    } else {
        printf("bank-account: %s set\n", prov);
    }
    PQfinish(pg);
    return rc;
}

static int commands_person_account(settlement_config *cfg, int argc, char **argv,
                                   const commands_args *a)
{
    char err[512];
    if (a->first + 2 != argc) {
        fprintf(stderr, "settlement: person-account needs PERSON ACCOUNT\n");
        return CLI_USAGE;
    }
    const char *person = argv[a->first], *acct = argv[a->first + 1];
    if (persons_account_args_ok(person, acct, err, sizeof(err)) < 0) {
        fprintf(stderr, "settlement: person-account: %s\n", err);
        return CLI_USAGE;
    }
    PGconn *pg = commands_pg(cfg);
    if (pg == NULL)
        return CLI_DEPENDENCY;
    int rc = 0;
    if (persons_set_account(pg, person, acct, err, sizeof(err)) < 0) {
        fprintf(stderr, "settlement: person-account: %s\n", err);
        rc = CLI_DEPENDENCY;
    }
    PQfinish(pg);
    return rc;
}

static int commands_report(settlement_config *cfg, const commands_args *a)
{
    PGconn *pg = commands_pg(cfg);
    if (pg == NULL)
        return CLI_DEPENDENCY;
    redisContext *rc = commands_redis(cfg);
    int code = CLI_DEPENDENCY;
    if (rc != NULL)
        code = report_run(pg, rc, a->period, a->format, stdout);
    if (rc)
        redisFree(rc);
    PQfinish(pg);
    return code;
}

int commands_run(int argc, char **argv, const config_var *table, settlement_config *cfg)
{
    char err[512];
    if (config_load(table, err, sizeof(err)) < 0) {
        fprintf(stderr, "settlement: %s\n", err);
        config_free(table);
        return CLI_USAGE;
    }
    if (log_setup(cfg->d.service_name, "warn", err, sizeof(err)) < 0) {
        fprintf(stderr, "settlement: %s\n", err);
        config_free(table);
        return CLI_USAGE;
    }
    commands_args a;
    int rc = CLI_USAGE;
    const char *cmd = argv[0];
    if (commands_parse(argc, argv, &a) < 0)
        commands_usage(stderr);
    else if (strcmp(cmd, "close") == 0)
        rc = commands_close(cfg, &a);
    else if (strcmp(cmd, "release") == 0)
        rc = commands_release(cfg, argc, argv, &a);
    else if (strcmp(cmd, "bank-account") == 0)
        rc = commands_bank_account(cfg, argc, argv, &a);
    else if (strcmp(cmd, "person-account") == 0)
        rc = commands_person_account(cfg, argc, argv, &a);
    else if (strcmp(cmd, "report") == 0)
        rc = commands_report(cfg, &a);
    else {
        fprintf(stderr, "settlement: unknown command \"%s\"\n", cmd);
        commands_usage(stderr);
    }
    fflush(stdout);
    config_free(table);
    return rc;
}
