/*
 * persons: what a close owes persons, its reconciliation against the
 * ledger, and the person payout. See persons.h for the steps and why each
 * is safe to repeat.
 */
#include "persons.h"

#include "close.h"
#include "posting.h"
#include "store.h"

#include "common/card.h"
#include "common/pg.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int64_t persons_int(PGresult *r, int row, int col)
{
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* ----------------------------------------------------------- statements */

int persons_statements(PGconn *pg, const persons_period *pp, char *err, size_t errlen)
{
    const char *p[] = {pp->text, pp->grain};
    if (pg_exec(pg,
                "INSERT INTO settlement_person_payouts (period, person_id, payments, fen, "
                "adj_count, adj_fen, total_fen) SELECT $1, person_id, sum(payments), sum(fen), "
                "sum(adj_count), sum(adj_fen), sum(fen) + sum(adj_fen) FROM "
                "settlement_person_accum WHERE grain = $2 AND period = $1 GROUP BY person_id",
                2, p, err, errlen) < 0 ||
        pg_exec(pg,
                "INSERT INTO settlement_person_payout_lines (period, person_id, item_code, "
                "fund_source, payments, fen, adj_count, adj_fen) SELECT $1, person_id, item_code, "
                "fund_source, payments, fen, adj_count, adj_fen FROM settlement_person_accum "
                "WHERE grain = $2 AND period = $1",
                2, p, err, errlen) < 0)
        return -1;
    return 0;
}

/* ------------------------------------------------------------ reconcile */

int persons_reconcile(PGconn *pg, const persons_period *pp, char *err, size_t errlen)
{
    char s[24], e[24];
    snprintf(s, sizeof(s), "%lld", (long long)pp->start_ms);
    snprintf(e, sizeof(e), "%lld", (long long)pp->end_ms);
    const char *p[] = {pp->text, pp->grain, s, e};
    /* one statement: the comparison, recorded for every person, the rows
     * returned for the report */
    PGresult *r = pg_query(
        pg,
        "WITH st AS (SELECT person_id, payments, fen, adj_count, adj_fen FROM "
        "settlement_person_payouts WHERE period = $1), "
        "co AS (SELECT person_id, sum(count) AS n, sum(fen) AS fen FROM settlement_person_carried "
        "WHERE grain = $2 AND from_period = $1 GROUP BY 1), "
        "ci AS (SELECT person_id, sum(count) AS n, sum(fen) AS fen FROM settlement_person_carried "
        "WHERE grain = $2 AND to_period = $1 GROUP BY 1), "
        "lg AS (SELECT person_id, sum(payments) AS n, sum(fen) AS fen FROM "
        "ledger_v1_payee_totals($3::bigint, $4::bigint) GROUP BY 1), "
        "ids AS (SELECT person_id FROM st UNION SELECT person_id FROM co UNION SELECT person_id "
        "FROM ci UNION SELECT person_id FROM lg), "
        "r AS (SELECT ids.person_id, coalesce(st.payments, 0) AS sn, coalesce(st.fen, 0) AS sf, "
        "coalesce(co.n, 0) AS cn, coalesce(co.fen, 0) AS cf, coalesce(lg.n, 0) AS ln, "
        "coalesce(lg.fen, 0) AS lf, coalesce(st.adj_count, 0) AS an, coalesce(st.adj_fen, 0) AS "
        "af, coalesce(ci.n, 0) AS inn, coalesce(ci.fen, 0) AS inf FROM ids LEFT JOIN st USING "
        "(person_id) LEFT JOIN co USING (person_id) LEFT JOIN ci USING (person_id) LEFT JOIN lg "
        "USING (person_id)), "
        "rk AS (SELECT *, sn + cn = ln AND sf + cf = lf AND an = inn AND af = inf AS ok FROM r), "
        "ins AS (INSERT INTO settlement_person_reconciliations (period, person_id, payments, fen, "
        "carried_count, carried_fen, ledger_payments, ledger_fen, ok) SELECT $1, person_id, sn, "
        "sf, cn, cf, ln, lf, ok FROM rk ON CONFLICT (period, person_id) DO UPDATE SET payments = "
        "EXCLUDED.payments, fen = EXCLUDED.fen, carried_count = EXCLUDED.carried_count, "
        "carried_fen = EXCLUDED.carried_fen, ledger_payments = EXCLUDED.ledger_payments, "
        "ledger_fen = EXCLUDED.ledger_fen, ok = EXCLUDED.ok, checked_at = now()) "
        "SELECT person_id, sn, sf, cn, cf, ln, lf, an, af, inn, inf, ok FROM rk ORDER BY 1",
        4, p, err, errlen);
    if (r == NULL)
        return -1;
    int diffs = 0, n = PQntuples(r);
    int64_t t[6] = {0}; /* settled n, fen, carried n, fen, ledger n, fen */
    printf("reconcile %s: per person, payments (own) + carried out = the ledger's payee credits, "
           "count and fen; adjustments = carried in\n",
           pp->text);
    for (int i = 0; i < n; i++) {
        int64_t v[10];
        for (int k = 0; k < 10; k++)
            v[k] = persons_int(r, i, k + 1);
        for (int k = 0; k < 6; k++)
            t[k] += v[k];
        if (strcmp(PQgetvalue(r, i, 11), "t") == 0)
            continue;
        diffs++;
        printf("  DIFF %s payments %lld (%lld fen) + carried out %lld (%lld fen), ledger %lld "
               "(%lld fen), adjustments %lld (%lld fen) / carried in %lld (%lld fen)  <-- "
               "difference\n",
               PQgetvalue(r, i, 0), (long long)v[0], (long long)v[1], (long long)v[2],
               (long long)v[3], (long long)v[4], (long long)v[5], (long long)v[6], (long long)v[7],
               (long long)v[8], (long long)v[9]);
    }
    PQclear(r);
    printf("  %-4s %-24s payments %lld (%lld fen) + carried out %lld (%lld fen), ledger %lld "
           "(%lld fen), %d person(s), %d with a difference\n",
           diffs ? "DIFF" : "ok", "PERSONS", (long long)t[0], (long long)t[1], (long long)t[2],
           (long long)t[3], (long long)t[4], (long long)t[5], n, diffs);
    return diffs;
}

/* --------------------------------------------------------------- payout */

/* One new batch with the persons of the period with an account, not paid. */
static int persons_batch(PGconn *pg, const persons_period *pp, char *err, size_t errlen)
{
    const char *lock[] = {SETTLEMENT_LOCK_KEY};
    const char *p[] = {pp->text};
    if (pg_begin(pg, err, errlen) < 0)
        return -1;
    if (pg_exec(pg, "SELECT pg_advisory_xact_lock($1::bigint)", 1, lock, err, errlen) < 0)
        goto fail;
    PGresult *r = pg_query(
        pg,
        "WITH b AS (SELECT coalesce(max(seq), 0) + 1 AS seq FROM settlement_person_batches WHERE "
        "period = $1), pay AS (SELECT o.person_id, o.total_fen, a.bank_account FROM "
        "settlement_person_payouts o JOIN settlement_person_accounts a USING (person_id) WHERE "
        "o.period = $1 AND o.batch_id IS NULL), nb AS (INSERT INTO settlement_person_batches "
        "(batch_id, period, seq, lines, total_fen) SELECT 'PP-' || $1 || '-' || b.seq, $1, b.seq, "
        "count(*), sum(pay.total_fen) FROM b, pay GROUP BY b.seq HAVING count(*) > 0 RETURNING "
        "batch_id) UPDATE settlement_person_payouts o SET batch_id = nb.batch_id, bank_account = "
        "pay.bank_account FROM nb, pay WHERE o.period = $1 AND o.person_id = pay.person_id "
        "RETURNING nb.batch_id",
        1, p, err, errlen);
    if (r == NULL)
        goto fail;
    if (PQntuples(r) > 0)
        printf("close: person payout batch %s with %d person(s)\n", PQgetvalue(r, 0, 0),
               PQntuples(r));
    PQclear(r);
    if (pg_commit(pg, err, errlen) < 0)
        goto fail;
    return 0;
fail:
    pg_rollback(pg);
    return -1;
}

/* A file written whole or not at all: a temporary name, fsync, rename. */
typedef struct persons_file {
    FILE *f;
    char path[1024], tmp[1100];
} persons_file;

static int persons_file_open(persons_file *pf, const char *dir, const char *name,
                             const char *header, char *err, size_t errlen)
{
    snprintf(pf->path, sizeof(pf->path), "%s/%s", dir, name);
    snprintf(pf->tmp, sizeof(pf->tmp), "%s.tmp", pf->path);
    pf->f = fopen(pf->tmp, "w");
    if (pf->f == NULL) {
        snprintf(err, errlen, "cannot write %.400s: %s", pf->tmp, strerror(errno));
        return -1;
    }
    fprintf(pf->f, "%s\n", header);
    return 0;
}

/* Finishes the file when rc is 0 (else drops it); returns 0 or -1. */
static int persons_file_close(persons_file *pf, int rc, char *err, size_t errlen)
{
    if (rc == 0 && (fflush(pf->f) != 0 || fsync(fileno(pf->f)) != 0)) {
        snprintf(err, errlen, "cannot write %.400s: %s", pf->tmp, strerror(errno));
        rc = -1;
    }
    fclose(pf->f);
    pf->f = NULL;
    if (rc == 0 && rename(pf->tmp, pf->path) != 0) {
        snprintf(err, errlen, "cannot rename %.400s: %s", pf->tmp, strerror(errno));
        rc = -1;
    }
    if (rc < 0)
        unlink(pf->tmp);
    return rc;
}

/* A CSV field: quoted when it holds a separator or a quote. */
static void persons_csv(FILE *f, const char *s, bool last)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, f);
    } else {
        fputc('"', f);
        for (; *s; s++) {
            if (*s == '"')
                fputc('"', f);
            fputc(*s, f);
        }
        fputc('"', f);
    }
    fputc(last ? '\n' : ',', f);
}

/* Rows (batch_id, ..., batch lines, batch total) sorted by batch: one
 * file per batch, one line per row (the record name, the row's columns but
 * the batch's two figures, the period), then the control line, checked
 * against the batch's figures (lines_col when check_lines, total_col).
 * suffix: "" or "-items". */
static int persons_files(PGresult *r, const persons_period *pp, const char *out_dir,
                         const char *suffix, const char *header, const char *record, int amount_col,
                         int lines_col, int total_col, bool check_lines, char *err, size_t errlen)
{
    int n = PQntuples(r), cols = PQnfields(r) - 2; /* the last two: the batch's figures */
    for (int i = 0; i < n;) {
        const char *batch = PQgetvalue(r, i, 0);
        char name[256];
        snprintf(name, sizeof(name), "payout-%s%s.csv", batch, suffix);
        persons_file pf;
        if (persons_file_open(&pf, out_dir, name, header, err, errlen) < 0)
            return -1;
        int64_t sum = 0;
        int lines = 0, j = i, rc = 0;
        for (; j < n && strcmp(PQgetvalue(r, j, 0), batch) == 0; j++) {
            persons_csv(pf.f, record, false);
            for (int c = 0; c < cols; c++)
                persons_csv(pf.f, PQgetvalue(r, j, c), false);
            persons_csv(pf.f, pp->text, true);
            sum += persons_int(r, j, amount_col);
            lines++;
        }
        /* the control line: record, batch, blanks, lines, sum, period */
        fprintf(pf.f, "control,%s,", batch);
        for (int c = 2; c < cols - 1; c++)
            fputc(',', pf.f);
        fprintf(pf.f, "%d,%lld,%s\n", lines, (long long)sum, pp->text);
        if ((check_lines && lines != persons_int(r, i, lines_col)) ||
            sum != persons_int(r, i, total_col)) {
            snprintf(err, errlen, "batch %s%s: %d lines / %lld fen, the batch says %s / %s", batch,
                     suffix, lines, (long long)sum, PQgetvalue(r, i, lines_col),
                     PQgetvalue(r, i, total_col));
            rc = -1;
        }
        if (persons_file_close(&pf, rc, err, errlen) < 0)
            return -1;
        printf("close: person payout file %s (%d line(s), %lld fen)\n", pf.path, lines,
               (long long)sum);
        i = j;
    }
    return 0;
}

/* Every batch of the period, a file of persons and a file of their items. */
static int persons_write_batches(PGconn *pg, const persons_period *pp, const char *out_dir,
                                 char *err, size_t errlen)
{
    const char *p[] = {pp->text};
    PGresult *r = pg_query(pg,
                           "SELECT b.batch_id, o.person_id, o.bank_account, o.payments + "
                           "o.adj_count, o.total_fen, b.lines, b.total_fen FROM "
                           "settlement_person_batches b JOIN settlement_person_payouts o ON "
                           "o.batch_id = b.batch_id WHERE b.period = $1 ORDER BY b.seq, "
                           "o.person_id",
                           1, p, err, errlen);
    if (r == NULL)
        return -1;
    int rc = persons_files(r, pp, out_dir, "",
                           "record,batch_id,person_id,bank_account,payments,amount_fen,period",
                           "payout", 4, 5, 6, true, err, errlen);
    PQclear(r);
    if (rc < 0)
        return -1;
    r = pg_query(pg,
                 "SELECT b.batch_id, l.person_id, l.item_code, l.fund_source, l.payments + "
                 "l.adj_count, l.fen + l.adj_fen, b.lines, b.total_fen FROM "
                 "settlement_person_batches b JOIN settlement_person_payouts o ON o.batch_id = "
                 "b.batch_id JOIN settlement_person_payout_lines l ON l.period = o.period AND "
                 "l.person_id = o.person_id WHERE b.period = $1 ORDER BY b.seq, l.person_id, "
                 "l.item_code, l.fund_source",
                 1, p, err, errlen);
    if (r == NULL)
        return -1;
    rc = persons_files(r, pp, out_dir, "-items",
                       "record,batch_id,person_id,item_code,fund_source,payments,amount_fen,period",
                       "item", 5, 6, 7, false, err, errlen);
    PQclear(r);
    return rc;
}

/* The persons of the period still unpaid: printed, and the file
 * unpaid-persons-<period>.csv (rewritten: it lists who is unpaid now). */
static int persons_unpaid(PGconn *pg, const persons_period *pp, const char *out_dir, char *err,
                          size_t errlen)
{
    const char *p[] = {pp->text};
    PGresult *r = pg_query(pg,
                           "SELECT person_id, payments + adj_count, total_fen FROM "
                           "settlement_person_payouts WHERE period = $1 AND batch_id IS NULL "
                           "ORDER BY person_id",
                           1, p, err, errlen);
    if (r == NULL)
        return -1;
    char name[256];
    snprintf(name, sizeof(name), "unpaid-persons-%s.csv", pp->text);
    persons_file pf;
    if (persons_file_open(&pf, out_dir, name, "record,person_id,payments,amount_fen,period", err,
                          errlen) < 0) {
        PQclear(r);
        return -1;
    }
    int n = PQntuples(r);
    int64_t sum = 0;
    for (int i = 0; i < n; i++) {
        fprintf(pf.f, "unpaid,%s,%s,%s,%s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
                PQgetvalue(r, i, 2), pp->text);
        printf("close: UNPAID %s %s fen in %s payment(s): no account on file (person-account "
               "PERSON ACCOUNT, then close --period %s again)\n",
               PQgetvalue(r, i, 0), PQgetvalue(r, i, 2), PQgetvalue(r, i, 1), pp->text);
        sum += persons_int(r, i, 2);
    }
    fprintf(pf.f, "control,,%d,%lld,%s\n", n, (long long)sum, pp->text);
    PQclear(r);
    if (persons_file_close(&pf, 0, err, errlen) < 0)
        return -1;
    printf("close: unpaid persons file %s (%d person(s), %lld fen)\n", pf.path, n, (long long)sum);
    return 0;
}

/* paid + unpaid = the period's person payouts, and the batches say so. */
static int persons_totals(PGconn *pg, const persons_period *pp, char *err, size_t errlen)
{
    const char *p[] = {pp->text};
    PGresult *r = pg_query(
        pg,
        "SELECT count(*) FILTER (WHERE batch_id IS NOT NULL), coalesce(sum(total_fen) FILTER "
        "(WHERE batch_id IS NOT NULL), 0), count(*) FILTER (WHERE batch_id IS NULL), "
        "coalesce(sum(total_fen) FILTER (WHERE batch_id IS NULL), 0), count(*), "
        "coalesce(sum(total_fen), 0), (SELECT coalesce(sum(lines), 0) FROM "
        "settlement_person_batches WHERE period = $1), (SELECT coalesce(sum(total_fen), 0) FROM "
        "settlement_person_batches WHERE period = $1) FROM settlement_person_payouts WHERE "
        "period = $1",
        1, p, err, errlen);
    if (r == NULL)
        return -1;
    printf("close: persons: %s paid %s fen (batches say %s person(s) %s fen) + %s unpaid %s fen "
           "= %s person(s) %s fen\n",
           PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 6), PQgetvalue(r, 0, 7),
           PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 3), PQgetvalue(r, 0, 4), PQgetvalue(r, 0, 5));
    int rc = 0;
    if (persons_int(r, 0, 0) != persons_int(r, 0, 6) ||
        persons_int(r, 0, 1) != persons_int(r, 0, 7) ||
        persons_int(r, 0, 1) + persons_int(r, 0, 3) != persons_int(r, 0, 5)) {
        snprintf(err, errlen, "the person payout batches of %s do not add up to what they pay",
                 pp->text);
        rc = -1;
    }
    PQclear(r);
    return rc;
}

int persons_payout(PGconn *pg, const persons_period *pp, const char *out_dir, char *err,
                   size_t errlen)
{
    if (persons_batch(pg, pp, err, errlen) < 0 ||
        persons_write_batches(pg, pp, out_dir, err, errlen) < 0 ||
        persons_unpaid(pg, pp, out_dir, err, errlen) < 0 || persons_totals(pg, pp, err, errlen) < 0)
        return -1;
    return 0;
}

/* ------------------------------------------------------- person-account */

int persons_account_args_ok(const char *person, const char *account, char *err, size_t errlen)
{
    if (!card_person_id_valid(person)) {
        snprintf(err, errlen, "person id \"%.70s\" is not a person id (64 lowercase hex digits)",
                 person ? person : "");
        return -1;
    }
    return close_bank_account_ok(account, err, errlen);
}

int persons_set_account(PGconn *pg, const char *person, const char *account, char *err,
                        size_t errlen)
{
    const char *p[] = {person, account};
    PGresult *r = pg_query(
        pg,
        "WITH s AS (INSERT INTO settlement_person_accounts (person_id, bank_account) VALUES ($1, "
        "$2) ON CONFLICT (person_id) DO UPDATE SET bank_account = EXCLUDED.bank_account, "
        "updated_at = now()) SELECT o.period, o.total_fen FROM settlement_person_payouts o JOIN "
        "settlement_closes c USING (period) WHERE o.person_id = $1 AND o.batch_id IS NULL AND "
        "c.grain = 'month' ORDER BY 1",
        2, p, err, errlen);
    if (r == NULL)
        return -1;
    printf("person-account: %s set\n", person);
    for (int i = 0; i < PQntuples(r); i++)
        printf("person-account: %s is owed %s fen of %s, unpaid: run close --period %s again to "
               "pay it\n",
               person, PQgetvalue(r, i, 1), PQgetvalue(r, i, 0), PQgetvalue(r, i, 0));
    PQclear(r);
    return 0;
}
