/*
 * catload: the command that loads the service catalogue,
 *
 *   catalogue load FILE [--actor A]
 *
 * FILE is parsed and checked whole by catalogue.c first (a bad file
 * changes nothing); then every item is upserted in one audited transaction
 * (an unchanged item is not written again, so a reload audits nothing) and
 * written to the directory. Prints the version, the items, how many
 * changed and how many figures are defaults still to confirm.
 *
 * The handler of commands.h's table for "catalogue": argv[0] is the
 * subcommand. Returns the exit code (0, 1 refused, 3 failed) or
 * COMMANDS_USAGE. Blocking; one thread.
 */
#ifndef ELIG_CATLOAD_H
#define ELIG_CATLOAD_H

#include "registry.h"

int catload_command(registry *r, int argc, char **argv);

#endif
