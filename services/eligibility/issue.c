/*
 * issue: the issuance run for one period (YYYY-MM).
 *
 * 1. Read the catalogue versions in force on the period's days (the one
 *    of its first day and each taking over within it, 0028), then every
 *    person with a card in use and every
 *    attribute change, through two cursors in person order merged as they
 *    are read (chunks of 20,000 rows: memory does not grow with the
 *    population).
 * 2. For each person build the segments of days with constant attributes
 *    and let rules_plan_period compute the grants (prorated over the days,
 *    each day at the figure of the version in force that day; exclusive
 *    groups resolved). A re-issue of a past period therefore prices it
 *    with that period's versions, not today's.
 * 3. Insert the grants into elig_issuances in batches (unnest arrays, ON
 *    CONFLICT DO NOTHING on (person, item, period)): a re-run inserts
 *    nothing it inserted before. Then correct what was issued before a
 *    late change came in (issue_correct): arrears when more is due now,
 *    an overpayment to recover when less (0010_issuance_corrections.sql).
 *    Top-ups of the period the ledger refused as over budget and never
 *    applied are made unpublished again (issue_requeue_refused).
 * 4. Publish every unpublished issuance and arrears of the period (50,000 at a time)
 *    as a TopupIssued on onecard.topups.v1 (key: card_no) and mark it
 *    published once the broker acknowledged it. A run that stopped between 3 and 4 is completed by
 *    the next one; the topup_id (stable per person, item and period) lets
 *    the ledger drop a top-up it has already applied.
 *
 * Prints the totals per fund source and programme: those are what the
 * ledger's budget check draws on (`onecard-ledger allocate`).
 */
#include "issue.h"

#include "args.h"
#include "ident.h"

#include "common/calendar.h"
#include "common/cli.h"
#include "common/progress.h"
#include "common/event.h"
#include "common/shares.h"
#include "common/sign.h"

#include "topup.pb-c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ISSUE_BATCH 5000
#define ISSUE_SEGS  64

typedef struct issue_batch {
    pg_array person, item, topup, card, wallet, amount, fund, programme;
    int n;
} issue_batch;

static int issue_flush(registry *r, issue_batch *b, const char *period, long *inserted)
{
    if (b->n == 0)
        return 0;
    char err[512];
    const char *p[] = {
        pg_array_text(&b->person), pg_array_text(&b->item),      pg_array_text(&b->topup),
        pg_array_text(&b->card),   pg_array_text(&b->wallet),    pg_array_text(&b->amount),
        pg_array_text(&b->fund),   pg_array_text(&b->programme), period};
    for (int i = 0; i < 8; i++)
        if (p[i] == NULL) {
            registry_fail("out of memory");
            return -1;
        }
    PGresult *res = pg_query(
        r->pg,
        "WITH x AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], "
        "$5::text[], $6::bigint[], $7::text[], $8::text[]) x(p, i, t, c, w, a, f, g)), "
        "k AS (INSERT INTO issue_computed SELECT p, i, a, c FROM x), "
        "i AS (INSERT INTO elig_issuances (person_id, item_code, period, topup_id, card_no, "
        "wallet, amount_fen, fund_source, programme) SELECT p, i, $9, t, c, w, a, f, g FROM x "
        "ON CONFLICT DO NOTHING RETURNING 1) SELECT count(*) FROM i",
        9, p, err, sizeof(err));
    if (res == NULL) {
        registry_fail("issuances: %s", err);
        return -1;
    }
    *inserted += strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    pg_array_reset(&b->person), pg_array_reset(&b->item), pg_array_reset(&b->topup);
    pg_array_reset(&b->card), pg_array_reset(&b->wallet), pg_array_reset(&b->amount);
    pg_array_reset(&b->fund), pg_array_reset(&b->programme);
    b->n = 0;
    return 0;
}

/* A cursor read in chunks, so that a million persons never sit in memory
 * at once. Inside the run's transaction. */
typedef struct issue_cursor {
    PGconn *pg;
    const char *name;
    PGresult *res;
    int row;
    bool done;
} issue_cursor;

static int issue_cursor_open(issue_cursor *c, PGconn *pg, const char *name, const char *sql, int n,
                             const char *const *params)
{
    char err[512], decl[1024];
    memset(c, 0, sizeof(*c));
    c->pg = pg;
    c->name = name;
    snprintf(decl, sizeof(decl), "DECLARE %s NO SCROLL CURSOR FOR %s", name, sql);
    if (pg_exec(pg, decl, n, params, err, sizeof(err)) < 0) {
        registry_fail("%s", err);
        return -1;
    }
    return 0;
}

/* The current row, fetching the next chunk when needed; NULL at the end
 * (or on an error: *failed). */
static PGresult *issue_cursor_row(issue_cursor *c, int *row, bool *failed)
{
    if (c->res && c->row < PQntuples(c->res)) {
        *row = c->row;
        return c->res;
    }
    if (c->done)
        return NULL;
    PQclear(c->res);
    char err[512], sql[128];
    snprintf(sql, sizeof(sql), "FETCH 20000 FROM %s", c->name);
    c->res = pg_query(c->pg, sql, 0, NULL, err, sizeof(err));
    c->row = 0;
    if (c->res == NULL) {
        registry_fail("%s", err);
        *failed = true;
        c->done = true;
        return NULL;
    }
    if (PQntuples(c->res) == 0) {
        c->done = true;
        return NULL;
    }
    *row = 0;
    return c->res;
}

static void issue_cursor_close(issue_cursor *c)
{
    PQclear(c->res);
    c->res = NULL;
}

static const char *issue_intern(const char *v)
{
    static const char *const values[] = {
        "visual",   "hearing",   "speech",      "limb",       "intellectual", "psychiatric",
        "multiple", "none",      "dibao",       "near-poor",  "active",       "deceased",
        "revoked",  "moved-out", "certificate", "assessment", "diagnosis",    "suspected"};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
        if (strcmp(v, values[i]) == 0)
            return values[i];
    return ""; /* unknown: eligible for nothing */
}

/* The set of items granted by applications, ",A,B," in code order, with
 * code added (on) or taken out: interned for the whole run (the subsets of
 * the catalogue's application items are few), "" when the table is full. */
static int issue_cmp_code(const void *a, const void *b)
{
    return strcmp(a, b);
}

static const char *issue_grant(const char *set, const char *code, bool on)
{
    static char sets[64][256];
    static int nsets;
    char codes[16][32];
    int n = 0;
    for (const char *s = set ? set : ""; *s && n < 16;) {
        size_t l = strcspn(s, ",");
        if (l > 0 && l < 32 && !(strlen(code) == l && strncmp(s, code, l) == 0))
            snprintf(codes[n++], 32, "%.*s", (int)l, s);
        s += l + (s[l] == ',');
    }
    if (on && n < 16)
        snprintf(codes[n++], 32, "%s", code);
    qsort(codes, (size_t)n, sizeof(codes[0]), issue_cmp_code);
    char out[256] = "";
    size_t len = 0;
    for (int i = 0; i < n && len < sizeof(out); i++)
        len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s,", i == 0 ? "," : "", codes[i]);
    for (int i = 0; i < nsets; i++)
        if (strcmp(sets[i], out) == 0)
            return sets[i];
    if (nsets == 64)
        return "";
    snprintf(sets[nsets], sizeof(sets[0]), "%s", out);
    return sets[nsets++];
}

/* Applies one change to the running attributes. The strings are interned
 * (the row they come from is freed with its chunk). */
static void issue_apply(rules_person *p, int *grade, int *care, const char *attr, const char *v)
{
    if (strncmp(attr, "grant:", 6) == 0) {
        p->granted = issue_grant(p->granted, attr + 6, strcmp(v, "1") == 0);
        return;
    }
    if (strcmp(attr, "category") == 0)
        p->category = issue_intern(v);
    else if (strcmp(attr, "household") == 0)
        p->household = issue_intern(v);
    else if (strcmp(attr, "status") == 0)
        p->status = issue_intern(v);
    else if (strcmp(attr, "evidence") == 0)
        p->evidence = issue_intern(v);
    else if (strcmp(attr, "grade") == 0)
        *grade = atoi(v);
    else if (strcmp(attr, "care_level") == 0)
        *care = atoi(v);
}

/* ---------------------------------------------------------- corrections */

/* Inside the run's transaction, once every grant of the period is in
 * issue_computed: what is due now against what was granted (the issuance
 * and its corrections), for every issuance of the period of a person with
 * a card in use. More due: an arrears row on the person's card; less: an
 * overpayment row (see 0010_issuance_corrections.sql). */
static int issue_correct(registry *r, const char *period, long *n_more, int64_t *fen_more,
                         long *n_less, int64_t *fen_less)
{
    char err[512];
    const char *p[] = {period};
    PGresult *res = pg_query(
        r->pg,
        "WITH g AS (SELECT i.person_id, i.item_code, i.topup_id, i.card_no, i.wallet, "
        "i.fund_source, i.programme, i.amount_fen + coalesce(sum(k.amount_fen), 0) AS granted, "
        "count(k.seq) AS n FROM elig_issuances i LEFT JOIN elig_issuance_corrections k USING "
        "(person_id, item_code, period) WHERE i.period = $1 AND EXISTS (SELECT 1 FROM "
        "elig_cards c WHERE c.person_id = i.person_id AND c.status IN ('active', 'frozen')) "
        "GROUP BY i.person_id, i.item_code, i.topup_id, i.card_no, i.wallet, i.fund_source, "
        "i.programme, i.amount_fen), "
        "d AS (SELECT g.*, coalesce(x.amount_fen, 0) - g.granted AS delta, coalesce(x.card_no, "
        "(SELECT c.card_no FROM elig_cards c WHERE c.person_id = g.person_id AND c.status IN "
        "('active', 'frozen'))) AS card FROM g LEFT JOIN issue_computed x USING (person_id, "
        "item_code)), "
        "ins AS (INSERT INTO elig_issuance_corrections (person_id, item_code, period, seq, "
        "topup_id, card_no, wallet, amount_fen, fund_source, programme) SELECT person_id, "
        "item_code, $1, n + 1, topup_id || '-' || (n + 1), card, wallet, delta, fund_source, "
        "programme FROM d WHERE delta <> 0 RETURNING amount_fen) "
        "SELECT count(*) FILTER (WHERE amount_fen > 0), coalesce(sum(amount_fen) FILTER (WHERE "
        "amount_fen > 0), 0), count(*) FILTER (WHERE amount_fen < 0), coalesce(sum(amount_fen) "
        "FILTER (WHERE amount_fen < 0), 0) FROM ins",
        1, p, err, sizeof(err));
    if (res == NULL) {
        registry_fail("corrections: %s", err);
        return -1;
    }
    *n_more = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    *fen_more = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    *n_less = strtol(PQgetvalue(res, 0, 2), NULL, 10);
    *fen_less = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
    PQclear(res);
    return 0;
}

/* Top-ups of the period the ledger refused as over budget, and never
 * applied since, are published again (their budget may have been
 * allocated meanwhile): the same topup_id, so the ledger applies each once
 * whatever happens. Returns how many, or -1 (printed). */
static long issue_requeue_refused(registry *r, const char *period)
{
    char err[512];
    const char *p[] = {period};
    PGresult *res = pg_query(
        r->pg,
        "WITH refused AS (SELECT request_id AS topup_id FROM "
        "ledger_v1_refused_topups('issue-')), "
        "a AS (UPDATE elig_issuances i SET published = false FROM refused x WHERE i.topup_id = "
        "x.topup_id AND i.period = $1 AND i.published RETURNING 1), "
        "b AS (UPDATE elig_issuance_corrections i SET published = false FROM refused x WHERE "
        "i.topup_id = x.topup_id AND i.period = $1 AND i.published RETURNING 1) "
        "SELECT (SELECT count(*) FROM a) + (SELECT count(*) FROM b)",
        1, p, err, sizeof(err));
    if (res == NULL) {
        registry_fail("refused top-ups: %s", err);
        return -1;
    }
    long n = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return n;
}

/* ----------------------------------------------------------- publishing */

typedef struct issue_ack {
    char **acked;
    int nacked, failed;
} issue_ack;

/* What a delivery report needs: the top-up and where to count it. */
typedef struct issue_msg {
    issue_ack *ack;
    char topup_id[72];
} issue_msg;

static void issue_delivered(void *opaque, int err, const char *errstr, int32_t partition,
                            int64_t offset)
{
    issue_msg *msg = opaque;
    issue_ack *a = msg->ack;
    if (err == 0)
        a->acked[a->nacked++] = msg->topup_id;
    else
        a->failed++;
}

/* A top-up's fund shares, as the event carries them. */
typedef struct issue_shares {
    shares bp, split;
    Onecard__V1__FundShare share[SHARES_LEVELS];
    Onecard__V1__FundShare *ptr[SHARES_LEVELS];
} issue_shares;

/* Splits amount by the item's shares (basis points, as stored; a single
 * level is one share of 10000) into sh. 0, or -1 with err. */
static int issue_split(issue_shares *sh, const char *text, int64_t amount, char *err, size_t errlen)
{
    if (shares_parse(text, &sh->bp, err, errlen) < 0 ||
        shares_split(amount, &sh->bp, &sh->split, err, errlen) < 0)
        return -1;
    shares_drop_zero(&sh->split); /* a share of 1 fen of 3 has two of 0 */
    for (int k = 0; k < sh->split.n; k++) {
        Onecard__V1__FundShare f = ONECARD__V1__FUND_SHARE__INIT;
        f.level = (char *)shares_level_name(sh->split.level[k]);
        f.amount_fen = sh->split.v[k];
        sh->share[k] = f;
        sh->ptr[k] = &sh->share[k];
    }
    return 0;
}

/* Publishes up to 50,000 unpublished top-ups: the issuances and arrears of
 * the period, and every approved quote and recorded reimbursement (of any
 * period: they are published as they are decided). An item paid into the
 * person's own account (kind reimburse or cash) goes out with payee
 * "person". *n is how many were read. 0, or -1 when some were not
 * acknowledged. */
static int issue_publish_chunk(registry *r, const char *period, long *published, int *nrows)
{
    char err[512];
    const char *p[] = {period};
    PGresult *res = pg_query(
        r->pg,
        "SELECT u.topup_id, u.card_no, u.person_id, u.wallet, u.item_code, u.fund_source, "
        "u.programme, u.amount_fen, u.period, CASE WHEN coalesce(c.kind, t.kind) IN ('reimburse', "
        "'cash') THEN 'person' ELSE 'card' END, coalesce(c.fund_shares, t.fund_shares, "
        "u.fund_source), coalesce(c.credit_ends, t.credit_ends, 'never') FROM (SELECT topup_id, "
        "card_no, person_id, wallet, item_code, "
        "fund_source, programme, amount_fen, period FROM elig_issuances WHERE period = $1 AND NOT "
        "published UNION ALL SELECT topup_id, card_no, person_id, wallet, item_code, "
        "fund_source, programme, amount_fen, period FROM elig_issuance_corrections WHERE period "
        "= $1 AND NOT published AND amount_fen > 0 UNION ALL SELECT topup_id, card_no, "
        "person_id, item_code, item_code, fund_source, programme, amount_fen, period FROM "
        "elig_quotes WHERE state = 'approved' AND NOT published UNION ALL SELECT topup_id, "
        "card_no, person_id, item_code, item_code, fund_source, programme, amount_fen, period "
        "FROM elig_reimbursements WHERE NOT published LIMIT 50000) u JOIN elig_catalogue_items "
        "t ON t.code = u.item_code LEFT JOIN elig_catalogue_version_items c ON c.code = "
        "u.item_code AND c.version_id = elig_catalogue_version_at((u.period || '-01')::date)",
        1, p, err, sizeof(err));
    if (res == NULL) {
        registry_fail("%s", err);
        return -1;
    }
    int n = PQntuples(res);
    *nrows = n;
    issue_ack ack = {calloc((size_t)n + 1, sizeof(char *)), 0, 0};
    issue_msg *ids = calloc((size_t)n + 1, sizeof(issue_msg));
    int64_t now = event_now_ms();
    char this_month[8];
    calendar_month(now, (int)r->cfg->tz_offset_min, this_month);
    for (int i = 0; i < n; i++) {
        const char *tid = PQgetvalue(res, i, 0);
        ids[i].ack = &ack;
        snprintf(ids[i].topup_id, sizeof(ids[i].topup_id), "%s", tid);
        Onecard__V1__TopupIssued t = ONECARD__V1__TOPUP_ISSUED__INIT;
        char eid[80];
        snprintf(eid, sizeof(eid), "issue-%s", tid);
        t.event_id = eid;
        t.topup_id = (char *)tid;
        t.card_no = PQgetvalue(res, i, 1);
        t.person_id = PQgetvalue(res, i, 2);
        t.wallet = PQgetvalue(res, i, 3);
        t.item_code = PQgetvalue(res, i, 4);
        t.fund_source = PQgetvalue(res, i, 5);
        t.programme = PQgetvalue(res, i, 6);
        t.period = PQgetvalue(res, i, 8);
        t.amount_fen = strtoll(PQgetvalue(res, i, 7), NULL, 10);
        t.payee = PQgetvalue(res, i, 9);
        t.occurred_at_ms = now;
        /* the amount split by the item's fund shares (the version's in
         * force on the period's first day; a topup_id is applied once, so
         * a re-run publishes nothing new for it) */
        issue_shares sh;
        if (issue_split(&sh, PQgetvalue(res, i, 10), t.amount_fen, err, sizeof(err)) < 0) {
            registry_fail("top-up %s: %s", tid, err);
            ack.failed++;
            continue;
        }
        t.fund_source = (char *)shares_level_name(sh.bp.level[0]);
        /* the benefit period's end, by the rule of the same version: the
         * ledger's lapse returns what is unspent after it. Credit published
         * late (arrears, a re-run) gets the rule's end counted from this
         * month if that is later: it is never born lapsed */
        char ends[11] = "", late[11] = "";
        if (strcmp(t.payee, "card") == 0 &&
            (calendar_credit_ends(PQgetvalue(res, i, 11), t.period, ends, err, sizeof(err)) < 0 ||
             calendar_credit_ends(PQgetvalue(res, i, 11), this_month, late, err, sizeof(err)) <
                 0)) {
            registry_fail("top-up %s: %s", tid, err);
            ack.failed++;
            continue;
        }
        t.credit_ends = strcmp(late, ends) > 0 ? late : ends;
        t.n_shares = (size_t)sh.split.n;
        t.shares = sh.ptr;
        if (kafka_produce(r->kp, &t.base, NULL, t.card_no, strlen(t.card_no), issue_delivered,
                          &ids[i], err, sizeof(err)) < 0) {
            registry_fail("publish: %s", err);
            ack.failed++;
        }
        if (i % 1000 == 999)
            kafka_producer_poll(r->kp, 0);
    }
    int left = kafka_producer_flush(r->kp, 60000);
    int rc = 0;
    if (ack.nacked > 0) {
        pg_array a = {0};
        for (int i = 0; i < ack.nacked; i++)
            pg_array_add(&a, ack.acked[i]);
        const char *q[] = {pg_array_text(&a)};
        if (q[0] == NULL || pg_exec(r->pg,
                                    "WITH c AS (UPDATE elig_issuance_corrections SET published "
                                    "= true WHERE topup_id = ANY($1::text[])), q AS (UPDATE "
                                    "elig_quotes SET published = true WHERE topup_id = "
                                    "ANY($1::text[])), b AS (UPDATE elig_reimbursements SET "
                                    "published = true WHERE topup_id = ANY($1::text[])) UPDATE "
                                    "elig_issuances SET published = true WHERE topup_id = "
                                    "ANY($1::text[])",
                                    1, q, err, sizeof(err)) < 0) {
            registry_fail("marking published: %s", err);
            rc = -1;
        }
        pg_array_free(&a);
    }
    if (left > 0 || ack.failed > 0) {
        registry_fail("%d top-up(s) not acknowledged: the next run publishes them",
                      left + ack.failed);
        rc = -1;
    }
    *published += ack.nacked;
    free(ids);
    free(ack.acked);
    PQclear(res);
    return rc;
}

int issue_publish(registry *r, const char *period, long *published)
{
    int n = 1;
    *published = 0;
    while (n > 0)
        if (issue_publish_chunk(r, period, published, &n) < 0)
            return -1;
    return 0;
}

/* ------------------------------------------------------------------ run */

static void issue_versions_free(catalogue *cv, int nv, rules_plan *plan)
{
    for (int k = 0; k < nv; k++)
        catalogue_free(&cv[k]);
    free(plan);
}

static int issue_run(registry *r, const char *period, const char *actor)
{
    char err[512];
    int y, m;
    if (rules_period_parse(period, &y, &m, err, sizeof(err)) < 0) {
        registry_fail("--period: %s", err);
        return 1;
    }
    if (rules_days(y, m, 1) > registry_today() + 31) {
        registry_fail("--period %s is later than next month", period);
        return 1;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* the catalogue versions in force on the month's days (0028): the one
     * of its first day, then each that takes over within it */
    catalogue cv[RULES_SPANS_MAX];
    rules_span spans[RULES_SPANS_MAX];
    int nv = 0;
    int32_t first = rules_days(y, m, 1), end = first + rules_days_in_month(y, m);
    for (int32_t day = first; day < end;) {
        if (nv == RULES_SPANS_MAX) {
            registry_fail("%s: more than %d catalogue versions in force within the month", period,
                          RULES_SPANS_MAX);
            while (nv > 0)
                catalogue_free(&cv[--nv]);
            return 1;
        }
        if (registry_catalogue(r, day, &cv[nv]) < 0) {
            while (nv > 0)
                catalogue_free(&cv[--nv]);
            return CLI_DEPENDENCY;
        }
        int32_t to = cv[nv].until_day && cv[nv].until_day < end ? cv[nv].until_day : end;
        spans[nv] = (rules_span){cv[nv].items, cv[nv].nitems, day, to};
        nv++;
        day = to;
    }
    rules_plan *plan = malloc(sizeof(*plan));
    if (plan == NULL || rules_plan_make(plan, spans, nv, err, sizeof(err)) < 0) {
        registry_fail("%s: %s", period, plan ? err : "out of memory");
        free(plan);
        while (nv > 0)
            catalogue_free(&cv[--nv]);
        return CLI_DEPENDENCY;
    }
    char month_end[16];
    snprintf(month_end, sizeof(month_end), "%04d-%02d-%02d", y, m, rules_days_in_month(y, m));
    const char *p[] = {month_end};
    if (registry_begin(r, actor) < 0) {
        issue_versions_free(cv, nv, plan);
        return CLI_DEPENDENCY;
    }
    if (pg_exec(r->pg,
                "CREATE TEMP TABLE issue_computed (person_id text, item_code text, amount_fen "
                "bigint, card_no text) ON COMMIT DROP",
                0, NULL, err, sizeof(err)) < 0) {
        registry_fail("%s", err);
        pg_rollback(r->pg);
        issue_versions_free(cv, nv, plan);
        return CLI_DEPENDENCY;
    }
    /* both in person order (byte order: the merge below compares with
     * strcmp), read in chunks */
    issue_cursor pc, cc;
    if (issue_cursor_open(&pc, r->pg, "issue_persons",
                          "SELECT p.person_id, c.card_no, p.birth_date FROM elig_persons p JOIN "
                          "elig_cards c ON c.person_id = p.person_id AND c.status IN ('active', "
                          "'frozen') ORDER BY p.person_id COLLATE \"C\"",
                          0, NULL) < 0 ||
        issue_cursor_open(&cc, r->pg, "issue_changes",
                          "SELECT person_id, attr, value, (effective_from - DATE '1970-01-01') "
                          "FROM elig_person_changes WHERE effective_from <= $1::date ORDER BY "
                          "person_id COLLATE \"C\", effective_from, recorded_at, event_id",
                          1, p) < 0) {
        pg_rollback(r->pg);
        issue_versions_free(cv, nv, plan);
        return CLI_DEPENDENCY;
    }
    issue_batch b;
    memset(&b, 0, sizeof(b));
    rules_grant *grants = calloc((size_t)plan->ncodes + 1, sizeof(rules_grant));
    rules_segment seg[ISSUE_SEGS];
    int rc = 0, i, k;
    bool failed = false;
    long persons = 0, granted = 0, inserted = 0, published = 0;
    int64_t total = 0;
    /* totals per fund source and programme */
    char names[64][64];
    int64_t sums[64];
    int nsums = 0;
    PGresult *pr, *ch;
    progress bar; /* persons with a card in use, counted only for a terminal */
    int64_t nall = 0;
    if (progress_enabled()) {
        PGresult *cr = pg_query(r->pg,
                                "SELECT count(*) FROM elig_cards WHERE status IN ('active', "
                                "'frozen')",
                                0, NULL, err, sizeof(err));
        nall = cr && PQntuples(cr) == 1 ? strtoll(PQgetvalue(cr, 0, 0), NULL, 10) : 0;
        PQclear(cr);
    }
    progress_start(&bar, "issue persons", nall);
    int64_t seen = 0;
    while (rc == 0 && (pr = issue_cursor_row(&pc, &i, &failed)) != NULL) {
        pc.row++;
        progress_update(&bar, ++seen);
        char pid[IDENT_PERSON_LEN + 1], card[24];
        snprintf(pid, sizeof(pid), "%s", PQgetvalue(pr, i, 0));
        snprintf(card, sizeof(card), "%s", PQgetvalue(pr, i, 1));
        int32_t bday = 0;
        if (rules_date_parse(PQgetvalue(pr, i, 2), &bday, err, sizeof(err)) < 0)
            continue;
        rules_person cur = {"", "none", "", 0, 0, bday, "", NULL};
        int grade = 0, care = 0, nseg = 0;
        while ((ch = issue_cursor_row(&cc, &k, &failed)) != NULL) {
            int cmp = strcmp(PQgetvalue(ch, k, 0), pid);
            if (cmp > 0)
                break;
            cc.row++;
            if (cmp < 0) /* a person without a card in use */
                continue;
            int32_t day = (int32_t)strtol(PQgetvalue(ch, k, 3), NULL, 10);
            if (nseg > 0 && seg[nseg - 1].from_day == day) {
                nseg--; /* several changes on one day: the last one wins */
            } else if (nseg > 0) {
                seg[nseg - 1].to_day = day;
            }
            if (nseg == ISSUE_SEGS) /* keep the latest history */
                memmove(seg, seg + 1, sizeof(seg[0]) * (size_t)--nseg);
            issue_apply(&cur, &grade, &care, PQgetvalue(ch, k, 1), PQgetvalue(ch, k, 2));
            cur.grade = grade;
            cur.care_level = care;
            seg[nseg].from_day = day;
            seg[nseg].to_day = INT32_MAX;
            seg[nseg].p = cur;
            nseg++;
        }
        if (failed) {
            rc = CLI_DEPENDENCY;
            break;
        }
        persons++;
        int ng = rules_plan_period(plan, seg, nseg, y, m, grants);
        for (int g = 0; g < ng; g++) {
            const rules_item *it = grants[g].item;
            char key[160], tid[SIGN_HEX_LEN + 1], topup[40];
            snprintf(key, sizeof(key), "%s|%s|%s", pid, it->code, period);
            sign_sha256_hex(tid, key, strlen(key));
            snprintf(topup, sizeof(topup), "t%.32s", tid);
            pg_array_add(&b.person, pid);
            pg_array_add(&b.item, it->code);
            pg_array_add(&b.topup, topup);
            pg_array_add(&b.card, card);
            pg_array_add(&b.wallet, it->code); /* earmarked: the item's own wallet */
            pg_array_add_int(&b.amount, grants[g].amount_fen);
            pg_array_add(&b.fund, it->fund_source);
            pg_array_add(&b.programme, it->programme);
            b.n++;
            granted++;
            total += grants[g].amount_fen;
            for (int s = 0; s < 2; s++) {
                char name[64];
                snprintf(name, sizeof(name), "%s %s", s == 0 ? "fund" : "programme",
                         s == 0 ? it->fund_source : it->programme);
                int j = 0;
                while (j < nsums && strcmp(names[j], name) != 0)
                    j++;
                if (j == nsums && nsums < 64) {
                    snprintf(names[nsums], sizeof(names[0]), "%s", name);
                    sums[nsums++] = 0;
                }
                if (j < 64)
                    sums[j] += grants[g].amount_fen;
            }
        }
        if (b.n >= ISSUE_BATCH && issue_flush(r, &b, period, &inserted) < 0)
            rc = CLI_DEPENDENCY;
    }
    progress_done(&bar);
    if (failed)
        rc = CLI_DEPENDENCY;
    issue_cursor_close(&pc);
    issue_cursor_close(&cc);
    if (rc == 0 && issue_flush(r, &b, period, &inserted) < 0)
        rc = CLI_DEPENDENCY;
    long n_more = 0, n_less = 0, requeued = 0;
    int64_t fen_more = 0, fen_less = 0;
    if (rc == 0 && issue_correct(r, period, &n_more, &fen_more, &n_less, &fen_less) < 0)
        rc = CLI_DEPENDENCY;
    if (rc == 0 && (requeued = issue_requeue_refused(r, period)) < 0)
        rc = CLI_DEPENDENCY;
    rc = registry_end(r, rc);
    if (rc == 0 && issue_publish(r, period, &published) < 0)
        rc = CLI_DEPENDENCY;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (rc == 0) {
        printf("issue %s: %ld persons with a card, %ld grants (%lld fen), %ld new, %ld "
               "published, %.3f s\n",
               period, persons, granted, (long long)total, inserted, published, secs);
        for (int j = 0; j < nsums; j++)
            printf("  %-40s %lld fen\n", names[j], (long long)sums[j]);
        if (requeued > 0)
            printf("  %ld top-up(s) the ledger refused as over budget published again\n", requeued);
        if (n_more > 0 || n_less > 0)
            printf("  corrections: %ld arrears (%lld fen, published with the top-ups), %ld "
                   "overpayments to recover (%lld fen)\n",
                   n_more, (long long)fen_more, n_less, (long long)-fen_less);
    }
    pg_array_free(&b.person), pg_array_free(&b.item), pg_array_free(&b.topup);
    pg_array_free(&b.card), pg_array_free(&b.wallet), pg_array_free(&b.amount);
    pg_array_free(&b.fund), pg_array_free(&b.programme);
    free(grants);
    issue_versions_free(cv, nv, plan);
    return rc;
}

int issue_period(registry *r, const char *period, const char *actor)
{
    return issue_run(r, period, actor);
}

int issue_command(registry *r, int argc, char **argv)
{
    int npos = args_check(argc, argv, "period,actor");
    const char *period = args_opt(argc, argv, "period");
    const char *actor = args_opt(argc, argv, "actor");
    return npos != 0 || args_need(period, "period")
               ? 1
               : issue_run(r, period, actor ? actor : "issuance");
}
