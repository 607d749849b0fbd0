/*
 * Unit tests of cli (the command line of every binary) and progress (the
 * bar of long commands): what each argv decides, one row per case, and the
 * bar's text.
 */
#include "check.h"
#include "common/cli.h"
#include "common/progress.h"

#include <string.h>

static int ran;

static int t_run(int argc, char **argv)
{
    ran++;
    return strcmp(argv[0], "fails") == 0 ? CLI_DEPENDENCY : CLI_OK;
}

static const cli_command t_commands[] = {
    {"reconcile", "check", "reconcile [--format text|json]", t_run},
    {"fails", "fails", "fails", t_run},
    {NULL, NULL, NULL, NULL},
};

int main(void)
{
    const cli_program daemon = {"onecard-test", "a test", true, t_commands, NULL};
    const cli_program tool = {"onecard-tool", "a tool", false, t_commands, NULL};
    static const struct {
        bool daemon;
        const char *argv[4];
        int want;
        int runs; /* handler calls */
    } rows[] = {
        {true, {NULL}, CLI_DAEMON, 0},
        {true, {"serve"}, CLI_DAEMON, 0},
        {true, {"serve", "x"}, CLI_USAGE, 0},
        {true, {"--version"}, CLI_OK, 0},
        {true, {"--help"}, CLI_OK, 0},
        {true, {"-h"}, CLI_OK, 0},
        {true, {"help", "reconcile"}, CLI_OK, 0},
        {true, {"help", "nope"}, CLI_USAGE, 0},
        {true, {"--print-config-names"}, CLI_OK, 0},
        {true, {"--versio"}, CLI_USAGE, 0},
        {true, {"-x"}, CLI_USAGE, 0},
        {true, {"nope"}, CLI_USAGE, 0},
        {true, {"Reconcile"}, CLI_USAGE, 0},
        {true, {"reconcile"}, CLI_OK, 1},
        {true, {"reconcile", "--help"}, CLI_OK, 0},
        {true, {"reconcile", "-h"}, CLI_OK, 0},
        {true, {"reconcile", "--format", "--help"}, CLI_OK, 0},
        {true, {"fails"}, CLI_DEPENDENCY, 1},
        {false, {NULL}, CLI_USAGE, 0},
        {false, {"serve"}, CLI_USAGE, 0},
        {false, {"reconcile"}, CLI_OK, 1},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char *argv[6] = {"onecard-test"};
        int argc = 1;
        for (int k = 0; k < 4 && rows[i].argv[k]; k++)
            argv[argc++] = (char *)rows[i].argv[k];
        ran = 0;
        int rc = cli_main(rows[i].daemon ? &daemon : &tool, argc, argv);
        CHECK(rc == rows[i].want && ran == rows[i].runs, "row %zu (%s): rc %d, %d runs", i,
              rows[i].argv[0] ? rows[i].argv[0] : "", rc, ran);
    }
    CHECK(cli_find(&daemon, "fails") == &t_commands[1], "cli_find");
    CHECK(cli_find(&daemon, "") == NULL, "cli_find empty");

    cli_format f = CLI_FORMAT_TEXT;
    char err[128];
    CHECK(cli_format_parse("json", &f, err, sizeof(err)) == 0 && f == CLI_FORMAT_JSON, "json");
    CHECK(cli_format_parse("text", &f, err, sizeof(err)) == 0 && f == CLI_FORMAT_TEXT, "text");
    CHECK(cli_format_parse("csv", &f, err, sizeof(err)) < 0 && strstr(err, "csv"), "csv: %s", err);

    /* the bar: done/total, percent, rate, elapsed and ETA */
    static const struct {
        int64_t done, total, ms;
        const char *want;
    } bars[] = {
        {0, 100, 0, "x [........................] 0/100   0% 0/s, 0:00 elapsed, ETA ?"},
        {50, 100, 10000, "x [############............] 50/100  50% 5/s, 0:10 elapsed, ETA 0:10"},
        {100, 100, 20000, "x [########################] 100/100 100% 5/s, 0:20 elapsed, ETA 0:00"},
        {1000, 1000000, 1000,
         "x [........................] 1000/1000000   0% 1000/s, 0:01 elapsed, ETA 16:39"},
        {1000, 3601000, 1000,
         "x [........................] 1000/3601000   0% 1000/s, 0:01 elapsed, ETA 1:00:00"},
        {42, 0, 2000, "x 42, 21/s, 0:02"},
    };
    for (size_t i = 0; i < sizeof(bars) / sizeof(bars[0]); i++) {
        char buf[256];
        progress_format(buf, sizeof(buf), "x", bars[i].done, bars[i].total, bars[i].ms);
        CHECK(strcmp(buf, bars[i].want) == 0, "bar %zu: \"%s\"", i, buf);
    }
    /* not a terminal: nothing is drawn, and the calls are harmless */
    progress p;
    progress_start(&p, "x", 10);
    progress_update(&p, 5);
    progress_done(&p);
    return CHECK_DONE();
}
