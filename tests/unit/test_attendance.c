/*
 * test_attendance: the 在训 check's pure rules (services/eligibility/
 * attrules.h): the weeks since the basis, when an item is due to be
 * paused, what resumes it, the attendance report's parser, and the
 * catalogue's optional attendance_weeks column. One row per case.
 */
#include "attrules.h"
#include "catalogue.h"
#include "rules.h"

#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int32_t day_of(const char *s)
{
    int32_t d = 0;
    char why[128];
    if (rules_date_parse(s, &d, why, sizeof(why)) < 0)
        CHECK(0, "test date %s: %s", s, why);
    return d;
}

static void test_weeks(void)
{
    static const struct {
        const char *since, *last; /* last "": never attended */
        int weeks;
        const char *as_of;
        int weeks_since, due;
    } rows[] = {
        /* the basis is the later of the first check and the last attendance */
        {"2026-11-02", "", 4, "2026-11-02", 0, 0},
        {"2026-11-02", "", 4, "2026-11-29", 3, 0}, /* 27 days: the fourth Sunday */
        {"2026-11-02", "", 4, "2026-11-30", 4, 1}, /* 28 days: the fourth Monday */
        {"2026-11-02", "", 4, "2026-12-31", 8, 1},
        {"2026-11-02", "2026-11-20", 4, "2026-11-30", 1, 0}, /* attended since */
        {"2026-11-02", "2026-11-20", 4, "2026-12-17", 3, 0},
        {"2026-11-02", "2026-11-20", 4, "2026-12-18", 4, 1},
        {"2026-11-20", "2026-11-02", 4, "2026-12-18", 4, 1}, /* an old attendance */
        /* across a year's end and February */
        {"2026-12-30", "", 2, "2027-01-13", 2, 1},
        {"2028-02-01", "", 5, "2028-03-07", 5, 1}, /* 29 February counted */
        {"2027-02-01", "", 5, "2027-03-07", 4, 0},
        {"2027-02-01", "", 5, "2027-03-08", 5, 1},
        /* weeks 0: never checked; 1: a week */
        {"2026-01-01", "", 0, "2026-12-31", 52, 0},
        {"2026-11-02", "", 1, "2026-11-09", 1, 1},
        {"2026-11-02", "", 1, "2026-11-08", 0, 0},
        /* an as-of before the basis: nothing is due */
        {"2026-11-30", "", 4, "2026-10-01", 0, 0},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int32_t since = day_of(rows[i].since), last = rows[i].last[0] ? day_of(rows[i].last) : 0;
        int32_t basis = attrules_basis(since, last), as_of = day_of(rows[i].as_of);
        CHECK(attrules_weeks_since(basis, as_of) == rows[i].weeks_since,
              "row %zu: %d weeks since, want %d", i, attrules_weeks_since(basis, as_of),
              rows[i].weeks_since);
        CHECK(attrules_due(basis, rows[i].weeks, as_of) == rows[i].due, "row %zu: due %d", i,
              attrules_due(basis, rows[i].weeks, as_of));
    }
    /* attendance after the basis resumes; on or before it does not */
    static const struct {
        const char *basis, *day;
        int resumes;
    } resume[] = {
        {"2026-11-02", "2026-11-03", 1},
        {"2026-11-02", "2026-11-02", 0},
        {"2026-11-02", "2026-10-30", 0},
        {"2026-12-31", "2027-01-01", 1},
    };
    for (size_t i = 0; i < sizeof(resume) / sizeof(resume[0]); i++)
        CHECK(attrules_resumes(day_of(resume[i].basis), day_of(resume[i].day)) == resume[i].resumes,
              "resume row %zu", i);
}

#define HDR "provider_id,card_no,item_code,attended_on\n"
/* 6288100000000016: 16 digits with a good Luhn digit */
#define CARD "6288100000000016"

static void test_report(void)
{
    int32_t today = day_of("2026-12-06");
    static const struct {
        const char *text;
        int rows;         /* >= 1: parsed; -1: refused */
        const char *want; /* the refusal's words, or the first row's item */
    } rows[] = {
        {HDR "P-1," CARD ",E01-VOCATIONAL,2026-12-01\n", 1, "E01-VOCATIONAL"},
        {"\xef\xbb\xbf" HDR "P-1," CARD ",E01-VOCATIONAL,2026-12-06\r\n"
         "P_2," CARD ",R01-LIMB,2025-12-05\r\n",
         2, "E01-VOCATIONAL"},
        {HDR "\"P-1\",\"" CARD "\",E01-VOCATIONAL,2026-12-01", 1, "E01-VOCATIONAL"},
        {"", -1, "no header"},
        {HDR, -1, "no rows after the header"},
        {"provider,card_no,item_code,attended_on\n", -1,
         "line 1: column 1 is \"provider\", expected provider_id"},
        {HDR "P-1," CARD ",E01-VOCATIONAL\n", -1, "line 2: 3 fields, expected 4"},
        {HDR "P-1," CARD ",E01-VOCATIONAL,2026-12-01,x\n", -1, "line 2: 5 fields"},
        {HDR "P 1," CARD ",E01-VOCATIONAL,2026-12-01\n", -1, "line 2: provider_id \"P 1\""},
        {HDR ",\"" CARD "\",E01-VOCATIONAL,2026-12-01\n", -1, "line 2: provider_id \"\""},
        {HDR "P-1,6288100000000017,E01-VOCATIONAL,2026-12-01\n", -1,
         "line 2: card_no is not a card number"},
        {HDR "P-1,12,E01-VOCATIONAL,2026-12-01\n", -1, "line 2: card_no"},
        {HDR "P-1," CARD ",e01,2026-12-01\n", -1, "line 2: item_code \"e01\""},
        {HDR "P-1," CARD ",E01-VOCATIONAL,2026-02-30\n", -1, "line 2: attended_on"},
        {HDR "P-1," CARD ",E01-VOCATIONAL,01/12/2026\n", -1, "line 2: attended_on"},
        {HDR "P-1," CARD ",E01-VOCATIONAL,2026-12-07\n", -1,
         "line 2: attended_on 2026-12-07 is after today"},
        {HDR "P-1," CARD ",E01-VOCATIONAL,2025-12-04\n", -1, "is more than a year ago"},
        {HDR "P-1," CARD ",E01-VOCATIONAL,2026-12-01\n\"P-1,x\n", -1, "line 3:"},
        {HDR "P-1," CARD ",E01-VOCATIONAL,2026-12-01\nP-1," CARD ",E01,2026-12-01\n"
             "P-1,1,"
             "E01-VOCATIONAL,2026-12-01\n",
         -1, "line 4: card_no"},
    };
    attrules_row out[4];
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char err[256] = "";
        int n = attrules_report_parse(rows[i].text, strlen(rows[i].text), today, out, 4, err,
                                      sizeof(err));
        if (rows[i].rows > 0)
            CHECK(n == rows[i].rows && strcmp(out[0].item_code, rows[i].want) == 0 &&
                      strcmp(out[0].card_no, CARD) == 0 && out[0].line == 2,
                  "report %zu: %d rows (%s)", i, n, err);
        else
            CHECK(n < 0 && strstr(err, rows[i].want) != NULL, "report %zu: %s", i, err);
        /* a refusal never repeats a whole card number */
        CHECK(strstr(err, CARD) == NULL && strstr(err, "6288100000000017") == NULL,
              "report %zu: a card number in \"%s\"", i, err);
    }
    /* room for the rows: more than max is refused, naming the line */
    char err[256];
    const char *three = HDR "P-1," CARD ",A1,2026-12-01\nP-1," CARD ",A1,2026-12-02\n"
                            "P-1," CARD ",A1,2026-12-03\n";
    CHECK(attrules_report_parse(three, strlen(three), today, out, 2, err, sizeof(err)) < 0 &&
              strstr(err, "line 4: more than 2 rows") != NULL,
          "max rows: %s", err);
}

/* the catalogue's attendance_weeks: an optional last column */
#define COLS22                                                                                     \
    "code\tcategory\tname_zh\tname_en\tgroup\tunit\tkind\tapplication\tstandard_fen\ttier\t"       \
    "eligibility\tannual_cap_fen\tdaily_cap_fen\texclusive\tfund_source\tprogramme\tissued\t"      \
    "effective_from\teffective_to\tdefault\tprocedure\tlegal_basis"
#define PRICED                                                                                        \
    "E01-VOC\temployment\t职业技能培训\tVocational training\temployment\tsession\tpriced\tno\t" \
    "10000\tflat\tall\t300000\t0\t-\tdistrict\tvocational-training\tyes\t2026-01-01\t-\tyes\t"        \
    "enrolment\t本地默认值"
#define CASH                                                                                           \
    "D01-EDU\teducation\t义务教育补助\tCompulsory education\teducation\tmonth\tcash\tno\t5000\t" \
    "flat\tall\t0\t0\t-\tdistrict\tedu\tyes\t2026-01-01\t-\tno\tschool\tseed 003"

static void test_catalogue_column(void)
{
    static const struct {
        const char *text;
        int weeks;        /* >= 0: E01-VOC's weeks; -1: refused */
        const char *want; /* the refusal's words */
    } rows[] = {
        {"# version: 1\n" COLS22 "\n" PRICED "\n", 0, NULL}, /* written before the column */
        {"# version: 1\n" COLS22 "\tattendance_weeks\n" PRICED "\t4\n", 4, NULL},
        {"# version: 1\n" COLS22 "\tattendance_weeks\n" PRICED "\t-\n", 0, NULL},
        {"# version: 1\n" COLS22 "\tattendance_weeks\n" PRICED "\t0\n", 0, NULL},
        {"# version: 1\n" COLS22 "\tattendance_weeks\n" PRICED "\t52\n", 52, NULL},
        {"# version: 1\n" COLS22 "\tattendance_weeks\n" PRICED "\t53\n", -1,
         "line 3: E01-VOC: attendance_weeks \"53\" is not a number of weeks 0..52"},
        {"# version: 1\n" COLS22 "\tattendance_weeks\n" PRICED "\tfour\n", -1,
         "attendance_weeks \"four\""},
        {"# version: 1\n" COLS22 "\tattendance_weeks\n" PRICED "\t\n", -1, "attendance_weeks \"\""},
        {"# version: 1\n" COLS22 "\tattendance_weeks\n" PRICED "\t-4\n", -1,
         "attendance_weeks \"-4\""},
        {"# version: 1\n" COLS22 "\tattendance_weeks\n" PRICED "\n", -1,
         "line 3: wrong number of columns"},
        {"# version: 1\n" COLS22 "\n" PRICED "\t4\n", -1, "line 3: wrong number of columns"},
        {"# version: 1\n" COLS22 "\tweeks\n" PRICED "\t4\n", -1,
         "line 2: column 23 is \"weeks\", expected attendance_weeks"},
        /* a 24th column is credit_ends (benefit periods), a 25th too many */
        {"# version: 1\n" COLS22 "\tattendance_weeks\tx\n" PRICED "\t4\tx\n", -1,
         "line 2: column 24 is \"x\", expected credit_ends"},
        {"# version: 1\n" COLS22 "\tattendance_weeks\tcredit_ends\tx\n" PRICED "\t4\tyear\tx\n", -1,
         "line 2: wrong number of columns"},
        {"# version: 1\n" COLS22 "\tattendance_weeks\tcredit_ends\n" PRICED "\t4\tyear\n", 4, NULL},
        {"# version: 1\n" COLS22 "\tattendance_weeks\tcredit_ends\n" PRICED "\t4\tweekly\n", -1,
         "credit_ends \"weekly\" is not month, year, grace:N"},
        {"# version: 1\n" COLS22 "\tattendance_weeks\n" CASH "\t4\n", -1,
         "D01-EDU: attendance_weeks needs an item swiped at a provider"},
        {"# version: 1\n" COLS22 "\tattendance_weeks\n" CASH "\t0\n", -2, NULL},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        catalogue c;
        char err[256] = "";
        int rc = catalogue_parse(&c, rows[i].text, strlen(rows[i].text), err, sizeof(err));
        if (rows[i].weeks == -1) {
            CHECK(rc < 0 && strstr(err, rows[i].want) != NULL, "catalogue %zu: %s", i, err);
            continue;
        }
        CHECK(rc == 0, "catalogue %zu: %s", i, err);
        if (rc < 0)
            continue;
        if (rows[i].weeks >= 0) {
            const rules_item *it = catalogue_find(&c, "E01-VOC");
            CHECK(it && it->attendance_weeks == rows[i].weeks, "catalogue %zu: %d weeks", i,
                  it ? it->attendance_weeks : -1);
        }
        catalogue_free(&c);
    }
}

int main(void)
{
    test_weeks();
    test_report();
    test_catalogue_column();
    return CHECK_DONE();
}
