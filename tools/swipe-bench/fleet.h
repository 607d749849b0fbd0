/*
 * fleet: the terminals of the bench, as C keep-alive HTTP/1.1 connections
 * to the card-gateway on one libevent loop, each with one signed swipe in
 * flight at a time.
 *
 * Why its own little HTTP client: the gateway speaks plain HTTP/1.1 with
 * Content-Length, one request per connection at a time, and the bench must
 * add as little of its own cost to each request as it can. A bufferevent
 * per connection, the request written with one evbuffer_add_printf and the
 * response read just far enough to find the status, the length and the
 * decision keep the client well below the gateway's own cost per swipe.
 *
 * Connections are spread over the terminals: connection i signs as terminal
 * i mod T when there are at least as many connections as terminals, else
 * it takes turns among terminals i, i+C, i+2C, ... Cards are used in turn.
 *
 * Pacing (rate > 0) gives each connection its own schedule, R/C requests a
 * second, and measures latency from the time a request was due rather than
 * the time it was sent, so a stalled gateway shows up in the percentiles
 * instead of silently slowing the bench down (coordinated omission, as in
 * wrk2). Unpaced, each connection sends its next request as soon as the
 * last answer is in and latency runs from the send.
 *
 * A warm-up (connections, the gateway's first broker round trips, its
 * directory cache) can be run first: requests sent during it are counted
 * apart and dropped; a request belongs to the phase in which it was sent.
 *
 * Loop thread only; fleet_run blocks for the length of the run.
 */
#ifndef BENCH_FLEET_H
#define BENCH_FLEET_H

#include "histogram.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLEET_MAX_KINDS 32 /* distinct decline reasons / error kinds kept */
#define FLEET_KIND_MAX  48

typedef struct fleet_config {
    const char *host;
    int port;
    int terminals;
    uint64_t cards;
    int connections;
    double warmup_s;      /* load first, counted apart and dropped */
    double duration_s;    /* then load, measured */
    double rate;          /* requests per second in all; 0 = unpaced */
    int decline_permille; /* requests sent over the standard amount on purpose */
    double timeout_s;     /* a request without an answer by then is an error */
    bool progress;        /* a line on stderr every second */
} fleet_config;

typedef struct fleet_count {
    char name[FLEET_KIND_MAX];
    uint64_t n;
} fleet_count;

typedef struct fleet_stats {
    double elapsed_s;  /* end of the warm-up to the last answer */
    uint64_t requests; /* answered or failed */
    uint64_t approved, declined, errors;
    fleet_count reasons[FLEET_MAX_KINDS]; /* declines by reason */
    int nreasons;
    fleet_count kinds[FLEET_MAX_KINDS]; /* errors by HTTP status or failure */
    int nkinds;
    histogram latency_ns; /* every request that got an HTTP answer */
} fleet_stats;

/* Runs the fleet for cfg->warmup_s + cfg->duration_s, then waits for the answers still due
 * (cfg->timeout_s at most). stats must be zeroed by the caller; its
 * histogram is set up here and freed by fleet_stats_cleanup. Returns 0, or
 * -1 with the reason in err when the run could not start (bad address, out
 * of memory); failures of requests are counted, not returned. */
int fleet_run(const fleet_config *cfg, fleet_stats *stats, char *err, size_t errlen)
    __attribute__((warn_unused_result));

void fleet_stats_cleanup(fleet_stats *stats);

#endif
