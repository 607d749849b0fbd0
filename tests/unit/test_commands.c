/*
 * test_commands: the eligibility service's operator commands up to the
 * point where they would touch a store, table-driven: which row of the
 * command table the first words select, the names "unknown command"
 * lists, the usage lines the dispatcher prints (the text operators and the
 * end-to-end tests read), the checks of args.c with the exact message each
 * prints on stderr, and handlers that refuse their arguments before they
 * use the registry (so they run here with none).
 */
#include "check.h"

#include "ages.h"
#include "applications.h"
#include "attendance.h"
#include "args.h"
#include "bulk.h"
#include "cards.h"
#include "catload.h"
#include "commands.h"
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

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MAXW 24

/* ------------------------------------------------------ stderr capture */

static FILE *capture_file;
static int capture_saved = -1;

static void capture_begin(void)
{
    fflush(stderr);
    capture_file = tmpfile();
    capture_saved = dup(2);
    if (capture_file == NULL || capture_saved < 0 || dup2(fileno(capture_file), 2) < 0) {
        perror("capture");
        _exit(2);
    }
}

/* What was written to stderr since capture_begin (static buffer). */
static const char *capture_end(void)
{
    static char buf[2048];
    fflush(stderr);
    dup2(capture_saved, 2);
    close(capture_saved);
    rewind(capture_file);
    size_t n = fread(buf, 1, sizeof(buf) - 1, capture_file);
    buf[n] = '\0';
    fclose(capture_file);
    return buf;
}

/* argv from a NULL-terminated list of words (copied: handlers may keep
 * pointers into argv, never write to it, but argv is char **). */
static int words(char *argv[MAXW], char store[MAXW][128], const char *const *w)
{
    int n = 0;
    for (; n < MAXW && w[n]; n++) {
        snprintf(store[n], sizeof(store[n]), "%s", w[n]);
        argv[n] = store[n];
    }
    return n;
}

/* ------------------------------------------------------------ dispatch */

static void test_find(void)
{
    static const struct {
        const char *w[MAXW];
        commands_handler *expect; /* NULL: no row */
        bool offline;
    } rows[] = {
        {{"catalogue", "load", "f.tsv"}, catload_command, false},
        {{"catalogue"}, catload_command, false},
        {{"person", "add", "--name", "x"}, persons_add_command, false},
        {{"person", "modify", "P1"}, persons_modify_command, false},
        {{"person", "show", "P1"}, persons_show_command, false},
        {{"person", "eligible", "R02-AUTISM"}, persons_eligible_command, false},
        {{"person"}, NULL, false},
        {{"person", "delete", "P1"}, NULL, false},
        {{"card", "issue", "P1"}, cards_issue_command, false},
        {{"card", "reset-pin", "C"}, cards_reset_pin_command, false},
        {{"card", "freeze", "C"}, cards_freeze_command, false},
        {{"card", "unfreeze", "C"}, cards_unfreeze_command, false},
        {{"card", "replace", "C"}, cards_replace_command, false},
        {{"card", "burn", "C"}, NULL, false},
        /* provider and terminal take their second word, and need an id */
        {{"provider", "add", "P1"}, providers_command, false},
        {{"provider", "nope", "P1"}, providers_command, false},
        {{"provider", "add"}, NULL, false},
        {{"terminal", "disable", "T1"}, terminals_command, false},
        {{"terminal", "add"}, NULL, false},
        {{"import", "persons", "f.csv"}, bulk_command, false},
        {{"import"}, bulk_command, false},
        {{"import-feed", "f.csv"}, feedfile_command, false},
        {{"synth", "--persons", "1"}, synth_command, true},
        {{"rebuild-directory"}, rebuild_command, false},
        {{"issue", "--period", "2026-11"}, issue_command, false},
        {{"ages", "--actor", "x"}, ages_command, false},
        {{"operator", "add", "o1"}, operators_command, false},
        {{"operator", "login"}, NULL, false},
        {{"application", "submit", "P1"}, applications_command, false},
        {{"application", "queue"}, applications_command, false},
        {{"application"}, NULL, false},
        {{"quote", "submit", "P1"}, quotes_command, false},
        {{"quote", "approve", "QT-1"}, quotes_command, false},
        {{"quote"}, NULL, false},
        {{"reimburse", "record", "P1"}, reimburse_command, false},
        {{"reimburse", "list"}, reimburse_command, false},
        {{"reimburse"}, NULL, false},
        {{"attendance", "check"}, attendance_command, false},
        {{"attendance", "report", "F.csv"}, attendance_command, false},
        {{"attendance"}, NULL, false},
        {{"issues"}, NULL, false},
        {{"Person", "add"}, NULL, false},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char *argv[MAXW], store[MAXW][128];
        int argc = words(argv, store, rows[i].w);
        const commands_row *c = commands_find(argc, argv);
        CHECK((c ? c->run : NULL) == rows[i].expect, "%s %s", rows[i].w[0],
              rows[i].w[1] ? rows[i].w[1] : "");
        if (c)
            CHECK(c->offline == rows[i].offline, "%s offline", rows[i].w[0]);
    }
}

static void test_names_and_usage(void)
{
    char names[320];
    commands_names(names, sizeof(names));
    CHECK(strcmp(names, "catalogue, person, card, provider, terminal, import, import-feed, synth, "
                        "rebuild-directory, issue, ages, operator, application, quote, reimburse, "
                        "attendance") == 0,
          "%s", names);
    char small[12];
    commands_names(small, sizeof(small));
    CHECK(strcmp(small, "catalogue, ") == 0, "truncated: \"%s\"", small);

    /* the lines printed as "usage: ..." */
    static const struct {
        const char *w[MAXW];
        const char *usage;
    } rows[] = {
        {{"catalogue"},
         "catalogue load FILE [--effective YYYY-MM-DD] [--correction yes] [--actor A] | "
         "catalogue versions | catalogue show [--at YYYY-MM-DD] | catalogue diff V1 V2"},
        {{"person", "modify"},
         "person modify PERSON_ID [--grade G] [--evidence E] [--care-level L] [--household H] "
         "[--category C] [--status S] --effective YYYY-MM-DD --actor A"},
        {{"person", "show"}, "person show PERSON_ID [--private yes] [--format text|json]"},
        {{"card", "replace"},
         "card replace CARD_NO --reason lost|damaged|other [--pin PIN] [--wait SECONDS] --actor "
         "A"},
        {{"provider", "x", "P"}, "provider add|designate|suspend|reinstate ID ..."},
        {{"terminal", "x", "T"},
         "terminal add ID --provider P --actor A | terminal disable ID --actor A"},
        {{"import"},
         "import persons|providers FILE.csv [--since YYYY-MM-DD] [--issue-cards yes [--pin PIN]] "
         "[--encoding utf-8|gbk|gb18030] --actor A"},
        {{"import-feed"},
         "import-feed FILE.csv --source AGENCY --period YYYY-MM [--encoding utf-8|gbk|gb18030]"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char *argv[MAXW], store[MAXW][128];
        int argc = words(argv, store, rows[i].w);
        const commands_row *c = commands_find(argc, argv);
        CHECK(c && strcmp(c->usage, rows[i].usage) == 0, "%s: %s", rows[i].w[0],
              c ? c->usage : "(no row)");
    }
}

/* Handlers whose arguments are refused before the registry is used: the
 * exit code (or COMMANDS_USAGE) and exactly what they print. */
static void test_refusals(void)
{
    static const struct {
        commands_handler *run;
        const char *w[MAXW];
        int rc;
        const char *err;
    } rows[] = {
        {catload_command, {"load"}, COMMANDS_USAGE, ""},
        {catload_command, {"unload", "f.tsv"}, COMMANDS_USAGE, ""},
        {catload_command,
         {"load", "f.tsv", "--who", "x"},
         COMMANDS_USAGE,
         "eligibility: unknown option --who (allowed: actor,effective,correction)\n"},
        {catload_command,
         {"load", "f.tsv", "--effective", "2027-02-30"},
         1,
         "eligibility: --effective: date \"2027-02-30\" is not a real date\n"},
        {catload_command,
         {"load", "f.tsv", "--effective", "1999-12-31"},
         1,
         "eligibility: --effective 1999-12-31 is before 2000-01-01\n"},
        {catload_command,
         {"load", "f.tsv", "--correction", "maybe"},
         1,
         "eligibility: --correction must be yes or no\n"},
        {catload_command, {"versions", "extra"}, COMMANDS_USAGE, ""},
        {catload_command, {"diff", "1"}, COMMANDS_USAGE, ""},
        {catload_command,
         {"show", "--on", "2027-01-01"},
         COMMANDS_USAGE,
         "eligibility: unknown option --on (allowed: at)\n"},
        {persons_modify_command, {NULL}, COMMANDS_USAGE, ""},
        {persons_modify_command,
         {"P1", "--grade", "9", "--effective", "2026-11-01", "--actor", "x"},
         1,
         "eligibility: --grade \"9\" must be a whole number 1..4\n"},
        {persons_modify_command,
         {"P1", "--effective", "2026-11-01"},
         1,
         "eligibility: --actor is required\n"},
        {persons_modify_command,
         {"P1", "--household", "rich", "--effective", "2026-11-01", "--actor", "x"},
         1,
         "eligibility: unknown household, category or status\n"},
        {persons_modify_command,
         {"P1", "--effective", "2026-11-01", "--actor", "x"},
         1,
         "eligibility: nothing to modify\n"},
        {persons_modify_command,
         {"P1", "--evidence", "rumour", "--effective", "2026-11-01", "--actor", "x"},
         1,
         "eligibility: --evidence \"rumour\" is not certificate, assessment, diagnosis or "
         "suspected\n"},
        {persons_modify_command,
         {"P1", "--evidence", "suspected", "--grade", "2", "--effective", "2026-11-01", "--actor",
          "x"},
         1,
         "eligibility: --grade 2: evidence suspected carries no grade (give none, or 0)\n"},
        {persons_modify_command,
         {"P1", "--evidence", "certificate", "--effective", "2026-11-01", "--actor", "x"},
         1,
         "eligibility: --evidence certificate needs --grade 1..4 (the grade it carries)\n"},
        {persons_show_command, {"P1", "P2"}, COMMANDS_USAGE, ""},
        {persons_eligible_command, {"R02-AUTISM", "R03"}, COMMANDS_USAGE, ""},
        {persons_eligible_command,
         {"R02-AUTISM", "--format", "xml"},
         COMMANDS_USAGE,
         "eligibility: --format \"xml\" is neither text nor json\n"},
        {persons_eligible_command,
         {"R02-AUTISM", "--limit", "0"},
         COMMANDS_USAGE,
         "eligibility: --limit \"0\" must be a whole number 1..1000000\n"},
        {persons_add_command, {"--national-id", "x"}, 1, "eligibility: --name is required\n"},
        {persons_add_command,
         {"--national-id", "x",          "--name",      "n",    "--category",   "speech",
          "--birth",       "2025-01-01", "--district",  "d",    "--town",       "t",
          "--village",     "v",          "--household", "none", "--actor",      "a",
          "--evidence",    "diagnosis",  "--grade",     "3",    "--care-level", "0"},
         1,
         "eligibility: --grade 3: evidence diagnosis carries no grade (give none, or 0)\n"},
        {cards_issue_command, {NULL}, 1, ""},
        {cards_issue_command,
         {"P1", "--pin", "12345", "--actor", "x"},
         1,
         "eligibility: --pin must be 6 digits\n"},
        {cards_freeze_command,
         {"4111111111111112", "--reason", "r", "--actor", "x"},
         1,
         "eligibility: card number 4111111111111112 fails the Luhn check or is not 16-19 "
         "digits\n"},
        {cards_replace_command, {NULL}, COMMANDS_USAGE, ""},
        {cards_replace_command,
         {"4111111111111111", "--reason", "stolen", "--actor", "x"},
         1,
         "eligibility: --reason stolen is not lost, damaged or other\n"},
        {cards_reset_pin_command, {"C", "--actor", "x"}, 1, "eligibility: --pin is required\n"},
        {providers_command, {"nope", "P1", "--actor", "x"}, COMMANDS_USAGE, ""},
        {providers_command, {"add", "P1", "--name", "n"}, 1, "eligibility: --actor is required\n"},
        {terminals_command, {"nope", "T1", "--actor", "x"}, COMMANDS_USAGE, ""},
        {bulk_command, {"persons", "--actor", "x"}, COMMANDS_USAGE, ""},
        {bulk_command, {"persons", "f.csv"}, COMMANDS_USAGE, "eligibility: --actor is required\n"},
        {bulk_command,
         {"persons", "f.csv", "--since", "2099-01-01", "--actor", "x"},
         1,
         "eligibility: --since 2099-01-01 is not a date up to today\n"},
        {bulk_command,
         {"persons", "f.csv", "--encoding", "latin1", "--actor", "x"},
         1,
         "eligibility: --encoding \"latin1\" is not utf-8, gbk or gb18030\n"},
        {feedfile_command,
         {"f.csv", "--period", "2026-11"},
         1,
         "eligibility: --source is required\n"},
        {feedfile_command,
         {"f.csv", "--source", "s", "--period", "2026-11", "--encoding", "big5"},
         1,
         "eligibility: --encoding \"big5\" is not utf-8, gbk or gb18030\n"},
        {issue_command, {"--actor", "x"}, 1, "eligibility: --period is required\n"},
        {issue_command, {"extra", "--period", "2026-11"}, 1, ""},
        {ages_command, {"--day", "2026-11-30"}, 1, "eligibility: --actor is required\n"},
        {ages_command,
         {"--day", "2026-02-30", "--actor", "x"},
         1,
         "eligibility: --day: date \"2026-02-30\" is not a real date\n"},
        {ages_command,
         {"--day", "tomorrow", "--actor", "x"},
         1,
         "eligibility: --day: date \"tomorrow\" is not YYYY-MM-DD\n"},
        {ages_command, {"extra", "--actor", "x"}, COMMANDS_USAGE, ""},
        {synth_command,
         {"--persons", "x", "--providers", "1", "--seed", "1", "--out", "/tmp"},
         1,
         "eligibility: --persons \"x\" must be a whole number 0..10000000\n"},
        {synth_command,
         {"--persons", "1", "--providers", "1", "--seed", "1"},
         1,
         "eligibility: --out is required\n"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char *argv[MAXW], store[MAXW][128];
        int argc = words(argv, store, rows[i].w);
        capture_begin();
        int rc = rows[i].run(NULL, argc, argv);
        const char *err = capture_end();
        CHECK(rc == rows[i].rc, "row %zu: rc %d", i, rc);
        CHECK(strcmp(err, rows[i].err) == 0, "row %zu: \"%s\"", i, err);
    }
}

/* ---------------------------------------------------------------- args */

static void test_check(void)
{
    static const struct {
        const char *w[MAXW];
        const char *allowed;
        int npos;
        const char *err;
    } rows[] = {
        {{NULL}, "actor", 0, ""},
        {{"P1", "--grade", "2", "--actor", "a"}, "grade,actor", 1, ""},
        {{"persons", "f.csv", "--actor", "a"}, "since,actor", 2, ""},
        {{"--foo", "x"}, "grade", -1, "eligibility: unknown option --foo (allowed: grade)\n"},
        {{"--gra", "x"}, "grade", -1, "eligibility: unknown option --gra (allowed: grade)\n"},
        {{"P1", "--grade"}, "grade", -1, "eligibility: option --grade needs a value\n"},
        {{"P1", "--grade", "2", "stray"},
         "grade",
         -1,
         "eligibility: unexpected argument \"stray\"\n"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char *argv[MAXW], store[MAXW][128];
        int argc = words(argv, store, rows[i].w);
        capture_begin();
        int npos = args_check(argc, argv, rows[i].allowed);
        const char *err = capture_end();
        CHECK(npos == rows[i].npos, "row %zu: %d", i, npos);
        CHECK(strcmp(err, rows[i].err) == 0, "row %zu: \"%s\"", i, err);
    }

    char *argv[MAXW], store[MAXW][128];
    static const char *const w[] = {"P1", "--a", "1", "--b", "2", "--c", NULL};
    int argc = words(argv, store, w);
    CHECK(args_opt(argc, argv, "b") && strcmp(args_opt(argc, argv, "b"), "2") == 0, "--b");
    CHECK(args_opt(argc, argv, "c") == NULL, "--c has no value");
    CHECK(args_opt(argc, argv, "d") == NULL, "--d is absent");
}

static void test_values(void)
{
    static const struct {
        const char *v;
        int lo, hi, rc, out;
        const char *err;
    } ints[] = {
        {"4", 1, 4, 0, 4, ""},
        {"0", 0, 3, 0, 0, ""},
        {"9", 1, 4, -1, 0, "eligibility: --n \"9\" must be a whole number 1..4\n"},
        {"2x", 1, 4, -1, 0, "eligibility: --n \"2x\" must be a whole number 1..4\n"},
        {"", 1, 4, -1, 0, "eligibility: --n \"\" must be a whole number 1..4\n"},
        {NULL, 1, 4, -1, 0, "eligibility: --n \"\" must be a whole number 1..4\n"},
    };
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        int out = -7;
        capture_begin();
        int rc = args_int(ints[i].v, "n", ints[i].lo, ints[i].hi, &out);
        const char *err = capture_end();
        CHECK(rc == ints[i].rc && (rc < 0 || out == ints[i].out), "int row %zu", i);
        CHECK(strcmp(err, ints[i].err) == 0, "int row %zu: \"%s\"", i, err);
    }

    static const struct {
        int (*check)(const char *);
        const char *v;
        int rc;
        const char *err;
    } one[] = {
        {args_pin, "123456", 0, ""},
        {args_pin, "12345", -1, "eligibility: --pin must be 6 digits\n"},
        {args_pin, "12345a", -1, "eligibility: --pin must be 6 digits\n"},
        {args_pin, "1234567", -1, "eligibility: --pin must be 6 digits\n"},
        {args_card, "4111111111111111", 0, ""},
        {args_card, "411111111111111", -1,
         "eligibility: card number 411111111111111 fails the Luhn check or is not 16-19 "
         "digits\n"},
    };
    for (size_t i = 0; i < sizeof(one) / sizeof(one[0]); i++) {
        capture_begin();
        int rc = one[i].check(one[i].v);
        const char *err = capture_end();
        CHECK(rc == one[i].rc, "row %zu: %d", i, rc);
        CHECK(strcmp(err, one[i].err) == 0, "row %zu: \"%s\"", i, err);
    }

    capture_begin();
    int rc = args_need(NULL, "actor") + args_need("", "actor") + args_need("a", "actor");
    const char *err = capture_end();
    CHECK(rc == -2, "%d", rc);
    CHECK(strcmp(err, "eligibility: --actor is required\neligibility: --actor is required\n") == 0,
          "\"%s\"", err);

    static const char *const names[] = {"lost", "damaged", NULL};
    CHECK(args_one_of("lost", names) && !args_one_of("los", names) && !args_one_of("", names),
          "one_of");
}

int main(void)
{
    test_find();
    test_names_and_usage();
    test_refusals();
    test_check();
    test_values();
    return CHECK_DONE();
}
