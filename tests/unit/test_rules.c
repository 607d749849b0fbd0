/*
 * test_rules: the eligibility rule engine against the catalogue in the
 * repository (services/eligibility/catalogue/catalogue-2026.tsv): one row
 * per case, category x grade x care level x household x age -> the month's
 * amount of an item; then proration by effective dates, exclusive items,
 * what a card carries at the terminal (entitlements, exclusive groups,
 * the person's own tier cap, age limits), the catalogue parser's refusals,
 * national ids and Luhn (the CSV and TSV readers are test_csv's).
 */
#include "catalogue.h"
#include "check.h"
#include "common/card.h"
#include "ident.h"
#include "rules.h"

#include <string.h>

static catalogue cat;

/* A person born on the given day of 2026-11 minus age years. */
static rules_person person(const char *category, int grade, int care, const char *household,
                           int age)
{
    rules_person p = {category,
                      household,
                      "active",
                      grade,
                      care,
                      rules_days(2026 - age, 6, 1),
                      ",R02-AUTISM,R03-HEARING-CHILD,R04-INTELLECT-CHILD,R05-CP-CHILD,R11-INFANT,",
                      NULL};
    return p;
}

static int64_t month_of(const char *code, rules_person p)
{
    const rules_item *it = catalogue_find(&cat, code);
    if (it == NULL)
        return -1;
    rules_segment s = {rules_days(2026, 1, 1), rules_days(2027, 1, 1), p};
    return rules_item_amount(it, &s, 1, 2026, 11);
}

static void test_table(void)
{
    static const struct {
        const char *item, *category;
        int grade, care;
        const char *household;
        int age;
        int64_t fen;
    } rows[] = {
        /* care subsidy: grade x care level, grade 3 only for some categories */
        {"S01-CARE", "limb", 1, 3, "none", 40, 101000},
        {"S01-CARE", "limb", 1, 2, "none", 40, 81000},
        {"S01-CARE", "limb", 1, 1, "none", 40, 54000},
        {"S01-CARE", "visual", 2, 3, "none", 40, 67500},
        {"S01-CARE", "visual", 2, 1, "none", 40, 27000},
        {"S01-CARE", "intellectual", 3, 1, "none", 30, 13500},
        {"S01-CARE", "psychiatric", 3, 3, "none", 30, 27000},
        {"S01-CARE", "limb", 3, 3, "none", 30, 0},
        {"S01-CARE", "limb", 1, 0, "none", 30, 0},
        {"S01-CARE", "hearing", 4, 2, "none", 30, 0},
        /* living subsidy: 30% of the 低保 standard 1,365 yuan */
        {"S02-LIVING", "limb", 4, 0, "dibao", 50, 40950},
        {"S02-LIVING", "hearing", 2, 0, "near-poor", 70, 40950},
        {"S02-LIVING", "limb", 4, 0, "none", 50, 0},
        /* limb rehabilitation: a twelfth of the yearly tier */
        {"R01-LIMB", "limb", 1, 0, "none", 10, 300000},
        {"R01-LIMB", "limb", 2, 0, "none", 10, 250000},
        {"R01-LIMB", "limb", 3, 0, "none", 17, 150000},
        {"R01-LIMB", "limb", 4, 0, "none", 5, 83333},
        {"R01-LIMB", "limb", 1, 0, "none", 18, 150000},
        {"R01-LIMB", "limb", 2, 0, "none", 40, 83333},
        {"R01-LIMB", "limb", 4, 0, "none", 40, 50000},
        {"R01-LIMB", "visual", 1, 0, "none", 10, 0},
        /* poor families' children: up to 6,000 a year spent against the cap,
         * never issued (seed 001: 每年最高6000元); was 500 a month */
        {"R06-REHAB-LIVING", "intellectual", 2, 0, "dibao", 8, 0},
        {"R06-REHAB-LIVING", "intellectual", 2, 0, "none", 8, 0},
        {"R06-REHAB-LIVING", "intellectual", 2, 0, "near-poor", 18, 0},
        /* education 50 a month */
        {"D01-COMPULSORY", "hearing", 3, 0, "dibao", 6, 5000},
        {"D01-COMPULSORY", "hearing", 3, 0, "near-poor", 15, 5000},
        {"D01-COMPULSORY", "hearing", 3, 0, "dibao", 16, 0},
        {"D01-COMPULSORY", "hearing", 3, 0, "dibao", 5, 0},
        {"D01-COMPULSORY", "hearing", 3, 0, "none", 10, 0},
        /* targeted children's items */
        {"R02-AUTISM", "psychiatric", 2, 0, "none", 6, 240000},
        {"R02-AUTISM", "psychiatric", 2, 0, "none", 7, 0},
        /* speech and hearing: under 3 (seed 001: 3周岁以下的疑似言语残疾儿童) */
        {"R03-HEARING-CHILD", "speech", 3, 0, "none", 2, 200000},
        {"R03-HEARING-CHILD", "hearing", 3, 0, "none", 2, 200000},
        {"R03-HEARING-CHILD", "speech", 3, 0, "none", 3, 0},
        {"R03-HEARING-CHILD", "hearing", 3, 0, "none", 5, 0},
        /* service items are spent against caps, never issued: medication,
         * devices, medical insurance and the family doctor are paid in full
         * for 低保/低边 families (seed 001: 全额补助); medication was 150 a
         * month to every psychiatric patient */
        {"R08-PSY-MEDS", "psychiatric", 4, 0, "dibao", 45, 0},
        {"R08-PSY-MEDS", "psychiatric", 4, 0, "none", 45, 0},
        {"R07-DEVICES", "limb", 1, 3, "dibao", 40, 0},
        {"S08-MEDICAL-INS", "limb", 1, 3, "near-poor", 40, 0},
        {"S09-FAMILY-DOCTOR", "limb", 1, 3, "dibao", 40, 0},
        /* priced items: the year's credit (the annual cap) a twelfth a
         * month, spent a session at a time at the item's price */
        {"R10-COMMUNITY", "limb", 4, 0, "none", 40, 16666},
        {"S11-TRANSPORT", "visual", 2, 0, "none", 70, 10000},
        {"S11-TRANSPORT", "visual", 3, 0, "none", 70, 0},
        {"S03-HOME-CARE", "limb", 1, 0, "none", 40, 50000}, /* 25 yuan an hour, 6,000 a year */
        {"E08-JOB-TRANSPORT", "hearing", 3, 0, "none", 30, 10000},
        {"E08-JOB-TRANSPORT", "hearing", 3, 0, "none", 60, 0},
        /* quotes and reimbursements are never issued */
        {"R09-CATARACT", "visual", 2, 0, "dibao", 70, 0},
        {"E02-STARTUP", "visual", 2, 0, "none", 30, 0},
        /* cash: issued like credit, paid to the person */
        {"S10-WHEELCHAIR-FUEL", "limb", 2, 0, "none", 50, 2500},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int64_t got = month_of(rows[i].item, person(rows[i].category, rows[i].grade, rows[i].care,
                                                    rows[i].household, rows[i].age));
        CHECK(got == rows[i].fen, "row %zu %s %s g%d c%d %s age %d: %lld, want %lld", i,
              rows[i].item, rows[i].category, rows[i].grade, rows[i].care, rows[i].household,
              rows[i].age, (long long)got, (long long)rows[i].fen);
    }
}

/* An item granted only by an application is granted to the persons whose
 * approved applications name it, from the approval's effective date (a
 * dated change like any other); the others follow the registry alone. */
static void test_applications(void)
{
    const rules_item *autism = catalogue_find(&cat, "R02-AUTISM");
    const rules_item *care = catalogue_find(&cat, "S01-CARE");
    CHECK(autism && autism->application && care && !care->application,
          "R02 needs an application, S01 does not");
    if (!autism || !care)
        return;
    static const struct {
        const char *granted;
        bool want;
    } rows[] = {
        {NULL, false},
        {"", false},
        {",R02-AUTISM,", true},
        {",R01-LIMB,R02-AUTISM,R05-CP-CHILD,", true},
        {",R02-AUTISM-X,", false}, /* a code is matched whole */
        {",XR02-AUTISM,", false},
        {"R02-AUTISM", false}, /* not a set */
    };
    int32_t day = rules_days(2026, 11, 15);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        rules_person p = {"psychiatric",          "none",          "active", 2, 1,
                          rules_days(2022, 6, 1), rows[i].granted, NULL};
        CHECK(rules_item_eligible(autism, &p, day) == rows[i].want, "row %zu \"%s\"", i,
              rows[i].granted ? rows[i].granted : "(null)");
        CHECK(rules_item_eligible(care, &p, day), "row %zu: the care subsidy needs none", i);
        CHECK((rules_monthly_fen(autism, &p, day) > 0) == rows[i].want, "row %zu: issued", i);
    }
    /* granted from the 11th of a 30-day month: 20 days of 2,400 yuan */
    rules_person before = {"psychiatric", "none", "active", 2, 1, rules_days(2022, 6, 1), "", NULL};
    rules_person after = before;
    after.granted = ",R02-AUTISM,";
    rules_segment segs[2] = {{rules_days(2026, 1, 1), rules_days(2026, 11, 11), before},
                             {rules_days(2026, 11, 11), rules_days(2027, 1, 1), after}};
    CHECK(rules_item_amount(autism, segs, 2, 2026, 11) == 240000 * 20 / 30, "prorated: %lld",
          (long long)rules_item_amount(autism, segs, 2, 2026, 11));
}

static void test_prorate(void)
{
    const rules_item *care = catalogue_find(&cat, "S01-CARE");
    rules_person p = person("limb", 1, 3, "none", 40);
    /* dies on 2026-11-16: 15 of 30 days */
    rules_person dead = p;
    dead.status = "deceased";
    rules_segment s[2] = {{rules_days(2026, 1, 1), rules_days(2026, 11, 16), p},
                          {rules_days(2026, 11, 16), rules_days(2030, 1, 1), dead}};
    CHECK(rules_item_amount(care, s, 2, 2026, 11) == 50500, "half of November: %lld",
          (long long)rules_item_amount(care, s, 2, 2026, 11));
    CHECK(rules_item_amount(care, s, 2, 2026, 12) == 0, "nothing in December");
    CHECK(rules_item_amount(care, s, 2, 2026, 10) == 101000, "all of October");
    /* re-tiered on 2026-11-11: 10 days grade 2 care 3, 20 days grade 1 care 3 */
    rules_person g2 = person("limb", 2, 3, "none", 40);
    rules_segment t[2] = {{rules_days(2026, 1, 1), rules_days(2026, 11, 11), g2},
                          {rules_days(2026, 11, 11), rules_days(2030, 1, 1), p}};
    CHECK(rules_item_amount(care, t, 2, 2026, 11) == (67500 * 10 + 101000 * 20) / 30,
          "re-tier mid-month: %lld", (long long)rules_item_amount(care, t, 2, 2026, 11));
    /* household becomes 低保 on 2026-11-21: 10 of 30 days of the living subsidy */
    rules_person db = person("limb", 4, 0, "dibao", 40), none = person("limb", 4, 0, "none", 40);
    rules_segment u[2] = {{rules_days(2026, 1, 1), rules_days(2026, 11, 21), none},
                          {rules_days(2026, 11, 21), rules_days(2030, 1, 1), db}};
    CHECK(rules_item_amount(catalogue_find(&cat, "S02-LIVING"), u, 2, 2026, 11) == 13650,
          "living subsidy from the 21st");
    /* before the catalogue's effective date */
    CHECK(rules_item_amount(care, t, 2, 2025, 12) == 0, "before the item exists");
}

static void test_exclusive(void)
{
    /* grade 1, care 3, intellectual: home care, day care and residential
     * care are all eligible; only residential care (the largest) is granted */
    rules_person p = person("intellectual", 1, 3, "dibao", 30);
    rules_segment s = {rules_days(2026, 1, 1), rules_days(2030, 1, 1), p};
    rules_grant g[CATALOGUE_MAX_ITEMS];
    int n = rules_period(cat.items, cat.nitems, &s, 1, 2026, 11, g);
    int custody = 0;
    bool care = false, living = false, residential = false;
    for (int i = 0; i < n; i++) {
        if (strcmp(g[i].item->exclusive, "custody") == 0)
            custody++;
        care |= strcmp(g[i].item->code, "S01-CARE") == 0 && g[i].amount_fen == 101000;
        living |= strcmp(g[i].item->code, "S02-LIVING") == 0;
        residential |= strcmp(g[i].item->code, "S05-RESIDENTIAL") == 0;
    }
    CHECK(custody == 1 && residential, "one custody item, the residential one (%d)", custody);
    CHECK(care && living, "care and living subsidies both granted");
}

/* What the card carries at the terminal on 2026-11-15: entitled or not,
 * and the person's own annual cap. */
static void test_entitlements(void)
{
    static const struct {
        const char *item, *category;
        int grade, care;
        const char *household;
        int age;
        bool entitled;
        int64_t annual_cap_fen;
    } rows[] = {
        /* exclusive custody group: only residential care (the largest) */
        {"S05-RESIDENTIAL", "intellectual", 1, 3, "dibao", 30, true, 0},
        {"S03-HOME-CARE", "intellectual", 1, 3, "dibao", 30, false, 0},
        {"S04-DAY-CARE", "intellectual", 1, 3, "dibao", 30, false, 0},
        /* residential care needs care level 2: then day care wins */
        {"S04-DAY-CARE", "intellectual", 1, 1, "dibao", 30, true, 0},
        {"S03-HOME-CARE", "intellectual", 1, 1, "dibao", 30, false, 0},
        {"S05-RESIDENTIAL", "intellectual", 1, 1, "dibao", 30, false, 0},
        /* day care only for some categories: home care alone */
        {"S03-HOME-CARE", "limb", 2, 1, "none", 30, true, 0},
        /* limb rehabilitation: the person's own yearly tier is the cap */
        {"R01-LIMB", "limb", 1, 0, "none", 40, true, 1800000},
        {"R01-LIMB", "limb", 1, 0, "none", 10, true, 3600000},
        {"R01-LIMB", "limb", 2, 0, "none", 10, true, 3000000},
        {"R01-LIMB", "limb", 3, 0, "none", 17, true, 1800000},
        {"R01-LIMB", "limb", 4, 0, "none", 5, true, 1000000},
        {"R01-LIMB", "limb", 4, 0, "none", 40, true, 600000},
        {"R01-LIMB", "visual", 1, 0, "none", 40, false, 0},
        /* items without a tier keep the catalogue's cap */
        {"R10-COMMUNITY", "limb", 4, 0, "none", 40, true, 0},
        /* age limits */
        {"R02-AUTISM", "psychiatric", 2, 0, "none", 6, true, 0},
        {"R02-AUTISM", "psychiatric", 2, 0, "none", 7, false, 0},
        {"R03-HEARING-CHILD", "speech", 3, 0, "none", 2, true, 0},
        {"R03-HEARING-CHILD", "speech", 3, 0, "none", 3, false, 0},
        {"R03-HEARING-CHILD", "hearing", 2, 0, "none", 3, false, 0},
        {"E01-VOCATIONAL", "limb", 3, 0, "none", 15, false, 0},
        {"E01-VOCATIONAL", "limb", 3, 0, "none", 16, true, 0},
        /* 低保/低边 families only (seed 001: 对低保、低边边缘家庭残疾人…全额补助;
         * seed 001: 困难残疾儿童康复生活补贴; seed 003: 困难重度残疾人家庭无障碍改造),
         * the catalogue's caps */
        {"R06-REHAB-LIVING", "intellectual", 2, 0, "dibao", 8, true, 0},
        {"R06-REHAB-LIVING", "intellectual", 2, 0, "none", 8, false, 0},
        {"R07-DEVICES", "limb", 1, 3, "near-poor", 40, true, 0},
        {"R07-DEVICES", "limb", 1, 3, "none", 40, false, 0},
        {"R08-PSY-MEDS", "psychiatric", 2, 1, "dibao", 45, true, 0},
        {"R08-PSY-MEDS", "psychiatric", 2, 1, "none", 45, false, 0},
        {"S08-MEDICAL-INS", "hearing", 4, 0, "near-poor", 70, true, 0},
        {"S08-MEDICAL-INS", "hearing", 4, 0, "none", 70, false, 0},
        {"S09-FAMILY-DOCTOR", "visual", 3, 0, "dibao", 60, true, 0},
        {"S09-FAMILY-DOCTOR", "visual", 3, 0, "none", 60, false, 0},
        {"S06-BARRIER-FREE", "intellectual", 1, 3, "dibao", 30, true, 0},
        {"S06-BARRIER-FREE", "limb", 1, 3, "none", 30, false, 0},
        {"S06-BARRIER-FREE", "limb", 3, 0, "dibao", 30, false, 0},
    };
    int32_t day = rules_days(2026, 11, 15);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        rules_person p =
            person(rows[i].category, rows[i].grade, rows[i].care, rows[i].household, rows[i].age);
        rules_entitlement e[CATALOGUE_MAX_ITEMS];
        rules_entitlements(cat.items, cat.nitems, &p, day, e);
        const rules_item *it = catalogue_find(&cat, rows[i].item);
        CHECK(it != NULL, "row %zu: %s in the catalogue", i, rows[i].item);
        if (it == NULL)
            continue;
        const rules_entitlement *got = &e[it - cat.items];
        CHECK(got->entitled == rows[i].entitled && got->annual_cap_fen == rows[i].annual_cap_fen,
              "row %zu %s %s g%d c%d %s age %d: entitled %d cap %lld, want %d %lld", i,
              rows[i].item, rows[i].category, rows[i].grade, rows[i].care, rows[i].household,
              rows[i].age, got->entitled, (long long)got->annual_cap_fen, rows[i].entitled,
              (long long)rows[i].annual_cap_fen);
    }
    /* a child on the day before and the day of a birthday (the 7th: R02) */
    rules_person child = {"psychiatric",  "none", "active", 2, 0, rules_days(2019, 11, 16),
                          ",R02-AUTISM,", NULL};
    const rules_item *autism = catalogue_find(&cat, "R02-AUTISM");
    rules_entitlement e[CATALOGUE_MAX_ITEMS];
    rules_entitlements(cat.items, cat.nitems, &child, rules_days(2026, 11, 15), e);
    CHECK(e[autism - cat.items].entitled, "6 the day before the birthday");
    rules_entitlements(cat.items, cat.nitems, &child, rules_days(2026, 11, 16), e);
    CHECK(!e[autism - cat.items].entitled, "7 on the birthday");
}

/* The file's text with the first from replaced by to (static buffer), or
 * NULL when from is not in it. */
static const char *edited(const char *text, const char *from, const char *to)
{
    static char copy[1 << 16];
    const char *at = strstr(text, from);
    if (at == NULL)
        return NULL;
    snprintf(copy, sizeof(copy), "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    return copy;
}

static void test_catalogue(void)
{
    CHECK(cat.nitems == 39, "39 items, not %d", cat.nitems);
    int cats[4] = {0};
    for (int i = 0; i < cat.nitems; i++) {
        const char *c = cat.items[i].category;
        cats[0] += strcmp(c, "rehabilitation") == 0;
        cats[1] += strcmp(c, "employment") == 0;
        cats[2] += strcmp(c, "education") == 0;
        cats[3] += strcmp(c, "social-security") == 0;
    }
    CHECK(cats[0] && cats[1] && cats[2] && cats[3], "all four categories");
    /* every figure traced: a figure from the seeds cites its seed file; a
     * default says why it is one */
    for (int i = 0; i < cat.nitems; i++) {
        const rules_item *it = &cat.items[i];
        bool traced = it->is_default ? strstr(it->legal_basis, "默认值") != NULL
                                     : strncmp(it->legal_basis, "seed 00", 7) == 0;
        CHECK(traced, "%s: legal_basis \"%s\" (default=%s)", it->code, it->legal_basis,
              it->is_default ? "yes" : "no");
    }
    /* seed 002: children's rehabilitation paid jointly by central,
     * provincial and municipal money; everything else one level */
    for (int i = 0; i < cat.nitems; i++) {
        const rules_item *it = &cat.items[i];
        bool joint = strncmp(it->code, "R02-", 4) == 0 || strncmp(it->code, "R03-", 4) == 0 ||
                     strncmp(it->code, "R04-", 4) == 0 || strncmp(it->code, "R05-", 4) == 0 ||
                     strncmp(it->code, "R11-", 4) == 0;
        CHECK(joint ? strcmp(it->fund_shares, "central:5420,provincial:2692,municipal:1888") == 0 &&
                          strcmp(it->fund_source, "central") == 0
                    : it->shares.n == 1 && it->shares.v[0] == SHARES_BP &&
                          strcmp(it->fund_source, shares_level_name(it->shares.level[0])) == 0,
              "%s: fund shares %s (%s)", it->code, it->fund_shares, it->fund_source);
    }
    static const struct {
        const char *text, *want;
    } bad[] = {
        {"# version: 1\ncode\tcategory\n", "line 2: wrong number of columns"},
        {"# version: 1\nx\n", "line 2: wrong number of columns"},
        {"\xff\xfe", "line 1: wrong number of columns"},
        {"# nothing\n", "no \"# version"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        catalogue c;
        char err[256] = "";
        int rc = catalogue_parse(&c, bad[i].text, strlen(bad[i].text), err, sizeof(err));
        CHECK(rc < 0 && strstr(err, bad[i].want) != NULL, "bad catalogue %zu: %s", i, err);
    }
    /* one good file with one field broken at a time */
    static const struct {
        const char *from, *to, *want;
    } edits[] = {
        {"\t101000\tcare\t", "\t-5\tcare\t", "line 34: S01-CARE: standard_fen \"-5\""},
        {"care>=1;grade<=3", "care>=1;colour=red", "unknown field \"colour\""},
        {"\nS02-LIVING\t", "\ns02\t", "code \"s02\""},
        {"\tcentral\tcare-subsidy\tyes\t2026-01-01", "\tcentral\tcare-subsidy\tyes\t2026-02-30",
         "not a real date"},
        {"\tcare\tcare>=1", "\tbogus\tcare>=1", "unknown tier"},
        /* the tier tables: a gap, an overlap, a tier without rows, bad rows */
        {"care\tgrade=3;care>=1;category!=intellectual|psychiatric|multiple\t0",
         "care\tgrade=3;care>=1;category!=intellectual|psychiatric|limb\t0",
         "tier care has a gap: no row holds for grade 3, care level 1, limb, household none, "
         "age 0 months, who is eligible for S01-CARE"},
        {"care\tgrade=2;care=3\t", "care\tgrade=2;care>=2\t",
         "tier care has an overlap: the rows of lines"},
        {"limb-rehab\tgrade=4;age>=18\t", "limb-rehab\tgrade=4;age>18\t",
         "tier limb-rehab has a gap: no row holds for grade 4, care level 0, limb, household "
         "none, age 18 years"},
        {"dibao30\tall\t3000\t", "care\tgrade=9\t3000\t",
         "item S02-LIVING has tier dibao30, and the catalogue has no dibao30 rows"},
        {"dibao30\tall\t3000\t", "dibao30\tall\t30000\t", "basis points of the standard"},
        {"dibao30\tall\t3000\t", "flat\tall\t3000\t", "tier \"flat\" is not care"},
        {"limb-rehab\tgrade=1;age<18\t3600000\t", "limb-rehab\tgrade=1;age<18\t-1\t",
         "value \"-1\" is not a whole number of fen"},
        {"limb-rehab\tgrade=1;age<18\t3600000\t", "limb-rehab\tgrade=1;tall<18\t3600000\t",
         "unknown field \"tall\""},
        {"tier\twhen\tvalue\tlegal_basis", "tier\twhen\tfen\tlegal_basis",
         "tier column 3 is \"fen\", expected value"},
        {"\tcredit\tyes\t240000\t", "\tcredit\tmaybe\t240000\t",
         "R02-AUTISM: application must be yes or no"},
        /* each kind with what it needs of the other columns */
        {"\tsession\tpriced\tno\t5000\t", "\tsession\tbartered\tno\t5000\t",
         "unknown kind \"bartered\""},
        {"\tsession\tpriced\tno\t5000\t", "\tsession\tpriced\tno\t0\t",
         "R10-COMMUNITY: a priced item needs a price"},
        {"\tsession\tpriced\tno\t5000\t", "\tmonth\tpriced\tno\t5000\t",
         "R10-COMMUNITY: a priced item is issued (issued=yes) and priced by the session"},
        {"\tall\t200000\t20000\t", "\tall\t0\t20000\t",
         "R10-COMMUNITY: a priced item needs an annual cap"},
        {"\tonce\tquote\tno\t0\tflat\tcategory=visual\t300000",
         "\tonce\tquote\tno\t0\tflat\tcategory=visual\t0",
         "R09-CATARACT: a quote item needs an annual cap"},
        {"\tonce\tquote\tno\t0\tflat\tcategory=visual\t300000\t0\t-\tcentral\trehab-training\tno",
         "\tonce\tquote\tno\t0\tflat\tcategory=visual\t300000\t0\t-\tcentral\trehab-training\tyes",
         "R09-CATARACT: a quote item is never issued"},
        {"\tmonth\tcash\tno\t136500\t", "\tservice\tcash\tno\t136500\t",
         "S02-LIVING: a cash item is issued (issued=yes) by the month or the year"},
        {"\tmonth\tcash\tno\t101000\t", "\tmonth\tcash\tno\t0\t",
         "S01-CARE: a cash item needs a standard amount"},
        /* fund shares (seed 002): summing to 10000, known levels, once each */
        {"\tcentral:5420,provincial:2692,municipal:1888\t",
         "\tcentral:5420,provincial:2692,municipal:1887\t",
         "R02-AUTISM: fund_source: fund shares sum to 9999 basis points, not 10000"},
        {"\tcentral:5420,provincial:2692,municipal:1888\t",
         "\tcentral:5420,county:2692,municipal:1888\t",
         "R02-AUTISM: fund_source: fund shares: \"county\" is not a fund level"},
        {"\tcentral:5420,provincial:2692,municipal:1888\t",
         "\tcentral:5420,central:2692,municipal:1888\t",
         "R02-AUTISM: fund_source: fund shares: central appears twice"},
        {"\tcentral:5420,provincial:2692,municipal:1888\t", "\tcentral:0,provincial:10000\t",
         "R02-AUTISM: fund_source: fund shares: the share of central, \"0\""},
        {"\tcentral\tcare-subsidy\t", "\t-\tcare-subsidy\t", "S01-CARE: fund_source: fund"},
        {"\tservice\treimburse\tno\t0\tflat\thousehold=dibao|near-poor\t12000",
         "\tservice\treimburse\tno\t0\tcare\thousehold=dibao|near-poor\t12000",
         "S09-FAMILY-DOCTOR: a reimburse item has no tier"},
    };
    FILE *fp = fopen(ELIG_CATALOGUE, "rb");
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
        const char *copy = edited(buf, edits[i].from, edits[i].to);
        CHECK(copy != NULL, "edit %zu: %s not in the file", i, edits[i].from);
        if (copy == NULL)
            continue;
        catalogue c;
        char err[256] = "";
        int rc = catalogue_parse(&c, copy, strlen(copy), err, sizeof(err));
        CHECK(rc < 0 && strstr(err, edits[i].want) != NULL, "edit %zu: %s", i, err);
    }
    /* a figure is data: changing a row of the file changes the money, with
     * no rebuild */
    static const struct {
        const char *from, *to, *item, *category;
        int grade, care, age;
        int64_t fen;
    } figures[] = {
        {"care\tgrade=1;care=3\t101000", "care\tgrade=1;care=3\t99900", "S01-CARE", "limb", 1, 3,
         40, 99900},
        {"limb-rehab\tgrade=2;age<18\t3000000", "limb-rehab\tgrade=2;age<18\t2400000", "R01-LIMB",
         "limb", 2, 0, 10, 200000},
        {"dibao30\tall\t3000", "dibao30\tall\t3500", "S02-LIVING", "limb", 4, 0, 50, 47775},
    };
    for (size_t i = 0; i < sizeof(figures) / sizeof(figures[0]); i++) {
        const char *copy = edited(buf, figures[i].from, figures[i].to);
        CHECK(copy != NULL, "figure %zu: %s not in the file", i, figures[i].from);
        if (copy == NULL)
            continue;
        catalogue c;
        char err[256] = "";
        if (catalogue_parse(&c, copy, strlen(copy), err, sizeof(err)) < 0) {
            CHECK(false, "figure %zu: %s", i, err);
            continue;
        }
        const rules_item *it = catalogue_find(&c, figures[i].item);
        rules_person p =
            person(figures[i].category, figures[i].grade, figures[i].care,
                   strcmp(figures[i].item, "S02-LIVING") == 0 ? "dibao" : "none", figures[i].age);
        rules_segment s = {rules_days(2026, 1, 1), rules_days(2027, 1, 1), p};
        int64_t got = rules_item_amount(it, &s, 1, 2026, 11);
        CHECK(got == figures[i].fen, "figure %zu: %s %lld, want %lld", i, figures[i].item,
              (long long)got, (long long)figures[i].fen);
        catalogue_free(&c);
    }
}

static void test_ident(void)
{
    static const struct {
        const char *id;
        bool ok;
    } ids[] = {
        {"11010519491231002X", true},  {"11010519491231002x", true}, {"110105194912310021", false},
        {"11010519491331002X", false}, {"1101051949123100", false},  {"1101051949123100AX", false},
    };
    char err[128];
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
        CHECK((ident_national_id_check(ids[i].id, err, sizeof(err)) == 0) == ids[i].ok,
              "national id %s", ids[i].id);
    char a[IDENT_PERSON_LEN + 1], b[IDENT_PERSON_LEN + 1], c[IDENT_PERSON_LEN + 1];
    ident_person_id(a, "salt", "11010519491231002X");
    ident_person_id(b, "salt", "11010519491231002x");
    ident_person_id(c, "other", "11010519491231002X");
    CHECK(strcmp(a, b) == 0 && strcmp(a, c) != 0 && strlen(a) == 64, "person ids");
    CHECK(card_no_valid("4111111111111111"), "luhn ok");
    CHECK(!card_no_valid("4111111111111112"), "luhn bad");
    CHECK(!card_no_valid("411111111111111"), "15 digits");
    CHECK(card_check_digit("411111111111111") == '1', "check digit");
}

/* Children without a certificate: a rule admits only the evidence it
 * names; a rule naming none admits certified persons only; a grade
 * condition never holds for grade 0. */
static void test_evidence(void)
{
    static const struct {
        const char *item, *category, *evidence;
        int grade, age_months;
        bool want;
    } rows[] = {
        {"R02-AUTISM", "psychiatric", NULL, 2, 48, true},
        {"R02-AUTISM", "psychiatric", "certificate", 2, 48, true},
        {"R02-AUTISM", "psychiatric", "diagnosis", 0, 48, true},
        {"R02-AUTISM", "psychiatric", "suspected", 0, 48, false},
        {"R02-AUTISM", "psychiatric", "assessment", 2, 48, false},
        {"R02-AUTISM", "psychiatric", "diagnosis", 0, 84, false}, /* 7: too old */
        {"R03-HEARING-CHILD", "speech", "suspected", 0, 30, true},
        {"R03-HEARING-CHILD", "hearing", "assessment", 3, 30, true},
        {"R03-HEARING-CHILD", "hearing", "diagnosis", 0, 30, false},
        {"R04-INTELLECT-CHILD", "intellectual", "assessment", 2, 60, true},
        {"R04-INTELLECT-CHILD", "intellectual", "suspected", 0, 60, false},
        {"R05-CP-CHILD", "limb", "assessment", 2, 60, true},
        {"R05-CP-CHILD", "limb", "assessment", 3, 60, false},
        {"R05-CP-CHILD", "limb", "diagnosis", 0, 60, false}, /* grade<=2 never holds for 0 */
        {"R11-INFANT", "limb", "suspected", 0, 3, true},
        {"R11-INFANT", "limb", "diagnosis", 0, 4, true},
        {"R11-INFANT", "limb", "suspected", 0, 5, false},
        /* items whose rule names no evidence: certified persons only */
        {"S01-CARE", "limb", "assessment", 1, 60, false},
        {"S01-CARE", "limb", "certificate", 1, 60, true},
        {"S01-CARE", "limb", NULL, 1, 60, true},
    };
    int32_t day = rules_days(2026, 11, 15);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const rules_item *it = catalogue_find(&cat, rows[i].item);
        CHECK(it != NULL, "row %zu: %s in the catalogue", i, rows[i].item);
        if (it == NULL)
            continue;
        int y = 2026, m = 11 - rows[i].age_months;
        while (m < 1)
            m += 12, y--;
        rules_person p = {rows[i].category,
                          "none",
                          "active",
                          rows[i].grade,
                          3,
                          rules_days(y, m, 1),
                          ",R02-AUTISM,R03-HEARING-CHILD,R04-INTELLECT-CHILD,"
                          "R05-CP-CHILD,R11-INFANT,",
                          rows[i].evidence};
        CHECK(rules_item_eligible(it, &p, day) == rows[i].want, "row %zu %s %s %s g%d %d months", i,
              rows[i].item, rows[i].category, rows[i].evidence ? rows[i].evidence : "(null)",
              rows[i].grade, rows[i].age_months);
    }
    /* parsing: evidence takes = or != with alternatives, lower-case words */
    rules_expr e;
    char err[128];
    CHECK(rules_expr_parse("evidence=certificate|suspected", &e, err, sizeof(err)) == 0 &&
              e.names_evidence,
          "evidence parses");
    CHECK(rules_expr_parse("age<7", &e, err, sizeof(err)) == 0 && !e.names_evidence,
          "no evidence named");
    CHECK(rules_expr_parse("evidence<certificate", &e, err, sizeof(err)) < 0,
          "evidence takes = or != only");
}

int main(void)
{
    char err[256];
    if (catalogue_load_file(&cat, ELIG_CATALOGUE, err, sizeof(err)) < 0) {
        fprintf(stderr, "catalogue: %s\n", err);
        return 1;
    }
    test_catalogue();
    test_applications();
    test_table();
    test_prorate();
    test_exclusive();
    test_entitlements();
    test_ident();
    test_evidence();
    catalogue_free(&cat);
    return CHECK_DONE();
}
