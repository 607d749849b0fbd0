/*
 * card: the service card's number, in one place: the rule (16-19 digits,
 * the last a Luhn check digit, ISO/IEC 7812), making a check digit, and the
 * one masked form every log line, event and printed report uses (the first
 * six digits, the issuer's, and the last four: "622288********1234").
 * A full card number is never written to a log.
 *
 * Also the card holder's id as every service carries it: person_id, the
 * SHA-256 of the ID salt and the national id as 64 lowercase hex digits
 * (the eligibility service makes it; the national id itself never leaves
 * it).
 */
#ifndef ONECARD_CARD_H
#define ONECARD_CARD_H

#include <stdbool.h>
#include <stddef.h>

#define CARD_MIN_LEN 16
#define CARD_MAX_LEN 19
/* Room for a masked number and its NUL. */
#define CARD_MASKED_MAX (CARD_MAX_LEN + 1)

/* True when s is 16-19 digits with a correct Luhn check digit. */
bool card_no_valid(const char *s);

/* The Luhn check digit ('0'-'9') that completes digits (all digits). */
char card_check_digit(const char *digits);

/* Writes the masked form of card_no into out (at least CARD_MASKED_MAX
 * bytes): six digits, a '*' for each hidden one, four digits. Anything
 * shorter than 11 characters (not a card number) is masked whole but for
 * its last two characters. Returns out, so it can be an argument. */
char *card_mask(char *out, size_t len, const char *card_no);

#define CARD_PERSON_ID_LEN 64
/* True when s is a person id: 64 lowercase hex digits. */
bool card_person_id_valid(const char *s);

#endif
