/*
 * report: the year-end report from the journal. See report.h.
 *
 * One REPEATABLE READ, READ ONLY transaction holds every figure, the
 * consumer's stored offsets and the outbox, so the tables and the checks
 * see the same journal. The events beyond the stored offsets are read
 * after the snapshot is taken, up to the high watermarks: one of the
 * period not journaled in the snapshot makes the report incomplete.
 */
#include "report.h"

#include "yearend.h"

#include "common/calendar.h"
#include "common/cli.h"
#include "common/event.h"
#include "common/kafka.h"
#include "common/pg.h"
#include "topup.pb-c.h"

#include <errno.h>
#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define YR_FUNDS_MAX 64

/* ---------------------------------------------------------------- columns */

static const yr_col funds_cols[] = {
    {"fund", "资金级别", "Fund level", YR_TEXT},
    {"allocated", "下达资金", "Allocated", YR_FEN},
    {"granted", "发放到卡/到人", "Granted", YR_FEN},
    {"spent", "已使用", "Spent", YR_FEN},
    {"lapsed", "到期收回", "Lapsed", YR_FEN},
    {"returned", "退回（死亡、迁出）", "Returned (death, moved)", YR_FEN},
    {"recovered", "追回多发", "Recovered", YR_FEN},
    {"outstanding", "卡上余额", "Outstanding on cards", YR_FEN},
    {"remaining", "资金结余", "Remaining in fund", YR_FEN},
};

static const yr_col prog_cols[] = {
    {"programme", "项目", "Programme", YR_TEXT},
    {"fund", "资金级别", "Fund level", YR_TEXT},
    {"granted", "发放到卡/到人", "Granted", YR_FEN},
    {"spent", "已使用", "Spent", YR_FEN},
    {"lapsed", "到期收回", "Lapsed", YR_FEN},
    {"returned", "退回（死亡、迁出）", "Returned (death, moved)", YR_FEN},
    {"recovered", "追回多发", "Recovered", YR_FEN},
    {"outstanding", "卡上余额", "Outstanding on cards", YR_FEN},
};

static const yr_col budget_cols[] = {
    {"programme", "项目", "Programme", YR_TEXT},
    {"allocated", "预算下达", "Budget allocated", YR_FEN},
    {"obligated", "已承诺（发放）", "Obligated (granted)", YR_FEN},
    {"released", "释放回预算", "Released back", YR_FEN},
    {"remaining", "预算结余", "Budget remaining", YR_FEN},
};

#define YR_Q_COLS(n, who_zh, who_en)                                                               \
    {"q" #n "_times", "第" #n "季度人次", "Q" #n " person-times", YR_COUNT},                       \
        {"q" #n "_persons", "第" #n "季度" who_zh, "Q" #n " " who_en, YR_DISTINCT},                \
    {                                                                                              \
        "q" #n "_fen", "第" #n "季度金额", "Q" #n " amount", YR_FEN                                \
    }

static const yr_col item_cols[] = {
    {"item", "服务项目", "Item", YR_TEXT},
    {"programme", "项目类别", "Programme (category)", YR_TEXT},
    YR_Q_COLS(1, "人数", "persons"),
    YR_Q_COLS(2, "人数", "persons"),
    YR_Q_COLS(3, "人数", "persons"),
    YR_Q_COLS(4, "人数", "persons"),
    {"year_times", "全年人次", "Year person-times", YR_COUNT},
    {"year_persons", "全年人数", "Year persons", YR_DISTINCT},
    {"year_fen", "全年金额", "Year amount", YR_FEN},
};

static const yr_col child_cols[] = {
    {"item", "康复项目", "Rehabilitation item", YR_TEXT},
    {"programme", "项目类别", "Programme (category)", YR_TEXT},
    YR_Q_COLS(1, "救助儿童", "children"),
    YR_Q_COLS(2, "救助儿童", "children"),
    YR_Q_COLS(3, "救助儿童", "children"),
    YR_Q_COLS(4, "救助儿童", "children"),
    {"year_times", "全年人次", "Year person-times", YR_COUNT},
    {"year_persons", "全年救助儿童", "Year children helped", YR_DISTINCT},
    {"year_fen", "全年金额", "Year amount", YR_FEN},
};

#define NCOLS(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ------------------------------------------------------------------ state */

typedef struct rp {
    PGconn *pg;
    ledger_config *cfg;
    int year, quarter;
    int64_t from_ms, to_ms;
    char p_year[16], p_from[24], p_to[24], p_first[32], p_last[32], p_tz[16];
    const char *whole; /* "true" for the whole year */
    char class_expr[256];
    yr_report r;
    yr_table funds, progs, budgets, items, children;
} rp;

static PGresult *rp_query(rp *x, const char *sql, int n, const char *const *p)
{
    char err[512];
    PGresult *r = pg_query(x->pg, sql, n, p, err, sizeof(err));
    if (r == NULL)
        fprintf(stderr, "ledger report: %s\n", err);
    return r;
}

static int64_t rp_int(PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* Fund levels in their order of government, then any other name. */
static int rp_level_rank(const char *f)
{
    static const char *const levels[] = {"central", "provincial", "municipal", "district"};
    for (int i = 0; i < 4; i++)
        if (strcmp(f, levels[i]) == 0)
            return i;
    return 4;
}

static int rp_level_cmp(const char *x, const char *y)
{
    int d = rp_level_rank(x) - rp_level_rank(y);
    return d ? d : strcmp(x, y);
}

static int rp_fund_cmp(const void *a, const void *b)
{
    return rp_level_cmp(*(const char *const *)a, *(const char *const *)b);
}

/* --------------------------------------------------------------- the lag */

/* Whether an unread event belongs to the period: a top-up by the month it
 * is for, anything else by when it occurred; an event that does not
 * decode counts (the report cannot tell). */
static bool rp_in_period(rp *x, const rd_kafka_message_t *m)
{
    rd_kafka_headers_t *h = NULL;
    const void *val = NULL;
    size_t vlen = 0;
    if (rd_kafka_message_headers(m, &h) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        rd_kafka_header_get_last(h, "ce_type", &val, &vlen) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return true;
    const event_type *t = event_type_by_ce(val, vlen);
    char why[256];
    ProtobufCMessage *msg = t ? event_decode(t, m->payload, m->len, why, sizeof(why)) : NULL;
    if (msg == NULL)
        return true;
    bool in;
    if (t->desc == &onecard__v1__topup_issued__descriptor) {
        const char *period = ((const Onecard__V1__TopupIssued *)(const void *)msg)->period;
        in = period == NULL || strlen(period) != 7 ||
             (strcmp(period, x->p_first) >= 0 && strcmp(period, x->p_last) <= 0);
    } else {
        int64_t at = event_time_of(msg);
        in = at <= 0 || (at >= x->from_ms && at < x->to_ms);
    }
    protobuf_c_message_free_unpacked(msg, NULL);
    return in;
}

/* Reads one topic's partitions from the stored offsets to the high
 * watermarks: how many events wait (*lag) and how many of them belong to
 * the period (*in). */
static int rp_topic_pending(rp *x, rd_kafka_t *rk, const char *topic, int64_t *lag, int64_t *in)
{
    char err[512];
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    int rc = -1;
    if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        md->topic_cnt != 1 || md->topics[0].err) {
        fprintf(stderr, "ledger report: kafka: no metadata for %s\n", topic);
        goto out;
    }
    rd_kafka_topic_partition_list_t *parts =
        rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
    for (int i = 0; i < md->topics[0].partition_cnt; i++)
        rd_kafka_topic_partition_list_add(parts, topic, md->topics[0].partitions[i].id);
    if (pg_offsets_load(x->pg, x->cfg->group, parts, err, sizeof(err)) < 0) {
        fprintf(stderr, "ledger report: %s\n", err);
        rd_kafka_topic_partition_list_destroy(parts);
        goto out;
    }
    int64_t *hw = calloc((size_t)parts->cnt, sizeof(*hw));
    int open = 0;
    rc = hw ? 0 : -1;
    for (int i = 0; rc == 0 && i < parts->cnt; i++) {
        int64_t lo = 0;
        if (rd_kafka_query_watermark_offsets(rk, topic, parts->elems[i].partition, &lo, &hw[i],
                                             10000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "ledger report: kafka: no watermarks for %s[%d]\n", topic,
                    (int)parts->elems[i].partition);
            rc = -1;
            break;
        }
        if (parts->elems[i].offset < lo)
            parts->elems[i].offset = lo;
        if (parts->elems[i].offset < hw[i]) {
            *lag += hw[i] - parts->elems[i].offset;
            open++;
        }
    }
    if (rc == 0 && open > 0 && rd_kafka_assign(rk, parts) != RD_KAFKA_RESP_ERR_NO_ERROR)
        rc = -1;
    while (rc == 0 && open > 0) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 10000);
        if (m == NULL) {
            fprintf(stderr, "ledger report: kafka: timed out reading the unjournaled events\n");
            rc = -1;
            break;
        }
        for (int i = 0; i < parts->cnt; i++) {
            if (parts->elems[i].partition != m->partition || parts->elems[i].offset >= hw[i])
                continue;
            if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR && m->offset < hw[i] && rp_in_period(x, m))
                (*in)++;
            int64_t next = m->err ? m->offset : m->offset + 1;
            if (next > parts->elems[i].offset)
                parts->elems[i].offset = next;
            if (parts->elems[i].offset >= hw[i])
                open--;
        }
        rd_kafka_message_destroy(m);
    }
    if (open >= 0)
        rd_kafka_assign(rk, NULL);
    free(hw);
    rd_kafka_topic_partition_list_destroy(parts);
out:
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    return rc;
}

/* Events of the period on the ledger's topics its consumer has not
 * passed, and the period's entries whose posting is not relayed yet.
 * Called inside the snapshot, so an event journaled after it counts as
 * unjournaled too. */
static int rp_unjournaled(rp *x)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", x->cfg->d.kafka_brokers, errstr,
                          sizeof(errstr)) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "group.id", "onecard-ledger-tools", errstr, sizeof(errstr)) ||
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, sizeof(errstr)) ||
        rd_kafka_conf_set(conf, "enable.partition.eof", "true", errstr, sizeof(errstr)) ||
        kafka_security_apply(conf, errstr, sizeof(errstr)) < 0) { /* SASL/TLS as every client */
        fprintf(stderr, "ledger report: kafka: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        fprintf(stderr, "ledger report: kafka: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    int64_t lag = 0, in = 0;
    int rc = rp_topic_pending(x, rk, TOPIC_SWIPES, &lag, &in);
    if (rc == 0)
        rc = rp_topic_pending(x, rk, TOPIC_TOPUPS, &lag, &in);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    if (rc < 0)
        return -1;
    const char *p[] = {x->p_from, x->p_to, x->p_first, x->p_last};
    PGresult *r = rp_query(x,
                           "SELECT count(*), count(*) FILTER (WHERE CASE WHEN e.kind IN "
                           "('topup', 'payment') THEN e.period BETWEEN $3 AND $4 ELSE "
                           "e.occurred_at_ms >= $1::bigint AND e.occurred_at_ms < $2::bigint "
                           "END) FROM ledger_outbox o JOIN ledger_entries e USING (entry_id)",
                           4, p);
    if (r == NULL)
        return -1;
    int64_t outbox = rp_int(r, 0, 0), outbox_in = rp_int(r, 0, 1);
    PQclear(r);
    x->r.unjournaled = in + outbox_in;
    snprintf(x->r.unjournaled_detail, sizeof(x->r.unjournaled_detail),
             "%lld 个本期事件尚未入账 events of the period not yet journaled (%lld waiting on "
             "%s and %s in all), %lld 条本期分录待发布 entries of the period in the outbox "
             "(%lld in all)",
             (long long)in, (long long)lag, TOPIC_SWIPES, TOPIC_TOPUPS, (long long)outbox_in,
             (long long)outbox);
    return 0;
}

/* ------------------------------------------------------------------ flows */

typedef struct flow {
    char prog[96], fund[72];
    int64_t v[6]; /* allocated granted spent lapsed returned recovered */
} flow;

/* by programme, then fund level in the order of government */
static int flow_cmp(const void *a, const void *b)
{
    const flow *x = a, *y = b;
    int d = strcmp(x->prog, y->prog);
    return d ? d : rp_level_cmp(x->fund, y->fund);
}

static const char *const flow_cols[6] = {"allocated", "granted",  "spent",
                                         "lapsed",    "returned", "recovered"};

static int flow_col(const char *c)
{
    for (int i = 0; i < 6; i++)
        if (strcmp(c, flow_cols[i]) == 0)
            return i;
    return -1;
}

static void rp_fen(char *out, int64_t v)
{
    snprintf(out, 24, "%lld", (long long)v);
}

/* The funds and programmes tables from the journal's lines. */
static int rp_flows(rp *x, int64_t fund_total[6])
{
    char sql[4096];
    snprintf(
        sql, sizeof(sql),
        "WITH ip AS (SELECT item_code, min(programme) AS p FROM ledger_entries WHERE kind IN "
        "('topup', 'payment') AND coalesce(programme, '') <> '' AND item_code IS NOT NULL GROUP "
        "BY 1), x AS (SELECT coalesce(nullif(e.programme, ''), ip.p, '') AS prog, "
        "coalesce(l.fund, e.fund_source, '') AS fund, CASE WHEN a.kind = 'fund' AND e.kind = "
        "'allocation' THEN 'allocated' WHEN a.kind = 'fund' AND e.kind IN ('topup', 'payment') "
        "THEN 'granted' WHEN a.kind IN ('payable', 'payee') THEN 'spent' WHEN a.kind = 'fund' "
        "THEN %s END AS col, CASE WHEN a.kind = 'fund' AND e.kind IN ('topup', 'payment') THEN "
        "l.amount_fen ELSE -l.amount_fen END AS fen FROM ledger_entries e JOIN ledger_lines l "
        "USING (entry_id) JOIN ledger_accounts a USING (account_id) LEFT JOIN ip ON ip.item_code "
        "= e.item_code WHERE (a.kind = 'fund' AND a.year = $1::int AND (e.kind = 'allocation' OR "
        "(e.kind IN ('topup', 'payment') AND e.period BETWEEN $4 AND $5) OR (e.kind NOT IN "
        "('allocation', 'topup', 'payment') AND ($6::bool OR (e.occurred_at_ms >= $2::bigint AND "
        "e.occurred_at_ms < $3::bigint))))) OR (a.kind IN ('payable', 'payee') AND e.kind IN "
        "('swipe', 'reversal', 'payment') AND e.occurred_at_ms >= $2::bigint AND e.occurred_at_ms "
        "< $3::bigint)) SELECT prog, fund, col, sum(fen) FROM x WHERE col IS NOT NULL GROUP BY "
        "1, 2, 3 ORDER BY 1, 2",
        x->class_expr);
    const char *p[] = {x->p_year, x->p_from, x->p_to, x->p_first, x->p_last, x->whole};
    PGresult *r = rp_query(x, sql, 6, p);
    if (r == NULL)
        return -1;
    /* the fund accounts of the year, so a fund with no flow still shows */
    const char *py[] = {x->p_year};
    PGresult *acc = rp_query(x,
                             "SELECT fund_source, -balance_fen FROM ledger_accounts WHERE kind = "
                             "'fund' AND year = $1::int ORDER BY 1",
                             1, py);
    if (acc == NULL) {
        PQclear(r);
        return -1;
    }
    int n = PQntuples(r);
    flow *fl = calloc((size_t)n + 1, sizeof(*fl));
    const char *funds[YR_FUNDS_MAX];
    int nf = 0;
    int nfl = 0;
    for (int i = 0; i < n; i++) {
        int c = flow_col(PQgetvalue(r, i, 2));
        if (c < 0)
            continue;
        if (nfl == 0 || strcmp(fl[nfl - 1].prog, PQgetvalue(r, i, 0)) != 0 ||
            strcmp(fl[nfl - 1].fund, PQgetvalue(r, i, 1)) != 0) {
            snprintf(fl[nfl].prog, sizeof(fl[nfl].prog), "%s", PQgetvalue(r, i, 0));
            snprintf(fl[nfl].fund, sizeof(fl[nfl].fund), "%s", PQgetvalue(r, i, 1));
            nfl++;
        }
        fl[nfl - 1].v[c] += rp_int(r, i, 3);
    }
    qsort(fl, (size_t)nfl, sizeof(fl[0]), flow_cmp); /* before pointing into it */
    /* the funds: every fund named by a flow or an account of the year */
    for (int i = 0; i < nfl; i++) {
        bool seen = false;
        for (int k = 0; k < nf && !seen; k++)
            seen = strcmp(funds[k], fl[i].fund) == 0;
        if (!seen && nf < YR_FUNDS_MAX)
            funds[nf++] = fl[i].fund;
    }
    for (int i = 0; i < PQntuples(acc); i++) {
        bool seen = false;
        for (int k = 0; k < nf && !seen; k++)
            seen = strcmp(funds[k], PQgetvalue(acc, i, 0)) == 0;
        if (!seen && nf < YR_FUNDS_MAX)
            funds[nf++] = PQgetvalue(acc, i, 0);
    }
    qsort(funds, (size_t)nf, sizeof(funds[0]), rp_fund_cmp);
    int rc = 0;
    for (int k = 0; k < nf && rc == 0; k++) {
        int64_t v[6] = {0};
        for (int i = 0; i < nfl; i++)
            if (strcmp(fl[i].fund, funds[k]) == 0)
                for (int c = 0; c < 6; c++)
                    v[c] += fl[i].v[c];
        for (int c = 0; c < 6; c++)
            fund_total[c] += v[c];
        int64_t outstanding = v[1] - v[2] - v[3] - v[4] - v[5];
        int64_t remaining = v[0] - v[1] + v[3] + v[4] + v[5];
        char s[8][24];
        for (int c = 0; c < 6; c++)
            rp_fen(s[c], v[c]);
        rp_fen(s[6], outstanding);
        rp_fen(s[7], remaining);
        const char *row[] = {funds[k][0] ? funds[k] : "（未标明）(none)",
                             s[0],
                             s[1],
                             s[2],
                             s[3],
                             s[4],
                             s[5],
                             s[6],
                             s[7]};
        rc = yr_table_add(&x->funds, row);
        /* the fund's account holds what the report says remains */
        if (rc == 0 && !x->quarter) {
            bool has = false;
            int64_t bal = 0;
            for (int i = 0; i < PQntuples(acc); i++)
                if (strcmp(PQgetvalue(acc, i, 0), funds[k]) == 0) {
                    has = true;
                    bal = rp_int(acc, i, 1);
                }
            if (has || remaining != 0) {
                char what[64];
                snprintf(what, sizeof(what), "fund %.40s:%d", funds[k], x->year);
                yr_check_add(&x->r, has && bal == remaining, what,
                             "资金结余 remaining %lld fen = allocated - granted + taken back; "
                             "the ledger's account balance %lld fen",
                             (long long)remaining, (long long)bal);
            }
        }
    }
    /* programmes by fund: every flow but the allocation (a fund's, not a
     * programme's) */
    for (int i = 0; i < nfl && rc == 0; i++) {
        flow *f = &fl[i];
        if (f->v[1] == 0 && f->v[2] == 0 && f->v[3] == 0 && f->v[4] == 0 && f->v[5] == 0)
            continue;
        char s[6][24];
        for (int c = 1; c < 6; c++)
            rp_fen(s[c - 1], f->v[c]);
        rp_fen(s[5], f->v[1] - f->v[2] - f->v[3] - f->v[4] - f->v[5]);
        const char *row[] = {f->prog[0] ? f->prog : "（未列项目）(none)",
                             f->fund[0] ? f->fund : "（未标明）(none)",
                             s[0],
                             s[1],
                             s[2],
                             s[3],
                             s[4],
                             s[5]};
        rc = yr_table_add(&x->progs, row);
    }
    free(fl);
    PQclear(acc);
    PQclear(r);
    if (rc < 0)
        fprintf(stderr, "ledger report: out of memory\n");
    return rc;
}

/* Per fund: grants drawn from the funds reached wallets and payees, and
 * the spending equals the ledger's contract (payable lines per fund, as
 * settlement closes against them) plus the payments to persons. */
static int rp_check_flows(rp *x)
{
    const char *pg[] = {x->p_first, x->p_last};
    PGresult *g = rp_query(
        x,
        "SELECT coalesce(l.fund, e.fund_source, ''), -sum(l.amount_fen) FROM ledger_entries e "
        "JOIN ledger_lines l USING (entry_id) JOIN ledger_accounts a USING (account_id) WHERE "
        "e.kind IN ('topup', 'payment') AND a.kind IN ('wallet', 'payee') AND e.period BETWEEN $1 "
        "AND $2 GROUP BY 1",
        2, pg);
    const char *ps[] = {x->p_from, x->p_to};
    PGresult *s = g ? rp_query(x,
                               "SELECT fund, sum(fen) FROM (SELECT fund, payable_fen AS fen FROM "
                               "ledger_v1_provider_fund_totals($1::bigint, $2::bigint) UNION ALL "
                               "SELECT coalesce(l.fund, e.fund_source, ''), -l.amount_fen FROM "
                               "ledger_entries e JOIN ledger_lines l USING (entry_id) JOIN "
                               "ledger_accounts a USING (account_id) WHERE e.kind = 'payment' AND "
                               "a.kind = 'payee' AND e.occurred_at_ms >= $1::bigint AND "
                               "e.occurred_at_ms < $2::bigint) x GROUP BY 1",
                               2, ps)
                    : NULL;
    if (s == NULL) {
        PQclear(g);
        return -1;
    }
    int fc = 0;
    for (size_t i = 0; i + (x->funds.has_total ? 1 : 0) < x->funds.nrows; i++) {
        const char *f = yr_cell(&x->funds, i, fc);
        const char *fk = strcmp(f, "（未标明）(none)") == 0 ? "" : f;
        int64_t granted = yr_table_sum(&x->funds, "granted", "fund", f);
        int64_t spent = yr_table_sum(&x->funds, "spent", "fund", f);
        int64_t lg = 0, ls = 0;
        for (int k = 0; k < PQntuples(g); k++)
            if (strcmp(PQgetvalue(g, k, 0), fk) == 0)
                lg = rp_int(g, k, 1);
        for (int k = 0; k < PQntuples(s); k++)
            if (strcmp(PQgetvalue(s, k, 0), fk) == 0)
                ls = rp_int(s, k, 1);
        char what[64];
        snprintf(what, sizeof(what), "granted %.40s", f);
        yr_check_add(&x->r, granted == lg, what,
                     "drawn from the fund %lld fen; credited to cards and persons %lld fen",
                     (long long)granted, (long long)lg);
        snprintf(what, sizeof(what), "spent %.40s", f);
        yr_check_add(&x->r, spent == ls, what,
                     "report %lld fen; the ledger's payable lines per fund (the contract "
                     "settlement closes against) and payments %lld fen",
                     (long long)spent, (long long)ls);
    }
    PQclear(g);
    PQclear(s);
    return 0;
}

static int rp_budgets(rp *x)
{
    char sql[1024];
    snprintf(sql, sizeof(sql),
             "SELECT a.programme, -a.balance_fen, coalesce(-sum(l.amount_fen) FILTER (WHERE "
             "e.kind = 'allocation'), 0), coalesce(sum(l.amount_fen) FILTER (WHERE e.kind IN "
             "('topup', 'payment')), 0), coalesce(-sum(l.amount_fen) FILTER (WHERE e.kind NOT IN "
             "('allocation', 'topup', 'payment')), 0) FROM ledger_accounts a LEFT JOIN "
             "ledger_lines l USING (account_id) LEFT JOIN ledger_entries e USING (entry_id) WHERE "
             "a.kind = 'budget' AND a.year = $1::int GROUP BY a.account_id ORDER BY 1");
    const char *p[] = {x->p_year};
    PGresult *r = rp_query(x, sql, 1, p);
    if (r == NULL)
        return -1;
    int rc = 0;
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        int64_t bal = rp_int(r, i, 1), alloc = rp_int(r, i, 2), obl = rp_int(r, i, 3),
                rel = rp_int(r, i, 4);
        int64_t remaining = alloc - obl + rel;
        char s[4][24];
        rp_fen(s[0], alloc);
        rp_fen(s[1], obl);
        rp_fen(s[2], rel);
        rp_fen(s[3], remaining);
        const char *row[] = {PQgetvalue(r, i, 0), s[0], s[1], s[2], s[3]};
        rc = yr_table_add(&x->budgets, row);
        char what[64];
        snprintf(what, sizeof(what), "budget %.40s:%d", PQgetvalue(r, i, 0), x->year);
        yr_check_add(&x->r, bal == remaining, what,
                     "预算结余 remaining %lld fen; the ledger's account balance %lld fen",
                     (long long)remaining, (long long)bal);
    }
    PQclear(r);
    return rc;
}

/* ------------------------------------------------------------------ items */

/* Person-times, persons and amounts per item and quarter (one table: all
 * items, or the items whose code starts with like's prefix). */
static int rp_items(rp *x, yr_table *t, const char *like)
{
    const char *sql =
        "WITH ip AS (SELECT item_code, min(programme) AS p FROM ledger_entries WHERE kind IN "
        "('topup', 'payment') AND coalesce(programme, '') <> '' AND item_code IS NOT NULL GROUP "
        "BY 1), rv AS (SELECT DISTINCT swipe_id FROM ledger_entries WHERE kind = 'reversal' AND "
        "swipe_id IS NOT NULL), s AS (SELECT coalesce(e.item_code, '') AS item, coalesce(ip.p, "
        "nullif(e.programme, ''), '') AS prog, extract(quarter FROM to_timestamp(e.occurred_at_ms "
        "/ 1000.0) AT TIME ZONE 'UTC' + make_interval(mins => $4::int))::int AS q, e.kind, "
        "coalesce(nullif(e.person_id, ''), e.card_no) AS who, e.amount_fen, (e.kind = 'payment' "
        "OR (e.kind = 'swipe' AND rv.swipe_id IS NULL)) AS served FROM ledger_entries e LEFT JOIN "
        "ip ON ip.item_code = e.item_code LEFT JOIN rv ON e.kind = 'swipe' AND rv.swipe_id = "
        "e.swipe_id WHERE e.kind IN ('swipe', 'reversal', 'payment') AND e.occurred_at_ms >= "
        "$1::bigint AND e.occurred_at_ms < $2::bigint AND coalesce(e.item_code, '') LIKE $3) "
        "SELECT item, prog, q, grouping(item, prog), grouping(q), count(*) FILTER (WHERE kind <> "
        "'reversal') - count(*) FILTER (WHERE kind = 'reversal'), count(DISTINCT who) FILTER "
        "(WHERE served), sum(CASE WHEN kind = 'reversal' THEN -amount_fen ELSE amount_fen END) "
        "FROM s GROUP BY GROUPING SETS ((item, prog, q), (item, prog), (q), ()) ORDER BY 4, 1, 2, "
        "5, 3";
    const char *p[] = {x->p_from, x->p_to, like, x->p_tz};
    PGresult *r = rp_query(x, sql, 4, p);
    if (r == NULL)
        return -1;
    /* 2 + 4 * 3 + 3 columns: item, programme, q1..q4 (times, persons, fen),
     * year (times, persons, fen) */
    char cells[17][96];
    const char *row[17];
    int rc = 0;
    bool open = false;
    int64_t tot[5][3] = {{0}}; /* the journal's totals: q1..q4, year */
    for (int i = 0; i <= PQntuples(r) && rc == 0; i++) {
        bool last = i == PQntuples(r);
        bool total = !last && rp_int(r, i, 3) != 0;
        bool new_item = last || total || !open || strcmp(cells[0], PQgetvalue(r, i, 0)) != 0 ||
                        strcmp(cells[1], PQgetvalue(r, i, 1)) != 0;
        if (open && new_item) {
            for (int k = 0; k < 17; k++)
                row[k] = cells[k];
            rc = yr_table_add(t, row);
            open = false;
        }
        if (last || rc < 0)
            break;
        int q = rp_int(r, i, 4) ? 0 : (int)rp_int(r, i, 2); /* 0: the year */
        int slot = q >= 1 && q <= 4 ? q - 1 : 4;
        if (total) {
            for (int k = 0; k < 3; k++)
                tot[slot][k] = rp_int(r, i, 5 + k);
            continue;
        }
        if (!open) {
            snprintf(cells[0], sizeof(cells[0]), "%s", PQgetvalue(r, i, 0));
            snprintf(cells[1], sizeof(cells[1]), "%s", PQgetvalue(r, i, 1));
            for (int k = 2; k < 17; k++)
                snprintf(cells[k], sizeof(cells[k]), "0");
            open = true;
        }
        for (int k = 0; k < 3; k++)
            snprintf(cells[2 + slot * 3 + k], sizeof(cells[0]), "%s", PQgetvalue(r, i, 5 + k));
    }
    PQclear(r);
    if (rc < 0 || yr_table_total(t) < 0) {
        fprintf(stderr, "ledger report: out of memory\n");
        return -1;
    }
    /* the distinct persons of the totals row are the journal's, and the
     * additive columns must add up to the journal's own totals */
    size_t tr = t->nrows - 1;
    int bad = 0;
    for (int slot = 0; slot < 5; slot++) {
        char v[24];
        rp_fen(v, tot[slot][1]);
        if (yr_table_set(t, tr, 2 + slot * 3 + 1, v) < 0)
            return -1;
        if (strtoll(yr_cell(t, tr, 2 + slot * 3), NULL, 10) != tot[slot][0] ||
            strtoll(yr_cell(t, tr, 2 + slot * 3 + 2), NULL, 10) != tot[slot][2])
            bad++;
    }
    char what[64];
    snprintf(what, sizeof(what), "%s rows", t->name);
    yr_check_add(&x->r, bad == 0, what,
                 "%zu items: person-times and amounts per quarter add up to the journal's "
                 "totals (%lld person-times, %lld fen)",
                 tr, (long long)tot[4][0], (long long)tot[4][2]);
    return 0;
}

/* ------------------------------------------------------------------ files */

static int rp_write(const char *dir, const char *name, const yr_buf *b)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (f == NULL || fwrite(b->s ? b->s : "", 1, b->len, f) != b->len || fclose(f) != 0) {
        fprintf(stderr, "ledger report: %s: %s\n", path, strerror(errno));
        return -1;
    }
    printf("wrote %s\n", path);
    return 0;
}

static int rp_output(rp *x, const char *formats, const char *dir)
{
    char stem[32];
    if (x->quarter)
        snprintf(stem, sizeof(stem), "yearend-%d-q%d", x->year, x->quarter);
    else
        snprintf(stem, sizeof(stem), "yearend-%d", x->year);
    char list[64];
    snprintf(list, sizeof(list), "%s", formats);
    int rc = 0;
    for (char *save = NULL, *f = strtok_r(list, ",", &save); f && rc == 0;
         f = strtok_r(NULL, ",", &save)) {
        yr_buf b = {0};
        char name[128];
        if (strcmp(f, "csv") == 0) {
            for (int i = 0; i < x->r.ntables && rc == 0; i++) {
                yr_buf t = {0};
                yr_write_csv(x->r.tables[i], &t);
                snprintf(name, sizeof(name), "%s-%s.csv", stem, x->r.tables[i]->name);
                rc = t.failed ? -1 : rp_write(dir, name, &t);
                yr_buf_free(&t);
            }
            yr_write_checks_csv(&x->r, &b);
            snprintf(name, sizeof(name), "%s-reconciliation.csv", stem);
        } else if (strcmp(f, "json") == 0) {
            yr_write_json(&x->r, &b);
            snprintf(name, sizeof(name), "%s.json", stem);
        } else if (strcmp(f, "html") == 0) {
            yr_write_html(&x->r, &b);
            snprintf(name, sizeof(name), "%s.html", stem);
        } else {
            yr_write_text(&x->r, &b);
            snprintf(name, sizeof(name), "%s.txt", stem);
        }
        if (rc == 0 && b.failed) {
            fprintf(stderr, "ledger report: out of memory\n");
            rc = -1;
        } else if (rc == 0 && dir) {
            rc = rp_write(dir, name, &b);
        } else if (rc == 0) {
            fputs(b.s ? b.s : "", stdout);
        }
        yr_buf_free(&b);
    }
    return rc;
}

static bool rp_formats_ok(const char *s, bool have_dir)
{
    char list[64];
    if (strlen(s) >= sizeof(list))
        return false;
    snprintf(list, sizeof(list), "%s", s);
    int n = 0;
    bool csv = false;
    for (char *save = NULL, *f = strtok_r(list, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
        if (strcmp(f, "text") && strcmp(f, "json") && strcmp(f, "csv") && strcmp(f, "html"))
            return false;
        csv = csv || strcmp(f, "csv") == 0;
        n++;
    }
    /* several documents or one file per table: into a directory */
    return n >= 1 && (have_dir || (n == 1 && !csv));
}

/* ---------------------------------------------------------------- command */

static void rp_free(rp *x)
{
    yr_table_free(&x->funds);
    yr_table_free(&x->progs);
    yr_table_free(&x->budgets);
    yr_table_free(&x->items);
    yr_table_free(&x->children);
    if (x->pg)
        PQfinish(x->pg);
}

static int rp_usage(void)
{
    fprintf(stderr, "usage: onecard-ledger report --year YYYY [--quarter 1-4] [--format "
                    "text|json|csv|html[,...]] [--out DIR]\n"
                    "  csv (one file per table) and several formats need --out DIR\n");
    return CLI_USAGE;
}

int report_run(int argc, char **argv, ledger_config *cfg)
{
    rp x;
    memset(&x, 0, sizeof(x));
    x.cfg = cfg;
    const char *formats = "text", *dir = NULL;
    static const struct option opts[] = {{"year", required_argument, NULL, 'y'},
                                         {"quarter", required_argument, NULL, 'q'},
                                         {"format", required_argument, NULL, 'f'},
                                         {"out", required_argument, NULL, 'o'},
                                         {NULL, 0, NULL, 0}};
    int o;
    char *end;
    optind = 1;
    while ((o = getopt_long(argc, argv, "y:q:f:o:", opts, NULL)) != -1) {
        switch (o) {
        case 'y':
            x.year = (int)strtol(optarg, &end, 10);
            if (*end)
                x.year = 0;
            break;
        case 'q':
            x.quarter = (int)strtol(optarg, &end, 10);
            if (*end || x.quarter < 1 || x.quarter > 4)
                return rp_usage();
            break;
        case 'f':
            formats = optarg;
            break;
        case 'o':
            dir = optarg;
            break;
        default:
            return rp_usage();
        }
    }
    if (x.year < 2000 || x.year > 9999 || optind != argc || !rp_formats_ok(formats, dir != NULL))
        return rp_usage();
    struct stat st;
    if (dir && (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))) {
        fprintf(stderr, "ledger report: --out %s is not a directory\n", dir);
        return CLI_USAGE;
    }
    int64_t t0 = event_now_ms();
    /* the period: local dates (ONECARD_TZ_OFFSET_MIN), a year or a quarter */
    int m1 = x.quarter ? x.quarter * 3 - 2 : 1, m2 = x.quarter ? x.quarter * 3 : 12;
    int tz = (int)cfg->tz_offset_min;
    int64_t from = calendar_days_from_civil(x.year, m1, 1) * 86400000LL - tz * 60000LL;
    int64_t to = (m2 == 12 ? calendar_days_from_civil(x.year + 1, 1, 1)
                           : calendar_days_from_civil(x.year, m2 + 1, 1)) *
                     86400000LL -
                 tz * 60000LL;
    x.from_ms = from;
    x.to_ms = to;
    snprintf(x.p_year, sizeof(x.p_year), "%d", x.year);
    snprintf(x.p_from, sizeof(x.p_from), "%lld", (long long)from);
    snprintf(x.p_to, sizeof(x.p_to), "%lld", (long long)to);
    snprintf(x.p_first, sizeof(x.p_first), "%d-%02d", x.year, m1);
    snprintf(x.p_last, sizeof(x.p_last), "%d-%02d", x.year, m2);
    snprintf(x.p_tz, sizeof(x.p_tz), "%d", tz);
    x.whole = x.quarter ? "false" : "true";
    x.r.year = x.year;
    x.r.quarter = x.quarter;
    time_t now = time(NULL);
    struct tm tmv;
    gmtime_r(&now, &tmv);
    strftime(x.r.generated, sizeof(x.r.generated), "%Y-%m-%dT%H:%M:%SZ", &tmv);
    yr_table_init(&x.funds, "funds", "按资金级别", "By fund level",
                  "下达、发放、使用、收回与结余，精确到分。Allocated to the fund for the year; "
                  "granted: top-ups and payments of the year's periods drawn from it; spent: "
                  "swipes net of reversals and payments to persons that occurred in the period; "
                  "outstanding = granted - spent - lapsed - returned - recovered; remaining = "
                  "allocated - granted + lapsed + returned + recovered (the fund account).",
                  funds_cols, NCOLS(funds_cols));
    yr_table_init(&x.progs, "programmes", "按项目与资金级别", "By programme and fund level",
                  "项目取自发放该服务项目的预算。An entry's programme is its own (top-ups, "
                  "payments) or the programme its item is granted from (swipes).",
                  prog_cols, NCOLS(prog_cols));
    yr_table_init(&x.budgets, "budgets", "项目预算", "Programme budgets (the year)",
                  "预算科目 budget:<programme>:<year> in the journal.", budget_cols,
                  NCOLS(budget_cols));
    yr_table_init(&x.items, "items", "按服务项目：服务人次、人数与金额",
                  "By item: person-times, persons and amounts",
                  "人次 = 刷卡笔数 + 发放到人笔数 - 冲正笔数 (person-times = swipes + payments to "
                  "persons - reversals, each counted in the quarter it occurred); 人数 = distinct "
                  "persons (person id, or card) with a swipe not reversed or a payment; 金额 = "
                  "swipes - reversals + payments. The category is the item's programme.",
                  item_cols, NCOLS(item_cols));
    yr_table_init(&x.children, "children", "康复救助儿童（R0x 项目）",
                  "Children helped per rehabilitation item (R0x)",
                  "救助儿童 = 该康复项目下至少有一次未冲正服务的不同人数。Children helped = "
                  "distinct persons with at least one service of the item not reversed.",
                  child_cols, NCOLS(child_cols));
    x.r.tables[x.r.ntables++] = &x.funds;
    x.r.tables[x.r.ntables++] = &x.progs;
    x.r.tables[x.r.ntables++] = &x.budgets;
    x.r.tables[x.r.ntables++] = &x.items;
    x.r.tables[x.r.ntables++] = &x.children;

    char err[512];
    x.pg = pg_connect(cfg->d.pg_dsn, 3, 1000, NULL, err, sizeof(err));
    if (x.pg == NULL) {
        fprintf(stderr, "ledger report: %s\n", err);
        rp_free(&x);
        return CLI_DEPENDENCY;
    }
    int rc = CLI_DEPENDENCY;
    if (pg_exec(x.pg, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, err,
                sizeof(err)) < 0) {
        fprintf(stderr, "ledger report: %s\n", err);
        goto out;
    }
    /* the snapshot starts with this first read */
    PGresult *c = rp_query(&x,
                           "SELECT count(*) FROM information_schema.columns WHERE table_name = "
                           "'ledger_entries' AND column_name = 'reason'",
                           0, NULL);
    if (c == NULL)
        goto out;
    const char *reason = rp_int(c, 0, 0) ? "coalesce(e.reason::text, '')" : "''";
    PQclear(c);
    snprintf(x.class_expr, sizeof(x.class_expr),
             "CASE WHEN lower(e.kind || ' ' || %s) LIKE '%%laps%%' THEN 'lapsed' WHEN "
             "lower(e.kind || ' ' || %s) LIKE '%%recover%%' THEN 'recovered' ELSE 'returned' END",
             reason, reason);
    int64_t fund_total[6] = {0};
    if (rp_unjournaled(&x) < 0 || rp_flows(&x, fund_total) < 0 || rp_check_flows(&x) < 0 ||
        rp_budgets(&x) < 0 || rp_items(&x, &x.items, "%") < 0 ||
        rp_items(&x, &x.children, "R0%") < 0)
        goto out;
    if (yr_table_total(&x.funds) < 0 || yr_table_total(&x.progs) < 0 ||
        yr_table_total(&x.budgets) < 0)
        goto out;
    /* the tables agree with one another */
    static const char *const pc[] = {"granted", "spent", "lapsed", "returned", "recovered"};
    for (int i = 0; i < 5; i++) {
        int64_t a = yr_table_sum(&x.progs, pc[i], NULL, NULL);
        char what[64];
        snprintf(what, sizeof(what), "programmes %s", pc[i]);
        yr_check_add(&x.r, a == fund_total[i + 1], what,
                     "by programme %lld fen; by fund level %lld fen", (long long)a,
                     (long long)fund_total[i + 1]);
    }
    int64_t items_fen = yr_table_sum(&x.items, "year_fen", NULL, NULL);
    yr_check_add(&x.r, items_fen == fund_total[2], "items amount",
                 "the items' amounts %lld fen (entries); spent by fund level %lld fen (lines)",
                 (long long)items_fen, (long long)fund_total[2]);
    PGresult *j = rp_query(&x, "SELECT coalesce(sum(amount_fen), 0) FROM ledger_lines", 0, NULL);
    if (j == NULL)
        goto out;
    yr_check_add(&x.r, rp_int(j, 0, 0) == 0, "journal", "every line of the journal sums to %lld",
                 (long long)rp_int(j, 0, 0));
    PQclear(j);
    pg_rollback(x.pg);

    if (rp_output(&x, formats, dir) < 0)
        goto out;
    /* the verdict on stdout, or on stderr when stdout holds a document */
    FILE *say = dir || strcmp(formats, "text") == 0 ? stdout : stderr;
    if (dir || strcmp(formats, "text") != 0) { /* the checks, for the operator */
        for (int i = 0; i < x.r.nchecks; i++)
            if (!x.r.checks[i].ok)
                fprintf(say, "%-22s DIFF %s\n", x.r.checks[i].what, x.r.checks[i].detail);
    }
    long long ms = (long long)(event_now_ms() - t0);
    if (x.r.unjournaled) {
        fprintf(say,
                "report: INCOMPLETE: %s; the figures miss them: run it again once the ledger "
                "has caught up (%lld ms)\n",
                x.r.unjournaled_detail, ms);
        rc = 1;
    } else if (x.r.differences) {
        fprintf(say, "report: DIFF: %d lines differ from the ledger (%lld ms)\n", x.r.differences,
                ms);
        rc = 1;
    } else {
        fprintf(say, "report: OK: %d checks, every total equals the ledger to the fen (%lld ms)\n",
                x.r.nchecks, ms);
        rc = 0;
    }
out:
    if (rc == 2 && x.pg)
        pg_rollback(x.pg);
    rp_free(&x);
    return rc;
}
