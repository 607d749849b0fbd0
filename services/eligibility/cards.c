/*
 * cards: issuing a card, resetting its PIN, freezing and unfreezing it,
 * replacing it. See cards.h.
 *
 * Each is one audited PostgreSQL transaction, then the directory (the
 * gateway reads the card's record on its next swipe), then the events:
 * CardChanged on onecard.registry.v1, CardStatusChanged on
 * onecard.card-status.v1. A card an operator froze records frozen_by
 * 'operator', so a change of its holder's status never restarts it
 * (registry_settle). A replacement is carryover.c's.
 */
#include "cards.h"

#include "args.h"
#include "carryover.h"
#include "commands.h"
#include "ident.h"

#include "common/cli.h"
#include "common/card.h"

#include "registry.pb-c.h"

#include <stdio.h>
#include <string.h>

int cards_issue_command(registry *r, int argc, char **argv)
{
    int npos = args_check(argc, argv, "pin,actor");
    const char *pin = args_opt(argc, argv, "pin"), *actor = args_opt(argc, argv, "actor");
    if (npos != 1 || args_need(actor, "actor"))
        return 1;
    char err[512];
    if (pin != NULL && args_pin(pin) < 0)
        return 1;
    if (registry_begin(r, actor) < 0)
        return CLI_DEPENDENCY;
    const char *p[] = {argv[0]};
    PGresult *res = pg_query(r->pg,
                             "SELECT lpad(nextval('elig_card_seq')::text, 10, '0'), (SELECT "
                             "status FROM elig_persons WHERE person_id = $1)",
                             1, p, err, sizeof(err));
    if (res == NULL || PQgetisnull(res, 0, 1) || strcmp(PQgetvalue(res, 0, 1), "active") != 0) {
        registry_fail("%s", res ? "no such active person" : err);
        PQclear(res);
        pg_rollback(r->pg);
        return res ? 1 : CLI_DEPENDENCY;
    }
    registry_card nc;
    registry_card_make(r, PQgetvalue(res, 0, 0), pin, &nc);
    PQclear(res);
    const char *card = nc.card_no;
    const char *q[] = {card, argv[0], nc.salt, nc.hash};
    if (pg_exec(r->pg,
                "INSERT INTO elig_cards (card_no, person_id, status, pin_salt, pin_hash) VALUES "
                "($1, $2, 'active', $3, $4)",
                4, q, err, sizeof(err)) < 0) {
        pg_rollback(r->pg);
        if (strstr(err, "elig_cards_one_current")) {
            registry_fail("person %s already holds a card in use (replace it instead)", argv[0]);
            return 1;
        }
        registry_fail("%s", err);
        return CLI_DEPENDENCY;
    }
    if (registry_commit(r) < 0)
        return CLI_DEPENDENCY;
    directory_put_card_hashed(&r->dir, card, argv[0], "active", nc.salt, nc.hash);
    if (registry_sync(r) < 0 || registry_project_person(r, argv[0]) < 0)
        return CLI_DEPENDENCY;
    if (registry_card_changed(r, ONECARD__V1__REGISTRY_OP__CREATED, card, argv[0], "active",
                              actor) < 0 ||
        registry_flush(r) > 0)
        return CLI_DEPENDENCY;
    printf("card %s pin %s\n", card, nc.pin);
    return 0;
}

/* Sets a card's status in PostgreSQL (when it is in from), Redis, and
 * publishes CardStatusChanged: an operator's freeze or unfreeze (a freeze
 * records frozen_by 'operator', so a person's status never lifts it).
 * Returns 0, 1 when the card is not in from, -1 on failure. Inside no
 * transaction: opens its own. */
static int cards_set_status(registry *r, const char *card_no, const char *from, const char *to,
                            const char *reason, const char *actor, char *person, size_t personlen)
{
    char err[512];
    if (registry_begin(r, actor) < 0)
        return -1;
    const char *p[] = {card_no, from, to};
    PGresult *res = pg_query(r->pg,
                             "UPDATE elig_cards SET status = $3, frozen_by = CASE WHEN $3 = "
                             "'frozen' THEN 'operator' END, updated_at = now() WHERE card_no = $1 "
                             "AND status = $2 RETURNING person_id",
                             3, p, err, sizeof(err));
    if (res == NULL) {
        registry_fail("%s", err);
        pg_rollback(r->pg);
        return -1;
    }
    int n = PQntuples(res);
    if (n == 1)
        snprintf(person, personlen, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    if (registry_commit(r) < 0)
        return -1;
    if (n == 0)
        return 1;
    directory_set_card_status(&r->dir, card_no, to);
    if (registry_sync(r) < 0)
        return -1;
    return registry_card_status_changed(r, card_no, person, from, to, reason) < 0 ||
                   registry_flush(r) > 0
               ? -1
               : 0;
}

/* card freeze (freeze) or unfreeze CARD_NO --reason R --actor A. */
static int cards_status(registry *r, bool freeze, int argc, char **argv)
{
    int npos = args_check(argc, argv, "reason,actor");
    const char *reason = args_opt(argc, argv, "reason"), *actor = args_opt(argc, argv, "actor");
    if (npos != 1 || args_need(reason, "reason") || args_need(actor, "actor"))
        return 1;
    if (args_card(argv[0]) < 0)
        return 1;
    char person[IDENT_PERSON_LEN + 1];
    int rc = cards_set_status(r, argv[0], freeze ? "active" : "frozen",
                              freeze ? "frozen" : "active", reason, actor, person, sizeof(person));
    if (rc == 1) {
        char m[CARD_MASKED_MAX];
        registry_fail("card %s is not %s", card_mask(m, sizeof(m), argv[0]),
                      freeze ? "active" : "frozen");
        return 1;
    }
    if (rc < 0)
        return CLI_DEPENDENCY;
    printf("card %s %s\n", argv[0], freeze ? "frozen" : "active");
    return 0;
}

int cards_freeze_command(registry *r, int argc, char **argv)
{
    return cards_status(r, true, argc, argv);
}

int cards_unfreeze_command(registry *r, int argc, char **argv)
{
    return cards_status(r, false, argc, argv);
}

int cards_replace_command(registry *r, int argc, char **argv)
{
    int npos = args_check(argc, argv, "reason,pin,wait,actor");
    const char *reason = args_opt(argc, argv, "reason"), *actor = args_opt(argc, argv, "actor");
    const char *w = args_opt(argc, argv, "wait");
    int wait_s = 30;
    if (npos != 1)
        return COMMANDS_USAGE;
    const char *pin = args_opt(argc, argv, "pin");
    if (args_need(reason, "reason") || args_need(actor, "actor") ||
        (w && args_int(w, "wait", 0, 3600, &wait_s)) || args_card(argv[0]) < 0 ||
        (pin && args_pin(pin) < 0))
        return 1;
    static const char *const reasons[] = {"lost", "damaged", "other", NULL};
    if (!args_one_of(reason, reasons)) {
        registry_fail("--reason %s is not lost, damaged or other", reason);
        return 1;
    }
    return carryover_replace(r, argv[0], reason, pin, wait_s, actor);
}

int cards_reset_pin_command(registry *r, int argc, char **argv)
{
    int npos = args_check(argc, argv, "pin,actor");
    const char *pin = args_opt(argc, argv, "pin"), *actor = args_opt(argc, argv, "actor");
    if (npos != 1 || args_need(pin, "pin") || args_need(actor, "actor") || args_pin(pin) < 0)
        return 1;
    char salt[33], hash[41], err[512];
    registry_pin_hash(r, argv[0], pin, salt, hash);
    if (registry_begin(r, actor) < 0)
        return CLI_DEPENDENCY;
    const char *p[] = {argv[0], salt, hash};
    PGresult *res = pg_query(r->pg,
                             "UPDATE elig_cards SET pin_salt = $2, pin_hash = $3, updated_at = "
                             "now() WHERE card_no = $1 AND status IN ('active', 'frozen') "
                             "RETURNING person_id, status",
                             3, p, err, sizeof(err));
    if (res == NULL || PQntuples(res) != 1) {
        registry_fail("%s", res ? "no such card in use" : err);
        PQclear(res);
        pg_rollback(r->pg);
        return res ? 1 : CLI_DEPENDENCY;
    }
    if (registry_commit(r) < 0) {
        PQclear(res);
        return CLI_DEPENDENCY;
    }
    /* the full record: also clears the wrong-PIN counter and the lock */
    directory_put_card(&r->dir, argv[0], PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), pin,
                       r->cfg->pin_pepper);
    int rc =
        registry_sync(r) < 0 ||
                registry_card_changed(r, ONECARD__V1__REGISTRY_OP__UPDATED, argv[0],
                                      PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), actor) < 0 ||
                registry_flush(r) > 0
            ? CLI_DEPENDENCY
            : 0;
    PQclear(res);
    if (rc == 0)
        printf("card %s PIN reset\n", argv[0]);
    return rc;
}
