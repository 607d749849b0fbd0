/*
 * carryover: replacing a lost or damaged card, and carrying its balances
 * over to the new one.
 *
 * A replacement is one audited transaction: the old card becomes
 * 'replaced', a new card is issued to the same person (one card in use per
 * person still holds), top-ups issued to the old card and not yet
 * published go to the new one, and an elig_card_carryovers row records the
 * carry-over to make. Then, at once, Redis: the old card declines
 * (card_lost), the new card and its entitlements are written, and the old
 * card's daily and annual cap usage is copied, so a replacement never
 * resets a cap. Then the events (CardStatusChanged, CardChanged).
 *
 * The money moves last. A swipe the old card made just before may still be
 * on its way to the ledger (its hold is in Redis); the BalanceCarryOver is
 * published once the old card's holds are empty, so the new card never
 * spends money an earlier swipe is about to claim. The command waits for
 * that up to --wait seconds; what it could not send, the eligibility
 * daemon sends (carryover_send_pending, every few seconds), at the latest
 * CARRYOVER_FORCE_S after the replacement even if a hold never clears
 * (the ledger then makes good any swipe posted later from the new card).
 * The event is keyed by the old card on onecard.topups.v1, after every
 * top-up issued to it; the ledger moves what the journal holds, to the
 * fen, once (see services/ledger/store.c).
 */
#ifndef ELIG_CARRYOVER_H
#define ELIG_CARRYOVER_H

#include "registry.h"

#define CARRYOVER_FORCE_S 600

/* card replace OLD_CARD --reason lost|damaged|other [--pin PIN]
 * [--wait S] --actor A, its arguments checked by the command (cards.c).
 * Prints the new card and its PIN, and whether the carry-over was sent.
 * Returns the exit code (0, 1 refused, 3 failed). */
int carryover_replace(registry *r, const char *old_card, const char *reason, const char *pin,
                      int wait_s, const char *actor);

/* Publishes the carry-overs not yet acknowledged (only old_card's when not
 * NULL) whose old card has no hold left, or that are older than
 * CARRYOVER_FORCE_S, and marks them sent, one sender at a time per row
 * (quiet: the daemon, which skips a row a command is sending and logs
 * instead of printing). Returns how many were sent, or -1 when PostgreSQL,
 * Redis or the broker failed. */
int carryover_send_pending(registry *r, const char *old_card, bool quiet);

#endif
