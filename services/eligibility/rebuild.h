/*
 * rebuild: the command that rewrites the directory (Redis) from
 * PostgreSQL,
 *
 *   rebuild-directory
 *
 * the repair for any command that failed after its commit (registry.h):
 * every catalogue item, provider and terminal as PostgreSQL holds them,
 * and every card with the entitlements its holder has today. Prints how
 * many of each it wrote.
 *
 * The handler of commands.h's table (arguments are not read). Returns the
 * exit code: 0, or 3 when a store failed. Blocking; one thread.
 */
#ifndef ELIG_REBUILD_H
#define ELIG_REBUILD_H

#include "registry.h"

int rebuild_command(registry *r, int argc, char **argv);

#endif
