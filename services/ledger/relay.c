/*
 * relay: postings and the Redis side of committed entries. See relay.h.
 */
#include "relay.h"

#include "common/card.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/metrics.h"
#include "agency.pb-c.h"
#include "ledger.pb-c.h"
#include "ledger_lua.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RELAY_TOPUP_MARKER_TTL_S "3456000" /* 40 days: far beyond any retry */

typedef struct relay_batch {
    relay *r;
    unsigned generation;
    int outstanding; /* acknowledgements still expected */
    bool failed;
    size_t n;
    int64_t outbox_key; /* the batch's outbox row */
} relay_batch;

static redis_script relay_s_posted, relay_s_credit;
static metric *relay_m_published, *relay_m_failed, *relay_m_recovered, *relay_m_agency_failed;

void relay_init(relay *r, kafka_producer *producer, redis_client *redis, store *st)
{
    memset(r, 0, sizeof(*r));
    r->producer = producer;
    r->redis = redis;
    r->store = st;
    r->dirty = true;
    redis_script_init(&relay_s_posted, "posted", lua_posted);
    redis_script_init(&relay_s_credit, "credit", lua_credit);
    relay_m_published = metrics_counter("onecard_ledger_postings_published_total",
                                        "Ledger postings acknowledged by the broker.", NULL);
    relay_m_failed = metrics_counter("onecard_ledger_relay_failures_total",
                                     "Postings or Redis effects that failed and will be relayed "
                                     "again from the outbox.",
                                     NULL);
    relay_m_agency_failed = metrics_counter(
        "onecard_ledger_agency_view_failed_total",
        "Agency views (onecard.agency.swipes.v1) of journaled swipes and reversals the broker "
        "did not acknowledge: their batch stays in the outbox and is relayed again.",
        NULL);
    relay_m_recovered = metrics_counter("onecard_ledger_relay_recovered_total",
                                        "Outbox entries relayed again after a failure or a "
                                        "restart.",
                                        NULL);
}

static void relay_ack(relay_batch *b, bool ok)
{
    if (!ok) {
        b->failed = true;
        metrics_add(relay_m_failed, 1);
    }
    b->r->progress_ms = event_now_ms();
    if (--b->outstanding > 0)
        return;
    relay *r = b->r;
    if (b->generation == r->generation) /* else given up on already */
        r->inflight -= (int64_t)b->n;
    if (b->failed)
        r->dirty = true;
    else
        store_done(r->store, &b->outbox_key, 1);
    free(b);
}

static void relay_on_delivery(void *opaque, int err, const char *errstr, int32_t partition,
                              int64_t offset)
{
    if (err)
        log_warn("posting_not_acknowledged", "%s", errstr);
    else
        metrics_add(relay_m_published, 1);
    relay_ack(opaque, err == 0);
}

static void relay_on_redis(redisReply *reply, const char *errstr, void *arg)
{
    bool ok = reply != NULL && reply->type != REDIS_REPLY_ERROR;
    if (!ok)
        log_warn("relay_redis_failed", "%s", reply ? reply->str : (errstr ? errstr : "no reply"));
    relay_ack(arg, ok);
}

/* Publishes the entry's posting; returns false when it was not queued. */
static bool relay_publish(relay *r, const journal_entry *e, int64_t entry_id, relay_batch *b)
{
    char id[40], entry[24];
    journal_posting_id(id, e->event_id);
    snprintf(entry, sizeof(entry), "%lld", (long long)entry_id);
    Onecard__V1__PostingLine lines[JOURNAL_LINES_MAX];
    Onecard__V1__PostingLine *lp[JOURNAL_LINES_MAX];
    for (int i = 0; i < e->nlines; i++) {
        onecard__v1__posting_line__init(&lines[i]);
        lines[i].account = (char *)e->lines[i].account.name;
        lines[i].amount_fen = e->lines[i].amount_fen;
        lines[i].fund = (char *)e->lines[i].fund;
        lp[i] = &lines[i];
    }
    Onecard__V1__LedgerPosting p;
    onecard__v1__ledger_posting__init(&p);
    p.event_id = id;
    p.entry_id = entry;
    p.source_event_id = (char *)e->event_id;
    p.kind = (char *)journal_kind_name(e->kind);
    p.card_no = (char *)(e->card_no ? e->card_no : "");
    p.provider_id = (char *)(e->provider_id ? e->provider_id : "");
    p.item_code = (char *)(e->item_code ? e->item_code : "");
    p.fund_source = (char *)(e->fund_source ? e->fund_source : "");
    p.n_lines = (size_t)e->nlines;
    p.lines = lp;
    p.posted_at_ms = event_now_ms();
    p.occurred_at_ms = e->occurred_at_ms;
    const char *key = e->card_no ? e->card_no : e->lines[e->nlines - 1].account.name;
    char err[256];
    if (kafka_produce(r->producer, &p.base, TOPIC_POSTINGS, key, strlen(key), relay_on_delivery, b,
                      err, sizeof(err)) < 0) {
        log_warn("posting_not_queued", "%s", err);
        return false;
    }
    return true;
}

static void relay_on_agency(void *opaque, int err, const char *errstr, int32_t partition,
                            int64_t offset)
{
    (void)partition, (void)offset;
    if (err) {
        metrics_add(relay_m_agency_failed, 1);
        log_warn("agency_view_not_acknowledged", "%s", errstr);
    }
    relay_ack(opaque, err == 0);
}

/* The agency view of a journaled swipe or reversal
 * (onecard.agency.swipes.v1, docs/agencies.md): the masked card and the
 * holder's pseudonymous id, never the card number. An effect of the entry
 * like its posting: its batch leaves the outbox only once the broker has
 * acknowledged it, so a view is delivered at least once; its event_id
 * derives from the source event's, so an agency drops a repeat. Other
 * kinds have none (true). */
static bool relay_agency(relay *r, const journal_entry *e, relay_batch *b)
{
    if ((e->kind != JOURNAL_SWIPE && e->kind != JOURNAL_REVERSAL) || e->card_no == NULL)
        return true;
    Onecard__V1__AgencySwipe a = ONECARD__V1__AGENCY_SWIPE__INIT;
    char id[200], masked[CARD_MASKED_MAX], err[256];
    snprintf(id, sizeof(id), "agency-%s", e->event_id);
    a.event_id = id;
    a.kind = e->kind == JOURNAL_SWIPE ? "swipe" : "reversal";
    a.source_event_id = (char *)e->event_id;
    a.swipe_id = (char *)(e->swipe_id ? e->swipe_id : "");
    a.person_id = (char *)(e->kind == JOURNAL_SWIPE && e->person_id ? e->person_id : "");
    a.provider_id = (char *)(e->provider_id ? e->provider_id : "");
    a.item_code = (char *)(e->item_code ? e->item_code : "");
    a.fund_source = (char *)(e->fund_source ? e->fund_source : "");
    a.amount_fen = e->amount_fen;
    a.occurred_at_ms = e->occurred_at_ms;
    a.card_no_masked = card_mask(masked, sizeof(masked), e->card_no);
    b->outstanding++;
    if (kafka_produce(r->producer, &a.base, NULL, a.card_no_masked, strlen(a.card_no_masked),
                      relay_on_agency, b, err, sizeof(err)) < 0) {
        metrics_add(relay_m_agency_failed, 1);
        log_warn("agency_view_not_queued", "%s", err);
        relay_ack(b, false);
        return false;
    }
    return true;
}

/* Queues one credit script (a signed amount on one wallet, once per
 * marker) under the batch. false when it could not be sent. */
static bool relay_credit(relay *r, const char *card_no, const char *wallet, const char *marker_id,
                         int64_t fen, const char *credit_ends, relay_batch *b)
{
    char k1[KEYS_MAX], k2[KEYS_MAX], k3[KEYS_MAX], amount[24], field[80] = "";
    keys_wallet(k1, sizeof(k1), card_no);
    keys_topup(k2, sizeof(k2), card_no, marker_id);
    keys_ends(k3, sizeof(k3), card_no);
    snprintf(amount, sizeof(amount), "%lld", (long long)fen);
    if (credit_ends) /* a top-up: when its credit ends ("never": it does not) */
        snprintf(field, sizeof(field), "%s|%s", wallet, *credit_ends ? credit_ends : "never");
    const char *argv[] = {k1, k2, k3, wallet, amount, RELAY_TOPUP_MARKER_TTL_S, field};
    size_t argvlen[7];
    for (int i = 0; i < 7; i++)
        argvlen[i] = strlen(argv[i]);
    b->outstanding++;
    if (redis_evalsha(r->redis, &relay_s_credit, 3, 7, argv, argvlen, relay_on_redis, b) < 0) {
        relay_ack(b, false);
        return false;
    }
    return true;
}

/* Sends the entry's Redis effects under the batch; false when one could
 * not be sent (the batch is then marked failed and stays in the outbox).
 * A transfer is two credits, each under a marker in its own card's slot,
 * so a relay repeated after a failure moves the money once. A payment and
 * an allocation have none. */
static bool relay_redis(relay *r, const journal_entry *e, relay_batch *b)
{
    if (e->kind == JOURNAL_SWIPE || e->kind == JOURNAL_REVERSAL) {
        char k1[KEYS_MAX], k2[KEYS_MAX], k3[KEYS_MAX];
        keys_holds(k1, sizeof(k1), e->card_no);
        const char *term = e->terminal_id ? e->terminal_id : "",
                   *req = e->request_id ? e->request_id : "";
        if (e->kind == JOURNAL_SWIPE)
            keys_idem(k2, sizeof(k2), e->card_no, term, req);
        else if (e->swipe_id == NULL ||
                 keys_reversal_idem(k2, sizeof(k2), e->swipe_id, term, req) < 0)
            snprintf(k2, sizeof(k2), "%s", k1); /* no answer to finalize: a string key never */
        /* a swipe id without the card's tag has no swipe record: point the
         * script at the holds hash, where 'state' is never a field */
        if (e->swipe_id == NULL || keys_swipe(k3, sizeof(k3), e->swipe_id) < 0)
            snprintf(k3, sizeof(k3), "%s", k1);
        const char *state = e->kind == JOURNAL_SWIPE ? "swipe" : "reversal";
        const char *argv[] = {k1, k2, k3, e->event_id, state};
        size_t argvlen[] = {strlen(k1), strlen(k2), strlen(k3), strlen(e->event_id), strlen(state)};
        b->outstanding++;
        if (redis_evalsha(r->redis, &relay_s_posted, 3, 5, argv, argvlen, relay_on_redis, b) < 0) {
            relay_ack(b, false);
            return false;
        }
        return true;
    }
    /* a payment is paid into the person's bank account by settlement: no
     * hot balance changes, only its posting (nor has an allocation any) */
    if (e->kind == JOURNAL_PAYMENT || e->kind == JOURNAL_ALLOCATION)
        return true;
    /* a return was taken off the hot balance before its event was produced
     * (lapse.c, return.lua): the journal catches up with Redis */
    if (e->kind == JOURNAL_RETURN)
        return true;
    if (e->kind == JOURNAL_TOPUP)
        return relay_credit(r, e->card_no, e->wallet, e->request_id ? e->request_id : e->event_id,
                            e->amount_fen, e->credit_ends ? e->credit_ends : "", b);
    if (e->kind == JOURNAL_TRANSFER) {
        bool from = relay_credit(r, e->card_no, e->wallet, e->event_id, -e->amount_fen, NULL, b);
        bool to = relay_credit(r, e->to_card_no, e->wallet, e->event_id, e->amount_fen, NULL, b);
        return from && to;
    }
    return true;
}

void relay_entries(relay *r, const journal_entry *const *entries, const int64_t *entry_ids,
                   size_t n, int64_t outbox_key)
{
    if (n == 0)
        return;
    relay_batch *b = malloc(sizeof(*b));
    if (b == NULL) {
        r->dirty = true; /* the outbox still has them */
        return;
    }
    b->r = r;
    b->generation = r->generation;
    b->n = n;
    b->failed = false;
    b->outstanding = 1; /* held until every effect is sent */
    b->outbox_key = outbox_key;
    if (r->inflight == 0)
        r->progress_ms = event_now_ms();
    r->inflight += (int64_t)n;
    for (size_t i = 0; i < n; i++) {
        b->outstanding++;
        if (!relay_publish(r, entries[i], entry_ids[i], b))
            relay_ack(b, false);
        (void)relay_agency(r, entries[i], b); /* a failure keeps the batch in the outbox */
        if (!relay_redis(r, entries[i], b))
            log_warn("relay_redis_failed", "redis unavailable: entry %lld kept in the outbox",
                     (long long)entry_ids[i]);
    }
    relay_ack(b, true);
}

/* ---------------------------------------------------------------- recover */

static const char *relay_col(PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

int relay_recover(relay *r, PGconn *pg, int limit, char *err, size_t errlen)
{
    if (r->inflight > 0 && event_now_ms() - r->progress_ms > RELAY_STALL_MS) {
        log_warn("relay_stalled",
                 "%lld entries unacknowledged for %d s: relaying them again from the outbox",
                 (long long)r->inflight, RELAY_STALL_MS / 1000);
        r->generation++;
        r->inflight = 0;
        r->dirty = true;
    }
    if (!r->dirty || r->inflight > 0)
        return 0;
    if (store_flush_done(r->store, err, errlen) < 0)
        return -1;
    char lim[16];
    snprintf(lim, sizeof(lim), "%d", limit);
    const char *p[] = {lim};
    /* whole batches, oldest first, as long as they stay under limit entries
     * (the first one in any case) */
    PGresult *res = pg_query(
        pg,
        "WITH o AS (SELECT entry_id AS outbox_key, entry_ids, sum(cardinality(entry_ids)) OVER "
        "(ORDER BY entry_id) AS upto FROM ledger_outbox), b AS (SELECT * FROM o WHERE upto <= "
        "$1::int OR outbox_key = (SELECT min(outbox_key) FROM o)) "
        "SELECT e.entry_id, e.kind, e.event_id, e.amount_fen, e.card_no, e.wallet, "
        "e.provider_id, e.terminal_id, e.item_code, e.fund_source, e.programme, e.period, "
        "e.swipe_id, e.request_id, e.person_id, e.occurred_at_ms, b.outbox_key, "
        "(SELECT count(*) FROM ledger_outbox) > (SELECT count(*) FROM b), e.to_card_no, "
        "e.fund_shares, e.credit_ends::text, e.reason FROM b "
        "CROSS JOIN LATERAL unnest(b.entry_ids) AS x(id) JOIN ledger_entries e ON "
        "e.entry_id = x.id ORDER BY b.outbox_key, e.entry_id",
        1, p, err, errlen);
    if (res == NULL)
        return -1;
    int n = PQntuples(res);
    journal_entry *es = calloc((size_t)n + 1, sizeof(*es));
    const journal_entry **ptrs = calloc((size_t)n + 1, sizeof(*ptrs));
    int64_t *ids = calloc((size_t)n + 1, sizeof(*ids));
    if (es == NULL || ptrs == NULL || ids == NULL) {
        free(es);
        free(ptrs);
        free(ids);
        PQclear(res);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t k = 0, relayed = 0;
    int64_t key = n > 0 ? strtoll(PQgetvalue(res, 0, 16), NULL, 10) : 0;
    for (int row = 0; row < n; row++) {
        int64_t row_key = strtoll(PQgetvalue(res, row, 16), NULL, 10);
        if (row_key != key) { /* the previous batch is complete */
            relay_entries(r, ptrs, ids, k, key);
            relayed += k;
            k = 0;
            key = row_key;
        }
        journal_entry *e = &es[row];
        int kind = journal_kind_parse(PQgetvalue(res, row, 1));
        e->kind = kind < 0 ? JOURNAL_SWIPE : (journal_kind)kind;
        e->event_id = PQgetvalue(res, row, 2);
        e->amount_fen = strtoll(PQgetvalue(res, row, 3), NULL, 10);
        e->card_no = relay_col(res, row, 4);
        e->wallet = relay_col(res, row, 5);
        e->provider_id = relay_col(res, row, 6);
        e->terminal_id = relay_col(res, row, 7);
        e->item_code = relay_col(res, row, 8);
        e->fund_source = relay_col(res, row, 9);
        e->programme = relay_col(res, row, 10);
        e->period = relay_col(res, row, 11);
        e->swipe_id = relay_col(res, row, 12);
        e->request_id = relay_col(res, row, 13);
        e->person_id = relay_col(res, row, 14);
        e->occurred_at_ms = strtoll(PQgetvalue(res, row, 15), NULL, 10);
        e->to_card_no = relay_col(res, row, 18);
        e->credit_ends = relay_col(res, row, 20);
        e->reason = relay_col(res, row, 21);
        e->year = e->kind == JOURNAL_ALLOCATION && e->period ? (int)strtol(e->period, NULL, 10)
                                                             : journal_period_year(e->period);
        char why[256];
        if (kind < 0 || journal_shares_parse(e, relay_col(res, row, 19), why, sizeof(why)) < 0 ||
            journal_derive_lines(e, why, sizeof(why)) < 0) {
            log_error("outbox_entry_unreadable", "entry %s: %s", PQgetvalue(res, row, 0),
                      kind < 0 ? "unknown kind" : why);
            continue;
        }
        ids[k] = strtoll(PQgetvalue(res, row, 0), NULL, 10);
        ptrs[k] = e;
        k++;
    }
    relay_entries(r, ptrs, ids, k, key);
    relayed += k;
    r->dirty = n > 0 && strcmp(PQgetvalue(res, 0, 17), "t") == 0; /* batches left */
    metrics_add(relay_m_recovered, (int64_t)relayed);
    if (relayed > 0)
        log_info("outbox_relayed", "%zu entries relayed again from the outbox", relayed);
    free(es);
    free(ptrs);
    free(ids);
    PQclear(res);
    return (int)k;
}
