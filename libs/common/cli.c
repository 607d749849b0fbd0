/*
 * cli: dispatch, help and usage errors of every binary. See cli.h.
 *
 * The first argument decides everything before any configuration is read:
 * no argument or `serve` is the daemon; `--help`, `--version` and
 * `--print-config-names` print and exit; a word in the command table is
 * that command (`--help` anywhere after it prints its usage instead); any
 * other word or option is a usage error. So a typo never starts a daemon
 * that would join the live consumer group.
 */
#include "common/cli.h"

#include <stdio.h>
#include <string.h>

const cli_command *cli_find(const cli_program *p, const char *name)
{
    if (p->commands == NULL || name == NULL)
        return NULL;
    for (const cli_command *c = p->commands; c->name != NULL; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

/* Each line of a command's usage, prefixed with the binary's name. */
static void cli_usage_lines(const cli_program *p, const cli_command *c, FILE *out,
                            const char *first, const char *next)
{
    const char *s = c->usage ? c->usage : c->name;
    const char *lead = first;
    while (*s) {
        const char *nl = strchr(s, '\n');
        int n = nl ? (int)(nl - s) : (int)strlen(s);
        fprintf(out, "%s%s %.*s\n", lead, p->name, n, s);
        lead = next;
        s += n + (nl ? 1 : 0);
    }
}

void cli_help(const cli_program *p, FILE *out)
{
    fprintf(out, "%s: %s\n\n用法 / usage:\n", p->name, p->summary);
    if (p->daemon)
        fprintf(out, "  %s [%s]   启动守护进程 / run the daemon\n", p->name, CLI_SERVE);
    if (p->commands && p->commands[0].name) {
        fprintf(out, "  %s COMMAND [ARGS...]   运行一条命令 / run an operator command\n", p->name);
        fprintf(out, "  %s COMMAND --help      命令用法 / a command's usage\n", p->name);
    }
    fprintf(out, "  %s --help | --version | --print-config-names\n", p->name);
    if (p->commands && p->commands[0].name) {
        fprintf(out, "\n命令 / commands:\n");
        for (const cli_command *c = p->commands; c->name != NULL; c++)
            fprintf(out, "  %-20s %s\n", c->name, c->summary ? c->summary : "");
    }
    fprintf(out,
            "\n退出码 / exit codes: %d 成功 ok, %d 拒绝或发现差异 refused or differences "
            "found, %d 用法错误 usage, %d 依赖失败 a dependency failed\n",
            CLI_OK, CLI_REFUSED, CLI_USAGE, CLI_DEPENDENCY);
    if (p->config) {
        fprintf(out, "\n环境变量 / configuration comes from the environment:\n");
        for (const config_var *v = p->config; v->name != NULL; v++)
            fprintf(out, "  %-28s %s (default: %s)\n", v->name, v->help,
                    v->def ? (v->def[0] ? v->def : "\"\"") : "required");
    }
}

/* COMMAND --help: its usage lines, then its summary. */
static int cli_command_help(const cli_program *p, const cli_command *c)
{
    cli_usage_lines(p, c, stdout, "usage: ", "       ");
    if (c->summary)
        printf("%s\n", c->summary);
    return CLI_OK;
}

static int cli_usage_error(const cli_program *p, const char *what)
{
    fprintf(stderr, "%s: %s\n%s --help 列出命令 / lists the commands\n", p->name, what, p->name);
    return CLI_USAGE;
}

static int cli_unknown(const cli_program *p, const char *kind, const char *word)
{
    char what[256];
    snprintf(what, sizeof(what), "%s \"%.128s\"", kind, word);
    return cli_usage_error(p, what);
}

int cli_main(const cli_program *p, int argc, char **argv)
{
    if (argc < 2)
        return p->daemon ? CLI_DAEMON : cli_usage_error(p, "需要一条命令 / a command is needed");
    const char *a = argv[1];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 || strcmp(a, "help") == 0) {
        if (argc > 2 && strcmp(a, "help") == 0) {
            const cli_command *c = cli_find(p, argv[2]);
            if (c == NULL)
                return cli_unknown(p, "未知命令 / unknown command", argv[2]);
            return cli_command_help(p, c);
        }
        cli_help(p, stdout);
        return CLI_OK;
    }
    if (strcmp(a, "--version") == 0) {
        printf("%s %s\n", p->name, ONECARD_VERSION);
        return CLI_OK;
    }
    if (strcmp(a, "--print-config-names") == 0) {
        for (const config_var *v = p->config; v && v->name != NULL; v++)
            printf("%s\n", v->name);
        return CLI_OK;
    }
    if (p->daemon && strcmp(a, CLI_SERVE) == 0) {
        if (argc > 2)
            return cli_unknown(p, CLI_SERVE " 不带参数 / serve takes no argument, given", argv[2]);
        return CLI_DAEMON;
    }
    if (a[0] == '-')
        return cli_unknown(p, "未知选项 / unknown option", a);
    const cli_command *c = cli_find(p, a);
    if (c == NULL)
        return cli_unknown(p, "未知命令 / unknown command", a);
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || (i == 2 && strcmp(argv[i], "-h") == 0))
            return cli_command_help(p, c);
    }
    int rc = c->run(argc - 1, argv + 1);
    fflush(stdout);
    return rc;
}

int cli_format_parse(const char *text, cli_format *f, char *err, size_t errlen)
{
    if (strcmp(text, "text") == 0)
        *f = CLI_FORMAT_TEXT;
    else if (strcmp(text, "json") == 0)
        *f = CLI_FORMAT_JSON;
    else {
        snprintf(err, errlen, "--format \"%.20s\" is neither text nor json", text);
        return -1;
    }
    return 0;
}
