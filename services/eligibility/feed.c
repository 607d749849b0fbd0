/*
 * feed: onecard.eligibility.v1 into the registry. See feed.h.
 */
#include "feed.h"

#include "ages.h"
#include "applications.h"
#include "carryover.h"
#include "rules.h"

#include "common/redis.h"
#include "common/card.h"
#include "common/batch.h"
#include "common/event.h"
#include "common/log.h"
#include "common/metrics.h"

#include "eligibility.pb-c.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FEED_BATCH        500
#define FEED_CARRYOVER_MS 5000

/* The walk (wake, pump, retry, drain, offsets from PostgreSQL) is
 * libs/common/batch.c's, on the registry's own connections (bd); this
 * file decides each change and settles the persons. */
static struct {
    registry reg;
    deps bd; /* the registry's PostgreSQL and producer, as the batch consumer sees them */
    batch_consumer *bc;
    long applied, skipped, dead;
    /* onecard_eligibility_feed_events_total{result}, _persons_changed_total */
    metric *m_recorded, *m_skipped, *m_dead, *m_persons;
} f;

#define FEED_AGENCIES_MAX 16

/* Feed freshness: the newest occurred_at of a committed event, per source
 * agency, as onecard_eligibility_feed_last_event_timestamp_seconds{agency}
 * (a series from the agency's first event on). */
static void feed_fresh(const char *const *agency, const int64_t *at_ms, int n)
{
    for (int i = 0; i < n; i++) {
        char a[64], labels[96];
        metrics_label_value(a, sizeof(a), agency[i]);
        snprintf(labels, sizeof(labels), "agency=\"%s\"", a);
        metric *m = metrics_gauge("onecard_eligibility_feed_last_event_timestamp_seconds",
                                  "When the newest event of the agency applied happened, Unix "
                                  "seconds.",
                                  labels);
        if (at_ms[i] / 1000 > metrics_value(m))
            metrics_set(m, at_ms[i] / 1000);
    }
}

bool feed_assigned(void)
{
    return f.bc && batch_assigned(f.bc);
}

const char *feed_attr(int change, int household, int grade, const char **value, char *buf,
                      size_t buflen)
{
    *value = NULL;
    switch (change) {
    case ONECARD__V1__ELIGIBILITY_CHANGE__HOUSEHOLD_STATUS:
        *value = household == ONECARD__V1__HOUSEHOLD_STATUS__HOUSEHOLD_DIBAO       ? "dibao"
                 : household == ONECARD__V1__HOUSEHOLD_STATUS__HOUSEHOLD_NEAR_POOR ? "near-poor"
                 : household == ONECARD__V1__HOUSEHOLD_STATUS__HOUSEHOLD_NONE      ? "none"
                                                                                   : NULL;
        return "household";
    case ONECARD__V1__ELIGIBILITY_CHANGE__DEATH:
        *value = "deceased";
        return "status";
    case ONECARD__V1__ELIGIBILITY_CHANGE__CERTIFICATE_REVOKED:
        *value = "revoked";
        return "status";
    case ONECARD__V1__ELIGIBILITY_CHANGE__MOVED_OUT:
        *value = "moved-out";
        return "status";
    case ONECARD__V1__ELIGIBILITY_CHANGE__CERTIFICATE_ISSUED:
        *value = "active";
        return "status";
    case ONECARD__V1__ELIGIBILITY_CHANGE__GRADE_CHANGE:
        if (grade >= 1 && grade <= 4) {
            snprintf(buf, buflen, "%d", grade);
            *value = buf;
        }
        return "grade";
    }
    return NULL;
}

/* Checks one event; fills the change row. Returns 0 or -1 with why. */
static int feed_check(const Onecard__V1__EligibilityChanged *e, const char **attr,
                      const char **value, char *buf, size_t buflen, char *why, size_t whylen)
{
    if (!card_person_id_valid(e->person_id)) {
        snprintf(why, whylen, "person_id is not a person id (64 hex)");
        return -1;
    }
    int32_t day;
    if (rules_date_parse(e->effective_date, &day, why, whylen) < 0)
        return -1;
    if (day > registry_today() + 366) {
        snprintf(why, whylen, "effective_date %s is more than a year ahead", e->effective_date);
        return -1;
    }
    if (e->source_agency[0] == '\0') {
        snprintf(why, whylen, "no source_agency");
        return -1;
    }
    *attr = feed_attr(e->change, e->household_status, e->grade, value, buf, buflen);
    if (*attr == NULL || *value == NULL) {
        snprintf(why, whylen, "change %d without a valid value", e->change);
        return -1;
    }
    return 0;
}

/* Inside the transaction: recomputes the persons' current values and lets
 * their cards follow (registry_settle). 0 / -1 (logged). */
static int feed_settle(pg_array *persons, PGresult **frozen)
{
    const char *q = pg_array_text(persons);
    if (q == NULL || (*frozen = registry_settle(&f.reg, q)) == NULL) {
        log_error("feed_apply_failed", "%s",
                  q ? "the persons' changes not applied" : "out of memory");
        return -1;
    }
    return 0;
}

/* After the commit: the cards that followed their persons into Redis at
 * once with their CardStatusChanged, the persons' entitlements
 * re-projected. Frees frozen. */
static void feed_effects(pg_array *persons, PGresult *frozen)
{
    char err[512];
    registry *r = &f.reg;
    (void)redis_sync_alive(r->rc); /* a connection Redis closed while idle: made again */
    if (registry_settled(r, frozen) < 0)
        log_error("feed_effects_failed", "card status not in Redis or not published "
                                         "(rebuild-directory repairs Redis)");
    /* entitlements follow the new attributes */
    if (persons->n > 0) {
        catalogue c;
        const char *q[] = {pg_array_text(persons)};
        PGresult *res = pg_query(r->pg,
                                 "SELECT c.card_no, " REGISTRY_PERSON_COLS " FROM "
                                 "elig_persons p JOIN elig_cards "
                                 "c USING (person_id) WHERE p.person_id = ANY($1::text[]) AND "
                                 "c.status IN ('active', 'frozen')",
                                 1, q, err, sizeof(err));
        if (res && registry_catalogue(r, registry_today(), &c) == 0) {
            for (int i = 0; i < PQntuples(res); i++) {
                rules_person rp = registry_person_row(res, i, 1);
                registry_project_entitlements(r, &c, PQgetvalue(res, i, 0), &rp, registry_today());
            }
            catalogue_free(&c);
            if (directory_sync(&r->dir, err, sizeof(err)) < 0)
                log_error("feed_redis_failed", "%s", err);
        }
        PQclear(res);
    }
}

/* The batch's hook: one transaction (changes, settled persons, offsets),
 * then the effects. 0 when committed, -1 with err to have it retried (a
 * retry inserts nothing twice: elig_person_changes is keyed by event). */
static int feed_apply(void *arg, kafka_record *recs, int n, bool retry, char *err, size_t errlen)
{
    (void)arg;
    (void)retry;
    registry *r = &f.reg;
    pg_array pid = {0}, attr = {0}, val = {0}, eff = {0}, eid = {0}, src = {0}, persons = {0};
    int rows = 0, nagency = 0;
    long dead = 0, skipped = 0;
    const char *agency[FEED_AGENCIES_MAX]; /* the batch's newest event per agency */
    int64_t agency_ms[FEED_AGENCIES_MAX];
    for (int i = 0; i < n; i++) {
        kafka_record *k = &recs[i];
        if (k->dead || k->type == NULL ||
            k->type->desc != &onecard__v1__eligibility_changed__descriptor) {
            dead++;
            continue;
        }
        const Onecard__V1__EligibilityChanged *e = (const void *)k->msg;
        const char *a, *v;
        char buf[8], why[200];
        if (feed_check(e, &a, &v, buf, sizeof(buf), why, sizeof(why)) < 0) {
            log_warn("feed_invalid", "event %s: %s", e->event_id, why);
            if (kafka_dead_letter(r->kp, k->raw, why, err, errlen) < 0)
                goto fail;
            dead++;
            continue;
        }
        pg_array_add(&pid, e->person_id);
        pg_array_add(&attr, a);
        pg_array_add(&val, v);
        pg_array_add(&eff, e->effective_date);
        pg_array_add(&eid, e->event_id);
        pg_array_add(&src, e->source_agency);
        rows++;
        int g = 0;
        while (g < nagency && strcmp(agency[g], e->source_agency) != 0)
            g++;
        if (g == nagency && nagency < FEED_AGENCIES_MAX) {
            agency[nagency] = e->source_agency;
            agency_ms[nagency++] = e->occurred_at_ms;
        } else if (g < nagency && e->occurred_at_ms > agency_ms[g]) {
            agency_ms[g] = e->occurred_at_ms;
        }
        /* a grade or category sent with a certificate */
        if (e->change == ONECARD__V1__ELIGIBILITY_CHANGE__CERTIFICATE_ISSUED && e->grade >= 1 &&
            e->grade <= 4) {
            snprintf(buf, sizeof(buf), "%d", e->grade);
            pg_array_add(&pid, e->person_id);
            pg_array_add(&attr, "grade");
            pg_array_add(&val, buf);
            pg_array_add(&eff, e->effective_date);
            pg_array_add(&eid, e->event_id);
            pg_array_add(&src, e->source_agency);
        }
    }
    if (registry_begin(r, "eligibility-feed") < 0) {
        snprintf(err, errlen, "postgresql: cannot begin the batch's transaction");
        goto fail;
    }
    PGresult *frozen = NULL;
    if (rows > 0) {
        const char *p[] = {pg_array_text(&pid), pg_array_text(&attr), pg_array_text(&val),
                           pg_array_text(&eff), pg_array_text(&eid),  pg_array_text(&src)};
        PGresult *res = pg_query(
            r->pg,
            "WITH x AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::date[], "
            "$5::text[], $6::text[]) x(pid, attr, val, eff, eid, src) WHERE EXISTS (SELECT 1 FROM "
            "elig_persons p WHERE p.person_id = x.pid)), i AS (INSERT INTO elig_person_changes "
            "(person_id, attr, value, effective_from, event_id, source) SELECT * FROM x ON "
            "CONFLICT DO NOTHING RETURNING person_id, event_id) SELECT d.person_id, (SELECT "
            "count(DISTINCT event_id) FROM i) FROM (SELECT DISTINCT person_id FROM i) d",
            6, p, err, errlen);
        if (res == NULL) {
            pg_rollback(r->pg);
            goto fail;
        }
        /* duplicates and events about persons not in the registry */
        skipped = rows - (PQntuples(res) > 0 ? atoi(PQgetvalue(res, 0, 1)) : 0);
        for (int i = 0; i < PQntuples(res); i++)
            pg_array_add(&persons, PQgetvalue(res, i, 0));
        PQclear(res);
        if (persons.n > 0 && feed_settle(&persons, &frozen) < 0) {
            snprintf(err, errlen, "the persons' changes could not be settled");
            pg_rollback(r->pg);
            goto fail;
        }
    }
    if (batch_offsets_store(f.bc, recs, n, err, errlen) < 0) {
        PQclear(frozen);
        pg_rollback(r->pg);
        goto fail;
    }
    if (registry_commit(r) < 0) {
        snprintf(err, errlen, "postgresql: the batch's commit failed");
        PQclear(frozen);
        goto fail;
    }
    f.applied += persons.n;
    f.skipped += skipped;
    f.dead += dead;
    metrics_add(f.m_recorded, rows - skipped > 0 ? rows - skipped : 0);
    metrics_add(f.m_skipped, skipped);
    metrics_add(f.m_dead, dead);
    metrics_add(f.m_persons, persons.n);
    feed_fresh(agency, agency_ms, nagency);
    feed_effects(&persons, frozen);
    pg_array_free(&pid), pg_array_free(&attr), pg_array_free(&val), pg_array_free(&eff);
    pg_array_free(&eid), pg_array_free(&src), pg_array_free(&persons);
    return 0;
fail:
    pg_array_free(&pid), pg_array_free(&attr), pg_array_free(&val), pg_array_free(&eff);
    pg_array_free(&eid), pg_array_free(&src), pg_array_free(&persons);
    return -1;
}

static int64_t feed_swept_ms;

/* Changes that were recorded before their effective date take effect when
 * the day comes: once a minute, the persons with a change effective today
 * (or yesterday, across midnight) recorded on an earlier day are settled
 * again, so a death reported in advance freezes the card on its day,
 * neither early nor late. */
static void feed_sweep(void)
{
    char err[512];
    registry *r = &f.reg;
    if (registry_begin(r, "eligibility-feed") < 0)
        return;
    /* today on the one calendar (ONECARD_TZ_OFFSET_MIN); recorded_at in
     * the same local time */
    char today[RULES_DATE_LEN], tz[16];
    rules_date_format(today, registry_today());
    snprintf(tz, sizeof(tz), "%d", (int)r->cfg->tz_offset_min);
    const char *p[] = {today, tz};
    PGresult *res = pg_query(r->pg,
                             "SELECT DISTINCT person_id FROM elig_person_changes WHERE "
                             "effective_from BETWEEN $1::date - 1 AND $1::date AND (recorded_at AT "
                             "TIME ZONE 'UTC' + make_interval(mins => $2::int))::date < "
                             "effective_from",
                             2, p, err, sizeof(err));
    if (res == NULL) {
        log_error("feed_sweep_failed", "%s", err);
        pg_rollback(r->pg);
        return;
    }
    pg_array persons = {0};
    for (int i = 0; i < PQntuples(res); i++)
        pg_array_add(&persons, PQgetvalue(res, i, 0));
    PQclear(res);
    PGresult *frozen = NULL;
    if (persons.n == 0 || feed_settle(&persons, &frozen) < 0) {
        pg_rollback(r->pg);
        pg_array_free(&persons);
        return;
    }
    if (registry_commit(r) == 0)
        feed_effects(&persons, frozen);
    else
        PQclear(frozen);
    pg_array_free(&persons);
}

static int64_t feed_carried_ms;

/* The batch consumer's tick (100 ms): the sweep and the carry-overs, only
 * while no batch waits to be retried. */
static void feed_tick(void *arg, bool idle)
{
    (void)arg;
    if (!idle)
        return;
    int64_t now = event_now_ms();
    if (now - feed_swept_ms >= 60000) {
        feed_swept_ms = now;
        if (pg_alive(f.reg.pg)) { /* reconnects after an outage */
            feed_sweep();
            char err[512];
            if (ages_catch_up(&f.reg, registry_today(), err, sizeof(err)) < 0)
                log_error("ages_sweep_failed", "%s", err);
        }
    }
    /* replaced cards whose carry-over a command could not send; a Redis
     * connection lost to a restart is made again here */
    if (now - feed_carried_ms >= FEED_CARRYOVER_MS) {
        feed_carried_ms = now;
        if (!redis_sync_alive(f.reg.rc))
            log_warn("feed_redis_failed", "reconnecting: %s", f.reg.rc->errstr);
        else if (pg_alive(f.reg.pg)) {
            (void)carryover_send_pending(&f.reg, NULL, true);
            /* the application events (and approved cards) an action
             * could not send after its commit */
            char why[512];
            registry_capture(why, sizeof(why));
            int sent = applications_outbox(&f.reg, NULL, false);
            registry_capture(NULL, 0);
            if (sent < 0)
                log_warn("applications_outbox_failed", "%s", why);
            else if (sent > 0)
                log_info("applications_outbox", "%d application event(s) sent late", sent);
        }
    }
}

int feed_setup(struct event_base *base, elig_config *cfg, const char *group, char *err,
               size_t errlen)
{
    if (registry_open(&f.reg, cfg, REG_REDIS | REG_KAFKA) < 0) {
        snprintf(err, errlen, "feed: cannot open its connections");
        return -1;
    }
    f.bd.pg = f.reg.pg;
    f.bd.producer = f.reg.kp;
    const char *help = "Eligibility changes read from onecard.eligibility.v1, by result "
                       "(recorded, skipped: a duplicate or an unknown person, dead_lettered).";
    f.m_recorded =
        metrics_counter("onecard_eligibility_feed_events_total", help, "result=\"recorded\"");
    f.m_skipped =
        metrics_counter("onecard_eligibility_feed_events_total", help, "result=\"skipped\"");
    f.m_dead =
        metrics_counter("onecard_eligibility_feed_events_total", help, "result=\"dead_lettered\"");
    f.m_persons = metrics_counter("onecard_eligibility_feed_persons_changed_total",
                                  "Persons whose attributes the feed changed.", NULL);
    const char *const topics[] = {TOPIC_ELIGIBILITY, NULL};
    /* a static member when an instance id is set (batch.c) */
    batch_config bcfg = {
        cfg->d.kafka_brokers, group, cfg->instance ? cfg->instance : "", topics, FEED_BATCH,
        "eligibility_feed",   NULL};
    batch_hooks hooks = {.apply = feed_apply, .tick = feed_tick};
    f.bc = batch_new(base, &f.bd, &bcfg, &hooks, NULL, err, errlen);
    return f.bc ? 0 : -1;
}

void feed_drain(void)
{
    if (f.bc)
        batch_drain(f.bc);
}

void feed_cleanup(void)
{
    batch_free(f.bc);
    registry_close(&f.reg);
    log_info("feed_stopped", "%ld persons changed, %ld events skipped, %ld dead-lettered",
             f.applied, f.skipped, f.dead);
    memset(&f, 0, sizeof(f));
}
