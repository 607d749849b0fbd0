/*
 * republish: the events produced again. See republish.h.
 */
#include "republish.h"

#include "ending.h"
#include "inflight.h"
#include "rating.h"
#include "reversal.h"
#include "swipe.h"

#include "common/log.h"
#include "common/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int republish_copies;
static metric *republish_m_republished;

void republish_setup(void)
{
    republish_m_republished = metrics_counter(
        "onecard_gateway_republished_total",
        "Events produced again after a possibly-persisted delivery report, then acknowledged.",
        NULL);
}

int republish_count(void)
{
    return republish_copies;
}

static int republish_produce(request *c, kafka_delivery_fn cb, char *err, size_t errlen)
{
    if (c->kind == REQUEST_SWIPE)
        return swipe_produce(c, cb, err, errlen);
    if (c->kind == REQUEST_REVERSAL)
        return reversal_produce(c, cb, err, errlen);
    return rating_produce(c, cb, err, errlen);
}

static void republish_on_report(void *opaque, int err, const char *errstr, int32_t partition,
                                int64_t offset)
{
    request *c = opaque;
    char why[256];
    if (err && republish_produce(c, republish_on_report, why, sizeof(why)) == 0)
        return; /* not yet: the next report comes within the delivery timeout */
    if (err) {
        log_kv(LOG_ERROR, "republish_failed", "swipe_id", c->swipe_id, "event_id", c->event_id,
               "reason", why, NULL);
        ending_untrack(c, false); /* still pending in Redis: looked at again */
    } else {
        metrics_add(republish_m_republished, 1);
        ending_finalize(c);
        log_kv(LOG_INFO, "republished", "swipe_id", c->swipe_id, "event_id", c->event_id, NULL);
        if (c->on_final) {
            resume_request q = {.kind = request_part(c),
                                .swipe_id = c->swipe_id,
                                .event_id = c->event_id,
                                .at_ms = c->now_ms};
            c->on_final(c->final_arg, &q, event_now_ms());
        }
    }
    republish_copies--;
    free(c);
}

void republish_start(const request *r, const char *errstr)
{
    char why[256];
    log_kv(LOG_WARN, "delivery_unknown", "request_id", r->request_id, "swipe_id", r->swipe_id,
           "event_id", r->event_id, "reason", errstr, NULL);
    /* a copy, not request_new: it is not a request being answered */
    request *c = malloc(sizeof(*c));
    if (c == NULL) {
        log_error("republish_failed", "out of memory: %s left pending, looked at again",
                  r->event_id);
        ending_untrack(r, false);
        return;
    }
    memcpy(c, r, sizeof(*c));
    c->conn = NULL;
    c->body = NULL;
    c->bodylen = 0;
    if (republish_produce(c, republish_on_report, why, sizeof(why)) < 0) {
        log_kv(LOG_ERROR, "republish_failed", "swipe_id", c->swipe_id, "event_id", c->event_id,
               "reason", why, NULL);
        ending_untrack(c, false);
        free(c);
        return;
    }
    republish_copies++;
}

void republish_resume(const resume_request *q, const char *swipe_key, request_final_fn done,
                      void *arg)
{
    request *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        log_error("republish_failed", "out of memory: %s left pending", q->event_id);
        inflight_remove(q->kind, swipe_key, q->event_id, false);
        return;
    }
    c->kind = request_kind_of_part(q->kind);
    c->on_final = done;
    c->final_arg = arg;
    snprintf(c->swipe_key, sizeof(c->swipe_key), "%s", swipe_key);
    snprintf(c->swipe_id, sizeof(c->swipe_id), "%s", q->swipe_id);
    snprintf(c->card_no, sizeof(c->card_no), "%s", q->card_no);
    snprintf(c->card_for_event, sizeof(c->card_for_event), "%s", q->card_no);
    snprintf(c->auth.terminal_id, sizeof(c->auth.terminal_id), "%s", q->terminal_id);
    snprintf(c->provider_id, sizeof(c->provider_id), "%s", q->provider_id);
    snprintf(c->rated_provider, sizeof(c->rated_provider), "%s", q->provider_id);
    snprintf(c->person, sizeof(c->person), "%s", q->person);
    snprintf(c->item_code, sizeof(c->item_code), "%s", q->item_code);
    snprintf(c->item, sizeof(c->item), "%s", q->item_code);
    snprintf(c->request_id, sizeof(c->request_id), "%s", q->request_id);
    snprintf(c->event_id, sizeof(c->event_id), "%s", q->event_id);
    if (q->kind != RESUME_RATING) {
        snprintf(c->wallet, sizeof(c->wallet), "%s", q->wallet);
        snprintf(c->fund, sizeof(c->fund), "%s", q->fund);
        c->amount = q->amount;
        c->balance = q->balance;
    }
    if (q->kind == RESUME_SWIPE)
        snprintf(c->approval, sizeof(c->approval), "%s", q->approval);
    c->score = q->score;
    c->ntags = q->ntags < JSON_ARRAY_MAX ? q->ntags : JSON_ARRAY_MAX;
    for (int i = 0; i < c->ntags; i++)
        snprintf(c->tags[i], sizeof(c->tags[i]), "%s", q->tags[i]);
    c->now_ms = q->at_ms;
    if (q->kind == RESUME_SWIPE)
        keys_idem(c->idem_key, sizeof(c->idem_key), c->card_no, c->auth.terminal_id, c->request_id);
    else if (q->kind == RESUME_REVERSAL)
        keys_reversal_idem(c->idem_key, sizeof(c->idem_key), c->swipe_id, c->auth.terminal_id,
                           c->request_id);
    else
        keys_rating_idem(c->idem_key, sizeof(c->idem_key), c->swipe_id, c->auth.terminal_id,
                         c->request_id);
    republish_start(c, "left in flight by a gateway that stopped before the broker's report");
    free(c);
}
