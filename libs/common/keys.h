/*
 * keys: the Redis key layout of the directory, in one place.
 *
 * The eligibility service writes these keys, the gateway reads and updates
 * them in its authorization script, the ledger rebuilds them. Everything
 * about one card shares the hash tag {c:<card_no>} so that a swipe's
 * script touches a single Redis Cluster slot; terminals and providers carry
 * their own tags and are read before the script, not inside it.
 *
 *   card:{c:N}          hash  status, person, pin_salt, pin_hash, eligible items
 *   pin:{c:N}           hash  fails (consecutive wrong PINs), locked
 *   wallet:{c:N}        hash  <wallet> -> available balance in fen
 *   holds:{c:N}         hash  <swipe_id> -> amount|wallet|item|... not yet posted
 *   caps:{c:N}          hash  d:<item>:<yyyymmdd> / y:<item>:<yyyy> -> fen used
 *   idem:{c:N}:<T>:<R>  string  the stored answer to terminal T's request R (24 h)
 *   swipe:{c:N}:<S>     hash  one approved swipe, for reversal and rating (7 d)
 *   nonce:{t:T}:<X>     string  a nonce seen from terminal T (10 min TTL)
 *   term:{t:T}          hash  provider, secret, status
 *   prov:{p:P}          hash  status, category, items (designated item codes)
 *   topup:{c:N}:<id>    string  a top-up already credited to the hot balance
 *
 * Each function writes the key into buf and returns its length, or -1 when
 * it does not fit (buf is then an empty string).
 */
#ifndef ONECARD_KEYS_H
#define ONECARD_KEYS_H

#include <stddef.h>

#define KEYS_MAX 256

int keys_card(char *buf, size_t len, const char *card_no);
int keys_pin(char *buf, size_t len, const char *card_no);
int keys_wallet(char *buf, size_t len, const char *card_no);
int keys_holds(char *buf, size_t len, const char *card_no);
int keys_caps(char *buf, size_t len, const char *card_no);
int keys_idem(char *buf, size_t len, const char *card_no, const char *terminal_id,
              const char *request_id);
int keys_swipe(char *buf, size_t len, const char *card_no, const char *swipe_id);
int keys_topup(char *buf, size_t len, const char *card_no, const char *topup_id);
int keys_nonce(char *buf, size_t len, const char *terminal_id, const char *nonce);
int keys_terminal(char *buf, size_t len, const char *terminal_id);
int keys_provider(char *buf, size_t len, const char *provider_id);

/* The Redis Cluster slot of a key (CRC16 of the hash tag, mod 16384). */
unsigned keys_slot(const char *key, size_t len);

#endif
