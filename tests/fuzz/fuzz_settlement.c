/*
 * fuzz_settlement: every parser of outside input in the settlement
 * service, chosen by the first byte of the input:
 *
 *   0  period_parse: the --period argument of close, release and report
 *   1  catalogue_parse: a catalogue value read from Redis
 *   2  close_bank_account_ok: the bank-account command's argument
 *   3  posting_from_msg: a LedgerPosting payload from onecard.postings.v1
 *      (protobuf-decoded first, as the consumer does), every kind
 *      including payment
 *   4  persons_account_args_ok: person-account's PERSON and ACCOUNT (the
 *      input split at its first space)
 *
 * Promises checked when a parse succeeds: a period formats back to the
 * same text and its bounds are one day or one month long; catalogue
 * amounts are non-negative; a bank account is 6..34 safe characters; a
 * posting's amount is positive and its payable has the sign of its kind,
 * its fund shares (1..4, positive) sum to it; a
 * payment names a person (64 lowercase hex), no provider and no wallet; a
 * person id accepted is 64 lowercase hex. A failure always leaves a
 * NUL-terminated message.
 */
#include "common/card.h"
#include "catalogue.h"
#include "close.h"
#include "fuzz.h"
#include "period.h"
#include "persons.h"
#include "posting.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    char s[4097];
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    char err[256];
    memset(err, 'x', sizeof(err));
    switch (data[0] % 5) {
    case 0: {
        period p;
        if (period_parse(s, &p, err, sizeof(err)) == 0) {
            char out[PERIOD_LEN];
            period_format(&p, out);
            FUZZ_REQUIRE(strcmp(out, s) == 0);
            int64_t a, b;
            period_bounds_ms(&p, 480, &a, &b);
            FUZZ_REQUIRE(p.grain == PERIOD_DAY
                             ? b - a == 86400000
                             : b - a >= 28LL * 86400000 && b - a <= 31LL * 86400000);
        } else {
            FUZZ_REQUIRE(memchr(err, '\0', sizeof(err)) != NULL);
        }
        break;
    }
    case 1: {
        directory_value it;
        if (directory_item_parse(s, &it, err, sizeof(err)) == 0)
            FUZZ_REQUIRE(it.standard_fen >= 0 && it.daily_cap_fen >= 0 && it.annual_cap_fen >= 0 &&
                         it.wallet[0] != '\0');
        else
            FUZZ_REQUIRE(memchr(err, '\0', sizeof(err)) != NULL);
        break;
    }
    case 2:
        if (close_bank_account_ok(s, err, sizeof(err)) == 0)
            FUZZ_REQUIRE(strlen(s) >= 6 && strlen(s) <= 34 && strpbrk(s, " ,\"\n") == NULL);
        else
            FUZZ_REQUIRE(memchr(err, '\0', sizeof(err)) != NULL);
        break;
    case 3: {
        Onecard__V1__LedgerPosting *m =
            onecard__v1__ledger_posting__unpack(NULL, size - 1, data + 1);
        if (m == NULL)
            break;
        posting p;
        if (posting_from_msg(m, &p, err, sizeof(err)) == 0) {
            FUZZ_REQUIRE(p.amount_fen > 0);
            FUZZ_REQUIRE(p.kind == POSTING_TOPUP || p.kind == POSTING_PAYMENT
                             ? p.payable_fen == 0
                             : (p.kind == POSTING_SWIPE) == (p.payable_fen > 0));
            FUZZ_REQUIRE((p.kind == POSTING_PAYMENT) == (p.person_id != NULL));
            if (p.kind == POSTING_PAYMENT)
                FUZZ_REQUIRE(card_person_id_valid(p.person_id) && p.provider_id == NULL &&
                             p.wallet[0] == '\0' && p.fund_source[0] != '\0');
            FUZZ_REQUIRE(p.payable_fen == 0 || p.payable_fen == p.amount_fen ||
                         p.payable_fen == -p.amount_fen);
            /* its fund shares: 1..4, each positive, summing to the amount */
            int64_t sum = 0;
            FUZZ_REQUIRE(p.nshares >= 1 && p.nshares <= POSTING_SHARES_MAX);
            for (int k = 0; k < p.nshares; k++) {
                FUZZ_REQUIRE(p.shares[k].fen > 0 && p.shares[k].fund != NULL);
                sum += p.shares[k].fen;
            }
            FUZZ_REQUIRE(sum == p.amount_fen);
        } else {
            FUZZ_REQUIRE(memchr(err, '\0', sizeof(err)) != NULL);
        }
        onecard__v1__ledger_posting__free_unpacked(m, NULL);
        break;
    }
    case 4: {
        char *acct = strchr(s, ' ');
        if (acct != NULL)
            *acct++ = '\0';
        if (persons_account_args_ok(s, acct, err, sizeof(err)) == 0)
            FUZZ_REQUIRE(strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64 && acct &&
                         strlen(acct) >= 6 && strlen(acct) <= 34);
        else
            FUZZ_REQUIRE(memchr(err, '\0', sizeof(err)) != NULL);
        break;
    }
    }
    return 0;
}
