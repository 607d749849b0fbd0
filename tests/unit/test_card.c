/*
 * test_card: the card number's rule, its check digit and its one masked
 * form (libs/common/card.c).
 */
#include "check.h"
#include "common/card.h"

#include <string.h>

int main(void)
{
    static const struct {
        const char *card;
        bool ok;
    } valid[] = {
        {"6222000000000001234", true},   {"4111111111111111", true},
        {"4111111111111112", false},     {"411111111111111", false},
        {"79927398713", false},          {"4111 111111111111", false},
        {"00000000000000000", true},     {"", false},
        {"41111111111111111111", false}, {"411111111111111a", false},
    };
    for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
        CHECK(card_no_valid(valid[i].card) == valid[i].ok, "card %s", valid[i].card);

    static const struct {
        const char *digits;
        char want;
    } digits[] = {{"411111111111111", '1'}, {"622200000000000123", '4'}, {"7992739871", '3'}};
    for (size_t i = 0; i < sizeof(digits) / sizeof(digits[0]); i++)
        CHECK(card_check_digit(digits[i].digits) == digits[i].want, "check digit of %s",
              digits[i].digits);

    static const struct {
        const char *card, *want;
    } masks[] = {
        {"6222000000000001234", "622200*********1234"},
        {"4111111111111111", "411111******1111"},
        {"12345678901", "123456*8901"},
        {"1234567890", "********90"},
        {"12", "**"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
        char out[CARD_MASKED_MAX];
        CHECK(strcmp(card_mask(out, sizeof(out), masks[i].card), masks[i].want) == 0,
              "mask of %s: %s", masks[i].card, out);
    }
    char small[8];
    CHECK(strcmp(card_mask(small, sizeof(small), "6222000000000001234"), "622200*") == 0,
          "a short buffer is cut, never overrun: %s", small);
    return CHECK_DONE();
}
