/*
 * import: the rows of the person and provider lists an operator imports
 * (`onecard-eligibility import persons|providers FILE.csv`), parsed and
 * checked one row at a time, and the file-level driver that imports the
 * good rows and reports each bad one by row number and reason.
 *
 *   persons.csv   national_id,name,category,grade,care_level,birth_date,
 *                 district,town,village,household,phone
 *   providers.csv provider_id,name,district,category,items   (items: A;B;C)
 *
 * The first line is the header and must name exactly those columns. A
 * re-run imports nothing twice: persons are keyed by their hashed national
 * id, providers by their id, and rows already present are counted as such.
 * import_*_row are pure (the fuzz target drives them); import_file does
 * the I/O.
 */
#ifndef ELIG_IMPORT_H
#define ELIG_IMPORT_H

#include "rules.h"

#include <stdbool.h>
#include <stddef.h>

#define IMPORT_PERSON_COLS   11
#define IMPORT_PROVIDER_COLS 5

extern const char *const import_person_header[IMPORT_PERSON_COLS];
extern const char *const import_provider_header[IMPORT_PROVIDER_COLS];

/* A checked person row; strings point into the split line. */
typedef struct import_person {
    const char *national_id, *name, *category, *birth_date, *district, *town, *village;
    const char *household, *phone;
    int grade, care_level;
    int32_t birth_day;
} import_person;

typedef struct import_provider {
    const char *provider_id, *name, *district, *category, *items; /* items: A;B;C */
} import_provider;

#define IMPORT_FEED_COLS 5
extern const char *const import_feed_header[IMPORT_FEED_COLS];

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

/* Checks a split row (n fields) as of today (days since 1970). 0, or -1
 * with the reason in err. */
int import_person_row(char **f, int n, int32_t today, import_person *p, char *err, size_t errlen)
    __attribute__((warn_unused_result));
int import_provider_row(char **f, int n, import_provider *p, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* 0 when the split header row names exactly these columns. */
int import_header(char **f, int n, const char *const *want, int nwant, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
