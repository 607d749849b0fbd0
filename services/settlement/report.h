/*
 * report: utilisation per item, category, district and fund for a month:
 * credited (top-ups), spent (swipes - reversals), remaining (credited -
 * spent) in fen, and the share used in basis points (integer, floor; no
 * floating point near money), as JSON or CSV for operators. This is what
 * shows whether a service is used: credited money that stays unspent.
 *
 * Read from settlement_usage (every posting by its own month, closed or
 * not) and the catalogue's categories in Redis. District: that of the
 * card's holder in the registry (elig_persons), taken as each posting is
 * accumulated; empty for a card the registry does not know.
 */
#ifndef SETTLEMENT_REPORT_H
#define SETTLEMENT_REPORT_H

#include <hiredis/hiredis.h>
#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>

/* Share used in basis points, floor(spent * 10000 / credited); -1 when
 * nothing was credited. */
int64_t report_used_bp(int64_t credited_fen, int64_t spent_fen);

/* Writes the report. Returns the exit code (0, or 2 with the reason on
 * stderr). */
int report_run(PGconn *pg, redisContext *rc, const char *period_text, const char *format,
               FILE *out);

#endif
