/*
 * reimburse: record and list refunded invoices. See reimburse.h.
 */
#include "reimburse.h"

#include "args.h"
#include "claims.h"
#include "commands.h"
#include "issue.h"

#include "common/cli.h"

#include <stdio.h>
#include <string.h>

/* What was refunded for the item to the person for invoices paid in a year. */
static const char reimburse_already[] =
    "SELECT coalesce(sum(amount_fen), 0) FROM elig_reimbursements WHERE person_id = $1 AND "
    "item_code = $2 AND extract(year FROM paid_on)::text = $3";

/* An invoice is refunded once per item: 0, 1 (printed, naming the first
 * refund), 2. */
static int reimburse_once(registry *r, const char *item, const char *invoice)
{
    char err[512];
    const char *q[] = {item, invoice};
    PGresult *res = pg_query(r->pg,
                             "SELECT reimbursement_id, recorded_at::date FROM elig_reimbursements "
                             "WHERE item_code = $1 AND invoice = $2",
                             2, q, err, sizeof(err));
    if (res == NULL) {
        registry_fail("%s", err);
        return CLI_DEPENDENCY;
    }
    int rc = 0;
    if (PQntuples(res) == 1) {
        registry_fail("invoice %s for %s is refunded already: %s, recorded on %s", invoice, item,
                      PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
        rc = 1;
    }
    PQclear(res);
    return rc;
}

static int reimburse_record(registry *r, int argc, char **argv)
{
    int npos = args_check(argc, argv, "item,amount,invoice,paid-on,actor");
    const char *item = args_opt(argc, argv, "item"), *amount = args_opt(argc, argv, "amount");
    const char *invoice = args_opt(argc, argv, "invoice"), *paid = args_opt(argc, argv, "paid-on");
    const char *actor = args_opt(argc, argv, "actor");
    if (npos != 1 || args_need(item, "item") || args_need(amount, "amount") ||
        args_need(invoice, "invoice") || args_need(paid, "paid-on") || args_need(actor, "actor") ||
        args_reference(invoice, "invoice"))
        return 1;
    char err[512];
    int32_t day;
    if (rules_date_parse(paid, &day, err, sizeof(err)) < 0) {
        registry_fail("--paid-on: %s", err);
        return 1;
    }
    if (day > registry_today()) {
        registry_fail("--paid-on %s is in the future", paid);
        return 1;
    }
    catalogue c;
    if (registry_catalogue(r, day, &c) < 0)
        return CLI_DEPENDENCY;
    if (registry_begin(r, actor) < 0) {
        catalogue_free(&c);
        return CLI_DEPENDENCY;
    }
    claims_claim cl;
    int rc = claims_check(r, &c, DIRECTORY_KIND_REIMBURSE, argv[0], item, amount, day, &cl);
    if (rc == 0)
        rc = reimburse_once(r, item, invoice);
    if (rc == 0)
        rc = claims_cap(r, &cl, argv[0], reimburse_already);
    /* paid in the month it is recorded */
    char today[RULES_DATE_LEN], fen[24];
    snprintf(cl.period, sizeof(cl.period), "%.7s", rules_date_format(today, registry_today()));
    snprintf(fen, sizeof(fen), "%lld", (long long)cl.amount_fen);
    PGresult *res = NULL;
    if (rc == 0) {
        const char *p[] = {argv[0],
                           item,
                           invoice,
                           paid,
                           fen,
                           actor,
                           cl.card_no,
                           cl.period,
                           cl.item->fund_source,
                           cl.item->programme};
        res =
            pg_query(r->pg,
                     "WITH n AS (SELECT 'RB-' || nextval('elig_reimbursement_seq') AS id) "
                     "INSERT INTO elig_reimbursements (reimbursement_id, person_id, item_code, "
                     "invoice, paid_on, amount_fen, recorded_by, topup_id, card_no, period, "
                     "fund_source, programme) SELECT n.id, $1, $2, $3, $4::date, $5::bigint, "
                     "$6, 'rb-' || substr(n.id, 4), $7, $8, $9, $10 FROM n ON CONFLICT (item_code, "
                     "invoice) DO NOTHING RETURNING reimbursement_id",
                     10, p, err, sizeof(err));
        if (res == NULL) {
            registry_fail("%s", err);
            rc = CLI_DEPENDENCY;
        } else if (PQntuples(res) == 0) {
            /* recorded by another command since reimburse_once looked */
            if (reimburse_once(r, item, invoice) == 0)
                registry_fail("invoice %s for %s: recorded concurrently", invoice, item);
            rc = 1;
        }
    }
    rc = registry_end(r, rc);
    if (rc == 0) {
        char id[32];
        snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
        long published = 0;
        if (issue_publish(r, cl.period, &published) < 0)
            rc = CLI_DEPENDENCY;
        printf("reimbursement %s: invoice %s, %lld fen of %s, paid to person %.12s… in the %s "
               "person payout%s\n",
               id, invoice, (long long)cl.amount_fen, item, argv[0], cl.period,
               rc ? " (not yet published: the next issue or reimburse run publishes it)" : "");
    }
    PQclear(res);
    catalogue_free(&c);
    return rc;
}

static int reimburse_list(registry *r, int argc, char **argv)
{
    if (args_check(argc, argv, "person") != 0)
        return 1;
    const char *p[] = {args_opt(argc, argv, "person")};
    char err[512];
    PGresult *res = pg_query(r->pg,
                             "SELECT reimbursement_id, item_code, invoice, paid_on, amount_fen, "
                             "period, left(person_id, 12), CASE WHEN published THEN 'published' "
                             "ELSE 'unpublished' END FROM elig_reimbursements WHERE ($1::text IS "
                             "NULL OR person_id = $1) ORDER BY recorded_at, reimbursement_id",
                             1, p, err, sizeof(err));
    if (res == NULL) {
        registry_fail("%s", err);
        return CLI_DEPENDENCY;
    }
    printf("%-10s %-18s %-20s %-10s %12s %-7s %-12s  %s\n", "id", "item", "invoice", "paid on",
           "fen", "payout", "person", "state");
    for (int i = 0; i < PQntuples(res); i++)
        printf("%-10s %-18s %-20s %-10s %12s %-7s %s…  %s\n", PQgetvalue(res, i, 0),
               PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), PQgetvalue(res, i, 3),
               PQgetvalue(res, i, 4), PQgetvalue(res, i, 5), PQgetvalue(res, i, 6),
               PQgetvalue(res, i, 7));
    PQclear(res);
    return 0;
}

int reimburse_command(registry *r, int argc, char **argv)
{
    const char *sub = argv[0];
    argc--, argv++;
    if (strcmp(sub, "record") == 0)
        return reimburse_record(r, argc, argv);
    if (strcmp(sub, "list") == 0)
        return reimburse_list(r, argc, argv);
    return COMMANDS_USAGE;
}
