/*
 * claims: what a quote and a reimbursement both check before money moves
 * for one person and one item, outside a provider's swipe:
 *
 *   - the item exists and is of the kind the command handles;
 *   - the person exists, has a card in use (the top-up's key, and for a
 *     quote the card the credit lands on) and is entitled to the item on
 *     the day (eligible, in force, not excluded by a larger item of its
 *     exclusive group: rules_entitlements, as the terminal sees it);
 *   - the amount is a positive whole number of fen and, with what was
 *     already paid for the item to the person in that year, within the
 *     item's annual cap.
 *
 * Each refusal is printed with its reason (exit 1). Inside the caller's
 * transaction: the person's row is locked (FOR UPDATE) so two claims for
 * one person are decided one after the other and the cap holds.
 */
#ifndef ELIG_CLAIMS_H
#define ELIG_CLAIMS_H

#include "catalogue.h"
#include "registry.h"

#include <stdint.h>

typedef struct claims_claim {
    const rules_item *item; /* in the caller's catalogue */
    char card_no[24];
    char period[8]; /* YYYY-MM of the day, the top-up's period */
    int64_t amount_fen;
} claims_claim;

/* Parses amount (fen) and checks person_id, item_code (of kind), the
 * card and the entitlement on day. 0, 1 refused (printed), 2 the store
 * failed (printed). */
int claims_check(registry *r, const catalogue *c, directory_kind kind, const char *person_id,
                 const char *item_code, const char *amount, int32_t day, claims_claim *out);

/* Whether amount_fen more for the item in the claim's year stays within the
 * annual cap, given what already_sql (one $1 person, $2 item, $3 year
 * parameter query returning the fen already paid) says. 0, 1 refused
 * (printed), 2. */
int claims_cap(registry *r, const claims_claim *cl, const char *person_id, const char *already_sql);

#endif
