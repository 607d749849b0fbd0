/*
 * deps: connections to the stack's components. See deps.h.
 */
#include "common/deps.h"
#include "common/log.h"

#include <event2/event.h>
#include <stdio.h>
#include <string.h>

static void deps_probe(evutil_socket_t fd, short what, void *arg)
{
    deps *d = arg;
    PGresult *r = PQexec(d->pg, "SELECT 1");
    bool ok = r && PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    if (!ok)
        ok = pg_alive(d->pg);
    if (ok != d->pg_ok)
        log_info(ok ? "pg_up" : "pg_down", "postgresql %s", ok ? "reachable" : "unreachable");
    d->pg_ok = ok;
}

int deps_setup(deps *d, struct event_base *base, const daemon_config *cfg, unsigned want,
               int delivery_timeout_ms, char *err, size_t errlen)
{
    memset(d, 0, sizeof(*d));
    d->want = want;
    if (want & DEPS_KAFKA) {
        char source[128];
        snprintf(source, sizeof(source), "/onecard/%s", cfg->service_name);
        d->producer = kafka_producer_new(cfg->kafka_brokers, source, base, delivery_timeout_ms,
                                         NULL, err, errlen);
        if (d->producer == NULL)
            return -1;
    }
    if (want & DEPS_REDIS) {
        d->redis = redis_client_new(base, cfg->redis_host, (int)cfg->redis_port);
        if (d->redis == NULL) {
            snprintf(err, errlen, "redis: out of memory");
            return -1;
        }
    }
    if (want & DEPS_PG) {
        d->pg = pg_connect(cfg->pg_dsn, 30, 1000, NULL, err, errlen);
        if (d->pg == NULL)
            return -1;
        d->pg_ok = true;
        d->probe_ev = event_new(base, -1, EV_PERSIST, deps_probe, d);
        struct timeval tv = {2, 0};
        if (d->probe_ev == NULL || event_add(d->probe_ev, &tv) < 0) {
            snprintf(err, errlen, "cannot start the postgresql probe");
            return -1;
        }
    }
    return 0;
}

bool deps_ready(void *arg, char *why, size_t whylen)
{
    deps *d = arg;
    if ((d->want & DEPS_KAFKA) && !kafka_producer_ready(d->producer)) {
        snprintf(why, whylen, "kafka: no broker up");
        return false;
    }
    if ((d->want & DEPS_REDIS) && !redis_client_connected(d->redis)) {
        snprintf(why, whylen, "redis: not connected");
        return false;
    }
    if ((d->want & DEPS_PG) && !d->pg_ok) {
        snprintf(why, whylen, "postgresql: not reachable");
        return false;
    }
    return true;
}

void deps_cleanup(deps *d, int flush_timeout_ms)
{
    if (d->probe_ev)
        event_free(d->probe_ev);
    /* The producer first: its last delivery reports may still run Redis
     * commands (the gateway releases the hold of a swipe the broker did not
     * take); those fail, with a NULL reply, when Redis is freed next. The
     * other way round they would use a freed client. */
    kafka_producer_free(d->producer, flush_timeout_ms);
    redis_client_free(d->redis);
    if (d->pg)
        PQfinish(d->pg);
    memset(d, 0, sizeof(*d));
}
