/*
 * funds: the close's checks per fund level. See funds.h.
 */
#include "funds.h"

#include "common/pg.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

static int64_t funds_int(PGresult *r, int row, int col)
{
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* 1. Each statement = the sum of its lines. */
static int funds_statements(PGconn *pg, const char *period, char *err, size_t errlen)
{
    const char *p[] = {period};
    PGresult *r = pg_query(
        pg,
        "SELECT s.statement_id, s.amount_fen, s.reversed_fen, s.adjustments_fen, "
        "coalesce(sum(l.amount_fen), 0), coalesce(sum(l.reversed_fen), 0), "
        "coalesce(sum(l.adj_fen), 0), count(DISTINCT l.fund_source) FROM settlement_statements s "
        "LEFT JOIN settlement_statement_lines l USING (statement_id) WHERE s.period = $1 GROUP "
        "BY 1, 2, 3, 4 ORDER BY 1",
        1, p, err, errlen);
    if (r == NULL)
        return -1;
    int diffs = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        bool ok = funds_int(r, i, 1) == funds_int(r, i, 4) &&
                  funds_int(r, i, 2) == funds_int(r, i, 5) &&
                  funds_int(r, i, 3) == funds_int(r, i, 6);
        if (!ok) {
            printf("  DIFF %-24s statement %lld / %lld / %lld fen, its lines by fund %lld / %lld "
                   "/ %lld  <-- difference\n",
                   PQgetvalue(r, i, 0), (long long)funds_int(r, i, 1),
                   (long long)funds_int(r, i, 2), (long long)funds_int(r, i, 3),
                   (long long)funds_int(r, i, 4), (long long)funds_int(r, i, 5),
                   (long long)funds_int(r, i, 6));
            diffs++;
        }
    }
    printf("  %-4s %-24s %d statement(s) = the sum of their lines per item and fund\n",
           diffs ? "DIFF" : "ok", "STATEMENT LINES", PQntuples(r));
    PQclear(r);
    return diffs;
}

/* 2. Per provider and fund: statement = recorded shares = ledger. */
static int funds_providers(PGconn *pg, const char *period, const char *grain, const char *s,
                           const char *e, char *err, size_t errlen)
{
    const char *p[] = {period, grain, s, e};
    PGresult *r = pg_query(
        pg,
        "WITH st AS (SELECT s.provider_id, l.fund_source AS fund, sum(l.amount_fen - "
        "l.reversed_fen) AS fen FROM settlement_statements s JOIN settlement_statement_lines l "
        "USING (statement_id) WHERE s.period = $1 GROUP BY 1, 2), "
        "co AS (SELECT DISTINCT provider_id FROM settlement_carried WHERE grain = $2 AND "
        "from_period = $1), "
        "sp AS (SELECT p.provider_id, coalesce(f.fund, p.fund_source) AS fund, sum(CASE p.kind "
        "WHEN 'swipe' THEN 1 ELSE -1 END * coalesce(f.amount_fen, p.amount_fen)) AS fen FROM "
        "settlement_postings p LEFT JOIN settlement_posting_funds f USING (event_id) WHERE "
        "p.kind IN ('swipe', 'reversal') AND p.occurred_at_ms >= "
        "$3::bigint AND p.occurred_at_ms < $4::bigint GROUP BY 1, 2), "
        "lg AS (SELECT * FROM ledger_v1_provider_fund_totals($3::bigint, $4::bigint)), "
        "k AS (SELECT provider_id, fund FROM st UNION SELECT provider_id, fund FROM sp UNION "
        "SELECT provider_id, fund FROM lg) "
        "SELECT k.provider_id, k.fund, coalesce(st.fen, 0), coalesce(sp.fen, 0), "
        "coalesce(lg.payable_fen, 0), co.provider_id IS NOT NULL FROM k LEFT JOIN st USING "
        "(provider_id, fund) LEFT JOIN sp USING (provider_id, fund) LEFT JOIN lg USING "
        "(provider_id, fund) LEFT JOIN co USING (provider_id) ORDER BY 1, 2",
        4, p, err, errlen);
    if (r == NULL)
        return -1;
    int diffs = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        int64_t st = funds_int(r, i, 2), sp = funds_int(r, i, 3), lg = funds_int(r, i, 4);
        bool carried = PQgetvalue(r, i, 5)[0] == 't';
        bool ok = sp == lg && (carried || st == lg);
        printf("  %-4s %-24s fund %-12s statement %lld, postings %lld, ledger payable %lld%s%s\n",
               ok ? "ok" : "DIFF", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), (long long)st,
               (long long)sp, (long long)lg,
               carried ? " (postings carried out: statement short)" : "",
               ok ? "" : "  <-- difference");
        diffs += !ok;
    }
    PQclear(r);
    return diffs;
}

/* 3. Funds in, per fund. */
static int funds_in(PGconn *pg, const char *s, const char *e, char *err, size_t errlen)
{
    const char *p[] = {s, e};
    PGresult *r = pg_query(
        pg,
        "WITH sp AS (SELECT coalesce(f.fund, p.fund_source) AS fund, sum(coalesce(f.amount_fen, "
        "p.amount_fen)) AS fen FROM settlement_postings p LEFT JOIN settlement_posting_funds f "
        "USING (event_id) WHERE p.kind = 'topup' AND "
        "p.occurred_at_ms >= $1::bigint AND p.occurred_at_ms < $2::bigint GROUP BY 1), "
        "lg AS (SELECT * FROM ledger_v1_topup_fund_totals($1::bigint, $2::bigint)) "
        "SELECT fund, coalesce(sp.fen, 0), coalesce(lg.fen, 0) FROM sp FULL JOIN lg USING (fund) "
        "ORDER BY 1",
        2, p, err, errlen);
    if (r == NULL)
        return -1;
    int diffs = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        int64_t sp = funds_int(r, i, 1), lg = funds_int(r, i, 2);
        bool ok = sp == lg;
        printf("  %-4s %-24s fund %-12s top-ups credited %lld, ledger %lld%s\n", ok ? "ok" : "DIFF",
               "FUNDS IN", PQgetvalue(r, i, 0), (long long)sp, (long long)lg,
               ok ? "" : "  <-- difference");
        diffs += !ok;
    }
    PQclear(r);
    return diffs;
}

int funds_reconcile(PGconn *pg, const char *period, const char *grain, int64_t start_ms,
                    int64_t end_ms, char *err, size_t errlen)
{
    char s[24], e[24];
    snprintf(s, sizeof(s), "%lld", (long long)start_ms);
    snprintf(e, sizeof(e), "%lld", (long long)end_ms);
    printf("reconcile %s per fund: statements = their lines; per provider and fund, statement = "
           "postings = ledger payable; top-ups per fund\n",
           period);
    int a = funds_statements(pg, period, err, errlen);
    if (a < 0)
        return -1;
    int b = funds_providers(pg, period, grain, s, e, err, errlen);
    if (b < 0)
        return -1;
    int c = funds_in(pg, s, e, err, errlen);
    if (c < 0)
        return -1;
    return a + b + c;
}
