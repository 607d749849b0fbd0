/*
 * test_csv: the eligibility service's readers of outside files,
 * table-driven: the CSV record reader (quoted commas, doubled quotes, line
 * breaks inside quotes, the byte order mark, blank lines, and each fault
 * with the row it names and where reading goes on), the catalogue's TSV
 * splitter, the encodings (UTF-8 taken as it is, GBK converted, anything
 * else refused naming its line), the headers in English, Chinese or both,
 * and whole lists walked as the import commands walk them.
 *
 * Results are written out as text and compared with the row's: a record
 * as "LINE:field|field;", a bad one as "LINE!reason;".
 */
#include "check.h"

#include "csv.h"
#include "encoding.h"
#include "import.h"
#include "importfile.h"
#include "rules.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Appends printf-style text to out (room outlen). */
__attribute__((format(printf, 3, 4))) static void put(char *out, size_t outlen, const char *fmt,
                                                      ...)
{
    size_t n = strlen(out);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out + n, outlen - n, fmt, ap);
    va_end(ap);
}

/* Every record of in (len bytes) as read with a store of storelen bytes
 * and max fields. */
static void read_all(const char *in, size_t len, size_t storelen, int max, char *out, size_t outlen)
{
    csv_reader r;
    char store[CSV_RECORD_MAX], err[256];
    char *f[16];
    int line, n;
    out[0] = '\0';
    csv_reader_init(&r, in, len);
    while ((n = csv_read(&r, store, storelen, f, max, &line, err, sizeof(err))) != 0) {
        if (n < 0) {
            put(out, outlen, "%d!%s;", line, err);
            continue;
        }
        put(out, outlen, "%d:", line);
        for (int i = 0; i < n; i++)
            put(out, outlen, "%s%s", i ? "|" : "", f[i]);
        put(out, outlen, ";");
    }
}

static void test_records(void)
{
    static const struct {
        const char *in;
        size_t len;      /* 0: strlen(in) */
        size_t storelen; /* 0: CSV_RECORD_MAX */
        int max;
        const char *want;
    } rows[] = {
        {"a,b,c", 0, 0, 4, "1:a|b|c;"},
        {"a,,", 0, 0, 4, "1:a||;"},
        {"\"\"", 0, 0, 4, "1:;"},
        /* quoted commas, doubled quotes */
        {"a,\"b,c\",d\r\n", 0, 0, 4, "1:a|b,c|d;"},
        {"a,\"say \"\"hi\"\"\"\n", 0, 0, 4, "1:a|say \"hi\";"},
        {"\"\"\"\",\"a\"\"\"", 0, 0, 4, "1:\"|a\";"},
        /* line breaks inside quotes, LF and CRLF: one record, named by its
         * first line; the next starts on the line after it */
        {"1,\"x\ny\",2\n3,z,4\n", 0, 0, 4, "1:1|x\ny|2;3:3|z|4;"},
        {"1,\"x\r\ny\",2\r\n3,z,4\r\n", 0, 0, 4, "1:1|x\r\ny|2;3:3|z|4;"},
        {"1,\"a\n\nb\"\n2\n", 0, 0, 4, "1:1|a\n\nb;4:2;"},
        /* the byte order mark, only at the start */
        {"\xEF\xBB\xBFnational_id,name\n", 0, 0, 4, "1:national_id|name;"},
        {"a,\xEF\xBB\xBF", 0, 0, 4, "1:a|\xEF\xBB\xBF;"},
        {"\xEF\xBB\xBF", 0, 0, 4, ""},
        /* blank lines are no records but count; the last line may end in
         * CRLF, CR alone or nothing */
        {"a\n\n\r\nb\n", 0, 0, 4, "1:a;4:b;"},
        {"a,b\r", 0, 0, 4, "1:a|b;"},
        {"\r\n\n", 0, 0, 4, ""},
        {"", 0, 0, 4, ""},
        /* a bad record costs its first line, and the next is read as a
         * record: an unclosed quote (the end-to-end test's row 6) */
        {"h\nx,\"y,z\nq,r\n", 0, 0, 4, "1:h;2!field 2: unterminated quote;3:q|r;"},
        {"1,\"a\nb\",\"c\nd,e\n", 0, 0, 4,
         "1!field 3: unterminated quote (line 2);2!field 1: stray quote;3:d|e;"},
        /* the other faults, and a stray quote "closed" on a later line */
        {"a,\"b\"x,c\nd\n", 0, 0, 4, "1!field 2: text after the closing quote;2:d;"},
        {"a,\"b\nc\"x\nd\n", 0, 0, 4,
         "1!field 2: unterminated quote, or text after its closing quote on line 2;"
         "2!field 1: stray quote;3:d;"},
        {"a,b\"c\nd\n", 0, 0, 4, "1!field 2: stray quote;2:d;"},
        {"a\rb,c\nd", 0, 0, 4, "1!field 1: stray line break;2:d;"},
        {"a,b\0c\nd\n", 8, 0, 4, "1!field 2: NUL byte;2:d;"},
        {"\"a\0\"\nd\n", 7, 0, 4, "1!field 1: NUL byte;2:d;"},
        /* too many fields: the record is read to its end, quotes and all */
        {"a,b,c,\"d\ne\"\nf\n", 0, 0, 3, "1!more than 3 fields;3:f;"},
        /* too long for the room given */
        {"abcdefghij,k\nl\n", 0, 8, 4, "1!record longer than 8 bytes;2:l;"},
        {"abc,def,g\nl\n", 0, 8, 4, "1!record longer than 8 bytes;2:l;"},
        {"\"abcdefghij\nk\"\nl\n", 0, 8, 4,
         "1!field 1: a quoted field longer than 8 bytes, or its closing quote is missing;"
         "2!field 1: stray quote;3:l;"},
        {"abcdef\n", 0, 8, 4, "1:abcdef;"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char out[512];
        read_all(rows[i].in, rows[i].len ? rows[i].len : strlen(rows[i].in),
                 rows[i].storelen ? rows[i].storelen : CSV_RECORD_MAX, rows[i].max, out,
                 sizeof(out));
        CHECK(strcmp(out, rows[i].want) == 0, "records row %zu: \"%s\"", i, out);
    }
}

static void test_tsv(void)
{
    static const struct {
        const char *line;
        int n;
        const char *second;
    } rows[] = {
        {"a\tb\tc\r\n", 3, "b"}, {"a\t\"b\"", 2, "\"b\""}, /* no quoting in TSV */
        {"a\t\t", 3, ""},        {"a,b", 1, NULL},         {"a\tb\tc\td\te", -1, NULL},
        {"a\rb\tc", -1, NULL},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char line[64], err[128];
        char *f[4];
        snprintf(line, sizeof(line), "%s", rows[i].line);
        int n = csv_tsv_split(line, f, 4, err, sizeof(err));
        CHECK(n == rows[i].n, "tsv row %zu: %d fields", i, n);
        if (n > 1 && rows[i].second)
            CHECK(strcmp(f[1], rows[i].second) == 0, "tsv row %zu: [%s]", i, f[1]);
    }
}

static void test_encoding(void)
{
    static const struct {
        const char *in;
        size_t len; /* 0: strlen(in) */
        encoding_kind kind;
        const char *want; /* the text after, or the start of the refusal */
        int rc;
    } rows[] = {
        /* UTF-8 is taken as it is, with or without BOM, whatever was
         * declared */
        {"\xe5\xbc\xa0\xe4\xb8\x89", 0, ENCODING_AUTO, "\xe5\xbc\xa0\xe4\xb8\x89", 0},
        {"\xEF\xBB\xBF\xe5\xbc\xa0", 0, ENCODING_UTF8, "\xEF\xBB\xBF\xe5\xbc\xa0", 0},
        {"\xe5\xbc\xa0\xe4\xb8\x89", 0, ENCODING_GB18030, "\xe5\xbc\xa0\xe4\xb8\x89", 0},
        {"\xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf", 0, ENCODING_AUTO, "\xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf",
         0},
        /* GBK (张三, 湖贝社区) converted when declared, gbk or gb18030 */
        {"name\n\xd5\xc5\xc8\xfd\n", 0, ENCODING_GB18030, "name\n\xe5\xbc\xa0\xe4\xb8\x89\n", 0},
        {"\xba\xfe\xb1\xb4\xc9\xe7\xc7\xf8", 0, ENCODING_GB18030,
         "\xe6\xb9\x96\xe8\xb4\x9d\xe7\xa4\xbe\xe5\x8c\xba", 0},
        /* past GBK: GB18030's four-byte form (U+20000, a rare character
         * of names) */
        {"\x95\x32\x82\x36", 0, ENCODING_GB18030, "\xf0\xa0\x80\x80", 0},
        /* refused, naming the line of the first bad byte */
        {"name\n\xd5\xc5\xc8\xfd\n", 0, ENCODING_AUTO,
         "line 2: byte 0xD5 is not UTF-8; if the file was saved as GBK", -1},
        {"a\nb\nc\xd5\xc5\n", 0, ENCODING_AUTO, "line 3: byte 0xD5 is not UTF-8; ", -1},
        {"name\n\xd5\xc5\xc8\xfd\n", 0, ENCODING_UTF8,
         "line 2: byte 0xD5 is not UTF-8 (declared --encoding utf-8)", -1},
        {"\xc0\xaf", 0, ENCODING_AUTO, "line 1: byte 0xC0 is not UTF-8", -1},     /* overlong */
        {"\xed\xa0\x80", 0, ENCODING_AUTO, "line 1: byte 0xED is not UTF-8", -1}, /* surrogate */
        {"\xf4\x90\x80\x80", 0, ENCODING_AUTO, "line 1: byte 0xF4 is not UTF-8", -1},
        {"ok\n\xe5\xbc", 0, ENCODING_AUTO, "line 2: byte 0xE5 is not UTF-8", -1}, /* cut short */
        {"a\n\x81\x20", 0, ENCODING_GB18030, "line 2: byte 0x81 is not GBK or GB18030", -1},
        {"a\n\xd5", 0, ENCODING_GB18030,
         "line 2: byte 0xD5 is not GBK or GB18030 (the file ends inside a character)", -1},
        {"\xff\xfe"
         "a\0",
         4, ENCODING_GB18030, "line 1: the file is UTF-16", -1},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        size_t len = rows[i].len ? rows[i].len : strlen(rows[i].in);
        char *buf = malloc(len + 1), err[256] = "";
        memcpy(buf, rows[i].in, len);
        int rc = encoding_to_utf8(&buf, &len, rows[i].kind, err, sizeof(err));
        CHECK(rc == rows[i].rc, "encoding row %zu: %d (%s)", i, rc, err);
        if (rc == 0)
            CHECK(len == strlen(rows[i].want) && memcmp(buf, rows[i].want, len) == 0,
                  "encoding row %zu: %.*s", i, (int)len, buf);
        else
            CHECK(strncmp(err, rows[i].want, strlen(rows[i].want)) == 0, "encoding row %zu: %s", i,
                  err);
        free(buf);
    }

    static const struct {
        const char *name;
        int rc;
        encoding_kind kind;
    } names[] = {
        {NULL, 0, ENCODING_AUTO},         {"utf-8", 0, ENCODING_UTF8},
        {"UTF-8", 0, ENCODING_UTF8},      {"gbk", 0, ENCODING_GB18030},
        {"GB18030", 0, ENCODING_GB18030}, {"latin1", -1, ENCODING_AUTO},
        {"", -1, ENCODING_AUTO},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        encoding_kind k = ENCODING_AUTO;
        char err[128] = "";
        int rc = encoding_parse(names[i].name, &k, err, sizeof(err));
        CHECK(rc == names[i].rc && (rc < 0 ? err[0] != '\0' : k == names[i].kind),
              "encoding name row %zu", i);
    }
}

static void test_header(void)
{
    static const struct {
        const import_columns *cols;
        const char *cells[13];
        const char *want; /* the column each cell names (its English name), or the refusal */
    } rows[] = {
        {&import_feed_columns,
         {"national_id", "change", "effective_date", "household", "grade"},
         "national_id change effective_date household grade"},
        {&import_feed_columns,
         {"身份证号", "变更类型", "生效日期", "低保情况", "残疾等级"},
         "national_id change effective_date household grade"},
        /* mixed, reordered, spaces (ASCII and U+3000) around, full-width
         * parentheses */
        {&import_person_columns,
         {" 姓名 ", "national_id", "残疾类别", "grade", "\xE3\x80\x80护理等级", "birth_date",
          "区县\t", "town", "村（社区）", "household", "联系电话"},
         "name national_id category grade care_level birth_date district town village household "
         "phone"},
        {&import_provider_columns,
         {"机构编号", "机构名称", "区县", "机构类别", "服务项目"},
         "provider_id name district category items"},
        /* refusals name the column */
        {&import_feed_columns,
         {"身份证号", "变更类型", "生效日期", "低保情况", "手机"},
         "unknown column \"手机\" (column 5 of the header)"},
        {&import_feed_columns,
         {"national_id", "change", "身份证号", "household", "grade"},
         "column \"身份证号\" (column 3 of the header) repeats national_id, column 1"},
        {&import_feed_columns,
         {"national_id", "change", "effective_date", "household"},
         "no column grade (残疾等级) in the header"},
        {&import_feed_columns,
         {"national_id", "change", "effective date", "household", "grade"},
         "unknown column \"effective date\" (column 3 of the header)"},
        {&import_feed_columns,
         {"national_id", "change", "effective_date", "household", "grade", ""},
         "unknown column \"\" (column 6 of the header)"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char cells[13][64], *f[13], err[256] = "", out[256] = "";
        int n = 0, map[IMPORT_MAX_COLS];
        for (; n < 13 && rows[i].cells[n]; n++) {
            snprintf(cells[n], sizeof(cells[n]), "%s", rows[i].cells[n]);
            f[n] = cells[n];
        }
        if (import_header(f, n, rows[i].cols, map, err, sizeof(err)) == 0)
            for (int k = 0; k < n; k++)
                put(out, sizeof(out), "%s%s", k ? " " : "", rows[i].cols->en[map[k]]);
        else
            snprintf(out, sizeof(out), "%s", err);
        CHECK(strcmp(out, rows[i].want) == 0, "header row %zu: %s", i, out);
    }
}

/* A person list saved by Excel as "CSV" on a Chinese Windows: GBK, CRLF,
 * Chinese headers (村（社区） with full-width parentheses), and 张三's
 * village a wrapped cell holding a comma and a line break. */
static const char gbk_persons[] =
    "\xc9\xed\xb7\xdd\xd6\xa4\xba\xc5,\xd0\xd5\xc3\xfb,\xb2\xd0\xbc\xb2\xc0\xe0\xb1\xf0,"
    "\xb2\xd0\xbc\xb2\xb5\xc8\xbc\xb6,\xbb\xa4\xc0\xed\xb5\xc8\xbc\xb6,"
    "\xb3\xf6\xc9\xfa\xc8\xd5\xc6\xda,\xc7\xf8\xcf\xd8,\xbd\xd6\xb5\xc0,"
    "\xb4\xe5\xa3\xa8\xc9\xe7\xc7\xf8\xa3\xa9,\xb5\xcd\xb1\xa3\xc7\xe9\xbf\xf6,"
    "\xc1\xaa\xcf\xb5\xb5\xe7\xbb\xb0\r\n"
    "11010519491231002X,\xd5\xc5\xc8\xfd,limb,2,1,1949-12-31,\xc2\xde\xba\xfe\xc7\xf8,"
    "\xb6\xab\xc3\xc5\xbd\xd6\xb5\xc0,\"\xba\xfe\xb1\xb4\xc9\xe7\xc7\xf8,\r\n\xb6\xab\xc7\xf8\","
    "dibao,\r\n";

static void test_lists(void)
{
    static const struct {
        const char *in;
        encoding_kind enc;
        const import_columns *cols;
        const char *want; /* "!refusal" or the rows, fields in the columns' order */
    } rows[] = {
        {gbk_persons, ENCODING_GB18030, &import_person_columns,
         "2:11010519491231002X|张三|limb|2|1|1949-12-31|罗湖区|东门街道|湖贝社区,\r\n东区|dibao|;"},
        {gbk_persons, ENCODING_AUTO, &import_person_columns,
         "!line 1: byte 0xC9 is not UTF-8; if the file was saved as GBK"},
        {gbk_persons, ENCODING_UTF8, &import_person_columns,
         "!line 1: byte 0xC9 is not UTF-8 (declared --encoding utf-8)"},
        /* UTF-8 with BOM, a mixed header in another order, blank lines,
         * a bad row named by its line and the walk going on */
        {"\xEF\xBB\xBF"
         "grade,生效日期,national_id,变更类型,household\r\n"
         "\r\n"
         "2,2026-11-01,11010519491231002X,grade,\r\n"
         ",\"2026-11-01,11010519491231002X,death,\r\n"
         ",2026-11-21,\"11010519491231002X\",\"death\",\"\"\r\n",
         ENCODING_AUTO, &import_feed_columns,
         "3:11010519491231002X|grade|2026-11-01||2;"
         "4!field 2: unterminated quote, or text after its closing quote on line 5;"
         "5:11010519491231002X|death|2026-11-21||;"},
        /* a row of the wrong width keeps its order for the count check */
        {"national_id,change,effective_date,household,grade\na,b\n", ENCODING_AUTO,
         &import_feed_columns, "2:a|b;"},
        /* the header's own faults refuse the file */
        {"national_id,change,effective_date,household,phone\n", ENCODING_AUTO, &import_feed_columns,
         "!row 1: unknown column \"phone\" (column 5 of the header)"},
        {"\n\nnational_id,\"change\n", ENCODING_AUTO, &import_feed_columns,
         "!row 3: field 2: unterminated quote"},
        /* nothing at all: no rows, no refusal */
        {"", ENCODING_AUTO, &import_feed_columns, ""},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        size_t len = strlen(rows[i].in);
        char *buf = malloc(len + 1), err[512], out[1024] = "";
        memcpy(buf, rows[i].in, len);
        importfile fi;
        if (importfile_start(&fi, buf, len, rows[i].enc, rows[i].cols, err, sizeof(err)) < 0) {
            snprintf(out, sizeof(out), "!%s", err);
        } else {
            int n, row;
            while ((n = importfile_next(&fi, &row, err, sizeof(err))) != 0) {
                if (n < 0) {
                    put(out, sizeof(out), "%d!%s;", row, err);
                    continue;
                }
                put(out, sizeof(out), "%d:", row);
                for (int k = 0; k < n; k++)
                    put(out, sizeof(out), "%s%s", k ? "|" : "", fi.f[k]);
                put(out, sizeof(out), ";");
            }
        }
        importfile_close(&fi);
        CHECK(strncmp(out, rows[i].want, strlen(rows[i].want)) == 0 &&
                  (rows[i].want[0] == '!' || strlen(out) == strlen(rows[i].want)),
              "list row %zu: %s", i, out);
    }

    /* the GBK person row passes the row check; the wrapped cell is one
     * line */
    char *buf = malloc(sizeof(gbk_persons)), err[512];
    memcpy(buf, gbk_persons, sizeof(gbk_persons));
    importfile fi;
    int row, rc = importfile_start(&fi, buf, sizeof(gbk_persons) - 1, ENCODING_GB18030,
                                   &import_person_columns, err, sizeof(err));
    int n = rc == 0 ? importfile_next(&fi, &row, err, sizeof(err)) : -1;
    import_person p;
    CHECK(n == IMPORT_PERSON_COLS &&
              import_person_row(fi.f, n, rules_days(2026, 11, 23), &p, err, sizeof(err)) == 0,
          "GBK row: %s", err);
    CHECK(n > 0 && strcmp(p.name, "张三") == 0 && strcmp(p.village, "湖贝社区, 东区") == 0 &&
              strcmp(p.household, "dibao") == 0 && p.grade == 2,
          "GBK row: [%s] [%s]", n > 0 ? p.name : "", n > 0 ? p.village : "");
    importfile_close(&fi);
}

int main(void)
{
    test_records();
    test_tsv();
    test_encoding();
    test_header();
    test_lists();
    return CHECK_DONE();
}
