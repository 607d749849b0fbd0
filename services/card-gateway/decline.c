/*
 * decline: rate-limited decline events. See decline.h.
 */
#include "decline.h"

#include "common/card.h"
#include "common/metrics.h"
#include "swipe.pb-c.h"

#include <string.h>

static kafka_producer *decline_producer;
static int64_t decline_per_s;
static double decline_tokens;
static int64_t decline_ms;
static metric *decline_m_dropped;

void decline_setup(kafka_producer *producer, int64_t declines_per_s)
{
    decline_producer = producer;
    decline_per_s = declines_per_s;
    decline_ms = event_now_ms();
    decline_m_dropped =
        metrics_counter("onecard_gateway_declines_unpublished_total",
                        "Declines not published (over the rate limit or queue full).", NULL);
}

void decline_publish(request *r, const char *reason)
{
    int64_t now = r->now_ms;
    decline_tokens += (double)(now - decline_ms) * (double)decline_per_s / 1000.0;
    if (decline_tokens > (double)decline_per_s)
        decline_tokens = (double)decline_per_s;
    decline_ms = now;
    if (decline_tokens < 1.0) {
        metrics_add(decline_m_dropped, 1);
        return;
    }
    decline_tokens -= 1.0;
    char masked[CARD_MASKED_MAX], err[256], id[EVENT_ID_LEN + 1], sid[40];
    card_mask(masked, sizeof(masked), r->card_no);
    event_new_id(id);
    keys_swipe_id(sid, sizeof(sid), r->card_no);
    Onecard__V1__SwipeDeclined ev = ONECARD__V1__SWIPE_DECLINED__INIT;
    ev.event_id = id;
    ev.swipe_id = sid;
    ev.request_id = r->request_id;
    ev.terminal_id = r->auth.terminal_id;
    ev.provider_id = r->provider_id;
    ev.card_no_masked = masked;
    ev.item_code = r->item_code;
    ev.amount_fen = r->amount;
    ev.reason = (char *)reason;
    ev.occurred_at_ms = r->now_ms;
    if (kafka_produce(decline_producer, &ev.base, NULL, r->provider_id, strlen(r->provider_id),
                      NULL, NULL, err, sizeof(err)) < 0)
        metrics_add(decline_m_dropped, 1);
}
