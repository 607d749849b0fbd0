/*
 * onecard-swipe-bench: a fleet of terminals posting signed swipes to the
 * card-gateway over HTTP/1.1 keep-alive, and what came back: approvals and
 * declines per second, declines by reason, errors by status, latency
 * percentiles.
 *
 *   onecard-swipe-bench --setup --duration 30 --connections 64
 *   onecard-swipe-bench --json --rate 2000 --decline-ratio 50
 *   onecard-swipe-bench --print-keys 6222880000000000009
 *   onecard-swipe-bench --print-cards --cards 10000
 *
 * --setup loads the bench's item, provider, terminals and cards into Redis
 * through common/directory.h (see fixtures.h), without money: the cards
 * are funded through the ledger (tools/bench/bench-cards, from the lines
 * --print-cards writes), so a bench leaves the books balanced. --decline-ratio sends that
 * many requests per thousand over the item's standard amount, a decline
 * that changes nothing, rather than a wrong PIN that would lock cards.
 * --print-keys prints the Redis keys and arguments of the gateway's swipe
 * script for one card, for tools/bench/gateway-bench's redis-benchmark run.
 *
 * Start-up order: options (exit 2 when wrong), file limit, fixtures, the
 * run, the report.
 */
#include "fixtures.h"
#include "fleet.h"
#include "report.h"

#include "common/card.h"
#include "common/redis.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define BENCH_SETTLE_MS 1500 /* the gateway re-reads its directory every second */

typedef struct bench_options {
    char gw_host[256], redis_host[256];
    int gw_port, redis_port;
    const char *pepper;
    const char *print_keys;
    bool setup, json, print_cards;
    fleet_config fleet;
} bench_options;

static void bench_usage(FILE *out)
{
    fprintf(out,
            "usage: onecard-swipe-bench [options]\n"
            "  --gateway HOST:PORT     card-gateway terminal API (127.0.0.1:8080)\n"
            "  --redis HOST:PORT       Redis for --setup (127.0.0.1:16379)\n"
            "  --pepper S              PIN pepper, the gateway's ONECARD_PIN_PEPPER\n"
            "                          (onecard-local-pepper)\n"
            "  --terminals N           bench terminals TB00001.. (100)\n"
            "  --cards M               bench cards (10000)\n"
            "  --connections C         keep-alive connections, one request in flight each (64)\n"
            "  --duration S            seconds of load (10); 0 with --setup: only load\n"
            "  --warmup S              seconds of load before, not counted (0)\n"
            "  --rate R                requests/s in all, paced; 0 = as fast as possible (0)\n"
            "  --decline-ratio P       per mille of requests over the standard amount (0)\n"
            "  --timeout S             seconds before a request counts as an error (10)\n"
            "  --setup                 load the bench fixtures (no money) into Redis first\n"
            "  --json                  print only the JSON result\n"
            "  --print-keys CARD       print the swipe script's keys and arguments for a card\n"
            "                          number or a bench card index (0 = the first), exit\n"
            "  --print-cards           print \"CARD WALLET ITEM FUND\" for each of the --cards\n"
            "                          bench cards, what funding one names, exit\n");
}

static void bench_die(const char *what, const char *value)
{
    fprintf(stderr, "onecard-swipe-bench: bad %s '%s'\n", what, value);
    bench_usage(stderr);
    exit(2);
}

static int64_t bench_int(const char *what, const char *s, int64_t lo, int64_t hi)
{
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (s[0] == '\0' || *end != '\0' || v < lo || v > hi)
        bench_die(what, s);
    return v;
}

static double bench_double(const char *what, const char *s, double lo, double hi)
{
    char *end = NULL;
    double v = strtod(s, &end);
    if (s[0] == '\0' || *end != '\0' || !(v >= lo && v <= hi))
        bench_die(what, s);
    return v;
}

/* HOST:PORT (or [v6]:PORT) into host and *port. */
static void bench_hostport(const char *what, const char *s, char *host, size_t hostlen, int *port)
{
    const char *colon = strrchr(s, ':');
    if (colon == NULL || colon == s)
        bench_die(what, s);
    const char *h = s;
    size_t hl = (size_t)(colon - s);
    if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl == 0 || hl >= hostlen || strcspn(h, "\"\\ ") < hl)
        bench_die(what, s);
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (int)bench_int(what, colon + 1, 1, 65535);
}

static void bench_parse(int argc, char **argv, bench_options *o)
{
    enum {
        O_GATEWAY = 256,
        O_REDIS,
        O_PEPPER,
        O_TERMINALS,
        O_CARDS,
        O_CONNECTIONS,
        O_DURATION,
        O_RATE,
        O_DECLINE,
        O_WARMUP,
        O_TIMEOUT,
        O_SETUP,
        O_JSON,
        O_PRINT_KEYS,
        O_PRINT_CARDS,
        O_HELP
    };
    static const struct option longopts[] = {
        {"gateway", required_argument, NULL, O_GATEWAY},
        {"redis", required_argument, NULL, O_REDIS},
        {"pepper", required_argument, NULL, O_PEPPER},
        {"terminals", required_argument, NULL, O_TERMINALS},
        {"cards", required_argument, NULL, O_CARDS},
        {"connections", required_argument, NULL, O_CONNECTIONS},
        {"duration", required_argument, NULL, O_DURATION},
        {"rate", required_argument, NULL, O_RATE},
        {"decline-ratio", required_argument, NULL, O_DECLINE},
        {"warmup", required_argument, NULL, O_WARMUP},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"setup", no_argument, NULL, O_SETUP},
        {"json", no_argument, NULL, O_JSON},
        {"print-keys", required_argument, NULL, O_PRINT_KEYS},
        {"print-cards", no_argument, NULL, O_PRINT_CARDS},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof(*o));
    snprintf(o->gw_host, sizeof(o->gw_host), "127.0.0.1");
    snprintf(o->redis_host, sizeof(o->redis_host), "127.0.0.1");
    o->gw_port = 8080;
    o->redis_port = 16379;
    o->pepper = "onecard-local-pepper";
    o->fleet = (fleet_config){.terminals = 100,
                              .cards = 10000,
                              .connections = 64,
                              .duration_s = 10,
                              .rate = 0,
                              .decline_permille = 0,
                              .timeout_s = 10};
    int ch;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case O_GATEWAY:
            bench_hostport("--gateway", optarg, o->gw_host, sizeof(o->gw_host), &o->gw_port);
            break;
        case O_REDIS:
            bench_hostport("--redis", optarg, o->redis_host, sizeof(o->redis_host), &o->redis_port);
            break;
        case O_PEPPER:
            o->pepper = optarg;
            break;
        case O_TERMINALS:
            o->fleet.terminals = (int)bench_int("--terminals", optarg, 1, 99999);
            break;
        case O_CARDS:
            o->fleet.cards = (uint64_t)bench_int("--cards", optarg, 1, 999999999999LL);
            break;
        case O_CONNECTIONS:
            o->fleet.connections = (int)bench_int("--connections", optarg, 1, 100000);
            break;
        case O_DURATION:
            o->fleet.duration_s = bench_double("--duration", optarg, 0, 86400);
            break;
        case O_RATE:
            o->fleet.rate = bench_double("--rate", optarg, 0, 1e7);
            break;
        case O_DECLINE:
            o->fleet.decline_permille = (int)bench_int("--decline-ratio", optarg, 0, 1000);
            break;
        case O_WARMUP:
            o->fleet.warmup_s = bench_double("--warmup", optarg, 0, 3600);
            break;
        case O_TIMEOUT:
            o->fleet.timeout_s = bench_double("--timeout", optarg, 0.001, 3600);
            break;
        case O_SETUP:
            o->setup = true;
            break;
        case O_JSON:
            o->json = true;
            break;
        case O_PRINT_KEYS:
            o->print_keys = optarg;
            break;
        case O_PRINT_CARDS:
            o->print_cards = true;
            break;
        case 'h':
        case O_HELP:
            bench_usage(stdout);
            exit(0);
        default:
            bench_usage(stderr);
            exit(2);
        }
    }
    if (optind < argc)
        bench_die("argument", argv[optind]);
    if (o->fleet.duration_s <= 0 && !o->setup && !o->print_keys && !o->print_cards)
        bench_die("--duration (0 only with --setup)", "0");
    o->fleet.host = o->gw_host;
    o->fleet.port = o->gw_port;
    o->fleet.progress = !o->json;
}

/* One file per connection, plus a few: raise the soft limit if need be. */
static void bench_raise_nofile(int connections)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)connections + 64;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
        return;
    rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < want)
        fprintf(stderr, "onecard-swipe-bench: only %llu open files allowed for %d connections\n",
                (unsigned long long)rl.rlim_cur, connections);
}

static int bench_setup(const bench_options *o, char *err, size_t errlen)
{
    redisContext *ctx = redis_sync_connect(o->redis_host, o->redis_port, 5000, err, errlen);
    if (ctx == NULL)
        return -1;
    int rc = fixtures_load(ctx, o->pepper, o->fleet.terminals, o->fleet.cards,
                           o->json ? NULL : stderr, err, errlen);
    redisFree(ctx);
    return rc;
}

int main(int argc, char **argv)
{
    bench_options o;
    char err[512];
    bench_parse(argc, argv, &o);

    if (o.print_keys) {
        /* a card number (16-19 digits), or the index of a bench card */
        char card[FIXTURES_CARD_LEN + 1], term[FIXTURES_ID_MAX];
        size_t n = strlen(o.print_keys);
        if (n > 0 && n < 16) {
            fixtures_card_no(
                card, (uint64_t)bench_int("--print-keys index", o.print_keys, 0, 999999999999LL));
        } else if (card_no_valid(o.print_keys)) {
            snprintf(card, sizeof(card), "%s", o.print_keys);
        } else {
            bench_die("--print-keys card number", o.print_keys);
        }
        fixtures_terminal_id(term, 0);
        fixtures_print_keys(stdout, card, term, o.pepper);
        return 0;
    }

    if (o.print_cards) {
        fixtures_print_cards(stdout, o.fleet.cards);
        return fflush(stdout) == 0 ? 0 : 1;
    }

    bench_raise_nofile(o.fleet.connections);

    if (o.setup) {
        if (bench_setup(&o, err, sizeof(err)) < 0) {
            fprintf(stderr, "onecard-swipe-bench: setup: %s\n", err);
            return 1;
        }
        if (o.fleet.duration_s <= 0)
            return 0;
        struct timespec settle = {BENCH_SETTLE_MS / 1000, (BENCH_SETTLE_MS % 1000) * 1000000L};
        nanosleep(&settle, NULL);
    }

    fleet_stats st;
    memset(&st, 0, sizeof(st));
    if (fleet_run(&o.fleet, &st, err, sizeof(err)) < 0) {
        fprintf(stderr, "onecard-swipe-bench: %s\n", err);
        fleet_stats_cleanup(&st);
        return 1;
    }
    for (int i = 0; i < st.nkinds; i++)
        if (strcmp(st.kinds[i].name, "429") == 0)
            fprintf(stderr,
                    "onecard-swipe-bench: %" PRIu64 " answers 429: terminals over their request "
                    "budget (the gateway's ONECARD_TERMINAL_RATE); more --terminals spread the "
                    "load\n",
                    st.kinds[i].n);
    if (o.json)
        report_json(stdout, &o.fleet, &st);
    else
        report_text(stdout, &o.fleet, &st);
    fleet_stats_cleanup(&st);
    return 0;
}
