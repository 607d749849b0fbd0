/*
 * journal: what one event means in double entry, as plain data.
 *
 * Pure functions (no I/O), so every rule of the chart of accounts is
 * unit-tested from a table: a swipe debits the card's wallet and credits the
 * provider's payable, a reversal does the opposite, a top-up debits the fund
 * (and the programme's budget) and credits the wallet, a payment (a
 * TopupIssued with payee "person") debits them the same way and credits
 * the person's payee account instead of a wallet, an allocation puts
 * money into a fund or a budget, a transfer moves a replaced card's wallet
 * to the card that replaced it (debit the one, credit the other). The
 * account names and the sign convention are the ones of
 * deploy/sql/0002_ledger.sql (and 0017_ledger_payments.sql). The same code
 * rebuilds the lines of an entry read back from PostgreSQL, so the relay
 * publishes the same posting whether it comes from memory or from the
 * outbox.
 */
#ifndef LEDGER_JOURNAL_H
#define LEDGER_JOURNAL_H

#include "common/event.h"
#include "common/money.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JOURNAL_NAME_MAX  160
#define JOURNAL_LINES_MAX 4
#define JOURNAL_MAX_FEN   MONEY_MAX_FEN /* beyond it, a bad event */

typedef enum journal_kind {
    JOURNAL_SWIPE = 0,
    JOURNAL_REVERSAL,
    JOURNAL_TOPUP,
    JOURNAL_ALLOCATION,
    JOURNAL_TRANSFER,
    JOURNAL_PAYMENT, /* paid into a person's own bank account: no wallet */
} journal_kind;

#define JOURNAL_KINDS 6

typedef struct journal_account {
    const char *kind; /* wallet, payable, fund, budget, obligated, appropriation, authority,
                         payee */
    char name[JOURNAL_NAME_MAX];
    const char *card_no, *wallet, *provider_id, *fund_source, *programme, *person_id;
    int year; /* 0 when none */
} journal_account;

typedef struct journal_line {
    journal_account account;
    int64_t amount_fen; /* debit > 0, credit < 0 */
} journal_line;

/* One entry. The strings point into the event (or the row) it came from and
 * live as long as it does. */
typedef struct journal_entry {
    journal_kind kind;
    const char *event_id, *card_no, *wallet, *provider_id, *terminal_id, *item_code;
    const char *fund_source, *programme, *period, *swipe_id, *request_id, *person_id;
    const char *to_card_no; /* a transfer's destination; card_no is its source */
    int64_t amount_fen, occurred_at_ms;
    int year; /* of the top-up's period or the allocation */
    int nlines;
    journal_line lines[JOURNAL_LINES_MAX];
} journal_entry;

/* A card replaced: the move the ledger records from a BalanceCarryOver.
 * The strings point into the event. */
typedef struct journal_move {
    const char *event_id, *from_card_no, *to_card_no, *person_id;
    int64_t occurred_at_ms;
} journal_move;

/* "swipe", "reversal", "topup", "allocation", "transfer", "payment"; and
 * back (-1 when unknown). */
const char *journal_kind_name(journal_kind k);
int journal_kind_parse(const char *s);

/* Fills e from a decoded SwipeAuthorized, SwipeReversed or TopupIssued and
 * derives its lines. A TopupIssued is a top-up (payee "" or "card") or a
 * payment (payee "person", person_id required). Returns 0, or -1 with the
 * reason the event cannot be applied (a missing field, a bad amount,
 * period or payee, a type the ledger does not take). */
int journal_from_event(const event_type *type, const ProtobufCMessage *msg, journal_entry *e,
                       char *err, size_t errlen) __attribute__((warn_unused_result));

/* Fills m from a decoded BalanceCarryOver. 0, or -1 with what is wrong
 * (a missing or malformed card number, the same card on both sides). */
int journal_move_from_event(const ProtobufCMessage *msg, journal_move *m, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Derives e->lines from e's kind and fields (what journal_from_event does
 * after reading the event; also used for entries read back from the
 * database). For an allocation, exactly one of fund_source (with year) and
 * programme (with year) is set. Returns 0 or -1 with err. */
int journal_derive_lines(journal_entry *e, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* The posting event id of an entry: a UUID-shaped SHA-256 of the source
 * event id, so a re-published posting carries the same id. out: 37 bytes. */
void journal_posting_id(char *out, const char *source_event_id);

/* Parses "YYYY-MM" into the year; -1 when malformed. */
int journal_period_year(const char *period);

#endif
