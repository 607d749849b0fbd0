/*
 * consumer: read postings, apply them in batches. See consumer.h.
 */
#include "consumer.h"

#include "gauges.h"
#include "store.h"

#include "common/batch.h"
#include "common/event.h"
#include "common/log.h"
#include "common/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The walk (wake, pump, retry, drain, offsets) is libs/common/batch.c's;
 * this file decides each posting and registry change (holders.h) and
 * accounts for the batch. */
static struct {
    deps *d;
    consumer_config cfg;
    batch_consumer *bc;
    store st;
    store_item *items;
} c;

static metric *m_applied[POSTING_KINDS], *m_rejected, *m_holders;

bool consumer_assigned(void)
{
    return batch_assigned(c.bc);
}

/* Turns the records in hand into items (again on every attempt: an attempt
 * that rolled back may have marked some as duplicates). */
static void consumer_items(const kafka_record *recs, int n)
{
    for (int i = 0; i < n; i++) {
        const kafka_record *rec = &recs[i];
        store_item *it = &c.items[i];
        memset(it, 0, sizeof(*it));
        it->topic = rec->topic;
        it->partition = rec->partition;
        it->offset = rec->offset;
        if (rec->dead) {
            snprintf(it->reason, sizeof(it->reason),
                     "undecodable or of an unknown type: dead-lettered");
            continue;
        }
        char why[200];
        if (strcmp(rec->topic, TOPIC_REGISTRY) == 0) {
            if (holders_from_record(rec, &it->holder, why, sizeof(why)) == 0)
                continue; /* a holder to project, or nothing settlement needs */
            it->dead = true;
            it->reject_event_id = event_id_of(rec->msg);
            snprintf(it->reason, sizeof(it->reason), "invalid: %s", why);
            continue;
        }
        const Onecard__V1__LedgerPosting *m = (const void *)rec->msg;
        if (rec->type->desc == &onecard__v1__ledger_posting__descriptor && m->kind &&
            (strcmp(m->kind, "allocation") == 0 || strcmp(m->kind, "transfer") == 0 ||
             strcmp(m->kind, "return") == 0)) {
            /* money into a fund or budget, from a replaced card to its
             * replacement, or credit returned from a card to its funds
             * (lapse, death, recovery): no provider, nothing to settle */
            it->reject_event_id = m->event_id;
            snprintf(it->reason, sizeof(it->reason), "skipped: %s is not settled",
                     m->kind[0] == 'a'   ? "an allocation"
                     : m->kind[0] == 't' ? "a card's carry-over"
                                         : "credit returned to its funds");
            continue;
        }
        if (rec->type->desc != &onecard__v1__ledger_posting__descriptor) {
            snprintf(why, sizeof(why), "%s is not a ledger posting", rec->type->ce_type);
        } else if (posting_from_msg((const void *)rec->msg, &it->p, why, sizeof(why)) == 0) {
            it->ok = true;
            continue;
        }
        it->dead = true;
        it->reject_event_id = event_id_of(rec->msg);
        snprintf(it->reason, sizeof(it->reason), "invalid: %s", why);
    }
}

/* The batch's hook: decide, store, dead-letter, commit, account. */
static int consumer_apply(void *arg, kafka_record *recs, int n, bool retry, char *err,
                          size_t errlen)
{
    (void)arg;
    (void)retry; /* postings already applied are found by their event id */
    consumer_items(recs, n);
    if (store_apply(&c.st, c.items, n, err, errlen) < 0)
        return -1;
    if (batch_offsets_store(c.bc, recs, n, err, errlen) < 0) {
        store_abort(&c.st);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        if (c.items[i].dead &&
            kafka_dead_letter(c.d->producer, recs[i].raw, c.items[i].reason, err, errlen) < 0) {
            store_abort(&c.st);
            return -1;
        }
    }
    if (store_commit(&c.st, err, errlen) < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        store_item *it = &c.items[i];
        if (it->ok) {
            metrics_add(m_applied[it->p.kind], 1);
            continue;
        }
        if (it->reason[0] == '\0') { /* a registry event: projected or not needed */
            if (it->holder.kind != HOLDERS_NONE)
                metrics_add(m_holders, 1);
            continue;
        }
        metrics_add(m_rejected, 1);
        if (it->dead)
            log_kv(LOG_WARN, "posting_rejected", "event_id",
                   it->reject_event_id ? it->reject_event_id : "", "reason", it->reason, NULL);
    }
    return 0;
}

static void consumer_metrics(void)
{
    static const char *const kinds[POSTING_KINDS] = {"kind=\"swipe\"", "kind=\"reversal\"",
                                                     "kind=\"topup\"", "kind=\"payment\""};
    for (int k = 0; k < POSTING_KINDS; k++)
        m_applied[k] = metrics_counter("onecard_settlement_postings_applied_total",
                                       "Postings accumulated, by kind.", kinds[k]);
    m_rejected = metrics_counter("onecard_settlement_postings_rejected_total",
                                 "Postings read and not applied (duplicate, invalid, "
                                 "undecodable), recorded in settlement_rejections.",
                                 NULL);
    m_holders = metrics_counter("onecard_settlement_registry_changes_total",
                                "Person and card changes of onecard.registry.v1 projected into "
                                "settlement_persons and settlement_cards.",
                                NULL);
}

/* The batch's tick: the state gauges (gauges.h), between batches. */
static void consumer_tick(void *arg, bool idle)
{
    (void)arg;
    if (idle)
        gauges_refresh(c.d->pg, event_now_ms());
}

int consumer_setup(struct event_base *base, deps *d, const consumer_config *cfg, char *err,
                   size_t errlen)
{
    c.d = d;
    c.cfg = *cfg;
    consumer_metrics();
    gauges_setup();
    store_init(&c.st, d->pg, cfg->group, cfg->tz_offset_min);
    c.items = calloc((size_t)cfg->batch_max, sizeof(*c.items));
    if (c.items == NULL) {
        snprintf(err, errlen, "out of memory for a batch of %d", cfg->batch_max);
        return -1;
    }
    const char *const topics[] = {TOPIC_POSTINGS, TOPIC_REGISTRY, NULL};
    batch_config bcfg = {cfg->brokers,   cfg->group,   cfg->instance, topics,
                         cfg->batch_max, "settlement", NULL};
    batch_hooks hooks = {.apply = consumer_apply, .tick = consumer_tick};
    c.bc = batch_new(base, d, &bcfg, &hooks, NULL, err, errlen);
    return c.bc ? 0 : -1;
}

void consumer_drain(void)
{
    batch_drain(c.bc);
    log_info("consumer_draining", "%d postings in hand%s", batch_in_hand(c.bc),
             batch_retrying(c.bc) ? " (not applied: read again after the restart)" : "");
}

void consumer_cleanup(void)
{
    batch_free(c.bc);
    store_cleanup(&c.st);
    free(c.items);
    memset(&c, 0, sizeof(c));
}
