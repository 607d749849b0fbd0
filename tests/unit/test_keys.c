/*
 * Unit tests of keys: the layout every service shares, and the Redis Cluster
 * slot rule (known values from the Redis cluster specification).
 */
#include "check.h"
#include "common/keys.h"

#include <stdio.h>
#include <string.h>

int main(void)
{
    char k[KEYS_MAX], tag[KEYS_TAG_LEN + 1];
    keys_card_tag(tag, "6222000000000001234");
    CHECK(strlen(tag) == 8, "tag %s", tag);
    char want[KEYS_MAX];
    static const struct {
        int (*fn)(char *, size_t, const char *);
        const char *prefix;
    } layout[] = {
        {keys_card, "card"},
        {keys_wallet, "wallet"},
        {keys_holds, "holds"},
        {keys_caps, "caps"},
    };
    for (size_t i = 0; i < sizeof(layout) / sizeof(layout[0]); i++) {
        snprintf(want, sizeof(want), "%s:{c:%s}:6222000000000001234", layout[i].prefix, tag);
        int n = layout[i].fn(k, sizeof(k), "6222000000000001234");
        CHECK(n == (int)strlen(want) && strcmp(k, want) == 0, "row %zu: got %s", i, k);
    }
    CHECK(keys_terminal(k, sizeof(k), "T0001") > 0 && strcmp(k, "term:{t:T0001}") == 0, "%s", k);
    CHECK(keys_provider(k, sizeof(k), "P01") > 0 && strcmp(k, "prov:{p:P01}") == 0, "%s", k);
    CHECK(keys_nonce(k, sizeof(k), "T1", "abc") > 0 && strcmp(k, "nonce:{t:T1}:abc") == 0,
          "nonce %s", k);
    char small[8];
    CHECK(keys_card(small, sizeof(small), "6222000000000001234") == -1 && small[0] == '\0',
          "overflow is refused, not truncated");

    /* swipe ids carry the card's tag: the swipe key shares the card's slot */
    char sid[64], sk[KEYS_MAX], wk[KEYS_MAX];
    keys_swipe_id(sid, sizeof(sid), "6222000000000001234");
    CHECK(strlen(sid) == 29 && strncmp(sid, tag, 8) == 0 && sid[8] == '-', "swipe id %s", sid);
    int ls = keys_swipe(sk, sizeof(sk), sid);
    int lw = keys_wallet(wk, sizeof(wk), "6222000000000001234");
    CHECK(ls > 0 && keys_slot(sk, (size_t)ls) == keys_slot(wk, (size_t)lw), "same slot");
    static const char *const bad_ids[] = {"", "short", "XXXXXXXX-1", "0123456z-1", "01234567_1"};
    for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++)
        CHECK(keys_swipe(sk, sizeof(sk), bad_ids[i]) == -1, "bad swipe id %s", bad_ids[i]);

    static const struct {
        const char *key;
        unsigned slot;
    } slots[] = {
        {"foo", 12182},
        {"123456789", 12739},
        {"{user1000}.following", 3443},
        {"{user1000}.followers", 3443},
        {"foo{}{bar}", 8363}, /* an empty tag hashes the whole key */
    };
    for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
        unsigned s = keys_slot(slots[i].key, strlen(slots[i].key));
        CHECK(s == slots[i].slot, "slot of %s: got %u want %u", slots[i].key, s, slots[i].slot);
    }
    /* every key of one card lands in one slot */
    char a[KEYS_MAX], b[KEYS_MAX];
    int la = keys_wallet(a, sizeof(a), "6222000000000001234");
    int lb = keys_idem(b, sizeof(b), "6222000000000001234", "T9", "req-1");
    CHECK(la > 0 && lb > 0, "keys built");
    CHECK(keys_slot(a, (size_t)la) == keys_slot(b, (size_t)lb), "card keys share a slot");
    /* a reversal's and a rating's answer: in the slot of the card the swipe
     * id names, the same key whoever builds it (gateway, ledger's relay) */
    char rv[KEYS_MAX], rt[KEYS_MAX];
    int lrv = keys_reversal_idem(rv, sizeof(rv), sid, "T9", "req-1");
    int lrt = keys_rating_idem(rt, sizeof(rt), sid, "T9", "req-1");
    CHECK(lrv > 0 && lrt > 0, "reversal and rating answer keys built");
    CHECK(strcmp(rv, rt) != 0, "a reversal and a rating with one request id do not collide");
    CHECK(keys_slot(rv, (size_t)lrv) == keys_slot(a, (size_t)la),
          "reversal answer in the card's slot");
    CHECK(keys_slot(rt, (size_t)lrt) == keys_slot(a, (size_t)la),
          "rating answer in the card's slot");
    CHECK(keys_reversal_idem(rv, sizeof(rv), "not-a-swipe", "T9", "r") == -1 && rv[0] == '\0',
          "a swipe id without a tag has no answer key");
    char g[KEYS_MAX], f[KEYS_MAX];
    int lg = keys_gateways(g, sizeof(g)), lf = keys_inflight(f, sizeof(f), "abc");
    CHECK(lg > 0 && lf > 0 && keys_slot(g, (size_t)lg) == keys_slot(f, (size_t)lf),
          "heartbeats and in-flight sets share one slot");
    return CHECK_DONE();
}
