/*
 * feedfile: an agency's monthly list into EligibilityChanged events,
 *
 *   import-feed FILE.csv --source AGENCY --period YYYY-MM
 *               [--encoding utf-8|gbk|gb18030]
 *
 * (the format is import.h's, the encodings encoding.h's; the daemon's feed
 * applies the events, see feed.h). Bad rows are reported as "row N:
 * reason" and skipped; a row already published is not published again.
 *
 * The handler of commands.h's table. Returns the exit code: 0, 1 when the
 * input is refused, 3 when a store or the broker failed. Blocking; one
 * thread.
 */
#ifndef ELIG_FEEDFILE_H
#define ELIG_FEEDFILE_H

#include "registry.h"

int feedfile_command(registry *r, int argc, char **argv);

#endif
