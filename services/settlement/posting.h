/*
 * posting: what one ledger posting means to settlement, as plain data.
 *
 * Pure functions, unit-tested from a table. A LedgerPosting of kind swipe
 * or reversal carries the provider's line, payable:<provider> (see
 * services/ledger/journal.c): a swipe credits it (the federation owes the
 * provider the amount), a reversal debits it. A top-up credits the card's
 * wallet line, wallet:<card>:<wallet>, from a fund: that is what the
 * utilisation report counts as credited. A payment (paid into a person's
 * own bank account, no wallet) credits payee:<person> from
 * fund:<fund_source>:<year>, with the same budget lines as a top-up when a
 * programme is set: the person and the amount are the payee line's. The
 * amount settlement uses is the one on those lines, so a statement or a
 * person payout is built from exactly what the ledger journaled. Anything
 * else (another kind, a missing or inconsistent line) is refused with the
 * reason.
 *
 * Fund shares (0021_fund_shares.sql): a posting whose lines name their fund
 * moves money of one or more funds, a pair of lines per fund (payable and
 * wallet for a swipe or reversal, wallet or payee and fund:<f>:<year> for a
 * top-up or payment), each pair balancing; its shares are the amount per
 * fund, summing to the amount. A posting whose lines name no fund (written
 * before) is one share of its fund_source.
 */
#ifndef SETTLEMENT_POSTING_H
#define SETTLEMENT_POSTING_H

#include "common/card.h"
#include "ledger.pb-c.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum posting_kind {
    POSTING_SWIPE = 0,
    POSTING_REVERSAL,
    POSTING_TOPUP,
    POSTING_PAYMENT,
    POSTING_KINDS /* how many */
} posting_kind;

/* A person id as the registry writes it (elig_persons): 64 lowercase hex
 * digits. */
#define POSTING_PERSON_ID_LEN CARD_PERSON_ID_LEN /* common/card.h */

#define POSTING_WALLET_MAX 32

#define POSTING_SHARES_MAX 4

/* One fund's part of a posting's amount (> 0). */
typedef struct posting_share {
    const char *fund; /* points into the message */
    int64_t fen;
} posting_share;

typedef struct posting {
    posting_kind kind;
    /* point into the message; live as long as it does */
    const char *event_id, *provider_id, *card_no, *item_code, *fund_source;
    const char *person_id;               /* a payment's, from its payee line; else NULL */
    char wallet[POSTING_WALLET_MAX + 1]; /* from the wallet line ("" for a payment) */
    int64_t amount_fen;                  /* > 0 */
    int64_t payable_fen;                 /* + swipe, - reversal, 0 top-up and payment */
    int64_t occurred_at_ms;
    int nshares; /* 1..POSTING_SHARES_MAX, summing to amount_fen */
    posting_share shares[POSTING_SHARES_MAX];
} posting;

/* "swipe", "reversal", "topup", "payment". */
const char *posting_kind_name(posting_kind k);

/* Fills p from a decoded posting. 0, or -1 with the reason it cannot be
 * settled. */
int posting_from_msg(const Onecard__V1__LedgerPosting *m, posting *p, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
