/*
 * test_versions: catalogue versions in force by date
 * (0028_catalogue_versions.sql). One row per case: which version is in
 * force on a day and until when (catalogue_version_pick, the rule the SQL
 * function elig_catalogue_version_at mirrors); a month's grant across a
 * mid-month standards change (rules_plan_period: old rate for the days
 * before, new rate from the date, one rounding); an item added or dropped
 * by a version; and catalogue_diff (added, removed, changed field old →
 * new, tier rows). The catalogue is the repository's, edited in memory.
 */
#include "catalogue.h"
#include "check.h"
#include "rules.h"

#include <stdlib.h>
#include <string.h>

static char file[1 << 16];

/* The repository's catalogue with each from[i] replaced by to[i]. */
static int edited(catalogue *c, const char *const *from, const char *const *to, int n)
{
    static char copy[1 << 16];
    snprintf(copy, sizeof(copy), "%s", file);
    for (int i = 0; i < n; i++) {
        char *at = strstr(copy, from[i]);
        if (at == NULL) {
            CHECK(false, "%s not in the file", from[i]);
            return -1;
        }
        static char tmp[1 << 16];
        snprintf(tmp, sizeof(tmp), "%.*s%s%s", (int)(at - copy), copy, to[i], at + strlen(from[i]));
        snprintf(copy, sizeof(copy), "%s", tmp);
    }
    char err[256] = "";
    int rc = catalogue_parse(c, copy, strlen(copy), err, sizeof(err));
    CHECK(rc == 0, "edited catalogue: %s", err);
    return rc;
}

static void test_pick(void)
{
    /* versions loaded in this order: 1 from 2000-01-01, 2 from 2027-01-15,
     * 3 from 2026-07-01 (loaded later, dated earlier), 4 from 2027-01-15
     * again (a correction of 2: same day, later loaded, wins) */
    const catalogue_version v[] = {{1, rules_days(2000, 1, 1)},
                                   {2, rules_days(2027, 1, 15)},
                                   {3, rules_days(2026, 7, 1)},
                                   {4, rules_days(2027, 1, 15)}};
    static const struct {
        int y, m, d, nv, want_id, uy, um, ud;
    } rows[] = {
        {1999, 12, 31, 4, 0, 2000, 1, 1},  /* before any: none, until the first */
        {2000, 1, 1, 4, 1, 2026, 7, 1},    /* the first day of version 1 */
        {2026, 6, 30, 4, 1, 2026, 7, 1},   /* the day before 3 */
        {2026, 7, 1, 4, 3, 2027, 1, 15},   /* 3 from its date, though loaded after 2 */
        {2027, 1, 14, 4, 3, 2027, 1, 15},  /* the last day of 3 */
        {2027, 1, 15, 4, 4, 0, 0, 0},      /* two on one day: the later loaded */
        {2031, 5, 5, 4, 4, 0, 0, 0},       /* the latest, open-ended */
        {2027, 1, 15, 2, 2, 0, 0, 0},      /* before 3 and 4 were loaded */
        {2026, 12, 31, 2, 1, 2027, 1, 15}, /* likewise */
        {2026, 12, 31, 0, 0, 0, 0, 0},     /* no version at all */
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int32_t until = -1;
        int k = catalogue_version_pick(v, rows[i].nv, rules_days(rows[i].y, rows[i].m, rows[i].d),
                                       &until);
        int got = k < 0 ? 0 : v[k].id;
        int32_t want_until = rows[i].uy ? rules_days(rows[i].uy, rows[i].um, rows[i].ud) : 0;
        CHECK(got == rows[i].want_id && until == want_until, "row %zu: version %d until %d", i, got,
              (int)until);
    }
}

static rules_person person(const char *category, int grade, int care, const char *household,
                           int age)
{
    rules_person p = {category, household, "active", grade, care, rules_days(2026 - age, 6, 1),
                      NULL,     NULL};
    return p;
}

/* The grant of code among the n of g, or 0. */
static int64_t grant_of(const rules_grant *g, int n, const char *code)
{
    for (int i = 0; i < n; i++)
        if (strcmp(g[i].item->code, code) == 0)
            return g[i].amount_fen;
    return 0;
}

static void test_plan(const catalogue *v1)
{
    /* version 2 from 2027-01-15: the care subsidy's top figure 1010 → 1200
     * yuan, the transport allowance dropped, a new item added */
    const char *from[] = {"care\tgrade=1;care=3\t101000", "D06-SCHOOL-TRANSPORT\t",
                          "S05-RESIDENTIAL\t"};
    const char *to[] = {"care\tgrade=1;care=3\t120000", "D96-SCHOOL-TRANSPORT\t",
                        "S05-RESIDENTIAL\t"};
    catalogue v2;
    if (edited(&v2, from, to, 3) < 0)
        return;
    int32_t jan1 = rules_days(2027, 1, 1), jan15 = rules_days(2027, 1, 15),
            feb1 = rules_days(2027, 2, 1);
    rules_span spans[2] = {{v1->items, v1->nitems, jan1, jan15},
                           {v2.items, v2.nitems, jan15, feb1}};
    rules_plan *pl = calloc(1, sizeof(*pl)), *one = calloc(1, sizeof(*one));
    char err[128];
    CHECK(rules_plan_make(pl, spans, 2, err, sizeof(err)) == 0, "plan: %s", err);
    CHECK(pl->ncodes == v1->nitems + 1, "codes of both versions: %d", pl->ncodes);
    rules_grant g[RULES_PLAN_CODES], h[RULES_PLAN_CODES];
    static const struct {
        const char *category, *household, *code;
        int grade, care, age;
        int64_t fen;
    } rows[] = {
        /* 14 days at 1010 yuan, 17 at 1200: (101000*14 + 120000*17) / 31 */
        {"limb", "none", "S01-CARE", 1, 3, 40, (101000 * 14 + 120000 * 17) / 31},
        /* a figure the version does not change: the whole month */
        {"limb", "none", "S01-CARE", 2, 3, 40, 67500},
        /* dropped from the 15th: 14 days of 100 yuan */
        {"limb", "none", "D06-SCHOOL-TRANSPORT", 2, 0, 10, 10000 * 14 / 31},
        /* added from the 15th: 17 days */
        {"limb", "none", "D96-SCHOOL-TRANSPORT", 2, 0, 10, 10000 * 17 / 31},
        /* not eligible in either */
        {"limb", "none", "S01-CARE", 4, 0, 40, 0},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        rules_person p =
            person(rows[i].category, rows[i].grade, rows[i].care, rows[i].household, rows[i].age);
        rules_segment s = {rules_days(2026, 1, 1), rules_days(2030, 1, 1), p};
        int n = rules_plan_period(pl, &s, 1, 2027, 1, g);
        int64_t got = grant_of(g, n, rows[i].code);
        CHECK(got == rows[i].fen, "row %zu: %s %lld, want %lld", i, rows[i].code, (long long)got,
              (long long)rows[i].fen);
    }
    /* the grant names the item of the version of the month's first day */
    rules_person p = person("limb", 1, 3, "none", 40);
    rules_segment s = {rules_days(2026, 1, 1), rules_days(2030, 1, 1), p};
    int n = rules_plan_period(pl, &s, 1, 2027, 1, g);
    for (int i = 0; i < n; i++)
        if (strcmp(g[i].item->code, "S01-CARE") == 0)
            CHECK(g[i].item == catalogue_find(v1, "S01-CARE"), "the first day's item");
    /* one version over the month: the same grants as rules_period, for
     * every person of a small grid */
    spans[0] = (rules_span){v1->items, v1->nitems, INT32_MIN, INT32_MAX};
    CHECK(rules_plan_make(one, spans, 1, err, sizeof(err)) == 0, "plan: %s", err);
    static const char *const cats[] = {"limb", "intellectual", "hearing", "psychiatric"};
    static const char *const hh[] = {"none", "dibao", "near-poor"};
    int same = 0, cases = 0;
    for (int c = 0; c < 4; c++)
        for (int gr = 1; gr <= 4; gr++)
            for (int care = 0; care <= 3; care++)
                for (int k = 0; k < 3; k++)
                    for (int age = 1; age < 70; age += 11) {
                        rules_person q = person(cats[c], gr, care, hh[k], age);
                        q.granted = ",R02-AUTISM,R04-INTELLECT-CHILD,";
                        rules_segment t = {rules_days(2026, 1, 1), rules_days(2030, 1, 1), q};
                        int a = rules_period(v1->items, v1->nitems, &t, 1, 2026, 11, g);
                        int b = rules_plan_period(one, &t, 1, 2026, 11, h);
                        bool eq = a == b;
                        for (int j = 0; eq && j < a; j++)
                            eq = g[j].item == h[j].item && g[j].amount_fen == h[j].amount_fen;
                        same += eq;
                        cases++;
                    }
    CHECK(same == cases, "one version = rules_period: %d of %d", same, cases);
    /* too many versions in a month */
    rules_span many[RULES_SPANS_MAX + 1];
    for (int i = 0; i <= RULES_SPANS_MAX; i++)
        many[i] = (rules_span){v1->items, v1->nitems, jan1 + i, jan1 + i + 1};
    CHECK(rules_plan_make(one, many, RULES_SPANS_MAX + 1, err, sizeof(err)) < 0, "9 versions");
    free(pl);
    free(one);
    catalogue_free(&v2);
}

typedef struct diffs {
    char lines[16][256];
    int n;
} diffs;

static void diff_line(void *ctx, char op, const char *code, const char *field, const char *old,
                      const char *now)
{
    diffs *d = ctx;
    if (d->n < 16)
        snprintf(d->lines[d->n], sizeof(d->lines[0]), "%c %s %s %s %s", op, code,
                 field ? field : "", old ? old : "", now ? now : "");
    d->n++;
}

static void test_diff(const catalogue *v1)
{
    static const struct {
        const char *from[2], *to[2];
        int nedits, n;
        const char *want[2];
    } rows[] = {
        {{"care\tgrade=1;care=3\t101000"},
         {"care\tgrade=1;care=3\t120000"},
         1,
         1,
         {"~ care grade=1;care=3 value 101000 120000"}},
        {{"\t10000\tflat\tage>=6;age<18\t"},
         {"\t12000\tflat\tage>=6;age<16\t"},
         1,
         2,
         {"~ D06-SCHOOL-TRANSPORT standard_fen 10000 12000",
          "~ D06-SCHOOL-TRANSPORT eligibility age>=6;age<18 age>=6;age<16"}},
        {{"D06-SCHOOL-TRANSPORT\t"},
         {"D96-SCHOOL-TRANSPORT\t"},
         1,
         2,
         {"- D06-SCHOOL-TRANSPORT   ", "+ D96-SCHOOL-TRANSPORT   "}},
        {{"# version: 2026.1"}, {"# version: 2027.1"}, 1, 0, {NULL}}, /* the label only */
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        catalogue v2;
        if (edited(&v2, rows[i].from, rows[i].to, rows[i].nedits) < 0)
            continue;
        diffs d = {.n = 0};
        int n = catalogue_diff(v1, &v2, diff_line, &d);
        CHECK(n == rows[i].n && d.n == n, "row %zu: %d differences, want %d (%s)", i, n, rows[i].n,
              d.n ? d.lines[0] : "");
        for (int k = 0; k < rows[i].n && k < d.n; k++)
            CHECK(strcmp(d.lines[k], rows[i].want[k]) == 0, "row %zu: \"%s\", want \"%s\"", i,
                  d.lines[k], rows[i].want[k]);
        /* and back: the same differences, old and new swapped */
        diffs back = {.n = 0};
        CHECK(catalogue_diff(&v2, v1, diff_line, &back) == rows[i].n, "row %zu back", i);
        catalogue_free(&v2);
    }
    diffs d = {.n = 0};
    CHECK(catalogue_diff(v1, v1, diff_line, &d) == 0, "a version against itself");
}

int main(void)
{
    FILE *fp = fopen(ELIG_CATALOGUE, "rb");
    if (fp == NULL)
        return 1;
    size_t n = fread(file, 1, sizeof(file) - 1, fp);
    fclose(fp);
    file[n] = '\0';
    catalogue v1;
    char err[256];
    if (catalogue_parse(&v1, file, n, err, sizeof(err)) < 0) {
        fprintf(stderr, "catalogue: %s\n", err);
        return 1;
    }
    test_pick();
    test_plan(&v1);
    test_diff(&v1);
    catalogue_free(&v1);
    return CHECK_DONE();
}
