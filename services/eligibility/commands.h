/*
 * commands: the dispatcher of the operator commands, run by the daemon's
 * binary (onecard-eligibility COMMAND [SUB] ARGS...) with the daemon's
 * environment. The configuration is loaded, the registry's connections are
 * opened (registry.h; synth needs none), and the command is the row of the
 * table in commands.c that its first words select. That table is the one
 * list of what the binary does: each row's words, its handler (in the file
 * of its subsystem: persons.c, cards.c, providers.c, terminals.c,
 * catload.c, bulk.c, feedfile.c, synth.c, rebuild.c, issue.c) and its
 * usage line.
 *
 * The binary's command line (common/cli.h) is built from the same table
 * (commands_cli): `onecard-eligibility --help` lists each name with its
 * summary, `NAME --help` prints the usage lines of its rows.
 *
 * A handler checks its arguments before it touches anything (args.h) and
 * returns the exit code (common/cli.h): CLI_OK, CLI_REFUSED when the input
 * is refused (the reason on stderr, nothing changed), CLI_DEPENDENCY when a
 * dependency failed. When the arguments do not fit it may return
 * COMMANDS_USAGE instead: the dispatcher then prints the row's usage line
 * and exits CLI_USAGE, as it does, before connecting anything, for words
 * no row matches. Blocking; one thread.
 */
#ifndef ELIG_COMMANDS_H
#define ELIG_COMMANDS_H

#include "registry.h"

#include "common/cli.h"
#include "common/config.h"

#include <stdbool.h>
#include <stddef.h>

#define COMMANDS_USAGE (-1)

/* A command: argv holds what follows the words its row matched. r is NULL
 * for a row that runs offline. Returns the exit code or COMMANDS_USAGE. */
typedef int commands_handler(registry *r, int argc, char **argv);

typedef struct commands_row {
    const char *name;      /* argv[0] */
    const char *sub;       /* argv[1]; NULL: the handler reads it (it is argv[0] there) */
    int min_argc;          /* a row for argc of at least this many words */
    bool offline;          /* runs without the registry's connections */
    commands_handler *run; /* in the subsystem's file */
    const char *usage;     /* printed as "usage: ..." on COMMANDS_USAGE */
    const char *summary;   /* --help's line, on the first row of a name */
} commands_row;

/* Runs argv (argc >= 1) as a command. Returns the process exit code. */
int commands_run(int argc, char **argv, const config_var *table, elig_config *cfg);

/* The command line's table (common/cli.h): one row per name, in table
 * order, with its summary and its rows' usage lines; run is every row's
 * handler (it calls commands_run). Built once; static storage. */
const cli_command *commands_cli(cli_handler *run);

/* The row that argv (argc >= 1) selects, or NULL. Pure; exposed for
 * tests. */
const commands_row *commands_find(int argc, char **argv);

/* The command names, each once in table order, joined by ", " into buf
 * (truncated to len). Pure; exposed for tests. */
void commands_names(char *buf, size_t len);

#endif
