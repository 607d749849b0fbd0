/*
 * csv: the reader of the files this service takes from outside. The
 * parsers of every one of them (the catalogue, person and provider lists,
 * civil-affairs feeds) start here, and the fuzz target
 * tests/fuzz/fuzz_csv.c drives them all. Two dialects, two readers:
 *
 * CSV (RFC 4180, as Excel and WPS save the lists that civil-affairs staff
 * send): csv_read returns records, not lines. A quoted field may hold
 * commas, doubled quotes ("") and line breaks (CRLF or LF), so one record
 * may span several lines. A UTF-8 byte order mark at the start is skipped;
 * a record ends at LF, CRLF or the end of the buffer; a line with nothing
 * on it is no record (it still counts for the line numbers). A record is
 * named by the line it starts on: what an editor shows, and what the
 * import commands call its row (for a file with no line break inside
 * quotes, the Nth line is row N, as before records could span lines).
 *
 * A bad record is reported by the line it starts on, and reading goes on
 * at the next line, whatever line the fault was found on: a stray quote
 * (one never closed, or "closed" by a quote on a later line that text
 * follows) then costs its own row, not the rows after it, which are read
 * as they would have been without it. The lines of a broken record that
 * really did span lines are read again as records of their own, and so
 * refused as well, each by its own line. The faults: a quote never closed
 * (by the end of the buffer, or within the room for one record), text
 * after a closing quote, a quote inside an unquoted field, a CR not
 * followed by LF, a NUL byte, a record longer than the room for it. A
 * record with more fields than asked for is well formed: it is read to its
 * end and refused as a whole.
 *
 * TSV (the catalogue, which we write ourselves): csv_next_line and
 * csv_tsv_split, one line at a time and no quoting: a quote is an ordinary
 * character and no field can hold a tab or a line break. Kept apart from
 * the CSV reader because the catalogue looks at whole lines (comments, the
 * "# version:" line) before it splits them.
 *
 * Pure; any thread (a csv_reader belongs to one).
 */
#ifndef ELIG_CSV_H
#define ELIG_CSV_H

#include <stddef.h>

/* The room a caller gives csv_read for one record's fields (each
 * NUL-terminated): the longest line the importers took before. */
#define CSV_RECORD_MAX 4096

typedef struct csv_reader {
    const char *buf;
    size_t len;
    size_t pos; /* where the next record (or blank line) starts */
    int line;   /* the line pos is on, from 1 */
} csv_reader;

/* Starts reading buf (len bytes, not NUL-terminated; it must outlive the
 * reader). A UTF-8 byte order mark at its start is skipped. */
void csv_reader_init(csv_reader *r, const char *buf, size_t len);

/* Reads the next CSV record: its fields are copied, NUL-terminated, into
 * store (storelen bytes) and fields[0..] point at them (at most max are
 * set). *line is the line the record starts on. Returns the number of
 * fields (>= 1); 0 at the end of the buffer; -1 for a bad record, with the
 * reason in err ("field 2: unterminated quote", "more than 12 fields",
 * with "(line N)" when the fault is on a later line than the record's
 * first), the reader having moved on as the comment above says. */
int csv_read(csv_reader *r, char *store, size_t storelen, char **fields, int max, int *line,
             char *err, size_t errlen) __attribute__((warn_unused_result));

/* TSV: splits line (NUL-terminated, modified in place; a trailing CR/LF is
 * dropped) at tabs into at most max fields. Returns the number of fields,
 * or -1 with err (more than max fields, a CR inside the line). */
int csv_tsv_split(char *line, char **fields, int max, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* TSV: reads the next line of buf (len bytes) from *pos into line (room
 * linelen), NUL-terminated. Returns its length, -1 at the end, -2 when the
 * line is longer than linelen - 1 (it is skipped) or holds a NUL byte. */
int csv_next_line(const char *buf, size_t len, size_t *pos, char *line, size_t linelen);

#endif
