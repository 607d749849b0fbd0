/*
 * commands: reconcile, rebuild-cache and allocate (and report, report.h).
 * See commands.h.
 *
 * They run in the foreground with the daemon's configuration (the same
 * environment variables), print a report on stdout and return an exit
 * code, so operators, scripts and the fault tests can run them.
 */
#include "commands.h"
#include "lapse.h"

#include "projection.h"
#include "relay.h"
#include "report.h"
#include "store.h"

#include "common/cli.h"
#include "common/event.h"
#include "common/kafka.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/pg.h"
#include "common/progress.h"
#include "common/redis.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SWIPE_RECORD_MS (8LL * 86400 * 1000) /* as the gateway keeps them */

typedef struct commands_ctx {
    ledger_config *cfg;
    PGconn *pg;
    redisContext *rc;
} commands_ctx;

static int commands_connect(commands_ctx *x, bool redis)
{
    char err[512];
    x->pg = pg_connect(x->cfg->d.pg_dsn, 3, 1000, NULL, err, sizeof(err));
    if (x->pg == NULL) {
        fprintf(stderr, "ledger: %s\n", err);
        return -1;
    }
    if (redis) {
        x->rc = redis_sync_connect(x->cfg->d.redis_host, (int)x->cfg->d.redis_port, 5000, err,
                                   sizeof(err));
        if (x->rc == NULL) {
            fprintf(stderr, "ledger: %s\n", err);
            return -1;
        }
    }
    return 0;
}

static void commands_close(commands_ctx *x)
{
    if (x->rc)
        redisFree(x->rc);
    if (x->pg)
        PQfinish(x->pg);
}

static int64_t commands_int(PGconn *pg, const char *sql, int n, const char *const *p, bool *ok)
{
    char err[512];
    PGresult *r = pg_query(pg, sql, n, p, err, sizeof(err));
    if (r == NULL || PQntuples(r) < 1) {
        fprintf(stderr, "ledger: %s\n", r ? "no rows" : err);
        PQclear(r);
        *ok = false;
        return 0;
    }
    int64_t v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return v;
}

/* ============================================================== reconcile */

typedef struct recon {
    int differences;
    bool verbose;
    cli_format fmt;
    char *checks, *details; /* --format json: the rows and the detail lines so far */
    size_t checks_len, details_len;
    FILE *checks_f, *details_f;
} recon;

static void recon_json_str(FILE *f, const char *s)
{
    char buf[1024];
    log_json_escape(buf, sizeof(buf), s);
    fprintf(f, "\"%s\"", buf);
}

static void recon_json_close(recon *rc)
{
    if (rc->checks_f)
        fclose(rc->checks_f);
    if (rc->details_f)
        fclose(rc->details_f);
    free(rc->checks);
    free(rc->details);
    rc->checks_f = rc->details_f = NULL;
    rc->checks = rc->details = NULL;
}

/* One row of the report: a check, whether it holds, the figures. */
static void recon_row(recon *rc, bool ok, const char *what, const char *detail)
{
    if (rc->fmt == CLI_FORMAT_TEXT) {
        printf("%-18s %-4s %s\n", what, ok ? "ok" : "DIFF", detail);
        return;
    }
    fprintf(rc->checks_f, "%s{\"check\":", ftell(rc->checks_f) ? "," : "");
    recon_json_str(rc->checks_f, what);
    fprintf(rc->checks_f, ",\"ok\":%s,\"detail\":", ok ? "true" : "false");
    recon_json_str(rc->checks_f, detail);
    fputc('}', rc->checks_f);
}

static void recon_line(recon *rc, bool ok, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void recon_line(recon *rc, bool ok, const char *what, const char *fmt, ...)
{
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    recon_row(rc, ok, what, detail);
    if (!ok)
        rc->differences++;
}

/* A line naming one difference (a partition, a card). */
static void recon_detail(recon *rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void recon_detail(recon *rc, const char *fmt, ...)
{
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    if (rc->fmt == CLI_FORMAT_TEXT) {
        printf("  %s\n", detail);
        return;
    }
    fprintf(rc->details_f, "%s", ftell(rc->details_f) ? "," : "");
    recon_json_str(rc->details_f, detail);
}

/* The journal: every entry and the whole sum to zero, every balance the sum
 * of its lines, no entry without lines. */
static int recon_journal(recon *rc, PGconn *pg)
{
    bool ok = true;
    int64_t entries = commands_int(pg, "SELECT count(*) FROM ledger_entries", 0, NULL, &ok);
    int64_t lines = commands_int(pg, "SELECT count(*) FROM ledger_lines", 0, NULL, &ok);
    int64_t sum =
        commands_int(pg, "SELECT coalesce(sum(amount_fen), 0) FROM ledger_lines", 0, NULL, &ok);
    int64_t unbalanced = commands_int(pg,
                                      "SELECT count(*) FROM (SELECT entry_id FROM ledger_lines "
                                      "GROUP BY entry_id HAVING sum(amount_fen) <> 0) x",
                                      0, NULL, &ok);
    int64_t bare = commands_int(pg,
                                "SELECT count(*) FROM ledger_entries e WHERE NOT EXISTS "
                                "(SELECT 1 FROM ledger_lines l WHERE l.entry_id = e.entry_id)",
                                0, NULL, &ok);
    int64_t accounts = commands_int(pg, "SELECT count(*) FROM ledger_accounts", 0, NULL, &ok);
    int64_t off = commands_int(pg,
                               "SELECT count(*) FROM ledger_accounts a LEFT JOIN (SELECT "
                               "account_id, sum(amount_fen) s FROM ledger_lines GROUP BY 1) l "
                               "USING (account_id) WHERE a.balance_fen <> coalesce(l.s, 0)",
                               0, NULL, &ok);
    if (!ok)
        return -1;
    recon_line(rc, sum == 0, "journal", "%lld entries, %lld lines, sum %lld fen",
               (long long)entries, (long long)lines, (long long)sum);
    recon_line(rc, unbalanced == 0 && bare == 0, "entries", "%lld unbalanced, %lld without lines",
               (long long)unbalanced, (long long)bare);
    recon_line(rc, off == 0, "balances", "%lld accounts, %lld differ from the sum of their lines",
               (long long)accounts, (long long)off);
    /* fund shares: each wallet's money per fund (its lines by fund) sums to
     * its balance, and no fund of a wallet that is not overdrawn is below
     * zero (credit-normal: a positive sum); a wallet overdrawn in total (a
     * swipe posted after its card was carried over) is the carry-overs'
     * line's business */
    int64_t fw[4] = {0};
    char err[512];
    PGresult *r = pg_query(pg,
                           "WITH f AS (SELECT l.account_id, coalesce(l.fund, '') AS fund, "
                           "sum(l.amount_fen) AS s FROM ledger_lines l JOIN ledger_accounts a ON "
                           "a.account_id = l.account_id AND a.kind = 'wallet' GROUP BY 1, 2), w AS "
                           "(SELECT account_id, sum(s) AS s, count(*) FILTER (WHERE s > 0) AS neg "
                           "FROM f GROUP BY 1) SELECT count(*), (SELECT count(*) FROM f WHERE s <> "
                           "0), count(*) FILTER (WHERE w.s <> a.balance_fen), coalesce(sum(neg) "
                           "FILTER (WHERE w.s <= 0), 0) FROM w JOIN ledger_accounts a USING "
                           "(account_id)",
                           0, NULL, err, sizeof(err));
    if (r == NULL || PQntuples(r) != 1) {
        fprintf(stderr, "ledger: %s\n", r ? "no rows" : err);
        ok = false;
    }
    for (int k = 0; ok && k < 4; k++)
        fw[k] = strtoll(PQgetvalue(r, 0, k), NULL, 10);
    PQclear(r);
    if (!ok)
        return -1;
    recon_line(rc, fw[2] == 0 && fw[3] == 0, "fund shares",
               "%lld wallets, %lld balances per fund, %lld wallets whose funds do not sum to "
               "their balance, %lld funds below zero in a wallet that is not",
               (long long)fw[0], (long long)fw[1], (long long)fw[2], (long long)fw[3]);
    return 0;
}

/* Every offset the ledger passed is one entry or one rejection. */
static int recon_offsets(recon *rc, PGconn *pg, const char *group)
{
    char err[512];
    const char *p[] = {group};
    PGresult *r = pg_query(
        pg,
        "SELECT o.topic, o.partition, o.next_offset, "
        "(SELECT count(*) FROM ledger_entries e WHERE e.src_topic = o.topic AND e.src_partition "
        "= o.partition AND e.src_offset < o.next_offset), "
        "(SELECT count(*) FROM ledger_rejections j WHERE j.src_topic = o.topic AND "
        "j.src_partition = o.partition AND j.src_offset < o.next_offset), "
        "least((SELECT min(src_offset) FROM ledger_entries e WHERE e.src_topic = o.topic AND "
        "e.src_partition = o.partition), (SELECT min(src_offset) FROM ledger_rejections j WHERE "
        "j.src_topic = o.topic AND j.src_partition = o.partition), (SELECT min(src_offset) FROM "
        "ledger_card_moves m WHERE m.src_topic = o.topic AND m.src_partition = o.partition)), "
        "(SELECT count(*) FROM ledger_card_moves m WHERE m.src_topic = o.topic AND "
        "m.src_partition = o.partition AND m.src_offset < o.next_offset) "
        "FROM consumer_offsets o WHERE o.consumer_group = $1 ORDER BY 1, 2",
        1, p, err, sizeof(err));
    if (r == NULL) {
        fprintf(stderr, "ledger: %s\n", err);
        return -1;
    }
    int64_t tot_e = 0, tot_j = 0, tot_m = 0, bad = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        int64_t next = strtoll(PQgetvalue(r, i, 2), NULL, 10);
        int64_t ne = strtoll(PQgetvalue(r, i, 3), NULL, 10);
        int64_t nj = strtoll(PQgetvalue(r, i, 4), NULL, 10);
        int64_t nm = strtoll(PQgetvalue(r, i, 6), NULL, 10);
        int64_t base = PQgetisnull(r, i, 5) ? next : strtoll(PQgetvalue(r, i, 5), NULL, 10);
        tot_e += ne;
        tot_j += nj;
        tot_m += nm;
        if (ne + nm + nj != next - base) {
            bad++;
            recon_detail(rc,
                         "%s[%s]: offsets %lld..%lld hold %lld entries + %lld carry-overs + %lld "
                         "rejections",
                         PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), (long long)base,
                         (long long)next - 1, (long long)ne, (long long)nm, (long long)nj);
        }
    }
    recon_line(rc, bad == 0, "offsets",
               "%d partitions: every offset passed is one entry, carry-over or rejection (%lld + "
               "%lld + %lld)",
               PQntuples(r), (long long)tot_e, (long long)tot_m, (long long)tot_j);
    PQclear(r);
    bool ok = true;
    int64_t outbox = commands_int(pg, "SELECT count(*) FROM ledger_outbox", 0, NULL, &ok);
    if (!ok)
        return -1;
    recon_line(rc, outbox == 0, "relay", "%lld entries whose posting or Redis effect is pending",
               (long long)outbox);
    /* a replaced card's wallets are moved on in the batch that touches them */
    int64_t moved = commands_int(pg, "SELECT count(*) FROM ledger_card_moves", 0, NULL, &ok);
    int64_t left = commands_int(pg,
                                "SELECT count(*) FROM ledger_card_moves m JOIN ledger_accounts a "
                                "ON a.kind = 'wallet' AND a.card_no = m.from_card_no WHERE "
                                "a.balance_fen <> 0",
                                0, NULL, &ok);
    if (!ok)
        return -1;
    recon_line(rc, left == 0, "carry-overs",
               "%lld replaced cards, %lld of their wallets not at zero", (long long)moved,
               (long long)left);
    return 0;
}

static int64_t recon_redis_int(redisReply *r)
{
    return r && r->type == REDIS_REPLY_STRING ? strtoll(r->str, NULL, 10) : 0;
}

/* Compares one card's Redis wallets and holds with the projection. */
static int recon_card(recon *rc, commands_ctx *x, proj_card *c, int64_t *wallets, int64_t *pending,
                      int64_t *stale, int64_t *orphan)
{
    char key[KEYS_MAX];
    keys_wallet(key, sizeof(key), c->card_no);
    redisReply *w = redisCommand(x->rc, "HGETALL %s", key);
    keys_holds(key, sizeof(key), c->card_no);
    redisReply *h = redisCommand(x->rc, "HGETALL %s", key);
    if (w == NULL || h == NULL || w->type != REDIS_REPLY_ARRAY || h->type != REDIS_REPLY_ARRAY) {
        fprintf(stderr, "ledger: redis: %s\n", x->rc->errstr);
        freeReplyObject(w);
        freeReplyObject(h);
        return -1;
    }
    /* wallets Redis has that the ledger does not know expect 0 */
    for (size_t i = 0; i + 1 < w->elements; i += 2) {
        bool known = false;
        for (int k = 0; k < c->nwallets && !known; k++)
            known = strcmp(c->wallets[k].name, w->element[i]->str) == 0;
        int64_t have = recon_redis_int(w->element[i + 1]);
        if (!known && have != 0) {
            rc->differences++;
            recon_detail(rc, "card %s wallet %s: Redis %lld fen, the ledger has no such wallet",
                         c->card_no, w->element[i]->str, (long long)have);
        }
    }
    for (int k = 0; k < c->nwallets; k++) {
        (*wallets)++;
        int64_t have = 0;
        for (size_t i = 0; i + 1 < w->elements; i += 2)
            if (strcmp(w->element[i]->str, c->wallets[k].name) == 0)
                have = recon_redis_int(w->element[i + 1]);
        int64_t want = projection_expected(&c->wallets[k]);
        if (have != want) {
            rc->differences++;
            recon_detail(rc,
                         "card %s wallet %s: Redis %lld fen, expected %lld (ledger %lld, pending "
                         "%lld, uncredited %lld): difference %lld fen",
                         c->card_no, c->wallets[k].name, (long long)have, (long long)want,
                         (long long)c->wallets[k].ledger_fen, (long long)c->wallets[k].pending_fen,
                         (long long)c->wallets[k].uncredited_fen, (long long)(have - want));
        }
    }
    for (size_t i = 0; i + 1 < h->elements; i += 2) {
        const char *ev = h->element[i]->str;
        bool expected = false;
        for (int k = 0; k < c->nholds && !expected; k++)
            expected = strcmp(c->holds[k].event_id, ev) == 0;
        if (expected) {
            (*pending)++;
            continue;
        }
        const char *p[] = {ev};
        bool ok = true;
        int64_t posted = commands_int(
            x->pg, "SELECT count(*) FROM ledger_entries WHERE event_id = $1", 1, p, &ok);
        if (!ok)
            return -1;
        if (posted) {
            (*stale)++;
        } else {
            (*orphan)++;
            rc->differences++;
            recon_detail(rc, "card %s: hold %s of %s fen has no event", c->card_no, ev,
                         h->element[i + 1]->str);
        }
    }
    for (int k = 0; k < c->nholds; k++) {
        bool there = false;
        for (size_t i = 0; i + 1 < h->elements && !there; i += 2)
            there = strcmp(h->element[i]->str, c->holds[k].event_id) == 0;
        if (!there) {
            rc->differences++;
            recon_detail(rc, "card %s: pending event %s has no hold in Redis", c->card_no,
                         c->holds[k].event_id);
        }
    }
    freeReplyObject(w);
    freeReplyObject(h);
    return 0;
}

/* Adds the cards Redis has wallets for and the projection does not. */
static int recon_scan_redis(commands_ctx *x, projection *pj, const char *prefix)
{
    char cursor[32] = "0";
    do {
        redisReply *r = redisCommand(x->rc, "SCAN %s MATCH wallet:* COUNT 1000", cursor);
        if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
            freeReplyObject(r);
            fprintf(stderr, "ledger: redis SCAN failed\n");
            return -1;
        }
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            const char *k = r->element[1]->element[i]->str;
            const char *card = strstr(k, "}:");
            if (card && strncmp(card + 2, prefix, strlen(prefix)) == 0)
                projection_card(pj, card + 2);
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    return 0;
}

static int recon_money(recon *rc, commands_ctx *x, const char *prefix)
{
    char err[512];
    projection pj;
    if (projection_build(&pj, x->pg, x->cfg->d.kafka_brokers, x->cfg->group, prefix, err,
                         sizeof(err)) < 0 ||
        projection_check_markers(&pj, x->rc, err, sizeof(err)) < 0) {
        pg_rollback(x->pg);
        projection_free(&pj);
        fprintf(stderr, "ledger: %s\n", err);
        return -1;
    }
    pg_rollback(x->pg); /* the read-only snapshot */
    if (recon_scan_redis(x, &pj, prefix) < 0) {
        projection_free(&pj);
        return -1;
    }
    int64_t wallets = 0, pending = 0, stale = 0, orphan = 0;
    int before = rc->differences;
    progress bar;
    progress_start(&bar, "reconcile cards", (int64_t)pj.n);
    for (size_t i = 0; i < pj.n; i++) {
        if (recon_card(rc, x, &pj.cards[i], &wallets, &pending, &stale, &orphan) < 0) {
            progress_done(&bar);
            projection_free(&pj);
            return -1;
        }
        progress_update(&bar, (int64_t)i + 1);
    }
    progress_done(&bar);
    int diffs = rc->differences - before;
    rc->differences = before;
    recon_line(rc, diffs == 0, "cards",
               "%zu cards, %lld wallets: Redis = ledger + pending - uncredited (%d differ)", pj.n,
               (long long)wallets, diffs);
    char holds[256];
    snprintf(holds, sizeof(holds),
             "%lld pending events, %lld holds pending, %lld stale (posted, being dropped), %lld "
             "without an event",
             (long long)pj.pending_events, (long long)pending, (long long)stale, (long long)orphan);
    recon_row(rc, orphan == 0, "holds", holds);
    projection_free(&pj);
    return 0;
}

static int cmd_reconcile(int argc, char **argv, commands_ctx *x)
{
    const char *prefix = "";
    int retries = 3;
    cli_format fmt = CLI_FORMAT_TEXT;
    static const struct option opts[] = {{"card-prefix", required_argument, NULL, 'p'},
                                         {"retries", required_argument, NULL, 'r'},
                                         {"format", required_argument, NULL, 'f'},
                                         {NULL, 0, NULL, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "p:r:", opts, NULL)) != -1) {
        if (o == 'p')
            prefix = optarg;
        else if (o == 'f') {
            char err[128];
            if (cli_format_parse(optarg, &fmt, err, sizeof(err)) < 0) {
                fprintf(stderr, "ledger reconcile: %s\n", err);
                return CLI_USAGE;
            }
        } else if (o == 'r') {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (optarg[0] < '0' || optarg[0] > '9' || *end != '\0' || v < 1 || v > 1000) {
                fprintf(stderr, "ledger reconcile: --retries \"%.32s\" is not 1..1000\n", optarg);
                return CLI_USAGE;
            }
            retries = (int)v;
        } else {
            return CLI_USAGE;
        }
    }
    if (commands_connect(x, true) < 0)
        return CLI_DEPENDENCY;
    recon rc = {.fmt = fmt};
    int attempt;
    for (attempt = 0;; attempt++) {
        rc.differences = 0;
        if (fmt == CLI_FORMAT_TEXT) {
            printf("reconcile (attempt %d)\n", attempt + 1);
        } else { /* the report of the last attempt only */
            recon_json_close(&rc);
            rc.checks_f = open_memstream(&rc.checks, &rc.checks_len);
            rc.details_f = open_memstream(&rc.details, &rc.details_len);
            if (rc.checks_f == NULL || rc.details_f == NULL) {
                fprintf(stderr, "ledger reconcile: out of memory\n");
                recon_json_close(&rc);
                return CLI_DEPENDENCY;
            }
        }
        if (recon_journal(&rc, x->pg) < 0 || recon_offsets(&rc, x->pg, x->cfg->group) < 0 ||
            recon_money(&rc, x, prefix) < 0) {
            recon_json_close(&rc);
            return CLI_DEPENDENCY;
        }
        if (rc.differences == 0 || attempt + 1 >= retries)
            break;
        /* events in flight move money between the places compared: a real
         * difference survives a second look */
        sleep(1);
    }
    if (fmt == CLI_FORMAT_TEXT) {
        printf("reconcile: %s\n", rc.differences ? "DIFFERENCES FOUND" : "OK");
    } else {
        fflush(rc.checks_f);
        fflush(rc.details_f);
        printf("{\"ok\":%s,\"differences\":%d,\"attempts\":%d,\"checks\":[%s],\"details\":[%s]}\n",
               rc.differences ? "false" : "true", rc.differences, attempt + 1, rc.checks,
               rc.details);
        recon_json_close(&rc);
    }
    return rc.differences ? CLI_REFUSED : CLI_OK;
}

/* ========================================================== rebuild-cache */

static void rebuild_day(int64_t ms, int tz_min, char *day, char *year)
{
    calendar_cap_keys(ms, tz_min, day, year);
}

static int rebuild_append(commands_ctx *x, int *queued, int argc, const char **argv)
{
    if (redisAppendCommandArgv(x->rc, argc, argv, NULL) != REDIS_OK)
        return -1;
    (*queued)++;
    return 0;
}

static int rebuild_drain(commands_ctx *x, int *queued)
{
    for (; *queued > 0; (*queued)--) {
        redisReply *r = NULL;
        if (redisGetReply(x->rc, (void **)&r) != REDIS_OK || r == NULL) {
            fprintf(stderr, "ledger: redis: %s\n", x->rc->errstr);
            return -1;
        }
        bool bad = r->type == REDIS_REPLY_ERROR;
        if (bad)
            fprintf(stderr, "ledger: redis: %s\n", r->str);
        freeReplyObject(r);
        if (bad)
            return -1;
    }
    return 0;
}

/* Wallets, holds and top-up markers of every card of the projection. */
static int rebuild_money(commands_ctx *x, projection *pj, int *queued)
{
    char wkey[KEYS_MAX], hkey[KEYS_MAX], num[32];
    progress bar;
    progress_start(&bar, "rebuild-cache cards", (int64_t)pj->n);
    for (size_t i = 0; i < pj->n; i++) {
        progress_update(&bar, (int64_t)i);
        proj_card *c = &pj->cards[i];
        keys_wallet(wkey, sizeof(wkey), c->card_no);
        keys_holds(hkey, sizeof(hkey), c->card_no);
        const char *multi[] = {"MULTI"};
        const char *del[] = {"DEL", wkey, hkey};
        if (rebuild_append(x, queued, 1, multi) < 0 || rebuild_append(x, queued, 3, del) < 0) {
            progress_done(&bar);
            return -1;
        }
        for (int k = 0; k < c->nwallets; k++) {
            snprintf(num, sizeof(num), "%lld",
                     (long long)(c->wallets[k].ledger_fen + c->wallets[k].pending_fen));
            const char *a[] = {"HSET", wkey, c->wallets[k].name, num};
            if (rebuild_append(x, queued, 4, a) < 0) {
                progress_done(&bar);
                return -1;
            }
        }
        for (int k = 0; k < c->nholds; k++) {
            snprintf(num, sizeof(num), "%lld", (long long)c->holds[k].fen);
            const char *a[] = {"HSET", hkey, c->holds[k].event_id, num};
            if (rebuild_append(x, queued, 4, a) < 0) {
                progress_done(&bar);
                return -1;
            }
        }
        for (int k = 0; k < c->nmarkers; k++) {
            snprintf(num, sizeof(num), "%lld", (long long)c->markers[k].fen);
            const char *a[] = {"SET", c->markers[k].key, num, "EX", "3456000"};
            if (rebuild_append(x, queued, 5, a) < 0) {
                progress_done(&bar);
                return -1;
            }
        }
        const char *exec[] = {"EXEC"};
        if (rebuild_append(x, queued, 1, exec) < 0) {
            progress_done(&bar);
            return -1;
        }
        if (*queued > 2000 && rebuild_drain(x, queued) < 0) {
            progress_done(&bar);
            return -1;
        }
    }
    progress_update(&bar, (int64_t)pj->n);
    progress_done(&bar);
    return rebuild_drain(x, queued);
}

/* Daily and annual cap counters: the year's swipes less their reversals,
 * from the journal and the pending events; a replaced card's count on the
 * card that replaced it. */
static int rebuild_caps(commands_ctx *x, projection *pj, const char *prefix, int *queued,
                        int64_t *ncaps)
{
    char today[9], year[5], tz[16], err[512];
    rebuild_day(event_now_ms(), (int)x->cfg->tz_offset_min, today, year);
    snprintf(tz, sizeof(tz), "%lld", (long long)x->cfg->tz_offset_min);
    const char *p[] = {prefix, tz, year};
    PGresult *r = pg_query(
        x->pg,
        "SELECT card_no, item_code, "
        "sum(amount_fen) FILTER (WHERE d = to_char(now() AT TIME ZONE 'UTC' + make_interval(mins "
        "=> $2::int), 'YYYYMMDD')), sum(amount_fen) FROM (SELECT coalesce(m.to_card_no, "
        "s.card_no) card_no, s.item_code, "
        "CASE WHEN s.kind = 'swipe' THEN s.amount_fen ELSE -s.amount_fen END amount_fen, "
        "to_char(to_timestamp(coalesce(o.occurred_at_ms, s.occurred_at_ms) / 1000.0) AT TIME ZONE "
        "'UTC' + make_interval(mins => $2::int), 'YYYYMMDD') d FROM ledger_entries s LEFT JOIN "
        "ledger_entries o ON s.kind = 'reversal' AND o.kind = 'swipe' AND o.swipe_id = s.swipe_id "
        "LEFT JOIN ledger_card_moves m ON m.from_card_no = s.card_no "
        "WHERE s.kind IN ('swipe', 'reversal') AND s.item_code IS NOT NULL) x WHERE "
        "starts_with(card_no, $1) AND left(d, 4) = $3 GROUP BY 1, 2",
        3, p, err, sizeof(err));
    if (r == NULL) {
        fprintf(stderr, "ledger: %s\n", err);
        return -1;
    }
    char ckey[KEYS_MAX], f1[96], f2[96], v1[48], v2[48];
    /* clear every card's counters first, then write them */
    for (size_t i = 0; i < pj->n; i++) {
        keys_caps(ckey, sizeof(ckey), pj->cards[i].card_no);
        const char *a[] = {"DEL", ckey};
        if (rebuild_append(x, queued, 2, a) < 0)
            goto fail;
    }
    for (int i = 0; i < PQntuples(r); i++) {
        const char *card = PQgetvalue(r, i, 0), *item = PQgetvalue(r, i, 1);
        int64_t d = strtoll(PQgetvalue(r, i, 2), NULL, 10);
        int64_t y = strtoll(PQgetvalue(r, i, 3), NULL, 10);
        proj_card *c = projection_card(pj, card);
        for (int k = 0; c && k < c->nholds; k++) {
            char hd[9], hy[5];
            rebuild_day(c->holds[k].at_ms, (int)x->cfg->tz_offset_min, hd, hy);
            if (strcmp(c->holds[k].item, item) != 0 || c->holds[k].fen > 0)
                continue;
            if (strcmp(hy, year) == 0)
                y -= c->holds[k].fen;
            if (strcmp(hd, today) == 0)
                d -= c->holds[k].fen;
        }
        keys_caps(ckey, sizeof(ckey), card);
        snprintf(f1, sizeof(f1), "d:%s", item);
        snprintf(f2, sizeof(f2), "y:%s", item);
        snprintf(v1, sizeof(v1), "%s|%lld", today, (long long)(d > 0 ? d : 0));
        snprintf(v2, sizeof(v2), "%s|%lld", year, (long long)(y > 0 ? y : 0));
        const char *a[] = {"HSET", ckey, f1, v1, f2, v2};
        if (rebuild_append(x, queued, 6, a) < 0)
            goto fail;
        (*ncaps)++;
        if (*queued > 2000 && rebuild_drain(x, queued) < 0)
            goto fail;
    }
    PQclear(r);
    return rebuild_drain(x, queued);
fail:
    PQclear(r);
    return -1;
}

/* The swipe records of the last 8 days, so reversals and ratings work. */
static int rebuild_swipes(commands_ctx *x, const char *prefix, int *queued, int64_t *nswipes)
{
    char since[24], err[512];
    snprintf(since, sizeof(since), "%lld", (long long)(event_now_ms() - SWIPE_RECORD_MS));
    const char *p[] = {prefix, since};
    PGresult *r = pg_query(
        x->pg,
        "SELECT s.swipe_id, s.card_no, coalesce(s.terminal_id, ''), s.provider_id, "
        "coalesce(s.item_code, ''), s.wallet, s.amount_fen, coalesce(s.fund_source, ''), "
        "s.occurred_at_ms, s.event_id, coalesce(s.person_id, ''), r.event_id FROM "
        "ledger_entries s LEFT JOIN ledger_entries r ON r.kind = 'reversal' AND r.swipe_id = "
        "s.swipe_id WHERE s.kind = 'swipe' AND s.swipe_id IS NOT NULL AND starts_with(s.card_no, "
        "$1) AND s.occurred_at_ms > $2::bigint",
        2, p, err, sizeof(err));
    if (r == NULL) {
        fprintf(stderr, "ledger: %s\n", err);
        return -1;
    }
    for (int i = 0; i < PQntuples(r); i++) {
        char skey[KEYS_MAX], day[9], year[5], expire[24];
        if (keys_swipe(skey, sizeof(skey), PQgetvalue(r, i, 0)) < 0)
            continue;
        int64_t at = strtoll(PQgetvalue(r, i, 8), NULL, 10);
        rebuild_day(at, (int)x->cfg->tz_offset_min, day, year);
        bool reversed = !PQgetisnull(r, i, 11);
        const char *a[] = {"HSET",
                           skey,
                           "card",
                           PQgetvalue(r, i, 1),
                           "terminal",
                           PQgetvalue(r, i, 2),
                           "provider",
                           PQgetvalue(r, i, 3),
                           "item",
                           PQgetvalue(r, i, 4),
                           "wallet",
                           PQgetvalue(r, i, 5),
                           "amount",
                           PQgetvalue(r, i, 6),
                           "fund",
                           PQgetvalue(r, i, 7),
                           "at",
                           PQgetvalue(r, i, 8),
                           "day",
                           day,
                           "year",
                           year,
                           "event",
                           PQgetvalue(r, i, 9),
                           "person",
                           PQgetvalue(r, i, 10),
                           "state",
                           reversed ? "reversed" : "approved",
                           "reversal_event",
                           reversed ? PQgetvalue(r, i, 11) : ""};
        snprintf(expire, sizeof(expire), "%lld", (long long)(at + SWIPE_RECORD_MS));
        const char *e[] = {"PEXPIREAT", skey, expire};
        if (rebuild_append(x, queued, reversed ? 30 : 28, a) < 0 ||
            rebuild_append(x, queued, 3, e) < 0) {
            PQclear(r);
            return -1;
        }
        (*nswipes)++;
        if (*queued > 2000 && rebuild_drain(x, queued) < 0) {
            PQclear(r);
            return -1;
        }
    }
    PQclear(r);
    return rebuild_drain(x, queued);
}

static int cmd_rebuild(int argc, char **argv, commands_ctx *x)
{
    const char *prefix = "";
    static const struct option opts[] = {{"card-prefix", required_argument, NULL, 'p'},
                                         {NULL, 0, NULL, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "p:", opts, NULL)) != -1) {
        if (o == 'p')
            prefix = optarg;
        else
            return CLI_USAGE;
    }
    if (commands_connect(x, true) < 0)
        return CLI_USAGE;
    char err[512];
    projection pj;
    int64_t t0 = event_now_ms(), ncaps = 0, nswipes = 0;
    int queued = 0;
    if (projection_build(&pj, x->pg, x->cfg->d.kafka_brokers, x->cfg->group, prefix, err,
                         sizeof(err)) < 0) {
        fprintf(stderr, "ledger: %s\n", err);
        projection_free(&pj);
        return CLI_DEPENDENCY;
    }
    /* caps and swipe records from the same snapshot, then the money */
    int rc = rebuild_caps(x, &pj, prefix, &queued, &ncaps) < 0 ||
                     rebuild_swipes(x, prefix, &queued, &nswipes) < 0 ||
                     rebuild_money(x, &pj, &queued) < 0
                 ? CLI_DEPENDENCY
                 : CLI_OK;
    pg_rollback(x->pg);
    int64_t wallets = 0;
    for (size_t i = 0; i < pj.n; i++)
        wallets += pj.cards[i].nwallets;
    if (rc == 0)
        printf("rebuild-cache: %zu cards, %lld wallets, %lld pending events held, %lld cap "
               "counters, %lld swipe records in %lld ms\n",
               pj.n, (long long)wallets, (long long)pj.pending_events, (long long)ncaps,
               (long long)nswipes, (long long)(event_now_ms() - t0));
    projection_free(&pj);
    return rc;
}

/* ================================================================ allocate */

static int cmd_allocate(int argc, char **argv, commands_ctx *x)
{
    const char *fund = NULL, *programme = NULL, *ref = NULL;
    int64_t amount = 0;
    int year = 0;
    static const struct option opts[] = {
        {"fund", required_argument, NULL, 'f'}, {"programme", required_argument, NULL, 'p'},
        {"year", required_argument, NULL, 'y'}, {"amount-fen", required_argument, NULL, 'a'},
        {"ref", required_argument, NULL, 'r'},  {NULL, 0, NULL, 0}};
    int o;
    char *end;
    while ((o = getopt_long(argc, argv, "f:p:y:a:r:", opts, NULL)) != -1) {
        switch (o) {
        case 'f':
            fund = optarg;
            break;
        case 'p':
            programme = optarg;
            break;
        case 'r':
            ref = optarg;
            break;
        case 'y':
            year = (int)strtol(optarg, &end, 10);
            break;
        case 'a':
            amount = strtoll(optarg, &end, 10);
            if (*end != '\0') {
                fprintf(stderr, "ledger allocate: --amount-fen %s is not a whole number of fen\n",
                        optarg);
                return CLI_USAGE;
            }
            break;
        default:
            return CLI_USAGE;
        }
    }
    if ((fund == NULL) == (programme == NULL) || ref == NULL || year < 2000 || year > 9999) {
        fprintf(stderr, "usage: ledger allocate --fund SOURCE | --programme NAME --year YYYY "
                        "--amount-fen N --ref ID\n");
        return CLI_USAGE;
    }
    store_item it;
    memset(&it, 0, sizeof(it));
    char event_id[96], period[8];
    snprintf(event_id, sizeof(event_id), "allocation-%.60s", ref);
    snprintf(period, sizeof(period), "%d", year);
    it.ok = true;
    it.e.kind = JOURNAL_ALLOCATION;
    it.e.event_id = event_id;
    it.e.fund_source = fund;
    it.e.programme = programme;
    it.e.period = period;
    it.e.year = year;
    it.e.amount_fen = amount;
    it.e.occurred_at_ms = event_now_ms();
    char err[512];
    if (journal_derive_lines(&it.e, err, sizeof(err)) < 0) {
        fprintf(stderr, "ledger allocate: %s\n", err);
        return CLI_REFUSED;
    }
    if (commands_connect(x, false) < 0)
        return CLI_DEPENDENCY;
    store st;
    store_init(&st, x->pg, x->cfg->group);
    int rc = 0;
    if (store_apply(&st, &it, 1, event_now_ms(), err, sizeof(err)) < 0 ||
        store_commit(&st, err, sizeof(err)) < 0) {
        fprintf(stderr, "ledger allocate: %s\n", err);
        rc = CLI_DEPENDENCY;
    } else if (!it.ok) {
        printf("allocate: %s (nothing changed)\n", it.reason);
    } else {
        /* publish the posting now; the daemon's outbox sweep would too */
        kafka_producer *kp = kafka_producer_new(x->cfg->d.kafka_brokers, "/onecard/ledger", NULL,
                                                10000, NULL, err, sizeof(err));
        if (kp) {
            relay rl;
            relay_init(&rl, kp, NULL, &st);
            const journal_entry *e = &it.e;
            relay_entries(&rl, &e, &it.entry_id, 1, it.entry_id);
            while (rl.inflight > 0)
                kafka_producer_poll(kp, 100);
            if (store_flush_done(&st, err, sizeof(err)) < 0)
                fprintf(stderr, "ledger allocate: outbox: %s\n", err);
            kafka_producer_free(kp, 5000);
        }
        printf("allocate: %s %lld fen into %s (entry %lld)\n", ref, (long long)amount,
               it.e.lines[1].account.name, (long long)it.entry_id);
    }
    store_cleanup(&st);
    return rc;
}

/* ================================================================ dispatch */

int commands_run(int argc, char **argv, const config_var *table, ledger_config *cfg)
{
    char err[512];
    if (config_load(table, err, sizeof(err)) < 0) {
        fprintf(stderr, "ledger: %s\n", err);
        return CLI_USAGE;
    }
    if (log_setup(cfg->d.service_name, "warn", err, sizeof(err)) < 0)
        fprintf(stderr, "ledger: %s\n", err);
    commands_ctx x = {cfg, NULL, NULL};
    int rc;
    if (strcmp(argv[0], "reconcile") == 0)
        rc = cmd_reconcile(argc, argv, &x);
    else if (strcmp(argv[0], "rebuild-cache") == 0)
        rc = cmd_rebuild(argc, argv, &x);
    else if (strcmp(argv[0], "allocate") == 0)
        rc = cmd_allocate(argc, argv, &x);
    else if (strcmp(argv[0], "report") == 0)
        rc = report_run(argc, argv, cfg);
    else if (strcmp(argv[0], "lapse") == 0)
        rc = lapse_cmd(argc, argv, cfg);
    else if (strcmp(argv[0], "return-credit") == 0)
        rc = lapse_return_cmd(argc, argv, cfg);
    else {
        fprintf(stderr,
                "ledger: unknown command \"%s\" (reconcile, rebuild-cache, allocate, report, "
                "lapse, return-credit)\n",
                argv[0]);
        rc = CLI_USAGE;
    }
    commands_close(&x);
    config_free(table);
    return rc;
}
