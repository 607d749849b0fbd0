/*
 * keys: the Redis key layout. See keys.h for the map of keys.
 */
#include "common/keys.h"

#include "common/event.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

static int keys_fmt(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int keys_fmt(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= len) {
        if (len > 0)
            buf[0] = '\0';
        return -1;
    }
    return n;
}

void keys_card_tag(char *tag, const char *card_no)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)card_no; *p; p++) {
        h ^= *p;
        h *= 16777619u;
    }
    snprintf(tag, KEYS_TAG_LEN + 1, "%08x", h);
}

/* "<prefix>:{c:<tag>}:<card_no>" */
static int keys_card_key(char *buf, size_t len, const char *prefix, const char *card_no)
{
    char tag[KEYS_TAG_LEN + 1];
    keys_card_tag(tag, card_no);
    return keys_fmt(buf, len, "%s:{c:%s}:%s", prefix, tag, card_no);
}

int keys_card(char *buf, size_t len, const char *card_no)
{
    return keys_card_key(buf, len, "card", card_no);
}

int keys_wallet(char *buf, size_t len, const char *card_no)
{
    return keys_card_key(buf, len, "wallet", card_no);
}

int keys_holds(char *buf, size_t len, const char *card_no)
{
    return keys_card_key(buf, len, "holds", card_no);
}

int keys_caps(char *buf, size_t len, const char *card_no)
{
    return keys_card_key(buf, len, "caps", card_no);
}

int keys_idem(char *buf, size_t len, const char *card_no, const char *terminal_id,
              const char *request_id)
{
    char tag[KEYS_TAG_LEN + 1];
    keys_card_tag(tag, card_no);
    return keys_fmt(buf, len, "idem:{c:%s}:%s:%s:%s", tag, card_no, terminal_id, request_id);
}

int keys_topup(char *buf, size_t len, const char *card_no, const char *topup_id)
{
    char tag[KEYS_TAG_LEN + 1];
    keys_card_tag(tag, card_no);
    return keys_fmt(buf, len, "topup:{c:%s}:%s:%s", tag, card_no, topup_id);
}

int keys_ends(char *buf, size_t len, const char *card_no)
{
    char tag[KEYS_TAG_LEN + 1];
    keys_card_tag(tag, card_no);
    return keys_fmt(buf, len, "ends:{c:%s}:%s", tag, card_no);
}

int keys_return(char *buf, size_t len, const char *card_no, const char *return_id)
{
    char tag[KEYS_TAG_LEN + 1];
    keys_card_tag(tag, card_no);
    return keys_fmt(buf, len, "return:{c:%s}:%s:%s", tag, card_no, return_id);
}

int keys_swipe(char *buf, size_t len, const char *swipe_id)
{
    for (int i = 0; i < KEYS_TAG_LEN; i++) {
        char ch = swipe_id[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) {
            if (len > 0)
                buf[0] = '\0';
            return -1;
        }
    }
    if (swipe_id[KEYS_TAG_LEN] != '-') {
        if (len > 0)
            buf[0] = '\0';
        return -1;
    }
    return keys_fmt(buf, len, "swipe:{c:%.*s}:%s", KEYS_TAG_LEN, swipe_id, swipe_id);
}

void keys_swipe_id(char *out, size_t len, const char *card_no)
{
    char tag[KEYS_TAG_LEN + 1];
    unsigned char r[10];
    keys_card_tag(tag, card_no);
    event_random(r, sizeof(r));
    snprintf(out, len, "%s-%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x", tag, r[0], r[1], r[2], r[3],
             r[4], r[5], r[6], r[7], r[8], r[9]);
}

int keys_nonce(char *buf, size_t len, const char *terminal_id, const char *nonce)
{
    return keys_fmt(buf, len, "nonce:{t:%s}:%s", terminal_id, nonce);
}

int keys_terminal(char *buf, size_t len, const char *terminal_id)
{
    return keys_fmt(buf, len, "term:{t:%s}", terminal_id);
}

int keys_provider(char *buf, size_t len, const char *provider_id)
{
    return keys_fmt(buf, len, "prov:{p:%s}", provider_id);
}

/* "idem:{c:<tag>}:<op>:<terminal>:<request>", the tag from the swipe id. */
static int keys_swipe_op_idem(char *buf, size_t len, const char *op, const char *swipe_id,
                              const char *terminal_id, const char *request_id)
{
    char skey[KEYS_MAX];
    if (keys_swipe(skey, sizeof(skey), swipe_id) < 0) {
        if (len > 0)
            buf[0] = '\0';
        return -1;
    }
    return keys_fmt(buf, len, "idem:{c:%.*s}:%s:%s:%s", KEYS_TAG_LEN, swipe_id, op, terminal_id,
                    request_id);
}

int keys_reversal_idem(char *buf, size_t len, const char *swipe_id, const char *terminal_id,
                       const char *request_id)
{
    return keys_swipe_op_idem(buf, len, "rv", swipe_id, terminal_id, request_id);
}

int keys_rating_idem(char *buf, size_t len, const char *swipe_id, const char *terminal_id,
                     const char *request_id)
{
    return keys_swipe_op_idem(buf, len, "rt", swipe_id, terminal_id, request_id);
}

int keys_gateways(char *buf, size_t len)
{
    return keys_fmt(buf, len, "gw:{gw}:alive");
}

int keys_inflight(char *buf, size_t len, const char *gateway_id)
{
    return keys_fmt(buf, len, "gw:{gw}:inflight:%s", gateway_id);
}

/* CRC16-CCITT (XModem), as Redis Cluster uses. */
static uint16_t keys_crc16(const char *s, size_t len)
{
    uint16_t crc = 0;
    for (size_t i = 0; i < len; i++) {
        crc ^= (uint16_t)((unsigned char)s[i] << 8);
        for (int b = 0; b < 8; b++)
            crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
    }
    return crc;
}

unsigned keys_slot(const char *key, size_t len)
{
    size_t s, e;
    for (s = 0; s < len; s++)
        if (key[s] == '{')
            break;
    if (s < len) {
        for (e = s + 1; e < len; e++)
            if (key[e] == '}')
                break;
        if (e < len && e != s + 1)
            return keys_crc16(key + s + 1, e - s - 1) & 16383;
    }
    return keys_crc16(key, len) & 16383;
}
