/*
 * directory: writes the directory (catalogue, providers, terminals, cards,
 * entitlements, wallets) into Redis through the key layout of keys.h.
 *
 * The eligibility service projects its registry with these calls; tests and
 * the load generator load their fixtures with them too, so nobody writes a
 * key by hand. Calls append to a hiredis pipeline; directory_sync() sends
 * them and checks every reply. Blocking; one thread per context.
 */
#ifndef ONECARD_DIRECTORY_H
#define ONECARD_DIRECTORY_H

#include <hiredis/hiredis.h>
#include <stddef.h>
#include <stdint.h>

typedef struct directory {
    redisContext *ctx;
    int pending; /* replies owed by the pipeline */
    int failed;  /* commands that could not be appended */
} directory;

/* How an item's help is delivered (the catalogue's kind column):
 *   credit     issued credit, swiped at a designated provider up to the
 *              standard amount per swipe;
 *   priced     a price per session or hour (the standard): a swipe is a
 *              whole number of sessions, under the daily and annual caps;
 *   quote      a one-off item: an approved quote credits the amount, spent
 *              only at the provider that quoted (card field q:<item>);
 *   reimburse  a paid invoice, refunded into the person's own account;
 *   cash       a monthly payment into the person's own account.
 * The last two are never swiped: the gateway declines them as
 * item_paid_to_person. */
typedef enum directory_kind {
    DIRECTORY_KIND_CREDIT = 0,
    DIRECTORY_KIND_PRICED,
    DIRECTORY_KIND_QUOTE,
    DIRECTORY_KIND_REIMBURSE,
    DIRECTORY_KIND_CASH,
} directory_kind;
#define DIRECTORY_KINDS 5

/* "credit", "priced", ...; and back (-1 when unknown). */
const char *directory_kind_name(directory_kind k);
int directory_kind_parse(const char *s);
/* Whether the item is paid into the person's own account (reimburse,
 * cash) rather than spent by swiping the card. */
int directory_kind_pays_person(directory_kind k);

/* A catalogue item as the gateway needs it. Caps of 0 mean none. */
typedef struct directory_item {
    const char *code, *wallet, *category;
    int64_t standard_fen, daily_cap_fen, annual_cap_fen;
    directory_kind kind;
} directory_item;

/* A catalogue item's value as the catalogue hash holds it
 * ("wallet|standard|daily_cap|annual_cap|category|kind", see keys.h; a
 * value without the kind, written before kinds, reads as credit), read
 * back: the gateway and settlement read it with directory_item_parse, the
 * one parser, next to the one writer (directory_put_item). */
typedef struct directory_value {
    char wallet[33];
    char category[65];
    int64_t standard_fen, daily_cap_fen, annual_cap_fen;
    directory_kind kind;
} directory_value;

/* The stored value of it into out. 0, or -1 with err (a field is empty,
 * too long, holds '|', or an amount is out of money's range). */
int directory_item_format(const directory_item *it, char *out, size_t outlen, char *err,
                          size_t errlen) __attribute__((warn_unused_result));
/* Parses a stored value (outside input: every field is checked). 0, or -1
 * with err naming the bad field. */
int directory_item_parse(const char *value, directory_value *v, char *err, size_t errlen)
    __attribute__((warn_unused_result));

void directory_init(directory *d, redisContext *ctx);

void directory_put_item(directory *d, const directory_item *item);
/* items: designated item codes, comma-separated. status: active | suspended. */
void directory_put_provider(directory *d, const char *provider_id, const char *status,
                            const char *category, const char *items);
/* status: active | disabled. */
void directory_put_terminal(directory *d, const char *terminal_id, const char *provider_id,
                            const char *secret, const char *status);
/* Creates or replaces the card's identity and PIN; pin is the clear PIN,
 * turned into a salted hash of its proof (sign.h) with a fresh salt. Resets
 * the wrong-PIN counter. status: active | frozen | lost | replaced | closed. */
void directory_put_card(directory *d, const char *card_no, const char *person_id,
                        const char *status, const char *pin, const char *pepper);
/* As directory_put_card, from a PIN hash already stored by the registry
 * (salt and hash as sign_pin_hash makes them): what a rebuild writes. Leaves
 * the wrong-PIN counter as it is. */
void directory_put_card_hashed(directory *d, const char *card_no, const char *person_id,
                               const char *status, const char *pin_salt, const char *pin_hash);
void directory_set_card_status(directory *d, const char *card_no, const char *status);
/* The person's entitlement to an item on this card. Caps of 0 mean the
 * catalogue's. */
void directory_put_entitlement(directory *d, const char *card_no, const char *item_code,
                               int64_t annual_cap_fen, int64_t daily_cap_fen,
                               const char *fund_source);
void directory_del_entitlement(directory *d, const char *card_no, const char *item_code);
/* An approved quote binds the card's item to the provider that quoted it
 * (card field q:<item>): the item's credit is spent only there. A NULL
 * provider removes the binding. */
void directory_put_quote(directory *d, const char *card_no, const char *item_code,
                         const char *provider_id);
/* The 在训 check (services/eligibility/attendance.h) paused the card's
 * item (card field p:<item> = the day it was paused, YYYY-MM-DD): the
 * gateway declines it (item_paused) until the field is removed. A NULL
 * day resumes it (HDEL). */
void directory_put_pause(directory *d, const char *card_no, const char *item_code,
                         const char *paused_on);
/* Sets a wallet's available balance (tests, cache rebuilds). */
void directory_set_wallet(directory *d, const char *card_no, const char *wallet,
                          int64_t balance_fen);

/* Sends the pipeline and reads every reply. Returns 0, or -1 with the first
 * error in err. */
int directory_sync(directory *d, char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
