/*
 * commands: the operator commands. See commands.h.
 *
 * Arguments are checked before anything is touched; each command is one
 * audited PostgreSQL transaction, then the directory, then its event.
 */
#include "commands.h"

#include "bulk.h"
#include "carryover.h"
#include "ident.h"
#include "synth.h"

#include "common/card.h"
#include "common/event.h"

#include "eligibility.pb-c.h"
#include "registry.pb-c.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* ================================================================ options */

/* The value of --name in argv (pairs after the positional ones), or NULL. */
static const char *opt(int argc, char **argv, const char *name)
{
    for (int i = 0; i + 1 < argc; i++)
        if (strncmp(argv[i], "--", 2) == 0 && strcmp(argv[i] + 2, name) == 0)
            return argv[i + 1];
    return NULL;
}

/* Every --option in argv must be one of allowed ("a,b,c") and have a value.
 * Returns the number of positional arguments before the first option, or
 * -1 after printing the problem. */
static int opts_check(int argc, char **argv, const char *allowed)
{
    int npos = 0;
    while (npos < argc && strncmp(argv[npos], "--", 2) != 0)
        npos++;
    for (int i = npos; i < argc; i += 2) {
        if (strncmp(argv[i], "--", 2) != 0) {
            registry_fail("unexpected argument \"%s\"", argv[i]);
            return -1;
        }
        char want[48];
        snprintf(want, sizeof(want), ",%s,", argv[i] + 2);
        char list[512];
        snprintf(list, sizeof(list), ",%s,", allowed);
        if (strstr(list, want) == NULL) {
            registry_fail("unknown option %s (allowed: %s)", argv[i], allowed);
            return -1;
        }
        if (i + 1 >= argc) {
            registry_fail("option %s needs a value", argv[i]);
            return -1;
        }
    }
    return npos;
}

static int need(const char *v, const char *name)
{
    if (v == NULL || v[0] == '\0') {
        registry_fail("--%s is required", name);
        return -1;
    }
    return 0;
}

static int parse_int(const char *v, const char *name, int lo, int hi, int *out)
{
    char *end = NULL;
    long x = v ? strtol(v, &end, 10) : 0;
    if (v == NULL || v[0] == '\0' || *end != '\0' || x < lo || x > hi) {
        registry_fail("--%s \"%s\" must be a whole number %d..%d", name, v ? v : "", lo, hi);
        return -1;
    }
    *out = (int)x;
    return 0;
}

/* A PIN as the gateway takes it: 6 digits. Prints why not. */
static int pin_arg_ok(const char *pin)
{
    if (strlen(pin) != 6 || strspn(pin, "0123456789") != 6) {
        registry_fail("--pin must be 6 digits");
        return -1;
    }
    return 0;
}

/* A card number: 16-19 digits with its Luhn digit. Prints why not. */
static int card_arg_ok(const char *card_no)
{
    if (!card_no_valid(card_no)) {
        registry_fail("card number %s fails the Luhn check or is not 16-19 digits", card_no);
        return -1;
    }
    return 0;
}

static bool one_of(const char *v, const char *const *names)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(v, names[i]) == 0)
            return true;
    return false;
}

static const char *const categories[] = {"visual",       "hearing",     "speech",   "limb",
                                         "intellectual", "psychiatric", "multiple", NULL};
static const char *const households[] = {"none", "dibao", "near-poor", NULL};
static const char *const statuses[] = {"active", "deceased", "revoked", "moved-out", NULL};

static void random_hex(char *out, int bytes)
{
    unsigned char r[32];
    if (getrandom(r, (size_t)bytes, 0) != bytes)
        abort();
    for (int i = 0; i < bytes; i++)
        snprintf(out + 2 * i, 3, "%02x", r[i]);
}

/* ============================================================== catalogue */

static int cmd_catalogue(registry *r, int argc, char **argv)
{
    int npos = opts_check(argc, argv, "actor");
    if (npos != 2 || strcmp(argv[0], "load") != 0) {
        registry_fail("usage: catalogue load FILE [--actor A]");
        return 1;
    }
    const char *actor = opt(argc, argv, "actor") ? opt(argc, argv, "actor") : "operator";
    catalogue c;
    char err[512];
    if (catalogue_load_file(&c, argv[1], err, sizeof(err)) < 0) {
        registry_fail("catalogue %s: %s", argv[1], err);
        return 1;
    }
    if (registry_begin(r, actor) < 0) {
        catalogue_free(&c);
        return 2;
    }
    int changed = 0, defaults = 0;
    for (int i = 0; i < c.nitems; i++) {
        const rules_item *it = &c.items[i];
        static const char *const units[] = {"month", "year", "once", "service"};
        static const char *const tiers[] = {"flat", "care", "dibao30", "limb-rehab"};
        char std[24], ann[24], day[24], from[16], to[16];
        int y, m, d;
        snprintf(std, sizeof(std), "%lld", (long long)it->standard_fen);
        snprintf(ann, sizeof(ann), "%lld", (long long)it->annual_cap_fen);
        snprintf(day, sizeof(day), "%lld", (long long)it->daily_cap_fen);
        rules_civil(it->from_day, &y, &m, &d);
        snprintf(from, sizeof(from), "%04d-%02d-%02d", y, m, d);
        if (it->to_day) {
            rules_civil(it->to_day, &y, &m, &d);
            snprintf(to, sizeof(to), "%04d-%02d-%02d", y, m, d);
        }
        const char *p[] = {it->code,
                           c.version,
                           it->category,
                           it->name_zh,
                           it->name_en,
                           it->wallet,
                           units[it->unit],
                           std,
                           tiers[it->tier],
                           it->eligibility,
                           ann,
                           day,
                           it->exclusive[0] ? it->exclusive : NULL,
                           it->fund_source,
                           it->programme,
                           it->issued ? "t" : "f",
                           from,
                           it->to_day ? to : NULL,
                           it->is_default ? "t" : "f",
                           it->procedure,
                           it->legal_basis};
        PGresult *res = pg_query(
            r->pg,
            "INSERT INTO elig_catalogue_items AS c VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
            "$10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21) ON CONFLICT (code) DO "
            "UPDATE SET version = EXCLUDED.version, category = EXCLUDED.category, name_zh = "
            "EXCLUDED.name_zh, name_en = EXCLUDED.name_en, wallet = EXCLUDED.wallet, unit = "
            "EXCLUDED.unit, standard_fen = EXCLUDED.standard_fen, tier_rule = EXCLUDED.tier_rule, "
            "eligibility = EXCLUDED.eligibility, annual_cap_fen = EXCLUDED.annual_cap_fen, "
            "daily_cap_fen = EXCLUDED.daily_cap_fen, exclusive_group = EXCLUDED.exclusive_group, "
            "fund_source = EXCLUDED.fund_source, programme = EXCLUDED.programme, issued = "
            "EXCLUDED.issued, effective_from = EXCLUDED.effective_from, effective_to = "
            "EXCLUDED.effective_to, is_default = EXCLUDED.is_default, procedure = "
            "EXCLUDED.procedure, legal_basis = EXCLUDED.legal_basis WHERE (c.*) IS DISTINCT FROM "
            "(EXCLUDED.*) RETURNING code",
            21, p, err, sizeof(err));
        if (res == NULL) {
            registry_fail("catalogue item %s: %s", it->code, err);
            pg_rollback(r->pg);
            catalogue_free(&c);
            return 2;
        }
        changed += PQntuples(res);
        PQclear(res);
        defaults += it->is_default;
        directory_item di = {it->code,         it->wallet,        it->category,
                             it->standard_fen, it->daily_cap_fen, it->annual_cap_fen};
        directory_put_item(&r->dir, &di);
    }
    int rc = registry_commit(r) < 0 || registry_sync(r) < 0 ? 2 : 0;
    if (rc == 0)
        printf("catalogue %s: %d items, %d changed, %d figures marked as defaults to confirm\n",
               c.version, c.nitems, changed, defaults);
    catalogue_free(&c);
    return rc;
}

/* ================================================================ persons */

static int cmd_person_add(registry *r, int argc, char **argv)
{
    if (opts_check(argc, argv,
                   "national-id,name,category,grade,care-level,birth,district,town,village,"
                   "household,phone,since,actor") < 0)
        return 1;
    const char *id = opt(argc, argv, "national-id"), *name = opt(argc, argv, "name");
    const char *cat = opt(argc, argv, "category"), *birth = opt(argc, argv, "birth");
    const char *district = opt(argc, argv, "district"), *town = opt(argc, argv, "town");
    const char *village = opt(argc, argv, "village"), *hh = opt(argc, argv, "household");
    const char *actor = opt(argc, argv, "actor"), *since = opt(argc, argv, "since");
    int grade, care;
    char err[512];
    int32_t bday, sday = registry_today();
    if (need(id, "national-id") || need(name, "name") || need(cat, "category") ||
        need(birth, "birth") || need(district, "district") || need(town, "town") ||
        need(village, "village") || need(hh, "household") || need(actor, "actor") ||
        parse_int(opt(argc, argv, "grade"), "grade", 1, 4, &grade) ||
        parse_int(opt(argc, argv, "care-level"), "care-level", 0, 3, &care))
        return 1;
    if (ident_national_id_check(id, err, sizeof(err)) < 0) {
        registry_fail("%s", err);
        return 1;
    }
    if (!one_of(cat, categories) || !one_of(hh, households)) {
        registry_fail("unknown %s \"%s\"", one_of(cat, categories) ? "household" : "category",
                      one_of(cat, categories) ? hh : cat);
        return 1;
    }
    if (rules_date_parse(birth, &bday, err, sizeof(err)) < 0 ||
        (since && rules_date_parse(since, &sday, err, sizeof(err)) < 0)) {
        registry_fail("%s", err);
        return 1;
    }
    if (bday > registry_today() || sday > registry_today() + 366) {
        registry_fail("%s is in the future", bday > registry_today() ? "--birth" : "--since");
        return 1;
    }
    char pid[IDENT_PERSON_LEN + 1], g[4], c[4], sd[16], ev[80];
    int y, m, d;
    ident_person_id(pid, r->cfg->id_salt, id);
    snprintf(g, sizeof(g), "%d", grade);
    snprintf(c, sizeof(c), "%d", care);
    rules_civil(sday, &y, &m, &d);
    snprintf(sd, sizeof(sd), "%04d-%02d-%02d", y, m, d);
    snprintf(ev, sizeof(ev), "reg-%.40s", pid);
    if (registry_begin(r, actor) < 0)
        return 2;
    const char *p[] = {
        pid, cat, g, c, birth, district, town, village, hh, sd, name, opt(argc, argv, "phone"), ev};
    PGresult *res = pg_query(
        r->pg,
        "WITH p AS (INSERT INTO elig_persons (person_id, category, grade, care_level, birth_date, "
        "district, town, village, household, registered) VALUES ($1, $2, $3::int, $4::int, $5, "
        "$6, $7, $8, $9, $10) ON CONFLICT DO NOTHING RETURNING person_id), "
        "q AS (INSERT INTO elig_person_private SELECT person_id, $11, $12 FROM p), "
        "c AS (INSERT INTO elig_person_changes (person_id, attr, value, effective_from, event_id, "
        "source) SELECT person_id, a, v, $10::date, $13, 'registration' FROM p, (VALUES "
        "('category', $2), ('grade', $3::text), ('care_level', $4::text), ('household', $9), "
        "('status', "
        "'active')) x(a, v)) SELECT count(*) FROM p",
        13, p, err, sizeof(err));
    if (res == NULL) {
        registry_fail("%s", err);
        pg_rollback(r->pg);
        return 2;
    }
    bool created = strcmp(PQgetvalue(res, 0, 0), "1") == 0;
    PQclear(res);
    if (registry_commit(r) < 0)
        return 2;
    if (!created) {
        printf("person %s already registered (nothing changed)\n", pid);
        return 0;
    }
    char eid[EVENT_ID_LEN + 1];
    event_new_id(eid);
    Onecard__V1__PersonChanged pc = ONECARD__V1__PERSON_CHANGED__INIT;
    pc.event_id = eid;
    pc.op = ONECARD__V1__REGISTRY_OP__CREATED;
    pc.person_id = pid;
    pc.category = (char *)cat;
    pc.grade = grade;
    pc.care_level = care;
    pc.birth_date = (char *)birth;
    pc.district = (char *)district;
    pc.town = (char *)town;
    pc.village = (char *)village;
    pc.household_status = (char *)hh;
    pc.actor = (char *)actor;
    pc.occurred_at_ms = event_now_ms();
    if (registry_publish(r, &pc.base, pid) < 0)
        return 2;
    printf("person %s\n", pid);
    return 0;
}

/* Sets a card's status in PostgreSQL (when it is in from), Redis, and
 * publishes CardStatusChanged: an operator's freeze or unfreeze (a freeze
 * records frozen_by 'operator', so a person's status never lifts it).
 * Returns 0, 1 when the card is not in from, -1 on failure. Inside no
 * transaction: opens its own. */
static int card_set_status(registry *r, const char *card_no, const char *from, const char *to,
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

static int cmd_person_modify(registry *r, int argc, char **argv)
{
    int npos = opts_check(argc, argv, "grade,care-level,household,category,status,effective,actor");
    if (npos != 1) {
        registry_fail("usage: person modify PERSON_ID [--grade G] [--care-level L] [--household "
                      "H] [--category C] [--status S] --effective YYYY-MM-DD --actor A");
        return 1;
    }
    const char *pid = argv[0], *eff = opt(argc, argv, "effective"),
               *actor = opt(argc, argv, "actor");
    const char *hh = opt(argc, argv, "household"), *cat = opt(argc, argv, "category");
    const char *st = opt(argc, argv, "status");
    const char *g = opt(argc, argv, "grade"), *cl = opt(argc, argv, "care-level");
    int32_t eday;
    int tmp;
    char err[512];
    if (need(eff, "effective") || need(actor, "actor") ||
        (g && parse_int(g, "grade", 1, 4, &tmp)) || (cl && parse_int(cl, "care-level", 0, 3, &tmp)))
        return 1;
    if (rules_date_parse(eff, &eday, err, sizeof(err)) < 0) {
        registry_fail("--effective: %s", err);
        return 1;
    }
    if (eday > registry_today() + 366) {
        registry_fail("--effective %s is more than a year in the future", eff);
        return 1;
    }
    if ((hh && !one_of(hh, households)) || (cat && !one_of(cat, categories)) ||
        (st && !one_of(st, statuses))) {
        registry_fail("unknown household, category or status");
        return 1;
    }
    if (!hh && !cat && !st && !g && !cl) {
        registry_fail("nothing to modify");
        return 1;
    }
    char ev[EVENT_ID_LEN + 1];
    event_new_id(ev);
    if (registry_begin(r, actor) < 0)
        return 2;
    const char *p[] = {pid, eff, ev, cat, g, cl, hh, st};
    PGresult *res = pg_query(
        r->pg,
        "WITH c AS (INSERT INTO elig_person_changes (person_id, attr, value, effective_from, "
        "event_id, source) SELECT $1, a, v, $2::date, $3, 'operator' FROM (VALUES ('category', "
        "$4), ('grade', $5), ('care_level', $6), ('household', $7), ('status', $8)) x(a, v) "
        "WHERE v IS NOT NULL AND EXISTS (SELECT 1 FROM elig_persons WHERE person_id = $1) "
        "RETURNING 1) SELECT count(*) FROM c",
        8, p, err, sizeof(err));
    if (res == NULL || strcmp(PQgetvalue(res, 0, 0), "0") == 0) {
        registry_fail("%s", res ? "no such person" : err);
        PQclear(res);
        pg_rollback(r->pg);
        return res ? 1 : 2;
    }
    PQclear(res);
    /* the attributes in force today, and the card following the status
     * at once (a death, revocation or move stops it; becoming active again
     * restarts one stopped that way) */
    pg_array one = {0};
    pg_array_add(&one, pid);
    const char *persons = pg_array_text(&one);
    PGresult *cards = persons ? registry_settle(r, persons) : NULL;
    pg_array_free(&one);
    if (cards == NULL) {
        pg_rollback(r->pg);
        return 2;
    }
    if (registry_commit(r) < 0) {
        PQclear(cards);
        return 2;
    }
    if (registry_settled(r, cards) < 0)
        return 2;
    if (registry_project_person(r, pid) < 0)
        return 2;
    Onecard__V1__PersonChanged pc = ONECARD__V1__PERSON_CHANGED__INIT;
    char eid[EVENT_ID_LEN + 1];
    event_new_id(eid);
    pc.event_id = eid;
    pc.op = ONECARD__V1__REGISTRY_OP__UPDATED;
    pc.person_id = (char *)pid;
    pc.actor = (char *)actor;
    pc.occurred_at_ms = event_now_ms();
    if (registry_publish(r, &pc.base, pid) < 0)
        return 2;
    printf("person %s modified from %s\n", pid, eff);
    return 0;
}

/* ================================================================== cards */

static int cmd_card_issue(registry *r, int argc, char **argv)
{
    int npos = opts_check(argc, argv, "pin,actor");
    const char *pin = opt(argc, argv, "pin"), *actor = opt(argc, argv, "actor");
    if (npos != 1 || need(actor, "actor"))
        return 1;
    char err[512];
    if (pin != NULL && pin_arg_ok(pin) < 0)
        return 1;
    if (registry_begin(r, actor) < 0)
        return 2;
    const char *p[] = {argv[0]};
    PGresult *res = pg_query(r->pg,
                             "SELECT lpad(nextval('elig_card_seq')::text, 10, '0'), (SELECT "
                             "status FROM elig_persons WHERE person_id = $1)",
                             1, p, err, sizeof(err));
    if (res == NULL || PQgetisnull(res, 0, 1) || strcmp(PQgetvalue(res, 0, 1), "active") != 0) {
        registry_fail("%s", res ? "no such active person" : err);
        PQclear(res);
        pg_rollback(r->pg);
        return res ? 1 : 2;
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
        return 2;
    }
    if (registry_commit(r) < 0)
        return 2;
    directory_put_card_hashed(&r->dir, card, argv[0], "active", nc.salt, nc.hash);
    if (registry_sync(r) < 0 || registry_project_person(r, argv[0]) < 0)
        return 2;
    if (registry_card_changed(r, ONECARD__V1__REGISTRY_OP__CREATED, card, argv[0], "active",
                              actor) < 0 ||
        registry_flush(r) > 0)
        return 2;
    printf("card %s pin %s\n", card, nc.pin);
    return 0;
}

static int cmd_card_status(registry *r, bool freeze, int argc, char **argv)
{
    int npos = opts_check(argc, argv, "reason,actor");
    const char *reason = opt(argc, argv, "reason"), *actor = opt(argc, argv, "actor");
    if (npos != 1 || need(reason, "reason") || need(actor, "actor"))
        return 1;
    if (card_arg_ok(argv[0]) < 0)
        return 1;
    char person[IDENT_PERSON_LEN + 1];
    int rc = card_set_status(r, argv[0], freeze ? "active" : "frozen", freeze ? "frozen" : "active",
                             reason, actor, person, sizeof(person));
    if (rc == 1) {
        char m[CARD_MASKED_MAX];
        registry_fail("card %s is not %s", card_mask(m, sizeof(m), argv[0]),
                      freeze ? "active" : "frozen");
        return 1;
    }
    if (rc < 0)
        return 2;
    printf("card %s %s\n", argv[0], freeze ? "frozen" : "active");
    return 0;
}

static int cmd_card_replace(registry *r, int argc, char **argv)
{
    int npos = opts_check(argc, argv, "reason,pin,wait,actor");
    const char *reason = opt(argc, argv, "reason"), *actor = opt(argc, argv, "actor");
    const char *w = opt(argc, argv, "wait");
    int wait_s = 30;
    if (npos != 1) {
        registry_fail("usage: card replace CARD_NO --reason lost|damaged|other [--pin PIN] "
                      "[--wait SECONDS] --actor A");
        return 1;
    }
    const char *pin = opt(argc, argv, "pin");
    if (need(reason, "reason") || need(actor, "actor") ||
        (w && parse_int(w, "wait", 0, 3600, &wait_s)) || card_arg_ok(argv[0]) < 0 ||
        (pin && pin_arg_ok(pin) < 0))
        return 1;
    static const char *const reasons[] = {"lost", "damaged", "other", NULL};
    if (!one_of(reason, reasons)) {
        registry_fail("--reason %s is not lost, damaged or other", reason);
        return 1;
    }
    return carryover_replace(r, argv[0], reason, pin, wait_s, actor);
}

static int cmd_card_reset_pin(registry *r, int argc, char **argv)
{
    int npos = opts_check(argc, argv, "pin,actor");
    const char *pin = opt(argc, argv, "pin"), *actor = opt(argc, argv, "actor");
    if (npos != 1 || need(pin, "pin") || need(actor, "actor") || pin_arg_ok(pin) < 0)
        return 1;
    char salt[33], hash[41], err[512];
    registry_pin_hash(r, argv[0], pin, salt, hash);
    if (registry_begin(r, actor) < 0)
        return 2;
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
        return res ? 1 : 2;
    }
    if (registry_commit(r) < 0) {
        PQclear(res);
        return 2;
    }
    /* the full record: also clears the wrong-PIN counter and the lock */
    directory_put_card(&r->dir, argv[0], PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), pin,
                       r->cfg->pin_pepper);
    int rc =
        registry_sync(r) < 0 ||
                registry_card_changed(r, ONECARD__V1__REGISTRY_OP__UPDATED, argv[0],
                                      PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), actor) < 0 ||
                registry_flush(r) > 0
            ? 2
            : 0;
    PQclear(res);
    if (rc == 0)
        printf("card %s PIN reset\n", argv[0]);
    return rc;
}

/* Prints a person's attributes, cards, change history, entitlements
 * (issuances) and audit trail; never the name unless --private yes. */
static int cmd_person_show(registry *r, int argc, char **argv)
{
    int npos = opts_check(argc, argv, "private");
    const char *priv = opt(argc, argv, "private");
    if (npos != 1) {
        registry_fail("usage: person show PERSON_ID [--private yes]");
        return 1;
    }
    static const struct {
        const char *title, *sql;
    } parts[] = {
        {"person",
         "SELECT category, grade, care_level, household, status, birth_date, district, town, "
         "village, registered FROM elig_persons WHERE person_id = $1"},
        {"cards", "SELECT card_no, status, issued_at, updated_at FROM elig_cards WHERE person_id "
                  "= $1 ORDER BY issued_at"},
        {"changes", "SELECT effective_from, attr, value, source, event_id FROM "
                    "elig_person_changes WHERE person_id = $1 ORDER BY effective_from, event_id"},
        {"issuances", "SELECT period, item_code, amount_fen, wallet, fund_source, programme, "
                      "published FROM elig_issuances WHERE person_id = $1 ORDER BY period, "
                      "item_code"},
        {"corrections",
         "SELECT period, item_code, seq, amount_fen, CASE WHEN amount_fen > 0 THEN 'arrears' "
         "ELSE 'overpaid' END AS kind, card_no, published FROM elig_issuance_corrections WHERE "
         "person_id = $1 ORDER BY period, item_code, seq"},
        {"carry-overs", "SELECT from_card_no, to_card_no, reason, requested_at, coalesce(sent_at::"
                        "text, 'pending') AS sent_at FROM elig_card_carryovers WHERE person_id = "
                        "$1 ORDER BY requested_at"},
        {"audit", "SELECT at, actor, tbl, op, coalesce(before::text, '-'), coalesce(after::text, "
                  "'-') FROM elig_audit WHERE coalesce(after, before)->>'person_id' = $1 ORDER "
                  "BY audit_id"},
        {"private", "SELECT name, coalesce(phone, '-') FROM elig_person_private WHERE person_id "
                    "= $1"},
    };
    char err[512];
    const char *p[] = {argv[0]};
    for (size_t k = 0; k < sizeof(parts) / sizeof(parts[0]); k++) {
        if (strcmp(parts[k].title, "private") == 0 && (priv == NULL || strcmp(priv, "yes") != 0))
            continue;
        PGresult *res = pg_query(r->pg, parts[k].sql, 1, p, err, sizeof(err));
        if (res == NULL) {
            registry_fail("%s", err);
            return 2;
        }
        if (k == 0 && PQntuples(res) == 0) {
            PQclear(res);
            registry_fail("no such person");
            return 1;
        }
        printf("%s:\n", parts[k].title);
        for (int i = 0; i < PQntuples(res); i++) {
            printf(" ");
            for (int c = 0; c < PQnfields(res); c++)
                printf(" %s=%s", PQfname(res, c), PQgetvalue(res, i, c));
            printf("\n");
        }
        PQclear(res);
    }
    return 0;
}

/* ============================================================== providers */

/* Writes the provider's directory record from PostgreSQL and publishes
 * ProviderChanged. */
static int provider_project(registry *r, const char *id, Onecard__V1__RegistryOp op,
                            const char *actor)
{
    char err[512];
    const char *p[] = {id};
    PGresult *res = pg_query(r->pg,
                             "SELECT p.status, p.category, p.name, p.district, coalesce((SELECT "
                             "string_agg(item_code, ',' ORDER BY item_code) FROM "
                             "elig_designations d WHERE d.provider_id = p.provider_id), '') FROM "
                             "elig_providers p WHERE provider_id = $1",
                             1, p, err, sizeof(err));
    if (res == NULL || PQntuples(res) != 1) {
        registry_fail("%s", res ? "no such provider" : err);
        PQclear(res);
        return -1;
    }
    directory_put_provider(&r->dir, id, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
                           PQgetvalue(res, 0, 4));
    int rc = registry_sync(r);
    char *items = strdup(PQgetvalue(res, 0, 4)), *list[CATALOGUE_MAX_ITEMS];
    size_t n = 0;
    for (char *s = strtok(items, ","); s && n < CATALOGUE_MAX_ITEMS; s = strtok(NULL, ","))
        list[n++] = s;
    Onecard__V1__ProviderChanged pc = ONECARD__V1__PROVIDER_CHANGED__INIT;
    char eid[EVENT_ID_LEN + 1];
    event_new_id(eid);
    pc.event_id = eid;
    pc.op = op;
    pc.provider_id = (char *)id;
    pc.name = PQgetvalue(res, 0, 2);
    pc.district = PQgetvalue(res, 0, 3);
    pc.status = PQgetvalue(res, 0, 0);
    pc.n_designated_items = n;
    pc.designated_items = list;
    pc.actor = (char *)actor;
    pc.occurred_at_ms = event_now_ms();
    if (rc == 0)
        rc = registry_publish(r, &pc.base, id);
    free(items);
    PQclear(res);
    return rc;
}

static int designate(registry *r, const char *id, const char *items)
{
    char err[512];
    const char *p[] = {id, items};
    PGresult *res = pg_query(r->pg,
                             "SELECT string_agg(i, ',') FROM unnest(string_to_array($1, ',')) i "
                             "WHERE i NOT IN (SELECT code FROM elig_catalogue_items)",
                             1, p + 1, err, sizeof(err));
    if (res == NULL) {
        registry_fail("%s", err);
        return -1;
    }
    if (!PQgetisnull(res, 0, 0)) {
        registry_fail("unknown item code(s): %s", PQgetvalue(res, 0, 0));
        PQclear(res);
        return -1;
    }
    PQclear(res);
    if (pg_exec(r->pg,
                "INSERT INTO elig_designations SELECT $1::text, i FROM unnest(string_to_array($2, "
                "',')) "
                "i ON CONFLICT DO NOTHING",
                2, p, err, sizeof(err)) < 0) {
        registry_fail("%s", err);
        return -1;
    }
    return 0;
}

static int cmd_provider(registry *r, int argc, char **argv)
{
    const char *sub = argv[0];
    argc--, argv++;
    int npos = opts_check(argc, argv, "name,district,category,items,reason,actor");
    const char *actor = opt(argc, argv, "actor"), *items = opt(argc, argv, "items");
    if (npos != 1 || need(actor, "actor"))
        return 1;
    const char *id = argv[0];
    char err[512];
    if (strcmp(sub, "add") == 0) {
        const char *name = opt(argc, argv, "name"), *district = opt(argc, argv, "district");
        const char *cat = opt(argc, argv, "category");
        if (need(name, "name") || need(district, "district") || need(cat, "category") ||
            need(items, "items") || registry_begin(r, actor) < 0)
            return 1;
        const char *p[] = {id, name, district, cat};
        if (pg_exec(r->pg,
                    "INSERT INTO elig_providers (provider_id, name, district, category, status) "
                    "VALUES ($1, $2, $3, $4, 'active')",
                    4, p, err, sizeof(err)) < 0) {
            registry_fail("%s", err);
            pg_rollback(r->pg);
            return 1;
        }
        if (designate(r, id, items) < 0) {
            pg_rollback(r->pg);
            return 1;
        }
        if (registry_commit(r) < 0 ||
            provider_project(r, id, ONECARD__V1__REGISTRY_OP__CREATED, actor) < 0)
            return 2;
        printf("provider %s added\n", id);
        return 0;
    }
    if (strcmp(sub, "designate") == 0) {
        if (need(items, "items") || registry_begin(r, actor) < 0)
            return 1;
        if (designate(r, id, items) < 0) {
            pg_rollback(r->pg);
            return 1;
        }
        if (registry_commit(r) < 0 ||
            provider_project(r, id, ONECARD__V1__REGISTRY_OP__UPDATED, actor) < 0)
            return 2;
        printf("provider %s designated %s\n", id, items);
        return 0;
    }
    if (strcmp(sub, "suspend") == 0 || strcmp(sub, "reinstate") == 0) {
        const char *reason = opt(argc, argv, "reason");
        bool suspend = sub[0] == 's';
        if (need(reason, "reason") || registry_begin(r, actor) < 0)
            return 1;
        const char *p[] = {id, suspend ? "suspended" : "active", reason};
        PGresult *res = pg_query(r->pg,
                                 "UPDATE elig_providers SET status = $2, reason = $3, updated_at "
                                 "= now() WHERE provider_id = $1 RETURNING 1",
                                 3, p, err, sizeof(err));
        if (res == NULL || PQntuples(res) != 1) {
            registry_fail("%s", res ? "no such provider" : err);
            PQclear(res);
            pg_rollback(r->pg);
            return res ? 1 : 2;
        }
        PQclear(res);
        if (registry_commit(r) < 0 || provider_project(r, id,
                                                       suspend ? ONECARD__V1__REGISTRY_OP__DISABLED
                                                               : ONECARD__V1__REGISTRY_OP__UPDATED,
                                                       actor) < 0)
            return 2;
        printf("provider %s %s\n", id, suspend ? "suspended" : "active");
        return 0;
    }
    registry_fail("usage: provider add|designate|suspend|reinstate ID ...");
    return 1;
}

/* ============================================================== terminals */

static int cmd_terminal(registry *r, int argc, char **argv)
{
    const char *sub = argv[0];
    argc--, argv++;
    int npos = opts_check(argc, argv, "provider,actor");
    const char *actor = opt(argc, argv, "actor"), *prov = opt(argc, argv, "provider");
    if (npos != 1 || need(actor, "actor"))
        return 1;
    const char *id = argv[0];
    char err[512], secret[65];
    bool add = strcmp(sub, "add") == 0;
    if (!add && strcmp(sub, "disable") != 0) {
        registry_fail("usage: terminal add ID --provider P --actor A | terminal disable ID "
                      "--actor A");
        return 1;
    }
    if ((add && need(prov, "provider")) || registry_begin(r, actor) < 0)
        return 1;
    random_hex(secret, 32);
    const char *p[] = {id, prov, secret};
    PGresult *res =
        add ? pg_query(r->pg,
                       "INSERT INTO elig_terminals (terminal_id, provider_id, secret, status) "
                       "VALUES ($1, $2, $3, 'active') RETURNING provider_id, secret, status",
                       3, p, err, sizeof(err))
            : pg_query(r->pg,
                       "UPDATE elig_terminals SET status = 'disabled', updated_at = now() WHERE "
                       "terminal_id = $1 RETURNING provider_id, secret, status",
                       1, p, err, sizeof(err));
    if (res == NULL || PQntuples(res) != 1) {
        registry_fail("%s", res ? "no such terminal" : err);
        PQclear(res);
        pg_rollback(r->pg);
        return 1;
    }
    directory_put_terminal(&r->dir, id, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
                           PQgetvalue(res, 0, 2));
    Onecard__V1__TerminalChanged tc = ONECARD__V1__TERMINAL_CHANGED__INIT;
    char eid[EVENT_ID_LEN + 1];
    event_new_id(eid);
    tc.event_id = eid;
    tc.op = add ? ONECARD__V1__REGISTRY_OP__CREATED : ONECARD__V1__REGISTRY_OP__DISABLED;
    tc.terminal_id = (char *)id;
    tc.provider_id = PQgetvalue(res, 0, 0);
    tc.status = PQgetvalue(res, 0, 2);
    tc.actor = (char *)actor;
    tc.occurred_at_ms = event_now_ms();
    int rc = registry_commit(r) < 0 || registry_sync(r) < 0 || registry_publish(r, &tc.base, id) < 0
                 ? 2
                 : 0;
    if (rc == 0 && add)
        printf("terminal %s secret %s (shown once)\n", id, secret);
    else if (rc == 0)
        printf("terminal %s disabled\n", id);
    PQclear(res);
    return rc;
}

/* ======================================================= rebuild-directory */

static int cmd_rebuild(registry *r)
{
    char err[512];
    catalogue c;
    if (registry_catalogue(r, &c) < 0)
        return 2;
    for (int i = 0; i < c.nitems; i++) {
        const rules_item *it = &c.items[i];
        directory_item di = {it->code,         it->wallet,        it->category,
                             it->standard_fen, it->daily_cap_fen, it->annual_cap_fen};
        directory_put_item(&r->dir, &di);
    }
    PGresult *pv = pg_query(r->pg,
                            "SELECT provider_id, status, category, coalesce((SELECT "
                            "string_agg(item_code, ',' ORDER BY item_code) FROM elig_designations "
                            "d WHERE d.provider_id = p.provider_id), '') FROM elig_providers p",
                            0, NULL, err, sizeof(err));
    PGresult *tm = pv ? pg_query(r->pg,
                                 "SELECT terminal_id, provider_id, secret, status FROM "
                                 "elig_terminals",
                                 0, NULL, err, sizeof(err))
                      : NULL;
    PGresult *cd = tm ? pg_query(r->pg,
                                 "SELECT c.card_no, c.person_id, c.status, c.pin_salt, c.pin_hash, "
                                 "p.category, p.household, p.status, p.grade, p.care_level, "
                                 "p.birth_date FROM elig_cards c JOIN elig_persons p USING "
                                 "(person_id)",
                                 0, NULL, err, sizeof(err))
                      : NULL;
    if (cd == NULL) {
        registry_fail("%s", err);
        PQclear(pv);
        PQclear(tm);
        catalogue_free(&c);
        return 2;
    }
    for (int i = 0; i < PQntuples(pv); i++)
        directory_put_provider(&r->dir, PQgetvalue(pv, i, 0), PQgetvalue(pv, i, 1),
                               PQgetvalue(pv, i, 2), PQgetvalue(pv, i, 3));
    for (int i = 0; i < PQntuples(tm); i++)
        directory_put_terminal(&r->dir, PQgetvalue(tm, i, 0), PQgetvalue(tm, i, 1),
                               PQgetvalue(tm, i, 2), PQgetvalue(tm, i, 3));
    int32_t today = registry_today();
    int rc = registry_sync(r);
    for (int i = 0; i < PQntuples(cd) && rc == 0; i++) {
        const char *card = PQgetvalue(cd, i, 0), *status = PQgetvalue(cd, i, 2);
        directory_put_card_hashed(&r->dir, card, PQgetvalue(cd, i, 1), status, PQgetvalue(cd, i, 3),
                                  PQgetvalue(cd, i, 4));
        int32_t bday = 0;
        if (rules_date_parse(PQgetvalue(cd, i, 10), &bday, err, sizeof(err)) < 0)
            bday = 0;
        rules_person rp = {PQgetvalue(cd, i, 5),       PQgetvalue(cd, i, 6),
                           PQgetvalue(cd, i, 7),       atoi(PQgetvalue(cd, i, 8)),
                           atoi(PQgetvalue(cd, i, 9)), bday};
        registry_project_entitlements(r, &c, card, &rp, today);
        if (i % 500 == 499)
            rc = registry_sync(r);
    }
    if (rc == 0)
        rc = registry_sync(r);
    if (rc == 0)
        printf("directory rebuilt: %d items, %d providers, %d terminals, %d cards\n", c.nitems,
               PQntuples(pv), PQntuples(tm), PQntuples(cd));
    PQclear(pv);
    PQclear(tm);
    PQclear(cd);
    catalogue_free(&c);
    return rc == 0 ? 0 : 2;
}

/* =============================================================== dispatch */

int commands_run(int argc, char **argv, const config_var *table, elig_config *cfg)
{
    char err[512];
    if (config_load(table, err, sizeof(err)) < 0) {
        registry_fail("%s", err);
        config_free(table);
        return 2;
    }
    const char *cmd = argv[0];
    const char *sub = argc > 1 ? argv[1] : "";
    registry r;
    int rc;
    if (strcmp(cmd, "synth") == 0) {
        int persons, providers, seed;
        const char *out = opt(argc - 1, argv + 1, "out");
        rc = opts_check(argc - 1, argv + 1, "persons,providers,seed,out") != 0 ||
                     parse_int(opt(argc - 1, argv + 1, "persons"), "persons", 0, 10000000,
                               &persons) ||
                     parse_int(opt(argc - 1, argv + 1, "providers"), "providers", 0, 100000,
                               &providers) ||
                     parse_int(opt(argc - 1, argv + 1, "seed"), "seed", 0, 2000000000, &seed) ||
                     need(out, "out")
                 ? 1
                 : synth_run(persons, providers, (unsigned long long)seed, out);
        config_free(table);
        return rc;
    }
    if (registry_open(&r, cfg, REG_REDIS | REG_KAFKA) < 0) {
        registry_close(&r);
        config_free(table);
        return 2;
    }
    if (strcmp(cmd, "catalogue") == 0)
        rc = cmd_catalogue(&r, argc - 1, argv + 1);
    else if (strcmp(cmd, "person") == 0 && strcmp(sub, "add") == 0)
        rc = cmd_person_add(&r, argc - 2, argv + 2);
    else if (strcmp(cmd, "person") == 0 && strcmp(sub, "modify") == 0)
        rc = cmd_person_modify(&r, argc - 2, argv + 2);
    else if (strcmp(cmd, "person") == 0 && strcmp(sub, "show") == 0)
        rc = cmd_person_show(&r, argc - 2, argv + 2);
    else if (strcmp(cmd, "card") == 0 && strcmp(sub, "reset-pin") == 0)
        rc = cmd_card_reset_pin(&r, argc - 2, argv + 2);
    else if (strcmp(cmd, "card") == 0 && strcmp(sub, "issue") == 0)
        rc = cmd_card_issue(&r, argc - 2, argv + 2);
    else if (strcmp(cmd, "card") == 0 && strcmp(sub, "replace") == 0)
        rc = cmd_card_replace(&r, argc - 2, argv + 2);
    else if (strcmp(cmd, "card") == 0 &&
             (strcmp(sub, "freeze") == 0 || strcmp(sub, "unfreeze") == 0))
        rc = cmd_card_status(&r, sub[0] == 'f', argc - 2, argv + 2);
    else if (strcmp(cmd, "provider") == 0 && argc > 2)
        rc = cmd_provider(&r, argc - 1, argv + 1);
    else if (strcmp(cmd, "terminal") == 0 && argc > 2)
        rc = cmd_terminal(&r, argc - 1, argv + 1);
    else if (strcmp(cmd, "import") == 0) {
        int npos = opts_check(argc - 1, argv + 1, "since,issue-cards,pin,actor");
        const char *since = opt(argc - 1, argv + 1, "since");
        const char *cards = opt(argc - 1, argv + 1, "issue-cards");
        const char *pin = opt(argc - 1, argv + 1, "pin");
        const char *actor = opt(argc - 1, argv + 1, "actor");
        int32_t d;
        char today[16];
        int y, m, dd;
        rules_civil(registry_today(), &y, &m, &dd);
        snprintf(today, sizeof(today), "%04d-%02d-%02d", y, m, dd);
        if (npos != 2 || need(actor, "actor")) {
            registry_fail("usage: import persons|providers FILE.csv [--since YYYY-MM-DD] "
                          "[--issue-cards yes [--pin PIN]] --actor A");
            rc = 1;
        } else if (since &&
                   (rules_date_parse(since, &d, err, sizeof(err)) < 0 || d > registry_today())) {
            registry_fail("--since %s is not a date up to today", since);
            rc = 1;
        } else if (pin && pin_arg_ok(pin) < 0) {
            rc = 1;
        } else {
            rc = bulk_import(&r, argv[1], argv[2], since ? since : today,
                             cards && strcmp(cards, "yes") == 0, pin, actor);
        }
    } else if (strcmp(cmd, "import-feed") == 0) {
        int npos = opts_check(argc - 1, argv + 1, "source,period");
        const char *source = opt(argc - 1, argv + 1, "source");
        const char *period = opt(argc - 1, argv + 1, "period");
        rc = npos != 1 || need(source, "source") || need(period, "period")
                 ? 1
                 : feedfile_run(&r, argv[1], source, period);
    } else if (strcmp(cmd, "rebuild-directory") == 0)
        rc = cmd_rebuild(&r);
    else if (strcmp(cmd, "issue") == 0) {
        int npos = opts_check(argc - 1, argv + 1, "period,actor");
        const char *period = opt(argc - 1, argv + 1, "period");
        const char *actor = opt(argc - 1, argv + 1, "actor");
        rc = npos != 0 || need(period, "period")
                 ? 1
                 : issue_run(&r, period, actor ? actor : "issuance");
    } else {
        registry_fail("unknown command \"%s %s\" (catalogue, person, card, provider, terminal, "
                      "import, import-feed, synth, rebuild-directory, issue)",
                      cmd, sub);
        rc = 1;
    }
    registry_close(&r);
    config_free(table);
    return rc;
}
