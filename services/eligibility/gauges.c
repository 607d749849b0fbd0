/*
 * gauges: see gauges.h. Two queries a refresh: open applications by state
 * and the day their stage began (overdue is decided here with the same
 * review_deadline the sweep and the queue use), and the other counts.
 */
#include "gauges.h"

#include "review.h"

#include "common/log.h"
#include "common/metrics.h"
#include "common/pg.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const gauges_states[] = {"submitted", "village-reviewed", "town-reviewed",
                                            "approved",  "rejected",         "returned"};
#define GAUGES_NSTATES 6
static const char *const gauges_levels[] = {"village", "town", "district"};
#define GAUGES_NLEVELS 3

static struct {
    registry reg;
    bool open;
    struct event *ev;
    metric *m_state[GAUGES_NSTATES], *m_overdue[GAUGES_NLEVELS], *m_paused, *m_reports;
} g;

static int gauges_index(const char *const *names, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

int gauges_refresh(registry *r, char *err, size_t errlen)
{
    int days[3];
    if (review_workdays_parse(r->cfg->review_workdays, days, err, errlen) < 0)
        return -1;
    PGresult *res = pg_query(r->pg,
                             "SELECT state, stage_since::date - DATE '1970-01-01', count(*) FROM "
                             "elig_applications WHERE state IN ('submitted', 'village-reviewed', "
                             "'town-reviewed') GROUP BY 1, 2",
                             0, NULL, err, errlen);
    if (res == NULL)
        return -1;
    int64_t overdue[GAUGES_NLEVELS] = {0};
    int32_t today = registry_today();
    for (int i = 0; i < PQntuples(res); i++) {
        const char *level = review_level(PQgetvalue(res, i, 0));
        int l = level ? gauges_index(gauges_levels, GAUGES_NLEVELS, level) : -1;
        if (l < 0)
            continue;
        if (review_deadline((int32_t)strtol(PQgetvalue(res, i, 1), NULL, 10), days[l]) < today)
            overdue[l] += strtoll(PQgetvalue(res, i, 2), NULL, 10);
    }
    PQclear(res);
    res = pg_query(r->pg,
                   "SELECT 'state', state, count(*) FROM elig_applications GROUP BY 2 "
                   "UNION ALL SELECT 'paused', '', count(*) FROM elig_item_pauses WHERE "
                   "resumed_at IS NULL "
                   "UNION ALL SELECT 'reports', '', count(*) FROM elig_attendance_reports WHERE "
                   "recorded_at > now() - interval '24 hours'",
                   0, NULL, err, errlen);
    if (res == NULL)
        return -1;
    int64_t states[GAUGES_NSTATES] = {0}, paused = 0, reports = 0;
    for (int i = 0; i < PQntuples(res); i++) {
        const char *what = PQgetvalue(res, i, 0);
        int64_t n = strtoll(PQgetvalue(res, i, 2), NULL, 10);
        int s = gauges_index(gauges_states, GAUGES_NSTATES, PQgetvalue(res, i, 1));
        if (strcmp(what, "state") == 0 && s >= 0)
            states[s] = n;
        else if (strcmp(what, "paused") == 0)
            paused = n;
        else if (strcmp(what, "reports") == 0)
            reports = n;
    }
    PQclear(res);
    for (int s = 0; s < GAUGES_NSTATES; s++)
        metrics_set(g.m_state[s], states[s]);
    for (int l = 0; l < GAUGES_NLEVELS; l++)
        metrics_set(g.m_overdue[l], overdue[l]);
    metrics_set(g.m_paused, paused);
    metrics_set(g.m_reports, reports);
    return 0;
}

static void gauges_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    char err[512];
    if (!pg_alive(g.reg.pg))
        return; /* pg_alive has begun a reconnect; the next tick reads */
    if (gauges_refresh(&g.reg, err, sizeof(err)) < 0)
        log_warn("gauges_failed", "%s", err);
}

int gauges_setup(struct event_base *base, elig_config *cfg, char *err, size_t errlen)
{
    char l[64];
    for (int s = 0; s < GAUGES_NSTATES; s++) {
        snprintf(l, sizeof(l), "state=\"%s\"", gauges_states[s]);
        g.m_state[s] = metrics_gauge("onecard_eligibility_applications",
                                     "Applications by state (elig_applications).", l);
    }
    for (int v = 0; v < GAUGES_NLEVELS; v++) {
        snprintf(l, sizeof(l), "level=\"%s\"", gauges_levels[v]);
        g.m_overdue[v] = metrics_gauge("onecard_eligibility_applications_overdue",
                                       "Open applications past their stage's working days, by "
                                       "the level that must decide them.",
                                       l);
    }
    g.m_paused = metrics_gauge("onecard_eligibility_entitlements_paused",
                               "Items paused by the training attendance (在训) check and not "
                               "resumed.",
                               NULL);
    g.m_reports = metrics_gauge("onecard_eligibility_attendance_report_rows_24h",
                                "Rows of providers' attendance reports recorded in the last "
                                "24 hours.",
                                NULL);
    if (cfg->gauges_s <= 0)
        return 0;
    if (registry_open(&g.reg, cfg, 0) < 0) {
        snprintf(err, errlen, "gauges: cannot open a PostgreSQL connection");
        return -1;
    }
    g.open = true;
    g.ev = event_new(base, -1, EV_PERSIST, gauges_tick, NULL);
    struct timeval tv = {.tv_sec = (time_t)cfg->gauges_s};
    if (g.ev == NULL || event_add(g.ev, &tv) < 0) {
        snprintf(err, errlen, "gauges: the timer failed");
        return -1;
    }
    event_active(g.ev, EV_TIMEOUT, 0);
    return 0;
}

void gauges_cleanup(void)
{
    if (g.ev)
        event_free(g.ev);
    g.ev = NULL;
    if (g.open)
        registry_close(&g.reg);
    g.open = false;
}
