/*
 * card: see card.h.
 */
#include "common/card.h"

#include <string.h>

/* The Luhn sum of digits; with_check: the last digit is the check digit
 * (doubling starts at the second from the right), else it is to come. */
static int card_luhn_sum(const char *digits, size_t n, bool with_check)
{
    int sum = 0;
    for (size_t i = 0; i < n; i++) {
        int d = digits[n - 1 - i] - '0';
        if (with_check ? (i % 2 == 1) : (i % 2 == 0)) {
            d *= 2;
            if (d > 9)
                d -= 9;
        }
        sum += d;
    }
    return sum;
}

bool card_no_valid(const char *s)
{
    size_t n = strlen(s);
    if (n < CARD_MIN_LEN || n > CARD_MAX_LEN)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return card_luhn_sum(s, n, true) % 10 == 0;
}

char card_check_digit(const char *digits)
{
    return (char)('0' + (10 - card_luhn_sum(digits, strlen(digits), false) % 10) % 10);
}

char *card_mask(char *out, size_t len, const char *card_no)
{
    if (len == 0)
        return out;
    size_t n = strlen(card_no), head = 6, tail = 4;
    if (n < 11) {
        head = 0;
        tail = n > 2 ? 2 : 0;
    }
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < len; i++)
        out[o++] = (i < head || i >= n - tail) ? card_no[i] : '*';
    out[o] = '\0';
    return out;
}

bool card_person_id_valid(const char *s)
{
    return s != NULL && strlen(s) == CARD_PERSON_ID_LEN &&
           strspn(s, "0123456789abcdef") == CARD_PERSON_ID_LEN;
}
