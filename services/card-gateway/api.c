/*
 * api: the walk of a request up to its endpoint. See api.h; the Lua
 * scripts under lua/ hold the rules that touch a card.
 */
#include "api.h"

#include "auth.h"
#include "balance.h"
#include "dcache.h"
#include "decline.h"
#include "ending.h"
#include "rating.h"
#include "reply.h"
#include "republish.h"
#include "request.h"
#include "reversal.h"
#include "swipe.h"

#include "common/event.h"
#include "common/keys.h"
#include "common/sign.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static redis_client *api_redis;
static kafka_producer *api_producer;
static api_config api_cfg;

/* ============================================================= the steps */

/* Matches the path; returns the kind or -1 (404). */
static int api_route(const char *path, char *swipe_id, size_t cap);

/* Authenticated: the path (404), the method (405), the media type (415),
 * the body (400), its fingerprint and the event id; then the endpoint. The
 * contract puts authentication first: an unsigned request learns nothing
 * about paths or methods (only the HTTP layer's answers about the bytes
 * themselves, 413, 414, 501 and a malformed request, come before it). */
static void api_after_auth(request *r)
{
    int kind = api_route(r->path, r->swipe_id, sizeof(r->swipe_id));
    if (kind < 0) {
        reply_error(r, 404, "not_found", "path: no such endpoint (see docs/terminal-api.md)");
        return;
    }
    r->kind = (request_kind)kind;
    if (strcmp(r->method, "POST") != 0) {
        reply_error_with(r, 405, "method_not_allowed", "Allow: POST\r\n",
                         "method: this endpoint takes POST");
        return;
    }
    if (!r->json_body) {
        reply_error(r, 415, "unsupported_media_type",
                    "header Content-Type must be application/json");
        return;
    }
    char err[256];
    if (request_parse(r, err, sizeof(err)) < 0) {
        reply_error(r, 400, "invalid_request", err);
        return;
    }
    /* the fingerprint: same request_id + another body (or path) = 409 */
    char fpsrc[256 + HTTP_MAX_BODY + 2];
    int n = snprintf(fpsrc, sizeof(fpsrc), "%s\n", r->path);
    memcpy(fpsrc + n, r->body, r->bodylen);
    sign_sha256_hex(r->fp, fpsrc, (size_t)n + r->bodylen);
    event_new_id(r->event_id);
    if (r->kind == REQUEST_BALANCE) {
        balance_start(r);
        return;
    }
    /* reversal and rating: the swipe id carries the card's tag */
    if (r->kind != REQUEST_SWIPE &&
        keys_swipe(r->swipe_key, sizeof(r->swipe_key), r->swipe_id) < 0) {
        reply_refusal(r, "swipe_unknown");
        return;
    }
    if (!kafka_producer_ready(api_producer)) {
        reply_unavailable(r, "broker unavailable");
        return;
    }
    if (r->kind == REQUEST_SWIPE)
        swipe_start(r);
    else if (r->kind == REQUEST_REVERSAL)
        reversal_start(r);
    else
        rating_start(r);
}

static void api_on_nonce(redisReply *reply, const char *errstr, void *arg)
{
    request *r = arg;
    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        reply_unavailable(r, "redis unavailable");
        return;
    }
    if (reply->type == REDIS_REPLY_NIL) {
        reply_error(r, 401, "unauthenticated", "header X-Nonce was already used (replay)");
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
    request *r = arg;
    if (t == NULL) {
        reply_unavailable(r, "terminal directory unavailable");
        return;
    }
    if (!t->known || !t->active) {
        reply_error(r, 401, "unauthenticated",
                    t->known ? "terminal is disabled" : "header X-Terminal-Id: unknown terminal");
        return;
    }
    if (!auth_verify(&r->auth, t->secret, r->method, r->path, r->body, r->bodylen)) {
        reply_error(r, 401, "unauthenticated", "header X-Signature does not match the request");
        return;
    }
    if (!api_take_token(t, r->now_ms)) {
        reply_error(r, 429, "rate_limited", "terminal over its request budget; retry later");
        return;
    }
    snprintf(r->provider_id, sizeof(r->provider_id), "%s", t->provider);
    char key[KEYS_MAX];
    int klen = keys_nonce(key, sizeof(key), r->auth.terminal_id, r->auth.nonce);
    const char *argv[] = {"SET", key, "1", "NX", "EX", "600"};
    size_t argvlen[] = {3, (size_t)klen, 1, 2, 2, 3};
    if (klen < 0 || redis_command(api_redis, 6, argv, argvlen, api_on_nonce, r) < 0)
        reply_unavailable(r, "redis unavailable");
}

/* ================================================================ routing */

/* Matches the path; returns the kind or -1 (404). */
static int api_route(const char *path, char *swipe_id, size_t cap)
{
    if (strcmp(path, "/v1/swipes") == 0)
        return REQUEST_SWIPE;
    if (strcmp(path, "/v1/ratings") == 0)
        return REQUEST_RATING;
    if (strcmp(path, "/v1/balance-inquiries") == 0)
        return REQUEST_BALANCE;
    static const char pre[] = "/v1/swipes/", suf[] = "/reversal";
    size_t n = strlen(path), pl = sizeof(pre) - 1, sl = sizeof(suf) - 1;
    if (n > pl + sl && strncmp(path, pre, pl) == 0 && strcmp(path + n - sl, suf) == 0) {
        size_t idlen = n - pl - sl;
        if (idlen >= cap || memchr(path + pl, '/', idlen))
            return -1;
        memcpy(swipe_id, path + pl, idlen);
        swipe_id[idlen] = '\0';
        return REQUEST_REVERSAL;
    }
    return -1;
}

void api_handle(http_conn *c, http_request *req, void *arg)
{
    request *r = request_new(c);
    if (r == NULL) {
        http_respond_error(c, 503, "unavailable", "out of memory");
        return;
    }
    snprintf(r->method, sizeof(r->method), "%s", req->method);
    snprintf(r->path, sizeof(r->path), "%s", req->path);
    r->body = req->body;
    r->bodylen = req->content_length;
    size_t ctlen;
    const char *ct = http_header_get(req, "content-type", &ctlen);
    r->json_body = ct != NULL && ctlen >= 16 && strncasecmp(ct, "application/json", 16) == 0 &&
                   (ctlen == 16 || ct[16] == ';' || ct[16] == ' ');
    char err[256];
    if (auth_parse_headers(req, r->now_ms / 1000, &r->auth, err, sizeof(err)) < 0) {
        reply_error(r, 401, "unauthenticated", err);
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
    /* the metrics are registered (and so listed on /metrics) in this order */
    swipe_setup(redis, producer, api_cfg.pin_pepper, api_cfg.tz_offset_min);
    reply_setup();
    decline_setup(producer, api_cfg.declines_per_s);
    republish_setup();
    reversal_setup(redis, producer);
    rating_setup(redis, producer);
    balance_setup(redis, api_cfg.pin_pepper);
    ending_setup(redis);
    return dcache_setup(base, redis, 1000);
}

int api_in_flight(void)
{
    return request_open() + republish_count();
}

void api_cleanup(void)
{
    dcache_cleanup();
}
