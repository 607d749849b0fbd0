/*
 * keys: the Redis key layout. See keys.h for the map of keys.
 */
#include "common/keys.h"

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

int keys_card(char *buf, size_t len, const char *card_no)
{
    return keys_fmt(buf, len, "card:{c:%s}", card_no);
}

int keys_pin(char *buf, size_t len, const char *card_no)
{
    return keys_fmt(buf, len, "pin:{c:%s}", card_no);
}

int keys_wallet(char *buf, size_t len, const char *card_no)
{
    return keys_fmt(buf, len, "wallet:{c:%s}", card_no);
}

int keys_holds(char *buf, size_t len, const char *card_no)
{
    return keys_fmt(buf, len, "holds:{c:%s}", card_no);
}

int keys_caps(char *buf, size_t len, const char *card_no)
{
    return keys_fmt(buf, len, "caps:{c:%s}", card_no);
}

int keys_idem(char *buf, size_t len, const char *card_no, const char *terminal_id,
              const char *request_id)
{
    return keys_fmt(buf, len, "idem:{c:%s}:%s:%s", card_no, terminal_id, request_id);
}

int keys_swipe(char *buf, size_t len, const char *card_no, const char *swipe_id)
{
    return keys_fmt(buf, len, "swipe:{c:%s}:%s", card_no, swipe_id);
}

int keys_topup(char *buf, size_t len, const char *card_no, const char *topup_id)
{
    return keys_fmt(buf, len, "topup:{c:%s}:%s", card_no, topup_id);
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
