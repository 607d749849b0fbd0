/*
 * catload: `catalogue load`, `versions`, `show` and `diff`. See catload.h.
 */
#include "catload.h"

#include "args.h"
#include "commands.h"
#include "issue.h"

#include "common/cli.h"
#include "common/sign.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The day issuance can first issue (rules_period_parse: 2000-01): the
 * first version loaded without --effective, and the one migrated (0028),
 * are in force from it. */
#define CATLOAD_BEGINNING "2000-01-01"

/* The tier tables, in the load's transaction: every row upserted, the
 * rows the file no longer has removed. The rows written or removed, or -1
 * (printed). */
static int catload_tiers(registry *r, const catalogue *c)
{
    pg_array tier = {0}, when = {0}, ord = {0}, value = {0}, basis = {0};
    for (int k = 0; k < c->tiers->n; k++) {
        pg_array_add(&tier, catalogue_tier_names[c->tiers->rows[k].tier]);
        pg_array_add(&when, c->tier_when[k]);
        pg_array_add_int(&ord, k);
        pg_array_add_int(&value, c->tiers->rows[k].value);
        pg_array_add(&basis, c->tier_basis[k]);
    }
    const char *p[] = {pg_array_text(&tier), pg_array_text(&when), pg_array_text(&ord),
                       pg_array_text(&value), pg_array_text(&basis)};
    char err[512];
    int n = -1;
    PGresult *up = NULL, *del = NULL;
    if (p[0] && p[1] && p[2] && p[3] && p[4]) {
        up = pg_query(r->pg,
                      "INSERT INTO elig_catalogue_tiers AS t (tier, when_rule, ord, value, "
                      "legal_basis) SELECT * FROM unnest($1::text[], $2::text[], $3::int[], "
                      "$4::bigint[], $5::text[]) ON CONFLICT (tier, when_rule) DO UPDATE SET ord "
                      "= EXCLUDED.ord, value = EXCLUDED.value, legal_basis = EXCLUDED.legal_basis "
                      "WHERE (t.*) IS DISTINCT FROM (EXCLUDED.*) RETURNING 1",
                      5, p, err, sizeof(err));
        del = up ? pg_query(r->pg,
                            "DELETE FROM elig_catalogue_tiers WHERE (tier, when_rule) NOT IN "
                            "(SELECT * FROM unnest($1::text[], $2::text[])) RETURNING 1",
                            2, p, err, sizeof(err))
                 : NULL;
        if (del)
            n = PQntuples(up) + PQntuples(del);
    } else {
        snprintf(err, sizeof(err), "out of memory");
    }
    if (n < 0)
        registry_fail("catalogue tier tables: %s", err);
    PQclear(up);
    PQclear(del);
    pg_array_free(&tier), pg_array_free(&when), pg_array_free(&ord), pg_array_free(&value);
    pg_array_free(&basis);
    return n;
}

/* An item's columns as the store's queries take them ($1..$26). */
typedef struct catload_row {
    char std[24], ann[24], day[24], weeks[8], from[RULES_DATE_LEN], to[RULES_DATE_LEN];
    const char *p[26];
} catload_row;

static void catload_row_make(catload_row *w, const catalogue *c, const rules_item *it)
{
    snprintf(w->std, sizeof(w->std), "%lld", (long long)it->standard_fen);
    snprintf(w->ann, sizeof(w->ann), "%lld", (long long)it->annual_cap_fen);
    snprintf(w->day, sizeof(w->day), "%lld", (long long)it->daily_cap_fen);
    snprintf(w->weeks, sizeof(w->weeks), "%d", it->attendance_weeks);
    rules_date_format(w->from, it->from_day);
    if (it->to_day)
        rules_date_format(w->to, it->to_day);
    const char *p[] = {it->code,
                       c->version,
                       it->category,
                       it->name_zh,
                       it->name_en,
                       it->group,
                       catalogue_unit_names[it->unit],
                       w->std,
                       catalogue_tier_names[it->tier],
                       it->eligibility,
                       w->ann,
                       w->day,
                       it->exclusive[0] ? it->exclusive : NULL,
                       it->fund_source,
                       it->programme,
                       it->issued ? "t" : "f",
                       w->from,
                       it->to_day ? w->to : NULL,
                       it->is_default ? "t" : "f",
                       it->procedure,
                       it->legal_basis,
                       directory_kind_name(it->kind),
                       it->application ? "t" : "f",
                       it->fund_shares,
                       w->weeks,
                       it->credit_ends};
    memcpy(w->p, p, sizeof(p));
}

#define CATLOAD_COLS                                                                               \
    "code, version, category, name_zh, name_en, item_group, unit, standard_fen, tier_rule, "       \
    "eligibility, annual_cap_fen, daily_cap_fen, exclusive_group, fund_source, programme, "        \
    "issued, effective_from, effective_to, is_default, procedure, legal_basis, kind, "             \
    "application, fund_shares, attendance_weeks, credit_ends"
#define CATLOAD_VALUES                                                                             \
    "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, "  \
    "$21, $22, $23, $24, $25, $26"

/* The catalogue in force today, in the load's transaction: every item
 * upserted into elig_catalogue_items (an unchanged item is not written
 * again, so a reload audits nothing) and the directory pipeline, the tier
 * tables replaced. The items written, or -1 (printed). */
static int catload_today(registry *r, const catalogue *c, int *tiers_changed)
{
    char err[512];
    int changed = 0;
    for (int i = 0; i < c->nitems; i++) {
        catload_row w;
        catload_row_make(&w, c, &c->items[i]);
        PGresult *res = pg_query(
            r->pg,
            "INSERT INTO elig_catalogue_items AS c (" CATLOAD_COLS ") VALUES (" CATLOAD_VALUES
            ") ON CONFLICT (code) DO "
            "UPDATE SET version = EXCLUDED.version, category = EXCLUDED.category, name_zh = "
            "EXCLUDED.name_zh, name_en = EXCLUDED.name_en, item_group = EXCLUDED.item_group, unit "
            "= "
            "EXCLUDED.unit, standard_fen = EXCLUDED.standard_fen, tier_rule = EXCLUDED.tier_rule, "
            "eligibility = EXCLUDED.eligibility, annual_cap_fen = EXCLUDED.annual_cap_fen, "
            "daily_cap_fen = EXCLUDED.daily_cap_fen, exclusive_group = EXCLUDED.exclusive_group, "
            "fund_source = EXCLUDED.fund_source, programme = EXCLUDED.programme, issued = "
            "EXCLUDED.issued, effective_from = EXCLUDED.effective_from, effective_to = "
            "EXCLUDED.effective_to, is_default = EXCLUDED.is_default, procedure = "
            "EXCLUDED.procedure, legal_basis = EXCLUDED.legal_basis, kind = EXCLUDED.kind, "
            "application = EXCLUDED.application, fund_shares = EXCLUDED.fund_shares, "
            "attendance_weeks = EXCLUDED.attendance_weeks, credit_ends = EXCLUDED.credit_ends "
            "WHERE "
            "(c.*) IS DISTINCT FROM (EXCLUDED.*) RETURNING code",
            26, w.p, err, sizeof(err));
        if (res == NULL) {
            registry_fail("catalogue item %s: %s", c->items[i].code, err);
            return -1;
        }
        changed += PQntuples(res);
        PQclear(res);
        registry_project_item(r, &c->items[i]);
    }
    *tiers_changed = catload_tiers(r, c);
    return *tiers_changed < 0 ? -1 : changed;
}

/* A new version's rows: the items and the tier tables. 0 / -1 (printed). */
static int catload_version_rows(registry *r, const catalogue *c, const char *vid)
{
    char err[512];
    for (int i = 0; i < c->nitems; i++) {
        catload_row w;
        catload_row_make(&w, c, &c->items[i]);
        const char *p[27];
        memcpy(p, w.p, sizeof(w.p));
        p[26] = vid;
        if (pg_exec(r->pg,
                    "INSERT INTO elig_catalogue_version_items (version_id, " CATLOAD_COLS
                    ") VALUES ($27::int, " CATLOAD_VALUES ")",
                    27, p, err, sizeof(err)) < 0) {
            registry_fail("catalogue item %s: %s", c->items[i].code, err);
            return -1;
        }
    }
    for (int k = 0; k < c->tiers->n; k++) {
        char ord[16], value[24];
        snprintf(ord, sizeof(ord), "%d", k);
        snprintf(value, sizeof(value), "%lld", (long long)c->tiers->rows[k].value);
        const char *p[] = {vid,
                           catalogue_tier_names[c->tiers->rows[k].tier],
                           c->tier_when[k],
                           ord,
                           value,
                           c->tier_basis[k]};
        if (pg_exec(r->pg,
                    "INSERT INTO elig_catalogue_version_tiers (version_id, tier, when_rule, ord, "
                    "value, legal_basis) VALUES ($1::int, $2, $3, $4::int, $5::bigint, $6)",
                    6, p, err, sizeof(err)) < 0) {
            registry_fail("catalogue tier %s: %s", p[1], err);
            return -1;
        }
    }
    return 0;
}

/* The file's bytes (up to 1 MiB), malloc'd, or NULL (printed). */
static char *catload_read(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        registry_fail("catalogue %s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(1 << 20);
    size_t n = buf ? fread(buf, 1, 1 << 20, fp) : 0;
    fclose(fp);
    if (buf == NULL || n == (1 << 20)) {
        free(buf);
        registry_fail("catalogue %s: larger than 1 MiB", path);
        return NULL;
    }
    *len = n;
    return buf;
}

static int catload_load(registry *r, int argc, char **argv)
{
    const char *actor = args_opt(argc, argv, "actor") ? args_opt(argc, argv, "actor") : "operator";
    const char *effective = args_opt(argc, argv, "effective");
    const char *correction = args_opt(argc, argv, "correction");
    char err[512];
    int32_t eff_day = 0;
    if (effective && rules_date_parse(effective, &eff_day, err, sizeof(err)) < 0) {
        registry_fail("--effective: %s", err);
        return 1;
    }
    if (effective && eff_day < rules_days(2000, 1, 1)) {
        registry_fail("--effective %s is before %s", effective, CATLOAD_BEGINNING);
        return 1;
    }
    if (correction && strcmp(correction, "yes") != 0 && strcmp(correction, "no") != 0) {
        registry_fail("--correction must be yes or no");
        return 1;
    }
    bool correct = correction && strcmp(correction, "yes") == 0;
    size_t len = 0;
    char *buf = catload_read(argv[1], &len);
    if (buf == NULL)
        return 1;
    catalogue c;
    if (catalogue_parse(&c, buf, len, err, sizeof(err)) < 0) {
        registry_fail("catalogue %s: %s", argv[1], err);
        free(buf);
        return 1;
    }
    char hash[SIGN_HEX_LEN + 1];
    sign_sha256_hex(hash, buf, len);
    free(buf);
    if (registry_begin(r, actor) < 0) {
        catalogue_free(&c);
        return CLI_DEPENDENCY;
    }
    /* one load at a time: the version ids and the issued check */
    int rc = 0;
    PGresult *old = NULL, *iss = NULL;
    char vid[16] = "", eff[RULES_DATE_LEN] = CATLOAD_BEGINNING;
    if (effective)
        rules_date_format(eff, eff_day);
    const char *hp[] = {hash, effective ? eff : NULL};
    if (pg_exec(r->pg, "LOCK TABLE elig_catalogue_versions IN EXCLUSIVE MODE", 0, NULL, err,
                sizeof(err)) < 0 ||
        (old = pg_query(r->pg,
                        "SELECT version_id, effective::text, (SELECT count(*) FROM "
                        "elig_catalogue_versions) FROM elig_catalogue_versions WHERE sha256 = $1 "
                        "AND ($2::date IS NULL OR effective = $2::date) ORDER BY version_id DESC",
                        2, hp, err, sizeof(err))) == NULL) {
        registry_fail("%s", err);
        rc = CLI_DEPENDENCY;
        goto out;
    }
    bool fresh = PQntuples(old) == 0;
    if (!fresh) {
        snprintf(vid, sizeof(vid), "%s", PQgetvalue(old, 0, 0));
        snprintf(eff, sizeof(eff), "%s", PQgetvalue(old, 0, 1));
    } else if (!effective) {
        PGresult *any = pg_query(r->pg, "SELECT count(*) FROM elig_catalogue_versions", 0, NULL,
                                 err, sizeof(err));
        bool first = any && strcmp(PQgetvalue(any, 0, 0), "0") == 0;
        PQclear(any);
        if (!first) {
            registry_refuse(REFUSE_INVALID,
                            "catalogue %s: 新版本须注明生效日期 / a new catalogue version needs "
                            "--effective YYYY-MM-DD (the day its figures take effect); the "
                            "versions loaded: catalogue versions",
                            argv[1]);
            rc = 1;
            goto out;
        }
    }
    if (fresh) {
        /* the periods already issued from the version's month on */
        const char *ep[] = {eff};
        iss = pg_query(r->pg,
                       "SELECT coalesce(string_agg(period, ',' ORDER BY period), '') FROM (SELECT "
                       "DISTINCT period FROM elig_issuances WHERE period >= "
                       "to_char($1::date, 'YYYY-MM')) x",
                       1, ep, err, sizeof(err));
        if (iss == NULL) {
            registry_fail("%s", err);
            rc = CLI_DEPENDENCY;
            goto out;
        }
        if (PQgetvalue(iss, 0, 0)[0] != '\0' && !correct) {
            registry_refuse(REFUSE_CONFLICT,
                            "catalogue %s: 生效日期 %s 落在已发放的月份 %s，未载入；如确需更正，"
                            "加 --correction yes（补发或追回按更正办理） / effective %s falls in "
                            "periods already issued (%s): not loaded; with --correction yes the "
                            "version is loaded and those periods are corrected (arrears issued, "
                            "overpayments recorded)",
                            argv[1], eff, PQgetvalue(iss, 0, 0), eff, PQgetvalue(iss, 0, 0));
            rc = 1;
            goto out;
        }
        const char *vp[] = {c.version, eff, hash, actor, correct ? "t" : "f"};
        PGresult *ins = pg_query(
            r->pg,
            "INSERT INTO elig_catalogue_versions (version_id, label, effective, sha256, "
            "loaded_by, correction) SELECT coalesce(max(version_id), 0) + 1, $1, $2::date, $3, "
            "$4, $5::boolean FROM elig_catalogue_versions RETURNING version_id",
            5, vp, err, sizeof(err));
        if (ins == NULL) {
            registry_fail("%s", err);
            rc = CLI_DEPENDENCY;
            goto out;
        }
        snprintf(vid, sizeof(vid), "%s", PQgetvalue(ins, 0, 0));
        PQclear(ins);
        if (catload_version_rows(r, &c, vid) < 0) {
            rc = CLI_DEPENDENCY;
            goto out;
        }
    }
    /* the version in force today: elig_catalogue_items, the tier tables and
     * the directory follow it */
    char today[RULES_DATE_LEN];
    rules_date_format(today, registry_today());
    const char *tp[] = {today};
    PGresult *now =
        pg_query(r->pg, "SELECT elig_catalogue_version_at($1::date)", 1, tp, err, sizeof(err));
    if (now == NULL) {
        registry_fail("%s", err);
        rc = CLI_DEPENDENCY;
        goto out;
    }
    bool in_force = strcmp(PQgetvalue(now, 0, 0), vid) == 0;
    PQclear(now);
    int changed = 0, tiers_changed = 0, defaults = 0;
    for (int i = 0; i < c.nitems; i++)
        defaults += c.items[i].is_default;
    if (in_force && (changed = catload_today(r, &c, &tiers_changed)) < 0) {
        rc = CLI_DEPENDENCY;
        goto out;
    }
out:
    if (rc != 0) {
        pg_rollback(r->pg);
        PQclear(old);
        PQclear(iss);
        catalogue_free(&c);
        return rc;
    }
    rc = registry_commit(r) < 0 || registry_sync(r) < 0 ? CLI_DEPENDENCY : 0;
    if (rc == 0)
        printf("catalogue %s: version %s effective %s (%s%s): %d items, %d changed, %d figures "
               "marked as defaults to confirm; tier tables: %d rows, %d rows written or removed\n",
               c.version, vid, eff, fresh ? "new" : "already loaded",
               in_force ? ", in force today" : "", c.nitems, changed, defaults, c.tiers->n,
               tiers_changed);
    /* a correction: each issued period the version changes is issued again,
     * its differences corrected as issue_correct corrects a late change */
    if (rc == 0 && fresh && iss && PQgetvalue(iss, 0, 0)[0] != '\0') {
        char periods[4096];
        snprintf(periods, sizeof(periods), "%s", PQgetvalue(iss, 0, 0));
        for (char *save = NULL, *per = strtok_r(periods, ",", &save); per && rc == 0;
             per = strtok_r(NULL, ",", &save)) {
            printf("correction of %s under version %s:\n", per, vid);
            fflush(stdout);
            if (issue_period(r, per, actor) != 0) {
                registry_fail("correction of %s failed: the version is loaded; run: issue "
                              "--period %s",
                              per, per);
                rc = CLI_DEPENDENCY;
            }
        }
    }
    PQclear(old);
    PQclear(iss);
    catalogue_free(&c);
    return rc;
}

int catload_project_today(registry *r, int *changed)
{
    catalogue c;
    char err[512], today[RULES_DATE_LEN];
    *changed = 0;
    rules_date_format(today, registry_today());
    const char *p[] = {today};
    PGresult *any = pg_query(r->pg, "SELECT elig_catalogue_version_at($1::date) IS NOT NULL", 1, p,
                             err, sizeof(err));
    if (any == NULL) {
        registry_fail("%s", err);
        return -1;
    }
    bool loaded = PQgetvalue(any, 0, 0)[0] == 't';
    PQclear(any);
    if (!loaded) /* no catalogue yet: nothing to project */
        return 0;
    if (registry_catalogue(r, registry_today(), &c) < 0)
        return -1;
    int tiers = 0, n = -1;
    if (registry_begin(r, "catalogue-in-force") == 0) {
        n = catload_today(r, &c, &tiers);
        if (n < 0)
            pg_rollback(r->pg);
        else if (registry_commit(r) < 0 || registry_sync(r) < 0)
            n = -1;
    }
    catalogue_free(&c);
    if (n < 0)
        return -1;
    *changed = n + tiers;
    return 0;
}

static int catload_versions(registry *r)
{
    char err[512], today[RULES_DATE_LEN];
    rules_date_format(today, registry_today());
    const char *p[] = {today};
    PGresult *res = pg_query(
        r->pg,
        "SELECT v.version_id, v.effective, to_char(v.loaded_at AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD HH24:MI:SS'), v.loaded_by, v.sha256, v.label, (SELECT count(*) FROM "
        "elig_catalogue_version_items i WHERE i.version_id = v.version_id), CASE WHEN "
        "v.version_id = elig_catalogue_version_at($1::date) THEN '*' ELSE '' END, CASE WHEN "
        "v.correction THEN 'correction' ELSE '' END FROM elig_catalogue_versions v ORDER BY "
        "v.effective, v.version_id",
        1, p, err, sizeof(err));
    if (res == NULL) {
        registry_fail("%s", err);
        return CLI_DEPENDENCY;
    }
    printf("%-8s %-10s %-19s %-12s %-16s %-12s %5s\n", "version", "effective", "loaded at (UTC)",
           "by", "sha256", "label", "items");
    for (int i = 0; i < PQntuples(res); i++)
        printf("%-8s %-10s %-19s %-12s %.16s %-12s %5s %s%s\n", PQgetvalue(res, i, 0),
               PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), PQgetvalue(res, i, 3),
               PQgetvalue(res, i, 4), PQgetvalue(res, i, 5), PQgetvalue(res, i, 6),
               PQgetvalue(res, i, 7)[0] ? "in force today " : "", PQgetvalue(res, i, 8));
    printf("%d version(s)\n", PQntuples(res));
    PQclear(res);
    return 0;
}

static int catload_show(registry *r, const char *at)
{
    char err[512];
    int32_t day = registry_today();
    if (at && rules_date_parse(at, &day, err, sizeof(err)) < 0) {
        registry_fail("--at: %s", err);
        return 1;
    }
    catalogue c;
    if (registry_catalogue(r, day, &c) < 0)
        return 1;
    char from[RULES_DATE_LEN], until[RULES_DATE_LEN], on[RULES_DATE_LEN];
    rules_date_format(from, c.effective_day);
    if (c.until_day)
        rules_date_format(until, c.until_day);
    printf("catalogue on %s: version %d (%s), in force from %s%s%s; %d items, %d tier rows\n",
           rules_date_format(on, day), c.version_id, c.version, from, c.until_day ? " until " : "",
           c.until_day ? until : "", c.nitems, c.tiers->n);
    for (int i = 0; i < c.nitems; i++) {
        const rules_item *it = &c.items[i];
        printf("%-14s %-9s %-7s standard %9lld fen  annual cap %10lld fen  %-10s %s\n", it->code,
               directory_kind_name(it->kind), catalogue_unit_names[it->unit],
               (long long)it->standard_fen, (long long)it->annual_cap_fen,
               catalogue_tier_names[it->tier], it->fund_shares);
    }
    for (int k = 0; k < c.tiers->n; k++)
        printf("tier %-10s %-32s %lld\n", catalogue_tier_names[c.tiers->rows[k].tier],
               c.tier_when[k], (long long)c.tiers->rows[k].value);
    catalogue_free(&c);
    return 0;
}

/* What catalogue_diff reports, printed. */
typedef struct catload_diffs {
    const catalogue *a, *b;
    int added, removed, changed;
} catload_diffs;

static void catload_diff_line(void *ctx, char op, const char *code, const char *field,
                              const char *old, const char *now)
{
    catload_diffs *d = ctx;
    if (op == '~') {
        printf("~ %s %s: %s → %s\n", code, field, old, now);
        d->changed++;
        return;
    }
    const rules_item *it = catalogue_find(op == '+' ? d->b : d->a, code);
    printf("%c %s%s%s\n", op, code, it ? " " : "", it ? it->name_zh : "");
    op == '+' ? d->added++ : d->removed++;
}

/* Items added and removed, and each changed field old → new; then the
 * tier rows the same way (catalogue_diff). */
static int catload_diff(registry *r, const char *v1, const char *v2)
{
    int a, b;
    if (args_int(v1, "V1", 1, 1000000, &a) < 0 || args_int(v2, "V2", 1, 1000000, &b) < 0)
        return 1;
    char err[512];
    const char *p[] = {v1, v2};
    PGresult *chk = pg_query(r->pg,
                             "SELECT count(*) FROM elig_catalogue_versions WHERE version_id IN "
                             "($1::int, $2::int)",
                             2, p, err, sizeof(err));
    if (chk == NULL) {
        registry_fail("%s", err);
        return CLI_DEPENDENCY;
    }
    bool both = atoi(PQgetvalue(chk, 0, 0)) == (a == b ? 1 : 2);
    PQclear(chk);
    if (!both) {
        registry_refuse(REFUSE_NOT_FOUND,
                        "没有该目录版本 / no catalogue version %s or %s (see: catalogue versions)",
                        v1, v2);
        return 1;
    }
    catalogue ca, cb;
    if (registry_catalogue_version(r, a, &ca) < 0)
        return CLI_DEPENDENCY;
    if (registry_catalogue_version(r, b, &cb) < 0) {
        catalogue_free(&ca);
        return CLI_DEPENDENCY;
    }
    catload_diffs d = {&ca, &cb, 0, 0, 0};
    catalogue_diff(&ca, &cb, catload_diff_line, &d);
    printf("catalogue diff %d (%s) → %d (%s): %d added, %d removed, %d fields changed\n", a,
           ca.version, b, cb.version, d.added, d.removed, d.changed);
    catalogue_free(&ca);
    catalogue_free(&cb);
    return 0;
}

int catload_command(registry *r, int argc, char **argv)
{
    if (argc < 1)
        return COMMANDS_USAGE;
    if (strcmp(argv[0], "load") == 0) {
        int npos = args_check(argc, argv, "actor,effective,correction");
        return npos == 2 ? catload_load(r, argc, argv) : COMMANDS_USAGE;
    }
    if (strcmp(argv[0], "versions") == 0) {
        int npos = args_check(argc, argv, "");
        return npos == 1 ? catload_versions(r) : COMMANDS_USAGE;
    }
    if (strcmp(argv[0], "show") == 0) {
        int npos = args_check(argc, argv, "at");
        return npos == 1 ? catload_show(r, args_opt(argc, argv, "at")) : COMMANDS_USAGE;
    }
    if (strcmp(argv[0], "diff") == 0) {
        int npos = args_check(argc, argv, "");
        return npos == 3 ? catload_diff(r, argv[1], argv[2]) : COMMANDS_USAGE;
    }
    return COMMANDS_USAGE;
}
