/*
 * fixtures: the bench directory, written through common/directory.h. See
 * fixtures.h.
 */
#include "fixtures.h"

#include "common/card.h"
#include "common/directory.h"
#include "common/keys.h"
#include "common/sign.h"

#include <inttypes.h>
#include <string.h>

#define FIXTURES_CHUNK 1000 /* cards per pipeline round trip */

void fixtures_card_no(char *out, uint64_t index)
{
    snprintf(out, FIXTURES_CARD_LEN + 1, "622288%012" PRIu64, index % UINT64_C(1000000000000));
    out[FIXTURES_CARD_LEN - 1] = card_check_digit(out);
    out[FIXTURES_CARD_LEN] = '\0';
}

void fixtures_terminal_id(char *out, int index)
{
    snprintf(out, FIXTURES_ID_MAX, "TB%05d", index + 1);
}

void fixtures_terminal_secret(char *out, const char *terminal_id)
{
    snprintf(out, FIXTURES_SECRET_MAX, "secret-%s", terminal_id);
}

void fixtures_person_id(char *out, uint64_t index)
{
    snprintf(out, FIXTURES_ID_MAX, "pb-%" PRIu64, index + 1);
}

int fixtures_load(redisContext *ctx, const char *pepper, int terminals, uint64_t cards, FILE *log,
                  char *err, size_t errlen)
{
    directory d;
    directory_init(&d, ctx);

    directory_item item = {.code = FIXTURES_ITEM,
                           .wallet = FIXTURES_WALLET,
                           .category = FIXTURES_CATEGORY,
                           .standard_fen = FIXTURES_STANDARD_FEN,
                           .daily_cap_fen = 0,
                           .annual_cap_fen = 0};
    directory_put_item(&d, &item);
    directory_put_provider(&d, FIXTURES_PROVIDER, "active", FIXTURES_CATEGORY, FIXTURES_ITEM);
    for (int t = 0; t < terminals; t++) {
        char id[FIXTURES_ID_MAX], secret[FIXTURES_SECRET_MAX];
        fixtures_terminal_id(id, t);
        fixtures_terminal_secret(secret, id);
        directory_put_terminal(&d, id, FIXTURES_PROVIDER, secret, "active");
        if ((t + 1) % FIXTURES_CHUNK == 0 && directory_sync(&d, err, errlen) < 0)
            return -1;
    }
    if (directory_sync(&d, err, errlen) < 0)
        return -1;
    if (log)
        fprintf(log, "swipe-bench: item %s, provider %s, %d terminals loaded\n", FIXTURES_ITEM,
                FIXTURES_PROVIDER, terminals);

    for (uint64_t c = 0; c < cards; c++) {
        char card[FIXTURES_CARD_LEN + 1], person[FIXTURES_ID_MAX];
        fixtures_card_no(card, c);
        fixtures_person_id(person, c);
        directory_put_card(&d, card, person, "active", FIXTURES_PIN, pepper);
        directory_put_entitlement(&d, card, FIXTURES_ITEM, 0, 0, FIXTURES_FUND);
        if ((c + 1) % FIXTURES_CHUNK == 0 || c + 1 == cards) {
            if (directory_sync(&d, err, errlen) < 0)
                return -1;
            if (log && ((c + 1) % (FIXTURES_CHUNK * 100) == 0 || c + 1 == cards))
                fprintf(log, "swipe-bench: %" PRIu64 " cards loaded\n", c + 1);
        }
    }
    return 0;
}

void fixtures_print_cards(FILE *out, uint64_t cards)
{
    for (uint64_t c = 0; c < cards; c++) {
        char card[FIXTURES_CARD_LEN + 1];
        fixtures_card_no(card, c);
        fprintf(out, "%s %s %s %s\n", card, FIXTURES_WALLET, FIXTURES_ITEM, FIXTURES_FUND);
    }
}

void fixtures_print_keys(FILE *out, const char *card_no, const char *terminal_id,
                         const char *pepper)
{
    char tag[KEYS_TAG_LEN + 1], key[KEYS_MAX], swipe_id[64], proof[SIGN_HEX_LEN + 1];
    keys_card_tag(tag, card_no);
    /* the real id is "<tag>-<20 hex>"; redis-benchmark turns __rand_int__
     * into 12 decimal digits, so 8 zeros + 12 digits keep its shape */
    snprintf(swipe_id, sizeof(swipe_id), "%s-00000000__rand_int__", tag);

    fprintf(out, "card_no %s\n", card_no);
    keys_card(key, sizeof(key), card_no);
    fprintf(out, "card %s\n", key);
    keys_wallet(key, sizeof(key), card_no);
    fprintf(out, "wallet %s\n", key);
    keys_holds(key, sizeof(key), card_no);
    fprintf(out, "holds %s\n", key);
    keys_caps(key, sizeof(key), card_no);
    fprintf(out, "caps %s\n", key);
    keys_idem(key, sizeof(key), card_no, terminal_id, "rb-__rand_int__");
    fprintf(out, "idem %s\n", key);
    keys_swipe(key, sizeof(key), swipe_id);
    fprintf(out, "swipe %s\n", key);
    fprintf(out, "swipe_id %s\n", swipe_id);
    sign_pin_proof(proof, pepper, card_no, FIXTURES_PIN);
    fprintf(out, "pin_proof %s\n", proof);
    fprintf(out, "item_info %s|%d|0|0|%s\n", FIXTURES_WALLET, FIXTURES_STANDARD_FEN,
            FIXTURES_CATEGORY);
    fprintf(out, "item_code %s\n", FIXTURES_ITEM);
    fprintf(out, "provider %s\n", FIXTURES_PROVIDER);
    fprintf(out, "terminal %s\n", terminal_id);
}
