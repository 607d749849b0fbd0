/*
 * importfile: reading an imported list. See importfile.h.
 */
#include "importfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int importfile_read(const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    while (b != NULL) {
        if (n == cap) {
            char *bigger = realloc(b, cap * 2);
            if (bigger == NULL)
                free(b);
            b = bigger;
            cap *= 2;
            continue;
        }
        size_t got = fread(b + n, 1, cap - n, fp);
        if (got == 0)
            break;
        n += got;
    }
    int failed = b == NULL ? ENOMEM : ferror(fp) ? EIO : 0;
    fclose(fp);
    if (failed) {
        snprintf(err, errlen, "%s: %s", path,
                 failed == ENOMEM ? "out of memory reading the file" : "read error");
        free(b);
        errno = failed;
        return -1;
    }
    *buf = b;
    *len = n;
    return 0;
}

int importfile_start(importfile *fi, char *buf, size_t len, encoding_kind enc,
                     const import_columns *cols, char *err, size_t errlen)
{
    memset(fi, 0, sizeof(*fi));
    fi->buf = buf;
    fi->len = len;
    fi->cols = cols;
    if (encoding_to_utf8(&fi->buf, &fi->len, enc, err, errlen) < 0)
        return -1;
    csv_reader_init(&fi->rd, fi->buf, fi->len);
    char why[256];
    int row;
    int n = csv_read(&fi->rd, fi->store, sizeof(fi->store), fi->raw, cols->n + 1, &row, why,
                     sizeof(why));
    if (n < 0 || (n > 0 && import_header(fi->raw, n, cols, fi->map, why, sizeof(why)) < 0)) {
        snprintf(err, errlen, "row %d: %s", row, why);
        return -1;
    }
    return 0;
}

int importfile_next(importfile *fi, int *row, char *err, size_t errlen)
{
    int n =
        csv_read(&fi->rd, fi->store, sizeof(fi->store), fi->raw, fi->cols->n + 1, row, err, errlen);
    for (int i = 0; i < n; i++)
        fi->f[n == fi->cols->n ? fi->map[i] : i] = fi->raw[i];
    return n;
}

void importfile_close(importfile *fi)
{
    free(fi->buf);
    fi->buf = NULL;
}
