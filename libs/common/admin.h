/*
 * admin: the per-service admin HTTP port (libevent evhttp) serving
 * /metrics (Prometheus text), /healthz (the process is alive and its loop
 * turns) and /readyz (its dependencies are connected and it takes work).
 *
 * Runs on the service's event loop; call only from the loop's thread.
 */
#ifndef ONECARD_ADMIN_H
#define ONECARD_ADMIN_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct evhttp_request;

/* Returns true when the service is ready; otherwise writes why into why. */
typedef bool (*admin_ready_fn)(void *arg, char *why, size_t whylen);

/* Binds 127.0.0.1:port unless addr is given. Returns 0, or -1 with err (for
 * example "port 9101 in use"). */
int admin_setup(struct event_base *base, const char *addr, int port, admin_ready_fn ready,
                void *arg, char *err, size_t errlen) __attribute__((warn_unused_result));

/* Adds a GET/POST route of the service's own (e.g. an operator command). */
int admin_route(const char *path, void (*cb)(struct evhttp_request *, void *), void *arg);

void admin_cleanup(void);

#endif
