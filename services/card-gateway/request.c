/*
 * request: a request's lifetime and its body. See request.h.
 */
#include "request.h"

#include "common/card.h"
#include "common/money.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int request_count;

request *request_new(http_conn *c)
{
    request *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    request_count++;
    r->conn = c;
    clock_gettime(CLOCK_MONOTONIC, &r->t0);
    r->now_ms = event_now_ms();
    return r;
}

void request_free(request *r)
{
    request_count--;
    free(r);
}

int request_open(void)
{
    return request_count;
}

int request_part(const request *r)
{
    return r->kind == REQUEST_SWIPE      ? RESUME_SWIPE
           : r->kind == REQUEST_REVERSAL ? RESUME_REVERSAL
                                         : RESUME_RATING;
}

request_kind request_kind_of_part(int part)
{
    return part == RESUME_SWIPE      ? REQUEST_SWIPE
           : part == RESUME_REVERSAL ? REQUEST_REVERSAL
                                     : REQUEST_RATING;
}

/* ============================================================== schemas */

static const json_field request_id_field = {
    .name = "request_id", .type = JSON_STRING, .required = true, .min = 1, .max = 64};
static const json_field request_card_fields[] = {
    {.name = "card_no", .type = JSON_STRING, .required = true, .min = 16, .max = 19},
    {.name = "pin", .type = JSON_STRING, .required = true, .min = 6, .max = 6},
};
static const json_field request_swipe_fields[] = {
    {.name = "item_code", .type = JSON_STRING, .required = true, .min = 1, .max = 64},
    {.name = "amount_fen", .type = JSON_INT, .required = true, .min = 1, .max = MONEY_MAX_FEN},
};
static const json_field request_rating_fields[] = {
    {.name = "swipe_id", .type = JSON_STRING, .required = true, .min = 1, .max = 64},
    {.name = "score", .type = JSON_INT, .required = true, .min = 1, .max = 5},
    {.name = "tags", .type = JSON_STRING_ARRAY, .required = false, .min = 1, .max = 32},
};

static int request_add(json_field *f, int nf, const json_field *from, size_t n)
{
    for (size_t i = 0; i < n; i++)
        f[nf++] = from[i];
    return nf;
}

#define REQUEST_ADD(f, nf, table) request_add(f, nf, table, sizeof(table) / sizeof(table[0]))

/* request_id; a swipe: card_no pin item_code amount_fen; a rating:
 * swipe_id score tags; a balance inquiry: card_no pin; a reversal: nothing
 * more (its swipe id is in the path). */
int request_schema(request_kind kind, json_field *f)
{
    memset(f, 0, sizeof(json_field) * REQUEST_MAX_FIELDS);
    int nf = request_add(f, 0, &request_id_field, 1);
    if (kind == REQUEST_SWIPE || kind == REQUEST_BALANCE)
        nf = REQUEST_ADD(f, nf, request_card_fields);
    if (kind == REQUEST_SWIPE)
        nf = REQUEST_ADD(f, nf, request_swipe_fields);
    if (kind == REQUEST_RATING)
        nf = REQUEST_ADD(f, nf, request_rating_fields);
    return nf;
}

/* ============================================================== parsing */

static bool request_id_ok(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
            return false;
    return true;
}

static bool request_digits(const char *s, size_t n)
{
    if (strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

int request_parse(request *r, char *err, size_t errlen)
{
    json_field f[REQUEST_MAX_FIELDS];
    int nf = request_schema(r->kind, f);
    if (json_parse_object(r->body, r->bodylen, f, nf, err, errlen) < 0)
        return -1;
    snprintf(r->request_id, sizeof(r->request_id), "%s", f[0].str);
    if (!request_id_ok(r->request_id)) {
        snprintf(err, errlen, "field \"request_id\" must be printable ASCII without spaces");
        return -1;
    }
    if (r->kind == REQUEST_SWIPE || r->kind == REQUEST_BALANCE) {
        snprintf(r->card_no, sizeof(r->card_no), "%s", f[1].str);
        snprintf(r->pin, sizeof(r->pin), "%s", f[2].str);
        if (!card_no_valid(r->card_no)) {
            snprintf(err, errlen,
                     "field \"card_no\" must be 16-19 digits with a valid Luhn check digit");
            return -1;
        }
        if (!request_digits(r->pin, 6)) {
            snprintf(err, errlen, "field \"pin\" must be 6 digits");
            return -1;
        }
    }
    if (r->kind == REQUEST_SWIPE) {
        snprintf(r->item_code, sizeof(r->item_code), "%s", f[3].str);
        r->amount = f[4].num;
    }
    if (r->kind == REQUEST_RATING) {
        snprintf(r->swipe_id, sizeof(r->swipe_id), "%s", f[1].str);
        r->score = f[2].num;
        r->ntags = f[3].narr;
        for (int i = 0; i < r->ntags; i++)
            snprintf(r->tags[i], sizeof(r->tags[i]), "%s", f[3].arr[i]);
    }
    return 0;
}
