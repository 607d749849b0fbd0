/*
 * args: the arguments of an operator command, as every command takes them:
 * positional arguments first, then "--name value" pairs. The checks print
 * their reason through registry_fail ("eligibility: ..." on stderr), so a
 * command refuses its input with one message and exit 1 before it touches
 * anything. Pure apart from that output; one thread.
 */
#ifndef ELIG_ARGS_H
#define ELIG_ARGS_H

#include "encoding.h"

#include <stdbool.h>

/* The value of --name among argv's option pairs, or NULL. Points into
 * argv. */
const char *args_opt(int argc, char **argv, const char *name);

/* Every --option in argv must be one of allowed ("a,b,c") and have a
 * value. Returns the number of positional arguments before the first
 * option, or -1 (printed). */
int args_check(int argc, char **argv, const char *allowed) __attribute__((warn_unused_result));

/* 0 when v is present and not empty, else -1 (printed: "--name is
 * required"). */
int args_need(const char *v, const char *name) __attribute__((warn_unused_result));

/* v as a whole number lo..hi into *out: 0, or -1 (printed). */
int args_int(const char *v, const char *name, int lo, int hi, int *out)
    __attribute__((warn_unused_result));

/* 0 when pin is a PIN as the gateway takes it (6 digits), else -1
 * (printed). */
int args_pin(const char *pin) __attribute__((warn_unused_result));

/* 0 when card_no is a card number (16-19 digits with its Luhn digit), else
 * -1 (printed). */
int args_card(const char *card_no) __attribute__((warn_unused_result));

/* 0 when v is a document's reference (an invoice or quote number: 1-64
 * of A-Z a-z 0-9 _ . / -), else -1 (printed, naming --name). */
int args_reference(const char *v, const char *name) __attribute__((warn_unused_result));

/* The value of --encoding (NULL when not given) into *kind: 0, or -1
 * (printed). */
int args_encoding(const char *v, encoding_kind *kind) __attribute__((warn_unused_result));

/* Whether v is one of names (NULL-terminated). */
bool args_one_of(const char *v, const char *const *names);

#endif
