/*
 * reasons: every decline and refusal reason a terminal can be told, in one
 * table: its code (what a terminal program switches on), what it means (the
 * human-readable message, naming the field at fault) and a short Simplified
 * Chinese text for the terminal's screen, returned in the answer as
 * "display_zh".
 *
 *   - a decline is a business answer to a swipe or a balance inquiry (200,
 *     "decision": "declined", "reason"): the card, the PIN, the item, the
 *     provider or the money said no;
 *   - a refusal is a 409 about a reversal, a rating or a reused
 *     request_id ({"error": {"code": "conflict", "reason", "message",
 *     "display_zh"}}).
 *
 * docs/terminal-api.md lists the same table; test_reasons checks the two
 * agree and that every reason the Lua scripts can return is here.
 */
#ifndef GATEWAY_REASONS_H
#define GATEWAY_REASONS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct reasons_row {
    const char *code;
    bool refusal;        /* 409 (else a decline) */
    const char *message; /* English, names the field */
    const char *display_zh;
} reasons_row;

/* The row of code, or NULL. */
const reasons_row *reasons_find(const char *code);
/* The table, for the docs check. */
const reasons_row *reasons_all(size_t *n);

#endif
