/*
 * quotes: submit, approve, reject and list quotes. See quotes.h.
 */
#include "quotes.h"

#include "args.h"
#include "claims.h"
#include "commands.h"
#include "issue.h"

#include "common/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What was approved for the item to the person in a year. */
static const char quotes_already[] =
    "SELECT coalesce(sum(amount_fen), 0) FROM elig_quotes WHERE person_id = $1 AND item_code = "
    "$2 AND state = 'approved' AND left(period, 4) = $3";

static int quotes_submit(registry *r, int argc, char **argv)
{
    int npos = args_check(argc, argv, "item,provider,amount,reference,actor");
    const char *item = args_opt(argc, argv, "item"), *prov = args_opt(argc, argv, "provider");
    const char *amount = args_opt(argc, argv, "amount"), *ref = args_opt(argc, argv, "reference");
    const char *actor = args_opt(argc, argv, "actor");
    if (npos != 1 || args_need(item, "item") || args_need(prov, "provider") ||
        args_need(amount, "amount") || args_need(ref, "reference") || args_need(actor, "actor") ||
        args_reference(ref, "reference"))
        return 1;
    catalogue c;
    if (registry_catalogue(r, registry_today(), &c) < 0)
        return CLI_DEPENDENCY;
    if (registry_begin(r, actor) < 0) {
        catalogue_free(&c);
        return CLI_DEPENDENCY;
    }
    claims_claim cl;
    int rc =
        claims_check(r, &c, DIRECTORY_KIND_QUOTE, argv[0], item, amount, registry_today(), &cl);
    if (rc == 0)
        rc = claims_cap(r, &cl, argv[0], quotes_already);
    char err[512], fen[24];
    snprintf(fen, sizeof(fen), "%lld", (long long)cl.amount_fen);
    const char *p[] = {argv[0], item, prov, ref, fen, actor};
    PGresult *res = NULL;
    if (rc == 0) {
        res = pg_query(r->pg,
                       "INSERT INTO elig_quotes (quote_id, person_id, item_code, provider_id, "
                       "reference, amount_fen, submitted_by) SELECT 'QT-' || "
                       "nextval('elig_quote_seq'), $1, $2, $3, $4, $5::bigint, $6 FROM "
                       "elig_providers v JOIN elig_designations d USING (provider_id) WHERE "
                       "v.provider_id = $3 AND d.item_code = $2 AND v.status = 'active' ON "
                       "CONFLICT (provider_id, reference) DO NOTHING RETURNING quote_id",
                       6, p, err, sizeof(err));
        if (res == NULL) {
            registry_fail("%s", err);
            rc = CLI_DEPENDENCY;
        } else if (PQntuples(res) == 0) {
            PQclear(res);
            const char *q[] = {prov, ref};
            res = pg_query(r->pg,
                           "SELECT quote_id FROM elig_quotes WHERE provider_id = $1 AND "
                           "reference = $2",
                           2, q, err, sizeof(err));
            if (res && PQntuples(res) == 1)
                registry_fail("provider %s has quoted %s already: %s", prov, ref,
                              PQgetvalue(res, 0, 0));
            else
                registry_fail("provider %.64s is not an active provider designated for %s", prov,
                              item);
            rc = 1;
        }
    }
    rc = registry_end(r, rc);
    if (rc == 0)
        printf("quote %s: %s for person %.12s… at %s, %lld fen, submitted\n", PQgetvalue(res, 0, 0),
               item, argv[0], prov, (long long)cl.amount_fen);
    PQclear(res);
    catalogue_free(&c);
    return rc;
}

/* Approves or rejects (reason set) the quote: 0, 1, 2. */
static int quotes_decide(registry *r, const char *id, const char *reason, const char *actor)
{
    catalogue c;
    if (registry_catalogue(r, registry_today(), &c) < 0)
        return CLI_DEPENDENCY;
    if (registry_begin(r, actor) < 0) {
        catalogue_free(&c);
        return CLI_DEPENDENCY;
    }
    char err[512];
    const char *p[] = {id};
    PGresult *q = pg_query(r->pg,
                           "SELECT person_id, item_code, provider_id, amount_fen, state, "
                           "coalesce(decided_by, ''), coalesce(decided_at::text, '') FROM "
                           "elig_quotes WHERE quote_id = $1 FOR UPDATE",
                           1, p, err, sizeof(err));
    int rc = q ? 0 : CLI_DEPENDENCY;
    if (q == NULL)
        registry_fail("%s", err);
    else if (PQntuples(q) == 0) {
        registry_fail("no quote %.32s", id);
        rc = 1;
    } else if (strcmp(PQgetvalue(q, 0, 4), "submitted") != 0) {
        registry_fail("quote %s is %s already (by %s at %.19s): a quote is decided once", id,
                      PQgetvalue(q, 0, 4), PQgetvalue(q, 0, 5), PQgetvalue(q, 0, 6));
        rc = 1;
    }
    const char *person = rc == 0 ? PQgetvalue(q, 0, 0) : "";
    claims_claim cl = {0};
    if (rc == 0 && reason == NULL) {
        rc = claims_check(r, &c, DIRECTORY_KIND_QUOTE, person, PQgetvalue(q, 0, 1),
                          PQgetvalue(q, 0, 3), registry_today(), &cl);
        if (rc == 0)
            rc = claims_cap(r, &cl, person, quotes_already);
    }
    if (rc == 0) {
        const char *u[] = {id, actor, reason};
        const char *v[] = {id,
                           actor,
                           cl.card_no,
                           cl.period,
                           cl.item ? cl.item->fund_source : NULL,
                           cl.item ? cl.item->programme : NULL};
        PGresult *res =
            reason
                ? pg_query(r->pg,
                           "UPDATE elig_quotes SET state = 'rejected', decided_by = $2, "
                           "decided_at = now(), reason = $3 WHERE quote_id = $1 RETURNING 1",
                           3, u, err, sizeof(err))
                : pg_query(r->pg,
                           "UPDATE elig_quotes SET state = 'approved', decided_by = $2, "
                           "decided_at = now(), topup_id = 'qt-' || substr($1, 4), card_no = $3, "
                           "period = $4, fund_source = $5, programme = $6 WHERE quote_id = $1 "
                           "RETURNING 1",
                           6, v, err, sizeof(err));
        if (res == NULL) {
            registry_fail("%s", err);
            rc = CLI_DEPENDENCY;
        }
        PQclear(res);
    }
    rc = registry_end(r, rc);
    if (rc != 0) {
        /* refused or failed: printed, rolled back */
    } else if (reason) {
        printf("quote %s: rejected (%s)\n", id, reason);
    } else {
        /* the credit is spent at the quoting provider only */
        directory_put_quote(&r->dir, cl.card_no, cl.item->code, PQgetvalue(q, 0, 2));
        long published = 0;
        if (registry_sync(r) < 0 || issue_publish(r, cl.period, &published) < 0)
            rc = CLI_DEPENDENCY;
        printf("quote %s: approved, %lld fen of %s credited to card …%s, spendable at %s%s\n", id,
               (long long)cl.amount_fen, cl.item->code, cl.card_no + strlen(cl.card_no) - 4,
               PQgetvalue(q, 0, 2), rc ? " (not yet published: run it again)" : "");
    }
    PQclear(q);
    catalogue_free(&c);
    return rc;
}

static int quotes_list(registry *r, int argc, char **argv)
{
    int npos = args_check(argc, argv, "person,state");
    if (npos != 0)
        return 1;
    const char *p[] = {args_opt(argc, argv, "person"), args_opt(argc, argv, "state")};
    char err[512];
    PGresult *res = pg_query(r->pg,
                             "SELECT quote_id, state, item_code, provider_id, reference, "
                             "amount_fen, left(person_id, 12), coalesce(reason, '') FROM "
                             "elig_quotes WHERE ($1::text IS NULL OR person_id = $1) AND ($2::text "
                             "IS NULL OR state = $2) ORDER BY state = 'submitted' DESC, "
                             "submitted_at, quote_id",
                             2, p, err, sizeof(err));
    if (res == NULL) {
        registry_fail("%s", err);
        return CLI_DEPENDENCY;
    }
    printf("%-10s %-10s %-18s %-16s %-16s %12s  %s\n", "quote", "state", "item", "provider",
           "reference", "fen", "person");
    for (int i = 0; i < PQntuples(res); i++)
        printf("%-10s %-10s %-18s %-16s %-16s %12s  %s…%s%s\n", PQgetvalue(res, i, 0),
               PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), PQgetvalue(res, i, 3),
               PQgetvalue(res, i, 4), PQgetvalue(res, i, 5), PQgetvalue(res, i, 6),
               *PQgetvalue(res, i, 7) ? "  " : "", PQgetvalue(res, i, 7));
    PQclear(res);
    return 0;
}

int quotes_command(registry *r, int argc, char **argv)
{
    const char *sub = argv[0];
    argc--, argv++;
    if (strcmp(sub, "submit") == 0)
        return quotes_submit(r, argc, argv);
    if (strcmp(sub, "list") == 0)
        return quotes_list(r, argc, argv);
    bool approve = strcmp(sub, "approve") == 0;
    if (!approve && strcmp(sub, "reject") != 0)
        return COMMANDS_USAGE;
    int npos = args_check(argc, argv, approve ? "actor" : "reason,actor");
    const char *actor = args_opt(argc, argv, "actor"), *reason = args_opt(argc, argv, "reason");
    if (npos != 1 || args_need(actor, "actor") || (!approve && args_need(reason, "reason")))
        return 1;
    return quotes_decide(r, argv[0], approve ? NULL : reason, actor);
}
