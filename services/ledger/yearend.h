/*
 * yearend: the year-end report's tables and how they are written, apart
 * from where the figures come from (report.c reads them from the journal).
 *
 * A table is a list of columns (a key for JSON and CSV, a Chinese and an
 * English heading for people) and rows of cells kept as text: text
 * columns as written, count and fen columns as decimal integers. Money
 * stays int64 fen in JSON and CSV; the text and HTML forms show yuan with
 * two decimals ("1,234.56"), computed from the fen without floats.
 *
 * yr_table_total appends the totals row ("合计 total"): the sum of every
 * additive column (counts and fen); a non-additive column (distinct
 * persons: a person served under two items is one person) is left for
 * the caller to fill from the journal (yr_table_set).
 *
 * Writers: CSV (RFC 4180: a field with a comma, quote or line break is
 * quoted, quotes doubled; a text cell starting with = + - @ or a tab is
 * prefixed with ' so a spreadsheet never runs it), JSON (jsonw), plain
 * text, and one printable HTML page: every value escaped, no script, no
 * external resource, print CSS (A4 landscape, tables not split across a
 * row, headings repeated on each page).
 */
#ifndef ONECARD_LEDGER_YEAREND_H
#define ONECARD_LEDGER_YEAREND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum yr_type {
    YR_TEXT,
    YR_COUNT,   /* additive count */
    YR_FEN,     /* additive money */
    YR_DISTINCT /* a count that does not add up across rows */
} yr_type;

typedef struct yr_col {
    const char *key, *zh, *en;
    yr_type type;
} yr_col;

typedef struct yr_table {
    const char *name;    /* JSON key and CSV file stem */
    const char *zh, *en; /* heading */
    const char *note;    /* what the figures mean, shown under the heading */
    const yr_col *cols;
    int ncols;
    char **cells; /* nrows * ncols, owned */
    size_t nrows, cap;
    bool has_total; /* the last row is the totals row */
} yr_table;

typedef struct yr_check {
    char what[64];
    bool ok;
    char detail[384];
} yr_check;

#define YR_TABLES_MAX 8
#define YR_CHECKS_MAX 64

typedef struct yr_report {
    int year, quarter; /* quarter 0: the whole year */
    char generated[32];
    yr_table *tables[YR_TABLES_MAX];
    int ntables;
    yr_check checks[YR_CHECKS_MAX];
    int nchecks, differences;
    int64_t unjournaled; /* events read by no one yet + entries not relayed */
    char unjournaled_detail[384];
} yr_report;

void yr_table_init(yr_table *t, const char *name, const char *zh, const char *en, const char *note,
                   const yr_col *cols, int ncols);
void yr_table_free(yr_table *t);
/* Appends a row of ncols cells (NULL: ""), copied. 0 or -1 (no memory). */
int yr_table_add(yr_table *t, const char *const *row);
const char *yr_cell(const yr_table *t, size_t row, int col);
/* Replaces one cell. */
int yr_table_set(yr_table *t, size_t row, int col, const char *v);
/* The column whose key is key, or -1. */
int yr_col_index(const yr_table *t, const char *key);
/* The sum of column key over the rows (not the totals row) whose column
 * where_key equals where_val (where_key NULL: every row). */
int64_t yr_table_sum(const yr_table *t, const char *key, const char *where_key,
                     const char *where_val);
/* Appends the totals row: label in the first column, sums in the additive
 * ones, "" elsewhere. Once. 0 or -1. */
int yr_table_total(yr_table *t);

/* "-1,234.56" from -123456 fen; out at least 32 bytes. */
char *yr_fen_text(int64_t fen, char *out, size_t len);

/* Adds a reconciliation line; counts a difference when !ok. */
void yr_check_add(yr_report *r, bool ok, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A growing text buffer for the writers. */
typedef struct yr_buf {
    char *s;
    size_t len, cap;
    bool failed;
} yr_buf;
void yr_buf_free(yr_buf *b);
void yr_buf_add(yr_buf *b, const char *s, size_t n);
void yr_buf_str(yr_buf *b, const char *s);
void yr_buf_csv_field(yr_buf *b, const char *s, bool text);
void yr_buf_html(yr_buf *b, const char *s); /* escaped: & < > " ' */

/* The writers: NUL-terminated text in b (b->failed on no memory). */
void yr_write_csv(const yr_table *t, yr_buf *b);
void yr_write_json(const yr_report *r, yr_buf *b);
void yr_write_text(const yr_report *r, yr_buf *b);
void yr_write_html(const yr_report *r, yr_buf *b);
void yr_write_checks_csv(const yr_report *r, yr_buf *b);

#endif
