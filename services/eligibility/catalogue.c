/*
 * catalogue: parsing and checking the catalogue file. See catalogue.h.
 */
#include "catalogue.h"

#include "common/calendar.h"
#include "common/directory.h"
#include "common/money.h"

#include "csv.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const catalogue_columns[] = {
    "code",        "category",       "name_zh",          "name_en",      "group",
    "unit",        "kind",           "application",      "standard_fen", "tier",
    "eligibility", "annual_cap_fen", "daily_cap_fen",    "exclusive",    "fund_source",
    "programme",   "issued",         "effective_from",   "effective_to", "default",
    "procedure",   "legal_basis",    "attendance_weeks", "credit_ends",
};
/* attendance_weeks and credit_ends, the last columns, are optional: a
 * catalogue written before the 在训 check (22 columns) still loads, every
 * item unchecked; one written before benefit periods (23), every item's
 * credit never lapsing */
#define CATALOGUE_NCOLS     ((int)(sizeof(catalogue_columns) / sizeof(catalogue_columns[0])))
#define CATALOGUE_NCOLS_MIN (CATALOGUE_NCOLS - 2)
#define CATALOGUE_WEEKS_MAX 52

static const char *const catalogue_categories[] = {"rehabilitation", "employment", "education",
                                                   "social-security"};
const char *const catalogue_unit_names[RULES_UNITS] = {"month",   "year",    "once",
                                                       "service", "session", "hour"};
static const char *const *const catalogue_units = catalogue_unit_names;
const char *const catalogue_tier_names[4] = {"flat", "care", "dibao30", "limb-rehab"};
static const char *const *const catalogue_tiers = catalogue_tier_names;
static const char *const catalogue_tier_columns[] = {"tier", "when", "value", "legal_basis"};
#define CATALOGUE_TIER_NCOLS 4

static int catalogue_pick(const char *v, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(v, names[i]) == 0)
            return i;
    return -1;
}

static int catalogue_copy(char *dst, size_t dstlen, const char *v, const char *col, char *err,
                          size_t errlen)
{
    if (strcmp(v, "-") == 0)
        v = "";
    if (strlen(v) >= dstlen) {
        snprintf(err, errlen, "%s is longer than %zu bytes", col, dstlen - 1);
        return -1;
    }
    strcpy(dst, v);
    return 0;
}

static int catalogue_fen(const char *v, const char *col, int64_t *out, char *err, size_t errlen)
{
    if (v[0] == '\0' || strspn(v, "0123456789") != strlen(v)) {
        snprintf(err, errlen, "%s \"%.20s\" is not a whole number of fen", col, v);
        return -1;
    }
    if (!money_parse_fen(v, out)) {
        snprintf(err, errlen, "%s %.24s is out of range (0..%lld)", col, v,
                 (long long)MONEY_MAX_FEN);
        return -1;
    }
    return 0;
}

static int catalogue_flag(const char *v, const char *col, bool *out, char *err, size_t errlen)
{
    if (strcmp(v, "yes") != 0 && strcmp(v, "no") != 0) {
        snprintf(err, errlen, "%s must be yes or no, not \"%.10s\"", col, v);
        return -1;
    }
    *out = v[0] == 'y';
    return 0;
}

/* What each kind needs of the other columns (catalogue/README.md, "Kinds"). */
static int catalogue_kind_check(const rules_item *it, char *err, size_t errlen)
{
    const char *kind = directory_kind_name(it->kind), *why = NULL;
    bool periodic = it->unit == RULES_UNIT_MONTH || it->unit == RULES_UNIT_YEAR;
    switch (it->kind) {
    case DIRECTORY_KIND_CREDIT:
    case DIRECTORY_KIND_CASH:
        if (!it->issued || !periodic)
            why = "is issued (issued=yes) by the month or the year (unit month or year)";
        else if (it->standard_fen == 0)
            why = "needs a standard amount";
        break;
    case DIRECTORY_KIND_PRICED:
        if (!it->issued || (it->unit != RULES_UNIT_SESSION && it->unit != RULES_UNIT_HOUR))
            why = "is issued (issued=yes) and priced by the session or the hour (unit session "
                  "or hour)";
        else if (it->standard_fen == 0)
            why = "needs a price (standard_fen: the price of one session or hour)";
        else if (it->annual_cap_fen == 0 && it->tier != RULES_TIER_LIMB)
            why = "needs an annual cap (the year's credit, issued a twelfth a month)";
        break;
    case DIRECTORY_KIND_QUOTE:
    case DIRECTORY_KIND_REIMBURSE:
        if (it->issued)
            why = "is never issued (issued=no): it is paid per quote or invoice";
        else if (it->unit != RULES_UNIT_ONCE && it->unit != RULES_UNIT_SERVICE)
            why = "is a one-off or per-service item (unit once or service)";
        else if (it->annual_cap_fen == 0)
            why = "needs an annual cap (the most paid for it to one person in a year)";
        else if (it->tier != RULES_TIER_FLAT)
            why = "has no tier (flat)";
        break;
    }
    if (why) {
        snprintf(err, errlen, "%s: a %s item %s", it->code, kind, why);
        return -1;
    }
    return 0;
}

/* attendance_weeks: a whole number of weeks, 0..52 ("-" or "0": none). */
static int catalogue_weeks(const char *v, int *out, char *err, size_t errlen)
{
    *out = 0;
    if (strcmp(v, "-") == 0)
        return 0;
    size_t n = strlen(v);
    if (n == 0 || n > 2 || strspn(v, "0123456789") != n || atoi(v) > CATALOGUE_WEEKS_MAX) {
        snprintf(err, errlen, "attendance_weeks \"%.10s\" is not a number of weeks 0..%d", v,
                 CATALOGUE_WEEKS_MAX);
        return -1;
    }
    *out = atoi(v);
    return 0;
}

/* f holds ncols fields (CATALOGUE_NCOLS_MIN or CATALOGUE_NCOLS). */
static int catalogue_item(rules_item *it, char **f, int ncols, char *err, size_t errlen)
{
    memset(it, 0, sizeof(*it));
    const char *code = f[0];
    size_t cl = strlen(code);
    if (cl < 2 || cl > 31 || !isupper((unsigned char)code[0])) {
        snprintf(err, errlen, "code \"%.32s\" must be 2-31 of A-Z 0-9 - starting with a letter",
                 code);
        return -1;
    }
    for (size_t i = 0; i < cl; i++)
        if (!isupper((unsigned char)code[i]) && !isdigit((unsigned char)code[i]) &&
            code[i] != '-') {
            snprintf(err, errlen, "code \"%.32s\" must be 2-31 of A-Z 0-9 -", code);
            return -1;
        }
    strcpy(it->code, code);
    if (catalogue_pick(f[1], catalogue_categories, 4) < 0) {
        snprintf(err, errlen, "%s: unknown category \"%.24s\"", code, f[1]);
        return -1;
    }
    int unit = catalogue_pick(f[5], catalogue_units, RULES_UNITS);
    int tier = catalogue_pick(f[9], catalogue_tiers, 4);
    if (unit < 0 || tier < 0) {
        snprintf(err, errlen, "%s: unknown %s \"%.16s\"", code, unit < 0 ? "unit" : "tier",
                 unit < 0 ? f[5] : f[9]);
        return -1;
    }
    it->unit = (rules_unit)unit;
    it->tier = (rules_tier)tier;
    char why[200];
    if (catalogue_copy(it->category, sizeof(it->category), f[1], "category", why, sizeof(why)) ||
        catalogue_copy(it->name_zh, sizeof(it->name_zh), f[2], "name_zh", why, sizeof(why)) ||
        catalogue_copy(it->name_en, sizeof(it->name_en), f[3], "name_en", why, sizeof(why)) ||
        catalogue_copy(it->group, sizeof(it->group), f[4], "group", why, sizeof(why)) ||
        catalogue_copy(it->eligibility, sizeof(it->eligibility), f[10], "eligibility", why,
                       sizeof(why)) ||
        catalogue_copy(it->exclusive, sizeof(it->exclusive), f[13], "exclusive", why,
                       sizeof(why)) ||
        catalogue_copy(it->programme, sizeof(it->programme), f[15], "programme", why,
                       sizeof(why)) ||
        catalogue_copy(it->procedure, sizeof(it->procedure), f[20], "procedure", why,
                       sizeof(why)) ||
        catalogue_copy(it->legal_basis, sizeof(it->legal_basis), f[21], "legal_basis", why,
                       sizeof(why)) ||
        catalogue_fen(f[8], "standard_fen", &it->standard_fen, why, sizeof(why)) ||
        catalogue_fen(f[11], "annual_cap_fen", &it->annual_cap_fen, why, sizeof(why)) ||
        catalogue_fen(f[12], "daily_cap_fen", &it->daily_cap_fen, why, sizeof(why)) ||
        catalogue_flag(f[16], "issued", &it->issued, why, sizeof(why)) ||
        catalogue_flag(f[19], "default", &it->is_default, why, sizeof(why)) ||
        catalogue_flag(f[7], "application", &it->application, why, sizeof(why)) ||
        rules_expr_parse(it->eligibility, &it->expr, why, sizeof(why)) ||
        rules_date_parse(f[17], &it->from_day, why, sizeof(why))) {
        snprintf(err, errlen, "%s: %s", code, why);
        return -1;
    }
    if (it->name_zh[0] == '\0' || it->name_en[0] == '\0' || it->group[0] == '\0' ||
        it->programme[0] == '\0') {
        snprintf(err, errlen, "%s: name_zh, name_en, group and programme are required", code);
        return -1;
    }
    /* the fund shares: a bad list refuses the whole file, naming the item */
    if (shares_parse(f[14], &it->shares, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "%s: fund_source: %s", code, why);
        return -1;
    }
    snprintf(it->fund_source, sizeof(it->fund_source), "%s",
             shares_level_name(it->shares.level[0]));
    shares_format(&it->shares, it->fund_shares, sizeof(it->fund_shares));
    if (strcmp(f[18], "-") != 0) {
        if (rules_date_parse(f[18], &it->to_day, why, sizeof(why)) < 0) {
            snprintf(err, errlen, "%s: effective_to: %s", code, why);
            return -1;
        }
        if (it->to_day <= it->from_day) {
            snprintf(err, errlen, "%s: effective_to is not after effective_from", code);
            return -1;
        }
    }
    int kind = directory_kind_parse(f[6]);
    if (kind < 0) {
        snprintf(err, errlen, "%s: unknown kind \"%.16s\" (credit, priced, quote, reimburse, cash)",
                 code, f[6]);
        return -1;
    }
    it->kind = (directory_kind)kind;
    if (ncols > CATALOGUE_NCOLS_MIN &&
        catalogue_weeks(f[22], &it->attendance_weeks, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "%s: %s", code, why);
        return -1;
    }
    snprintf(it->credit_ends, sizeof(it->credit_ends), "%s",
             ncols > CATALOGUE_NCOLS_MIN + 1 ? f[23] : "never");
    if (!calendar_credit_rule_ok(it->credit_ends)) {
        snprintf(err, errlen,
                 "%s: credit_ends \"%.16s\" is not month, year, grace:N (1..366) or never", code,
                 f[23]);
        return -1;
    }
    if (strcmp(it->credit_ends, "never") != 0 && directory_kind_pays_person(it->kind)) {
        snprintf(err, errlen,
                 "%s: credit_ends needs an item credited to the card (credit, priced or quote), "
                 "not a %s item, paid into the person's own account: write never",
                 code, directory_kind_name(it->kind));
        return -1;
    }
    if (it->attendance_weeks > 0 && directory_kind_pays_person(it->kind)) {
        snprintf(err, errlen,
                 "%s: attendance_weeks needs an item swiped at a provider (credit, priced or "
                 "quote), not a %s item",
                 code, directory_kind_name(it->kind));
        return -1;
    }
    return catalogue_kind_check(it, err, errlen);
}

/* One row of the tier tables: tier, when, value, legal_basis. */
static int catalogue_tier_row(catalogue *c, char **f, int lineno, char *err, size_t errlen)
{
    if (c->tiers->n >= RULES_TIER_ROWS_MAX) {
        snprintf(err, errlen, "more than %d tier rows", RULES_TIER_ROWS_MAX);
        return -1;
    }
    int k = c->tiers->n;
    rules_tier_row *row = &c->tiers->rows[k];
    int tier = catalogue_pick(f[0], catalogue_tiers, 4);
    if (tier <= RULES_TIER_FLAT) {
        snprintf(err, errlen, "tier \"%.16s\" is not care, dibao30 or limb-rehab", f[0]);
        return -1;
    }
    char why[200];
    row->tier = (rules_tier)tier;
    row->line = lineno;
    if (rules_expr_parse(f[1], &row->when, why, sizeof(why)) < 0 ||
        catalogue_copy(c->tier_when[k], sizeof(c->tier_when[k]), f[1], "when", why, sizeof(why)) ||
        catalogue_copy(c->tier_basis[k], sizeof(c->tier_basis[k]), f[3], "legal_basis", why,
                       sizeof(why)) ||
        catalogue_fen(f[2], "value", &row->value, why, sizeof(why))) {
        snprintf(err, errlen, "tier %s: %s", f[0], why);
        return -1;
    }
    if (row->tier == RULES_TIER_DIBAO30 && row->value > 10000) {
        snprintf(err, errlen, "tier dibao30: value %lld is basis points of the standard, 0..10000",
                 (long long)row->value);
        return -1;
    }
    if (c->tier_basis[k][0] == '\0' || strcmp(f[3], "-") == 0) {
        snprintf(err, errlen,
                 "tier %s: legal_basis is required (the seed and sentence, or why "
                 "the figure is a local default)",
                 f[0]);
        return -1;
    }
    c->tiers->n++;
    return 0;
}

/* For every person of a grid (grade 1-4, care level 0-3, every category
 * and household, ages 0-23 months and 2-100 years) eligible for an item of
 * a tier, exactly one row of the tier must hold: a gap would pay nothing
 * to someone the item promises money, an overlap would depend on the
 * rows' order. */
static int catalogue_tiers_check(const catalogue *c, char *err, size_t errlen)
{
    static const char *const cats[] = {"visual",       "hearing",     "speech",  "limb",
                                       "intellectual", "psychiatric", "multiple"};
    static const char *const households[] = {"none", "dibao", "near-poor"};
    int32_t day = rules_days(2026, 6, 15);
    for (int i = 0; i < c->nitems; i++) {
        const rules_item *it = &c->items[i];
        bool rows = it->tier == RULES_TIER_FLAT;
        for (int k = 0; k < c->tiers->n && !rows; k++)
            rows = c->tiers->rows[k].tier == it->tier;
        if (!rows) {
            snprintf(err, errlen, "item %s has tier %s, and the catalogue has no %s rows", it->code,
                     catalogue_tiers[it->tier], catalogue_tiers[it->tier]);
            return -1;
        }
    }
    for (int age = 0; age < 24 + 99; age++) {
        /* months 0..23, then years 2..100; the 15th of a month */
        int back = age < 24 ? age : (age - 22) * 12;
        int mi = 2026 * 12 + 5 - back;
        int32_t birth = rules_days(mi / 12, mi % 12 + 1, 15);
        for (int g = 1; g <= 4; g++)
            for (int care = 0; care <= 3; care++)
                for (size_t ci = 0; ci < sizeof(cats) / sizeof(cats[0]); ci++)
                    for (size_t hi = 0; hi < 3; hi++) {
                        rules_person p = {cats[ci], households[hi], "active", g,
                                          care,     birth,          NULL,     NULL};
                        for (int i = 0; i < c->nitems; i++) {
                            const rules_item *it = &c->items[i];
                            if (it->tier == RULES_TIER_FLAT || !rules_eligible(&it->expr, &p, day))
                                continue;
                            int first = -1, second = -1;
                            for (int k = 0; k < c->tiers->n && second < 0; k++) {
                                const rules_tier_row *r = &c->tiers->rows[k];
                                if (r->tier != it->tier || !rules_eligible(&r->when, &p, day))
                                    continue;
                                if (first < 0)
                                    first = k;
                                else
                                    second = k;
                            }
                            if (first >= 0 && second < 0)
                                continue;
                            char who[160];
                            snprintf(who, sizeof(who),
                                     "grade %d, care level %d, %s, household %s, age %d %s", g,
                                     care, cats[ci], households[hi], age < 24 ? age : age - 22,
                                     age < 24 ? "months" : "years");
                            if (first < 0)
                                snprintf(err, errlen,
                                         "tier %s has a gap: no row holds for %s, who is "
                                         "eligible for %s",
                                         catalogue_tiers[it->tier], who, it->code);
                            else
                                snprintf(err, errlen,
                                         "tier %s has an overlap: the rows of lines %d and %d "
                                         "both hold for %s",
                                         catalogue_tiers[it->tier], c->tiers->rows[first].line,
                                         c->tiers->rows[second].line, who);
                            return -1;
                        }
                    }
    }
    return 0;
}

static int catalogue_parse_with(catalogue *c, const char *buf, size_t len, bool grid, char *err,
                                size_t errlen)
{
    memset(c, 0, sizeof(*c));
    c->items = calloc(CATALOGUE_MAX_ITEMS, sizeof(rules_item));
    c->tiers = calloc(1, sizeof(*c->tiers));
    c->tier_when = calloc(RULES_TIER_ROWS_MAX, sizeof(*c->tier_when));
    c->tier_basis = calloc(RULES_TIER_ROWS_MAX, sizeof(*c->tier_basis));
    if (c->items == NULL || c->tiers == NULL || c->tier_when == NULL || c->tier_basis == NULL) {
        catalogue_free(c);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char line[2048], why[256];
    char *f[CATALOGUE_NCOLS + 1];
    size_t pos = 0;
    int lineno = 0, l, ncols = 0;
    bool header = false, in_tiers = false;
    while ((l = csv_next_line(buf, len, &pos, line, sizeof(line))) != -1) {
        lineno++;
        if (l == -2) {
            snprintf(err, errlen, "line %d: too long or holds a NUL byte", lineno);
            goto fail;
        }
        if (strncmp(line, "# version: ", 11) == 0) {
            snprintf(c->version, sizeof(c->version), "%.*s", (int)strcspn(line + 11, "\r\n"),
                     line + 11);
            continue;
        }
        if (line[0] == '#' || line[strspn(line, " \t\r")] == '\0')
            continue;
        int n = csv_tsv_split(line, f, CATALOGUE_NCOLS + 1, why, sizeof(why));
        if (header && !in_tiers && n == CATALOGUE_TIER_NCOLS && strcmp(f[0], "tier") == 0) {
            for (int i = 0; i < CATALOGUE_TIER_NCOLS; i++)
                if (strcmp(f[i], catalogue_tier_columns[i]) != 0) {
                    snprintf(err, errlen, "line %d: tier column %d is \"%.20s\", expected %s",
                             lineno, i + 1, f[i], catalogue_tier_columns[i]);
                    goto fail;
                }
            in_tiers = true;
            continue;
        }
        if (in_tiers) {
            if (n != CATALOGUE_TIER_NCOLS) {
                snprintf(err, errlen, "line %d: %s", lineno,
                         n < 0 ? why : "a tier row has 4 columns: tier when value legal_basis");
                goto fail;
            }
            if (catalogue_tier_row(c, f, lineno, why, sizeof(why)) < 0) {
                snprintf(err, errlen, "line %d: %s", lineno, why);
                goto fail;
            }
            continue;
        }
        if (n < 0 || (header ? n != ncols : n < CATALOGUE_NCOLS_MIN || n > CATALOGUE_NCOLS)) {
            snprintf(err, errlen, "line %d: %s", lineno,
                     n < 0 ? why : "wrong number of columns (see the header)");
            goto fail;
        }
        if (!header) {
            ncols = n;
            for (int i = 0; i < ncols; i++)
                /* "wallet": the fifth column's name before items were
                 * earmarked (a catalogue written then still loads) */
                if (strcmp(f[i], catalogue_columns[i]) != 0 &&
                    !(i == 4 && strcmp(f[i], "wallet") == 0)) {
                    snprintf(err, errlen, "line %d: column %d is \"%.20s\", expected %s", lineno,
                             i + 1, f[i], catalogue_columns[i]);
                    goto fail;
                }
            header = true;
            continue;
        }
        if (c->nitems >= CATALOGUE_MAX_ITEMS) {
            snprintf(err, errlen, "line %d: more than %d items", lineno, CATALOGUE_MAX_ITEMS);
            goto fail;
        }
        if (catalogue_item(&c->items[c->nitems], f, ncols, why, sizeof(why)) < 0) {
            snprintf(err, errlen, "line %d: %s", lineno, why);
            goto fail;
        }
        if (catalogue_find(c, c->items[c->nitems].code) != NULL) {
            snprintf(err, errlen, "line %d: item %s appears twice", lineno,
                     c->items[c->nitems].code);
            goto fail;
        }
        c->nitems++;
    }
    if (c->version[0] == '\0' || c->nitems == 0) {
        snprintf(err, errlen, "no \"# version: \" line or no items");
        goto fail;
    }
    for (int i = 0; i < c->nitems; i++)
        c->items[i].tiers = c->tiers;
    if (grid && catalogue_tiers_check(c, err, errlen) < 0)
        goto fail;
    return 0;
fail:
    catalogue_free(c);
    return -1;
}

int catalogue_parse(catalogue *c, const char *buf, size_t len, char *err, size_t errlen)
{
    return catalogue_parse_with(c, buf, len, true, err, errlen);
}

int catalogue_parse_stored(catalogue *c, const char *buf, size_t len, char *err, size_t errlen)
{
    return catalogue_parse_with(c, buf, len, false, err, errlen);
}

int catalogue_load_file(catalogue *c, const char *path, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *buf = malloc(1 << 20);
    size_t n = buf ? fread(buf, 1, 1 << 20, fp) : 0;
    fclose(fp);
    if (buf == NULL || n == (1 << 20)) {
        free(buf);
        snprintf(err, errlen, "%s: larger than 1 MiB", path);
        return -1;
    }
    int rc = catalogue_parse(c, buf, n, err, errlen);
    free(buf);
    return rc;
}

void catalogue_free(catalogue *c)
{
    free(c->items);
    free(c->tiers);
    free(c->tier_when);
    free(c->tier_basis);
    c->tiers = NULL;
    c->tier_when = NULL;
    c->tier_basis = NULL;
    c->items = NULL;
    c->nitems = 0;
}

const rules_item *catalogue_find(const catalogue *c, const char *code)
{
    for (int i = 0; i < c->nitems; i++)
        if (strcmp(c->items[i].code, code) == 0)
            return &c->items[i];
    return NULL;
}

int catalogue_version_pick(const catalogue_version *v, int n, int32_t day, int32_t *until)
{
    int best = -1;
    *until = 0;
    for (int i = 0; i < n; i++) {
        if (v[i].effective_day <= day) {
            if (best < 0 || v[i].effective_day > v[best].effective_day ||
                (v[i].effective_day == v[best].effective_day && v[i].id > v[best].id))
                best = i;
        } else if (*until == 0 || v[i].effective_day < *until) {
            *until = v[i].effective_day;
        }
    }
    return best;
}

/* The compared fields of an item, by the file's column names. */
static const char *const catalogue_diff_fields[] = {
    "category",       "name_zh",          "name_en",      "group",       "unit",
    "kind",           "application",      "standard_fen", "tier",        "eligibility",
    "annual_cap_fen", "daily_cap_fen",    "exclusive",    "fund_source", "programme",
    "issued",         "effective_from",   "effective_to", "default",     "procedure",
    "legal_basis",    "attendance_weeks", "credit_ends",
};
#define CATALOGUE_DIFF_NFIELDS                                                                     \
    ((int)(sizeof(catalogue_diff_fields) / sizeof(catalogue_diff_fields[0])))

/* Field k of it, as the file writes it, into out. */
static void catalogue_diff_value(const rules_item *it, int k, char *out, size_t len)
{
    char d[RULES_DATE_LEN];
    switch (k) {
    case 0:
        snprintf(out, len, "%s", it->category);
        break;
    case 1:
        snprintf(out, len, "%s", it->name_zh);
        break;
    case 2:
        snprintf(out, len, "%s", it->name_en);
        break;
    case 3:
        snprintf(out, len, "%s", it->group);
        break;
    case 4:
        snprintf(out, len, "%s", catalogue_units[it->unit]);
        break;
    case 5:
        snprintf(out, len, "%s", directory_kind_name(it->kind));
        break;
    case 6:
        snprintf(out, len, "%s", it->application ? "yes" : "no");
        break;
    case 7:
        snprintf(out, len, "%lld", (long long)it->standard_fen);
        break;
    case 8:
        snprintf(out, len, "%s", catalogue_tiers[it->tier]);
        break;
    case 9:
        snprintf(out, len, "%s", it->eligibility);
        break;
    case 10:
        snprintf(out, len, "%lld", (long long)it->annual_cap_fen);
        break;
    case 11:
        snprintf(out, len, "%lld", (long long)it->daily_cap_fen);
        break;
    case 12:
        snprintf(out, len, "%s", it->exclusive[0] ? it->exclusive : "-");
        break;
    case 13:
        snprintf(out, len, "%s", it->fund_shares);
        break;
    case 14:
        snprintf(out, len, "%s", it->programme);
        break;
    case 15:
        snprintf(out, len, "%s", it->issued ? "yes" : "no");
        break;
    case 16:
        snprintf(out, len, "%s", rules_date_format(d, it->from_day));
        break;
    case 17:
        snprintf(out, len, "%s", it->to_day ? rules_date_format(d, it->to_day) : "-");
        break;
    case 18:
        snprintf(out, len, "%s", it->is_default ? "yes" : "no");
        break;
    case 19:
        snprintf(out, len, "%s", it->procedure);
        break;
    case 20:
        snprintf(out, len, "%s", it->legal_basis);
        break;
    case 21:
        snprintf(out, len, "%d", it->attendance_weeks);
        break;
    default:
        snprintf(out, len, "%s", it->credit_ends);
        break;
    }
}

/* The index of the tier row of c named like row k of o, or -1. */
static int catalogue_diff_tier(const catalogue *c, const catalogue *o, int k)
{
    for (int i = 0; i < c->tiers->n; i++)
        if (c->tiers->rows[i].tier == o->tiers->rows[k].tier &&
            strcmp(c->tier_when[i], o->tier_when[k]) == 0)
            return i;
    return -1;
}

int catalogue_diff(const catalogue *a, const catalogue *b, catalogue_diff_fn *fn, void *ctx)
{
    int n = 0, i = 0, j = 0;
    char va[512], vb[512];
    /* a's items in its order (code order, as the store reads them back), then b's new ones */
    for (i = 0; i < a->nitems; i++) {
        const rules_item *x = &a->items[i], *y = catalogue_find(b, x->code);
        if (y == NULL) {
            fn(ctx, '-', x->code, NULL, NULL, NULL);
            n++;
            continue;
        }
        for (int k = 0; k < CATALOGUE_DIFF_NFIELDS; k++) {
            catalogue_diff_value(x, k, va, sizeof(va));
            catalogue_diff_value(y, k, vb, sizeof(vb));
            if (strcmp(va, vb) != 0) {
                fn(ctx, '~', x->code, catalogue_diff_fields[k], va, vb);
                n++;
            }
        }
    }
    for (j = 0; j < b->nitems; j++)
        if (catalogue_find(a, b->items[j].code) == NULL) {
            fn(ctx, '+', b->items[j].code, NULL, NULL, NULL);
            n++;
        }
    char name[200];
    for (i = 0; i < a->tiers->n; i++) {
        snprintf(name, sizeof(name), "%s %s", catalogue_tiers[a->tiers->rows[i].tier],
                 a->tier_when[i]);
        int k = catalogue_diff_tier(b, a, i);
        if (k < 0) {
            fn(ctx, '-', name, NULL, NULL, NULL);
            n++;
            continue;
        }
        snprintf(va, sizeof(va), "%lld", (long long)a->tiers->rows[i].value);
        snprintf(vb, sizeof(vb), "%lld", (long long)b->tiers->rows[k].value);
        if (strcmp(va, vb) != 0) {
            fn(ctx, '~', name, "value", va, vb);
            n++;
        }
        if (strcmp(a->tier_basis[i], b->tier_basis[k]) != 0) {
            fn(ctx, '~', name, "legal_basis", a->tier_basis[i], b->tier_basis[k]);
            n++;
        }
    }
    for (j = 0; j < b->tiers->n; j++)
        if (catalogue_diff_tier(a, b, j) < 0) {
            snprintf(name, sizeof(name), "%s %s", catalogue_tiers[b->tiers->rows[j].tier],
                     b->tier_when[j]);
            fn(ctx, '+', name, NULL, NULL, NULL);
            n++;
        }
    return n;
}
