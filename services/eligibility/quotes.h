/*
 * quotes: one-off items by quote (kind quote: cataract surgery, hearing
 * aids, barrier-free renovation).
 *
 *   quote submit PERSON_ID --item I --provider P --amount FEN --reference R --actor A
 *   quote approve QUOTE_ID --actor A
 *   quote reject QUOTE_ID --reason R --actor A
 *   quote list [--person P] [--state submitted|approved|rejected]
 *
 * A designated provider submits its price for a person (its reference, a
 * quote number, once per provider); the federation approves it (the
 * applications issue's review may take this step over) or rejects it with
 * a reason. Both steps check the person's entitlement today and the
 * item's annual cap against the quotes already approved this year.
 * Approval makes the amount a one-time top-up of the item on the person's
 * card (TopupIssued "qt-<id>"), and binds the card's item to the provider
 * (card field q:<item>): the credit is spent there only, in one or several
 * swipes. A decision is made once.
 *
 * The handler of commands.h's table: 0, 1 refused (printed), 2 a store or
 * the broker failed.
 */
#ifndef ELIG_QUOTES_H
#define ELIG_QUOTES_H

#include "registry.h"

int quotes_command(registry *r, int argc, char **argv);

#endif
