/*
 * request: one terminal request as the gateway carries it, from the
 * routing of its path to its answer, and the checking of its body.
 *
 * A request is allocated when its HTTP request is complete and freed when
 * it is answered (reply.h); request_open counts those in between, for the
 * drain. Every step of its walk (api.h) fills a part of it: the body's
 * fields, then what the gateway derives (fingerprint, event id, keys),
 * then what its script and its event say.
 *
 * The bodies are the terminal contract (docs/terminal-api.md): each kind
 * has one table of fields (request_schema), parsed by json.h's strict
 * parser, and request_parse checks what a table cannot say (a printable
 * request_id, a card number's Luhn digit, a PIN of digits). Parsing is
 * pure: no Redis, no answer; the caller answers 400 with the message.
 *
 * Loop thread only.
 */
#ifndef GATEWAY_REQUEST_H
#define GATEWAY_REQUEST_H

#include "auth.h"
#include "http.h"
#include "common/json.h"
#include "resume.h"

#include "common/event.h"
#include "common/keys.h"
#include "common/sign.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* The four endpoints. */
typedef enum request_kind {
    REQUEST_SWIPE,    /* POST /v1/swipes */
    REQUEST_REVERSAL, /* POST /v1/swipes/<swipe_id>/reversal */
    REQUEST_RATING,   /* POST /v1/ratings */
    REQUEST_BALANCE,  /* POST /v1/balance-inquiries */
} request_kind;

/* The most fields a body has (the swipe's). */
#define REQUEST_MAX_FIELDS 5

/* Called when a request another gateway left in flight is final (its
 * event acknowledged), with the time it became final. */
typedef void (*request_final_fn)(void *arg, const resume_request *q, int64_t final_ms);

typedef struct request {
    http_conn *conn; /* NULL for a copy being produced again (republish.h) */
    request_kind kind;
    struct timespec t0;
    char method[8], path[256];
    const char *body;
    size_t bodylen;
    bool json_body; /* Content-Type: application/json */
    auth_headers auth;
    char provider_id[65];
    /* body fields */
    char request_id[65], card_no[JSON_STR_MAX], pin[JSON_STR_MAX], item_code[65];
    char swipe_id[JSON_STR_MAX];
    int64_t amount, score;
    char tags[JSON_ARRAY_MAX][JSON_STR_MAX];
    int ntags;
    /* derived */
    char fp[SIGN_HEX_LEN + 1], proof[SIGN_HEX_LEN + 1];
    char event_id[EVENT_ID_LEN + 1], approval[16], day[40], year[12];
    char item_info[160], provider_state[16];
    int64_t now_ms;
    /* outcome */
    char wallet[33], fund[65], person[81], item[65], card_for_event[JSON_STR_MAX];
    char rated_provider[65];
    int64_t balance;
    char idem_key[KEYS_MAX], swipe_key[KEYS_MAX];
    /* a request another gateway left in flight, finished by this one */
    request_final_fn on_final;
    void *final_arg;
} request;

/* A new request on connection c, its clock started; counted by
 * request_open until request_free. NULL on out of memory. */
request *request_new(http_conn *c);
/* Frees a request made by request_new (reply.h calls it once answered). */
void request_free(request *r);
/* Requests made and not yet freed. */
int request_open(void);

/* The part of the swipe record (resume.h) a swipe, a reversal or a rating
 * writes, and back. */
int request_part(const request *r);
request_kind request_kind_of_part(int part);

/* Fills f (at least REQUEST_MAX_FIELDS) with the table of fields of a
 * body of this kind, results cleared; returns how many. The first is
 * always request_id. */
int request_schema(request_kind kind, json_field *f);

/* Parses r's body (r->kind, r->body) into r's body fields. 0, or -1 with
 * the message of the 400 answer in err. */
int request_parse(request *r, char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
