/*
 * gauges: see gauges.h.
 */
#include "gauges.h"

#include "common/log.h"
#include "common/metrics.h"
#include "common/pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GAUGES_EVERY_MS 10000

static const char *const gauges_grains[] = {"day", "month"};
static const char *const gauges_stages[] = {"statements", "reconciled", "mismatch", "published"};
#define GAUGES_NGRAINS 2
#define GAUGES_NSTAGES 4

static metric *gauges_m_closes[GAUGES_NGRAINS][GAUGES_NSTAGES];
static metric *gauges_m_last[GAUGES_NGRAINS];
static metric *gauges_m_newest[GAUGES_NGRAINS][GAUGES_NSTAGES];
static metric *gauges_m_holds, *gauges_m_diff, *gauges_m_hold_age;
static int64_t gauges_next_ms;

void gauges_setup(void)
{
    char l[96];
    for (int g = 0; g < GAUGES_NGRAINS; g++) {
        for (int s = 0; s < GAUGES_NSTAGES; s++) {
            snprintf(l, sizeof(l), "grain=\"%s\",stage=\"%s\"", gauges_grains[g], gauges_stages[s]);
            gauges_m_closes[g][s] = metrics_gauge(
                "onecard_settlement_closes",
                "Periods closed, by grain and the stage their close reached (mismatch: the "
                "reconciliation found a difference and the payout stopped).",
                l);
            gauges_m_newest[g][s] = metrics_gauge(
                "onecard_settlement_newest_close",
                "1 for the stage the newest close of the grain reached, 0 for the others "
                "(all 0: the grain was never closed).",
                l);
        }
        snprintf(l, sizeof(l), "grain=\"%s\"", gauges_grains[g]);
        gauges_m_last[g] = metrics_gauge("onecard_settlement_last_close_timestamp_seconds",
                                         "When the newest close of the grain ran, Unix seconds "
                                         "(0: never).",
                                         l);
    }
    gauges_m_holds = metrics_gauge("onecard_settlement_holds_open",
                                   "Anomaly holds on a provider's payout not released yet.", NULL);
    gauges_m_hold_age =
        metrics_gauge("onecard_settlement_holds_oldest_age_seconds",
                      "How long the oldest anomaly hold not released has waited (0: none).", NULL);
    gauges_m_diff = metrics_gauge("onecard_settlement_reconcile_difference_fen",
                                  "The newest close's reconciliation: the sum over providers of "
                                  "|statement + carried - ledger| in fen (0: it matched).",
                                  NULL);
}

static int gauges_index(const char *const *names, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

/* The stage of the newest close per grain. 0, or -1 (logged). */
static int gauges_newest(PGconn *pg)
{
    char err[512];
    PGresult *r = pg_query(pg,
                           "SELECT DISTINCT ON (grain) grain, stage FROM settlement_closes ORDER "
                           "BY grain, closed_at DESC",
                           0, NULL, err, sizeof(err));
    if (r == NULL) {
        log_warn("gauges_failed", "settlement_closes: %s", err);
        return -1;
    }
    int newest[GAUGES_NGRAINS] = {-1, -1};
    for (int i = 0; i < PQntuples(r); i++) {
        int g = gauges_index(gauges_grains, GAUGES_NGRAINS, PQgetvalue(r, i, 0));
        if (g >= 0)
            newest[g] = gauges_index(gauges_stages, GAUGES_NSTAGES, PQgetvalue(r, i, 1));
    }
    PQclear(r);
    for (int g = 0; g < GAUGES_NGRAINS; g++)
        for (int s = 0; s < GAUGES_NSTAGES; s++)
            metrics_set(gauges_m_newest[g][s], newest[g] == s);
    return 0;
}

/* Spending against the money given out, per fund and year, from the
 * utilisation table (settlement_usage, a few rows per month, item, wallet,
 * fund and district): credited (top-ups) and spent (swipes - reversals).
 * A fund's series is registered when first seen (metrics.h bounds it). */
static int gauges_usage(PGconn *pg)
{
    char err[512];
    PGresult *r = pg_query(pg,
                           "SELECT fund_source, left(month, 4), sum(credited_fen), "
                           "sum(spent_fen - reversed_fen) FROM settlement_usage GROUP BY 1, 2",
                           0, NULL, err, sizeof(err));
    if (r == NULL) {
        log_warn("gauges_failed", "settlement_usage: %s", err);
        return -1;
    }
    static const char help[] = "Money per fund and year, in fen: credited to cards (top-ups) "
                               "and spent (swipes less reversals), from settlement_usage.";
    for (int i = 0; i < PQntuples(r); i++) {
        char fund[96], year[16], l[192];
        metrics_label_value(fund, sizeof(fund), PQgetvalue(r, i, 0));
        metrics_label_value(year, sizeof(year), PQgetvalue(r, i, 1));
        snprintf(l, sizeof(l), "fund=\"%s\",year=\"%s\",state=\"credited\"", fund, year);
        metrics_set(metrics_gauge("onecard_settlement_fund_usage_fen", help, l),
                    strtoll(PQgetvalue(r, i, 2), NULL, 10));
        snprintf(l, sizeof(l), "fund=\"%s\",year=\"%s\",state=\"spent\"", fund, year);
        metrics_set(metrics_gauge("onecard_settlement_fund_usage_fen", help, l),
                    strtoll(PQgetvalue(r, i, 3), NULL, 10));
    }
    PQclear(r);
    return 0;
}

void gauges_refresh(PGconn *pg, int64_t now_ms)
{
    if (now_ms < gauges_next_ms || pg == NULL || !pg_alive(pg))
        return;
    gauges_next_ms = now_ms + GAUGES_EVERY_MS;
    char err[512];
    PGresult *r =
        pg_query(pg,
                 "SELECT grain, stage, count(*), extract(epoch FROM max(closed_at))::bigint "
                 "FROM settlement_closes GROUP BY grain, stage",
                 0, NULL, err, sizeof(err));
    if (r == NULL) {
        log_warn("gauges_failed", "settlement_closes: %s", err);
        return;
    }
    int64_t counts[GAUGES_NGRAINS][GAUGES_NSTAGES] = {{0}}, last[GAUGES_NGRAINS] = {0};
    for (int i = 0; i < PQntuples(r); i++) {
        int g = gauges_index(gauges_grains, GAUGES_NGRAINS, PQgetvalue(r, i, 0));
        int s = gauges_index(gauges_stages, GAUGES_NSTAGES, PQgetvalue(r, i, 1));
        if (g < 0 || s < 0)
            continue;
        counts[g][s] = strtoll(PQgetvalue(r, i, 2), NULL, 10);
        int64_t at = strtoll(PQgetvalue(r, i, 3), NULL, 10);
        if (at > last[g])
            last[g] = at;
    }
    PQclear(r);
    for (int g = 0; g < GAUGES_NGRAINS; g++) {
        for (int s = 0; s < GAUGES_NSTAGES; s++)
            metrics_set(gauges_m_closes[g][s], counts[g][s]);
        metrics_set(gauges_m_last[g], last[g]);
    }
    if (gauges_newest(pg) < 0 || gauges_usage(pg) < 0)
        return;
    r = pg_query(pg,
                 "SELECT (SELECT count(*) FROM settlement_holds WHERE released_at IS NULL), "
                 "(SELECT coalesce(sum(abs(statement_fen + carried_fen - ledger_fen)), 0) FROM "
                 "settlement_reconciliations WHERE period = (SELECT period FROM settlement_closes "
                 "ORDER BY closed_at DESC LIMIT 1)), (SELECT coalesce(extract(epoch FROM now() - "
                 "min(created_at))::bigint, 0) FROM settlement_holds WHERE released_at IS NULL)",
                 0, NULL, err, sizeof(err));
    if (r == NULL) {
        log_warn("gauges_failed", "settlement_holds: %s", err);
        return;
    }
    if (PQntuples(r) == 1) {
        metrics_set(gauges_m_holds, strtoll(PQgetvalue(r, 0, 0), NULL, 10));
        metrics_set(gauges_m_diff, strtoll(PQgetvalue(r, 0, 1), NULL, 10));
        metrics_set(gauges_m_hold_age, strtoll(PQgetvalue(r, 0, 2), NULL, 10));
    }
    PQclear(r);
}
