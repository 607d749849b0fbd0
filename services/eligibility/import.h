/*
 * import: the rows of the person and provider lists an operator imports
 * (`onecard-eligibility import persons|providers FILE.csv`) and of the
 * agencies' feeds (`import-feed`), parsed and checked one row at a time,
 * and the headers that name their columns.
 *
 *   persons.csv   national_id,name,category,grade,care_level,birth_date,
 *                 district,town,village,household,phone
 *   providers.csv provider_id,name,district,category,items   (items: A;B;C)
 *
 * The first record is the header. It names every column once, in any
 * order, each by its English name or by the Chinese one that civil-affairs
 * staff write (身份证号, 姓名, ...: import.c's tables, README.md's
 * "Imported lists"), the two mixed as they come; an unknown, repeated or
 * missing column refuses the file. importfile.h puts each row's fields in
 * the order above before these checks see them. A line break inside a
 * quoted text field (a wrapped spreadsheet cell) is kept as one space.
 *
 * A re-run imports nothing twice: persons are keyed by their hashed
 * national id, providers by their id, and rows already present are counted
 * as such. Pure: the fuzz target drives every function here.
 */
#ifndef ELIG_IMPORT_H
#define ELIG_IMPORT_H

#include "rules.h"

#include <stdbool.h>
#include <stddef.h>

#define IMPORT_PERSON_COLS   11
#define IMPORT_PROVIDER_COLS 5
#define IMPORT_FEED_COLS     5
#define IMPORT_MAX_COLS      IMPORT_PERSON_COLS /* the widest list */

/* The English column names, in the order the row checks take them. */
extern const char *const import_person_header[IMPORT_PERSON_COLS];
extern const char *const import_provider_header[IMPORT_PROVIDER_COLS];
extern const char *const import_feed_header[IMPORT_FEED_COLS];

/* A list's columns: n of them, each with its English and its Chinese
 * name. */
typedef struct import_columns {
    const char *const *en;
    const char *const *zh;
    int n;
} import_columns;

extern const import_columns import_person_columns, import_provider_columns, import_feed_columns;

/* A checked person row; strings point into the split record. */
typedef struct import_person {
    const char *national_id, *name, *category, *birth_date, *district, *town, *village;
    const char *household, *phone;
    int grade, care_level;
    int32_t birth_day;
} import_person;

typedef struct import_provider {
    const char *provider_id, *name, *district, *category, *items; /* items: A;B;C */
} import_provider;

/* A civil-affairs (or other agency) list row:
 *   national_id,change,effective_date,household,grade
 * change: death | revoked | issued | moved-out | household (household:
 * none, dibao, near-poor) | grade (grade: 1-4). change_code is the
 * EligibilityChange enum value, household_code the HouseholdStatus one. */
typedef struct import_feed {
    const char *national_id, *effective_date;
    int change_code, household_code, grade;
} import_feed;

/* today: days since 1970; an effective date more than a year after it is
 * refused. */
int import_feed_row(char **f, int n, int32_t today, import_feed *p, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Checks a split row (n fields, in the columns' order) as of today (days
 * since 1970). 0, or -1 with the reason in err. Text fields are changed
 * in place (line breaks to spaces). */
int import_person_row(char **f, int n, int32_t today, import_person *p, char *err, size_t errlen)
    __attribute__((warn_unused_result));
int import_provider_row(char **f, int n, import_provider *p, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Matches the n cells of a header against the list's columns c: 0, with
 * map[i] the column (0..c->n - 1) that cell i names, when every column is
 * named exactly once (map has room for c->n); or -1 with err naming the
 * unknown, repeated or missing column. */
int import_header(char **f, int n, const import_columns *c, int *map, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
