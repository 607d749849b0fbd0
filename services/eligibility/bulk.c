/*
 * bulk: `import persons|providers FILE.csv`. The file is walked by
 * importfile.c (made UTF-8 or refused as a whole, its header matched in
 * English or Chinese) and every row is checked by import.c; a bad row is
 * reported as "row N: reason" on stderr (N the line it starts on) and
 * skipped, the good rows are imported in batches (one transaction for the
 * whole file, so a failure of PostgreSQL half-way leaves nothing), and a
 * re-run imports nothing twice. Persons are then projected into the
 * directory and announced on onecard.registry.v1; with --issue-cards each
 * newly imported person also gets a card (the PIN given, or a random one
 * printed on stdout with the card).
 *
 * Exit 0 when every row was imported or already present, 1 when some rows
 * were refused (the others are imported) or the whole file was (its
 * encoding or its header: nothing is imported), 2 when a dependency
 * failed.
 */
#include "bulk.h"

#include "args.h"
#include "commands.h"
#include "ident.h"
#include "import.h"
#include "importfile.h"

#include "common/cli.h"
#include "common/progress.h"
#include "common/event.h"
#include "common/sign.h"

#include "registry.pb-c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define BULK_BATCH 2000

typedef struct bulk_persons {
    pg_array pid, cat, grade, care, birth, district, town, village, hh, name, phone;
    int n;
} bulk_persons;

static void bulk_reset(bulk_persons *b)
{
    pg_array *a[] = {&b->pid,  &b->cat,     &b->grade, &b->care, &b->birth, &b->district,
                     &b->town, &b->village, &b->hh,    &b->name, &b->phone};
    for (size_t i = 0; i < sizeof(a) / sizeof(a[0]); i++)
        pg_array_reset(a[i]);
    b->n = 0;
}

static void bulk_free(bulk_persons *b)
{
    pg_array *a[] = {&b->pid,  &b->cat,     &b->grade, &b->care, &b->birth, &b->district,
                     &b->town, &b->village, &b->hh,    &b->name, &b->phone};
    for (size_t i = 0; i < sizeof(a) / sizeof(a[0]); i++)
        pg_array_free(a[i]);
}

/* Inserts the batch; appends the ids of the persons created to *created. */
static int bulk_insert_persons(registry *r, bulk_persons *b, const char *since, pg_array *created,
                               long *ncreated)
{
    if (b->n == 0)
        return 0;
    char err[512];
    const char *p[] = {
        pg_array_text(&b->pid),  pg_array_text(&b->cat),     pg_array_text(&b->grade),
        pg_array_text(&b->care), pg_array_text(&b->birth),   pg_array_text(&b->district),
        pg_array_text(&b->town), pg_array_text(&b->village), pg_array_text(&b->hh),
        pg_array_text(&b->name), pg_array_text(&b->phone),   since};
    for (int i = 0; i < 11; i++)
        if (p[i] == NULL) {
            registry_fail("out of memory");
            return -1;
        }
    PGresult *res = pg_query(
        r->pg,
        "WITH x AS (SELECT DISTINCT ON (pid) * FROM unnest($1::text[], $2::text[], $3::int[], "
        "$4::int[], $5::date[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], "
        "$11::text[]) x(pid, cat, grade, care, birth, district, town, village, hh, name, phone)), "
        "p AS (INSERT INTO elig_persons (person_id, category, grade, care_level, birth_date, "
        "district, town, village, household, registered) SELECT pid, cat, grade, care, birth, "
        "district, town, village, hh, $12::date FROM x ON CONFLICT DO NOTHING RETURNING "
        "person_id), q AS (INSERT INTO elig_person_private SELECT x.pid, x.name, x.phone FROM x "
        "JOIN p ON p.person_id = x.pid), c AS (INSERT INTO elig_person_changes (person_id, attr, "
        "value, effective_from, event_id, source) SELECT x.pid, a.attr, CASE a.attr WHEN "
        "'category' THEN x.cat WHEN 'grade' THEN x.grade::text WHEN 'care_level' THEN "
        "x.care::text WHEN 'household' THEN x.hh ELSE 'active' END, $12::date, 'reg-' || "
        "left(x.pid, 40), 'import' FROM x JOIN p ON p.person_id = x.pid, unnest(ARRAY['category', "
        "'grade', 'care_level', 'household', 'status']) a(attr)) SELECT person_id FROM p",
        12, p, err, sizeof(err));
    if (res == NULL) {
        registry_fail("persons: %s", err);
        return -1;
    }
    for (int i = 0; i < PQntuples(res); i++)
        pg_array_add(created, PQgetvalue(res, i, 0));
    *ncreated += PQntuples(res);
    PQclear(res);
    bulk_reset(b);
    return 0;
}

/* Issues a card to each of the created persons (inside the transaction);
 * the cards go into the directory after the commit. */
static int bulk_issue_cards(registry *r, pg_array *created, long ncreated, const char *pin,
                            PGresult **cards)
{
    char err[512], n[24];
    snprintf(n, sizeof(n), "%ld", ncreated);
    const char *p[] = {n};
    PGresult *seq = pg_query(r->pg,
                             "SELECT lpad(nextval('elig_card_seq')::text, 10, '0') FROM "
                             "generate_series(1, $1::int)",
                             1, p, err, sizeof(err));
    if (seq == NULL) {
        registry_fail("%s", err);
        return -1;
    }
    pg_array cno = {0}, salt = {0}, hash = {0}, pins = {0};
    for (long i = 0; i < ncreated; i++) {
        registry_card nc;
        registry_card_make(r, PQgetvalue(seq, (int)i, 0), pin, &nc);
        pg_array_add(&cno, nc.card_no);
        pg_array_add(&salt, nc.salt);
        pg_array_add(&hash, nc.hash);
        pg_array_add(&pins, nc.pin);
    }
    PQclear(seq);
    const char *q[] = {pg_array_text(created), pg_array_text(&cno), pg_array_text(&salt),
                       pg_array_text(&hash), pg_array_text(&pins)};
    *cards = q[0] && q[1] && q[2] && q[3] && q[4]
                 ? pg_query(r->pg,
                            "WITH x AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], "
                            "$4::text[], $5::text[]) x(pid, card, salt, hash, pin)), i AS (INSERT "
                            "INTO elig_cards (card_no, person_id, status, pin_salt, pin_hash) "
                            "SELECT card, pid, 'active', salt, hash FROM x RETURNING card_no) "
                            "SELECT x.card, x.pid, x.salt, x.hash, x.pin, " REGISTRY_PERSON_COLS
                            " FROM x "
                            "JOIN elig_persons p ON p.person_id = x.pid",
                            5, q, err, sizeof(err))
                 : NULL;
    pg_array_free(&cno), pg_array_free(&salt), pg_array_free(&hash), pg_array_free(&pins);
    if (*cards == NULL) {
        registry_fail("cards: %s", err);
        return -1;
    }
    return 0;
}

/* Starts the walk through the file read into buf (fi owns it from here
 * on, whatever happens). rc is the exit code so far: returned as it is,
 * unless it is 0 and the file is refused (not UTF-8, a bad header): then
 * 1, the refusal printed. */
static int bulk_start(int rc, importfile *fi, const char *path, char *buf, size_t len,
                      encoding_kind enc, const import_columns *cols)
{
    char err[512];
    if (importfile_start(fi, buf, len, enc, cols, err, sizeof(err)) < 0 && rc == 0) {
        registry_fail("%s: %s", path, err);
        return 1;
    }
    return rc;
}

static int bulk_persons_file(registry *r, const char *path, encoding_kind enc, const char *since,
                             bool cards, const char *pin, const char *actor)
{
    size_t len;
    char *buf, err[512];
    if (importfile_read(path, &buf, &len, err, sizeof(err)) < 0) {
        registry_fail("%s", err);
        return CLI_DEPENDENCY;
    }
    importfile fi;
    int row, n, bad = 0, good = 0;
    long ncreated = 0;
    int32_t today = registry_today();
    bulk_persons b;
    memset(&b, 0, sizeof(b));
    pg_array created = {0};
    PGresult *issued = NULL;
    int rc = registry_begin(r, actor) < 0 ? CLI_DEPENDENCY : 0;
    rc = bulk_start(rc, &fi, path, buf, len, enc, &import_person_columns);
    progress bar; /* through the file's bytes */
    progress_start(&bar, "import persons (bytes)", rc == 0 ? (int64_t)fi.len : 0);
    while (rc == 0 && (n = importfile_next(&fi, &row, err, sizeof(err))) != 0) {
        progress_update(&bar, (int64_t)fi.rd.pos);
        import_person ip;
        if (n < 0 || import_person_row(fi.f, n, today, &ip, err, sizeof(err)) < 0) {
            fprintf(stderr, "%s: row %d: %s\n", path, row, err);
            bad++;
            continue;
        }
        char pid[IDENT_PERSON_LEN + 1];
        ident_person_id(pid, r->cfg->id_salt, ip.national_id);
        pg_array_add(&b.pid, pid);
        pg_array_add(&b.cat, ip.category);
        pg_array_add_int(&b.grade, ip.grade);
        pg_array_add_int(&b.care, ip.care_level);
        pg_array_add(&b.birth, ip.birth_date);
        pg_array_add(&b.district, ip.district);
        pg_array_add(&b.town, ip.town);
        pg_array_add(&b.village, ip.village);
        pg_array_add(&b.hh, ip.household);
        pg_array_add(&b.name, ip.name);
        pg_array_add(&b.phone, ip.phone[0] ? ip.phone : NULL);
        b.n++;
        good++;
        if (b.n >= BULK_BATCH && bulk_insert_persons(r, &b, since, &created, &ncreated) < 0)
            rc = CLI_DEPENDENCY;
    }
    progress_done(&bar);
    if (rc == 0 && bulk_insert_persons(r, &b, since, &created, &ncreated) < 0)
        rc = CLI_DEPENDENCY;
    if (rc == 0 && cards && ncreated > 0 && bulk_issue_cards(r, &created, ncreated, pin, &issued))
        rc = CLI_DEPENDENCY;
    rc = registry_end(r, rc);
    if (rc == 0 && issued) {
        catalogue c;
        if (registry_catalogue(r, registry_today(), &c) < 0) {
            rc = CLI_DEPENDENCY;
        } else {
            for (int i = 0; i < PQntuples(issued) && rc == 0; i++) {
                const char *card = PQgetvalue(issued, i, 0), *pid = PQgetvalue(issued, i, 1);
                directory_put_card_hashed(&r->dir, card, pid, "active", PQgetvalue(issued, i, 2),
                                          PQgetvalue(issued, i, 3));
                rules_person rp = registry_person_row(issued, i, 5);
                registry_project_entitlements(r, &c, card, &rp, today);
                if (i % 500 == 499 && registry_sync(r) < 0)
                    rc = CLI_DEPENDENCY;
                if (registry_card_changed(r, ONECARD__V1__REGISTRY_OP__CREATED, card, pid, "active",
                                          actor) < 0)
                    rc = CLI_DEPENDENCY;
                if (pin == NULL)
                    printf("card %s pin %s person %s\n", card, PQgetvalue(issued, i, 4), pid);
            }
            catalogue_free(&c);
            if (rc == 0 && registry_sync(r) < 0)
                rc = CLI_DEPENDENCY;
        }
    }
    if (rc == 0 && ncreated > 0) {
        /* PersonChanged for each new person: its whole state (attributes
         * and the pseudonymous id, never the national id or the name) */
        if (registry_persons_changed(r, ONECARD__V1__REGISTRY_OP__CREATED,
                                     pg_array_text(&created) ? pg_array_text(&created) : "{}",
                                     actor) < 0)
            rc = CLI_DEPENDENCY;
    }
    if (r->kp && registry_flush(r) > 0)
        rc = CLI_DEPENDENCY;
    if (rc != CLI_DEPENDENCY)
        printf("import persons %s: %d rows, %d imported, %ld new, %d already registered, %d "
               "refused%s\n",
               path, good + bad, good, ncreated, good - (int)ncreated, bad,
               issued ? ", cards issued to the new ones" : "");
    PQclear(issued);
    bulk_free(&b);
    pg_array_free(&created);
    importfile_close(&fi);
    return rc ? rc : (bad ? 1 : 0);
}

static int bulk_providers_file(registry *r, const char *path, encoding_kind enc, const char *actor)
{
    size_t len;
    char *buf, err[512];
    if (importfile_read(path, &buf, &len, err, sizeof(err)) < 0) {
        registry_fail("%s", err);
        return CLI_DEPENDENCY;
    }
    catalogue c;
    if (registry_catalogue(r, registry_today(), &c) < 0) {
        free(buf);
        return CLI_DEPENDENCY;
    }
    importfile fi;
    int row, n, bad = 0, good = 0, created = 0;
    int rc = registry_begin(r, actor) < 0 ? CLI_DEPENDENCY : 0;
    rc = bulk_start(rc, &fi, path, buf, len, enc, &import_provider_columns);
    pg_array newids = {0};
    while (rc == 0 && (n = importfile_next(&fi, &row, err, sizeof(err))) != 0) {
        import_provider ip;
        if (n < 0 || import_provider_row(fi.f, n, &ip, err, sizeof(err)) < 0) {
            fprintf(stderr, "%s: row %d: %s\n", path, row, err);
            bad++;
            continue;
        }
        char items[1100];
        snprintf(items, sizeof(items), "%s", ip.items);
        const char *unknown = NULL;
        for (char *s = strtok(items, ";"); s; s = strtok(NULL, ";"))
            if (catalogue_find(&c, s) == NULL && unknown == NULL)
                unknown = s;
        if (unknown) {
            fprintf(stderr, "%s: row %d: unknown item code %s\n", path, row, unknown);
            bad++;
            continue;
        }
        good++;
        const char *p[] = {ip.provider_id, ip.name, ip.district, ip.category, ip.items};
        PGresult *res = pg_query(
            r->pg,
            "WITH p AS (INSERT INTO elig_providers (provider_id, name, district, category, "
            "status) VALUES ($1, $2, $3, $4, 'active') ON CONFLICT DO NOTHING RETURNING "
            "provider_id), d AS (INSERT INTO elig_designations SELECT p.provider_id, i FROM p, "
            "unnest(string_to_array($5, ';')) i ON CONFLICT DO NOTHING) SELECT count(*) FROM p",
            5, p, err, sizeof(err));
        if (res == NULL) {
            registry_fail("%s", err);
            rc = CLI_DEPENDENCY;
            break;
        }
        if (strcmp(PQgetvalue(res, 0, 0), "1") == 0) {
            created++;
            pg_array_add(&newids, ip.provider_id);
        }
        PQclear(res);
    }
    rc = registry_end(r, rc);
    if (rc == 0 && created > 0) {
        const char *q[] = {pg_array_text(&newids)};
        PGresult *res = pg_query(r->pg,
                                 "SELECT p.provider_id, p.status, p.category, p.name, "
                                 "p.district, (SELECT string_agg(item_code, ',' ORDER BY "
                                 "item_code) FROM elig_designations d WHERE d.provider_id = "
                                 "p.provider_id) FROM elig_providers p WHERE provider_id = "
                                 "ANY($1::text[])",
                                 1, q, err, sizeof(err));
        for (int i = 0; res && i < PQntuples(res); i++) {
            directory_put_provider(&r->dir, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
                                   PQgetvalue(res, i, 2), PQgetvalue(res, i, 5));
            Onecard__V1__ProviderChanged pc = ONECARD__V1__PROVIDER_CHANGED__INIT;
            char eid[EVENT_ID_LEN + 1];
            event_new_id(eid);
            pc.event_id = eid;
            pc.op = ONECARD__V1__REGISTRY_OP__CREATED;
            pc.provider_id = PQgetvalue(res, i, 0);
            pc.name = PQgetvalue(res, i, 3);
            pc.district = PQgetvalue(res, i, 4);
            pc.status = PQgetvalue(res, i, 1);
            pc.actor = (char *)actor;
            pc.occurred_at_ms = event_now_ms();
            if (registry_produce(r, &pc.base, pc.provider_id) < 0)
                rc = CLI_DEPENDENCY;
        }
        if (res == NULL) {
            registry_fail("%s", err);
            rc = CLI_DEPENDENCY;
        }
        if (registry_sync(r) < 0 || registry_flush(r) > 0)
            rc = CLI_DEPENDENCY;
        PQclear(res);
    }
    if (rc != CLI_DEPENDENCY)
        printf("import providers %s: %d rows, %d imported, %d new, %d already registered, %d "
               "refused\n",
               path, good + bad, good, created, good - created, bad);
    pg_array_free(&newids);
    catalogue_free(&c);
    importfile_close(&fi);
    return rc ? rc : (bad ? 1 : 0);
}

/* what: persons | providers. enc: what --encoding declared. since: the
 * registration date of new persons (YYYY-MM-DD). cards: issue a card to
 * each new person (pin NULL: random, printed). Returns the exit code. */
static int bulk_import(registry *r, const char *what, const char *path, encoding_kind enc,
                       const char *since, bool cards, const char *pin, const char *actor)
{
    if (strcmp(what, "persons") == 0)
        return bulk_persons_file(r, path, enc, since, cards, pin, actor);
    if (strcmp(what, "providers") == 0)
        return bulk_providers_file(r, path, enc, actor);
    registry_fail("import persons|providers FILE.csv");
    return 1;
}

int bulk_command(registry *r, int argc, char **argv)
{
    int npos = args_check(argc, argv, "since,issue-cards,pin,encoding,actor");
    const char *since = args_opt(argc, argv, "since");
    const char *cards = args_opt(argc, argv, "issue-cards");
    const char *pin = args_opt(argc, argv, "pin");
    const char *actor = args_opt(argc, argv, "actor");
    char err[512];
    int32_t d;
    char today[RULES_DATE_LEN];
    rules_date_format(today, registry_today());
    if (npos != 2 || args_need(actor, "actor"))
        return COMMANDS_USAGE;
    if (since && (rules_date_parse(since, &d, err, sizeof(err)) < 0 || d > registry_today())) {
        registry_fail("--since %s is not a date up to today", since);
        return 1;
    }
    if (pin && args_pin(pin) < 0)
        return 1;
    encoding_kind enc;
    if (args_encoding(args_opt(argc, argv, "encoding"), &enc) < 0)
        return 1;
    return bulk_import(r, argv[0], argv[1], enc, since ? since : today,
                       cards && strcmp(cards, "yes") == 0, pin, actor);
}
