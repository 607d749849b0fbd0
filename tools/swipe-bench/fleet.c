/*
 * fleet: keep-alive HTTP/1.1 connections on one libevent loop, each with
 * one signed swipe in flight. See fleet.h for the why.
 *
 * A connection goes DOWN -> CONNECTING -> IDLE -> (WAITING ->) BUSY ->
 * IDLE ... ; a close by the gateway, an error or a timeout takes it back to
 * DOWN, and it reconnects at once (after a connect failure, after a short
 * back-off). Only a request in flight turns a failure into an error count:
 * a keep-alive connection that the gateway closes while idle is reopened
 * silently, like a terminal would.
 */
#include "fleet.h"
#include "fixtures.h"

#include "common/sign.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FLEET_BODY_MAX     2048          /* of an answer, kept to find the decision */
#define FLEET_LINE_MAX     16384         /* an answer's header line, at most */
#define FLEET_BACKOFF_NS   100000000ull  /* after a failed connect */
#define FLEET_CONNECT_WAIT 2000000000ull /* start even if some connections are not up */
#define FLEET_HIGHEST_NS   60000000000ull
#define FLEET_AMOUNT_FEN   100
#define FLEET_PATH         "/v1/swipes"

/* ================================================================ types */

typedef enum {
    CONN_DOWN,       /* no socket; the timer reconnects */
    CONN_CONNECTING, /* connect in progress */
    CONN_IDLE,       /* connected, nothing to send yet */
    CONN_WAITING,    /* connected, the timer sends when the request is due */
    CONN_BUSY,       /* a request in flight */
} conn_state;

typedef enum {
    RESP_STATUS,
    RESP_HEADERS,
    RESP_BODY,
    RESP_CHUNK_SIZE,
    RESP_CHUNK_DATA,
    RESP_CHUNK_END,
    RESP_TRAILERS,
    RESP_UNTIL_CLOSE,
} resp_phase;

typedef struct fleet fleet;

typedef struct fleet_conn {
    fleet *f;
    int idx;
    conn_state state;
    struct bufferevent *bev;
    struct event *timer;   /* pacing, or reconnect back-off */
    struct event *timeout; /* of the request in flight */
    int term_next;         /* the terminal that signs the next request */
    uint64_t due_ns;       /* paced: when the next request is due */
    uint64_t start_ns;     /* what the latency of the request in flight runs from */
    fleet_stats *into;     /* where the request in flight is counted */
    /* the answer being read */
    resp_phase phase;
    int status;
    bool chunked, has_length, close_after;
    uint64_t remaining; /* body or chunk bytes still to come */
    char body[FLEET_BODY_MAX];
    size_t bodylen;
} fleet_conn;

struct fleet {
    const fleet_config *cfg;
    fleet_stats *st;  /* the measured run */
    fleet_stats warm; /* the warm-up, counted apart and thrown away */
    fleet_stats *cur; /* where requests sent now are counted */
    struct event_base *base;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char hostport[300];
    char run_id[9]; /* makes request ids and nonces unique across runs */
    char (*term_ids)[FIXTURES_ID_MAX];
    char (*term_secrets)[FIXTURES_SECRET_MAX];
    fleet_conn *conns;
    struct event *start_timer, *measure_timer, *stop_timer, *grace_timer, *tick_timer;
    uint64_t seq; /* requests sent */
    uint64_t t0_ns, measure_ns, interval_ns;
    int connected_before_start;
    int busy; /* connections with a request in flight */
    bool started, stopping;
    /* progress */
    uint64_t tick_requests, tick_approved;
    int ticks;
};

static void conn_connect(fleet_conn *c);
static void conn_next(fleet_conn *c);

/* ================================================================ helpers */

static uint64_t fleet_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct timeval fleet_tv(uint64_t ns)
{
    struct timeval tv = {(time_t)(ns / 1000000000ull), (suseconds_t)(ns % 1000000000ull / 1000)};
    return tv;
}

/* Adds one to the named count, keeping at most FLEET_MAX_KINDS names (the
 * rest go to "other"). */
static void fleet_count_add(fleet_count *arr, int *n, const char *name)
{
    for (int i = 0; i < *n; i++) {
        if (strcmp(arr[i].name, name) == 0) {
            arr[i].n++;
            return;
        }
    }
    if (*n == FLEET_MAX_KINDS - 1 && strcmp(name, "other") != 0) {
        fleet_count_add(arr, n, "other");
        return;
    }
    if (*n >= FLEET_MAX_KINDS)
        return;
    snprintf(arr[*n].name, sizeof(arr[*n].name), "%s", name);
    arr[*n].n = 1;
    (*n)++;
}

/* The string value of "key" in a flat JSON object, without unescaping
 * (decisions and reasons are plain words). Returns false when absent. */
static bool fleet_json_str(const char *body, const char *key, char *out, size_t outlen)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "\"%s\"", key);
    const char *p = strstr(body, pat);
    if (p == NULL)
        return false;
    p += strlen(pat);
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    if (*p++ != ':')
        return false;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    if (*p++ != '"')
        return false;
    size_t n = 0;
    while (p[n] && p[n] != '"' && p[n] != '\\')
        n++;
    if (p[n] != '"' || n + 1 > outlen)
        return false;
    memcpy(out, p, n);
    out[n] = '\0';
    return true;
}

/* ================================================================ accounting */

static void fleet_check_done(fleet *f)
{
    if (f->stopping && f->busy == 0)
        event_base_loopexit(f->base, NULL);
}

/* The request in flight is over, with an answer or without one. */
static void conn_end_request(fleet_conn *c)
{
    c->state = CONN_IDLE;
    c->f->busy--;
    c->into->requests++;
    evtimer_del(c->timeout);
}

static void conn_classify(fleet_conn *c)
{
    fleet_stats *st = c->into;
    char decision[32], reason[FLEET_KIND_MAX], kind[FLEET_KIND_MAX];
    c->body[c->bodylen] = '\0';
    if (c->status == 200 && fleet_json_str(c->body, "decision", decision, sizeof(decision))) {
        if (strcmp(decision, "approved") == 0) {
            st->approved++;
            return;
        }
        if (strcmp(decision, "declined") == 0) {
            st->declined++;
            if (!fleet_json_str(c->body, "reason", reason, sizeof(reason)))
                snprintf(reason, sizeof(reason), "unknown");
            fleet_count_add(st->reasons, &st->nreasons, reason);
            return;
        }
    }
    st->errors++;
    if (c->status == 200)
        snprintf(kind, sizeof(kind), "200_unrecognised");
    else
        snprintf(kind, sizeof(kind), "%d", c->status);
    fleet_count_add(st->kinds, &st->nkinds, kind);
}

/* ================================================================ connection */

/* Closes the socket; DOWN. Reconnects at once, after the back-off, or not
 * at all once the run is stopping. */
static void conn_drop(fleet_conn *c, bool backoff)
{
    fleet *f = c->f;
    if (c->bev) {
        bufferevent_free(c->bev);
        c->bev = NULL;
    }
    evtimer_del(c->timer);
    c->state = CONN_DOWN;
    if (f->stopping)
        return;
    if (backoff) {
        struct timeval tv = fleet_tv(FLEET_BACKOFF_NS);
        evtimer_add(c->timer, &tv);
    } else {
        conn_connect(c);
    }
}

/* The request in flight failed without an answer: one error of that kind. */
static void conn_fail(fleet_conn *c, const char *kind)
{
    fleet *f = c->f;
    if (c->state == CONN_BUSY) {
        conn_end_request(c);
        c->into->errors++;
        fleet_count_add(c->into->kinds, &c->into->nkinds, kind);
    }
    conn_drop(c, false);
    fleet_check_done(f);
}

static void conn_complete(fleet_conn *c)
{
    fleet *f = c->f;
    uint64_t now = fleet_now_ns();
    histogram_record(&c->into->latency_ns, now > c->start_ns ? now - c->start_ns : 0);
    conn_classify(c);
    conn_end_request(c);
    if (c->close_after)
        conn_drop(c, false);
    else
        conn_next(c);
    fleet_check_done(f);
}

static void conn_send(fleet_conn *c, uint64_t start_ns)
{
    fleet *f = c->f;
    const fleet_config *cfg = f->cfg;
    uint64_t seq = f->seq++;
    int t = c->term_next;
    if (cfg->connections < cfg->terminals) {
        c->term_next += cfg->connections;
        if (c->term_next >= cfg->terminals)
            c->term_next = c->idx;
    }
    /* Bresenham: exactly decline_permille of every 1000 requests, spread out */
    bool decline = ((seq + 1) * (uint64_t)cfg->decline_permille) / 1000 !=
                   (seq * (uint64_t)cfg->decline_permille) / 1000;
    char card[FIXTURES_CARD_LEN + 1], body[512], nonce[48], ts[24], sig[SIGN_HEX_LEN + 1];
    fixtures_card_no(card, seq % cfg->cards);
    int bodylen =
        snprintf(body, sizeof(body),
                 "{\"request_id\":\"sb-%s-%" PRIu64 "\",\"card_no\":\"%s\",\"pin\":\"%s\","
                 "\"item_code\":\"%s\",\"amount_fen\":%d}",
                 f->run_id, seq, card, FIXTURES_PIN, FIXTURES_ITEM,
                 decline ? FIXTURES_STANDARD_FEN + 1 : FLEET_AMOUNT_FEN);
    snprintf(nonce, sizeof(nonce), "n%s-%012" PRIx64, f->run_id, seq);
    snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
    sign_request(sig, f->term_secrets[t], "POST", FLEET_PATH, ts, nonce, body, (size_t)bodylen);
    evbuffer_add_printf(bufferevent_get_output(c->bev),
                        "POST " FLEET_PATH " HTTP/1.1\r\n"
                        "Host: %s\r\n"
                        "Content-Type: application/json\r\n"
                        "Content-Length: %d\r\n"
                        "X-Terminal-Id: %s\r\n"
                        "X-Timestamp: %s\r\n"
                        "X-Nonce: %s\r\n"
                        "X-Signature: %s\r\n"
                        "\r\n"
                        "%s",
                        f->hostport, bodylen, f->term_ids[t], ts, nonce, sig, body);

    c->state = CONN_BUSY;
    c->start_ns = start_ns;
    c->into = f->cur;
    c->phase = RESP_STATUS;
    c->status = 0;
    c->chunked = c->has_length = c->close_after = false;
    c->remaining = 0;
    c->bodylen = 0;
    f->busy++;
    struct timeval tv = fleet_tv((uint64_t)(cfg->timeout_s * 1e9));
    evtimer_add(c->timeout, &tv);
}

/* The connection is IDLE: send now, later (paced), or not at all (stopping). */
static void conn_next(fleet_conn *c)
{
    fleet *f = c->f;
    if (!f->started || f->stopping)
        return;
    uint64_t now = fleet_now_ns();
    if (f->interval_ns == 0) {
        conn_send(c, now);
        return;
    }
    if (c->due_ns <= now) {
        uint64_t due = c->due_ns;
        c->due_ns += f->interval_ns;
        conn_send(c, due);
        return;
    }
    c->state = CONN_WAITING;
    struct timeval tv = fleet_tv(c->due_ns - now);
    evtimer_add(c->timer, &tv);
}

/* Keeps up to FLEET_BODY_MAX - 1 bytes of the body; drains the rest. */
static void conn_take_body(fleet_conn *c, struct evbuffer *in, size_t n)
{
    size_t room = FLEET_BODY_MAX - 1 - c->bodylen;
    size_t keep = n < room ? n : room;
    if (keep > 0) {
        evbuffer_remove(in, c->body + c->bodylen, keep);
        c->bodylen += keep;
    }
    if (n > keep)
        evbuffer_drain(in, n - keep);
}

static void conn_header(fleet_conn *c, const char *line)
{
    const char *colon = strchr(line, ':');
    if (colon == NULL)
        return;
    size_t nlen = (size_t)(colon - line);
    const char *v = colon + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    if (nlen == 14 && strncasecmp(line, "content-length", 14) == 0) {
        char *end = NULL;
        unsigned long long n = strtoull(v, &end, 10);
        if (end != v) {
            c->has_length = true;
            c->remaining = n;
        }
    } else if (nlen == 17 && strncasecmp(line, "transfer-encoding", 17) == 0) {
        if (strcasestr(v, "chunked"))
            c->chunked = true;
    } else if (nlen == 10 && strncasecmp(line, "connection", 10) == 0) {
        if (strcasestr(v, "close"))
            c->close_after = true;
        else if (strcasestr(v, "keep-alive"))
            c->close_after = false;
    }
}

/* Reads as far as the bytes go. Returns 1 when the answer is complete, 0
 * when more bytes are needed, -1 on a malformed answer. */
static int conn_parse(fleet_conn *c, struct evbuffer *in)
{
    for (;;) {
        if (c->phase == RESP_BODY || c->phase == RESP_CHUNK_DATA) {
            size_t avail = evbuffer_get_length(in);
            size_t n = c->remaining < avail ? (size_t)c->remaining : avail;
            conn_take_body(c, in, n);
            c->remaining -= n;
            if (c->remaining > 0)
                return 0;
            if (c->phase == RESP_BODY)
                return 1;
            c->phase = RESP_CHUNK_END;
            continue;
        }
        if (c->phase == RESP_UNTIL_CLOSE) {
            conn_take_body(c, in, evbuffer_get_length(in));
            return 0;
        }
        size_t n = 0;
        char *line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF);
        if (line == NULL)
            return evbuffer_get_length(in) > FLEET_LINE_MAX ? -1 : 0;
        int rc = 0;
        switch (c->phase) {
        case RESP_STATUS: {
            int minor = 0, status = 0;
            if (sscanf(line, "HTTP/1.%d %3d", &minor, &status) != 2 || status < 100 ||
                status > 999) {
                rc = -1;
                break;
            }
            c->status = status;
            c->close_after = minor == 0; /* HTTP/1.0 closes unless told otherwise */
            c->phase = RESP_HEADERS;
            break;
        }
        case RESP_HEADERS:
            if (n > 0) {
                conn_header(c, line);
                break;
            }
            if (c->status < 200) { /* 1xx: the real answer follows */
                c->phase = RESP_STATUS;
                c->has_length = c->chunked = false;
                c->remaining = 0;
            } else if (c->chunked) {
                c->phase = RESP_CHUNK_SIZE;
            } else if (c->has_length) {
                c->phase = RESP_BODY;
            } else if (c->status == 204 || c->status == 304) {
                rc = 1;
            } else {
                c->phase = RESP_UNTIL_CLOSE;
                c->close_after = true;
            }
            break;
        case RESP_CHUNK_SIZE: {
            char *end = NULL;
            unsigned long long size = strtoull(line, &end, 16);
            if (end == line) {
                rc = -1;
                break;
            }
            c->remaining = size;
            c->phase = size == 0 ? RESP_TRAILERS : RESP_CHUNK_DATA;
            break;
        }
        case RESP_CHUNK_END:
            rc = n == 0 ? 0 : -1;
            c->phase = RESP_CHUNK_SIZE;
            break;
        case RESP_TRAILERS:
            if (n == 0)
                rc = 1;
            break;
        default:
            rc = -1;
            break;
        }
        free(line);
        if (rc != 0)
            return rc;
        if (c->phase == RESP_BODY && c->remaining == 0)
            return 1;
    }
}

static void conn_on_read(struct bufferevent *bev, void *arg)
{
    fleet_conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    if (c->state != CONN_BUSY) { /* bytes nobody asked for: start afresh */
        evbuffer_drain(in, evbuffer_get_length(in));
        conn_drop(c, false);
        return;
    }
    int rc = conn_parse(c, in);
    if (rc < 0)
        conn_fail(c, "protocol_error");
    else if (rc > 0)
        conn_complete(c);
}

static void conn_on_event(struct bufferevent *bev, short what, void *arg)
{
    fleet_conn *c = arg;
    fleet *f = c->f;
    if (what & BEV_EVENT_CONNECTED) {
        int one = 1;
        setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        c->state = CONN_IDLE;
        if (!f->started) {
            if (++f->connected_before_start == f->cfg->connections)
                event_active(f->start_timer, EV_TIMEOUT, 0);
            return;
        }
        conn_next(c);
        return;
    }
    if (c->state == CONN_CONNECTING) {
        /* counted while the run is on: a terminal that cannot reach the
         * gateway fails the swipe it wanted to make */
        if (f->started && !f->stopping) {
            f->cur->requests++;
            f->cur->errors++;
            fleet_count_add(f->cur->kinds, &f->cur->nkinds, "connect_failed");
        }
        conn_drop(c, true);
        return;
    }
    if (c->state == CONN_BUSY && c->phase == RESP_UNTIL_CLOSE && (what & BEV_EVENT_EOF)) {
        conn_complete(c);
        return;
    }
    conn_fail(c, (what & BEV_EVENT_EOF) ? "connection_closed" : "connection_error");
}

static void conn_connect(fleet_conn *c)
{
    fleet *f = c->f;
    c->bev = bufferevent_socket_new(f->base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (c->bev == NULL) {
        conn_drop(c, true);
        return;
    }
    bufferevent_setcb(c->bev, conn_on_read, NULL, conn_on_event, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    c->state = CONN_CONNECTING;
    if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&f->addr, (int)f->addrlen) < 0) {
        /* the event callback may or may not have run; make sure we are DOWN */
        if (c->state == CONN_CONNECTING)
            conn_on_event(c->bev, BEV_EVENT_ERROR, c);
    }
}

static void conn_on_timer(evutil_socket_t fd, short what, void *arg)
{
    fleet_conn *c = arg;
    if (c->state == CONN_DOWN) {
        conn_connect(c);
    } else if (c->state == CONN_WAITING) {
        c->state = CONN_IDLE;
        conn_next(c);
    }
}

static void conn_on_timeout(evutil_socket_t fd, short what, void *arg)
{
    conn_fail(arg, "timeout");
}

/* ================================================================ the run */

static void fleet_on_tick(evutil_socket_t fd, short what, void *arg)
{
    fleet *f = arg;
    fleet_stats *st = f->cur;
    f->ticks++;
    fprintf(stderr,
            "swipe-bench: %3d s%s %7" PRIu64 " req/s  %7" PRIu64 " approved/s  declined %" PRIu64
            "  errors %" PRIu64 "  p99 %.2f ms\n",
            f->ticks, st == &f->warm ? " (warm-up)" : "", st->requests - f->tick_requests,
            st->approved - f->tick_approved, st->declined, st->errors,
            (double)histogram_percentile(&st->latency_ns, 99.0) / 1e6);
    f->tick_requests = st->requests;
    f->tick_approved = st->approved;
}

/* The warm-up is over: count from here on. */
static void fleet_on_measure(evutil_socket_t fd, short what, void *arg)
{
    fleet *f = arg;
    if (f->cfg->progress) { /* the warm-up's last line, then ticks from here */
        fleet_on_tick(-1, 0, f);
        struct timeval sec = {1, 0};
        evtimer_add(f->tick_timer, &sec);
    }
    f->cur = f->st;
    f->measure_ns = fleet_now_ns();
    f->tick_requests = f->tick_approved = 0;
}

static void fleet_on_grace(evutil_socket_t fd, short what, void *arg)
{
    fleet *f = arg;
    /* every request has its own timeout, so this is only a safety net */
    for (int i = 0; i < f->cfg->connections; i++)
        if (f->conns[i].state == CONN_BUSY)
            conn_fail(&f->conns[i], "timeout");
    event_base_loopexit(f->base, NULL);
}

static void fleet_on_stop(evutil_socket_t fd, short what, void *arg)
{
    fleet *f = arg;
    f->stopping = true;
    for (int i = 0; i < f->cfg->connections; i++) {
        fleet_conn *c = &f->conns[i];
        evtimer_del(c->timer);
        if (c->state == CONN_WAITING)
            c->state = CONN_IDLE;
    }
    evtimer_del(f->tick_timer);
    struct timeval tv = fleet_tv((uint64_t)(f->cfg->timeout_s * 1e9) + 1000000000ull);
    evtimer_add(f->grace_timer, &tv);
    fleet_check_done(f);
}

static void fleet_on_start(evutil_socket_t fd, short what, void *arg)
{
    fleet *f = arg;
    if (f->started)
        return;
    f->started = true;
    evtimer_del(f->start_timer);
    f->t0_ns = f->measure_ns = fleet_now_ns();
    if (f->cfg->rate > 0)
        f->interval_ns = (uint64_t)((double)f->cfg->connections * 1e9 / f->cfg->rate);
    if (f->interval_ns == 0 && f->cfg->rate > 0)
        f->interval_ns = 1;
    uint64_t warmup_ns = (uint64_t)(f->cfg->warmup_s * 1e9);
    if (warmup_ns > 0) {
        struct timeval wtv = fleet_tv(warmup_ns);
        evtimer_add(f->measure_timer, &wtv);
    } else {
        f->cur = f->st;
    }
    struct timeval tv = fleet_tv(warmup_ns + (uint64_t)(f->cfg->duration_s * 1e9));
    evtimer_add(f->stop_timer, &tv);
    if (f->cfg->progress) {
        struct timeval sec = {1, 0};
        evtimer_add(f->tick_timer, &sec);
    }
    for (int i = 0; i < f->cfg->connections; i++) {
        fleet_conn *c = &f->conns[i];
        /* paced: connection i's requests are due at t0 + (i + k C) / R */
        c->due_ns = f->t0_ns + (uint64_t)((double)i * 1e9 / (f->cfg->rate > 0 ? f->cfg->rate : 1));
        if (c->state == CONN_IDLE)
            conn_next(c);
    }
}

static int fleet_resolve(fleet *f, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    char port[16];
    snprintf(port, sizeof(port), "%d", f->cfg->port);
    int rc = getaddrinfo(f->cfg->host, port, &hints, &res);
    if (rc != 0 || res == NULL) {
        snprintf(err, errlen, "gateway address %s:%d: %s", f->cfg->host, f->cfg->port,
                 gai_strerror(rc));
        return -1;
    }
    memcpy(&f->addr, res->ai_addr, res->ai_addrlen);
    f->addrlen = res->ai_addrlen;
    freeaddrinfo(res);
    snprintf(f->hostport, sizeof(f->hostport), "%s:%d", f->cfg->host, f->cfg->port);
    return 0;
}

static void fleet_cleanup(fleet *f)
{
    if (f->conns) {
        for (int i = 0; i < f->cfg->connections; i++) {
            fleet_conn *c = &f->conns[i];
            if (c->bev)
                bufferevent_free(c->bev);
            if (c->timer)
                event_free(c->timer);
            if (c->timeout)
                event_free(c->timeout);
        }
        free(f->conns);
    }
    struct event *evs[] = {f->start_timer, f->measure_timer, f->stop_timer, f->grace_timer,
                           f->tick_timer};
    for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
        if (evs[i])
            event_free(evs[i]);
    histogram_cleanup(&f->warm.latency_ns);
    free(f->term_ids);
    free(f->term_secrets);
    if (f->base)
        event_base_free(f->base);
}

int fleet_run(const fleet_config *cfg, fleet_stats *stats, char *err, size_t errlen)
{
    fleet f = {.cfg = cfg, .st = stats};
    f.cur = &f.warm;
    if (histogram_init(&stats->latency_ns, FLEET_HIGHEST_NS, err, errlen) < 0)
        return -1;
    if (histogram_init(&f.warm.latency_ns, FLEET_HIGHEST_NS, err, errlen) < 0 ||
        fleet_resolve(&f, err, errlen) < 0) {
        fleet_cleanup(&f);
        return -1;
    }
    uint32_t r = 0;
    if (getrandom(&r, sizeof(r), 0) != sizeof(r))
        r = (uint32_t)time(NULL) ^ (uint32_t)getpid();
    snprintf(f.run_id, sizeof(f.run_id), "%08x", r);

    f.base = event_base_new();
    f.conns = calloc((size_t)cfg->connections, sizeof(*f.conns));
    f.term_ids = calloc((size_t)cfg->terminals, sizeof(*f.term_ids));
    f.term_secrets = calloc((size_t)cfg->terminals, sizeof(*f.term_secrets));
    if (f.base == NULL || f.conns == NULL || f.term_ids == NULL || f.term_secrets == NULL) {
        snprintf(err, errlen, "out of memory for %d connections", cfg->connections);
        fleet_cleanup(&f);
        return -1;
    }
    for (int t = 0; t < cfg->terminals; t++) {
        fixtures_terminal_id(f.term_ids[t], t);
        fixtures_terminal_secret(f.term_secrets[t], f.term_ids[t]);
    }
    f.start_timer = evtimer_new(f.base, fleet_on_start, &f);
    f.measure_timer = evtimer_new(f.base, fleet_on_measure, &f);
    f.stop_timer = evtimer_new(f.base, fleet_on_stop, &f);
    f.grace_timer = evtimer_new(f.base, fleet_on_grace, &f);
    f.tick_timer = event_new(f.base, -1, EV_PERSIST, fleet_on_tick, &f);
    for (int i = 0; i < cfg->connections; i++) {
        fleet_conn *c = &f.conns[i];
        c->f = &f;
        c->idx = i;
        c->term_next = i % cfg->terminals;
        c->timer = evtimer_new(f.base, conn_on_timer, c);
        c->timeout = evtimer_new(f.base, conn_on_timeout, c);
        if (c->timer == NULL || c->timeout == NULL) {
            snprintf(err, errlen, "out of memory for timers");
            fleet_cleanup(&f);
            return -1;
        }
    }
    if (!f.start_timer || !f.measure_timer || !f.stop_timer || !f.grace_timer || !f.tick_timer) {
        snprintf(err, errlen, "out of memory for timers");
        fleet_cleanup(&f);
        return -1;
    }

    /* connect everything first, then start the clock: the first second
     * should not be the cost of a thousand handshakes */
    for (int i = 0; i < cfg->connections; i++)
        conn_connect(&f.conns[i]);
    struct timeval tv = fleet_tv(FLEET_CONNECT_WAIT);
    evtimer_add(f.start_timer, &tv);
    event_base_dispatch(f.base);

    uint64_t end = fleet_now_ns();
    stats->elapsed_s = f.started && f.cur == stats ? (double)(end - f.measure_ns) / 1e9 : 0.0;
    fleet_cleanup(&f);
    return 0;
}

void fleet_stats_cleanup(fleet_stats *stats)
{
    histogram_cleanup(&stats->latency_ns);
}
