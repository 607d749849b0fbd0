/*
 * keys: the Redis key layout of the directory, in one place.
 *
 * The eligibility service writes these keys, the gateway reads and updates
 * them in its scripts, the ledger rebuilds them. Everything about one card
 * shares the hash tag {c:<tag>}, where <tag> is 8 hex digits of FNV-1a over
 * the card number, so a swipe's script touches a single Redis Cluster slot.
 * Swipe ids start with the same tag, so a reversal or a rating finds the
 * card's slot from the swipe id alone. Terminals and providers carry tags
 * of their own and are read before a script, never inside it.
 *
 *   card:{c:T}:N            hash    status, person, pin_salt, pin_hash,
 *                                   pin_fails, pin_locked, e:<item> =
 *                                   "annual_cap|daily_cap|fund_source",
 *                                   q:<item> = the provider of its approved quote,
 *                                   p:<item> = "YYYY-MM-DD": the item paused by the
 *                                   在训 check on that day (declined, item_paused)
 *   wallet:{c:T}:N          hash    <wallet> -> available balance, fen
 *   holds:{c:T}:N           hash    <event id> -> signed fen not yet posted
 *   caps:{c:T}:N            hash    d:<item> = "yyyymmdd|fen", y:<item> = "yyyy|fen"
 *   idem:{c:T}:N:<term>:<req>  string  a request's stored answer (24 h)
 *   swipe:{c:T}:<swipe_id>  hash    one approved swipe (8 days)
 *   topup:{c:T}:N:<id>      string  a top-up credited to the hot balance
 *   return:{c:T}:N:<id>     string  fen a return (lapse, death, moved, recovery)
 *                                   took off the hot balance (lapse.h)
 *   ends:{c:T}:N            hash    "<wallet>|YYYY-MM-DD" (or "|never") -> fen of
 *                                   credit ending that day (credit_ends), for the
 *                                   balance inquiry's lapse dates
 *   nonce:{t:X}:<nonce>     string  a nonce seen from terminal X (10 min)
 *   term:{t:X}              hash    provider, secret, status
 *   prov:{p:P}              hash    status, category, items ("A,B,C")
 *   catalogue               hash    <item> = "wallet|standard|daily_cap|annual_cap|category|kind"
 *   idem:{c:T}:rv:<term>:<req>  string  a reversal's stored answer (24 h), T from the swipe id
 *   idem:{c:T}:rt:<term>:<req>  string  a rating's stored answer (24 h), T from the swipe id
 *   gw:{gw}:alive           hash    <gateway id> -> last heartbeat (Redis time, ms)
 *   gw:{gw}:inflight:<id>   zset    "<kind>|<swipe key>" -> ms: what gateway <id> has
 *                                   changed in Redis and not yet seen acknowledged
 *                                   (kind s swipe, r reversal, t rating)
 *
 * Each function writes the key into buf and returns its length, or -1 when
 * it does not fit (buf is then an empty string).
 */
#ifndef ONECARD_KEYS_H
#define ONECARD_KEYS_H

#include <stddef.h>

#define KEYS_MAX       320
#define KEYS_TAG_LEN   8
#define KEYS_CATALOGUE "catalogue"

/* The card's tag: KEYS_TAG_LEN hex digits + NUL into tag. */
void keys_card_tag(char *tag, const char *card_no);

int keys_card(char *buf, size_t len, const char *card_no);
int keys_wallet(char *buf, size_t len, const char *card_no);
int keys_holds(char *buf, size_t len, const char *card_no);
int keys_caps(char *buf, size_t len, const char *card_no);
int keys_idem(char *buf, size_t len, const char *card_no, const char *terminal_id,
              const char *request_id);
int keys_topup(char *buf, size_t len, const char *card_no, const char *topup_id);
int keys_return(char *buf, size_t len, const char *card_no, const char *return_id);
int keys_ends(char *buf, size_t len, const char *card_no);
/* swipe_id must start with a card tag and '-' (see keys_swipe_id); -1 if not. */
int keys_swipe(char *buf, size_t len, const char *swipe_id);
/* Makes a swipe id for card_no: "<tag>-<20 random hex>" (29 chars + NUL). */
void keys_swipe_id(char *out, size_t len, const char *card_no);
int keys_nonce(char *buf, size_t len, const char *terminal_id, const char *nonce);
int keys_terminal(char *buf, size_t len, const char *terminal_id);
int keys_provider(char *buf, size_t len, const char *provider_id);
/* A reversal's and a rating's stored answer, in the slot of the swipe they
 * name (-1 if swipe_id carries no card tag). The ledger's relay finalizes
 * a reversal's answer through the same key. */
int keys_reversal_idem(char *buf, size_t len, const char *swipe_id, const char *terminal_id,
                       const char *request_id);
int keys_rating_idem(char *buf, size_t len, const char *swipe_id, const char *terminal_id,
                     const char *request_id);
/* The gateways' heartbeats, and what one gateway has in flight. */
int keys_gateways(char *buf, size_t len);
int keys_inflight(char *buf, size_t len, const char *gateway_id);

/* The Redis Cluster slot of a key (CRC16 of the hash tag, mod 16384). */
unsigned keys_slot(const char *key, size_t len);

#endif
