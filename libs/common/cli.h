/*
 * cli: the one command-line convention of every onecard binary.
 *
 *   onecard-X                    the daemon (as `onecard-X serve`)
 *   onecard-X serve              the daemon, said explicitly
 *   onecard-X COMMAND ARGS...    an operator command, in the foreground
 *   onecard-X --help             the daemon verb, every command with its
 *                                summary, the environment variables
 *   onecard-X COMMAND --help     that command's usage
 *   onecard-X --version          the version
 *   onecard-X --print-config-names  the environment variables the binary
 *                                reads, one a line (for compose_check)
 *
 * Anything else (an unknown option, an unknown command, an argument after
 * `serve`) is a usage error: named on stderr, exit CLI_USAGE, and nothing
 * is started or connected. A command runs with the daemon's environment
 * and never opens the admin port, so it runs beside its daemon.
 *
 * Exit codes, the same for every command of every binary: CLI_OK,
 * CLI_REFUSED (the input was refused, or a check found differences),
 * CLI_USAGE (the arguments do not fit), CLI_DEPENDENCY (Kafka, Redis or
 * PostgreSQL unreachable or failing).
 */
#ifndef ONECARD_CLI_H
#define ONECARD_CLI_H

#include "common/config.h"

#include <stdbool.h>
#include <stdio.h>

#define CLI_OK         0
#define CLI_REFUSED    1
#define CLI_USAGE      2
#define CLI_DEPENDENCY 3
#define CLI_DAEMON     (-1) /* cli_main: start the daemon */

#define CLI_SERVE "serve"

#ifndef ONECARD_VERSION
#define ONECARD_VERSION "0.1.0"
#endif

/* A command: argv[0] is its name. Returns a CLI_* exit code. */
typedef int cli_handler(int argc, char **argv);

typedef struct cli_command {
    const char *name;    /* argv[1] of the binary */
    const char *summary; /* one line for --help: 中文 / English */
    const char *usage;   /* what follows "usage: onecard-X "; lines joined by '\n' */
    cli_handler *run;
} cli_command;

typedef struct cli_program {
    const char *name;            /* onecard-ledger */
    const char *summary;         /* one line: what the binary is */
    bool daemon;                 /* has the serve verb */
    const cli_command *commands; /* terminated by a row with name == NULL; may be NULL */
    const config_var *config;    /* the binary's config table; may be NULL */
} cli_program;

/* Reads argv as the convention above. Returns CLI_DAEMON when the daemon is
 * to start, else the process exit code (help, version, a usage error or the
 * command's own code). Never starts anything itself. */
int cli_main(const cli_program *p, int argc, char **argv);

/* The command argv[1] names, or NULL. Pure; exposed for tests. */
const cli_command *cli_find(const cli_program *p, const char *name);

/* Prints the top-level help (to out). */
void cli_help(const cli_program *p, FILE *out);

/* Report formats of --format. */
typedef enum { CLI_FORMAT_TEXT, CLI_FORMAT_JSON } cli_format;

/* Parses --format's value ("text" or "json"). Returns 0, or -1 with the
 * reason in err. */
int cli_format_parse(const char *text, cli_format *f, char *err, size_t errlen);

#endif
