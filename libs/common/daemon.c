/*
 * daemon: start-up, signals and shutdown shared by every service.
 *
 * Signals are delivered through libevent (evsignal), so no work happens
 * inside a handler. The first SIGTERM or SIGINT starts a drain: the service
 * is told, /readyz turns 503, and the loop ends when the service says it is
 * done or after ONECARD_DRAIN_MS. A second signal ends the process at once.
 */
#include "common/daemon.h"
#include "common/log.h"
#include "common/metrics.h"

#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static struct event_base *daemon_base;
static struct event *daemon_sigterm, *daemon_sigint, *daemon_drain_timer;
static daemon_drain_fn daemon_drain_cb;
static void *daemon_drain_arg;
static bool daemon_is_draining;
static int64_t daemon_drain_ms;
static admin_ready_fn daemon_ready_cb;
static void *daemon_ready_arg;

void daemon_die(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_write(LOG_ERROR, "startup_failed", "%s", msg);
    fprintf(stderr, "fatal: %s\n", msg);
    exit(1);
}

bool daemon_draining(void)
{
    return daemon_is_draining;
}

void daemon_stop(void)
{
    if (daemon_base)
        event_base_loopexit(daemon_base, NULL);
}

static void daemon_drain_timeout(evutil_socket_t fd, short what, void *arg)
{
    log_warn("drain_timeout", "drain took longer than %lld ms; stopping",
             (long long)daemon_drain_ms);
    daemon_stop();
}

static void daemon_on_signal(evutil_socket_t sig, short what, void *arg)
{
    if (daemon_is_draining) {
        log_warn("shutdown_forced", "second signal %d: exiting now", (int)sig);
        exit(1);
    }
    daemon_is_draining = true;
    log_info("shutdown_draining", "signal %d: draining (send again to exit at once)", (int)sig);
    struct timeval tv = {daemon_drain_ms / 1000, (daemon_drain_ms % 1000) * 1000};
    daemon_drain_timer = evtimer_new(daemon_base, daemon_drain_timeout, NULL);
    if (daemon_drain_timer)
        evtimer_add(daemon_drain_timer, &tv);
    if (daemon_drain_cb)
        daemon_drain_cb(daemon_drain_arg);
    else
        daemon_stop();
}

/* /readyz is false while draining, whatever the service says. */
static bool daemon_ready(void *arg, char *why, size_t whylen)
{
    if (daemon_is_draining) {
        snprintf(why, whylen, "draining");
        return false;
    }
    return daemon_ready_cb ? daemon_ready_cb(daemon_ready_arg, why, whylen) : true;
}

struct event_base *daemon_setup(const config_var *table, const daemon_config *d,
                                admin_ready_fn ready, void *ready_arg, daemon_drain_fn drain,
                                void *drain_arg)
{
    char err[512];
    if (config_load(table, err, sizeof(err)) < 0) {
        fprintf(stderr, "fatal: configuration: %s\n", err);
        exit(2);
    }
    if (log_setup(d->service_name, d->log_level, err, sizeof(err)) < 0) {
        fprintf(stderr, "fatal: configuration: ONECARD_LOG_LEVEL: %s\n", err);
        exit(2);
    }
    if (kafka_security_use(&d->kafka_sec, err, sizeof(err)) < 0) {
        fprintf(stderr, "fatal: configuration: %s\n", err);
        exit(2);
    }
    signal(SIGPIPE, SIG_IGN);
    daemon_base = event_base_new();
    if (daemon_base == NULL)
        daemon_die("event_base_new failed");
    daemon_drain_cb = drain;
    daemon_drain_arg = drain_arg;
    daemon_drain_ms = d->drain_ms;
    daemon_ready_cb = ready;
    daemon_ready_arg = ready_arg;
    daemon_sigterm = evsignal_new(daemon_base, SIGTERM, daemon_on_signal, NULL);
    daemon_sigint = evsignal_new(daemon_base, SIGINT, daemon_on_signal, NULL);
    if (!daemon_sigterm || !daemon_sigint || evsignal_add(daemon_sigterm, NULL) < 0 ||
        evsignal_add(daemon_sigint, NULL) < 0)
        daemon_die("cannot install signal handlers");
    if (admin_setup(daemon_base, d->admin_addr, (int)d->admin_port, daemon_ready, NULL, err,
                    sizeof(err)) < 0)
        daemon_die("ONECARD_ADMIN_PORT: %s", err);
    return daemon_base;
}

int daemon_run(void)
{
    event_base_dispatch(daemon_base);
    return 0;
}

void daemon_cleanup(const config_var *table)
{
    admin_cleanup();
    if (daemon_drain_timer)
        event_free(daemon_drain_timer);
    if (daemon_sigterm)
        event_free(daemon_sigterm);
    if (daemon_sigint)
        event_free(daemon_sigint);
    if (daemon_base)
        event_base_free(daemon_base);
    daemon_base = NULL;
    daemon_drain_timer = daemon_sigterm = daemon_sigint = NULL;
    metrics_cleanup();
    config_free(table);
}

long daemon_raise_nofile(long want, char *err, size_t errlen)
{
    struct rlimit rl;
    err[0] = '\0';
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
        snprintf(err, errlen, "getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
        return -1;
    }
    if (rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur < want) {
        rlim_t cur = rl.rlim_cur;
        rl.rlim_cur =
            rl.rlim_max == RLIM_INFINITY || (long)rl.rlim_max >= want ? (rlim_t)want : rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            rl.rlim_cur = cur;
    }
    long now = rl.rlim_cur == RLIM_INFINITY ? want : (long)rl.rlim_cur;
    if (now < want)
        snprintf(err, errlen, "open files limited to %ld (hard limit), %ld wanted", now, want);
    return now;
}
