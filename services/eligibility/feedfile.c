/*
 * feedfile: `import-feed FILE.csv --source AGENCY --period YYYY-MM`, a
 * monthly list from civil affairs (or human resources) turned into
 * EligibilityChanged events on onecard.eligibility.v1, which the daemon's
 * feed applies. The file is walked by importfile.c (made UTF-8 or refused
 * as a whole, its header matched in English or Chinese) and its rows are
 * checked by import_feed_row; a bad row, or a row about a national id the
 * registry does not know, is reported as "row N: reason" and skipped, the
 * rest are published.
 *
 * Idempotent by (source, period, row): the event id is derived from them,
 * rows already published (elig_feed_rows) are skipped, and a row is
 * recorded only once the broker acknowledged its event. A run stopped
 * between the two publishes the same event id again, which the feed drops
 * as a duplicate.
 */
#include "feedfile.h"

#include "args.h"
#include "ident.h"
#include "import.h"
#include "importfile.h"

#include "common/cli.h"
#include "common/event.h"
#include "common/sign.h"

#include "eligibility.pb-c.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct feedfile_row {
    int row;
    char pid[IDENT_PERSON_LEN + 1], eid[EVENT_ID_LEN + 1], date[11], ref[96];
    import_feed f;
    bool acked;
    int64_t acked_at_ms; /* when the broker's acknowledgement arrived */
} feedfile_row;

static void feedfile_delivered(void *opaque, int err, const char *errstr, int32_t partition,
                               int64_t offset)
{
    feedfile_row *r = opaque;
    r->acked = err == 0;
    r->acked_at_ms = event_now_ms();
}

static int feedfile_run(registry *r, const char *path, encoding_kind enc, const char *source,
                        const char *period)
{
    int y, m;
    char err[512];
    if (rules_period_parse(period, &y, &m, err, sizeof(err)) < 0) {
        registry_fail("--period: %s", err);
        return 1;
    }
    size_t len;
    char *buf;
    if (importfile_read(path, &buf, &len, err, sizeof(err)) < 0) {
        int out_of_memory = errno == ENOMEM;
        registry_fail("%s", err);
        return out_of_memory ? CLI_DEPENDENCY : 1;
    }
    /* rows already published for (source, period) */
    const char *p[] = {source, period};
    PGresult *done = pg_query(r->pg,
                              "SELECT row_no FROM elig_feed_rows WHERE source = $1 AND period = "
                              "$2",
                              2, p, err, sizeof(err));
    if (done == NULL) {
        registry_fail("%s", err);
        free(buf);
        return CLI_DEPENDENCY;
    }
    int nrows_cap = 1024, nrows = 0, bad = 0, already = 0, row, n;
    feedfile_row *rows = calloc((size_t)nrows_cap, sizeof(*rows));
    int32_t today = registry_today();
    int rc = rows ? 0 : CLI_DEPENDENCY;
    if (rows == NULL)
        registry_fail("%s: out of memory", path);
    importfile fi;
    if (importfile_start(&fi, buf, len, enc, &import_feed_columns, err, sizeof(err)) < 0 &&
        rc == 0) {
        registry_fail("%s: %s", path, err);
        rc = 1;
    }
    while (rc == 0 && (n = importfile_next(&fi, &row, err, sizeof(err))) != 0) {
        bool seen = false;
        for (int i = 0; i < PQntuples(done) && !seen; i++)
            seen = atoi(PQgetvalue(done, i, 0)) == row;
        if (seen) {
            already++;
            continue;
        }
        if (nrows == nrows_cap) {
            feedfile_row *nr = realloc(rows, sizeof(*rows) * (size_t)(nrows_cap *= 2));
            if (nr == NULL) { /* never a silent stop: the run fails, nothing is sent */
                registry_fail("%s: out of memory at row %d", path, row);
                rc = CLI_DEPENDENCY;
                break;
            }
            rows = nr;
        }
        feedfile_row *fr = &rows[nrows];
        memset(fr, 0, sizeof(*fr));
        if (n < 0 || import_feed_row(fi.f, n, today, &fr->f, err, sizeof(err)) < 0) {
            fprintf(stderr, "%s: row %d: %s\n", path, row, err);
            bad++;
            continue;
        }
        fr->row = row;
        ident_person_id(fr->pid, r->cfg->id_salt, fr->f.national_id);
        snprintf(fr->date, sizeof(fr->date), "%s", fr->f.effective_date);
        snprintf(fr->ref, sizeof(fr->ref), "%.40s/%s/%d", source, period, row);
        char h[SIGN_HEX_LEN + 1];
        sign_sha256_hex(h, fr->ref, strlen(fr->ref));
        snprintf(fr->eid, sizeof(fr->eid), "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16,
                 h + 20);
        fr->f.national_id = NULL; /* points into the record; never kept */
        fr->f.effective_date = fr->date;
        nrows++;
    }
    PQclear(done);
    /* rows about persons the registry does not know */
    pg_array ids = {0};
    for (int i = 0; i < nrows; i++)
        pg_array_add(&ids, rows[i].pid);
    const char *q[] = {pg_array_text(&ids)};
    PGresult *known = rc == 0 && nrows > 0 && q[0]
                          ? pg_query(r->pg,
                                     "SELECT person_id FROM elig_persons WHERE person_id = "
                                     "ANY($1::text[])",
                                     1, q, err, sizeof(err))
                          : NULL;
    if (rc == 0 && nrows > 0 && known == NULL) {
        registry_fail("%s", err);
        rc = CLI_DEPENDENCY;
    }
    int sent = 0;
    for (int i = 0; rc == 0 && i < nrows; i++) {
        bool k = false;
        for (int j = 0; j < PQntuples(known) && !k; j++)
            k = strcmp(PQgetvalue(known, j, 0), rows[i].pid) == 0;
        if (!k) {
            fprintf(stderr, "%s: row %d: no registered person has this national id\n", path,
                    rows[i].row);
            bad++;
            continue;
        }
        Onecard__V1__EligibilityChanged e = ONECARD__V1__ELIGIBILITY_CHANGED__INIT;
        e.event_id = rows[i].eid;
        e.person_id = rows[i].pid;
        e.change = (Onecard__V1__EligibilityChange)rows[i].f.change_code;
        e.effective_date = rows[i].date;
        e.source_agency = (char *)source;
        e.household_status = (Onecard__V1__HouseholdStatus)rows[i].f.household_code;
        e.grade = rows[i].f.grade;
        e.source_ref = rows[i].ref;
        e.occurred_at_ms = event_now_ms();
        if (kafka_produce(r->kp, &e.base, NULL, rows[i].pid, strlen(rows[i].pid),
                          feedfile_delivered, &rows[i], err, sizeof(err)) < 0) {
            registry_fail("row %d: %s", rows[i].row, err);
            rc = CLI_DEPENDENCY;
        }
        sent++;
    }
    kafka_producer_flush(r->kp, 60000);
    pg_array acked = {0};
    int nacked = 0;
    int64_t last_ack = 0;
    for (int i = 0; i < nrows; i++)
        if (rows[i].acked) {
            if (rows[i].acked_at_ms > last_ack)
                last_ack = rows[i].acked_at_ms;
            char rn[16];
            snprintf(rn, sizeof(rn), "%d", rows[i].row);
            pg_array_add(&acked, rn);
            nacked++;
        }
    if (nacked > 0) {
        const char *a[] = {source, period, pg_array_text(&acked)};
        if (a[2] == NULL ||
            pg_exec(r->pg,
                    "INSERT INTO elig_feed_rows (source, period, row_no, event_id) SELECT $1, $2, "
                    "r, '' FROM unnest($3::int[]) r ON CONFLICT DO NOTHING",
                    3, a, err, sizeof(err)) < 0) {
            registry_fail("recording rows: %s", err);
            rc = CLI_DEPENDENCY;
        }
    }
    if (nacked < sent) {
        registry_fail("%d event(s) not acknowledged: run again to publish them", sent - nacked);
        rc = CLI_DEPENDENCY;
    }
    if (rc != CLI_DEPENDENCY)
        printf("import-feed %s (%s %s): %d rows published, %d already published, %d refused; "
               "last acknowledged at %lld ms\n",
               path, source, period, nacked, already, bad, (long long)last_ack);
    PQclear(known);
    pg_array_free(&ids);
    pg_array_free(&acked);
    free(rows);
    importfile_close(&fi);
    return rc ? rc : (bad ? 1 : 0);
}

int feedfile_command(registry *r, int argc, char **argv)
{
    int npos = args_check(argc, argv, "source,period,encoding");
    const char *source = args_opt(argc, argv, "source");
    const char *period = args_opt(argc, argv, "period");
    encoding_kind enc;
    return npos != 1 || args_need(source, "source") || args_need(period, "period") ||
                   args_encoding(args_opt(argc, argv, "encoding"), &enc)
               ? 1
               : feedfile_run(r, argv[0], enc, source, period);
}
