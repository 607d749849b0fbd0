/*
 * test_yearend: the year-end report's tables and writers
 * (services/ledger/yearend.c): fen as yuan text (negative, grouping,
 * INT64_MIN), CSV fields (quotes, line breaks, formulas kept from a
 * spreadsheet), HTML escaping, the totals row (additive columns summed,
 * distinct ones left to the caller), sums by a column's value, and the
 * JSON, CSV and HTML documents (money as integer fen, nothing unescaped,
 * no script, no URL).
 */
#include "check.h"
#include "yearend.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_fen_text(void)
{
    static const struct {
        int64_t fen;
        const char *want;
    } rows[] = {
        {0, "0.00"},
        {1, "0.01"},
        {-1, "-0.01"},
        {99, "0.99"},
        {100, "1.00"},
        {123456, "1,234.56"},
        {-123456, "-1,234.56"},
        {100000000, "1,000,000.00"},
        {99999999, "999,999.99"},
        {INT64_MAX, "92,233,720,368,547,758.07"},
        {INT64_MIN, "-92,233,720,368,547,758.08"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char out[48];
        yr_fen_text(rows[i].fen, out, sizeof(out));
        CHECK(strcmp(out, rows[i].want) == 0, "%lld: %s, want %s", (long long)rows[i].fen, out,
              rows[i].want);
    }
}

static void test_csv_field(void)
{
    static const struct {
        const char *in;
        bool text;
        const char *want;
    } rows[] = {
        {"central", true, "central"},
        {"", true, ""},
        {"a,b", true, "\"a,b\""},
        {"say \"hi\"", true, "\"say \"\"hi\"\"\""},
        {"two\nlines", true, "\"two\nlines\""},
        {"cr\r", true, "\"cr\r\""},
        {"=SUM(A1:A9)", true, "\"'=SUM(A1:A9)\""},
        {"+1", true, "\"'+1\""},
        {"-1", true, "\"'-1\""},
        {"@cmd", true, "\"'@cmd\""},
        {"\tx", true, "\"'\tx\""},
        {"-12345", false, "-12345"}, /* a number column: a negative amount stays a number */
        {"康复救助", true, "康复救助"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        yr_buf b = {0};
        yr_buf_csv_field(&b, rows[i].in, rows[i].text);
        CHECK(strcmp(b.s ? b.s : "", rows[i].want) == 0, "\"%s\": [%s], want [%s]", rows[i].in,
              b.s ? b.s : "", rows[i].want);
        yr_buf_free(&b);
    }
}

static void test_html_escape(void)
{
    static const struct {
        const char *in, *want;
    } rows[] = {
        {"plain", "plain"},
        {"<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
        {"a & b", "a &amp; b"},
        {"\"q\" 'a'", "&quot;q&quot; &#39;a&#39;"},
        {"资金 <级别>", "资金 &lt;级别&gt;"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        yr_buf b = {0};
        yr_buf_html(&b, rows[i].in);
        CHECK(strcmp(b.s ? b.s : "", rows[i].want) == 0, "\"%s\": [%s]", rows[i].in,
              b.s ? b.s : "");
        yr_buf_free(&b);
    }
}

static const yr_col cols[] = {
    {"item", "项目", "Item", YR_TEXT},           {"fund", "资金级别", "Fund", YR_TEXT},
    {"times", "人次", "Person-times", YR_COUNT}, {"persons", "人数", "Persons", YR_DISTINCT},
    {"fen", "金额", "Amount", YR_FEN},
};

static void fill(yr_table *t)
{
    static const char *const rows[][5] = {
        {"R01-LIMB", "central", "3", "2", "12345"},
        {"R01-LIMB", "provincial", "1", "1", "-100"},
        {"<script>x</script>", "central", "5", "4", "1"},
        {"=cmd", "district", "0", "0", "0"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        CHECK(yr_table_add(t, rows[i]) == 0, "row %zu", i);
}

static void test_table(void)
{
    yr_table t;
    yr_table_init(&t, "items", "按项目", "By item", "note & <b>", cols, 5);
    fill(&t);
    static const struct {
        const char *key, *where_key, *where_val;
        int64_t want;
    } sums[] = {
        {"times", NULL, NULL, 9},          {"fen", NULL, NULL, 12246},
        {"fen", "fund", "central", 12346}, {"fen", "fund", "provincial", -100},
        {"times", "item", "R01-LIMB", 4},  {"times", "item", "none", 0},
        {"nosuch", NULL, NULL, 0},         {"fen", "nosuch", "x", 0},
    };
    for (size_t i = 0; i < sizeof(sums) / sizeof(sums[0]); i++) {
        int64_t got = yr_table_sum(&t, sums[i].key, sums[i].where_key, sums[i].where_val);
        CHECK(got == sums[i].want, "sum %s where %s=%s: %lld, want %lld", sums[i].key,
              sums[i].where_key ? sums[i].where_key : "-",
              sums[i].where_val ? sums[i].where_val : "-", (long long)got, (long long)sums[i].want);
    }
    CHECK(yr_table_total(&t) == 0 && t.nrows == 5 && t.has_total, "total row");
    CHECK(yr_table_total(&t) == 0 && t.nrows == 5, "a second total is not added");
    CHECK(strcmp(yr_cell(&t, 4, 0), "合计 Total") == 0, "label %s", yr_cell(&t, 4, 0));
    CHECK(strcmp(yr_cell(&t, 4, 1), "") == 0, "text column empty");
    CHECK(strcmp(yr_cell(&t, 4, 2), "9") == 0, "times %s", yr_cell(&t, 4, 2));
    CHECK(strcmp(yr_cell(&t, 4, 3), "") == 0, "distinct persons are the caller's");
    CHECK(strcmp(yr_cell(&t, 4, 4), "12246") == 0, "fen %s", yr_cell(&t, 4, 4));
    /* the sums skip the totals row */
    CHECK(yr_table_sum(&t, "times", NULL, NULL) == 9, "sum after total");
    CHECK(yr_table_set(&t, 4, 3, "6") == 0 && strcmp(yr_cell(&t, 4, 3), "6") == 0, "set");
    CHECK(yr_table_set(&t, 9, 3, "6") == -1 && yr_table_set(&t, 0, 9, "6") == -1, "set range");
    CHECK(strcmp(yr_cell(&t, 99, 0), "") == 0, "cell out of range");

    yr_report r;
    memset(&r, 0, sizeof(r));
    r.year = 2026;
    snprintf(r.generated, sizeof(r.generated), "2026-12-31T00:00:00Z");
    r.tables[r.ntables++] = &t;
    yr_check_add(&r, true, "fund central:2026", "remaining %d fen", 5);
    yr_check_add(&r, false, "spent <district>", "report %d & ledger %d", 1, 2);
    CHECK(r.nchecks == 2 && r.differences == 1, "checks %d differences %d", r.nchecks,
          r.differences);
    snprintf(r.unjournaled_detail, sizeof(r.unjournaled_detail), "0 events");

    yr_buf csv = {0}, json = {0}, html = {0}, text = {0}, chk = {0};
    yr_write_csv(&t, &csv);
    yr_write_json(&r, &json);
    yr_write_html(&r, &html);
    yr_write_text(&r, &text);
    yr_write_checks_csv(&r, &chk);
    CHECK(!csv.failed && !json.failed && !html.failed && !text.failed && !chk.failed, "written");
    CHECK(csv.s && strncmp(csv.s, "item,fund,times,persons,fen\r\n", 29) == 0, "csv header");
    CHECK(csv.s && strstr(csv.s, "R01-LIMB,provincial,1,1,-100\r\n"), "csv negative fen");
    CHECK(csv.s && strstr(csv.s, "\"'=cmd\",district"), "csv formula guarded");
    CHECK(csv.s && strstr(csv.s, "合计 Total,,9,6,12246\r\n"), "csv total");
    CHECK(json.s && strstr(json.s, "\"fen\":12345") && strstr(json.s, "\"fen\":-100"),
          "json fen as integers: %s", json.s ? json.s : "");
    CHECK(json.s && strstr(json.s, "\"status\":\"DIFF\"") && strstr(json.s, "\"differences\":1"),
          "json status");
    CHECK(json.s && strstr(json.s, "\"total\":true") && strstr(json.s, "\"quarter\":null"),
          "json total and quarter");
    CHECK(html.s && strstr(html.s, "<script") == NULL && strstr(html.s, "http:") == NULL &&
              strstr(html.s, "https:") == NULL,
          "html: no script, no URL");
    CHECK(html.s && strstr(html.s, "&lt;script&gt;x&lt;/script&gt;") &&
              strstr(html.s, "note &amp; &lt;b&gt;") && strstr(html.s, "spent &lt;district&gt;"),
          "html escapes cells, notes and checks");
    CHECK(html.s && strstr(html.s, "123.45") && strstr(html.s, "-1.00"), "html shows yuan");
    CHECK(html.s && strstr(html.s, "@media print") && strstr(html.s, "@page"), "print css");
    CHECK(html.s && strstr(html.s, "与总账不符 Differs from the ledger"), "html status");
    CHECK(text.s && strstr(text.s, "spent <district>") && strstr(text.s, "DIFF"), "text");
    CHECK(chk.s && strstr(chk.s, "fund central:2026,true,remaining 5 fen\r\n") &&
              strstr(chk.s, "unjournaled,true,0 events"),
          "checks csv: %s", chk.s ? chk.s : "");

    r.unjournaled = 3;
    yr_buf j2 = {0};
    yr_write_json(&r, &j2);
    CHECK(j2.s && strstr(j2.s, "\"status\":\"INCOMPLETE\""), "incomplete wins");
    yr_buf_free(&j2);
    yr_buf_free(&csv);
    yr_buf_free(&json);
    yr_buf_free(&html);
    yr_buf_free(&text);
    yr_buf_free(&chk);
    yr_table_free(&t);
}

static void test_checks_overflow(void)
{
    yr_report r;
    memset(&r, 0, sizeof(r));
    for (int i = 0; i < YR_CHECKS_MAX + 5; i++)
        yr_check_add(&r, i != YR_CHECKS_MAX + 2, "c", "%d", i);
    CHECK(r.nchecks == YR_CHECKS_MAX && r.differences == 1, "n %d diff %d", r.nchecks,
          r.differences);
    CHECK(!r.checks[YR_CHECKS_MAX - 1].ok, "a difference past the last line still shows");
}

int main(void)
{
    test_fen_text();
    test_csv_field();
    test_html_escape();
    test_table();
    test_checks_overflow();
    return CHECK_DONE();
}
