/*
 * fuzz_csv: the eligibility service's parsers of outside files on any
 * bytes:
 *   - the catalogue (catalogue_parse), and each line of the input as a
 *     catalogue line (csv_next_line, csv_tsv_split) and as an eligibility
 *     rule (rules_expr_parse);
 *   - the CSV record reader (csv_read) over the whole input, with a small
 *     room for a record so that its limits are reached;
 *   - the walk of an imported list (importfile_start, importfile_next):
 *     the encoding check and conversion (encoding_to_utf8, declared GBK
 *     as well when the input is not UTF-8), the header in English or
 *     Chinese, and each row checked as a person (import_person_row), a
 *     provider (import_provider_row) and an agency feed row
 *     (import_feed_row), each against its own header.
 *
 * Promises checked beyond "no crash, no undefined behaviour, no leak":
 * csv_read moves forward on every call, numbers records by lines that
 * never go back, and returns 1..max fields NUL-terminated inside the store
 * it was given (or -1 with a message, or 0 at the end only); what the walk
 * accepts is valid UTF-8; an accepted person row has a grade 1-4, a care
 * level 0-3, a birth date not after today and text fields without control
 * characters; an accepted feed row has a known change (and a grade 1-4 for
 * a grade change); a parsed rule has at most RULES_CONDS_MAX conditions; a
 * parsed catalogue has 1..CATALOGUE_MAX_ITEMS items with non-negative
 * amounts; every failure leaves a message.
 */
#include "catalogue.h"
#include "csv.h"
#include "encoding.h"
#include "fuzz.h"
#include "import.h"
#include "importfile.h"
#include "rules.h"

#include <stdbool.h>
#include <string.h>

/* Whether the field lies inside store[0..len) with its NUL. */
static bool fuzz_inside(const char *field, const char *store, size_t len)
{
    return field >= store && field < store + len &&
           memchr(field, '\0', len - (size_t)(field - store)) != NULL;
}

static bool fuzz_no_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20)
            return false;
    return true;
}

static void fuzz_catalogue(const uint8_t *data, size_t size)
{
    char err[256];
    catalogue c;
    err[0] = '\0';
    if (catalogue_parse(&c, (const char *)data, size, err, sizeof(err)) == 0) {
        FUZZ_REQUIRE(c.nitems >= 1 && c.nitems <= CATALOGUE_MAX_ITEMS);
        for (int i = 0; i < c.nitems; i++) {
            const rules_item *it = &c.items[i];
            FUZZ_REQUIRE(it->standard_fen >= 0 && it->annual_cap_fen >= 0 && it->tiers == c.tiers);
            /* every item fits its kind: a price to swipe by, a cap to claim against,
             * a figure to issue */
            FUZZ_REQUIRE((unsigned)it->kind < DIRECTORY_KINDS);
            FUZZ_REQUIRE(it->kind != DIRECTORY_KIND_PRICED || it->standard_fen > 0);
            FUZZ_REQUIRE((it->kind == DIRECTORY_KIND_QUOTE || it->kind == DIRECTORY_KIND_REIMBURSE)
                             ? !it->issued && it->annual_cap_fen > 0
                             : it->issued);
        }
        for (int k = 0; k < c.tiers->n; k++) /* a tier's value is never negative */
            FUZZ_REQUIRE(
                c.tiers->rows[k].value >= 0 &&
                (c.tiers->rows[k].tier != RULES_TIER_DIBAO30 || c.tiers->rows[k].value <= 10000));
        catalogue_free(&c);
    } else {
        FUZZ_REQUIRE(err[0] != '\0');
    }
    char line[4096], copy[4096];
    size_t pos = 0;
    int l;
    while ((l = csv_next_line((const char *)data, size, &pos, line, sizeof(line))) != -1) {
        if (l < 0)
            continue;
        FUZZ_REQUIRE(strlen(line) == (size_t)l);
        memcpy(copy, line, (size_t)l + 1);
        rules_expr e;
        if (rules_expr_parse(copy, &e, err, sizeof(err)) == 0)
            FUZZ_REQUIRE(e.nconds <= RULES_CONDS_MAX);
        char *f[4];
        err[0] = '\0';
        int n = csv_tsv_split(line, f, 4, err, sizeof(err));
        FUZZ_REQUIRE(n < 0 ? err[0] != '\0' : n >= 1 && n <= 4);
        for (int i = 0; i < n; i++)
            FUZZ_REQUIRE(f[i] >= line && f[i] + strlen(f[i]) <= line + l);
    }
}

/* The reader on its own, 4 fields in 64 bytes at most. */
static void fuzz_records(const uint8_t *data, size_t size)
{
    csv_reader r;
    csv_reader_init(&r, (const char *)data, size);
    char store[64], err[256];
    char *f[4];
    int line, last_line = 0;
    for (size_t calls = 0;; calls++) {
        FUZZ_REQUIRE(calls <= size + 1);
        size_t before = r.pos;
        err[0] = '\0';
        int n = csv_read(&r, store, sizeof(store), f, 4, &line, err, sizeof(err));
        if (n == 0) {
            FUZZ_REQUIRE(r.pos == size);
            break;
        }
        FUZZ_REQUIRE(r.pos > before && r.pos <= size && line >= last_line && r.line > last_line);
        last_line = line;
        if (n < 0) {
            FUZZ_REQUIRE(err[0] != '\0');
            continue;
        }
        FUZZ_REQUIRE(n >= 1 && n <= 4);
        for (int i = 0; i < n; i++)
            FUZZ_REQUIRE(fuzz_inside(f[i], store, sizeof(store)));
    }
}

/* The input as an imported list of cols, declared as enc. */
static void fuzz_list(const uint8_t *data, size_t size, encoding_kind enc,
                      const import_columns *cols)
{
    importfile fi;
    int32_t today = rules_days(2026, 11, 23);
    char err[512];
    char *buf = malloc(size + 1);
    FUZZ_REQUIRE(buf != NULL);
    memcpy(buf, data, size);
    err[0] = '\0';
    if (importfile_start(&fi, buf, size, enc, cols, err, sizeof(err)) < 0) {
        FUZZ_REQUIRE(strncmp(err, "line ", 5) == 0 || strncmp(err, "row ", 4) == 0);
        importfile_close(&fi);
        return;
    }
    FUZZ_REQUIRE(encoding_utf8_bad(fi.buf, fi.len) == fi.len);
    for (;;) {
        int row;
        err[0] = '\0';
        int n = importfile_next(&fi, &row, err, sizeof(err));
        if (n == 0)
            break;
        if (n < 0) {
            FUZZ_REQUIRE(err[0] != '\0');
            continue;
        }
        FUZZ_REQUIRE(n >= 1 && n <= cols->n + 1 && row >= 1);
        for (int i = 0; i < n; i++)
            FUZZ_REQUIRE(fuzz_inside(fi.f[i], fi.store, sizeof(fi.store)));
        if (cols == &import_person_columns) {
            import_person p;
            if (import_person_row(fi.f, n, today, &p, err, sizeof(err)) == 0)
                FUZZ_REQUIRE(p.grade >= 1 && p.grade <= 4 && p.care_level >= 0 &&
                             p.care_level <= 3 && p.birth_day <= today && fuzz_no_control(p.name) &&
                             fuzz_no_control(p.village));
            else
                FUZZ_REQUIRE(err[0] != '\0');
        } else if (cols == &import_feed_columns) {
            import_feed fe;
            if (import_feed_row(fi.f, n, today, &fe, err, sizeof(err)) == 0)
                FUZZ_REQUIRE(fe.change_code >= 1 && fe.change_code <= 6 &&
                             (fe.change_code != 5 || (fe.grade >= 1 && fe.grade <= 4)));
            else
                FUZZ_REQUIRE(err[0] != '\0');
        } else {
            import_provider q;
            if (import_provider_row(fi.f, n, &q, err, sizeof(err)) == 0)
                FUZZ_REQUIRE(strlen(q.provider_id) >= 1 && strlen(q.provider_id) <= 64 &&
                             fuzz_no_control(q.name));
            else
                FUZZ_REQUIRE(err[0] != '\0');
        }
    }
    importfile_close(&fi);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_catalogue(data, size);
    fuzz_records(data, size);
    const import_columns *lists[] = {&import_person_columns, &import_provider_columns,
                                     &import_feed_columns};
    bool utf8 = encoding_utf8_bad((const char *)data, size) == size;
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        fuzz_list(data, size, ENCODING_AUTO, lists[i]);
        if (!utf8)
            fuzz_list(data, size, ENCODING_GB18030, lists[i]);
    }
    return 0;
}
