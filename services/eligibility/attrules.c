/*
 * attrules: the 在训 check's arithmetic and its report parser. See
 * attrules.h.
 */
#include "attrules.h"

#include "csv.h"
#include "rules.h"

#include "common/card.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const char *const attrules_columns[] = {"provider_id", "card_no", "item_code",
                                               "attended_on"};
#define ATTRULES_NCOLS 4

int32_t attrules_basis(int32_t since_day, int32_t last_day)
{
    return last_day > since_day ? last_day : since_day;
}

int attrules_weeks_since(int32_t basis, int32_t as_of)
{
    return as_of > basis ? (int)((as_of - basis) / 7) : 0;
}

int attrules_due(int32_t basis, int weeks, int32_t as_of)
{
    return weeks > 0 && attrules_weeks_since(basis, as_of) >= weeks;
}

int attrules_resumes(int32_t basis, int32_t day)
{
    return day > basis;
}

/* A provider or terminal id: 1-64 of A-Z a-z 0-9 _ - (elig_providers). */
static int attrules_id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
            return 0;
    return 1;
}

/* An item code: 2-31 of A-Z 0-9 -, starting with a letter (catalogue.c). */
static int attrules_code_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 2 || n > 31 || !isupper((unsigned char)s[0]))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isupper((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '-')
            return 0;
    return 1;
}

/* One data row into row. 0, or -1 with the reason (no line number). A
 * value is quoted back 12 characters at most: a card number put in the
 * wrong column is never repeated whole. */
static int attrules_row_parse(char **f, int32_t today, attrules_row *row, char *err, size_t errlen)
{
    char why[128];
    if (!attrules_id_ok(f[0])) {
        snprintf(err, errlen, "provider_id \"%.12s\" must be 1-64 of A-Z a-z 0-9 _ -", f[0]);
        return -1;
    }
    if (!card_no_valid(f[1])) {
        /* never the whole number in a message: it may be a real card's */
        snprintf(err, errlen, "card_no is not a card number (16-19 digits, Luhn check digit)");
        return -1;
    }
    if (!attrules_code_ok(f[2])) {
        snprintf(err, errlen,
                 "item_code \"%.12s\" must be 2-31 of A-Z 0-9 - starting with a letter", f[2]);
        return -1;
    }
    if (rules_date_parse(f[3], &row->day, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "attended_on \"%.12s\" is not a real date YYYY-MM-DD", f[3]);
        return -1;
    }
    if (row->day > today) {
        snprintf(err, errlen, "attended_on %s is after today", f[3]);
        return -1;
    }
    if (row->day < today - 366) {
        snprintf(err, errlen, "attended_on %s is more than a year ago", f[3]);
        return -1;
    }
    snprintf(row->provider_id, sizeof(row->provider_id), "%s", f[0]);
    snprintf(row->card_no, sizeof(row->card_no), "%s", f[1]);
    snprintf(row->item_code, sizeof(row->item_code), "%s", f[2]);
    return 0;
}

int attrules_report_parse(const char *buf, size_t len, int32_t today, attrules_row *rows, int max,
                          char *err, size_t errlen)
{
    csv_reader rd;
    csv_reader_init(&rd, buf, len);
    char store[CSV_RECORD_MAX], why[200];
    char *f[ATTRULES_NCOLS + 1];
    int line = 0, n = 0, k;
    bool header = false;
    while ((k = csv_read(&rd, store, sizeof(store), f, ATTRULES_NCOLS + 1, &line, why,
                         sizeof(why))) != 0) {
        if (k < 0) {
            snprintf(err, errlen, "line %d: %s", line, why);
            return -1;
        }
        if (k != ATTRULES_NCOLS) {
            snprintf(err, errlen,
                     "line %d: %d fields, expected 4 (provider_id,card_no,item_code,attended_on)",
                     line, k);
            return -1;
        }
        if (!header) {
            for (int i = 0; i < ATTRULES_NCOLS; i++)
                if (strcmp(f[i], attrules_columns[i]) != 0) {
                    snprintf(err, errlen, "line %d: column %d is \"%.12s\", expected %s", line,
                             i + 1, f[i], attrules_columns[i]);
                    return -1;
                }
            header = true;
            continue;
        }
        if (n >= max) {
            snprintf(err, errlen, "line %d: more than %d rows", line, max);
            return -1;
        }
        if (attrules_row_parse(f, today, &rows[n], why, sizeof(why)) < 0) {
            snprintf(err, errlen, "line %d: %s", line, why);
            return -1;
        }
        rows[n++].line = line;
    }
    if (!header) {
        snprintf(err, errlen, "no header (provider_id,card_no,item_code,attended_on)");
        return -1;
    }
    if (n == 0) {
        snprintf(err, errlen, "no rows after the header");
        return -1;
    }
    return n;
}
