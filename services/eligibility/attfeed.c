/*
 * attfeed: attendance by swipe, and the daily check. See attfeed.h.
 */
#include "attfeed.h"

#include "attendance.h"
#include "catload.h"

#include "common/batch.h"
#include "common/calendar.h"
#include "common/event.h"
#include "common/log.h"
#include "common/metrics.h"

#include "swipe.pb-c.h"

#include <stdio.h>
#include <string.h>

#define ATTFEED_BATCH 2000

static struct {
    registry reg;
    deps bd; /* the registry's PostgreSQL and producer, as the batch consumer sees them */
    batch_consumer *bc;
    char group[160], instance[160];
    int32_t checked_day;   /* the last day the daily check ran */
    int32_t catalogue_day; /* the last day the catalogue in force was projected */
    int64_t effects_ms;    /* when the effects left undone were last looked at */
    metric *m_swipes;      /* onecard_eligibility_attendance_swipes_total */
    metric *m_paused;      /* onecard_eligibility_attendance_paused_total */
} a;

static int attfeed_apply(void *arg, kafka_record *recs, int n, bool retry, char *err, size_t errlen)
{
    (void)arg;
    (void)retry; /* the attendance is an upsert of the latest day: applying it twice is once */
    registry *r = &a.reg;
    pg_array pid = {0}, item = {0}, day = {0};
    int rc = -1;
    long resumed = 0;
    for (int i = 0; i < n; i++) {
        kafka_record *k = &recs[i];
        if (k->dead || k->type == NULL ||
            k->type->desc != &onecard__v1__swipe_authorized__descriptor)
            continue; /* reversals, and what the ledger dead-letters */
        const Onecard__V1__SwipeAuthorized *s = (const void *)k->msg;
        if (s->person_id == NULL || s->person_id[0] == '\0' || s->item_code == NULL)
            continue;
        calendar_date c = calendar_of_ms(s->occurred_at_ms, (int)r->cfg->tz_offset_min);
        char d[16];
        snprintf(d, sizeof(d), "%04d-%02d-%02d", c.year % 10000, c.month % 100, c.day % 100);
        pg_array_add(&pid, s->person_id);
        pg_array_add(&item, s->item_code);
        pg_array_add(&day, d);
    }
    if (registry_begin_err(r, "attendance-swipes", err, errlen) < 0)
        goto out;
    if (attendance_record(r, &pid, &item, &day, "swipe", &resumed, err, errlen) < 0 ||
        batch_offsets_store(a.bc, recs, n, err, errlen) < 0) {
        pg_rollback(r->pg);
        goto out;
    }
    if (registry_commit(r) < 0) {
        snprintf(err, errlen, "postgresql: the batch's commit failed");
        goto out;
    }
    metrics_add(a.m_swipes, pid.n);
    rc = 0;
    if (resumed > 0)
        (void)attendance_effects(r);
out:
    pg_array_free(&pid), pg_array_free(&item), pg_array_free(&day);
    return rc;
}

static void attfeed_tick(void *arg, bool idle)
{
    (void)arg;
    if (!idle)
        return;
    int64_t now = event_now_ms();
    if (now - a.effects_ms < 60000)
        return;
    a.effects_ms = now;
    registry *r = &a.reg;
    if (!pg_alive(r->pg))
        return;
    if (r->rc->err && redisReconnect(r->rc) != REDIS_OK) {
        log_warn("attendance_redis_failed", "reconnecting: %s", r->rc->errstr);
        return;
    }
    int32_t today = registry_today();
    if (a.catalogue_day != today) {
        /* a catalogue version loaded ahead of its date takes over on it */
        int changed = 0;
        if (catload_project_today(r, &changed) == 0) {
            a.catalogue_day = today;
            if (changed > 0)
                log_info("catalogue_in_force", "the version in force today projected: %d rows",
                         changed);
        } else {
            log_error("catalogue_in_force_failed", "tried again in a minute");
        }
    }
    int hour = calendar_hour_of_ms(now, (int)r->cfg->tz_offset_min);
    if (r->cfg->attendance_check_hour >= 0 && hour == r->cfg->attendance_check_hour &&
        a.checked_day != today) {
        int entitled, paused;
        if (attendance_check(r, today, NULL, "attendance-check", &entitled, &paused) == 0) {
            a.checked_day = today;
            metrics_add(a.m_paused, paused);
            log_info("attendance_checked", "%d entitled to a checked item, %d newly paused",
                     entitled, paused);
        } else {
            log_error("attendance_check_failed", "tried again in a minute");
        }
        return;
    }
    (void)attendance_effects(r);
}

int attfeed_setup(struct event_base *base, elig_config *cfg, char *err, size_t errlen)
{
    if (registry_open(&a.reg, cfg, REG_REDIS | REG_KAFKA) < 0) {
        snprintf(err, errlen, "attendance: cannot open its connections");
        return -1;
    }
    a.bd.pg = a.reg.pg;
    a.bd.producer = a.reg.kp;
    snprintf(a.group, sizeof(a.group), "%s-attendance", cfg->group);
    if (cfg->instance && cfg->instance[0])
        snprintf(a.instance, sizeof(a.instance), "%s-attendance", cfg->instance);
    a.m_swipes = metrics_counter("onecard_eligibility_attendance_swipes_total",
                                 "Approved swipes of items checked for attendance (在训) read "
                                 "from onecard.swipes.v1.",
                                 NULL);
    a.m_paused =
        metrics_counter("onecard_eligibility_attendance_paused_total",
                        "Training items paused by the daemon's daily attendance check.", NULL);
    const char *const topics[] = {TOPIC_SWIPES, NULL};
    batch_config bcfg = {cfg->d.kafka_brokers,     a.group, a.instance, topics, ATTFEED_BATCH,
                         "eligibility_attendance", NULL};
    batch_hooks hooks = {.apply = attfeed_apply, .tick = attfeed_tick};
    a.bc = batch_new(base, &a.bd, &bcfg, &hooks, NULL, err, errlen);
    return a.bc ? 0 : -1;
}

void attfeed_drain(void)
{
    if (a.bc)
        batch_drain(a.bc);
}

void attfeed_cleanup(void)
{
    batch_free(a.bc);
    registry_close(&a.reg);
    memset(&a, 0, sizeof(a));
}
