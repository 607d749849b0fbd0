/*
 * resume: the rules for a request another gateway left in flight.
 *
 * A swipe, a reversal or a rating changes Redis first (one script) and is
 * answered only when the broker has acknowledged its event. The script
 * writes, in the swipe's record, everything producing the event needs and
 * the gateway that owns that part of the record (swipe: state/gw, reversal:
 * rv_state/rv_gw, rating: rt_state/rt_gw). A gateway that dies between the
 * script and the acknowledgement leaves the part "pending". Another gateway
 * then takes it over and produces the event again with the event id the
 * record holds (a copy that did reach the log is dropped by every consumer
 * by that id), and makes the stored answer final. We produce rather than
 * undo for all three kinds: after a gateway's death nobody knows whether
 * its copy reached the log, and only producing is right in both cases
 * (undoing a reversal the ledger then posts would leave Redis below the
 * ledger; undoing a rating that was counted would let a second one in).
 *
 * This file is pure: which part to take, and reading a record into the
 * fields of the event. pending.c does the Redis side, republish.c the
 * producing.
 */
#ifndef GATEWAY_RESUME_H
#define GATEWAY_RESUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RESUME_MAX_TAGS 16

/* The parts of a swipe record, by their letter in an in-flight member. */
typedef enum resume_kind {
    RESUME_SWIPE = 's',
    RESUME_REVERSAL = 'r',
    RESUME_RATING = 't',
} resume_kind;

/* "swipe", "reversal", "rating" (the finalize script's part); NULL if bad. */
const char *resume_kind_name(int kind);

/* A record as HGETALL gives it: n names and n values. */
typedef struct resume_record {
    size_t n;
    const char *const *names;
    const char *const *values;
} resume_record;

const char *resume_field(const resume_record *r, const char *name);

typedef enum resume_verdict {
    RESUME_NOTHING, /* not pending (final, undone or gone), or owned by someone else now */
    RESUME_LIVE,    /* its gateway is alive (or it is ours): leave it */
    RESUME_YOUNG,   /* owner unknown or dead, but too recent for the backstop sweep */
    RESUME_TAKE,    /* claim it and produce its event again */
} resume_verdict;

/* Is this gateway id alive (a heartbeat within the dead time)? */
typedef bool (*resume_alive_fn)(const char *gateway_id, void *arg);

/* What to do with one part of a record.
 * - dead_id == me: the part's member is in our own set, but this process
 *   no longer handles it (a reply lost, Redis down when it ended): take it
 *   when it is still ours;
 * - dead_id != NULL: the part was found in the in-flight set of dead_id,
 *   which was leased to us: take it when dead_id owns it, or an owner
 *   that is not alive either (one that claimed it and died before adding
 *   it to its own set);
 * - dead_id == NULL: the backstop sweep: take it when its owner is neither
 *   us nor alive and it is older than age_ms. */
resume_verdict resume_decide(const resume_record *r, int kind, const char *me, const char *dead_id,
                             resume_alive_fn alive, void *alive_arg, int64_t now_ms,
                             int64_t age_ms);

/* One part's event, read from the record (pointers into it). */
typedef struct resume_request {
    int kind;
    const char *swipe_id, *card_no, *terminal_id, *provider_id, *person, *item_code, *wallet, *fund,
        *approval;
    const char *request_id, *event_id, *owner; /* of the part */
    int64_t amount, balance, at_ms, score;
    const char *tags[RESUME_MAX_TAGS];
    int ntags;
} resume_request;

/* Fills q with the fields of part kind of the record of swipe_id. -1 with
 * err naming the first field missing or malformed. */
int resume_read(const resume_record *r, int kind, const char *swipe_id, resume_request *q,
                char *err, size_t errlen);

/* An in-flight member: "<kind>|<swipe key>|<event id>". */
int resume_member(char *buf, size_t len, int kind, const char *swipe_key, const char *event_id);
/* Splits a member: its kind, and the swipe key copied into key. -1 if bad. */
int resume_member_parse(const char *member, int *kind, char *key, size_t keylen);

#endif
