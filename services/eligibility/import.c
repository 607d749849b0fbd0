/*
 * import: row checks of the person and provider lists. See import.h.
 */
#include "import.h"

#include "ident.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const import_person_header[IMPORT_PERSON_COLS] = {
    "national_id", "name", "category", "grade",     "care_level", "birth_date",
    "district",    "town", "village",  "household", "phone"};
const char *const import_provider_header[IMPORT_PROVIDER_COLS] = {"provider_id", "name", "district",
                                                                  "category", "items"};
const char *const import_feed_header[IMPORT_FEED_COLS] = {"national_id", "change", "effective_date",
                                                          "household", "grade"};

/* The same columns as civil-affairs staff head them (README.md, "Imported
 * lists"); "（" and "）" match "(" and ")". */
static const char *const import_person_header_zh[IMPORT_PERSON_COLS] = {
    "身份证号", "姓名", "残疾类别", "残疾等级", "护理等级", "出生日期",
    "区县",     "街道", "村(社区)", "低保情况", "联系电话"};
static const char *const import_provider_header_zh[IMPORT_PROVIDER_COLS] = {
    "机构编号", "机构名称", "区县", "机构类别", "服务项目"};
static const char *const import_feed_header_zh[IMPORT_FEED_COLS] = {
    "身份证号", "变更类型", "生效日期", "低保情况", "残疾等级"};

const import_columns import_person_columns = {import_person_header, import_person_header_zh,
                                              IMPORT_PERSON_COLS};
const import_columns import_provider_columns = {import_provider_header, import_provider_header_zh,
                                                IMPORT_PROVIDER_COLS};
const import_columns import_feed_columns = {import_feed_header, import_feed_header_zh,
                                            IMPORT_FEED_COLS};

static const char *const import_categories[] = {"visual",       "hearing",     "speech",   "limb",
                                                "intellectual", "psychiatric", "multiple", NULL};
static const char *const import_households[] = {"none", "dibao", "near-poor", NULL};
static const char *const import_prov_categories[] = {"rehabilitation", "employment", "education",
                                                     "social-security", NULL};

static bool import_one_of(const char *v, const char *const *names)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(v, names[i]) == 0)
            return true;
    return false;
}

static int import_small_int(const char *v, int lo, int hi, int *out)
{
    if (strlen(v) != 1 || !isdigit((unsigned char)v[0]) || v[0] - '0' < lo || v[0] - '0' > hi)
        return -1;
    *out = v[0] - '0';
    return 0;
}

/* A text field: a line break in it (a cell wrapped in the spreadsheet,
 * CRLF or LF) becomes one space, in place; then it must be there when
 * required, at most max bytes and free of other control characters. */
static int import_text(char *v, const char *col, size_t max, bool required, char *err,
                       size_t errlen)
{
    char *w = v;
    for (const char *r = v; *r != '\0';) {
        if (*r == '\r' || *r == '\n') {
            r += r[0] == '\r' && r[1] == '\n' ? 2 : 1; /* before w writes over it */
            *w++ = ' ';
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
    size_t n = strlen(v);
    if (required && n == 0) {
        snprintf(err, errlen, "%s is empty", col);
        return -1;
    }
    if (n > max) {
        snprintf(err, errlen, "%s is longer than %zu bytes", col, max);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20) {
            snprintf(err, errlen, "%s holds a control character", col);
            return -1;
        }
    return 0;
}

/* Whether the header cell names the column: spaces around it (ASCII, and
 * the ideographic U+3000 that Chinese input methods type) are ignored, and
 * full-width parentheses match ASCII ones. */
static bool import_column_is(const char *cell, const char *name)
{
    static const char ideo_space[] = "\xE3\x80\x80";
    const char *end = cell + strlen(cell);
    for (;;) {
        if (cell < end && (*cell == ' ' || *cell == '\t'))
            cell++;
        else if (end - cell >= 3 && memcmp(cell, ideo_space, 3) == 0)
            cell += 3;
        else if (end > cell && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        else if (end - cell >= 3 && memcmp(end - 3, ideo_space, 3) == 0)
            end -= 3;
        else
            break;
    }
    while (cell < end && *name != '\0') {
        if (*name == '(' && end - cell >= 3 && memcmp(cell, "（", 3) == 0) {
            cell += 3;
            name++;
        } else if (*name == ')' && end - cell >= 3 && memcmp(cell, "）", 3) == 0) {
            cell += 3;
            name++;
        } else if (*cell == *name) {
            cell++;
            name++;
        } else {
            return false;
        }
    }
    return cell == end && *name == '\0';
}

int import_header(char **f, int n, const import_columns *c, int *map, char *err, size_t errlen)
{
    int at[IMPORT_MAX_COLS] = {0}; /* the header column (from 1) of each list column */
    for (int i = 0; i < n; i++) {
        int j = 0;
        while (j < c->n && !import_column_is(f[i], c->en[j]) && !import_column_is(f[i], c->zh[j]))
            j++;
        if (j == c->n) {
            snprintf(err, errlen, "unknown column \"%.48s\" (column %d of the header)", f[i],
                     i + 1);
            return -1;
        }
        if (at[j] != 0) {
            snprintf(err, errlen,
                     "column \"%.48s\" (column %d of the header) repeats %s, column %d", f[i],
                     i + 1, c->en[j], at[j]);
            return -1;
        }
        at[j] = i + 1;
        map[i] = j;
    }
    for (int j = 0; j < c->n; j++)
        if (at[j] == 0) {
            snprintf(err, errlen, "no column %s (%s) in the header", c->en[j], c->zh[j]);
            return -1;
        }
    return 0;
}

int import_person_row(char **f, int n, int32_t today, import_person *p, char *err, size_t errlen)
{
    if (n != IMPORT_PERSON_COLS) {
        snprintf(err, errlen, "%d columns, expected %d", n, IMPORT_PERSON_COLS);
        return -1;
    }
    memset(p, 0, sizeof(*p));
    p->national_id = f[0];
    p->name = f[1];
    p->category = f[2];
    p->birth_date = f[5];
    p->district = f[6];
    p->town = f[7];
    p->village = f[8];
    p->household = f[9];
    p->phone = f[10];
    char why[160];
    if (ident_national_id_check(f[0], why, sizeof(why)) < 0) {
        snprintf(err, errlen, "national_id: %s", why);
        return -1;
    }
    if (import_text(f[1], "name", 64, true, err, errlen) < 0 ||
        import_text(f[6], "district", 64, true, err, errlen) < 0 ||
        import_text(f[7], "town", 64, true, err, errlen) < 0 ||
        import_text(f[8], "village", 64, true, err, errlen) < 0 ||
        import_text(f[10], "phone", 32, false, err, errlen) < 0)
        return -1;
    if (!import_one_of(f[2], import_categories)) {
        snprintf(err, errlen, "unknown category \"%.20s\"", f[2]);
        return -1;
    }
    if (import_small_int(f[3], 1, 4, &p->grade) < 0) {
        snprintf(err, errlen, "grade \"%.8s\" is not 1-4", f[3]);
        return -1;
    }
    if (import_small_int(f[4], 0, 3, &p->care_level) < 0) {
        snprintf(err, errlen, "care_level \"%.8s\" is not 0-3", f[4]);
        return -1;
    }
    if (rules_date_parse(f[5], &p->birth_day, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "birth_date: %s", why);
        return -1;
    }
    if (p->birth_day > today) {
        snprintf(err, errlen, "birth_date %s is in the future", f[5]);
        return -1;
    }
    if (!import_one_of(f[9], import_households)) {
        snprintf(err, errlen, "unknown household \"%.20s\" (none, dibao, near-poor)", f[9]);
        return -1;
    }
    return 0;
}

int import_provider_row(char **f, int n, import_provider *p, char *err, size_t errlen)
{
    if (n != IMPORT_PROVIDER_COLS) {
        snprintf(err, errlen, "%d columns, expected %d", n, IMPORT_PROVIDER_COLS);
        return -1;
    }
    p->provider_id = f[0];
    p->name = f[1];
    p->district = f[2];
    p->category = f[3];
    p->items = f[4];
    size_t l = strlen(f[0]);
    if (l == 0 || l > 64 ||
        strspn(f[0], "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789_-") != l) {
        snprintf(err, errlen, "provider_id \"%.24s\" must be 1-64 of A-Z a-z 0-9 _ -", f[0]);
        return -1;
    }
    if (import_text(f[1], "name", 128, true, err, errlen) < 0 ||
        import_text(f[2], "district", 64, true, err, errlen) < 0 ||
        import_text(f[4], "items", 1024, true, err, errlen) < 0)
        return -1;
    if (!import_one_of(f[3], import_prov_categories)) {
        snprintf(err, errlen, "unknown category \"%.20s\"", f[3]);
        return -1;
    }
    size_t il = strlen(f[4]);
    if (strspn(f[4], "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-;") != il || f[4][0] == ';' ||
        f[4][il - 1] == ';' || strstr(f[4], ";;")) {
        snprintf(err, errlen, "items \"%.24s\" must be item codes separated by ;", f[4]);
        return -1;
    }
    return 0;
}

int import_feed_row(char **f, int n, int32_t today, import_feed *p, char *err, size_t errlen)
{
    /* the values of onecard.v1.EligibilityChange and HouseholdStatus */
    static const struct {
        const char *name;
        int code;
    } changes[] = {{"household", 1}, {"death", 2}, {"issued", 3},
                   {"revoked", 4},   {"grade", 5}, {"moved-out", 6}};
    if (n != IMPORT_FEED_COLS) {
        snprintf(err, errlen, "%d columns, expected %d", n, IMPORT_FEED_COLS);
        return -1;
    }
    memset(p, 0, sizeof(*p));
    p->national_id = f[0];
    p->effective_date = f[2];
    char why[160];
    if (ident_national_id_check(f[0], why, sizeof(why)) < 0) {
        snprintf(err, errlen, "national_id: %s", why);
        return -1;
    }
    for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++)
        if (strcmp(f[1], changes[i].name) == 0)
            p->change_code = changes[i].code;
    if (p->change_code == 0) {
        snprintf(err, errlen,
                 "unknown change \"%.20s\" (death, revoked, issued, moved-out, household, grade)",
                 f[1]);
        return -1;
    }
    int32_t day;
    if (rules_date_parse(f[2], &day, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "effective_date: %s", why);
        return -1;
    }
    if (day > today + 366) {
        snprintf(err, errlen, "effective_date %s is more than a year in the future", f[2]);
        return -1;
    }
    if (p->change_code == 1) {
        p->household_code = strcmp(f[3], "none") == 0        ? 1
                            : strcmp(f[3], "dibao") == 0     ? 2
                            : strcmp(f[3], "near-poor") == 0 ? 3
                                                             : 0;
        if (p->household_code == 0) {
            snprintf(err, errlen, "household \"%.20s\" is not none, dibao or near-poor", f[3]);
            return -1;
        }
    }
    if (p->change_code == 5 || (p->change_code == 3 && f[4][0] != '\0')) {
        if (import_small_int(f[4], 1, 4, &p->grade) < 0) {
            snprintf(err, errlen, "grade \"%.8s\" is not 1-4", f[4]);
            return -1;
        }
    }
    return 0;
}
