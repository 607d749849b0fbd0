/*
 * carryover: card replacement and the balance carry-over. See carryover.h.
 */
#include "carryover.h"

#include "ident.h"

#include "common/cli.h"
#include "common/card.h"
#include "common/event.h"
#include "common/keys.h"
#include "common/log.h"

#include "eligibility.pb-c.h"
#include "registry.pb-c.h"
#include "topup.pb-c.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The old card's cap usage onto the new card (each in its own slot, so two
 * commands), before the new card can swipe. */
static int carryover_caps(registry *r, const char *from, const char *to)
{
    char kf[KEYS_MAX], kt[KEYS_MAX];
    keys_caps(kf, sizeof(kf), from);
    keys_caps(kt, sizeof(kt), to);
    redisReply *rep = redisCommand(r->rc, "EXISTS %s", kt);
    bool there = rep && rep->type == REDIS_REPLY_INTEGER && rep->integer == 1;
    freeReplyObject(rep);
    if (there) /* copied before, and the new card may have swiped since */
        return 0;
    rep = redisCommand(r->rc, "HGETALL %s", kf);
    if (rep == NULL || rep->type != REDIS_REPLY_ARRAY) {
        char m[CARD_MASKED_MAX];
        registry_fail("caps of card %s: %s", card_mask(m, sizeof(m), from),
                      rep ? rep->str : r->rc->errstr);
        freeReplyObject(rep);
        return -1;
    }
    int rc = 0;
    if (rep->elements >= 2) {
        size_t argc = rep->elements + 2;
        const char **argv = calloc(argc, sizeof(*argv));
        size_t *argvlen = calloc(argc, sizeof(*argvlen));
        if (argv == NULL || argvlen == NULL) {
            rc = -1;
        } else {
            argv[0] = "HSET";
            argv[1] = kt;
            argvlen[0] = 4;
            argvlen[1] = strlen(kt);
            for (size_t i = 0; i < rep->elements; i++) {
                argv[i + 2] = rep->element[i]->str;
                argvlen[i + 2] = rep->element[i]->len;
            }
            redisReply *w = redisCommandArgv(r->rc, (int)argc, argv, argvlen);
            if (w == NULL || w->type == REDIS_REPLY_ERROR) {
                char m[CARD_MASKED_MAX];
                registry_fail("caps of card %s: %s", card_mask(m, sizeof(m), to),
                              w ? w->str : r->rc->errstr);
                rc = -1;
            }
            freeReplyObject(w);
        }
        free(argv);
        free(argvlen);
    }
    freeReplyObject(rep);
    return rc;
}

/* Swipes of the card approved and not yet posted (its holds), or -1. */
static long long carryover_holds(registry *r, const char *card_no)
{
    char k[KEYS_MAX];
    keys_holds(k, sizeof(k), card_no);
    redisReply *rep = redisCommand(r->rc, "HLEN %s", k);
    long long n = rep && rep->type == REDIS_REPLY_INTEGER ? rep->integer : -1;
    freeReplyObject(rep);
    return n;
}

/* The Redis side of a replacement: the old card's cap usage onto the new
 * card, the old card declining (card_lost), the new card and its
 * entitlements. Idempotent: the daemon runs it again for a replacement
 * whose command died after its commit. 0 / -1 (printed). */
static int carryover_redis(registry *r, const char *old, const char *new, const char *person,
                           const char *status, const char *salt, const char *hash)
{
    if (carryover_caps(r, old, new) < 0)
        return -1;
    directory_set_card_status(&r->dir, old, "replaced");
    directory_put_card_hashed(&r->dir, new, person, status, salt, hash);
    return registry_sync(r) < 0 || registry_project_person(r, person) < 0 ? -1 : 0;
}

/* Makes sure the old card of a pending carry-over is stopped in Redis (the
 * command that replaced it may have died between its commit and Redis):
 * 0 when it is, -1 when it could not be checked or done. */
static int carryover_ensure_stopped(registry *r, const char *old, const char *new)
{
    char k[KEYS_MAX], err[512];
    keys_card(k, sizeof(k), old);
    redisReply *rep = redisCommand(r->rc, "HGET %s status", k);
    if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
        freeReplyObject(rep);
        return -1;
    }
    bool stopped = rep->type == REDIS_REPLY_STRING && strcmp(rep->str, "replaced") == 0;
    freeReplyObject(rep);
    if (stopped)
        return 0;
    const char *p[] = {new};
    PGresult *res = pg_query(r->pg,
                             "SELECT person_id, status, pin_salt, pin_hash FROM elig_cards WHERE "
                             "card_no = $1",
                             1, p, err, sizeof(err));
    int rc = res && PQntuples(res) == 1
                 ? carryover_redis(r, old, new, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
                                   PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3))
                 : -1;
    char masked[CARD_MASKED_MAX];
    if (rc == 0)
        log_warn("carryover_redis_redone", "card %s was not stopped in Redis: stopped now",
                 card_mask(masked, sizeof(masked), old));
    PQclear(res);
    return rc;
}

int carryover_send_pending(registry *r, const char *old_card, bool quiet)
{
    char err[512], force[16];
    snprintf(force, sizeof(force), "%d", CARRYOVER_FORCE_S);
    const char *p[] = {old_card, force};
    PGresult *res = pg_query(r->pg,
                             "SELECT from_card_no, to_card_no, person_id, reason, actor, event_id, "
                             "requested_at < now() - make_interval(secs => $2::int) FROM "
                             "elig_card_carryovers WHERE sent_at IS NULL AND ($1::text IS NULL OR "
                             "from_card_no = $1) ORDER BY requested_at LIMIT 100",
                             2, p, err, sizeof(err));
    if (res == NULL) {
        if (quiet)
            log_error("carryover_failed", "%s", err);
        else
            registry_fail("%s", err);
        return -1;
    }
    int sent = 0, rc = 0;
    for (int i = 0; i < PQntuples(res) && rc == 0; i++) {
        const char *from = PQgetvalue(res, i, 0);
        bool forced = strcmp(PQgetvalue(res, i, 6), "t") == 0;
        if (carryover_ensure_stopped(r, from, PQgetvalue(res, i, 1)) < 0) {
            rc = -1;
            break;
        }
        long long holds = carryover_holds(r, from);
        if (holds < 0) {
            rc = -1;
            break;
        }
        if (holds > 0 && !forced)
            continue;
        /* one sender at a time (a command and the daemon may both try):
         * the row stays locked from the check to the mark */
        const char *q[] = {from};
        PGresult *lk = NULL;
        if (registry_begin(r, "eligibility-carryover") < 0 ||
            (lk = pg_query(r->pg,
                           quiet ? "SELECT 1 FROM elig_card_carryovers WHERE from_card_no = $1 "
                                   "AND sent_at IS NULL FOR UPDATE SKIP LOCKED"
                                 : "SELECT 1 FROM elig_card_carryovers WHERE from_card_no = $1 "
                                   "AND sent_at IS NULL FOR UPDATE",
                           1, q, err, sizeof(err))) == NULL) {
            pg_rollback(r->pg);
            log_error("carryover_failed", "%s", err);
            rc = -1;
            break;
        }
        int mine = PQntuples(lk);
        PQclear(lk);
        if (mine == 0) { /* sent meanwhile, or being sent */
            pg_rollback(r->pg);
            continue;
        }
        char mfrom[CARD_MASKED_MAX], mto[CARD_MASKED_MAX];
        card_mask(mfrom, sizeof(mfrom), from);
        if (holds > 0)
            log_warn("carryover_forced",
                     "card %s still holds %lld unposted swipes after %d s: carried over anyway",
                     mfrom, holds, CARRYOVER_FORCE_S);
        Onecard__V1__BalanceCarryOver b = ONECARD__V1__BALANCE_CARRY_OVER__INIT;
        b.event_id = PQgetvalue(res, i, 5);
        b.from_card_no = (char *)from;
        b.to_card_no = PQgetvalue(res, i, 1);
        b.person_id = PQgetvalue(res, i, 2);
        b.reason = PQgetvalue(res, i, 3);
        b.actor = PQgetvalue(res, i, 4);
        b.occurred_at_ms = event_now_ms();
        if (registry_publish(r, &b.base, from) < 0) {
            pg_rollback(r->pg);
            rc = -1;
            break;
        }
        if (pg_exec(r->pg,
                    "UPDATE elig_card_carryovers SET sent_at = now() WHERE from_card_no = $1", 1, q,
                    err, sizeof(err)) < 0 ||
            registry_commit(r) < 0) {
            pg_rollback(r->pg);
            /* sent again later: the ledger takes a card's carry-over once */
            log_error("carryover_failed", "%s", err);
            rc = -1;
            break;
        }
        if (quiet) /* the daemon's log; a command prints its own line */
            log_info("carryover_sent", "card %s: balances to card %s", mfrom,
                     card_mask(mto, sizeof(mto), b.to_card_no));
        sent++;
    }
    PQclear(res);
    return rc < 0 ? -1 : sent;
}

/* Publishes the registry events of a replacement; 0 / -1 (printed). */
static int carryover_events(registry *r, const char *old, const char *new, const char *person,
                            const char *old_status, const char *reason, const char *actor)
{
    if (registry_card_status_changed(r, old, person, old_status, "replaced", reason) < 0 ||
        registry_card_changed(r, ONECARD__V1__REGISTRY_OP__UPDATED, old, person, "replaced",
                              actor) < 0 ||
        registry_card_changed(r, ONECARD__V1__REGISTRY_OP__CREATED, new, person, "active", actor) <
            0)
        return -1;
    return registry_flush(r) > 0 ? -1 : 0;
}

/* The replacement's transaction (see carryover.h). Returns 0, 1 when
 * refused (printed), 2 on failure; fills nc, person and the old status. */
static int carryover_record(registry *r, const char *old, const char *reason, const char *pin,
                            const char *actor, registry_card *nc, char *person, size_t personlen,
                            char *old_status, size_t statuslen)
{
    char err[512], eid[EVENT_ID_LEN + 1];
    if (registry_begin(r, actor) < 0)
        return CLI_DEPENDENCY;
    const char *p[] = {old};
    PGresult *res = pg_query(r->pg,
                             "SELECT c.person_id, c.status, p.status, lpad(nextval('elig_card_seq')"
                             "::text, 10, '0') FROM elig_cards c JOIN elig_persons p USING "
                             "(person_id) WHERE c.card_no = $1 FOR UPDATE OF c",
                             1, p, err, sizeof(err));
    if (res == NULL || PQntuples(res) != 1) {
        registry_fail("%s", res ? "no such card" : err);
        PQclear(res);
        pg_rollback(r->pg);
        return res ? 1 : CLI_DEPENDENCY;
    }
    const char *cst = PQgetvalue(res, 0, 1), *pst = PQgetvalue(res, 0, 2);
    if (strcmp(cst, "active") != 0 && strcmp(cst, "frozen") != 0 && strcmp(cst, "lost") != 0) {
        char m[CARD_MASKED_MAX];
        registry_fail("card %s is %s: only a card in use or reported lost is replaced",
                      card_mask(m, sizeof(m), old), cst);
        PQclear(res);
        pg_rollback(r->pg);
        return 1;
    }
    if (strcmp(pst, "active") != 0) {
        registry_fail("the card holder is %s: no card is issued to them", pst);
        PQclear(res);
        pg_rollback(r->pg);
        return 1;
    }
    snprintf(person, personlen, "%s", PQgetvalue(res, 0, 0));
    snprintf(old_status, statuslen, "%s", cst);
    registry_card_make(r, PQgetvalue(res, 0, 3), pin, nc);
    PQclear(res);
    event_new_id(eid);
    /* the old card out of use first: one card in use per person */
    const char *q1[] = {old};
    const char *q2[] = {nc->card_no, person, nc->salt, nc->hash};
    const char *q3[] = {old, nc->card_no, person, reason, actor, eid};
    if (pg_exec(r->pg,
                "UPDATE elig_cards SET status = 'replaced', frozen_by = NULL, updated_at = now() "
                "WHERE card_no = $1",
                1, q1, err, sizeof(err)) < 0 ||
        pg_exec(r->pg,
                "INSERT INTO elig_cards (card_no, person_id, status, pin_salt, pin_hash) VALUES "
                "($1, $2, 'active', $3, $4)",
                4, q2, err, sizeof(err)) < 0 ||
        pg_exec(r->pg,
                "WITH o AS (UPDATE elig_cards SET replaced_by = $2 WHERE card_no = $1), i AS "
                "(UPDATE elig_issuances SET card_no = $2 WHERE card_no = $1 AND NOT published) "
                "INSERT INTO elig_card_carryovers (from_card_no, to_card_no, person_id, reason, "
                "actor, event_id) VALUES ($1, $2, $3, $4, $5, $6)",
                6, q3, err, sizeof(err)) < 0) {
        registry_fail("%s", err);
        pg_rollback(r->pg);
        return CLI_DEPENDENCY;
    }
    return registry_commit(r) < 0 ? CLI_DEPENDENCY : 0;
}

int carryover_replace(registry *r, const char *old, const char *reason, const char *pin, int wait_s,
                      const char *actor)
{
    registry_card nc;
    char person[IDENT_PERSON_LEN + 1], old_status[16];
    int rc = carryover_record(r, old, reason, pin, actor, &nc, person, sizeof(person), old_status,
                              sizeof(old_status));
    if (rc != 0)
        return rc;
    /* committed: the new card and its PIN are the cardholder's now, whatever
     * fails next (the daemon completes the Redis side and the carry-over) */
    printf("card %s replaced by card %s pin %s\n", old, nc.card_no, nc.pin);
    fflush(stdout);
    /* at once: the old card declines, the new one works */
    if (carryover_redis(r, old, nc.card_no, person, "active", nc.salt, nc.hash) < 0 ||
        carryover_events(r, old, nc.card_no, person, old_status, reason, actor) < 0)
        return CLI_DEPENDENCY;
    /* the money, once every swipe of the old card is posted */
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        long long holds = carryover_holds(r, old);
        if (holds < 0) {
            char m[CARD_MASKED_MAX];
            registry_fail("redis: cannot read the holds of card %s", card_mask(m, sizeof(m), old));
            return CLI_DEPENDENCY;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (holds == 0 || now.tv_sec - t0.tv_sec >= wait_s) {
            if (holds > 0) {
                printf("carry-over: pending, %lld swipes of card %s are not posted yet; the "
                       "eligibility daemon sends it when they are\n",
                       holds, old);
                return 0;
            }
            break;
        }
        struct timespec nap = {0, 100 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
    /* (the daemon may have sent it first: the command waited for it) */
    if (carryover_send_pending(r, old, false) < 0)
        return CLI_DEPENDENCY;
    char err[512];
    const char *p[] = {old};
    PGresult *res = pg_query(r->pg,
                             "SELECT sent_at IS NOT NULL FROM elig_card_carryovers WHERE "
                             "from_card_no = $1",
                             1, p, err, sizeof(err));
    bool done = res && PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    printf("carry-over: %s\n", done ? "sent" : "pending; the eligibility daemon sends it");
    return 0;
}
