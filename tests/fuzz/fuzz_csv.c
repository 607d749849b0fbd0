/*
 * fuzz_csv: the eligibility service's parsers of outside files on any
 * bytes: the catalogue (catalogue_parse), and each line of a person or
 * provider list or an agency feed split as CSV (csv_split) and checked as
 * a row (import_person_row, import_provider_row, import_feed_row), and the line as an eligibility
 * rule (rules_expr_parse).
 *
 * Promises checked beyond "no crash, no undefined behaviour": csv_split
 * never returns more fields than asked and every field is NUL-terminated
 * inside the line; a person row accepted has a grade 1-4, a care level 0-3
 * and a birth date not after today; a parsed rule has at most
 * RULES_CONDS_MAX conditions; a parsed catalogue has 1..CATALOGUE_MAX_ITEMS
 * items with non-negative amounts; every failure leaves a message.
 */
#include "catalogue.h"
#include "csv.h"
#include "fuzz.h"
#include "import.h"
#include "rules.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    catalogue c;
    err[0] = '\0';
    if (catalogue_parse(&c, (const char *)data, size, err, sizeof(err)) == 0) {
        FUZZ_REQUIRE(c.nitems >= 1 && c.nitems <= CATALOGUE_MAX_ITEMS);
        for (int i = 0; i < c.nitems; i++)
            FUZZ_REQUIRE(c.items[i].standard_fen >= 0 && c.items[i].annual_cap_fen >= 0);
        catalogue_free(&c);
    } else {
        FUZZ_REQUIRE(err[0] != '\0');
    }
    char line[4096], copy[4096];
    size_t pos = 0;
    int l;
    int32_t today = rules_days(2026, 11, 23);
    while ((l = csv_next_line((const char *)data, size, &pos, line, sizeof(line))) != -1) {
        if (l < 0)
            continue;
        FUZZ_REQUIRE(strlen(line) == (size_t)l);
        memcpy(copy, line, (size_t)l + 1);
        rules_expr e;
        if (rules_expr_parse(copy, &e, err, sizeof(err)) == 0)
            FUZZ_REQUIRE(e.nconds <= RULES_CONDS_MAX);
        char *f[IMPORT_PERSON_COLS + 1];
        err[0] = '\0';
        int n = csv_split(line, ',', f, IMPORT_PERSON_COLS + 1, err, sizeof(err));
        if (n < 0) {
            FUZZ_REQUIRE(err[0] != '\0');
            continue;
        }
        FUZZ_REQUIRE(n >= 1 && n <= IMPORT_PERSON_COLS + 1);
        for (int i = 0; i < n; i++)
            FUZZ_REQUIRE(f[i] >= line && f[i] + strlen(f[i]) <= line + l);
        import_person p;
        if (import_person_row(f, n, today, &p, err, sizeof(err)) == 0)
            FUZZ_REQUIRE(p.grade >= 1 && p.grade <= 4 && p.care_level >= 0 && p.care_level <= 3 &&
                         p.birth_day <= today);
        import_feed fe;
        if (import_feed_row(f, n, today, &fe, err, sizeof(err)) == 0)
            FUZZ_REQUIRE(fe.change_code >= 1 && fe.change_code <= 6 &&
                         (fe.change_code != 5 || (fe.grade >= 1 && fe.grade <= 4)));
        import_provider q;
        if (import_provider_row(f, n, &q, err, sizeof(err)) == 0)
            FUZZ_REQUIRE(strlen(q.provider_id) >= 1 && strlen(q.provider_id) <= 64);
    }
    return 0;
}
