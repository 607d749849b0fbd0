/*
 * rules: the pure rule engine. A person's attributes over a month and a
 * catalogue item give the amount in fen the person is entitled to for that
 * month; a whole catalogue gives the person's grants, with mutually
 * exclusive items (多头补助) never granted together.
 *
 * - Eligibility is a small rule language, one condition per ';', all of
 *   which must hold: "category=limb|multiple;age<18;household=dibao|near-poor".
 *   Fields: category, household, status, evidence (= or != with '|'
 *   alternatives), grade, care, age (whole years), months (age in whole
 *   months) with = != < <= > >=. "all" (or empty) always holds. Only
 *   active persons are ever eligible.
 * - Evidence: what the disability rests on — certificate (残疾证), an
 *   assessment form (评定表, with a grade), a diagnosis or a suspicion (a
 *   child under 7 without a certificate, grade 0). A rule that names no
 *   evidence admits certified persons only; "evidence=certificate|
 *   diagnosis" admits a diagnosed child too. A grade condition never holds
 *   for grade 0 (no grade).
 * - Tiers: flat (the standard); care, dibao30 and limb-rehab read the
 *   catalogue's tier tables (data, not C): care by grade, care level and
 *   category (135..1,010 yuan a month), dibao30 a share of the standard
 *   (which is the local 低保 standard; 30%), limb-rehab a yearly figure by
 *   grade and age (6k, 10k, 18k, 30k, 36k yuan, the higher for under-18s).
 * - A month's amount: "year" items give a twelfth of the yearly figure each
 *   month; a month is prorated by days: each stretch of days with the same
 *   attributes (and inside the item's effective dates) counts
 *   monthly * days / days_in_month, summed before one floor division.
 *   "service" and "once" items are not issued: they are spent against caps.
 * - Exclusive items (same exclusive group): only the one with the largest
 *   amount is granted (ties: the smaller code), and only that one is
 *   spendable at the terminal (rules_entitlements).
 * - At the terminal a tier that sets a yearly figure (limb-rehab) is the
 *   person's own annual cap.
 *
 * Dates are days since 1970-01-01 (int32). No I/O; any thread.
 */
#ifndef ELIG_RULES_H
#define ELIG_RULES_H

#include "common/directory.h"
#include "common/shares.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RULES_CONDS_MAX 8
#define RULES_ALTS_MAX  8

typedef enum { RULES_EQ, RULES_NE, RULES_LT, RULES_LE, RULES_GT, RULES_GE } rules_op;
typedef enum {
    RULES_F_CATEGORY,
    RULES_F_HOUSEHOLD,
    RULES_F_STATUS,
    RULES_F_GRADE,
    RULES_F_CARE,
    RULES_F_AGE,
    RULES_F_MONTHS,
    RULES_F_EVIDENCE
} rules_field;

typedef struct rules_cond {
    rules_field field;
    rules_op op;
    int num;
    int nalts;
    char alts[RULES_ALTS_MAX][16];
} rules_cond;

typedef struct rules_expr {
    int nconds;
    /* a condition on evidence: without one only certified persons hold */
    bool names_evidence;
    rules_cond conds[RULES_CONDS_MAX];
} rules_expr;

typedef enum { RULES_TIER_FLAT, RULES_TIER_CARE, RULES_TIER_DIBAO30, RULES_TIER_LIMB } rules_tier;
/* month, year: issued by the month (a year's figure a twelfth a month);
 * once, service: never issued; session, hour: the unit a priced item's
 * standard prices (its year's credit is issued a twelfth a month). */
typedef enum {
    RULES_UNIT_MONTH,
    RULES_UNIT_YEAR,
    RULES_UNIT_ONCE,
    RULES_UNIT_SERVICE,
    RULES_UNIT_SESSION,
    RULES_UNIT_HOUR
} rules_unit;
#define RULES_UNITS 6

/* A row of a tier table (the catalogue's tiers section): for the persons
 * `when` holds for (the eligibility language), the tier's value: fen a
 * month (care), fen a year (limb-rehab), basis points of the item's
 * standard (dibao30). catalogue.c checks that, for every person eligible
 * for an item of the tier, exactly one row holds. */
#define RULES_TIER_ROWS_MAX 64
typedef struct rules_tier_row {
    rules_tier tier;
    rules_expr when;
    int64_t value;
    int line; /* in the catalogue file, for messages */
} rules_tier_row;

typedef struct rules_tiers {
    int n;
    rules_tier_row rows[RULES_TIER_ROWS_MAX];
} rules_tiers;

/* A catalogue item, as parsed by catalogue.c. */
typedef struct rules_item {
    char code[32], category[24], name_zh[128], name_en[128], group[24], exclusive[32];
    char fund_source[48], programme[48], eligibility[160], procedure[200], legal_basis[400];
    rules_unit unit;
    directory_kind kind; /* how it is delivered (common/directory.h) */
    rules_tier tier;
    rules_expr expr;
    int64_t standard_fen, annual_cap_fen, daily_cap_fen;
    bool issued, is_default;
    bool application; /* granted only by an approved application (applications.h) */
    /* the 在训 check (attendance.h): weeks without attendance after which
     * the item is paused; 0, never checked */
    int attendance_weeks;
    /* the benefit period's end (common/calendar.h, calendar_credit_ends):
     * month, year, grace:N or never */
    char credit_ends[16];
    int32_t from_day, to_day; /* effective [from, to); to_day 0: open */
    const rules_tiers *tiers; /* the catalogue's tier tables (flat: unused) */
    /* the fund_source column: the item's fund shares in basis points
     * (common/shares.h), as written canonically ("central:10000" for a bare
     * "central"); fund_source above is the first share's level, the name
     * older readers (the directory, elig_issuances) keep */
    shares shares;
    char fund_shares[SHARES_TEXT_MAX];
} rules_item;

/* A person's attributes over a stretch of days. Strings are borrowed. */
typedef struct rules_person {
    const char *category, *household, *status;
    int grade, care_level;
    int32_t birth_day;
    /* the items granted by approved applications, ",A,B," (NULL: none) */
    const char *granted;
    /* what the disability rests on: certificate (NULL), assessment (an
     * assessment form with a grade), diagnosis or suspected (a child under
     * 7 without a certificate; grade 0) */
    const char *evidence;
} rules_person;

typedef struct rules_segment {
    int32_t from_day, to_day; /* [from, to) */
    rules_person p;
} rules_segment;

typedef struct rules_grant {
    const rules_item *item;
    int64_t amount_fen;
} rules_grant;

/* ------------------------------------------------------------------ dates */
/* "YYYY-MM-DD" into days; -1 with err when malformed or not a real date. */
#define RULES_DATE_LEN 16 /* room for rules_date_format's "YYYY-MM-DD" */
int rules_date_parse(const char *s, int32_t *days, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* days as "YYYY-MM-DD" (rules_date_parse's inverse) into out; returns out. */
char *rules_date_format(char out[RULES_DATE_LEN], int32_t days);
int32_t rules_days(int y, int m, int d);
void rules_civil(int32_t days, int *y, int *m, int *d);
int rules_days_in_month(int y, int m);
/* "YYYY-MM" into year and month; -1 with err. */
int rules_period_parse(const char *s, int *y, int *m, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Age on day in whole months and whole years (0 before birth). */
void rules_age(int32_t birth, int32_t day, int *years, int *months);

/* ------------------------------------------------------------- the engine */
/* The tier's value for p on day: the first row of tiers for tier whose
 * `when` holds (catalogue.c makes it the only one), or 0 when none. */
int64_t rules_tier_value(const rules_tiers *tiers, rules_tier tier, const rules_person *p,
                         int32_t day);
int rules_expr_parse(const char *s, rules_expr *e, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Whether p satisfies e on day (and is active). */
bool rules_eligible(const rules_expr *e, const rules_person *p, int32_t day);
/* Whether p is eligible for the item on day: its rule holds and, for an
 * item granted only by an application, the item is among p's granted. */
bool rules_item_eligible(const rules_item *it, const rules_person *p, int32_t day);
/* The monthly amount for p on day (0 when not eligible). */
int64_t rules_monthly_fen(const rules_item *it, const rules_person *p, int32_t day);
/* The item's amount for month (y, m), prorated over the segments (which
 * need not cover the month: days outside them count as not eligible). */
int64_t rules_item_amount(const rules_item *it, const rules_segment *seg, int nseg, int y, int m);
/* Fills out (room for nitems) with the grants of a month, exclusive groups
 * resolved, amounts > 0 only. Returns how many. */
int rules_period(const rules_item *items, int nitems, const rules_segment *seg, int nseg, int y,
                 int m, rules_grant *out);

/* A month across catalogue versions (0028_catalogue_versions.sql): span k
 * is a version's items in force on [from_day, to_day). The grant of an item
 * is prorated over the days like rules_item_amount, each day at the figure
 * of the version in force that day, the sum divided by the month's days
 * once (one rounding down: old rate x days before + new rate x days from,
 * over the month's days). The item a grant names (its fund, programme and
 * exclusive group) is the version's in force on the month's first day, or
 * of the first version of the month that has it. rules_plan_make builds the
 * plan once per run (codes matched across versions); rules_plan_period then
 * works like rules_period for each person. */
#define RULES_SPANS_MAX  8
#define RULES_PLAN_CODES 512
typedef struct rules_span {
    const rules_item *items;
    int nitems;
    int32_t from_day, to_day; /* [from, to) */
} rules_span;
typedef struct rules_plan {
    int nspans, ncodes;
    int32_t from[RULES_SPANS_MAX], to[RULES_SPANS_MAX];
    const rules_item *head[RULES_PLAN_CODES];
    const rules_item *in[RULES_PLAN_CODES][RULES_SPANS_MAX]; /* NULL: not in that version */
} rules_plan;
int rules_plan_make(rules_plan *pl, const rules_span *spans, int nspans, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* out: room for pl->ncodes. Returns how many grants. */
int rules_plan_period(const rules_plan *pl, const rules_segment *seg, int nseg, int y, int m,
                      rules_grant *out);

/* What a card carries at the terminal on day: for each item, its
 * entitlement in out[i] (room for nitems). An item is entitled when it is
 * in force on day and p is eligible for it, and, in an exclusive group,
 * only the item that rules_period would grant (the largest monthly amount;
 * for items never issued, the first by code) is. annual_cap_fen is the
 * person's own cap where the item's tier sets one (limb-rehab: the yearly
 * figure of p's grade and age), else 0: the catalogue's cap applies. */
typedef struct rules_entitlement {
    bool entitled;
    int64_t annual_cap_fen;
} rules_entitlement;
void rules_entitlements(const rules_item *items, int nitems, const rules_person *p, int32_t day,
                        rules_entitlement *out);

#endif
