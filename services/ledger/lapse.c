/*
 * lapse: credit taken back off cards to its funds. See lapse.h.
 */
#include "lapse.h"

#include "journal.h"
#include "ledger_lua.h"

#include "common/calendar.h"
#include "common/cli.h"
#include "common/event.h"
#include "common/jsonw.h"
#include "common/kafka.h"
#include "common/keys.h"
#include "common/pg.h"
#include "common/redis.h"
#include "common/shares.h"
#include "common/sign.h"
#include "topup.pb-c.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LAPSE_MARKER_TTL_S "3456000" /* 40 days: far beyond any re-run */
#define LAPSE_PAGE         5000

int64_t lapse_take(int64_t balance, int64_t keep, int64_t cap)
{
    int64_t t = balance - keep;
    if (cap >= 0 && t > cap)
        t = cap;
    return t > 0 ? t : 0;
}

void lapse_return_id(char *out, size_t len, const char *reason, const char *card_no,
                     const char *wallet, const char *day)
{
    char buf[256], hex[SIGN_HEX_LEN + 1];
    int n = snprintf(buf, sizeof(buf), "%s|%s|%s|%s", reason, card_no, wallet, day);
    sign_sha256_hex(hex, buf, n < 0 ? 0 : (size_t)n);
    snprintf(out, len, "%s-%.40s", reason, hex);
}

/* one wallet to return from */
typedef struct lapse_wallet {
    char card[40], wallet[40];
    int64_t account_id, money, keep, cap; /* cap < 0: none */
    int nf;
    char fund[LAPSE_FUNDS][JOURNAL_FUND_MAX];
    int64_t fen[LAPSE_FUNDS]; /* the wallet's money per fund in the journal */
} lapse_wallet;

typedef struct lapse_run {
    ledger_config *cfg;
    PGconn *pg;
    redisContext *rc;
    kafka_producer *kp;
    const char *reason, *day;
    char period[8];
    bool json;
    int64_t die_after; /* ONECARD_LAPSE_DIE_AFTER: tests, _exit after N Redis steps */
    int64_t wallets, returned, cards, fen, remembered, failed, outstanding, redis_steps;
    char last_card[40];
    int nlv;
    char lv_name[LAPSE_FUNDS * 2][JOURNAL_FUND_MAX];
    int64_t lv_fen[LAPSE_FUNDS * 2];
} lapse_run;

static redis_script lapse_s_return;

static void lapse_on_delivery(void *opaque, int err, const char *errstr, int32_t partition,
                              int64_t offset)
{
    lapse_run *r = opaque;
    r->outstanding--;
    if (err) {
        r->failed++;
        fprintf(stderr, "ledger lapse: a CreditReturned was not acknowledged: %s\n", errstr);
    }
}

static void lapse_level_add(lapse_run *r, const char *fund, int64_t fen)
{
    for (int i = 0; i < r->nlv; i++)
        if (strcmp(r->lv_name[i], fund) == 0) {
            r->lv_fen[i] += fen;
            return;
        }
    if (r->nlv < LAPSE_FUNDS * 2) {
        snprintf(r->lv_name[r->nlv], sizeof(r->lv_name[0]), "%.*s", JOURNAL_FUND_MAX - 1, fund);
        r->lv_fen[r->nlv++] = fen;
    }
}

int lapse_split(int nf, const char (*fund)[JOURNAL_FUND_MAX], const int64_t *weight, int64_t take,
                journal_share *out, char *err, size_t errlen)
{
    int idx[LAPSE_FUNDS], n = 0;
    for (int i = 0; i < nf && i < LAPSE_FUNDS; i++)
        if (weight[i] > 0 && fund[i][0])
            idx[n++] = i;
    while (n > JOURNAL_SHARES_MAX) { /* drop the smallest, the last listed on a tie */
        int low = n - 1;
        for (int k = n - 2; k >= 0; k--)
            if (weight[idx[k]] < weight[idx[low]])
                low = k;
        memmove(&idx[low], &idx[low + 1], (size_t)(n - low - 1) * sizeof(idx[0]));
        n--;
    }
    if (n == 0 || take <= 0)
        return 0;
    int64_t wt[JOURNAL_SHARES_MAX], fen[JOURNAL_SHARES_MAX];
    for (int k = 0; k < n; k++)
        wt[k] = weight[idx[k]];
    if (shares_split_weights(take, wt, n, fen, err, errlen) < 0)
        return -1;
    int ns = 0;
    for (int k = 0; k < n; k++)
        if (fen[k] > 0) {
            snprintf(out[ns].fund, sizeof(out[ns].fund), "%s", fund[idx[k]]);
            out[ns++].amount_fen = fen[k];
        }
    return ns;
}

/* The event's shares of take from the wallet w. */
static int lapse_shares(const lapse_wallet *w, int64_t take, Onecard__V1__FundShare *sh,
                        journal_share *js, char *err, size_t errlen)
{
    int ns = lapse_split(w->nf, w->fund, w->fen, take, js, err, errlen);
    for (int i = 0; i < ns; i++) {
        onecard__v1__fund_share__init(&sh[i]);
        sh[i].level = js[i].fund;
        sh[i].amount_fen = js[i].amount_fen;
    }
    return ns;
}

/* One wallet: the Redis step, then the event. 0, or -1 when the run must
 * stop (the store is gone). */
/* Appends w's return.lua to the pipeline (EVALSHA: the script is loaded
 * by lapse_setup). */
static void lapse_append(lapse_run *r, const lapse_wallet *w)
{
    char rid[80], k1[KEYS_MAX], k2[KEYS_MAX], k3[KEYS_MAX], keep[24], cap[24];
    lapse_return_id(rid, sizeof(rid), r->reason, w->card, w->wallet, r->day);
    keys_wallet(k1, sizeof(k1), w->card);
    keys_return(k2, sizeof(k2), w->card, rid);
    keys_ends(k3, sizeof(k3), w->card);
    /* a lapse forgets the credit ended by the day; a death or a move all */
    const char *upto = strcmp(r->reason, "lapse") == 0 ? r->day : "";
    snprintf(keep, sizeof(keep), "%lld", (long long)w->keep);
    snprintf(cap, sizeof(cap), "%lld", (long long)w->cap);
    const char *argv[] = {"EVALSHA", lapse_s_return.sha1, "3", k1, k2, k3, w->wallet, keep,
                          cap,       LAPSE_MARKER_TTL_S,  upto};
    size_t argvlen[11];
    for (int i = 0; i < 11; i++)
        argvlen[i] = strlen(argv[i]);
    redisAppendCommandArgv(r->rc, 11, argv, argvlen);
}

/* w's reply from the pipeline, then its event. 0, or -1 when the run must
 * stop (Redis is gone or refused). */
static int lapse_one(lapse_run *r, const lapse_wallet *w)
{
    char rid[80], err[256];
    lapse_return_id(rid, sizeof(rid), r->reason, w->card, w->wallet, r->day);
    void *v = NULL;
    redisReply *rep = redisGetReply(r->rc, &v) == REDIS_OK ? v : NULL;
    if (rep == NULL || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
        fprintf(stderr, "ledger lapse: redis: %s\n",
                rep && rep->type == REDIS_REPLY_ERROR ? rep->str
                                                      : (r->rc->err ? r->rc->errstr : "no reply"));
        if (rep)
            freeReplyObject(rep);
        return -1;
    }
    bool fresh = rep->element[0]->integer == 1;
    int64_t take = rep->element[1]->integer;
    freeReplyObject(rep);
    r->wallets++;
    if (++r->redis_steps == r->die_after)
        _exit(9); /* a test's kill between the Redis step and the ack */
    if (take <= 0)
        return 0;
    if (!fresh)
        r->remembered++;
    Onecard__V1__FundShare sh[JOURNAL_SHARES_MAX], *shp[JOURNAL_SHARES_MAX];
    journal_share js[JOURNAL_SHARES_MAX];
    int ns = lapse_shares(w, take, sh, js, err, sizeof(err));
    if (ns < 0) {
        fprintf(stderr, "ledger lapse: %s\n", err);
        ns = 0;
    }
    for (int i = 0; i < ns; i++) {
        shp[i] = &sh[i];
        lapse_level_add(r, js[i].fund, sh[i].amount_fen);
    }
    if (ns == 0)
        lapse_level_add(r, "unsplit", take);
    char eid[40], seed[100];
    snprintf(seed, sizeof(seed), "return:%s", rid);
    journal_posting_id(eid, seed);
    Onecard__V1__CreditReturned m;
    onecard__v1__credit_returned__init(&m);
    m.event_id = eid;
    m.return_id = rid;
    m.card_no = (char *)w->card;
    m.wallet = (char *)w->wallet;
    m.item_code = (char *)w->wallet;
    m.amount_fen = take;
    m.reason = (char *)r->reason;
    m.period = r->period;
    m.as_of = (char *)r->day;
    m.n_shares = (size_t)ns;
    m.shares = shp;
    m.occurred_at_ms = event_now_ms();
    if (kafka_produce(r->kp, &m.base, NULL, w->card, strlen(w->card), lapse_on_delivery, r, err,
                      sizeof(err)) < 0) {
        fprintf(stderr, "ledger lapse: %s\n", err);
        r->failed++;
        return 0;
    }
    r->outstanding++;
    kafka_producer_poll(r->kp, 0);
    r->returned++;
    r->fen += take;
    if (strcmp(r->last_card, w->card) != 0) {
        r->cards++;
        snprintf(r->last_card, sizeof(r->last_card), "%s", w->card);
    }
    return 0;
}

/* The wallet of account id in ws (n, in account order), or NULL. */
static lapse_wallet *lapse_find(lapse_wallet *ws, int n, int64_t id)
{
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (ws[mid].account_id == id)
            return &ws[mid];
        if (ws[mid].account_id < id)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return NULL;
}

/* Reads the page's wallets' money per fund from the journal, less (a
 * lapse) what the credit not ended brought of each fund: what is left per
 * fund is the unspent of ended credit, the weights of the return's
 * shares. */
static int lapse_funds(lapse_run *r, lapse_wallet *ws, int n)
{
    pg_array a[2];
    memset(a, 0, sizeof(a));
    for (int i = 0; i < n; i++)
        pg_array_add_int(&a[0], ws[i].account_id);
    pg_array_add(&a[1], r->day);
    char err[512];
    for (int q = 0; q < (strcmp(r->reason, "lapse") == 0 ? 2 : 1); q++) {
        PGresult *res = pg_query_arrays(
            r->pg,
            q == 0 ? "SELECT account_id, coalesce(fund, ''), -sum(amount_fen) FROM ledger_lines "
                     "WHERE account_id = ANY($1::bigint[]) GROUP BY 1, 2 HAVING sum(amount_fen) "
                     "<> 0 ORDER BY 1, 2"
                   : "SELECT l.account_id, coalesce(l.fund, ''), -sum(l.amount_fen) FROM "
                     "ledger_lines l JOIN ledger_entries e ON e.entry_id = l.entry_id WHERE "
                     "l.account_id = ANY($1::bigint[]) AND e.kind = 'topup' AND (e.credit_ends IS "
                     "NULL OR e.credit_ends > ($2::text[])[1]::date) GROUP BY 1, 2 ORDER BY 1, 2",
            a, NULL, q == 0 ? 1 : 2, err, sizeof(err));
        if (res == NULL) {
            pg_array_free(&a[0]);
            pg_array_free(&a[1]);
            fprintf(stderr, "ledger lapse: %s\n", err);
            return -1;
        }
        for (int row = 0; row < PQntuples(res); row++) {
            lapse_wallet *w = lapse_find(ws, n, strtoll(PQgetvalue(res, row, 0), NULL, 10));
            if (w == NULL)
                continue;
            const char *fund = PQgetvalue(res, row, 1);
            int64_t fen = strtoll(PQgetvalue(res, row, 2), NULL, 10);
            int k = 0;
            while (k < w->nf && strcmp(w->fund[k], fund) != 0)
                k++;
            if (k == w->nf) {
                if (w->nf == LAPSE_FUNDS)
                    continue;
                snprintf(w->fund[w->nf], JOURNAL_FUND_MAX, "%s", fund);
                w->fen[w->nf++] = 0;
            }
            w->fen[k] += q == 0 ? fen : -fen;
        }
        PQclear(res);
    }
    pg_array_free(&a[0]);
    pg_array_free(&a[1]);
    return 0;
}

static void lapse_summary(const lapse_run *r, const char *what)
{
    if (r->json) {
        jsonw w;
        jsonw_init(&w);
        jsonw_obj(&w, NULL);
        jsonw_str(&w, "command", what);
        jsonw_str(&w, "reason", r->reason);
        jsonw_str(&w, "as_of", r->day);
        jsonw_int(&w, "wallets_checked", r->wallets);
        jsonw_int(&w, "wallets_returned", r->returned);
        jsonw_int(&w, "cards", r->cards);
        jsonw_int(&w, "fen", r->fen);
        jsonw_int(&w, "remembered", r->remembered);
        jsonw_int(&w, "unacknowledged", r->failed);
        jsonw_obj(&w, "fen_by_fund");
        for (int i = 0; i < r->nlv; i++)
            jsonw_int(&w, r->lv_name[i], r->lv_fen[i]);
        jsonw_end(&w);
        jsonw_end(&w);
        const char *t = jsonw_done(&w);
        printf("%s\n", t ? t : "{}");
        jsonw_free(&w);
        return;
    }
    printf("%s 退还 returned (%s) as of %s: %lld fen from %lld wallets of %lld cards "
           "(%lld wallets checked, %lld remembered from an earlier run)\n",
           what, r->reason, r->day, (long long)r->fen, (long long)r->returned, (long long)r->cards,
           (long long)r->wallets, (long long)r->remembered);
    for (int i = 0; i < r->nlv; i++)
        printf("  fund %-12s %lld fen\n", r->lv_name[i], (long long)r->lv_fen[i]);
    if (r->failed)
        printf("%lld events not acknowledged: run the command again (it takes nothing more)\n",
               (long long)r->failed);
}

static int lapse_setup(lapse_run *r, ledger_config *cfg)
{
    char err[512];
    r->cfg = cfg;
    redis_script_init(&lapse_s_return, "return", lua_return);
    const char *die = getenv("ONECARD_LAPSE_DIE_AFTER");
    r->die_after = die ? strtoll(die, NULL, 10) : 0;
    snprintf(r->period, sizeof(r->period), "%.7s", r->day);
    r->pg = pg_connect(cfg->d.pg_dsn, 3, 1000, NULL, err, sizeof(err));
    if (r->pg == NULL) {
        fprintf(stderr, "ledger lapse: %s\n", err);
        return -1;
    }
    r->rc = redis_sync_connect(cfg->d.redis_host, (int)cfg->d.redis_port, 5000, err, sizeof(err));
    if (r->rc == NULL) {
        fprintf(stderr, "ledger lapse: %s\n", err);
        return -1;
    }
    redisReply *ld = redisCommand(r->rc, "SCRIPT LOAD %s", lapse_s_return.source);
    bool loaded = ld && ld->type == REDIS_REPLY_STRING && strcmp(ld->str, lapse_s_return.sha1) == 0;
    if (ld)
        freeReplyObject(ld);
    if (!loaded) {
        fprintf(stderr, "ledger lapse: redis: the return script could not be loaded\n");
        return -1;
    }
    r->kp = kafka_producer_new(cfg->d.kafka_brokers, "/onecard/ledger", NULL, 30000, NULL, err,
                               sizeof(err));
    if (r->kp == NULL) {
        fprintf(stderr, "ledger lapse: %s\n", err);
        return -1;
    }
    return 0;
}

static int lapse_finish(lapse_run *r, const char *what)
{
    while (r->outstanding > 0)
        kafka_producer_poll(r->kp, 100);
    lapse_summary(r, what);
    int rc = r->failed ? 1 : 0;
    kafka_producer_free(r->kp, 5000);
    redisFree(r->rc);
    PQfinish(r->pg);
    return rc;
}

static int lapse_args(int argc, char **argv, const char **card, const char **reason,
                      const char **day, bool *json)
{
    static const struct option opts[] = {{"as-of", required_argument, NULL, 'd'},
                                         {"format", required_argument, NULL, 'f'},
                                         {"card", required_argument, NULL, 'c'},
                                         {"reason", required_argument, NULL, 'r'},
                                         {NULL, 0, NULL, 0}};
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "d:f:c:r:", opts, NULL)) != -1) {
        switch (o) {
        case 'd':
            *day = optarg;
            break;
        case 'f':
            if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0)
                return -1;
            *json = strcmp(optarg, "json") == 0;
            break;
        case 'c':
            if (card == NULL)
                return -1;
            *card = optarg;
            break;
        case 'r':
            if (reason == NULL)
                return -1;
            *reason = optarg;
            break;
        default:
            return -1;
        }
    }
    return *day && journal_date_ok(*day) ? 0 : -1;
}

int lapse_cmd(int argc, char **argv, ledger_config *cfg)
{
    lapse_run r;
    memset(&r, 0, sizeof(r));
    r.reason = "lapse";
    if (lapse_args(argc, argv, NULL, NULL, &r.day, &r.json) < 0) {
        fprintf(stderr, "usage: onecard-ledger lapse --as-of YYYY-MM-DD [--format text|json]\n"
                        "  退还到期未用额度 returns the unspent credit of every benefit period "
                        "ended on or before the day\n");
        return CLI_USAGE;
    }
    /* a day not over yet: its credit may still be spent today */
    calendar_date today = calendar_of_ms(event_now_ms(), (int)cfg->tz_offset_min);
    char td[16];
    snprintf(td, sizeof(td), "%04d-%02d-%02d", today.year, today.month, today.day);
    if (strcmp(r.day, td) >= 0) {
        fprintf(stderr,
                "ledger lapse: --as-of %s 尚未结束 has not ended yet (today is %s): credit ending "
                "that day may still be spent; run it on a later day\n",
                r.day, td);
        return CLI_REFUSED;
    }
    if (lapse_setup(&r, cfg) < 0)
        return CLI_DEPENDENCY;
    char err[512];
    const char *p[] = {r.day};
    /* every wallet holding credit ended by the day, with what it must keep;
     * the journal's own unspent of ended credit is the cap */
    if (pg_exec(r.pg, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, err,
                sizeof(err)) < 0 ||
        pg_exec(r.pg,
                "DECLARE lapse_c NO SCROLL CURSOR FOR SELECT t.card_no, t.wallet, a.account_id, "
                "-a.balance_fen, coalesce(sum(t.amount_fen) FILTER (WHERE t.credit_ends IS NULL OR "
                "t.credit_ends > $1::date), 0) FROM ledger_entries t JOIN ledger_accounts a ON "
                "a.kind = 'wallet' AND a.card_no = t.card_no AND a.wallet = t.wallet WHERE t.kind "
                "= 'topup' GROUP BY 1, 2, 3, 4 HAVING bool_or(t.credit_ends <= $1::date) AND "
                "-a.balance_fen > coalesce(sum(t.amount_fen) FILTER (WHERE t.credit_ends IS NULL "
                "OR t.credit_ends > $1::date), 0) ORDER BY 3",
                1, p, err, sizeof(err)) < 0) {
        fprintf(stderr, "ledger lapse: %s\n", err);
        return CLI_DEPENDENCY;
    }
    lapse_wallet *ws = calloc(LAPSE_PAGE, sizeof(*ws));
    int rc = 0;
    for (;;) {
        PGresult *res = pg_query(r.pg, "FETCH 5000 FROM lapse_c", 0, NULL, err, sizeof(err));
        if (res == NULL || ws == NULL) {
            fprintf(stderr, "ledger lapse: %s\n", res ? "out of memory" : err);
            rc = CLI_DEPENDENCY;
            break;
        }
        int n = PQntuples(res);
        for (int i = 0; i < n; i++) {
            lapse_wallet *w = &ws[i];
            memset(w, 0, sizeof(*w));
            snprintf(w->card, sizeof(w->card), "%s", PQgetvalue(res, i, 0));
            snprintf(w->wallet, sizeof(w->wallet), "%s", PQgetvalue(res, i, 1));
            w->account_id = strtoll(PQgetvalue(res, i, 2), NULL, 10);
            w->money = strtoll(PQgetvalue(res, i, 3), NULL, 10);
            w->keep = strtoll(PQgetvalue(res, i, 4), NULL, 10);
            w->cap = lapse_take(w->money, w->keep, -1);
        }
        PQclear(res);
        if (n == 0)
            break;
        if (lapse_funds(&r, ws, n) < 0) {
            rc = CLI_DEPENDENCY;
            break;
        }
        for (int i = 0; i < n; i++)
            lapse_append(&r, &ws[i]);
        for (int i = 0; i < n && rc == 0; i++) {
            if (lapse_one(&r, &ws[i]) < 0)
                rc = CLI_DEPENDENCY;
            if (r.wallets % 10000 == 0)
                fprintf(stderr, "lapse: %lld wallets, %lld returned, %lld fen\n",
                        (long long)r.wallets, (long long)r.returned, (long long)r.fen);
        }
        if (rc)
            break;
    }
    free(ws);
    if (pg_exec(r.pg, "COMMIT", 0, NULL, err, sizeof(err)) < 0)
        fprintf(stderr, "ledger lapse: %s\n", err);
    int frc = lapse_finish(&r, "lapse");
    return rc ? rc : frc;
}

int lapse_return_cmd(int argc, char **argv, ledger_config *cfg)
{
    lapse_run r;
    memset(&r, 0, sizeof(r));
    const char *card = NULL;
    if (lapse_args(argc, argv, &card, &r.reason, &r.day, &r.json) < 0 || card == NULL ||
        r.reason == NULL || (strcmp(r.reason, "death") != 0 && strcmp(r.reason, "moved") != 0)) {
        fprintf(stderr, "usage: onecard-ledger return-credit --card N --reason death|moved "
                        "--as-of YYYY-MM-DD [--format text|json]\n"
                        "  退还卡内全部余额 returns everything the card's wallets hold to their "
                        "funds\n");
        return CLI_USAGE;
    }
    if (lapse_setup(&r, cfg) < 0)
        return CLI_DEPENDENCY;
    char err[512];
    const char *p[] = {card};
    PGresult *res = pg_query(r.pg,
                             "SELECT card_no, wallet, account_id, -balance_fen FROM "
                             "ledger_accounts WHERE kind = 'wallet' AND card_no = $1 ORDER BY "
                             "account_id",
                             1, p, err, sizeof(err));
    if (res == NULL) {
        fprintf(stderr, "ledger return-credit: %s\n", err);
        return CLI_DEPENDENCY;
    }
    int n = PQntuples(res);
    lapse_wallet *ws = calloc((size_t)n + 1, sizeof(*ws));
    int rc = ws ? 0 : 2;
    for (int i = 0; ws && i < n; i++) {
        snprintf(ws[i].card, sizeof(ws[i].card), "%s", PQgetvalue(res, i, 0));
        snprintf(ws[i].wallet, sizeof(ws[i].wallet), "%s", PQgetvalue(res, i, 1));
        ws[i].account_id = strtoll(PQgetvalue(res, i, 2), NULL, 10);
        ws[i].cap = -1; /* all Redis holds: the person can no longer spend it */
    }
    PQclear(res);
    if (rc == 0 && n > 0 && lapse_funds(&r, ws, n) < 0)
        rc = CLI_DEPENDENCY;
    for (int i = 0; rc == 0 && i < n; i++)
        lapse_append(&r, &ws[i]);
    for (int i = 0; rc == 0 && i < n; i++)
        if (lapse_one(&r, &ws[i]) < 0)
            rc = CLI_DEPENDENCY;
    free(ws);
    int frc = lapse_finish(&r, "return-credit");
    return rc ? rc : frc;
}
