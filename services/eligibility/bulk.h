/*
 * bulk: importing person and provider lists (CSV). See bulk.c; the row
 * formats are in import.h. Blocking; one thread.
 */
#ifndef ELIG_BULK_H
#define ELIG_BULK_H

#include "registry.h"

/* import persons|providers FILE.csv [--since YYYY-MM-DD] [--issue-cards
 * yes [--pin PIN]] [--encoding utf-8|gbk|gb18030] --actor A: since is the
 * registration date of new persons (today when none); with --issue-cards
 * yes each new person gets a card (the PIN given, or a random one printed
 * with the card); --encoding declares a GBK file (encoding.h). The
 * handler of commands.h's table. Returns the exit code (0, 1 when rows or
 * the file were refused, 3 when a store failed) or COMMANDS_USAGE. */
int bulk_command(registry *r, int argc, char **argv);

#endif
