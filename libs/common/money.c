/*
 * money: the amount's one parser. See money.h.
 */
#include "common/money.h"

#include <string.h>

#include <stddef.h>

bool money_parse_fen(const char *s, int64_t *out)
{
    if (s == NULL || *s == '\0')
        return false;
    int64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (*p - '0');
        if (v > MONEY_MAX_FEN) /* checked every digit: never overflows */
            return false;
    }
    *out = v;
    return true;
}

bool money_account_field_ok(const char *s, size_t max)
{
    if (s == NULL || *s == '\0' || strlen(s) > max)
        return false;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == ':' || *p == '|' || *p == 0x7f)
            return false;
    return true;
}
