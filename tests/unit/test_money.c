/*
 * test_money: the one money parser and limit and the account-name field
 * rule (libs/common/money.c), and
 * the catalogue value's writer and parser next to it (directory.c).
 */
#include "check.h"
#include "common/directory.h"
#include "common/money.h"

#include <stdio.h>
#include <string.h>

static void test_parse_fen(void)
{
    static const struct {
        const char *in;
        bool ok;
        int64_t want;
    } rows[] = {
        {"0", true, 0},
        {"1", true, 1},
        {"100000000000", true, MONEY_MAX_FEN},
        {"100000000001", false, 0},
        {"99999999999999999999999", false, 0}, /* would overflow int64 */
        {"", false, 0},
        {"-1", false, 0},
        {"+1", false, 0},
        {" 1", false, 0},
        {"1 ", false, 0},
        {"1e3", false, 0},
        {"12.50", false, 0},
        {"0x10", false, 0},
        {"007", true, 7},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int64_t v = -42;
        bool ok = money_parse_fen(rows[i].in, &v);
        CHECK(ok == rows[i].ok && (!ok ? v == -42 : v == rows[i].want), "\"%s\": ok %d v %lld",
              rows[i].in, ok, (long long)v);
    }
    CHECK(!money_parse_fen(NULL, &(int64_t){0}), "NULL is not an amount");
    CHECK(money_in_range(0) && money_in_range(MONEY_MAX_FEN) && !money_in_range(-1) &&
              !money_in_range(MONEY_MAX_FEN + 1),
          "range");
}

/* The catalogue value: every field checked (rows found by fuzz_settlement
 * when settlement had its own copy of the parser). */
static void test_account_field(void)
{
    static const struct {
        const char *in;
        size_t max;
        bool ok;
    } rows[] = {
        {"6222000000000001234", 19, true},
        {"S01-CARE", 64, true},
        {"central-2026", 64, true},
        {"康复", 64, true}, /* UTF-8 bytes are above ' ' */
        {"", 64, false},
        {NULL, 64, false},
        {"a:b", 64, false}, /* the names' separator */
        {"a|b", 64, false},
        {"a b", 64, false},
        {"a\tb", 64, false},
        {"a\x7f", 64, false},
        {"abcd", 3, false}, /* longer than max */
        {"abc", 3, true},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        CHECK(money_account_field_ok(rows[i].in, rows[i].max) == rows[i].ok, "row %zu \"%s\"", i,
              rows[i].in ? rows[i].in : "(null)");
}

static void test_value_parse(void)
{
    static const struct {
        const char *in;
        int64_t daily;
        const char *category;
        const char *err;
        directory_kind kind;
    } rows[] = {
        /* written before kinds: credit */
        {"rehab|50000|10000|0|rehabilitation", 10000, "rehabilitation", NULL,
         DIRECTORY_KIND_CREDIT},
        {"care|0|0|0|", 0, "", NULL, DIRECTORY_KIND_CREDIT},
        {"R10|5000|20000|200000|rehabilitation|priced", 20000, "rehabilitation", NULL,
         DIRECTORY_KIND_PRICED},
        {"S02|136500|0|0|social-security|cash", 0, "social-security", NULL, DIRECTORY_KIND_CASH},
        {"R09|0|0|300000|rehabilitation|quote", 0, "rehabilitation", NULL, DIRECTORY_KIND_QUOTE},
        {"R08|0|0|1|x|reimburse", 0, "x", NULL, DIRECTORY_KIND_REIMBURSE},
        {"rehab|50000|10000|0", 0, NULL, "category is missing", DIRECTORY_KIND_CREDIT},
        {"rehab|50000|10000|0|x|y", 0, NULL, "kind \"y\"", DIRECTORY_KIND_CREDIT},
        {"rehab|50000|10000|0|x|", 0, NULL, "kind \"\"", DIRECTORY_KIND_CREDIT},
        {"rehab|50000|10000|0|x|credit|z", 0, NULL, "more than 6", DIRECTORY_KIND_CREDIT},
        {"rehab|5e4|10000|0|x", 0, NULL, "standard", DIRECTORY_KIND_CREDIT},
        {"rehab|50000|-1|0|x", 0, NULL, "daily_cap", DIRECTORY_KIND_CREDIT},
        {"rehab|50000||0|x", 0, NULL, "daily_cap", DIRECTORY_KIND_CREDIT},
        /* strtoll skips spaces and takes the sign after them (found by fuzz_settlement) */
        {"rehab|50000|0|\n-1446744736|x", 0, NULL, "annual_cap", DIRECTORY_KIND_CREDIT},
        {"rehab| 50000|0|0|x", 0, NULL, "standard", DIRECTORY_KIND_CREDIT},
        {"|1|1|1|x", 0, NULL, "wallet empty", DIRECTORY_KIND_CREDIT},
        {"rehab|99999999999999999999|1|1|x", 0, NULL, "standard", DIRECTORY_KIND_CREDIT},
        {"", 0, NULL, "missing", DIRECTORY_KIND_CREDIT},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        directory_value it;
        char err[200] = "";
        int rc = directory_item_parse(rows[i].in, &it, err, sizeof(err));
        if (rows[i].err == NULL)
            CHECK(rc == 0 && it.daily_cap_fen == rows[i].daily &&
                      strcmp(it.category, rows[i].category) == 0 && it.kind == rows[i].kind,
                  "\"%s\": rc %d err %s", rows[i].in, rc, err);
        else
            CHECK(rc < 0 && strstr(err, rows[i].err), "\"%s\": rc %d err \"%s\"", rows[i].in, rc,
                  err);
    }
}

/* What the writer writes, the parser reads back; what it refuses, it
 * refuses with the field's name. */
static void test_value_format(void)
{
    static const struct {
        directory_item it;
        const char *err;
    } rows[] = {
        {{"S01", "rehab", "rehabilitation", 50000, 10000, 3600000, DIRECTORY_KIND_CREDIT}, NULL},
        {{"S02", "care", "", 0, 0, 0, DIRECTORY_KIND_CASH}, NULL},
        {{"S11", "S11", "social-security", 200, 2000, 120000, DIRECTORY_KIND_PRICED}, NULL},
        {{"S06", "S06", "social-security", 0, 0, 1000000, DIRECTORY_KIND_QUOTE}, NULL},
        {{"S08", "S08", "social-security", 0, 0, 40000, DIRECTORY_KIND_REIMBURSE}, NULL},
        {{"S03", "", "x", 1, 1, 1, DIRECTORY_KIND_CREDIT}, "wallet"},
        {{"S04", "re|hab", "x", 1, 1, 1, DIRECTORY_KIND_CREDIT}, "wallet"},
        {{"S05", "rehab", "a|b", 1, 1, 1, DIRECTORY_KIND_CREDIT}, "category"},
        {{"S06", "rehab", "x", -1, 1, 1, DIRECTORY_KIND_CREDIT}, "standard"},
        {{"S07", "rehab", "x", 1, MONEY_MAX_FEN + 1, 1, DIRECTORY_KIND_CREDIT}, "daily_cap"},
        {{"S08", "rehab", "x", 1, 1, -5, DIRECTORY_KIND_CREDIT}, "annual_cap"},
        {{"S09", "rehab", "x", 1, 1, 1, (directory_kind)7}, "kind"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char val[256], err[200] = "";
        int rc = directory_item_format(&rows[i].it, val, sizeof(val), err, sizeof(err));
        if (rows[i].err) {
            CHECK(rc < 0 && strstr(err, rows[i].err), "%s: rc %d err \"%s\"", rows[i].it.code, rc,
                  err);
            continue;
        }
        directory_value v;
        CHECK(rc == 0 && directory_item_parse(val, &v, err, sizeof(err)) == 0 &&
                  strcmp(v.wallet, rows[i].it.wallet) == 0 &&
                  strcmp(v.category, rows[i].it.category) == 0 &&
                  v.standard_fen == rows[i].it.standard_fen &&
                  v.daily_cap_fen == rows[i].it.daily_cap_fen &&
                  v.annual_cap_fen == rows[i].it.annual_cap_fen && v.kind == rows[i].it.kind,
              "%s: round trip of \"%s\": %s", rows[i].it.code, val, err);
    }
}

int main(void)
{
    test_parse_fen();
    test_account_field();
    test_value_parse();
    test_value_format();
    return CHECK_DONE();
}
