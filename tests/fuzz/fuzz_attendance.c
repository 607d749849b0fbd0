/*
 * fuzz_attendance: a provider's attendance report (the 在训 check,
 * services/eligibility/attrules.h) on any bytes: attrules_report_parse on
 * the whole input, with room for 8 rows so that the limit is reached.
 *
 * Promises checked beyond "no crash, no undefined behaviour, no leak":
 * a report is either refused with a message naming a line (or the missing
 * header or rows) or parsed into 1..8 rows; every row parsed has a valid
 * card number, a provider id of 1-64 of A-Z a-z 0-9 _ -, an item code of
 * 2-31 characters starting with a capital, a day within the year before
 * the fuzzer's today and not after it, and a line after the header's; no
 * message holds a whole card number.
 */
#include "attrules.h"
#include "fuzz.h"

#include "common/card.h"

#include <ctype.h>
#include <string.h>

#define FUZZ_TODAY 20793 /* 2026-12-06 */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    attrules_row rows[8];
    char err[256] = "";
    int n = attrules_report_parse((const char *)data, size, FUZZ_TODAY, rows, 8, err, sizeof(err));
    if (n < 0) {
        FUZZ_REQUIRE(err[0] != '\0');
        FUZZ_REQUIRE(strncmp(err, "line ", 5) == 0 || strncmp(err, "no ", 3) == 0);
        /* no run of 16 digits in a message: never a whole card number */
        int digits = 0;
        for (const char *s = err; *s; s++) {
            digits = isdigit((unsigned char)*s) ? digits + 1 : 0;
            FUZZ_REQUIRE(digits < 16);
        }
        return 0;
    }
    FUZZ_REQUIRE(n >= 1 && n <= 8);
    for (int i = 0; i < n; i++) {
        const attrules_row *r = &rows[i];
        FUZZ_REQUIRE(card_no_valid(r->card_no));
        size_t pl = strlen(r->provider_id), cl = strlen(r->item_code);
        FUZZ_REQUIRE(pl >= 1 && pl <= 64);
        for (size_t k = 0; k < pl; k++)
            FUZZ_REQUIRE(isalnum((unsigned char)r->provider_id[k]) || r->provider_id[k] == '_' ||
                         r->provider_id[k] == '-');
        FUZZ_REQUIRE(cl >= 2 && cl <= 31 && isupper((unsigned char)r->item_code[0]));
        FUZZ_REQUIRE(r->day <= FUZZ_TODAY && r->day >= FUZZ_TODAY - 366);
        FUZZ_REQUIRE(r->line >= 2 && (i == 0 || r->line > rows[i - 1].line));
    }
    return 0;
}
