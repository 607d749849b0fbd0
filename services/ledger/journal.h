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
 * deploy/sql/0002_ledger.sql (and 0017_ledger_payments.sql).
 *
 * Fund shares (0021_fund_shares.sql): an entry moves money of one or more
 * funds (its shares, summing to its amount), and every line that moves a
 * wallet's, a payable's or a payee's money names its fund, one line per
 * share: a top-up of three shares debits fund:<level>:<year> three times
 * and credits the wallet three times, each line naming its level; a swipe
 * debits the wallet and credits the payable once per share. A top-up's
 * shares come with its event (none: one share of fund_source); a swipe's,
 * a reversal's and a transfer's are decided by the store from the wallet's
 * balances per fund (journal_set_shares) and kept on the entry's row, so
 * the lines can be derived again from it. A return (CreditReturned: credit
 * that lapsed, or the rest of a wallet after a death, a move, an
 * overpayment recovered) is a top-up backwards: per share it debits the
 * wallet and credits fund:<level>:<year of its period>; its shares are
 * the event's, or (none given) split over the wallet's balance per fund as
 * a swipe's are. The same code
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

#define JOURNAL_NAME_MAX   160
#define JOURNAL_SHARES_MAX 4 /* SHARES_LEVELS: central, provincial, municipal, district */
/* per share a pair of lines, plus a top-up's budget and obligation */
#define JOURNAL_LINES_MAX (2 * JOURNAL_SHARES_MAX + 2)
#define JOURNAL_FUND_MAX  72 /* a fund's name, as in fund:<name>:<year> (64 bytes) */
/* "name:fen" per share, comma-separated */
#define JOURNAL_SHARES_TEXT_MAX (JOURNAL_SHARES_MAX * (JOURNAL_FUND_MAX + 24))
#define JOURNAL_MAX_FEN         MONEY_MAX_FEN /* beyond it, a bad event */

typedef enum journal_kind {
    JOURNAL_SWIPE = 0,
    JOURNAL_REVERSAL,
    JOURNAL_TOPUP,
    JOURNAL_ALLOCATION,
    JOURNAL_TRANSFER,
    JOURNAL_PAYMENT, /* paid into a person's own bank account: no wallet */
    JOURNAL_RETURN,  /* credit taken back off a wallet to its funds (CreditReturned) */
} journal_kind;

#define JOURNAL_KINDS 7

typedef struct journal_account {
    const char *kind; /* wallet, payable, fund, budget, obligated, appropriation, authority,
                         payee */
    char name[JOURNAL_NAME_MAX];
    const char *card_no, *wallet, *provider_id, *fund_source, *programme, *person_id;
    int year; /* 0 when none */
} journal_account;

typedef struct journal_line {
    journal_account account;
    int64_t amount_fen;          /* debit > 0, credit < 0 */
    char fund[JOURNAL_FUND_MAX]; /* the fund whose money the line moves; "" none */
} journal_line;

/* One fund's part of an entry. A transfer's may be negative (a fund of a
 * replaced card overdrawn while another holds money); every other entry's
 * are positive. */
typedef struct journal_share {
    char fund[JOURNAL_FUND_MAX];
    int64_t amount_fen;
} journal_share;

/* One entry. The strings point into the event (or the row) it came from and
 * live as long as it does. */
typedef struct journal_entry {
    journal_kind kind;
    const char *event_id, *card_no, *wallet, *provider_id, *terminal_id, *item_code;
    const char *fund_source, *programme, *period, *swipe_id, *request_id, *person_id;
    const char *to_card_no;  /* a transfer's destination; card_no is its source */
    const char *credit_ends; /* a top-up's last day of spending (YYYY-MM-DD); NULL never */
    const char *reason;      /* a return's: lapse, death, moved, recovery */
    int64_t amount_fen, occurred_at_ms;
    int year; /* of the top-up's period or the allocation */
    /* the entry's fund shares, summing to amount_fen; 0: one share of
     * fund_source ("" when it has none) */
    int nshares;
    journal_share shares[JOURNAL_SHARES_MAX];
    int nlines;
    journal_line lines[JOURNAL_LINES_MAX];
} journal_entry;

/* A card replaced: the move the ledger records from a BalanceCarryOver.
 * The strings point into the event. */
typedef struct journal_move {
    const char *event_id, *from_card_no, *to_card_no, *person_id;
    int64_t occurred_at_ms;
} journal_move;

/* "swipe", "reversal", "topup", "allocation", "transfer", "payment", "return"; and
 * back (-1 when unknown). */
const char *journal_kind_name(journal_kind k);
int journal_kind_parse(const char *s);

/* Fills e from a decoded SwipeAuthorized, SwipeReversed or TopupIssued and
 * derives its lines. A TopupIssued is a top-up (payee "" or "card") or a
 * payment (payee "person", person_id required); its shares, when it has
 * any, must be valid (journal_set_shares) and sum to its amount. A swipe or
 * a reversal is one share of its fund_source until the store splits it. Returns 0, or -1 with the
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

/* Sets e's shares (n of them, funds and fen) and derives its lines again.
 * The shares must name distinct funds that are valid account fields without
 * ',' (or "" for money of no named fund, never on a fund account), and sum
 * to e->amount_fen; only a transfer's may be negative, none is zero. 0, or
 * -1 with err (e's lines unchanged then). */
int journal_set_shares(journal_entry *e, const journal_share *s, int n, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Writes e's shares as "fund:fen,fund:fen" into out (JOURNAL_SHARES_TEXT_MAX
 * bytes are enough); "" when it has none. Returns out. */
char *journal_shares_format(const journal_entry *e, char *out, size_t len);

/* Reads shares written by journal_shares_format into e (not its lines:
 * journal_derive_lines follows). NULL or "" is none. 0, or -1 with err. */
int journal_shares_parse(journal_entry *e, const char *text, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* The posting event id of an entry: a UUID-shaped SHA-256 of the source
 * event id, so a re-published posting carries the same id. out: 37 bytes. */
void journal_posting_id(char *out, const char *source_event_id);

/* Whether s is a return's reason: lapse, death, moved, recovery. */
bool journal_reason_ok(const char *s);

/* Whether s is a date YYYY-MM-DD (digits in place, month 01..12, day
 * 01..31). */
bool journal_date_ok(const char *s);

/* Parses "YYYY-MM" into the year; -1 when malformed. */
int journal_period_year(const char *period);

#endif
