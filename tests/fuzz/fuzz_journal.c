/*
 * fuzz_journal: the ledger's reading of the events it applies, chosen by
 * the first byte of the input, the rest a protobuf payload as the consumer
 * reads it from the broker:
 *
 *   0  SwipeAuthorized   (onecard.swipes.v1)
 *   1  SwipeReversed     (onecard.swipes.v1)
 *   2  TopupIssued       (onecard.topups.v1: a top-up, or a payment when
 *                        its payee is "person")
 *   3  BalanceCarryOver  (onecard.topups.v1)
 *
 * Promises checked when an event is accepted: an entry has 2 to
 * JOURNAL_LINES_MAX lines, none of them zero, that sum to zero, each on a
 * named account, and its amount is in range; a top-up or a payment is a
 * pair of lines per fund share (the fund debited, then the wallet or the
 * payee credited, both naming the fund) and then only its budget pair: a
 * payment credits the person's payee account and no wallet, a top-up a
 * wallet and no payee account; a carry-over names two
 * different cards. A refusal always leaves a NUL-terminated reason.
 */
#include "fuzz.h"
#include "journal.h"
#include "swipe.pb-c.h"
#include "topup.pb-c.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 8192)
        return 0;
    static const ProtobufCMessageDescriptor *const descs[] = {
        &onecard__v1__swipe_authorized__descriptor, &onecard__v1__swipe_reversed__descriptor,
        &onecard__v1__topup_issued__descriptor, &onecard__v1__balance_carry_over__descriptor,
        &onecard__v1__credit_returned__descriptor};
    const ProtobufCMessageDescriptor *d = descs[data[0] % 5];
    ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, size - 1, data + 1);
    if (m == NULL)
        return 0;
    char err[256];
    memset(err, 'x', sizeof(err));
    if (d == &onecard__v1__balance_carry_over__descriptor) {
        journal_move mv;
        if (journal_move_from_event(m, &mv, err, sizeof(err)) == 0)
            FUZZ_REQUIRE(strcmp(mv.from_card_no, mv.to_card_no) != 0 && mv.event_id[0] != '\0');
        else
            FUZZ_REQUIRE(memchr(err, '\0', sizeof(err)) != NULL);
    } else {
        journal_entry e;
        if (journal_from_event(event_type_by_desc(d), m, &e, err, sizeof(err)) == 0) {
            FUZZ_REQUIRE(e.nlines >= 2 && e.nlines <= JOURNAL_LINES_MAX);
            FUZZ_REQUIRE(e.amount_fen > 0 && e.amount_fen <= JOURNAL_MAX_FEN);
            int64_t sum = 0;
            for (int l = 0; l < e.nlines; l++) {
                FUZZ_REQUIRE(e.lines[l].amount_fen != 0 && e.lines[l].account.name[0] != '\0');
                sum += e.lines[l].amount_fen;
            }
            FUZZ_REQUIRE(sum == 0);
            if (e.kind == JOURNAL_TOPUP || e.kind == JOURNAL_PAYMENT) {
                /* a pair per fund share: fund:<f>:<year> debited, the wallet
                 * (or payee) credited, both lines naming f; then only the
                 * budget pair */
                const char *want = e.kind == JOURNAL_PAYMENT ? "payee" : "wallet";
                int pairs = e.nshares > 0 ? e.nshares : 1;
                FUZZ_REQUIRE(e.nlines == 2 * pairs || e.nlines == 2 * pairs + 2);
                for (int l = 0; l < e.nlines; l++) {
                    const char *k = e.lines[l].account.kind;
                    if (l < 2 * pairs)
                        FUZZ_REQUIRE(strcmp(k, l % 2 ? want : "fund") == 0 &&
                                     strcmp(e.lines[l].fund, e.lines[l - l % 2].fund) == 0 &&
                                     e.lines[l].fund[0] != '\0');
                    else
                        FUZZ_REQUIRE(strcmp(k, "wallet") != 0 && strcmp(k, "payee") != 0);
                }
            }
        } else {
            FUZZ_REQUIRE(memchr(err, '\0', sizeof(err)) != NULL);
        }
    }
    protobuf_c_message_free_unpacked(m, NULL);
    return 0;
}
