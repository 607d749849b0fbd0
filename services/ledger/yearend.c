/*
 * yearend: the year-end report's tables and writers. See yearend.h.
 */
#include "yearend.h"

#include "common/jsonw.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define YR_TOTAL_LABEL "合计 Total"

void yr_table_init(yr_table *t, const char *name, const char *zh, const char *en, const char *note,
                   const yr_col *cols, int ncols)
{
    memset(t, 0, sizeof(*t));
    t->name = name;
    t->zh = zh;
    t->en = en;
    t->note = note;
    t->cols = cols;
    t->ncols = ncols;
}

void yr_table_free(yr_table *t)
{
    for (size_t i = 0; i < t->nrows * (size_t)t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    t->cells = NULL;
    t->nrows = t->cap = 0;
    t->has_total = false;
}

int yr_table_add(yr_table *t, const char *const *row)
{
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char **c = realloc(t->cells, cap * (size_t)t->ncols * sizeof(*c));
        if (c == NULL)
            return -1;
        t->cells = c;
        t->cap = cap;
    }
    char **dst = t->cells + t->nrows * (size_t)t->ncols;
    for (int k = 0; k < t->ncols; k++) {
        dst[k] = strdup(row[k] ? row[k] : "");
        if (dst[k] == NULL) {
            while (k-- > 0)
                free(dst[k]);
            return -1;
        }
    }
    t->nrows++;
    return 0;
}

const char *yr_cell(const yr_table *t, size_t row, int col)
{
    if (row >= t->nrows || col < 0 || col >= t->ncols)
        return "";
    return t->cells[row * (size_t)t->ncols + (size_t)col];
}

int yr_table_set(yr_table *t, size_t row, int col, const char *v)
{
    if (row >= t->nrows || col < 0 || col >= t->ncols)
        return -1;
    char *c = strdup(v ? v : "");
    if (c == NULL)
        return -1;
    free(t->cells[row * (size_t)t->ncols + (size_t)col]);
    t->cells[row * (size_t)t->ncols + (size_t)col] = c;
    return 0;
}

int yr_col_index(const yr_table *t, const char *key)
{
    for (int k = 0; k < t->ncols; k++)
        if (strcmp(t->cols[k].key, key) == 0)
            return k;
    return -1;
}

int64_t yr_table_sum(const yr_table *t, const char *key, const char *where_key,
                     const char *where_val)
{
    int c = yr_col_index(t, key);
    int w = where_key ? yr_col_index(t, where_key) : -1;
    if (c < 0 || (where_key && w < 0))
        return 0;
    size_t n = t->has_total ? t->nrows - 1 : t->nrows;
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        if (w < 0 || strcmp(yr_cell(t, i, w), where_val) == 0)
            sum += strtoll(yr_cell(t, i, c), NULL, 10);
    return sum;
}

int yr_table_total(yr_table *t)
{
    if (t->has_total)
        return 0;
    char num[32];
    const char **row = calloc((size_t)t->ncols, sizeof(*row));
    char *nums = calloc((size_t)t->ncols, 32);
    if (row == NULL || nums == NULL) {
        free(row);
        free(nums);
        return -1;
    }
    for (int k = 0; k < t->ncols; k++) {
        if (t->cols[k].type == YR_COUNT || t->cols[k].type == YR_FEN) {
            snprintf(num, sizeof(num), "%lld",
                     (long long)yr_table_sum(t, t->cols[k].key, NULL, NULL));
            memcpy(nums + 32 * k, num, sizeof(num));
            row[k] = nums + 32 * k;
        } else {
            row[k] = k == 0 ? YR_TOTAL_LABEL : "";
        }
    }
    int rc = yr_table_add(t, row);
    if (rc == 0)
        t->has_total = true;
    free(row);
    free(nums);
    return rc;
}

char *yr_fen_text(int64_t fen, char *out, size_t len)
{
    /* |INT64_MIN| does not fit: work on the unsigned magnitude */
    uint64_t m = fen < 0 ? (uint64_t)0 - (uint64_t)fen : (uint64_t)fen;
    char digits[32], grouped[48];
    snprintf(digits, sizeof(digits), "%llu", (unsigned long long)(m / 100));
    size_t nd = strlen(digits), at = 0;
    for (size_t i = 0; i < nd; i++) {
        if (i > 0 && (nd - i) % 3 == 0)
            grouped[at++] = ',';
        grouped[at++] = digits[i];
    }
    grouped[at] = '\0';
    snprintf(out, len, "%s%s.%02u", fen < 0 ? "-" : "", grouped, (unsigned)(m % 100));
    return out;
}

void yr_check_add(yr_report *r, bool ok, const char *what, const char *fmt, ...)
{
    if (!ok)
        r->differences++;
    if (r->nchecks == YR_CHECKS_MAX) {
        if (!ok) /* never lose a difference: the last line says so */
            r->checks[YR_CHECKS_MAX - 1].ok = false;
        return;
    }
    yr_check *c = &r->checks[r->nchecks++];
    c->ok = ok;
    snprintf(c->what, sizeof(c->what), "%s", what);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
    va_end(ap);
}

/* ----------------------------------------------------------------- buffer */

void yr_buf_free(yr_buf *b)
{
    free(b->s);
    memset(b, 0, sizeof(*b));
}

void yr_buf_add(yr_buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->s, cap);
        if (p == NULL) {
            b->failed = true;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void yr_buf_str(yr_buf *b, const char *s)
{
    yr_buf_add(b, s, strlen(s));
}

static void yr_buf_fmt(yr_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void yr_buf_fmt(yr_buf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n > 0)
        yr_buf_add(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

void yr_buf_csv_field(yr_buf *b, const char *s, bool text)
{
    bool formula = text && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' ||
                            s[0] == '\t' || s[0] == '\r');
    bool quote = formula || strpbrk(s, ",\"\r\n") != NULL;
    if (!quote) {
        yr_buf_str(b, s);
        return;
    }
    yr_buf_add(b, "\"", 1);
    if (formula)
        yr_buf_add(b, "'", 1);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            yr_buf_add(b, "\"\"", 2);
        else
            yr_buf_add(b, p, 1);
    }
    yr_buf_add(b, "\"", 1);
}

void yr_buf_html(yr_buf *b, const char *s)
{
    for (const char *p = s; *p; p++) {
        switch (*p) {
        case '&':
            yr_buf_str(b, "&amp;");
            break;
        case '<':
            yr_buf_str(b, "&lt;");
            break;
        case '>':
            yr_buf_str(b, "&gt;");
            break;
        case '"':
            yr_buf_str(b, "&quot;");
            break;
        case '\'':
            yr_buf_str(b, "&#39;");
            break;
        default:
            yr_buf_add(b, p, 1);
        }
    }
}

/* ---------------------------------------------------------------- writers */

void yr_write_csv(const yr_table *t, yr_buf *b)
{
    for (int k = 0; k < t->ncols; k++) {
        if (k)
            yr_buf_add(b, ",", 1);
        yr_buf_csv_field(b, t->cols[k].key, true);
    }
    yr_buf_add(b, "\r\n", 2);
    for (size_t i = 0; i < t->nrows; i++) {
        for (int k = 0; k < t->ncols; k++) {
            if (k)
                yr_buf_add(b, ",", 1);
            yr_buf_csv_field(b, yr_cell(t, i, k), t->cols[k].type == YR_TEXT);
        }
        yr_buf_add(b, "\r\n", 2);
    }
    if (b->s == NULL)
        yr_buf_add(b, "", 0);
}

void yr_write_checks_csv(const yr_report *r, yr_buf *b)
{
    yr_buf_str(b, "check,ok,detail\r\n");
    for (int i = 0; i < r->nchecks; i++) {
        yr_buf_csv_field(b, r->checks[i].what, true);
        yr_buf_str(b, r->checks[i].ok ? ",true," : ",false,");
        yr_buf_csv_field(b, r->checks[i].detail, true);
        yr_buf_add(b, "\r\n", 2);
    }
    yr_buf_fmt(b, "unjournaled,%s,", r->unjournaled == 0 ? "true" : "false");
    yr_buf_csv_field(b, r->unjournaled_detail, true);
    yr_buf_add(b, "\r\n", 2);
}

static const char *yr_status(const yr_report *r)
{
    return r->unjournaled != 0 ? "INCOMPLETE" : r->differences ? "DIFF" : "OK";
}

void yr_write_json(const yr_report *r, yr_buf *b)
{
    jsonw w;
    jsonw_init(&w);
    jsonw_obj(&w, NULL);
    jsonw_int(&w, "year", r->year);
    if (r->quarter)
        jsonw_int(&w, "quarter", r->quarter);
    else
        jsonw_null(&w, "quarter");
    jsonw_str(&w, "generated", r->generated);
    jsonw_str(&w, "status", yr_status(r));
    jsonw_int(&w, "unjournaled", r->unjournaled);
    jsonw_str(&w, "unjournaled_detail", r->unjournaled_detail);
    jsonw_obj(&w, "tables");
    for (int i = 0; i < r->ntables; i++) {
        const yr_table *t = r->tables[i];
        jsonw_arr(&w, t->name);
        for (size_t row = 0; row < t->nrows; row++) {
            jsonw_obj(&w, NULL);
            if (t->has_total)
                jsonw_bool(&w, "total", row + 1 == t->nrows);
            for (int k = 0; k < t->ncols; k++) {
                const char *v = yr_cell(t, row, k);
                if (t->cols[k].type == YR_TEXT || *v == '\0')
                    jsonw_str(&w, t->cols[k].key, v);
                else
                    jsonw_int(&w, t->cols[k].key, strtoll(v, NULL, 10));
            }
            jsonw_end(&w);
        }
        jsonw_end(&w);
    }
    jsonw_end(&w);
    jsonw_arr(&w, "reconciliation");
    for (int i = 0; i < r->nchecks; i++) {
        jsonw_obj(&w, NULL);
        jsonw_str(&w, "check", r->checks[i].what);
        jsonw_bool(&w, "ok", r->checks[i].ok);
        jsonw_str(&w, "detail", r->checks[i].detail);
        jsonw_end(&w);
    }
    jsonw_end(&w);
    jsonw_int(&w, "differences", r->differences);
    jsonw_end(&w);
    const char *s = jsonw_done(&w);
    if (s == NULL)
        b->failed = true;
    else {
        yr_buf_str(b, s);
        yr_buf_add(b, "\n", 1);
    }
    jsonw_free(&w);
}

static void yr_cell_display(const yr_table *t, size_t row, int k, char *out, size_t len)
{
    const char *v = yr_cell(t, row, k);
    if (t->cols[k].type == YR_FEN && *v)
        yr_fen_text(strtoll(v, NULL, 10), out, len);
    else
        snprintf(out, len, "%s", v);
}

static void yr_period_text(const yr_report *r, char *out, size_t len)
{
    if (r->quarter)
        snprintf(out, len, "%d年第%d季度 %d Q%d", r->year, r->quarter, r->year, r->quarter);
    else
        snprintf(out, len, "%d年度 year %d", r->year, r->year);
}

void yr_write_text(const yr_report *r, yr_buf *b)
{
    char period[96], cell[256];
    yr_period_text(r, period, sizeof(period));
    yr_buf_fmt(b, "年度资金与服务报告 Year-end fund and service report: %s (generated %s)\n",
               period, r->generated);
    for (int i = 0; i < r->ntables; i++) {
        const yr_table *t = r->tables[i];
        yr_buf_fmt(b, "\n== %s %s ==\n", t->zh, t->en);
        for (int k = 0; k < t->ncols; k++)
            yr_buf_fmt(b, "%s%s", k ? "\t" : "", t->cols[k].key);
        yr_buf_add(b, "\n", 1);
        for (size_t row = 0; row < t->nrows; row++) {
            for (int k = 0; k < t->ncols; k++) {
                yr_cell_display(t, row, k, cell, sizeof(cell));
                yr_buf_fmt(b, "%s%s", k ? "\t" : "", cell);
            }
            yr_buf_add(b, "\n", 1);
        }
    }
    yr_buf_str(b, "\n== 与总账核对 Reconciled to the ledger ==\n");
    for (int i = 0; i < r->nchecks; i++)
        yr_buf_fmt(b, "%-22s %-4s %s\n", r->checks[i].what, r->checks[i].ok ? "ok" : "DIFF",
                   r->checks[i].detail);
    yr_buf_fmt(b, "%-22s %-4s %s\n", "unjournaled", r->unjournaled ? "DIFF" : "ok",
               r->unjournaled_detail);
}

static const char yr_css[] =
    "body{font-family:\"Noto Sans CJK SC\",\"Source Han Sans SC\",\"Microsoft YaHei\","
    "sans-serif;font-size:10pt;margin:1.5em;color:#000}"
    "h1{font-size:15pt;margin:0 0 .3em}h2{font-size:12pt;margin:1.2em 0 .2em}"
    "p.note{margin:.1em 0 .4em;font-size:8.5pt;color:#333}"
    "table{border-collapse:collapse;width:100%;margin-bottom:.6em}"
    "th,td{border:1px solid #555;padding:2px 4px;vertical-align:top}"
    "th{background:#eee;font-weight:bold;text-align:center}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
    "tr.total td{font-weight:bold;border-top:2px solid #000}"
    "td.ok{color:#060;white-space:nowrap}td.diff{color:#b00;font-weight:bold;white-space:nowrap}"
    "th span{display:block;font-weight:normal;font-size:8pt}"
    ".status{font-size:12pt;font-weight:bold;padding:.3em;border:2px solid #000;"
    "display:inline-block}"
    "@page{size:A4 landscape;margin:12mm}"
    "@media print{body{margin:0}thead{display:table-header-group}"
    "tr,td,th{page-break-inside:avoid;break-inside:avoid}"
    "h2{page-break-after:avoid;break-after:avoid}"
    "th{-webkit-print-color-adjust:exact;print-color-adjust:exact}}";

void yr_write_html(const yr_report *r, yr_buf *b)
{
    char period[96], cell[256];
    yr_period_text(r, period, sizeof(period));
    yr_buf_str(b, "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
                  "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                  "style-src 'unsafe-inline'\"><title>");
    yr_buf_str(b, "年度资金与服务报告 Year-end report ");
    yr_buf_html(b, period);
    yr_buf_str(b, "</title><style>");
    yr_buf_str(b, yr_css);
    yr_buf_str(b, "</style></head><body>\n<h1>年度资金与服务报告 Year-end fund and service "
                  "report</h1>\n<p>");
    yr_buf_html(b, period);
    yr_buf_str(b, " · 生成时间 generated ");
    yr_buf_html(b, r->generated);
    yr_buf_str(b, "</p>\n<p class=\"status\">");
    if (r->unjournaled)
        yr_buf_str(b, "有事件尚未入账，报告不完整 Events not yet journaled: report incomplete");
    else if (r->differences)
        yr_buf_str(b, "与总账不符 Differs from the ledger");
    else
        yr_buf_str(b, "各表合计与总账一致（精确到分） Every total equals the ledger to the fen");
    yr_buf_str(b, "</p>\n");
    for (int i = 0; i < r->ntables; i++) {
        const yr_table *t = r->tables[i];
        yr_buf_str(b, "<h2>");
        yr_buf_html(b, t->zh);
        yr_buf_str(b, " ");
        yr_buf_html(b, t->en);
        yr_buf_str(b, "</h2>\n");
        if (t->note) {
            yr_buf_str(b, "<p class=\"note\">");
            yr_buf_html(b, t->note);
            yr_buf_str(b, "</p>\n");
        }
        yr_buf_str(b, "<table><thead><tr>");
        for (int k = 0; k < t->ncols; k++) {
            yr_buf_str(b, "<th>");
            yr_buf_html(b, t->cols[k].zh);
            yr_buf_str(b, "<span>");
            yr_buf_html(b, t->cols[k].en);
            yr_buf_str(b, t->cols[k].type == YR_FEN ? " (元 yuan)" : "");
            yr_buf_str(b, "</span></th>");
        }
        yr_buf_str(b, "</tr></thead><tbody>\n");
        for (size_t row = 0; row < t->nrows; row++) {
            yr_buf_str(b, t->has_total && row + 1 == t->nrows ? "<tr class=\"total\">" : "<tr>");
            for (int k = 0; k < t->ncols; k++) {
                yr_cell_display(t, row, k, cell, sizeof(cell));
                yr_buf_str(b, t->cols[k].type == YR_TEXT ? "<td>" : "<td class=\"n\">");
                yr_buf_html(b, cell);
                yr_buf_str(b, "</td>");
            }
            yr_buf_str(b, "</tr>\n");
        }
        yr_buf_str(b, "</tbody></table>\n");
    }
    yr_buf_str(b, "<h2>与总账核对 Reconciled to the ledger</h2>\n<p class=\"note\">");
    yr_buf_fmt(b, "onecard-ledger report --year %d%s", r->year, r->quarter ? " --quarter " : "");
    if (r->quarter)
        yr_buf_fmt(b, "%d", r->quarter);
    yr_buf_str(b, " 重新核对 re-checks these lines; onecard-ledger reconcile checks the whole "
                  "journal.</p>\n<table><thead><tr><th>核对项<span>check</span></th>"
                  "<th>结果<span>result</span></th><th>说明<span>detail</span></th></tr>"
                  "</thead><tbody>\n");
    for (int i = 0; i <= r->nchecks; i++) {
        bool last = i == r->nchecks;
        bool ok = last ? r->unjournaled == 0 : r->checks[i].ok;
        yr_buf_str(b, "<tr><td>");
        yr_buf_html(b, last ? "unjournaled" : r->checks[i].what);
        yr_buf_str(b, ok ? "</td><td class=\"ok\">一致 ok" : "</td><td class=\"diff\">不符 DIFF");
        yr_buf_str(b, "</td><td>");
        yr_buf_html(b, last ? r->unjournaled_detail : r->checks[i].detail);
        yr_buf_str(b, "</td></tr>\n");
    }
    yr_buf_str(b, "</tbody></table>\n</body></html>\n");
}
