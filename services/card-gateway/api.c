/*
 * api: the terminal API. See api.h for the walk of a request; the Lua
 * scripts under lua/ hold the rules that touch a card.
 */
#include "api.h"
#include "auth.h"
#include "dcache.h"
#include "inflight.h"
#include "json.h"
#include "scripts.h"

#include "common/calendar.h"
#include "common/card.h"
#include "common/event.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/money.h"
#include "common/sign.h"
#include "rating.pb-c.h"
#include "swipe.pb-c.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

enum api_kind { API_SWIPE, API_REVERSAL, API_RATING, API_BALANCE };

typedef struct api_req {
    http_conn *conn;
    enum api_kind kind;
    struct timespec t0;
    char method[8], path[256];
    const char *body;
    size_t bodylen;
    auth_headers auth;
    char provider_id[65];
    /* body fields */
    char request_id[65], card_no[JSON_STR_MAX], pin[JSON_STR_MAX], item_code[65];
    char swipe_id[JSON_STR_MAX];
    int64_t amount, score;
    char tags[JSON_ARRAY_MAX][JSON_STR_MAX];
    int ntags;
    /* derived */
    char fp[SIGN_HEX_LEN + 1], proof[SIGN_HEX_LEN + 1];
    char event_id[EVENT_ID_LEN + 1], approval[16], day[40], year[12];
    char item_info[160], provider_state[16];
    int64_t now_ms;
    /* outcome */
    char wallet[33], fund[65], person[81], item[65], card_for_event[JSON_STR_MAX];
    char rated_provider[65];
    int64_t balance;
    char idem_key[KEYS_MAX], swipe_key[KEYS_MAX];
    /* a request another gateway left in flight, finished by this one */
    api_final_fn on_final;
    void *final_arg;
} api_req;

static redis_client *api_redis;
static kafka_producer *api_producer;
static api_config api_cfg;
static int api_inflight;
static int api_republishing;
static double api_decline_tokens;
static int64_t api_decline_ms;

static metric *api_m_approved, *api_m_declined, *api_m_latency, *api_m_unavailable,
    *api_m_decline_dropped, *api_m_republished;
static struct {
    int code;
    metric *m;
} api_m_codes[] = {{200, NULL}, {202, NULL}, {400, NULL}, {401, NULL}, {404, NULL}, {405, NULL},
                   {409, NULL}, {413, NULL}, {415, NULL}, {429, NULL}, {503, NULL}};
static const char *const api_reasons[] = {
    "card_unknown",        "card_frozen",         "card_lost",
    "pin_invalid",         "pin_locked",          "person_ineligible",
    "item_unknown",        "item_not_allowed",    "provider_not_designated",
    "provider_suspended",  "insufficient_funds",  "daily_cap_exceeded",
    "annual_cap_exceeded", "amount_over_standard"};
static metric *api_m_reasons[sizeof(api_reasons) / sizeof(api_reasons[0])];

/* ============================================================ answering */

static void api_finish(api_req *r, int status, const char *extra, const char *body)
{
    for (size_t i = 0; i < sizeof(api_m_codes) / sizeof(api_m_codes[0]); i++)
        if (api_m_codes[i].code == status)
            metrics_add(api_m_codes[i].m, 1);
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    metrics_observe(api_m_latency, (double)(t1.tv_sec - r->t0.tv_sec) +
                                       (double)(t1.tv_nsec - r->t0.tv_nsec) / 1e9);
    http_respond(r->conn, status, extra, body, strlen(body));
    api_inflight--;
    free(r);
}

static void api_error(api_req *r, int status, const char *code, const char *message)
{
    char body[768], esc[512];
    log_json_escape(esc, sizeof(esc), message);
    snprintf(body, sizeof(body), "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}", code, esc);
    if (status == 503)
        metrics_add(api_m_unavailable, 1);
    api_finish(r, status, status == 503 || status == 429 ? "Retry-After: 1\r\n" : NULL, body);
}

static void api_unavailable(api_req *r, const char *what)
{
    log_kv(LOG_WARN, "unavailable", "terminal", r->auth.terminal_id, "request_id", r->request_id,
           "reason", what, NULL);
    api_error(r, 503, "unavailable", what);
}

/* The request's part of the swipe record (resume.h) and its in-flight member. */
static int api_part(const api_req *r)
{
    return r->kind == API_SWIPE      ? RESUME_SWIPE
           : r->kind == API_REVERSAL ? RESUME_REVERSAL
                                     : RESUME_RATING;
}

static void api_track(const api_req *r)
{
    inflight_add(api_part(r), r->swipe_key, r->event_id);
}

/* r is over for this process; done_in_redis: a reply said nothing of it
 * is pending in Redis any more (else its member stays, for pending.c). */
static void api_untrack(const api_req *r, bool done_in_redis)
{
    inflight_remove(api_part(r), r->swipe_key, r->event_id, done_in_redis);
}

/* What the reply of a request's last script needs to let its member go. */
typedef struct api_ending {
    int kind;
    char swipe_key[KEYS_MAX], event_id[EVENT_ID_LEN + 1];
} api_ending;

static api_ending *api_ending_new(const api_req *r)
{
    api_ending *e = malloc(sizeof(*e));
    if (e == NULL)
        return NULL;
    e->kind = api_part(r);
    snprintf(e->swipe_key, sizeof(e->swipe_key), "%s", r->swipe_key);
    snprintf(e->event_id, sizeof(e->event_id), "%s", r->event_id);
    return e;
}

/* A script's reply says whether it ran: an array or an integer. */
static bool api_script_ran(const redisReply *reply)
{
    return reply != NULL &&
           (reply->type == REDIS_REPLY_ARRAY || reply->type == REDIS_REPLY_INTEGER);
}

/* Splits a tab-separated stored answer into at most max fields (in place). */
static int api_split(char *s, char **out, int max)
{
    int n = 0;
    while (n < max) {
        out[n++] = s;
        char *tab = strchr(s, '\t');
        if (tab == NULL)
            break;
        *tab = '\0';
        s = tab + 1;
    }
    return n;
}

/* The common head of a script's answer: a Redis failure is 503, a reused
 * request_id with another body is 409. Otherwise copies the stored answer
 * into stored, splits it into f (at least minf fields, else 503), sets
 * *replay, and returns the number of fields; -1 when r was answered. */
static int api_script_answer(api_req *r, redisReply *reply, const char *script, char *stored,
                             size_t cap, char **f, int maxf, int minf, bool *replay)
{
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements < 1) {
        if (reply && reply->type == REDIS_REPLY_ERROR)
            log_error("script_error", "%s: %s", script, reply->str);
        api_unavailable(r, "redis unavailable");
        return -1;
    }
    const char *tag = reply->element[0]->str;
    if (strcmp(tag, "conflict") == 0) {
        api_error(r, 409, "conflict", "request_id was used before with another body");
        return -1;
    }
    snprintf(stored, cap, "%s", reply->elements > 1 ? reply->element[1]->str : "");
    int nf = api_split(stored, f, maxf);
    if (nf < minf) {
        api_unavailable(r, "unreadable answer");
        return -1;
    }
    *replay = strcmp(tag, "replay") == 0;
    return nf;
}

/* ============================================================= the steps */

static void api_after_auth(api_req *r);

static void api_on_nonce(redisReply *reply, const char *errstr, void *arg)
{
    api_req *r = arg;
    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        api_unavailable(r, "redis unavailable");
        return;
    }
    if (reply->type == REDIS_REPLY_NIL) {
        api_error(r, 401, "unauthenticated", "header X-Nonce was already used (replay)");
        return;
    }
    api_after_auth(r);
}

static bool api_take_token(dcache_terminal *t, int64_t now_ms)
{
    if (t->tokens_ms == 0) {
        t->tokens = (double)api_cfg.terminal_burst;
        t->tokens_ms = now_ms;
    }
    t->tokens += (double)(now_ms - t->tokens_ms) * (double)api_cfg.terminal_rate / 1000.0;
    if (t->tokens > (double)api_cfg.terminal_burst)
        t->tokens = (double)api_cfg.terminal_burst;
    t->tokens_ms = now_ms;
    if (t->tokens < 1.0)
        return false;
    t->tokens -= 1.0;
    return true;
}

static void api_on_terminal(void *arg, dcache_terminal *t, const char *err)
{
    api_req *r = arg;
    if (t == NULL) {
        api_unavailable(r, "terminal directory unavailable");
        return;
    }
    if (!t->known || !t->active) {
        api_error(r, 401, "unauthenticated",
                  t->known ? "terminal is disabled" : "header X-Terminal-Id: unknown terminal");
        return;
    }
    if (!auth_verify(&r->auth, t->secret, r->method, r->path, r->body, r->bodylen)) {
        api_error(r, 401, "unauthenticated", "header X-Signature does not match the request");
        return;
    }
    if (!api_take_token(t, r->now_ms)) {
        api_error(r, 429, "rate_limited", "terminal over its request budget; retry later");
        return;
    }
    snprintf(r->provider_id, sizeof(r->provider_id), "%s", t->provider);
    char key[KEYS_MAX];
    int klen = keys_nonce(key, sizeof(key), r->auth.terminal_id, r->auth.nonce);
    const char *argv[] = {"SET", key, "1", "NX", "EX", "600"};
    size_t argvlen[] = {3, (size_t)klen, 1, 2, 2, 3};
    if (klen < 0 || redis_command(api_redis, 6, argv, argvlen, api_on_nonce, r) < 0)
        api_unavailable(r, "redis unavailable");
}

/* ------------------------------------------------------------------ swipe */

static void api_decline_event(api_req *r, const char *reason)
{
    int64_t now = r->now_ms;
    api_decline_tokens += (double)(now - api_decline_ms) * (double)api_cfg.declines_per_s / 1000.0;
    if (api_decline_tokens > (double)api_cfg.declines_per_s)
        api_decline_tokens = (double)api_cfg.declines_per_s;
    api_decline_ms = now;
    if (api_decline_tokens < 1.0) {
        metrics_add(api_m_decline_dropped, 1);
        return;
    }
    api_decline_tokens -= 1.0;
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
    if (kafka_produce(api_producer, &ev.base, NULL, r->provider_id, strlen(r->provider_id), NULL,
                      NULL, err, sizeof(err)) < 0)
        metrics_add(api_m_decline_dropped, 1);
}

static void api_answer_swipe(api_req *r, char **f, int nf)
{
    /* f: decision, then for approved: swipe_id, approval, wallet, balance, fund, person;
     * for declined: reason */
    char body[512];
    if (nf >= 2 && strcmp(f[0], "declined") == 0) {
        snprintf(body, sizeof(body),
                 "{\"swipe_id\":null,\"decision\":\"declined\",\"reason\":\"%s\"}", f[1]);
        api_finish(r, 200, NULL, body);
        return;
    }
    if (nf >= 5 && strcmp(f[0], "approved") == 0) {
        snprintf(body, sizeof(body),
                 "{\"swipe_id\":\"%s\",\"decision\":\"approved\",\"approval_code\":\"%s\","
                 "\"wallet\":\"%s\",\"balance_fen\":%s}",
                 f[1], f[2], f[3], f[4]);
        api_finish(r, 200, NULL, body);
        return;
    }
    api_unavailable(r, "stored answer unreadable");
}

static void api_on_finalized(redisReply *reply, const char *errstr, void *arg)
{
    api_ending *e = arg;
    bool ran = api_script_ran(reply);
    if (!ran)
        log_warn("finalize_failed", "answer left pending, looked at again: %s",
                 reply && reply->type == REDIS_REPLY_ERROR ? reply->str : (errstr ? errstr : "?"));
    inflight_remove(e->kind, e->swipe_key, e->event_id, ran);
    free(e);
}

/* The broker acknowledged r's event: its stored answer becomes final, its
 * part of the swipe record done, and, once the script has run, its member
 * leaves our in-flight set. */
static void api_finalize(api_req *r)
{
    const char *keys[FINALIZE_NKEYS] = {
        [FINALIZE_K_IDEM] = r->idem_key, [FINALIZE_K_SWIPE] = r->swipe_key};
    const char *args[FINALIZE_NARGS] = {[FINALIZE_A_PART] = resume_kind_name(api_part(r))};
    api_ending *e = api_ending_new(r);
    if (e == NULL || scripts_call(api_redis, &scripts_finalize, keys, args, FINALIZE_NARGS,
                                  api_on_finalized, e) < 0) {
        free(e);
        log_warn("finalize_failed", "redis unavailable: answer left pending, looked at again");
        api_untrack(r, false);
    }
}

/* The compensating scripts answer 0 when another gateway took the request
 * over (pending.c): it produces the event, and the money stays. */
static void api_on_undone(redisReply *reply, const char *errstr, void *arg)
{
    api_ending *e = arg;
    bool ran = api_script_ran(reply);
    if (!ran)
        log_error("release_failed", "%s not undone (its event is produced later instead): %s",
                  e->event_id,
                  reply && reply->type == REDIS_REPLY_ERROR ? reply->str : (errstr ? errstr : "?"));
    else if (reply->type == REDIS_REPLY_INTEGER && reply->integer == 0)
        log_kv(LOG_WARN, "undo_skipped", "event_id", e->event_id, "reason",
               "another gateway took the request over and produces its event", NULL);
    inflight_remove(e->kind, e->swipe_key, e->event_id, ran);
    free(e);
}

/* Runs a compensating script for r (its event was not delivered). If it
 * cannot run, r stays pending in Redis with its member: pending.c produces
 * its event later (never wrong: see resume.h). */
static void api_undo(api_req *r, const scripts_def *s, const char *const *keys,
                     const char *const *args, int nargs)
{
    api_ending *e = api_ending_new(r);
    if (e == NULL || scripts_call(api_redis, s, keys, args, nargs, api_on_undone, e) < 0) {
        free(e);
        log_error("release_failed", "redis unavailable: %s kept, its event produced later",
                  r->event_id);
        api_untrack(r, false);
    }
}

/* -------------------------------------------------------------- republish */

/* An event whose delivery report says "possibly persisted" may be in the log
 * or not. Undoing its effect in Redis could give money back that the ledger
 * then takes again, and keeping the effect without an event would leave a
 * hold that nothing ever posts. So the gateway answers 503 and produces the
 * very same event again (same event_id: the ledger and every consumer drop a
 * duplicate) until the broker acknowledges it, then marks the answer final;
 * the terminal's retry with the same request_id finds that answer. A copy of
 * the request outlives the connection; api_republishing counts the copies. */
static int api_produce_swipe(api_req *r, kafka_delivery_fn cb, char *err, size_t errlen);
static int api_produce_reversal(api_req *r, kafka_delivery_fn cb, char *err, size_t errlen);
static int api_produce_rating(api_req *r, kafka_delivery_fn cb, char *err, size_t errlen);

static int api_produce_again(api_req *c, kafka_delivery_fn cb, char *err, size_t errlen)
{
    if (c->kind == API_SWIPE)
        return api_produce_swipe(c, cb, err, errlen);
    if (c->kind == API_REVERSAL)
        return api_produce_reversal(c, cb, err, errlen);
    return api_produce_rating(c, cb, err, errlen);
}

static void api_on_republished(void *opaque, int err, const char *errstr, int32_t partition,
                               int64_t offset)
{
    api_req *c = opaque;
    char why[256];
    if (err && api_produce_again(c, api_on_republished, why, sizeof(why)) == 0)
        return; /* not yet: the next report comes within the delivery timeout */
    if (err) {
        log_kv(LOG_ERROR, "republish_failed", "swipe_id", c->swipe_id, "event_id", c->event_id,
               "reason", why, NULL);
        api_untrack(c, false); /* still pending in Redis: looked at again */
    } else {
        metrics_add(api_m_republished, 1);
        api_finalize(c);
        log_kv(LOG_INFO, "republished", "swipe_id", c->swipe_id, "event_id", c->event_id, NULL);
        if (c->on_final) {
            resume_request q = {.kind = api_part(c),
                                .swipe_id = c->swipe_id,
                                .event_id = c->event_id,
                                .at_ms = c->now_ms};
            c->on_final(c->final_arg, &q, event_now_ms());
        }
    }
    api_republishing--;
    free(c);
}

static void api_republish(api_req *r, const char *errstr)
{
    char why[256];
    log_kv(LOG_WARN, "delivery_unknown", "request_id", r->request_id, "swipe_id", r->swipe_id,
           "event_id", r->event_id, "reason", errstr, NULL);
    api_req *c = malloc(sizeof(*c));
    if (c == NULL) {
        log_error("republish_failed", "out of memory: %s left pending, looked at again",
                  r->event_id);
        api_untrack(r, false);
        return;
    }
    memcpy(c, r, sizeof(*c));
    c->conn = NULL;
    c->body = NULL;
    c->bodylen = 0;
    if (api_produce_again(c, api_on_republished, why, sizeof(why)) < 0) {
        log_kv(LOG_ERROR, "republish_failed", "swipe_id", c->swipe_id, "event_id", c->event_id,
               "reason", why, NULL);
        api_untrack(c, false);
        free(c);
        return;
    }
    api_republishing++;
}

void api_resume(const resume_request *q, const char *swipe_key, api_final_fn done, void *arg)
{
    api_req *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        log_error("republish_failed", "out of memory: %s left pending", q->event_id);
        inflight_remove(q->kind, swipe_key, q->event_id, false);
        return;
    }
    c->kind = q->kind == RESUME_SWIPE      ? API_SWIPE
              : q->kind == RESUME_REVERSAL ? API_REVERSAL
                                           : API_RATING;
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
    api_republish(c, "left in flight by a gateway that stopped before the broker's report");
    free(c);
}

static void api_on_swipe_acked(void *opaque, int err, const char *errstr, int32_t partition,
                               int64_t offset)
{
    api_req *r = opaque;
    char bal[24];
    snprintf(bal, sizeof(bal), "%" PRId64, r->balance);
    if (err == KAFKA_ERR_POSSIBLY_PERSISTED) {
        api_republish(r, errstr);
        api_unavailable(r, "the swipe is not confirmed yet; retry with the same request_id");
        return;
    }
    if (err) {
        /* No durable event: give everything back, and say 503. */
        char wkey[KEYS_MAX], hkey[KEYS_MAX], ckey[KEYS_MAX], amount[24];
        keys_wallet(wkey, sizeof(wkey), r->card_no);
        keys_holds(hkey, sizeof(hkey), r->card_no);
        keys_caps(ckey, sizeof(ckey), r->card_no);
        snprintf(amount, sizeof(amount), "%" PRId64, r->amount);
        const char *keys[RELEASE_NKEYS] = {[RELEASE_K_IDEM] = r->idem_key,
                                           [RELEASE_K_WALLET] = wkey,
                                           [RELEASE_K_HOLDS] = hkey,
                                           [RELEASE_K_CAPS] = ckey,
                                           [RELEASE_K_SWIPE] = r->swipe_key};
        const char *args[RELEASE_NARGS] = {[RELEASE_A_EVENT_ID] = r->event_id,
                                           [RELEASE_A_WALLET] = r->wallet,
                                           [RELEASE_A_AMOUNT] = amount,
                                           [RELEASE_A_ITEM] = r->item_code,
                                           [RELEASE_A_DAY] = r->day,
                                           [RELEASE_A_YEAR] = r->year,
                                           [RELEASE_A_GATEWAY_ID] = inflight_id()};
        api_undo(r, &scripts_release, keys, args, RELEASE_NARGS);
        log_kv(LOG_WARN, "swipe_not_durable", "request_id", r->request_id, "swipe_id", r->swipe_id,
               "reason", errstr, NULL);
        api_unavailable(r, "the swipe could not be recorded; retry with the same request_id");
        return;
    }
    metrics_add(api_m_approved, 1);
    api_finalize(r);
    char *f[] = {"approved", r->swipe_id, r->approval, r->wallet, bal};
    api_answer_swipe(r, f, 5);
}

static int api_produce_swipe(api_req *r, kafka_delivery_fn cb, char *err, size_t errlen)
{
    Onecard__V1__SwipeAuthorized ev = ONECARD__V1__SWIPE_AUTHORIZED__INIT;
    ev.event_id = r->event_id;
    ev.swipe_id = r->swipe_id;
    ev.request_id = r->request_id;
    ev.terminal_id = r->auth.terminal_id;
    ev.provider_id = r->provider_id;
    ev.card_no = r->card_no;
    ev.person_id = r->person;
    ev.item_code = r->item_code;
    ev.wallet = r->wallet;
    ev.fund_source = r->fund;
    ev.amount_fen = r->amount;
    ev.balance_after_fen = r->balance;
    ev.approval_code = r->approval;
    ev.occurred_at_ms = r->now_ms;
    return kafka_produce(api_producer, &ev.base, NULL, r->card_no, strlen(r->card_no), cb, r, err,
                         errlen);
}

static void api_publish_swipe(api_req *r)
{
    char err[256];
    if (api_produce_swipe(r, api_on_swipe_acked, err, sizeof(err)) < 0)
        api_on_swipe_acked(r, -1, err, -1, -1);
}

static void api_on_swipe_script(redisReply *reply, const char *errstr, void *arg)
{
    api_req *r = arg;
    char stored[512];
    char *f[9];
    bool replay;
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements < 2 ||
        strcmp(reply->element[0]->str, "new") != 0 || reply->element[1]->str[0] != 'P')
        api_untrack(r, api_script_ran(reply)); /* nothing of this request is pending */
    int nf = api_script_answer(r, reply, "swipe", stored, sizeof(stored), f, 9, 2, &replay);
    if (nf < 0)
        return;
    if (f[0][0] == 'P' && replay) {
        api_error(r, 503, "unavailable",
                  "this request is still waiting for the broker; retry with the same request_id");
        return;
    }
    if (replay || strcmp(f[1], "declined") == 0) {
        if (!replay && nf >= 3) {
            metrics_add(api_m_declined, 1);
            for (size_t i = 0; i < sizeof(api_reasons) / sizeof(api_reasons[0]); i++)
                if (strcmp(api_reasons[i], f[2]) == 0)
                    metrics_add(api_m_reasons[i], 1);
            api_decline_event(r, f[2]);
        }
        api_answer_swipe(r, f + 1, nf - 1);
        return;
    }
    /* a new approval: P approved swipe_id approval wallet balance fund person */
    if (nf < 8) {
        api_unavailable(r, "unreadable answer");
        return;
    }
    snprintf(r->wallet, sizeof(r->wallet), "%s", f[4]);
    r->balance = strtoll(f[5], NULL, 10);
    snprintf(r->fund, sizeof(r->fund), "%s", f[6]);
    snprintf(r->person, sizeof(r->person), "%s", f[7]);
    api_publish_swipe(r);
}

static void api_random_digits(char *out, int n)
{
    unsigned char b[16];
    if (getrandom(b, (size_t)n, 0) != n)
        memset(b, 7, sizeof(b));
    for (int i = 0; i < n; i++)
        out[i] = (char)('0' + b[i] % 10);
    out[n] = '\0';
}

static void api_local_date(api_req *r)
{
    calendar_cap_keys(r->now_ms, (int)api_cfg.tz_offset_min, r->day, r->year);
}

static void api_on_provider(void *arg, const dcache_provider *p, const char *err)
{
    api_req *r = arg;
    if (p == NULL) {
        api_unavailable(r, "provider directory unavailable");
        return;
    }
    if (!p->known)
        snprintf(r->provider_state, sizeof(r->provider_state), "not_designated");
    else if (p->suspended)
        snprintf(r->provider_state, sizeof(r->provider_state), "suspended");
    else if (!dcache_provider_designated(p, r->item_code))
        snprintf(r->provider_state, sizeof(r->provider_state), "not_designated");
    else
        snprintf(r->provider_state, sizeof(r->provider_state), "ok");

    if (!dcache_catalogue_loaded()) {
        /* just started: "item_unknown" would be a wrong, final answer */
        api_unavailable(r, "service catalogue not loaded yet");
        return;
    }
    const dcache_item *item = dcache_item_get(r->item_code);
    snprintf(r->item_info, sizeof(r->item_info), "%s", item ? item->info : "");
    sign_pin_proof(r->proof, api_cfg.pin_pepper, r->card_no, r->pin);
    event_new_id(r->event_id);
    api_random_digits(r->approval, 6);
    keys_swipe_id(r->swipe_id, sizeof(r->swipe_id), r->card_no);
    api_local_date(r);
    char ckey[KEYS_MAX], wkey[KEYS_MAX], hkey[KEYS_MAX], capkey[KEYS_MAX], amount[24], now[24];
    keys_card(ckey, sizeof(ckey), r->card_no);
    keys_wallet(wkey, sizeof(wkey), r->card_no);
    keys_holds(hkey, sizeof(hkey), r->card_no);
    keys_caps(capkey, sizeof(capkey), r->card_no);
    keys_idem(r->idem_key, sizeof(r->idem_key), r->card_no, r->auth.terminal_id, r->request_id);
    keys_swipe(r->swipe_key, sizeof(r->swipe_key), r->swipe_id);
    snprintf(amount, sizeof(amount), "%" PRId64, r->amount);
    snprintf(now, sizeof(now), "%" PRId64, r->now_ms);
    const char *keys[SWIPE_NKEYS] = {
        [SWIPE_K_CARD] = ckey,   [SWIPE_K_WALLET] = wkey,      [SWIPE_K_HOLDS] = hkey,
        [SWIPE_K_CAPS] = capkey, [SWIPE_K_IDEM] = r->idem_key, [SWIPE_K_SWIPE] = r->swipe_key};
    const char *args[SWIPE_NARGS] = {[SWIPE_A_FINGERPRINT] = r->fp,
                                     [SWIPE_A_PIN_PROOF] = r->proof,
                                     [SWIPE_A_ITEM_CODE] = r->item_code,
                                     [SWIPE_A_ITEM_INFO] = r->item_info,
                                     [SWIPE_A_PROVIDER_STATE] = r->provider_state,
                                     [SWIPE_A_AMOUNT] = amount,
                                     [SWIPE_A_DAY] = r->day,
                                     [SWIPE_A_YEAR] = r->year,
                                     [SWIPE_A_SWIPE_ID] = r->swipe_id,
                                     [SWIPE_A_TERMINAL] = r->auth.terminal_id,
                                     [SWIPE_A_PROVIDER] = r->provider_id,
                                     [SWIPE_A_NOW] = now,
                                     [SWIPE_A_CARD_NO] = r->card_no,
                                     [SWIPE_A_APPROVAL] = r->approval,
                                     [SWIPE_A_EVENT_ID] = r->event_id,
                                     [SWIPE_A_REQUEST_ID] = r->request_id,
                                     [SWIPE_A_GATEWAY_ID] = inflight_id()};
    api_track(r);
    if (scripts_call(api_redis, &scripts_swipe, keys, args, SWIPE_NARGS, api_on_swipe_script, r) <
        0)
        api_unavailable(r, "redis unavailable");
}

/* --------------------------------------------------------------- reversal */

static void api_on_reversal_acked(void *opaque, int err, const char *errstr, int32_t partition,
                                  int64_t offset)
{
    api_req *r = opaque;
    if (err == KAFKA_ERR_POSSIBLY_PERSISTED) {
        api_republish(r, errstr);
        api_unavailable(r, "the reversal is not confirmed yet; retry with the same request_id");
        return;
    }
    if (err) {
        const char *keys[ONSWIPE_NKEYS] = {
            [ONSWIPE_K_SWIPE] = r->swipe_key, [ONSWIPE_K_IDEM] = r->idem_key};
        const char *args[UNDO_NARGS] = {
            [UNDO_A_EVENT_ID] = r->event_id, [UNDO_A_GATEWAY_ID] = inflight_id()};
        api_undo(r, &scripts_unreverse, keys, args, UNDO_NARGS);
        api_unavailable(r, "the reversal could not be recorded; retry with the same request_id");
        return;
    }
    api_finalize(r);
    char body[256];
    snprintf(body, sizeof(body),
             "{\"swipe_id\":\"%s\",\"decision\":\"reversed\",\"balance_fen\":%" PRId64 "}",
             r->swipe_id, r->balance);
    api_finish(r, 200, NULL, body);
}

static void api_answer_refusal(api_req *r, const char *reason)
{
    api_error(r, 409, "conflict", reason);
}

static void api_on_reverse_script(redisReply *reply, const char *errstr, void *arg)
{
    api_req *r = arg;
    char stored[256];
    char *f[4];
    bool replay;
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements < 8)
        api_untrack(r, api_script_ran(reply)); /* not a new reversal: nothing is pending */
    if (api_script_answer(r, reply, "reverse", stored, sizeof(stored), f, 4, 3, &replay) < 0)
        return;
    if (strcmp(f[1], "conflict") == 0) {
        api_answer_refusal(r, f[2]);
        return;
    }
    if (f[0][0] == 'P' && replay) {
        api_error(r, 503, "unavailable",
                  "this reversal is still waiting for the broker; retry with the same request_id");
        return;
    }
    r->balance = strtoll(f[2], NULL, 10);
    if (replay || reply->elements < 8) {
        char body[256];
        snprintf(body, sizeof(body),
                 "{\"swipe_id\":\"%s\",\"decision\":\"reversed\",\"balance_fen\":%" PRId64 "}",
                 r->swipe_id, r->balance);
        api_finish(r, 200, NULL, body);
        return;
    }
    /* new: card wallet amount item fund provider */
    snprintf(r->card_for_event, sizeof(r->card_for_event), "%s", reply->element[2]->str);
    snprintf(r->wallet, sizeof(r->wallet), "%s", reply->element[3]->str);
    r->amount = strtoll(reply->element[4]->str, NULL, 10);
    snprintf(r->item, sizeof(r->item), "%s", reply->element[5]->str);
    snprintf(r->fund, sizeof(r->fund), "%s", reply->element[6]->str);
    char err[256];
    if (api_produce_reversal(r, api_on_reversal_acked, err, sizeof(err)) < 0)
        api_on_reversal_acked(r, -1, err, -1, -1);
}

static int api_produce_reversal(api_req *r, kafka_delivery_fn cb, char *err, size_t errlen)
{
    Onecard__V1__SwipeReversed ev = ONECARD__V1__SWIPE_REVERSED__INIT;
    ev.event_id = r->event_id;
    ev.swipe_id = r->swipe_id;
    ev.request_id = r->request_id;
    ev.terminal_id = r->auth.terminal_id;
    ev.provider_id = r->provider_id;
    ev.card_no = r->card_for_event;
    ev.item_code = r->item;
    ev.wallet = r->wallet;
    ev.fund_source = r->fund;
    ev.amount_fen = r->amount;
    ev.balance_after_fen = r->balance;
    ev.occurred_at_ms = r->now_ms;
    return kafka_produce(api_producer, &ev.base, NULL, r->card_for_event, strlen(r->card_for_event),
                         cb, r, err, errlen);
}

/* ----------------------------------------------------------------- rating */

static void api_on_rating_acked(void *opaque, int err, const char *errstr, int32_t partition,
                                int64_t offset)
{
    api_req *r = opaque;
    if (err == KAFKA_ERR_POSSIBLY_PERSISTED) {
        api_republish(r, errstr);
        api_unavailable(r, "the rating is not confirmed yet; retry with the same request_id");
        return;
    }
    if (err) {
        const char *keys[ONSWIPE_NKEYS] = {
            [ONSWIPE_K_SWIPE] = r->swipe_key, [ONSWIPE_K_IDEM] = r->idem_key};
        const char *args[UNDO_NARGS] = {
            [UNDO_A_EVENT_ID] = r->event_id, [UNDO_A_GATEWAY_ID] = inflight_id()};
        api_undo(r, &scripts_unrate, keys, args, UNDO_NARGS);
        api_unavailable(r, "the rating could not be recorded; retry with the same request_id");
        return;
    }
    api_finalize(r);
    char body[160];
    snprintf(body, sizeof(body), "{\"rating_id\":\"%s\",\"status\":\"accepted\"}", r->event_id);
    api_finish(r, 202, NULL, body);
}

static void api_on_rate_script(redisReply *reply, const char *errstr, void *arg)
{
    api_req *r = arg;
    char stored[256];
    char *f[4];
    bool replay;
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements < 5)
        api_untrack(r, api_script_ran(reply)); /* not a new rating: nothing is pending */
    int nf = api_script_answer(r, reply, "rate", stored, sizeof(stored), f, 4, 2, &replay);
    if (nf < 0)
        return;
    if (nf >= 3 && strcmp(f[1], "conflict") == 0) {
        api_answer_refusal(r, f[2]);
        return;
    }
    if (replay) {
        if (f[0][0] == 'P') {
            api_error(r, 503, "unavailable", "this rating is still waiting for the broker");
            return;
        }
        char body[160];
        snprintf(body, sizeof(body), "{\"status\":\"accepted\"}");
        api_finish(r, 202, NULL, body);
        return;
    }
    if (reply->elements < 5) {
        api_unavailable(r, "unreadable answer");
        return;
    }
    char err[256];
    snprintf(r->card_for_event, sizeof(r->card_for_event), "%s", reply->element[2]->str);
    snprintf(r->rated_provider, sizeof(r->rated_provider), "%s", reply->element[3]->str);
    if (api_produce_rating(r, api_on_rating_acked, err, sizeof(err)) < 0)
        api_on_rating_acked(r, -1, err, -1, -1);
}

static int api_produce_rating(api_req *r, kafka_delivery_fn cb, char *err, size_t errlen)
{
    char *tags[JSON_ARRAY_MAX];
    for (int i = 0; i < r->ntags; i++)
        tags[i] = r->tags[i];
    Onecard__V1__RatingSubmitted ev = ONECARD__V1__RATING_SUBMITTED__INIT;
    ev.event_id = r->event_id;
    ev.rating_id = r->event_id;
    ev.request_id = r->request_id;
    ev.swipe_id = r->swipe_id;
    ev.terminal_id = r->auth.terminal_id;
    ev.provider_id = r->rated_provider;
    ev.card_no = r->card_for_event;
    ev.score = (int32_t)r->score;
    ev.n_tags = (size_t)r->ntags;
    ev.tags = tags;
    ev.occurred_at_ms = r->now_ms;
    return kafka_produce(api_producer, &ev.base, NULL, r->rated_provider, strlen(r->rated_provider),
                         cb, r, err, errlen);
}

/* ---------------------------------------------------------------- balance */

static void api_on_balance_script(redisReply *reply, const char *errstr, void *arg)
{
    api_req *r = arg;
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements < 1) {
        api_unavailable(r, "redis unavailable");
        return;
    }
    char body[2048];
    if (strcmp(reply->element[0]->str, "declined") == 0 && reply->elements >= 2) {
        snprintf(body, sizeof(body),
                 "{\"card_no\":\"%s\",\"decision\":\"declined\",\"reason\":\"%s\"}", r->card_no,
                 reply->element[1]->str);
        api_finish(r, 200, NULL, body);
        return;
    }
    size_t n =
        (size_t)snprintf(body, sizeof(body), "{\"card_no\":\"%s\",\"wallets\":[", r->card_no);
    for (size_t i = 1; i + 1 < reply->elements && n < sizeof(body) - 128; i += 2) {
        char w[64];
        log_json_escape(w, sizeof(w), reply->element[i]->str);
        n +=
            (size_t)snprintf(body + n, sizeof(body) - n, "%s{\"wallet\":\"%s\",\"balance_fen\":%s}",
                             i > 1 ? "," : "", w, reply->element[i + 1]->str);
    }
    snprintf(body + n, sizeof(body) - n, "]}");
    api_finish(r, 200, NULL, body);
}

/* ================================================================ routing */

static bool api_request_id_ok(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
            return false;
    return true;
}

static bool api_digits(const char *s, size_t n)
{
    if (strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* Parses the body for the request's kind; answers 400 and returns -1 on
 * failure. */
static int api_parse_body(api_req *r)
{
    json_field f[5];
    memset(f, 0, sizeof(f));
    int nf = 0;
    char err[256];
    f[nf++] = (json_field){
        .name = "request_id", .type = JSON_STRING, .required = true, .min = 1, .max = 64};
    if (r->kind == API_SWIPE) {
        f[nf++] = (json_field){
            .name = "card_no", .type = JSON_STRING, .required = true, .min = 16, .max = 19};
        f[nf++] =
            (json_field){.name = "pin", .type = JSON_STRING, .required = true, .min = 6, .max = 6};
        f[nf++] = (json_field){
            .name = "item_code", .type = JSON_STRING, .required = true, .min = 1, .max = 64};
        f[nf++] = (json_field){.name = "amount_fen",
                               .type = JSON_INT,
                               .required = true,
                               .min = 1,
                               .max = MONEY_MAX_FEN};
    } else if (r->kind == API_RATING) {
        f[nf++] = (json_field){
            .name = "swipe_id", .type = JSON_STRING, .required = true, .min = 1, .max = 64};
        f[nf++] =
            (json_field){.name = "score", .type = JSON_INT, .required = true, .min = 1, .max = 5};
        f[nf++] = (json_field){
            .name = "tags", .type = JSON_STRING_ARRAY, .required = false, .min = 1, .max = 32};
    } else if (r->kind == API_BALANCE) {
        f[nf++] = (json_field){
            .name = "card_no", .type = JSON_STRING, .required = true, .min = 16, .max = 19};
        f[nf++] =
            (json_field){.name = "pin", .type = JSON_STRING, .required = true, .min = 6, .max = 6};
    }
    if (json_parse_object(r->body, r->bodylen, f, nf, err, sizeof(err)) < 0) {
        api_error(r, 400, "invalid_request", err);
        return -1;
    }
    snprintf(r->request_id, sizeof(r->request_id), "%s", f[0].str);
    if (!api_request_id_ok(r->request_id)) {
        api_error(r, 400, "invalid_request",
                  "field \"request_id\" must be printable ASCII without spaces");
        return -1;
    }
    if (r->kind == API_SWIPE || r->kind == API_BALANCE) {
        snprintf(r->card_no, sizeof(r->card_no), "%s", f[1].str);
        snprintf(r->pin, sizeof(r->pin), "%s", f[2].str);
        if (!card_no_valid(r->card_no)) {
            api_error(r, 400, "invalid_request",
                      "field \"card_no\" must be 16-19 digits with a valid Luhn check digit");
            return -1;
        }
        if (!api_digits(r->pin, 6)) {
            api_error(r, 400, "invalid_request", "field \"pin\" must be 6 digits");
            return -1;
        }
    }
    if (r->kind == API_SWIPE) {
        snprintf(r->item_code, sizeof(r->item_code), "%s", f[3].str);
        r->amount = f[4].num;
    }
    if (r->kind == API_RATING) {
        snprintf(r->swipe_id, sizeof(r->swipe_id), "%s", f[1].str);
        r->score = f[2].num;
        r->ntags = f[3].narr;
        for (int i = 0; i < r->ntags; i++)
            snprintf(r->tags[i], sizeof(r->tags[i]), "%s", f[3].arr[i]);
    }
    return 0;
}

static void api_after_auth(api_req *r)
{
    if (api_parse_body(r) < 0)
        return;
    /* the fingerprint: same request_id + another body (or path) = 409 */
    char fpsrc[256 + HTTP_MAX_BODY + 2];
    int n = snprintf(fpsrc, sizeof(fpsrc), "%s\n", r->path);
    memcpy(fpsrc + n, r->body, r->bodylen);
    sign_sha256_hex(r->fp, fpsrc, (size_t)n + r->bodylen);
    event_new_id(r->event_id);
    if (r->kind == API_SWIPE) {
        if (!kafka_producer_ready(api_producer)) {
            api_unavailable(r, "broker unavailable");
            return;
        }
        dcache_provider_get(r->provider_id, api_on_provider, r);
        return;
    }
    char now[24];
    snprintf(now, sizeof(now), "%" PRId64, r->now_ms);
    if (r->kind == API_BALANCE) {
        char ckey[KEYS_MAX], wkey[KEYS_MAX];
        keys_card(ckey, sizeof(ckey), r->card_no);
        keys_wallet(wkey, sizeof(wkey), r->card_no);
        sign_pin_proof(r->proof, api_cfg.pin_pepper, r->card_no, r->pin);
        const char *keys[BALANCE_NKEYS] = {[BALANCE_K_CARD] = ckey, [BALANCE_K_WALLET] = wkey};
        const char *args[BALANCE_NARGS] = {[BALANCE_A_PIN_PROOF] = r->proof};
        if (scripts_call(api_redis, &scripts_balance, keys, args, BALANCE_NARGS,
                         api_on_balance_script, r) < 0)
            api_unavailable(r, "redis unavailable");
        return;
    }
    /* reversal and rating: the swipe id carries the card's tag */
    if (keys_swipe(r->swipe_key, sizeof(r->swipe_key), r->swipe_id) < 0) {
        api_answer_refusal(r, "swipe_unknown");
        return;
    }
    if (!kafka_producer_ready(api_producer)) {
        api_unavailable(r, "broker unavailable");
        return;
    }
    if (r->kind == API_REVERSAL)
        keys_reversal_idem(r->idem_key, sizeof(r->idem_key), r->swipe_id, r->auth.terminal_id,
                           r->request_id);
    else
        keys_rating_idem(r->idem_key, sizeof(r->idem_key), r->swipe_id, r->auth.terminal_id,
                         r->request_id);
    char score[8];
    snprintf(score, sizeof(score), "%" PRId64, r->score);
    const char *keys[ONSWIPE_NKEYS] = {
        [ONSWIPE_K_SWIPE] = r->swipe_key, [ONSWIPE_K_IDEM] = r->idem_key};
    /* REVERSE_ARGS are RATE_ARGS' first ones; a rating adds its score and tags */
    const char *args[RATE_NARGS - 1 + JSON_ARRAY_MAX] = {[RATE_A_FINGERPRINT] = r->fp,
                                                         [RATE_A_TERMINAL] = r->auth.terminal_id,
                                                         [RATE_A_NOW] = now,
                                                         [RATE_A_EVENT_ID] = r->event_id,
                                                         [RATE_A_GATEWAY_ID] = inflight_id(),
                                                         [RATE_A_REQUEST_ID] = r->request_id,
                                                         [RATE_A_SCORE] = score};
    int nargs = REVERSE_NARGS;
    if (r->kind == API_RATING) {
        nargs = RATE_A_TAGS;
        for (int i = 0; i < r->ntags; i++)
            args[nargs++] = r->tags[i];
    }
    api_track(r);
    if (scripts_call(api_redis, r->kind == API_REVERSAL ? &scripts_reverse : &scripts_rate, keys,
                     args, nargs,
                     r->kind == API_REVERSAL ? api_on_reverse_script : api_on_rate_script, r) < 0)
        api_unavailable(r, "redis unavailable");
}

/* Matches the path; returns the kind or -1 (404). */
static int api_route(const char *path, char *swipe_id, size_t cap)
{
    if (strcmp(path, "/v1/swipes") == 0)
        return API_SWIPE;
    if (strcmp(path, "/v1/ratings") == 0)
        return API_RATING;
    if (strcmp(path, "/v1/balance-inquiries") == 0)
        return API_BALANCE;
    static const char pre[] = "/v1/swipes/", suf[] = "/reversal";
    size_t n = strlen(path), pl = sizeof(pre) - 1, sl = sizeof(suf) - 1;
    if (n > pl + sl && strncmp(path, pre, pl) == 0 && strcmp(path + n - sl, suf) == 0) {
        size_t idlen = n - pl - sl;
        if (idlen >= cap || memchr(path + pl, '/', idlen))
            return -1;
        memcpy(swipe_id, path + pl, idlen);
        swipe_id[idlen] = '\0';
        return API_REVERSAL;
    }
    return -1;
}

void api_handle(http_conn *c, http_request *req, void *arg)
{
    api_req *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        http_respond_error(c, 503, "unavailable", "out of memory");
        return;
    }
    api_inflight++;
    r->conn = c;
    clock_gettime(CLOCK_MONOTONIC, &r->t0);
    r->now_ms = event_now_ms();
    snprintf(r->method, sizeof(r->method), "%s", req->method);
    snprintf(r->path, sizeof(r->path), "%s", req->path);
    r->body = req->body;
    r->bodylen = req->content_length;
    int kind = api_route(req->path, r->swipe_id, sizeof(r->swipe_id));
    if (kind < 0) {
        api_error(r, 404, "not_found", "unknown path");
        return;
    }
    r->kind = (enum api_kind)kind;
    if (strcmp(req->method, "POST") != 0) {
        api_error(r, 405, "method_not_allowed", "use POST");
        return;
    }
    size_t ctlen;
    const char *ct = http_header_get(req, "content-type", &ctlen);
    if (ct == NULL || ctlen < 16 || strncasecmp(ct, "application/json", 16) != 0 ||
        (ctlen > 16 && ct[16] != ';' && ct[16] != ' ')) {
        api_error(r, 415, "unsupported_media_type", "header Content-Type must be application/json");
        return;
    }
    char err[256];
    if (auth_parse_headers(req, r->now_ms / 1000, &r->auth, err, sizeof(err)) < 0) {
        api_error(r, 401, "unauthenticated", err);
        return;
    }
    dcache_terminal_get(r->auth.terminal_id, api_on_terminal, r);
}

/* ================================================================ set-up */

int api_setup(struct event_base *base, redis_client *redis, kafka_producer *producer,
              const api_config *cfg)
{
    api_redis = redis;
    api_producer = producer;
    api_cfg = *cfg;
    api_decline_ms = event_now_ms();
    api_m_approved =
        metrics_counter("onecard_swipes_total", "Swipes answered.", "decision=\"approved\"");
    api_m_declined =
        metrics_counter("onecard_swipes_total", "Swipes answered.", "decision=\"declined\"");
    for (size_t i = 0; i < sizeof(api_reasons) / sizeof(api_reasons[0]); i++) {
        char l[64];
        snprintf(l, sizeof(l), "reason=\"%s\"", api_reasons[i]);
        api_m_reasons[i] = metrics_counter("onecard_declines_total", "Declines by reason.", l);
    }
    for (size_t i = 0; i < sizeof(api_m_codes) / sizeof(api_m_codes[0]); i++) {
        char l[32];
        snprintf(l, sizeof(l), "code=\"%d\"", api_m_codes[i].code);
        api_m_codes[i].m =
            metrics_counter("onecard_http_requests_total", "Terminal requests by status.", l);
    }
    api_m_latency =
        metrics_histogram("onecard_http_request_duration_seconds", "Terminal request latency.",
                          NULL, metrics_latency_bounds, metrics_latency_nbounds);
    api_m_unavailable = metrics_counter("onecard_gateway_unavailable_total",
                                        "Requests answered 503 (a dependency was down).", NULL);
    api_m_decline_dropped =
        metrics_counter("onecard_declines_unpublished_total",
                        "Declines not published (over the rate limit or queue full).", NULL);
    api_m_republished = metrics_counter(
        "onecard_gateway_republished_total",
        "Events produced again after a possibly-persisted delivery report, then acknowledged.",
        NULL);
    return dcache_setup(base, redis, 1000);
}

int api_in_flight(void)
{
    return api_inflight + api_republishing;
}

void api_cleanup(void)
{
    dcache_cleanup();
}
