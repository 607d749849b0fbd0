/*
 * commands: the table of operator commands and the dispatcher. See
 * commands.h.
 *
 * A row is chosen by the command's name and, where the row names one, its
 * second word; provider and terminal take their second word themselves (an
 * unknown one gets their usage line, not "unknown command"), and only with
 * an id after it. The names listed by "unknown command" are the table's,
 * in its order. Words that no row matches are a usage error (exit
 * CLI_USAGE, the name's usage lines printed) before anything is connected;
 * synth, the one offline row, runs without the connections.
 */
#include "commands.h"

#include "ages.h"
#include "applications.h"
#include "attendance.h"
#include "bulk.h"
#include "cards.h"
#include "catload.h"
#include "feedfile.h"
#include "issue.h"
#include "operators.h"
#include "persons.h"
#include "providers.h"
#include "quotes.h"
#include "rebuild.h"
#include "reimburse.h"
#include "synth.h"
#include "terminals.h"

#include "common/cli.h"

#include <stdio.h>
#include <string.h>

/* The rows of one name stand together (commands_names lists each once). */
static const commands_row commands_table[] = {
    {.name = "catalogue",
     .summary = "载入、比较服务目录版本 / load, list, show and compare the catalogue versions",
     .run = catload_command,
     .usage = "catalogue load FILE [--effective YYYY-MM-DD] [--correction yes] [--actor A] | "
              "catalogue versions | catalogue show [--at YYYY-MM-DD] | catalogue diff V1 V2"},
    {.name = "person",
     .sub = "add",
     .summary = "人员：登记、修改、查看、可享项目 / persons: add, modify, show, eligible",
     .run = persons_add_command,
     .usage = "person add --national-id ID --name N --category C [--evidence E] --grade G "
              "--care-level L --birth YYYY-MM-DD --district D --town T --village V --household H "
              "[--phone P] [--since YYYY-MM-DD] --actor A"},
    {.name = "person",
     .sub = "modify",
     .run = persons_modify_command,
     .usage = "person modify PERSON_ID [--grade G] [--evidence E] [--care-level L] "
              "[--household H] [--category C] [--status S] --effective YYYY-MM-DD --actor A"},
    {.name = "person",
     .sub = "show",
     .run = persons_show_command,
     .usage = "person show PERSON_ID [--private yes] [--format text|json]"},
    {.name = "person",
     .sub = "eligible",
     .run = persons_eligible_command,
     .usage = "person eligible ITEM [--limit N] [--after CURSOR] [--format json]"},
    {.name = "card",
     .sub = "reset-pin",
     .summary = "卡：发卡、补卡、挂失、解冻、重置密码 / cards: issue, replace, freeze, unfreeze, "
                "reset-pin",
     .run = cards_reset_pin_command,
     .usage = "card reset-pin CARD_NO --pin PIN --actor A"},
    {.name = "card",
     .sub = "issue",
     .run = cards_issue_command,
     .usage = "card issue PERSON_ID [--pin PIN] --actor A"},
    {.name = "card",
     .sub = "replace",
     .run = cards_replace_command,
     .usage = "card replace CARD_NO --reason lost|damaged|other [--pin PIN] [--wait SECONDS] "
              "--actor A"},
    {.name = "card",
     .sub = "freeze",
     .run = cards_freeze_command,
     .usage = "card freeze CARD_NO --reason R --actor A"},
    {.name = "card",
     .sub = "unfreeze",
     .run = cards_unfreeze_command,
     .usage = "card unfreeze CARD_NO --reason R --actor A"},
    {.name = "provider",
     .summary = "服务商 / providers: add, designate, suspend, reinstate",
     .min_argc = 3,
     .run = providers_command,
     .usage = "provider add|designate|suspend|reinstate ID ..."},
    {.name = "terminal",
     .summary = "终端 / terminals: add, disable",
     .min_argc = 3,
     .run = terminals_command,
     .usage = "terminal add ID --provider P --actor A | terminal disable ID --actor A"},
    {.name = "import",
     .summary = "批量导入人员或服务商 / import persons or providers from a CSV file",
     .run = bulk_command,
     .usage = "import persons|providers FILE.csv [--since YYYY-MM-DD] [--issue-cards yes [--pin "
              "PIN]] [--encoding utf-8|gbk|gb18030] --actor A"},
    {.name = "import-feed",
     .summary = "导入部门数据文件 / publish an agency feed file",
     .run = feedfile_command,
     .usage = "import-feed FILE.csv --source AGENCY --period YYYY-MM [--encoding "
              "utf-8|gbk|gb18030]"},
    {.name = "synth",
     .summary = "生成测试数据（离线） / synthesize test data (offline)",
     .offline = true,
     .run = synth_command,
     .usage = "synth --persons N --providers M --seed S --out DIR"},
    {.name = "rebuild-directory",
     .summary = "重建 Redis 目录 / rebuild the Redis directory from the registry",
     .run = rebuild_command,
     .usage = "rebuild-directory"},
    {.name = "issue",
     .summary = "按月发放额度 / issue a month's entitlements (top-ups)",
     .run = issue_command,
     .usage = "issue --period YYYY-MM [--actor A]"},
    {.name = "ages",
     .summary = "年龄变更扫描 / the age sweep (birthdays that change entitlements)",
     .run = ages_command,
     .usage = "ages [--day YYYY-MM-DD] --actor A"},
    {.name = "operator",
     .summary = "操作员：新增、登录、令牌 / operators: add, login, token",
     .min_argc = 3,
     .run = operators_command,
     .usage = "operator add ID --role R --area A --actor X (the password on stdin) | operator "
              "login ID (the password on stdin) | operator token ID --days N --label L --actor X"},
    {.name = "application",
     .summary = "申请与审核 / applications: submit, decide, queue, show, sweep",
     .min_argc = 2,
     .run = applications_command,
     .usage = "application submit PERSON_ID --items A,B [--agent-relation R --agent-id ID] "
              "--actor A | application resubmit ID --actor A | application decide ID --decision "
              "pass|reject|return [--reason R] --session T | application queue --session T | "
              "application show ID --session T | application sweep --actor A"},
    {.name = "quote",
     .summary = "报价审批 / quotes: submit, approve, reject, list",
     .min_argc = 2,
     .run = quotes_command,
     .usage = "quote submit PERSON_ID --item I --provider P --amount FEN --reference R --actor A "
              "| quote approve QUOTE_ID --actor A | quote reject QUOTE_ID --reason R --actor A | "
              "quote list [--person P] [--state S]"},
    {.name = "reimburse",
     .summary = "报销登记 / reimbursements: record, list",
     .min_argc = 2,
     .run = reimburse_command,
     .usage = "reimburse record PERSON_ID --item I --amount FEN --invoice REF --paid-on "
              "YYYY-MM-DD --actor A | reimburse list [--person P]"},
    {.name = "attendance",
     .summary = "在训核查 / training attendance: check, report, paused",
     .min_argc = 2,
     .run = attendance_command,
     .usage = "attendance check [--as-of YYYY-MM-DD] [--person P] [--actor A] | attendance report "
              "FILE.csv "
              "[--actor A] | attendance paused [--format json]"},
};

#define COMMANDS_N (sizeof(commands_table) / sizeof(commands_table[0]))

const commands_row *commands_find(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "";
    for (size_t i = 0; i < COMMANDS_N; i++) {
        const commands_row *c = &commands_table[i];
        if (strcmp(argv[0], c->name) == 0 && (c->sub == NULL || strcmp(sub, c->sub) == 0) &&
            argc >= c->min_argc)
            return c;
    }
    return NULL;
}

void commands_names(char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < COMMANDS_N && n < len; i++) {
        if (i > 0 && strcmp(commands_table[i].name, commands_table[i - 1].name) == 0)
            continue; /* the rows of one name are next to each other */
        n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "", commands_table[i].name);
    }
}

const cli_command *commands_cli(cli_handler *run)
{
    static cli_command table[COMMANDS_N + 1];
    static char usage[COMMANDS_N][1536];
    size_t n = 0;
    for (size_t i = 0; i < COMMANDS_N; i++) {
        const commands_row *c = &commands_table[i];
        if (n > 0 && strcmp(table[n - 1].name, c->name) == 0) { /* another row of the name */
            size_t len = strlen(usage[n - 1]);
            snprintf(usage[n - 1] + len, sizeof(usage[0]) - len, "\n%s", c->usage);
            continue;
        }
        snprintf(usage[n], sizeof(usage[0]), "%s", c->usage);
        table[n] = (cli_command){c->name, c->summary, usage[n], run};
        n++;
    }
    table[n] = (cli_command){NULL, NULL, NULL, NULL};
    return table;
}

/* Runs the row's handler on what follows its words. */
static int commands_call(const commands_row *c, registry *r, int argc, char **argv)
{
    int words = c->sub ? 2 : 1;
    int rc = c->run(r, argc - words, argv + words);
    if (rc == COMMANDS_USAGE) {
        registry_fail("usage: %s", c->usage);
        rc = CLI_USAGE;
    }
    return rc;
}

int commands_run(int argc, char **argv, const config_var *table, elig_config *cfg)
{
    char err[512];
    const commands_row *c = commands_find(argc, argv);
    if (c == NULL) { /* a usage error: nothing is connected */
        char names[256];
        commands_names(names, sizeof(names));
        registry_fail("unknown command \"%s %s\" (%s)", argv[0], argc > 1 ? argv[1] : "", names);
        for (size_t i = 0; i < COMMANDS_N; i++)
            if (strcmp(commands_table[i].name, argv[0]) == 0)
                registry_fail("usage: %s", commands_table[i].usage);
        return CLI_USAGE;
    }
    if (config_load(table, err, sizeof(err)) < 0) {
        registry_fail("%s", err);
        config_free(table);
        return CLI_USAGE;
    }
    registry r;
    int rc;
    if (c->offline) {
        rc = commands_call(c, NULL, argc, argv);
    } else if (registry_open(&r, cfg, REG_REDIS | REG_KAFKA) < 0) {
        registry_close(&r);
        rc = CLI_DEPENDENCY;
    } else {
        rc = commands_call(c, &r, argc, argv);
        registry_close(&r);
    }
    config_free(table);
    return rc;
}
