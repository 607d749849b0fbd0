/*
 * ident: national ids, person ids and card numbers. See ident.h.
 */
#include "ident.h"

#include "common/sign.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const int ident_weights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
static const char ident_checks[] = "10X98765432";

int ident_national_id_check(const char *id, char *err, size_t errlen)
{
    size_t n = strlen(id);
    if (n != 18) {
        snprintf(err, errlen, "national id must have 18 characters, not %zu", n);
        return -1;
    }
    int sum = 0;
    for (int i = 0; i < 17; i++) {
        if (!isdigit((unsigned char)id[i])) {
            snprintf(err, errlen, "national id character %d is not a digit", i + 1);
            return -1;
        }
        sum += (id[i] - '0') * ident_weights[i];
    }
    char want = ident_checks[sum % 11];
    char got = (char)toupper((unsigned char)id[17]);
    if (got != want) {
        snprintf(err, errlen, "national id check character is %c, expected %c (bad checksum)", got,
                 want);
        return -1;
    }
    int y = (id[6] - '0') * 1000 + (id[7] - '0') * 100 + (id[8] - '0') * 10 + (id[9] - '0');
    int m = (id[10] - '0') * 10 + (id[11] - '0');
    int d = (id[12] - '0') * 10 + (id[13] - '0');
    if (y < 1900 || y > 2100 || m < 1 || m > 12 || d < 1 || d > 31) {
        snprintf(err, errlen, "national id holds no valid birth date");
        return -1;
    }
    return 0;
}

void ident_person_id(char *out, const char *salt, const char *id)
{
    char buf[160];
    int n = snprintf(buf, sizeof(buf), "%s:%s", salt, id);
    if (n < 0 || (size_t)n >= sizeof(buf))
        n = (int)sizeof(buf) - 1;
    for (int i = n - 1; i >= 0 && buf[i] != ':'; i--)
        buf[i] = (char)toupper((unsigned char)buf[i]);
    sign_sha256_hex(out, buf, (size_t)n);
}
