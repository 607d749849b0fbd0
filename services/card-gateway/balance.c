/*
 * balance: balance inquiries. See balance.h; the rules are balance.lua's.
 */
#include "balance.h"

#include "reasons.h"
#include "reply.h"
#include "scripts.h"

#include "common/log.h"

#include <stdio.h>
#include <string.h>

static redis_client *balance_redis;
static const char *balance_pin_pepper;

void balance_setup(redis_client *redis, const char *pin_pepper)
{
    balance_redis = redis;
    balance_pin_pepper = pin_pepper;
}

static void balance_on_script(redisReply *reply, const char *errstr, void *arg)
{
    request *r = arg;
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements < 1) {
        reply_unavailable(r, "redis unavailable");
        return;
    }
    char body[2048];
    if (strcmp(reply->element[0]->str, "declined") == 0 && reply->elements >= 2) {
        const reasons_row *why = reasons_find(reply->element[1]->str);
        snprintf(body, sizeof(body),
                 "{\"card_no\":\"%s\",\"decision\":\"declined\",\"reason\":\"%s\","
                 "\"display_zh\":\"%s\"}",
                 r->card_no, reply->element[1]->str, why ? why->display_zh : "");
        reply_finish(r, 200, NULL, body);
        return;
    }
    size_t n = (size_t)snprintf(body, sizeof(body),
                                "{\"card_no\":\"%s\",\"decision\":\"approved\","
                                "\"wallets\":[",
                                r->card_no);
    /* wallet, balance, lapses ("YYYY-MM-DD:fen,...") per wallet */
    for (size_t i = 1; i + 2 < reply->elements && n < sizeof(body) - 256; i += 3) {
        char w[64];
        log_json_escape(w, sizeof(w), reply->element[i]->str);
        n += (size_t)snprintf(body + n, sizeof(body) - n,
                              "%s{\"wallet\":\"%s\",\"balance_fen\":%s,\"lapses\":[",
                              i > 1 ? "," : "", w, reply->element[i + 1]->str);
        const char *p = reply->element[i + 2]->str ? reply->element[i + 2]->str : "";
        for (int k = 0; *p && n < sizeof(body) - 128; k++) {
            const char *end = strchr(p, ',');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            long long fen = 0;
            char day[11];
            if (len > 11 && len < 40 && p[10] == ':' && sscanf(p + 11, "%lld", &fen) == 1) {
                memcpy(day, p, 10);
                day[10] = '\0';
                n += (size_t)snprintf(body + n, sizeof(body) - n,
                                      "%s{\"on\":\"%s\",\"amount_fen\":%lld}", k ? "," : "", day,
                                      fen);
            }
            p = end ? end + 1 : p + len;
        }
        n += (size_t)snprintf(body + n, sizeof(body) - n, "]}");
    }
    if (n < sizeof(body))
        snprintf(body + n, sizeof(body) - n, "]}");
    reply_finish(r, 200, NULL, body);
}

void balance_start(request *r)
{
    char ckey[KEYS_MAX], wkey[KEYS_MAX], ekey[KEYS_MAX];
    keys_card(ckey, sizeof(ckey), r->card_no);
    keys_wallet(wkey, sizeof(wkey), r->card_no);
    keys_ends(ekey, sizeof(ekey), r->card_no);
    sign_pin_proof(r->proof, balance_pin_pepper, r->card_no, r->pin);
    const char *keys[BALANCE_NKEYS] = {
        [BALANCE_K_CARD] = ckey, [BALANCE_K_WALLET] = wkey, [BALANCE_K_ENDS] = ekey};
    const char *args[BALANCE_NARGS] = {[BALANCE_A_PIN_PROOF] = r->proof};
    if (scripts_call(balance_redis, &scripts_balance, keys, args, BALANCE_NARGS, balance_on_script,
                     r) < 0)
        reply_unavailable(r, "redis unavailable");
}
