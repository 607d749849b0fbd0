/*
 * terminals: the operator commands on a provider's terminal (what signs
 * the swipes the gateway takes, with a secret of its own).
 *
 *   terminal add ID --provider P --actor A   (prints the secret, once)
 *   terminal disable ID --actor A
 *
 * The handler of commands.h's table for "terminal": argv[0] is the
 * subcommand. Returns the exit code (0, 1 refused, 3 failed) or
 * COMMANDS_USAGE. Blocking; one thread.
 */
#ifndef ELIG_TERMINALS_H
#define ELIG_TERMINALS_H

#include "registry.h"

int terminals_command(registry *r, int argc, char **argv);

#endif
