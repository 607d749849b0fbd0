/*
 * lapse: credit taken back off cards to the funds it came from (issue 15,
 * item 3). Two operator commands of onecard-ledger:
 *
 *   lapse --as-of YYYY-MM-DD [--format text|json]
 *       every wallet's unspent credit whose benefit period ended on or
 *       before the day (a top-up's credit_ends) returns to its funds; the
 *       day must be over (before today, local calendar);
 *   return-credit --card N --reason death|moved --as-of YYYY-MM-DD
 *                 [--format text|json]
 *       everything the card's wallets hold returns (a death or a move out,
 *       from the eligibility feed's effective date).
 *
 * What lapses (FIFO: spending draws the oldest credit first, so what a
 * wallet still holds is its newest credit): keep = the credit of the
 * wallet's top-ups whose period has not ended (credit_ends after the day,
 * or none); the journal's unspent of ended credit is max(0, balance -
 * keep). Next month's top-up, arrived already, is kept.
 *
 * Redis holds the spendable balance in real time and the journal lags it
 * (swipes approved, not yet journalled), so the amount is decided in Redis:
 * return.lua takes min(cap, balance - keep) off the wallet, never below
 * keep nor zero, atomically, and remembers what it took under the return
 * id (keys_return; "<reason>-<sha>" of card, wallet and day). Only then is
 * a CreditReturned with the amount actually taken produced (topic
 * onecard.topups.v1, keyed by card: ordered with the card's top-ups), and
 * the command waits for every acknowledgement. A run killed between the
 * two steps is finished by the re-run: the marker answers the same amount
 * and the same event id is produced again; the ledger applies an event id
 * once and journals wallet -> fund:<level>:<year> per share (journal.h).
 * A second run changes nothing: the markers answer, and the journal's cap
 * is 0 once the returns are journalled.
 *
 * Progress on stderr (every 10,000 wallets), a summary on stdout (cards,
 * wallets, fen per fund level, by the shares of each wallet's funds in the
 * journal). Exit 0; 1 when some event was not acknowledged (run it again);
 * 2 on bad usage or an unreachable store.
 */
#ifndef LEDGER_LAPSE_H
#define LEDGER_LAPSE_H

#include "commands.h"
#include "journal.h"

#include <stdint.h>

/* The fen a return takes: min(cap, balance - keep), at least 0; cap < 0 is
 * none. The rule return.lua applies, for the unit tests. */
int64_t lapse_take(int64_t balance, int64_t keep, int64_t cap);

/* The shares of take over a wallet's unspent per fund (nf funds, names
 * and weights: the fen each holds unspent of ended credit): pro rata, to
 * the fen (shares_split_weights: exact when take is their sum), funds of
 * no weight left out, at most JOURNAL_SHARES_MAX (the largest). The number
 * of shares written into out, 0 when no fund holds any (the ledger then
 * splits it over the wallet's funds), -1 with err. */
#define LAPSE_FUNDS 8
int lapse_split(int nf, const char (*fund)[JOURNAL_FUND_MAX], const int64_t *weight, int64_t take,
                journal_share *out, char *err, size_t errlen);

/* The return id of (reason, card, wallet, day) into out (80 bytes). */
void lapse_return_id(char *out, size_t len, const char *reason, const char *card_no,
                     const char *wallet, const char *day);

int lapse_cmd(int argc, char **argv, ledger_config *cfg);
int lapse_return_cmd(int argc, char **argv, ledger_config *cfg);

#endif
