/*
 * importfile: the walk through an imported list that the person and
 * provider imports (bulk.c) and the agencies' feeds (feedfile.c) share:
 * the file read whole, made UTF-8 (encoding.h), its records read one by
 * one (csv.h), its header matched against the list's columns by their
 * English or Chinese names (import.h), and each row handed back with its
 * fields in the columns' order and its row number. What is done with a
 * row, and what a bad one costs, is the caller's: the walk only reports
 * it and goes on to the next.
 *
 * A row is numbered by the line it starts on, the header's included and
 * blank lines counted, so "row 7" is line 7 in an editor, and a file
 * without line breaks inside quotes numbers its rows as it did when rows
 * were lines (the feeds key what they published by row number).
 *
 * importfile_read does the I/O; the rest is pure apart from iconv (the
 * fuzz target drives it). One thread per importfile.
 */
#ifndef ELIG_IMPORTFILE_H
#define ELIG_IMPORTFILE_H

#include "csv.h"
#include "encoding.h"
#include "import.h"

#include <stddef.h>

typedef struct importfile {
    char *buf; /* the file's text, UTF-8 (malloc'd; importfile_close) */
    size_t len;
    csv_reader rd;
    const import_columns *cols;
    int map[IMPORT_MAX_COLS];       /* header cell i names column map[i] */
    char store[CSV_RECORD_MAX];     /* the current record's fields */
    char *raw[IMPORT_MAX_COLS + 1]; /* them as they stand in the file */
    char *f[IMPORT_MAX_COLS + 1];   /* them in the columns' order: the row */
} importfile;

/* Reads the file at path whole into *buf (malloc'd, the caller's) and
 * *len. 0, or -1 with err ("FILE: reason"; errno ENOMEM when memory ran
 * out). */
int importfile_read(const char *path, char **buf, size_t *len, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Starts the walk through buf (len bytes, malloc'd: fi owns it from here
 * on, also on failure) as a list of cols: makes it UTF-8 as enc says and
 * reads the header. 0, or -1 with err ("line 3: byte 0xD5 is not UTF-8;
 * ...", "row 1: unknown column ..."), the file refused. A file with no
 * record at all is no error: it has no rows. importfile_close either
 * way. */
int importfile_start(importfile *fi, char *buf, size_t len, encoding_kind enc,
                     const import_columns *cols, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* The next row: returns its number of fields, with fi->f holding them (in
 * the columns' order when there are as many as columns, as they stand
 * otherwise, for the row check to refuse by their count) and *row its
 * number; 0 after the last row; -1 for a record that could not be read
 * (err says why, *row which), the walk going on after it. The fields stay
 * valid until the next call. */
int importfile_next(importfile *fi, int *row, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Frees the text. */
void importfile_close(importfile *fi);

#endif
