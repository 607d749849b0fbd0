/*
 * onecard-gateway: the card gateway. Terminals post swipes, reversals,
 * ratings and balance inquiries (TERMINAL-API.md); each swipe is authorized
 * by one atomic Redis script and answered "approved" only after the broker
 * has acknowledged its event. Stateless: run as many as needed behind a
 * load balancer.
 *
 * Command line (common/cli.h): `onecard-gateway [serve]`, --help,
 * --version; it has no operator commands.
 *
 * Start-up order: configuration and the admin port, Redis and the Kafka
 * producer, the API (scripts, directory cache, metrics), then the terminal
 * port last, so nothing is accepted before the gateway can answer. The
 * first SIGTERM closes the terminal port and the idle keep-alive
 * connections, lets requests in flight finish (each answer then closes its
 * connection), and stops once none is left, or after ONECARD_DRAIN_MS.
 */
#include "api.h"
#include "dcache.h"
#include "http.h"
#include "inflight.h"
#include "pending.h"
#include "scripts.h"

#include "common/calendar.h"
#include "common/cli.h"
#include "common/daemon.h"
#include "common/deps.h"
#include "common/log.h"

#include <event2/event.h>

static struct {
    daemon_config d;
    char *http_addr;
    int64_t http_port, max_connections, request_timeout_s, idle_timeout_s, ack_timeout_ms;
    int64_t tz_offset_min, terminal_rate, terminal_burst, declines_per_s;
    int64_t pending_sweep_s, pending_age_s, dead_ms, pending_bound_ms;
    char *pin_pepper;
} cfg;

static const config_var config_table[] = {
    DAEMON_CONFIG_ROWS(&cfg.d, 9101, "card-gateway"),
    {"ONECARD_HTTP_ADDR", CONFIG_STR, &cfg.http_addr, "127.0.0.1", 0, 0, "terminal API address"},
    {"ONECARD_HTTP_PORT", CONFIG_INT, &cfg.http_port, "8080", 1, 65535, "terminal API port"},
    {"ONECARD_MAX_CONNECTIONS", CONFIG_INT, &cfg.max_connections, "20000", 1, 1000000,
     "open terminal connections at most"},
    {"ONECARD_REQUEST_TIMEOUT_S", CONFIG_INT, &cfg.request_timeout_s, "10", 1, 300,
     "seconds a request may take to arrive"},
    {"ONECARD_IDLE_TIMEOUT_S", CONFIG_INT, &cfg.idle_timeout_s, "120", 1, 3600,
     "seconds an idle keep-alive connection is kept"},
    {"ONECARD_ACK_TIMEOUT_MS", CONFIG_INT, &cfg.ack_timeout_ms, "2000", 100, 60000,
     "how long an approval waits for the broker before 503"},
    CALENDAR_CONFIG_ROW(&cfg.tz_offset_min),
    {"ONECARD_TERMINAL_RATE", CONFIG_INT, &cfg.terminal_rate, "50", 1, 1000000,
     "requests per second per terminal"},
    {"ONECARD_TERMINAL_BURST", CONFIG_INT, &cfg.terminal_burst, "100", 1, 1000000,
     "request burst per terminal"},
    {"ONECARD_DECLINES_PER_S", CONFIG_INT, &cfg.declines_per_s, "1000", 0, 1000000,
     "declines published to onecard.declines.v1 per second, at most"},
    {"ONECARD_GATEWAY_DEAD_MS", CONFIG_INT, &cfg.dead_ms, "3000", 1500, 60000,
     "a gateway without a heartbeat this long is dead; another finishes what it left in flight"},
    {"ONECARD_PENDING_BOUND_MS", CONFIG_INT, &cfg.pending_bound_ms, "10000", 1000, 3600000,
     "a request left in flight and made final later than this is counted as overdue"},
    {"ONECARD_PENDING_SWEEP_S", CONFIG_INT, &cfg.pending_sweep_s, "600", 0, 86400,
     "how often every swipe record is read for parts left pending (0: at start only)"},
    {"ONECARD_PENDING_AGE_S", CONFIG_INT, &cfg.pending_age_s, "30", 5, 86400,
     "that sweep finishes a part pending this long whose gateway is not alive"},
    {"ONECARD_PIN_PEPPER", CONFIG_SECRET, &cfg.pin_pepper, "onecard-local-pepper", 0, 0,
     "secret mixed into PIN proofs (set it in production)"},
    {NULL, CONFIG_STR, NULL, NULL, 0, 0, NULL},
};

static deps gateway_deps;
static struct event *drain_timer;
static struct event_base *gateway_base;

static bool gateway_ready(void *arg, char *why, size_t whylen)
{
    if (!deps_ready(&gateway_deps, why, whylen))
        return false;
    if (!dcache_catalogue_loaded()) {
        snprintf(why, whylen, "service catalogue not loaded from Redis yet");
        return false;
    }
    return true;
}

/* Done when every request is answered and every answer written. */
static void gateway_drain_check(evutil_socket_t fd, short what, void *arg)
{
    if (api_in_flight() == 0 && http_server_connections() == 0)
        daemon_stop();
}

static void gateway_drain(void *arg)
{
    http_server_drain();
    struct timeval tv = {0, 50000};
    drain_timer = event_new(gateway_base, -1, EV_PERSIST, gateway_drain_check, NULL);
    if (drain_timer == NULL || event_add(drain_timer, &tv) < 0)
        daemon_stop();
}

static const cli_program gateway_program = {
    "onecard-gateway", "刷卡网关 / the card gateway (terminal API)", true, NULL, config_table};

int main(int argc, char **argv)
{
    char err[512];

    /* 0. the command line: the daemon (no commands), help, or a usage error */
    int code = cli_main(&gateway_program, argc, argv);
    if (code != CLI_DAEMON)
        return code;

    /* 1. configuration, logging, signals, admin port */
    struct event_base *base =
        daemon_setup(config_table, &cfg.d, gateway_ready, NULL, gateway_drain, NULL);
    gateway_base = base;

    /* 2. Redis and the idempotent producer */
    if (deps_setup(&gateway_deps, base, &cfg.d, DEPS_KAFKA | DEPS_REDIS, (int)cfg.ack_timeout_ms,
                   err, sizeof(err)) < 0)
        daemon_die("%s", err);

    /* 3. the API: scripts, directory cache, metrics */
    scripts_setup();
    api_config acfg = {cfg.pin_pepper, cfg.tz_offset_min, cfg.terminal_rate, cfg.terminal_burst,
                       cfg.declines_per_s};
    if (api_setup(base, gateway_deps.redis, gateway_deps.producer, &acfg) < 0)
        daemon_die("cannot set up the API");

    /* 3b. our heartbeat, and what a stopped gateway left in flight */
    inflight_setup(gateway_deps.redis);
    pending_config pcfg = {cfg.dead_ms, 5, (int)cfg.pending_sweep_s, cfg.pending_age_s * 1000,
                           cfg.pending_bound_ms};
    if (pending_setup(base, gateway_deps.redis, &pcfg) < 0)
        daemon_die("cannot set up the pending sweep");

    /* 4. the terminal port, last; one descriptor a connection, plus our own */
    if (daemon_raise_nofile((long)cfg.max_connections + 256, err, sizeof(err)) >= 0 && err[0])
        log_warn("nofile_limited", "%s: fewer connections than ONECARD_MAX_CONNECTIONS", err);
    http_limits lim = {(int)cfg.max_connections, (int)cfg.request_timeout_s,
                       (int)cfg.idle_timeout_s};
    if (http_server_start(base, cfg.http_addr, (int)cfg.http_port, &lim, api_handle, NULL, err,
                          sizeof(err)) < 0)
        daemon_die("ONECARD_HTTP_PORT: %s", err);

    log_info("process_up", "terminal API on %s:%lld, admin on port %lld", cfg.http_addr,
             (long long)cfg.http_port, (long long)cfg.d.admin_port);
    daemon_run();

    /* cleanup, in reverse order */
    if (drain_timer)
        event_free(drain_timer);
    http_server_cleanup();
    pending_cleanup();
    api_cleanup();
    deps_cleanup(&gateway_deps, (int)cfg.d.drain_ms);
    log_info("process_down", "stopped");
    daemon_cleanup(config_table);
    return 0;
}
