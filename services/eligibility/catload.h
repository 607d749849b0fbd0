/*
 * catload: the commands of the service catalogue and its versions
 * (0028_catalogue_versions.sql),
 *
 *   catalogue load FILE [--effective YYYY-MM-DD] [--correction yes] [--actor A]
 *   catalogue versions
 *   catalogue show [--at YYYY-MM-DD]
 *   catalogue diff V1 V2
 *
 * load: FILE is parsed and checked whole by catalogue.c first (a bad file
 * changes nothing). A file not loaded before (SHA-256 of its bytes, with
 * the same effective date) becomes a new version, in force from
 * --effective; the earlier versions are kept. The first version may omit
 * --effective (in force from 2000-01-01, the first issuable period); every
 * later one must give it. The same file again is the same version: nothing
 * is written. A version whose date falls in a month already issued is
 * refused, nothing written, unless --correction yes: then it is loaded and
 * each issued month from its date on is issued again (issue_period), so
 * the differences become arrears (published to the ledger) or recorded
 * overpayments, as a late change of a person's attributes does. When the
 * version is the one in force today, its items are upserted into
 * elig_catalogue_items and the tier tables (an unchanged item is not
 * written again, so a reload audits nothing) and written to the directory.
 *
 * versions: every version (id, effective date, loaded at and by, hash,
 * label, item count; the one in force today marked). show: the version in
 * force on a day (default today) and its items and tier rows. diff: items
 * added (+), removed (-) and each changed field (~ CODE field: old → new),
 * then the tier rows the same way.
 *
 * The handler of commands.h's table for "catalogue": argv[0] is the
 * subcommand. Returns the exit code (0, 1 refused, 3 failed) or
 * COMMANDS_USAGE. Blocking; one thread.
 */
#ifndef ELIG_CATLOAD_H
#define ELIG_CATLOAD_H

#include "registry.h"

int catload_command(registry *r, int argc, char **argv);

/* The daemon, once a day (attfeed.c's tick): the version in force today
 * into elig_catalogue_items, the tier tables and the directory's item
 * records, so a version loaded ahead of its date takes over on that date
 * (an unchanged item is not written: most days nothing is). *changed: the
 * rows written. 0 / -1 (printed). */
int catload_project_today(registry *r, int *changed);

#endif
