/*
 * close: statements, reconciliation, holds, publication, payout. See
 * close.h for the steps and why each is safe to repeat.
 */
#include "close.h"
#include "funds.h"

#include "catalogue.h"
#include "period.h"
#include "persons.h"
#include "store.h"

#include "common/cli.h"
#include "common/event.h"
#include "common/log.h"
#include "common/pg.h"
#include "common/progress.h"
#include "settlement.pb-c.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct close_period {
    period p;
    char text[PERIOD_LEN];
    const char *grain;
    int64_t start_ms, end_ms;
    char cutoff[1024]; /* JSON: the watermarks waited for */
} close_period;

static persons_period close_persons_period(const close_period *cp)
{
    return (persons_period){cp->text, cp->grain, cp->start_ms, cp->end_ms};
}

static void close_pause(close_ctx *x, const char *where)
{
    if (x->cfg->close_pause_ms <= 0)
        return;
    printf("close: pause at %s\n", where);
    fflush(stdout);
    usleep((useconds_t)(x->cfg->close_pause_ms * 1000));
}

static int64_t close_int(PGresult *r, int row, int col)
{
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

int close_bank_account_ok(const char *s, char *err, size_t errlen)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 6 || n > 34) {
        snprintf(err, errlen, "bank account must be 6 to 34 characters, got %zu", n);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              c == '-')) {
            snprintf(err, errlen, "bank account has '%c' at position %zu: only 0-9, A-Z, a-z, -",
                     c >= ' ' && c < 0x7f ? c : '?', i + 1);
            return -1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------- catch up */

/* Entries of the period the ledger committed and has not published yet. */
static int close_outbox(close_ctx *x, const close_period *cp, int64_t *left, char *err,
                        size_t errlen)
{
    char end[24];
    snprintf(end, sizeof(end), "%lld", (long long)cp->end_ms);
    const char *p[] = {end};
    PGresult *r = pg_query(x->pg, "SELECT ledger_v1_unpublished($1::bigint)", 1, p, err, errlen);
    if (r == NULL)
        return -1;
    *left = close_int(r, 0, 0);
    PQclear(r);
    return 0;
}

#define CLOSE_PARTS_MAX 256

/* The high watermarks of every partition of topic, appended to the
 * cut-off as "topic": [hw, ...]. */
static int close_watermarks(close_ctx *x, close_period *cp, const char *topic, int64_t *hw,
                            int *nparts, char *err, size_t errlen)
{
    rd_kafka_t *rk = kafka_producer_handle(x->producer);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
    rd_kafka_topic_destroy(rkt);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1 || md->topics[0].partition_cnt <= 0 ||
        md->topics[0].partition_cnt > CLOSE_PARTS_MAX) {
        snprintf(err, errlen, "kafka: no metadata for %s: %s", topic, rd_kafka_err2str(e));
        if (md)
            rd_kafka_metadata_destroy(md);
        return -1;
    }
    int n = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    size_t len = strlen(cp->cutoff);
    if (len + 4 < sizeof(cp->cutoff))
        len += (size_t)snprintf(cp->cutoff + len, sizeof(cp->cutoff) - len, "%s\"%s\": [",
                                len ? ", " : "{", topic);
    for (int i = 0; i < n; i++) {
        int64_t lo = 0;
        e = rd_kafka_query_watermark_offsets(rk, topic, i, &lo, &hw[i], 10000);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
            snprintf(err, errlen, "kafka: no watermarks for %s[%d]: %s", topic, i,
                     rd_kafka_err2str(e));
            return -1;
        }
        if (len < sizeof(cp->cutoff))
            len += (size_t)snprintf(cp->cutoff + len, sizeof(cp->cutoff) - len, "%s%lld",
                                    i ? ", " : "", (long long)hw[i]);
    }
    if (len < sizeof(cp->cutoff))
        snprintf(cp->cutoff + len, sizeof(cp->cutoff) - len, "]");
    *nparts = n;
    return 0;
}

/* Messages of topic the group's offsets stored in PostgreSQL are behind hw. */
static int close_lag(close_ctx *x, const char *group, const char *topic, const int64_t *hw,
                     int nparts, int64_t *behind, char *err, size_t errlen)
{
    const char *p[] = {group, topic};
    PGresult *r = pg_query(x->pg,
                           "SELECT partition, next_offset FROM consumer_offsets WHERE "
                           "consumer_group = $1 AND topic = $2",
                           2, p, err, errlen);
    if (r == NULL)
        return -1;
    *behind = 0;
    for (int i = 0; i < nparts; i++) {
        int64_t next = 0;
        for (int row = 0; row < PQntuples(r); row++)
            if (close_int(r, row, 0) == i)
                next = close_int(r, row, 1);
        if (next < hw[i])
            *behind += hw[i] - next;
    }
    PQclear(r);
    return 0;
}

/* Waits until group has consumed topic up to the watermarks read now. */
static int close_wait_topic(close_ctx *x, close_period *cp, const char *group, const char *topic,
                            int64_t deadline, char *err, size_t errlen)
{
    int64_t hw[CLOSE_PARTS_MAX], behind = 0;
    int n = 0;
    if (close_watermarks(x, cp, topic, hw, &n, err, errlen) < 0)
        return -1;
    for (;;) {
        if (close_lag(x, group, topic, hw, n, &behind, err, errlen) < 0)
            return -1;
        if (behind == 0)
            return 0;
        if (event_now_ms() > deadline) {
            snprintf(err, errlen,
                     "%s is %lld messages of %s behind the high watermark after %d s: is it "
                     "running?",
                     group, (long long)behind, topic, x->wait_s);
            return -1;
        }
        usleep(200 * 1000);
    }
}

/* The cut-off: every swipe and top-up on the broker when the close starts
 * is applied by the ledger, every ledger entry of the period is published,
 * and every posting on the broker then is accumulated here. */
static int close_catch_up(close_ctx *x, close_period *cp, char *err, size_t errlen)
{
    int64_t deadline = event_now_ms() + (int64_t)x->wait_s * 1000, left = 0;
    if (close_wait_topic(x, cp, x->cfg->ledger_group, TOPIC_SWIPES, deadline, err, errlen) < 0 ||
        close_wait_topic(x, cp, x->cfg->ledger_group, TOPIC_TOPUPS, deadline, err, errlen) < 0)
        return -1;
    for (;;) {
        if (close_outbox(x, cp, &left, err, errlen) < 0)
            return -1;
        if (left == 0)
            break;
        if (event_now_ms() > deadline) {
            snprintf(err, errlen,
                     "the ledger has %lld entries of the period not yet published on %s after "
                     "%d s: is the ledger running?",
                     (long long)left, TOPIC_POSTINGS, x->wait_s);
            return -1;
        }
        usleep(200 * 1000);
    }
    if (close_wait_topic(x, cp, x->cfg->group, TOPIC_POSTINGS, deadline, err, errlen) < 0)
        return -1;
    size_t len = strlen(cp->cutoff);
    if (len + 2 < sizeof(cp->cutoff))
        snprintf(cp->cutoff + len, sizeof(cp->cutoff) - len, "}");
    printf("close: caught up at %s\n", cp->cutoff);
    return 0;
}

/* ----------------------------------------------------------- statements */

/* The statement id and its event id (a UUID-shaped SHA-256 of it), in SQL
 * so that one INSERT ... SELECT writes every provider's statement. */
#define CLOSE_STATEMENT_ID "'ST-' || $1 || '-' || provider_id"

/* 0 written now, 1 closed before, -1 error. */
static int close_statements(close_ctx *x, close_period *cp, char *err, size_t errlen)
{
    char now[24];
    snprintf(now, sizeof(now), "%lld", (long long)event_now_ms());
    const char *lock[] = {SETTLEMENT_LOCK_KEY};
    const char *p1[] = {cp->text};
    const char *p3[] = {cp->text, cp->grain, cp->cutoff};
    const char *ps[] = {cp->text, cp->grain, now};
    if (pg_begin(x->pg, err, errlen) < 0)
        return -1;
    if (pg_exec(x->pg, "SELECT pg_advisory_xact_lock($1::bigint)", 1, lock, err, errlen) < 0)
        goto fail;
    PGresult *r = pg_query(x->pg, "SELECT stage FROM settlement_closes WHERE period = $1", 1, p1,
                           err, errlen);
    if (r == NULL)
        goto fail;
    if (PQntuples(r) == 1) {
        printf("close: %s was closed before (stage %s): its statements stand\n", cp->text,
               PQgetvalue(r, 0, 0));
        PQclear(r);
        pg_rollback(x->pg);
        return 1;
    }
    PQclear(r);
    if (pg_exec(x->pg,
                "INSERT INTO settlement_closes (period, grain, cutoff) VALUES ($1, $2, $3::jsonb)",
                3, p3, err, errlen) < 0 ||
        pg_exec(x->pg,
                "INSERT INTO settlement_statements (statement_id, provider_id, period, swipes, "
                "amount_fen, reversals, reversed_fen, adj_count, adjustments_fen, total_fen, "
                "closed_at_ms, event_id) SELECT sid, provider_id, $1, sw, am, rv, rf, ac, af, "
                "am - rf + af, $3::bigint, substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-' || "
                "substr(h, 13, 4) || '-' || substr(h, 17, 4) || '-' || substr(h, 21, 12) FROM "
                "(SELECT " CLOSE_STATEMENT_ID " AS sid, provider_id, sum(swipes) sw, "
                "sum(amount_fen) am, sum(reversals) rv, sum(reversed_fen) rf, sum(adj_count) ac, "
                "sum(adj_fen) af, encode(sha256(convert_to(" CLOSE_STATEMENT_ID
                ", 'UTF8')), 'hex') h FROM settlement_accum WHERE grain = $2 AND period = $1 "
                "GROUP BY provider_id) s",
                3, ps, err, errlen) < 0 ||
        pg_exec(x->pg,
                "INSERT INTO settlement_statement_lines SELECT " CLOSE_STATEMENT_ID
                ", item_code, fund_source, swipes, amount_fen, reversals, reversed_fen, "
                "adj_count, adj_fen FROM settlement_accum WHERE grain = $2 AND period = $1",
                2, ps, err, errlen) < 0)
        goto fail;
    persons_period pp = close_persons_period(cp);
    if (persons_statements(x->pg, &pp, err, errlen) < 0)
        goto fail;
    close_pause(x, "statements (not committed)");
    if (pg_commit(x->pg, err, errlen) < 0)
        goto fail;
    return 0;
fail:
    pg_rollback(x->pg);
    return -1;
}

static int close_stage(close_ctx *x, const close_period *cp, const char *stage, char *err,
                       size_t errlen)
{
    const char *p[] = {cp->text, stage};
    return pg_exec(x->pg, "UPDATE settlement_closes SET stage = $2 WHERE period = $1", 2, p, err,
                   errlen);
}

/* ------------------------------------------------------------ reconcile */

/* Prints one line per provider; returns the number of differences or -1. */
static int close_reconcile(close_ctx *x, const close_period *cp, char *err, size_t errlen)
{
    char s[24], e[24];
    snprintf(s, sizeof(s), "%lld", (long long)cp->start_ms);
    snprintf(e, sizeof(e), "%lld", (long long)cp->end_ms);
    const char *p[] = {cp->text, cp->grain, s, e};
    PGresult *r = pg_query(
        x->pg,
        "WITH st AS (SELECT provider_id, amount_fen - reversed_fen AS own, adjustments_fen AS adj, "
        "total_fen FROM settlement_statements WHERE period = $1), "
        "co AS (SELECT provider_id, sum(fen) AS fen FROM settlement_carried WHERE grain = $2 AND "
        "from_period = $1 GROUP BY 1), "
        "ci AS (SELECT provider_id, sum(fen) AS fen FROM settlement_carried WHERE grain = $2 AND "
        "to_period = $1 GROUP BY 1), "
        "lg AS (SELECT * FROM ledger_v1_provider_totals($3::bigint, $4::bigint)), "
        "ids AS (SELECT provider_id FROM st UNION SELECT provider_id FROM co UNION SELECT "
        "provider_id FROM ci UNION SELECT provider_id FROM lg) "
        "SELECT ids.provider_id, coalesce(st.own, 0), coalesce(co.fen, 0), "
        "coalesce(lg.payable_fen, 0), coalesce(lg.swipes_fen, 0), coalesce(st.adj, 0), "
        "coalesce(ci.fen, 0), coalesce(st.total_fen, 0) FROM ids LEFT JOIN st USING "
        "(provider_id) LEFT JOIN co USING (provider_id) LEFT JOIN ci USING (provider_id) LEFT "
        "JOIN lg USING (provider_id) ORDER BY 1",
        4, p, err, errlen);
    if (r == NULL)
        return -1;
    int diffs = 0;
    int64_t tot_st = 0, tot_lg = 0, tot_sw = 0, tot_co = 0;
    printf("reconcile %s: per provider, statement (own postings) + carried out = ledger payable "
           "= swipes - reversals; adjustments = carried in\n",
           cp->text);
    for (int i = 0; i < PQntuples(r); i++) {
        const char *prov = PQgetvalue(r, i, 0);
        int64_t own = close_int(r, i, 1), co = close_int(r, i, 2), lg = close_int(r, i, 3);
        int64_t sw = close_int(r, i, 4), adj = close_int(r, i, 5), ci = close_int(r, i, 6);
        bool ok = own + co == lg && lg == sw && adj == ci;
        tot_st += own;
        tot_co += co;
        tot_lg += lg;
        tot_sw += sw;
        printf("  %-4s %-24s statement %lld + carried out %lld = %lld, ledger payable %lld, "
               "swipes-reversals %lld, adjustments %lld / carried in %lld%s\n",
               ok ? "ok" : "DIFF", prov, (long long)own, (long long)co, (long long)(own + co),
               (long long)lg, (long long)sw, (long long)adj, (long long)ci,
               ok ? "" : "  <-- difference");
        char v[5][24];
        snprintf(v[0], 24, "%lld", (long long)own);
        snprintf(v[1], 24, "%lld", (long long)co);
        snprintf(v[2], 24, "%lld", (long long)lg);
        snprintf(v[3], 24, "%lld", (long long)sw);
        const char *q[] = {cp->text, prov, v[0], v[1], v[2], v[3], ok ? "true" : "false"};
        if (pg_exec(x->pg,
                    "INSERT INTO settlement_reconciliations (period, provider_id, statement_fen, "
                    "carried_fen, ledger_fen, swipes_fen, ok) VALUES ($1, $2, $3, $4, $5, $6, "
                    "$7) ON CONFLICT (period, provider_id) DO UPDATE SET statement_fen = "
                    "EXCLUDED.statement_fen, carried_fen = EXCLUDED.carried_fen, ledger_fen = "
                    "EXCLUDED.ledger_fen, swipes_fen = EXCLUDED.swipes_fen, ok = EXCLUDED.ok, "
                    "checked_at = now()",
                    7, q, err, errlen) < 0) {
            PQclear(r);
            return -1;
        }
        if (!ok)
            diffs++;
    }
    printf("  %-4s %-24s statements %lld + carried out %lld, ledger payable %lld, "
           "swipes-reversals %lld, %d provider(s)\n",
           diffs ? "DIFF" : "ok", "TOTAL", (long long)tot_st, (long long)tot_co, (long long)tot_lg,
           (long long)tot_sw, PQntuples(r));
    PQclear(r);
    return diffs;
}

/* Issuance against postings: the top-ups of the period settlement counted
 * (the utilisation report's "credited") = the ledger's top-up entries of
 * the period. 0 when equal, 1 on a difference, -1 on error. */
static int close_reconcile_funds(close_ctx *x, const close_period *cp, char *err, size_t errlen)
{
    char s[24], e[24];
    snprintf(s, sizeof(s), "%lld", (long long)cp->start_ms);
    snprintf(e, sizeof(e), "%lld", (long long)cp->end_ms);
    const char *p[] = {s, e};
    PGresult *r = pg_query(x->pg,
                           "SELECT (SELECT count(*) FROM settlement_postings WHERE kind = 'topup' "
                           "AND occurred_at_ms >= $1::bigint AND occurred_at_ms < $2::bigint), "
                           "(SELECT coalesce(sum(amount_fen), 0) FROM settlement_postings WHERE "
                           "kind = 'topup' AND occurred_at_ms >= $1::bigint AND occurred_at_ms < "
                           "$2::bigint), l.topups, l.fen FROM "
                           "ledger_v1_topup_totals($1::bigint, $2::bigint) l",
                           2, p, err, errlen);
    if (r == NULL)
        return -1;
    int64_t sn = close_int(r, 0, 0), sf = close_int(r, 0, 1), ln = close_int(r, 0, 2),
            lf = close_int(r, 0, 3);
    PQclear(r);
    bool ok = sn == ln && sf == lf;
    printf("  %-4s %-24s top-ups credited %lld (%lld fen), ledger top-ups %lld (%lld fen)\n",
           ok ? "ok" : "DIFF", "FUNDS", (long long)sn, (long long)sf, (long long)ln, (long long)lf);
    return ok ? 0 : 1;
}

/* Per-provider totals against payouts: what the batches pay plus what is
 * held = the statements of the period. Printed after the payout. */
static int close_print_payouts(close_ctx *x, const close_period *cp, char *err, size_t errlen)
{
    const char *p[] = {cp->text};
    PGresult *r =
        pg_query(x->pg,
                 "SELECT count(*) FILTER (WHERE payout_batch_id IS NOT NULL), "
                 "coalesce(sum(total_fen) FILTER (WHERE payout_batch_id IS NOT NULL), "
                 "0), count(*) FILTER (WHERE payout_batch_id IS NULL), "
                 "coalesce(sum(total_fen) FILTER (WHERE payout_batch_id IS NULL), 0), "
                 "count(*), coalesce(sum(total_fen), 0), (SELECT coalesce(sum(total_fen), "
                 "0) FROM settlement_payout_batches WHERE period = $1) FROM "
                 "settlement_statements WHERE period = $1",
                 1, p, err, errlen);
    if (r == NULL)
        return -1;
    printf("close: payouts: %s statement(s) paid %s fen (batches say %s) + %s held %s fen = %s "
           "statement(s) %s fen\n",
           PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 6), PQgetvalue(r, 0, 2),
           PQgetvalue(r, 0, 3), PQgetvalue(r, 0, 4), PQgetvalue(r, 0, 5));
    int rc = close_int(r, 0, 1) == close_int(r, 0, 6) ? 0 : -1;
    if (rc < 0)
        snprintf(err, errlen, "the payout batches of %s do not add up to the statements they pay",
                 cp->text);
    PQclear(r);
    return rc;
}

/* ---------------------------------------------------------------- holds */

#define CLOSE_FILTER "(CASE WHEN $2 = 'day' THEN day ELSE month END) = $1"

/* Runs the anomaly rules over the period's swipes; holds are inserted once
 * (a released hold stays released). */
static int close_holds(close_ctx *x, const close_period *cp, char *err, size_t errlen)
{
    char maxd[24], hop[24], band[24], minsw[24], share[24];
    snprintf(maxd, sizeof(maxd), "%lld", (long long)x->cfg->max_swipes_day);
    snprintf(hop, sizeof(hop), "%lld", (long long)x->cfg->min_hop_s);
    snprintf(band, sizeof(band), "%lld", (long long)x->cfg->cap_band_bp);
    snprintf(minsw, sizeof(minsw), "%lld", (long long)x->cfg->cap_min_swipes);
    snprintf(share, sizeof(share), "%lld", (long long)x->cfg->cap_share_bp);
    const char *p1[] = {cp->text, cp->grain, maxd};
    if (pg_exec(x->pg,
                "INSERT INTO settlement_holds (provider_id, period, rule, detail) SELECT "
                "sp.provider_id, $1, 'swipes_per_card_day', format('%s card-day(s) above %s "
                "swipes, up to %s (card ending %s on %s)', count(DISTINCT (hot.card_no, hot.day)), "
                "$3, max(hot.n), right(min(hot.card_no), 4), min(hot.day)) FROM (SELECT card_no, "
                "day, count(*) n FROM settlement_postings WHERE kind = 'swipe' AND " CLOSE_FILTER
                " GROUP BY 1, 2 HAVING count(*) > $3::bigint) hot JOIN settlement_postings sp "
                "USING (card_no, day) WHERE sp.kind = 'swipe' GROUP BY sp.provider_id ON CONFLICT "
                "DO NOTHING",
                3, p1, err, errlen) < 0)
        return -1;
    const char *p2[] = {cp->text, cp->grain, hop};
    if (pg_exec(x->pg,
                "WITH s AS (SELECT card_no, provider_id, occurred_at_ms, lag(provider_id) OVER w "
                "AS prev, lag(occurred_at_ms) OVER w AS prev_at FROM settlement_postings WHERE "
                "kind = 'swipe' AND " CLOSE_FILTER " WINDOW w AS (PARTITION BY card_no ORDER BY "
                "occurred_at_ms)), hop AS (SELECT card_no, provider_id, prev, occurred_at_ms - "
                "prev_at AS gap FROM s WHERE prev IS NOT NULL AND prev <> provider_id AND "
                "occurred_at_ms - prev_at < $3::bigint * 1000), both_ AS (SELECT provider_id AS "
                "who, prev AS other, card_no, gap FROM hop UNION ALL SELECT prev, provider_id, "
                "card_no, gap FROM hop) INSERT INTO settlement_holds (provider_id, period, rule, "
                "detail) SELECT who, $1, 'provider_hop', format('%s swipe(s) within %s s of the "
                "same card at another provider, closest %s ms apart (card ending %s, provider "
                "%s)', count(*), $3, min(gap), right(min(card_no), 4), min(other)) FROM both_ "
                "GROUP BY who ON CONFLICT DO NOTHING",
                3, p2, err, errlen) < 0)
        return -1;

    catalogue cat;
    if (catalogue_load(&cat, x->redis, err, errlen) < 0)
        return -1;
    pg_array items = {0}, caps = {0};
    for (int i = 0; i < cat.n; i++) {
        pg_array_add(&items, cat.items[i].code);
        pg_array_add_int(&caps, cat.items[i].v.daily_cap_fen);
    }
    const char *ti = pg_array_text(&items), *tc = pg_array_text(&caps);
    int rc = -1;
    if (ti == NULL || tc == NULL) {
        snprintf(err, errlen, "out of memory for the catalogue");
        goto out;
    }
    const char *p3[] = {cp->text, cp->grain, ti, tc, band, minsw, share};
    if (pg_exec(x->pg,
                "WITH caps AS (SELECT * FROM unnest($3::text[], $4::bigint[]) c(item_code, cap) "
                "WHERE cap > 0), per AS (SELECT sp.provider_id, sp.item_code, c.cap, count(*) n, "
                "count(*) FILTER (WHERE sp.amount_fen <= c.cap AND sp.amount_fen * 10000 >= c.cap "
                "* (10000 - $5::bigint)) at_cap FROM settlement_postings sp JOIN caps c USING "
                "(item_code) WHERE sp.kind = 'swipe' AND " CLOSE_FILTER " GROUP BY 1, 2, 3) "
                "INSERT INTO settlement_holds (provider_id, period, rule, detail) SELECT "
                "provider_id, $1, 'amounts_at_cap', string_agg(format('%s: %s of %s swipes "
                "within %s bp below the daily cap of %s fen', item_code, at_cap, n, $5, cap), "
                "'; ') FROM per WHERE at_cap >= $6::bigint AND at_cap * 10000 >= n * "
                "$7::bigint GROUP BY provider_id ON CONFLICT DO NOTHING",
                7, p3, err, errlen) < 0)
        goto out;
    const char *p4[] = {cp->text};
    if (pg_exec(x->pg,
                "INSERT INTO settlement_holds (provider_id, period, rule, detail) SELECT "
                "s.provider_id, $1, 'no_bank_account', 'no bank account on file: set it with "
                "bank-account PROVIDER ACCOUNT' FROM settlement_statements s WHERE s.period = $1 "
                "AND NOT EXISTS (SELECT 1 FROM settlement_bank_accounts b WHERE b.provider_id = "
                "s.provider_id) ON CONFLICT DO NOTHING",
                1, p4, err, errlen) < 0)
        goto out;
    rc = 0;
out:
    pg_array_free(&items);
    pg_array_free(&caps);
    catalogue_free(&cat);
    return rc;
}

/* -------------------------------------------------------------- publish */

static void close_delivered(void *opaque, int err, const char *errstr, int32_t partition,
                            int64_t offset)
{
    int *failed = opaque;
    if (err)
        (*failed)++;
}

/* Publishes the period's statements not published yet and marks them. */
static int close_publish(close_ctx *x, const close_period *cp, char *err, size_t errlen)
{
    const char *p[] = {cp->text};
    PGresult *st = pg_query(x->pg,
                            "SELECT statement_id, provider_id, event_id, adjustments_fen, "
                            "total_fen, closed_at_ms FROM settlement_statements WHERE period = $1 "
                            "AND NOT published ORDER BY provider_id",
                            1, p, err, errlen);
    if (st == NULL)
        return -1;
    int failed = 0, n = PQntuples(st);
    for (int i = 0; i < n; i++) {
        const char *q[] = {PQgetvalue(st, i, 0)};
        PGresult *ln = pg_query(x->pg,
                                "SELECT item_code, fund_source, swipes, amount_fen, reversals, "
                                "reversed_fen, adj_count, adj_fen FROM "
                                "settlement_statement_lines WHERE statement_id = $1 ORDER BY 1, 2",
                                1, q, err, errlen);
        if (ln == NULL) {
            PQclear(st);
            return -1;
        }
        int nl = PQntuples(ln);
        Onecard__V1__StatementLine *lines = calloc((size_t)nl + 1, sizeof(*lines));
        Onecard__V1__StatementLine **lp = calloc((size_t)nl + 1, sizeof(*lp));
        if (lines == NULL || lp == NULL) {
            free(lines);
            free(lp);
            PQclear(ln);
            PQclear(st);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        for (int j = 0; j < nl; j++) {
            onecard__v1__statement_line__init(&lines[j]);
            lines[j].item_code = PQgetvalue(ln, j, 0);
            lines[j].fund_source = PQgetvalue(ln, j, 1);
            lines[j].swipes = close_int(ln, j, 2);
            lines[j].amount_fen = close_int(ln, j, 3);
            lines[j].reversals = close_int(ln, j, 4);
            lines[j].reversed_fen = close_int(ln, j, 5);
            lines[j].adjustments = close_int(ln, j, 6);
            lines[j].adjustments_fen = close_int(ln, j, 7);
            lp[j] = &lines[j];
        }
        Onecard__V1__SettlementStatement m;
        onecard__v1__settlement_statement__init(&m);
        m.event_id = PQgetvalue(st, i, 2);
        m.statement_id = PQgetvalue(st, i, 0);
        m.provider_id = PQgetvalue(st, i, 1);
        m.period = (char *)cp->text;
        m.lines = lp;
        m.n_lines = (size_t)nl;
        m.adjustments_fen = close_int(st, i, 3);
        m.total_fen = close_int(st, i, 4);
        m.closed_at_ms = close_int(st, i, 5);
        int rc = kafka_produce(x->producer, &m.base, NULL, m.provider_id, strlen(m.provider_id),
                               close_delivered, &failed, err, errlen);
        free(lines);
        free(lp);
        PQclear(ln);
        if (rc < 0) {
            PQclear(st);
            return -1;
        }
    }
    PQclear(st);
    int left = kafka_producer_flush(x->producer, 30000);
    if (failed || left) {
        snprintf(err, errlen, "%d statement(s) not acknowledged by the broker (%d unreported)",
                 failed, left);
        return -1;
    }
    close_pause(x, "published (not marked)");
    if (pg_exec(x->pg, "UPDATE settlement_statements SET published = true WHERE period = $1", 1, p,
                err, errlen) < 0)
        return -1;
    printf("close: %d statement(s) published on %s\n", n, TOPIC_SETTLEMENTS);
    return 0;
}

/* --------------------------------------------------------------- payout */

/* One new batch with the statements neither held nor paid. */
static int close_batch(close_ctx *x, const close_period *cp, char *err, size_t errlen)
{
    const char *lock[] = {SETTLEMENT_LOCK_KEY};
    const char *p[] = {cp->text};
    if (pg_begin(x->pg, err, errlen) < 0)
        return -1;
    if (pg_exec(x->pg, "SELECT pg_advisory_xact_lock($1::bigint)", 1, lock, err, errlen) < 0)
        goto fail;
    PGresult *r = pg_query(
        x->pg,
        "WITH b AS (SELECT coalesce(max(seq), 0) + 1 AS seq FROM settlement_payout_batches WHERE "
        "period = $1), pay AS (SELECT s.statement_id, s.total_fen FROM settlement_statements s "
        "WHERE s.period = $1 AND s.payout_batch_id IS NULL AND NOT EXISTS (SELECT 1 FROM "
        "settlement_holds h WHERE h.period = s.period AND h.provider_id = s.provider_id AND "
        "h.released_at IS NULL)), nb AS (INSERT INTO settlement_payout_batches (batch_id, period, "
        "seq, lines, total_fen) SELECT 'PB-' || $1 || '-' || b.seq, $1, b.seq, count(*), "
        "sum(pay.total_fen) FROM b, pay GROUP BY b.seq HAVING count(*) > 0 RETURNING batch_id) "
        "UPDATE settlement_statements s SET payout_batch_id = nb.batch_id FROM nb, pay WHERE "
        "s.statement_id = pay.statement_id RETURNING nb.batch_id",
        1, p, err, errlen);
    if (r == NULL)
        goto fail;
    int n = PQntuples(r);
    if (n > 0)
        printf("close: payout batch %s with %d statement(s)\n", PQgetvalue(r, 0, 0), n);
    PQclear(r);
    close_pause(x, "payout batch (not committed)");
    if (pg_commit(x->pg, err, errlen) < 0)
        goto fail;
    return 0;
fail:
    pg_rollback(x->pg);
    return -1;
}

/* What the statement's lines of one fund level pay (SQL). */
#define CLOSE_FUND_SUM(level)                                                                      \
    "coalesce(sum(amount_fen - reversed_fen + adj_fen) FILTER (WHERE fund_source = '" level "'), " \
    "0)"

/* Writes every batch of the period (tmp file, fsync, rename). */
static int close_files(close_ctx *x, const close_period *cp, char *err, size_t errlen)
{
    const char *p[] = {cp->text};
    PGresult *r = pg_query(
        x->pg,
        "SELECT b.batch_id, s.statement_id, s.provider_id, "
        "coalesce(a.bank_account, ''), s.total_fen, b.lines, b.total_fen, "
        "f.c, f.p, f.m, f.d, f.o FROM settlement_payout_batches b JOIN "
        "settlement_statements s ON s.payout_batch_id = b.batch_id LEFT JOIN "
        "settlement_bank_accounts a ON a.provider_id = s.provider_id CROSS "
        "JOIN LATERAL (SELECT " CLOSE_FUND_SUM("central") " c, " CLOSE_FUND_SUM(
            "provincial") " p, " CLOSE_FUND_SUM("municipal") " m, " CLOSE_FUND_SUM("district") " d,"
                                                                                               " "
                                                                                               "coa"
                                                                                               "les"
                                                                                               "ce("
                                                                                               "sum"
                                                                                               "(am"
                                                                                               "oun"
                                                                                               "t_"
                                                                                               "fen"
                                                                                               " - "
                                                                                               "rev"
                                                                                               "ers"
                                                                                               "ed_"
                                                                                               "fen"
                                                                                               " + "
                                                                                               "adj"
                                                                                               "_fe"
                                                                                               "n) "
                                                                                               "FIL"
                                                                                               "TER"
                                                                                               " ("
                                                                                               "WHE"
                                                                                               "RE "
                                                                                               "fun"
                                                                                               "d_"
                                                                                               "sou"
                                                                                               "rce"
                                                                                               " NO"
                                                                                               "T "
                                                                                               "IN "
                                                                                               "('"
                                                                                               "cen"
                                                                                               "tra"
                                                                                               "l',"
                                                                                               " '"
                                                                                               "pro"
                                                                                               "vin"
                                                                                               "cia"
                                                                                               "l',"
                                                                                               " '"
                                                                                               "mun"
                                                                                               "ici"
                                                                                               "pal"
                                                                                               "', "
                                                                                               "'di"
                                                                                               "str"
                                                                                               "ict"
                                                                                               "'))"
                                                                                               ", "
                                                                                               "0) "
                                                                                               "o "
                                                                                               "FRO"
                                                                                               "M "
                                                                                               "set"
                                                                                               "tle"
                                                                                               "men"
                                                                                               "t_"
                                                                                               "sta"
                                                                                               "tem"
                                                                                               "ent"
                                                                                               "_li"
                                                                                               "nes"
                                                                                               " WH"
                                                                                               "ERE"
                                                                                               " st"
                                                                                               "ate"
                                                                                               "men"
                                                                                               "t_"
                                                                                               "id "
                                                                                               "= "
                                                                                               "s."
                                                                                               "sta"
                                                                                               "tem"
                                                                                               "ent"
                                                                                               "_id"
                                                                                               ") "
                                                                                               "f "
                                                                                               "WHE"
                                                                                               "RE "
                                                                                               "b."
                                                                                               "per"
                                                                                               "iod"
                                                                                               " = "
                                                                                               "$1 "
                                                                                               "ORD"
                                                                                               "ER "
                                                                                               "BY "
                                                                                               "b."
                                                                                               "seq"
                                                                                               ", "
                                                                                               "s."
                                                                                               "pro"
                                                                                               "vid"
                                                                                               "er_"
                                                                                               "id",
        1, p, err, errlen);
    if (r == NULL)
        return -1;
    int n = PQntuples(r), rc = 0;
    for (int i = 0; i < n && rc == 0;) {
        const char *batch = PQgetvalue(r, i, 0);
        char path[1024], tmp[1100];
        snprintf(path, sizeof(path), "%s/payout-%s.csv", x->out_dir, batch);
        snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        FILE *f = fopen(tmp, "w");
        if (f == NULL) {
            snprintf(err, errlen, "cannot write %.400s: %s", tmp, strerror(errno));
            rc = -1;
            break;
        }
        /* the amount, then what each fund level pays of it (other: a fund
         * named otherwise); they sum to the amount */
        fprintf(f, "record,batch_id,statement_id,provider_id,bank_account,amount_fen,period,"
                   "central_fen,provincial_fen,municipal_fen,district_fen,other_fen\n");
        int64_t sum = 0, fsum[5] = {0};
        int lines = 0, j = i;
        for (; j < n && strcmp(PQgetvalue(r, j, 0), batch) == 0; j++) {
            fprintf(f, "payout,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", batch, PQgetvalue(r, j, 1),
                    PQgetvalue(r, j, 2), PQgetvalue(r, j, 3), PQgetvalue(r, j, 4), cp->text,
                    PQgetvalue(r, j, 7), PQgetvalue(r, j, 8), PQgetvalue(r, j, 9),
                    PQgetvalue(r, j, 10), PQgetvalue(r, j, 11));
            int64_t row = 0;
            for (int k = 0; k < 5; k++) {
                fsum[k] += close_int(r, j, 7 + k);
                row += close_int(r, j, 7 + k);
            }
            if (row != close_int(r, j, 4) && rc == 0) {
                snprintf(err, errlen, "statement %s: %lld fen, its funds %lld", PQgetvalue(r, j, 1),
                         (long long)close_int(r, j, 4), (long long)row);
                rc = -1;
            }
            sum += close_int(r, j, 4);
            lines++;
        }
        /* the control line: what finance checks the file against */
        fprintf(f, "control,%s,,,%d,%lld,%s,%lld,%lld,%lld,%lld,%lld\n", batch, lines,
                (long long)sum, cp->text, (long long)fsum[0], (long long)fsum[1],
                (long long)fsum[2], (long long)fsum[3], (long long)fsum[4]);
        if (lines != close_int(r, i, 5) || sum != close_int(r, i, 6)) {
            snprintf(err, errlen, "batch %s: %d lines / %lld fen, the batch says %s / %s", batch,
                     lines, (long long)sum, PQgetvalue(r, i, 5), PQgetvalue(r, i, 6));
            rc = -1;
        }
        if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
            snprintf(err, errlen, "cannot write %.400s: %s", tmp, strerror(errno));
            rc = -1;
        }
        fclose(f);
        if (rc == 0 && rename(tmp, path) != 0) {
            snprintf(err, errlen, "cannot rename %.400s: %s", tmp, strerror(errno));
            rc = -1;
        }
        if (rc == 0)
            printf("close: payout file %s (%d line(s), %lld fen)\n", path, lines, (long long)sum);
        else
            unlink(tmp);
        i = j;
    }
    PQclear(r);
    return rc;
}

static int close_print_holds(close_ctx *x, const close_period *cp, char *err, size_t errlen)
{
    const char *p[] = {cp->text};
    PGresult *r = pg_query(x->pg,
                           "SELECT provider_id, rule, detail FROM settlement_holds WHERE period = "
                           "$1 AND released_at IS NULL ORDER BY 1, 2",
                           1, p, err, errlen);
    if (r == NULL)
        return -1;
    for (int i = 0; i < PQntuples(r); i++)
        printf("close: HELD %s %s: %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
               PQgetvalue(r, i, 2));
    PQclear(r);
    return 0;
}

/* ------------------------------------------------------------------ run */

int close_run(close_ctx *x, const char *period_text)
{
    char err[1024];
    close_period cp;
    memset(&cp, 0, sizeof(cp));
    if (period_parse(period_text, &cp.p, err, sizeof(err)) < 0) {
        fprintf(stderr, "settlement: close: %s\n", err);
        return CLI_USAGE;
    }
    period_format(&cp.p, cp.text);
    cp.grain = period_grain_name(cp.p.grain);
    period_bounds_ms(&cp.p, (int)x->cfg->tz_offset_min, &cp.start_ms, &cp.end_ms);
    if (cp.end_ms > event_now_ms() && !x->early) {
        fprintf(stderr,
                "settlement: close: %s has not ended yet (--early closes it now and carries what "
                "is posted in it later into the next statement)\n",
                cp.text);
        return CLI_REFUSED;
    }

    /* the stages, for the progress bar: catch up, statements, reconcile,
     * holds, publish, payouts */
    progress bar;
    progress_start(&bar, "close stages", 6);
    int64_t t0 = event_now_ms();
    if (close_catch_up(x, &cp, err, sizeof(err)) < 0)
        goto fail;
    progress_update(&bar, 1);
    int64_t t1 = event_now_ms();
    int st = close_statements(x, &cp, err, sizeof(err));
    if (st < 0)
        goto fail;
    progress_update(&bar, 2);
    if (st == 0)
        printf("close: %s closed: statements written\n", cp.text);
    printf("close: caught up in %lld ms, statements in %lld ms\n", (long long)(t1 - t0),
           (long long)(event_now_ms() - t1));
    int64_t t = event_now_ms();
    int diffs = close_reconcile(x, &cp, err, sizeof(err));
    if (diffs < 0)
        goto fail;
    int funds = close_reconcile_funds(x, &cp, err, sizeof(err));
    if (funds < 0)
        goto fail;
    diffs += funds;
    int by_fund =
        funds_reconcile(x->pg, cp.text, cp.grain, cp.start_ms, cp.end_ms, err, sizeof(err));
    if (by_fund < 0)
        goto fail;
    diffs += by_fund;
    persons_period pp = close_persons_period(&cp);
    int persons = persons_reconcile(x->pg, &pp, err, sizeof(err));
    if (persons < 0)
        goto fail;
    diffs += persons;
    progress_update(&bar, 3);
    printf("close: reconciled in %lld ms\n", (long long)(event_now_ms() - t));
    if (diffs > 0) {
        if (close_stage(x, &cp, "mismatch", err, sizeof(err)) < 0)
            goto fail;
        printf("close: %s: %d reconciliation difference(s): no payout file, nothing published\n",
               cp.text, diffs);
        progress_done(&bar);
        return CLI_REFUSED;
    }
    t = event_now_ms();
    if (close_stage(x, &cp, "reconciled", err, sizeof(err)) < 0 ||
        close_holds(x, &cp, err, sizeof(err)) < 0)
        goto fail;
    progress_update(&bar, 4);
    printf("close: anomaly rules in %lld ms\n", (long long)(event_now_ms() - t));
    if (close_publish(x, &cp, err, sizeof(err)) < 0 ||
        close_stage(x, &cp, "published", err, sizeof(err)) < 0)
        goto fail;
    progress_update(&bar, 5);
    /* providers and persons are paid by the month: a daily close is the
     * day's review (statements, reconciliation, holds), never a second
     * payment */
    if (cp.p.grain == PERIOD_DAY)
        printf("close: %s is a daily close: no payout file, providers' or persons' (payouts are "
               "monthly)\n",
               cp.text);
    else if (close_batch(x, &cp, err, sizeof(err)) < 0 ||
             close_files(x, &cp, err, sizeof(err)) < 0 ||
             close_print_payouts(x, &cp, err, sizeof(err)) < 0 ||
             persons_payout(x->pg, &pp, x->out_dir, err, sizeof(err)) < 0)
        goto fail;
    if (close_print_holds(x, &cp, err, sizeof(err)) < 0)
        goto fail;
    progress_update(&bar, 6);
    progress_done(&bar);
    printf("close: %s done\n", cp.text);
    return CLI_OK;
fail:
    progress_done(&bar);
    fprintf(stderr, "settlement: close %s: %s\n", cp.text[0] ? cp.text : period_text, err);
    return CLI_DEPENDENCY;
}
