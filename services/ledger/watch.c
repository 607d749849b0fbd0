/*
 * watch: see watch.h. One thread sleeps on a condition variable between
 * watches, so watch_stop wakes it at once; its PostgreSQL connection is
 * made on the first watch and made again after a failure.
 */
#include "watch.h"

#include "common/log.h"
#include "common/metrics.h"
#include "common/pg.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* the first watch looks at the newest WATCH_FIRST entries; a watch reads at
 * most WATCH_SPAN entries past the previous one (a backlog is caught up over
 * several watches) and checks at most WATCH_ACCOUNTS wallets */
#define WATCH_FIRST    2000
#define WATCH_SPAN     50000
#define WATCH_ACCOUNTS 5000

static struct {
    pthread_t thread;
    bool running;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop;
    char *dsn;
    int64_t interval_s;
    int64_t watermark; /* the newest entry id the previous watch covered, -1: none */
    metric *m_diff_cons, *m_diff_bal, *m_checked, *m_last, *m_failures, *m_seconds;
} w = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER, .watermark = -1};

/* One statement, one snapshot. Rows: ("conservation", "", "", sum of all
 * balances), ("balances", wallets checked, newest entry covered, sum of
 * |balance - lines|), then (kind, name, year, balance) per fund, budget,
 * obligation and appropriation account (year "" for an appropriation). */
static const char WATCH_SQL[] =
    "WITH hi AS (SELECT coalesce(max(entry_id), 0) AS hi FROM ledger_entries), "
    "lo AS (SELECT CASE WHEN $1::bigint < 0 THEN greatest(hi.hi - $2::bigint, 0) ELSE "
    "$1::bigint END AS lo, hi.hi FROM hi), "
    "up AS (SELECT lo.lo, least(lo.hi, lo.lo + $3::bigint) AS up FROM lo), "
    "t AS (SELECT DISTINCT l.account_id FROM ledger_lines l, up WHERE l.entry_id > up.lo "
    "AND l.entry_id <= up.up), "
    "w AS (SELECT a.account_id, a.balance_fen FROM ledger_accounts a JOIN t USING (account_id) "
    "WHERE a.kind = 'wallet' LIMIT $4::int), "
    "acc AS (SELECT kind, CASE WHEN kind IN ('fund', 'budget', 'obligated', 'appropriation') "
    "THEN split_part(name, ':', 2) END AS n, CASE WHEN kind IN ('fund', 'budget', 'obligated') "
    "THEN split_part(name, ':', 3) ELSE '' END AS y, sum(balance_fen) AS s FROM ledger_accounts "
    "GROUP BY 1, 2, 3) "
    "SELECT 'conservation', '', '', (SELECT coalesce(sum(s), 0) FROM acc)::text "
    "UNION ALL SELECT 'balances', (SELECT count(*) FROM w)::text, (SELECT up FROM up)::text, "
    "(SELECT coalesce(sum(abs(w.balance_fen - (SELECT coalesce(sum(l.amount_fen), 0) FROM "
    "ledger_lines l WHERE l.account_id = w.account_id))), 0) FROM w)::text "
    "UNION ALL SELECT kind, n, y, s::text FROM acc WHERE n IS NOT NULL";

static void watch_budget(const char *level, const char *name, const char *year, const char *state,
                         int64_t fen)
{
    char n[96], y[32], labels[256];
    metrics_label_value(n, sizeof(n), name);
    metrics_label_value(y, sizeof(y), year);
    snprintf(labels, sizeof(labels), "level=\"%s\",name=\"%s\",year=\"%s\",state=\"%s\"", level, n,
             y, state);
    metrics_set(metrics_gauge("onecard_ledger_budget_fen",
                              "Money of a fund (every year) or a programme's budget (per year), "
                              "in fen: allocated, granted (top-ups and payments to persons "
                              "issued against it) and "
                              "remaining; read by the ledger's watch.",
                              labels),
                fen);
}

/* Budgets: per fund, allocated (its appropriation) and remaining (its fund
 * accounts); per programme and year, remaining (budget) and granted
 * (obligated). Credit-normal accounts hold what is left as -balance. */
#define WATCH_MAX_NAMES 256
typedef struct watch_sum {
    char name[64], year[16];
    int64_t a, b; /* fund: appropriation, -fund; programme: -budget, -obligated */
} watch_sum;

static watch_sum *watch_find(watch_sum *s, int *n, const char *name, const char *year)
{
    for (int i = 0; i < *n; i++)
        if (strcmp(s[i].name, name) == 0 && strcmp(s[i].year, year) == 0)
            return &s[i];
    if (*n == WATCH_MAX_NAMES)
        return NULL;
    watch_sum *e = &s[(*n)++];
    memset(e, 0, sizeof(*e));
    snprintf(e->name, sizeof(e->name), "%s", name);
    snprintf(e->year, sizeof(e->year), "%s", year);
    return e;
}

int watch_once(PGconn *pg, char *err, size_t errlen)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char p1[24], p2[24], p3[24], p4[24];
    snprintf(p1, sizeof(p1), "%lld", (long long)w.watermark);
    snprintf(p2, sizeof(p2), "%d", WATCH_FIRST);
    snprintf(p3, sizeof(p3), "%d", WATCH_SPAN);
    snprintf(p4, sizeof(p4), "%d", WATCH_ACCOUNTS);
    const char *p[] = {p1, p2, p3, p4};
    PGresult *r = pg_query(pg, WATCH_SQL, 4, p, err, errlen);
    if (r == NULL)
        return -1;
    static watch_sum funds[WATCH_MAX_NAMES], progs[WATCH_MAX_NAMES];
    int nf = 0, np = 0;
    int64_t cons = 0, bal = 0, checked = 0, upto = w.watermark;
    for (int i = 0; i < PQntuples(r); i++) {
        const char *kind = PQgetvalue(r, i, 0), *name = PQgetvalue(r, i, 1);
        const char *year = PQgetvalue(r, i, 2);
        int64_t v = strtoll(PQgetvalue(r, i, 3), NULL, 10);
        watch_sum *e = NULL;
        if (strcmp(kind, "conservation") == 0) {
            cons = v < 0 ? -v : v;
        } else if (strcmp(kind, "balances") == 0) {
            checked = strtoll(name, NULL, 10);
            upto = strtoll(year, NULL, 10);
            bal = v;
        } else if (strcmp(kind, "appropriation") == 0) {
            if ((e = watch_find(funds, &nf, name, "all")) != NULL)
                e->a += v;
        } else if (strcmp(kind, "fund") == 0) {
            if ((e = watch_find(funds, &nf, name, "all")) != NULL)
                e->b -= v;
        } else if (strcmp(kind, "budget") == 0) {
            if ((e = watch_find(progs, &np, name, year)) != NULL)
                e->a -= v;
        } else if (strcmp(kind, "obligated") == 0) {
            if ((e = watch_find(progs, &np, name, year)) != NULL)
                e->b -= v;
        }
    }
    PQclear(r);
    w.watermark = upto;
    metrics_set(w.m_diff_cons, cons);
    metrics_set(w.m_diff_bal, bal);
    metrics_set(w.m_checked, checked);
    for (int i = 0; i < nf; i++) {
        watch_budget("fund", funds[i].name, "all", "allocated", funds[i].a);
        watch_budget("fund", funds[i].name, "all", "remaining", funds[i].b);
        watch_budget("fund", funds[i].name, "all", "granted", funds[i].a - funds[i].b);
    }
    for (int i = 0; i < np; i++) {
        watch_budget("programme", progs[i].name, progs[i].year, "allocated",
                     progs[i].a + progs[i].b);
        watch_budget("programme", progs[i].name, progs[i].year, "remaining", progs[i].a);
        watch_budget("programme", progs[i].name, progs[i].year, "granted", progs[i].b);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    metrics_observe(w.m_seconds,
                    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    metrics_set(w.m_last, (int64_t)time(NULL));
    if (cons != 0 || bal != 0)
        log_error("light_reconcile_difference",
                  "conservation %lld fen, balances %lld fen over %lld wallet(s): run "
                  "onecard-ledger reconcile",
                  (long long)cons, (long long)bal, (long long)checked);
    return 0;
}

static void *watch_main(void *arg)
{
    (void)arg;
    PGconn *pg = NULL;
    pthread_mutex_lock(&w.lock);
    while (!w.stop) {
        pthread_mutex_unlock(&w.lock);
        char err[512];
        if (pg == NULL)
            pg = pg_connect(w.dsn, 1, 0, NULL, err, sizeof(err));
        if (pg == NULL || watch_once(pg, err, sizeof(err)) < 0) {
            metrics_add(w.m_failures, 1);
            log_warn("light_reconcile_failed", "%s; again in %llds", err, (long long)w.interval_s);
            if (pg != NULL)
                PQfinish(pg);
            pg = NULL;
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += (time_t)w.interval_s;
        pthread_mutex_lock(&w.lock);
        while (!w.stop) {
            if (pthread_cond_timedwait(&w.wake, &w.lock, &until) == ETIMEDOUT)
                break;
        }
    }
    pthread_mutex_unlock(&w.lock);
    if (pg != NULL)
        PQfinish(pg);
    return NULL;
}

int watch_start(const char *pg_dsn, int64_t interval_s, char *err, size_t errlen)
{
    static const char diff_help[] =
        "The ledger's light reconcile, in fen (0: none): conservation, the sum of all "
        "balances; balances, sum of |balance - lines| over the wallets touched since the "
        "previous one.";
    w.m_diff_cons = metrics_gauge("onecard_ledger_light_reconcile_difference_fen", diff_help,
                                  "check=\"conservation\"");
    w.m_diff_bal = metrics_gauge("onecard_ledger_light_reconcile_difference_fen", diff_help,
                                 "check=\"balances\"");
    w.m_checked = metrics_gauge("onecard_ledger_light_reconcile_wallets_checked",
                                "Wallets whose balance the newest light reconcile compared "
                                "with their lines.",
                                NULL);
    w.m_last =
        metrics_gauge("onecard_ledger_light_reconcile_last_success_timestamp_seconds",
                      "When the newest light reconcile finished, Unix seconds (0: never).", NULL);
    w.m_failures = metrics_counter("onecard_ledger_light_reconcile_failures_total",
                                   "Light reconciles that could not run (PostgreSQL).", NULL);
    w.m_seconds = metrics_histogram("onecard_ledger_light_reconcile_duration_seconds",
                                    "Time one light reconcile took (its query).", NULL,
                                    metrics_latency_bounds, metrics_latency_nbounds);
    if (interval_s <= 0)
        return 0;
    w.dsn = strdup(pg_dsn);
    w.interval_s = interval_s;
    w.stop = false;
    if (w.dsn == NULL || pthread_create(&w.thread, NULL, watch_main, NULL) != 0) {
        snprintf(err, errlen, "light reconcile: cannot start its thread");
        free(w.dsn);
        w.dsn = NULL;
        return -1;
    }
    w.running = true;
    return 0;
}

void watch_stop(void)
{
    if (!w.running)
        return;
    pthread_mutex_lock(&w.lock);
    w.stop = true;
    pthread_cond_signal(&w.wake);
    pthread_mutex_unlock(&w.lock);
    pthread_join(w.thread, NULL);
    w.running = false;
    free(w.dsn);
    w.dsn = NULL;
}
