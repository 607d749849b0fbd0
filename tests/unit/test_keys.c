/*
 * Unit tests of keys: the layout every service shares, and the Redis Cluster
 * slot rule (known values from the Redis cluster specification).
 */
#include "check.h"
#include "common/keys.h"

#include <string.h>

int main(void)
{
    char k[KEYS_MAX];
    static const struct {
        int (*fn)(char *, size_t, const char *);
        const char *arg, *want;
    } layout[] = {
        {keys_card, "6222000000000001234", "card:{c:6222000000000001234}"},
        {keys_pin, "6222000000000001234", "pin:{c:6222000000000001234}"},
        {keys_wallet, "6222000000000001234", "wallet:{c:6222000000000001234}"},
        {keys_holds, "6222000000000001234", "holds:{c:6222000000000001234}"},
        {keys_caps, "6222000000000001234", "caps:{c:6222000000000001234}"},
        {keys_terminal, "T0001", "term:{t:T0001}"},
        {keys_provider, "P01", "prov:{p:P01}"},
    };
    for (size_t i = 0; i < sizeof(layout) / sizeof(layout[0]); i++) {
        int n = layout[i].fn(k, sizeof(k), layout[i].arg);
        CHECK(n == (int)strlen(layout[i].want) && strcmp(k, layout[i].want) == 0, "row %zu: got %s",
              i, k);
    }
    CHECK(keys_idem(k, sizeof(k), "6222", "T1", "R1") > 0 && strcmp(k, "idem:{c:6222}:T1:R1") == 0,
          "idem %s", k);
    CHECK(keys_nonce(k, sizeof(k), "T1", "abc") > 0 && strcmp(k, "nonce:{t:T1}:abc") == 0,
          "nonce %s", k);
    char small[8];
    CHECK(keys_card(small, sizeof(small), "6222000000000001234") == -1 && small[0] == '\0',
          "overflow is refused, not truncated");

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
    CHECK(keys_slot(a, (size_t)la) == keys_slot(b, (size_t)lb), "card keys share a slot");
    return CHECK_DONE();
}
