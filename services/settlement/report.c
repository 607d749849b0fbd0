/*
 * report: utilisation as JSON or CSV. See report.h.
 */
#include "report.h"

#include "catalogue.h"
#include "period.h"

#include "common/cli.h"
#include "common/pg.h"

#include <stdlib.h>
#include <string.h>

int64_t report_used_bp(int64_t credited_fen, int64_t spent_fen)
{
    if (credited_fen <= 0)
        return -1;
    /* __int128: spent * 10000 cannot overflow */
    __int128 bp = (__int128)spent_fen * 10000 / credited_fen;
    return (int64_t)bp;
}

static void report_json_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

/* CSV field: quoted when it holds a comma, a quote or a line break. */
static void report_csv_str(FILE *out, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            fputc('"', out);
        fputc(*p, out);
    }
    fputc('"', out);
}

int report_run(PGconn *pg, redisContext *rc, const char *period_text, const char *format, FILE *out)
{
    char err[512];
    period p;
    if (period_parse(period_text, &p, err, sizeof(err)) < 0) {
        fprintf(stderr, "settlement: report: %s\n", err);
        return CLI_USAGE;
    }
    if (p.grain != PERIOD_MONTH) {
        fprintf(stderr, "settlement: report: utilisation is monthly: give --period YYYY-MM\n");
        return CLI_USAGE;
    }
    bool json = format && strcmp(format, "json") == 0;
    if (!json && (format == NULL || strcmp(format, "csv") != 0)) {
        fprintf(stderr, "settlement: report: --format must be json or csv\n");
        return CLI_USAGE;
    }
    catalogue cat;
    if (catalogue_load(&cat, rc, err, sizeof(err)) < 0) {
        fprintf(stderr, "settlement: report: %s\n", err);
        return CLI_DEPENDENCY;
    }
    char text[PERIOD_LEN];
    period_format(&p, text);
    const char *params[] = {text};
    PGresult *r = pg_query(pg,
                           "SELECT item_code, wallet, fund_source, sum(credited_fen), "
                           "sum(spent_fen - reversed_fen), district FROM settlement_usage WHERE "
                           "month = $1 GROUP BY 1, 2, 3, 6 ORDER BY 1, 6, 3",
                           1, params, err, sizeof(err));
    if (r == NULL) {
        catalogue_free(&cat);
        fprintf(stderr, "settlement: report: %s\n", err);
        return CLI_DEPENDENCY;
    }
    if (json)
        fprintf(out, "{\"period\":\"%s\",\"rows\":[", text);
    else
        fprintf(out, "item_code,category,district,fund_source,credited_fen,spent_fen,"
                     "remaining_fen,used_bp\n");
    int64_t tc = 0, ts = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        const char *item = PQgetvalue(r, i, 0);
        const catalogue_item *ci = catalogue_find(&cat, item);
        const char *category = ci && ci->v.category[0] ? ci->v.category : PQgetvalue(r, i, 1);
        const char *fund = PQgetvalue(r, i, 2);
        const char *district = PQgetvalue(r, i, 5);
        int64_t credited = strtoll(PQgetvalue(r, i, 3), NULL, 10);
        int64_t spent = strtoll(PQgetvalue(r, i, 4), NULL, 10);
        int64_t bp = report_used_bp(credited, spent);
        tc += credited;
        ts += spent;
        if (json) {
            fprintf(out, "%s{\"item_code\":", i ? "," : "");
            report_json_str(out, item);
            fprintf(out, ",\"category\":");
            report_json_str(out, category);
            fprintf(out, ",\"district\":");
            report_json_str(out, district);
            fprintf(out, ",\"fund_source\":");
            report_json_str(out, fund);
            fprintf(out, ",\"credited_fen\":%lld,\"spent_fen\":%lld,\"remaining_fen\":%lld,",
                    (long long)credited, (long long)spent, (long long)(credited - spent));
            if (bp < 0)
                fprintf(out, "\"used_bp\":null}");
            else
                fprintf(out, "\"used_bp\":%lld}", (long long)bp);
        } else {
            report_csv_str(out, item);
            fputc(',', out);
            report_csv_str(out, category);
            fputc(',', out);
            report_csv_str(out, district);
            fputc(',', out);
            report_csv_str(out, fund);
            fprintf(out, ",%lld,%lld,%lld,", (long long)credited, (long long)spent,
                    (long long)(credited - spent));
            if (bp >= 0)
                fprintf(out, "%lld", (long long)bp);
            fputc('\n', out);
        }
    }
    int64_t tbp = report_used_bp(tc, ts);
    if (json) {
        fprintf(out,
                "],\"total\":{\"credited_fen\":%lld,\"spent_fen\":%lld,\"remaining_fen\":%lld,",
                (long long)tc, (long long)ts, (long long)(tc - ts));
        if (tbp < 0)
            fprintf(out, "\"used_bp\":null}}\n");
        else
            fprintf(out, "\"used_bp\":%lld}}\n", (long long)tbp);
    } else {
        fprintf(out, "TOTAL,,,,%lld,%lld,%lld,", (long long)tc, (long long)ts,
                (long long)(tc - ts));
        if (tbp >= 0)
            fprintf(out, "%lld", (long long)tbp);
        fputc('\n', out);
    }
    PQclear(r);
    catalogue_free(&cat);
    return 0;
}
