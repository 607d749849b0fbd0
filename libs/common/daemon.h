/*
 * daemon: what every onecard service does the same way at start-up and at
 * shutdown: the common configuration rows, logging set-up, the event loop,
 * signals (the first SIGTERM or SIGINT drains, a second exits at once), and
 * the admin port.
 *
 * A service's main() is a short script: daemon_setup(), its own subsystems'
 * *_setup() in order, daemon_run(), then the *_cleanup() in reverse order.
 */
#ifndef ONECARD_DAEMON_H
#define ONECARD_DAEMON_H

#include "common/admin.h"
#include "common/config.h"
#include "common/kafka.h"

#include <stdbool.h>
#include <stdint.h>

struct event_base;

/* Configuration every service has. */
typedef struct daemon_config {
    char *service_name;       /* ONECARD_SERVICE_NAME */
    char *deployment;         /* ONECARD_DEPLOYMENT: local or site */
    char *log_level;          /* ONECARD_LOG_LEVEL */
    char *kafka_brokers;      /* ONECARD_KAFKA_BROKERS */
    char *redis_host;         /* ONECARD_REDIS_HOST */
    int64_t redis_port;       /* ONECARD_REDIS_PORT */
    char *pg_dsn;             /* ONECARD_PG_DSN */
    char *admin_addr;         /* ONECARD_ADMIN_ADDR */
    int64_t admin_port;       /* ONECARD_ADMIN_PORT */
    int64_t drain_ms;         /* ONECARD_DRAIN_MS */
    kafka_security kafka_sec; /* ONECARD_KAFKA_SECURITY_PROTOCOL, _SASL_*, _CA */
} daemon_config;

/* The common rows of a service's config table; defaults fit the local stack.
 * Use inside the service's table: { DAEMON_CONFIG_ROWS(&cfg.d, 9101, "gateway"), ...,
 * {NULL} }. */
#define DAEMON_CONFIG_ROWS(d, admin_port_default, name)                                            \
    {"ONECARD_SERVICE_NAME", CONFIG_STR, &(d)->service_name, name, 0, 0, "service name in logs"},  \
        {"ONECARD_DEPLOYMENT",                                                                     \
         CONFIG_STR,                                                                               \
         &(d)->deployment,                                                                         \
         "local",                                                                                  \
         0,                                                                                        \
         0,                                                                                        \
         "local (laptop, tests) or site: a site refuses public-default secrets"},                  \
        {"ONECARD_LOG_LEVEL",         CONFIG_STR, &(d)->log_level, "info", 0, 0,                   \
         "debug, info, warn or error"},                                                            \
        {"ONECARD_KAFKA_BROKERS",                                                                  \
         CONFIG_STR,                                                                               \
         &(d)->kafka_brokers,                                                                      \
         "127.0.0.1:19092",                                                                        \
         0,                                                                                        \
         0,                                                                                        \
         "Kafka bootstrap servers, host:port[,host:port]"},                                        \
        KAFKA_SECURITY_ROWS(&(d)->kafka_sec),                                                      \
        {"ONECARD_REDIS_HOST", CONFIG_STR, &(d)->redis_host, "127.0.0.1", 0, 0, "Redis host"},     \
        {"ONECARD_REDIS_PORT", CONFIG_INT, &(d)->redis_port, "16379", 1, 65535, "Redis port"},     \
        {"ONECARD_PG_DSN",                                                                         \
         CONFIG_STR,                                                                               \
         &(d)->pg_dsn,                                                                             \
         "host=127.0.0.1 port=15432 dbname=onecard user=onecard",                                  \
         0,                                                                                        \
         0,                                                                                        \
         "PostgreSQL conninfo"},                                                                   \
        {"ONECARD_ADMIN_ADDR",  CONFIG_STR, &(d)->admin_addr, "127.0.0.1", 0, 0,                   \
         "admin listen address"},                                                                  \
        {"ONECARD_ADMIN_PORT",                                                                     \
         CONFIG_INT,                                                                               \
         &(d)->admin_port,                                                                         \
         #admin_port_default,                                                                      \
         1,                                                                                        \
         65535,                                                                                    \
         "admin port (/metrics, /healthz, /readyz)"},                                              \
    {                                                                                              \
        "ONECARD_DRAIN_MS", CONFIG_INT, &(d)->drain_ms, "5000", 0, 600000,                         \
            "how long the first SIGTERM may drain before exit"                                     \
    }

/* Called on the first SIGTERM/SIGINT, on the loop's thread. The service
 * stops taking new work and calls daemon_stop() when done; the loop stops
 * by itself after drain_ms in any case. */
typedef void (*daemon_drain_fn)(void *arg);

/* Loads the table (dies naming the variable on a bad value, or a public
 * default secret in a site deployment), sets up logging, the event base,
 * signals and the admin port. The command line was read before, by
 * cli_main (cli.h), which alone decides that the daemon starts. Returns the
 * event base, owned by the daemon module. Start-up only: dies on failure. */
struct event_base *daemon_setup(const config_var *table, const daemon_config *d,
                                admin_ready_fn ready, void *ready_arg, daemon_drain_fn drain,
                                void *drain_arg);

/* Runs the loop until drained or stopped. Returns 0. */
int daemon_run(void);

/* Ends the loop (after a drain, or on a fatal error at run time). */
void daemon_stop(void);

bool daemon_draining(void);

/* Raises the soft limit of open files towards want (descriptors the
 * process needs: connections plus its own), as far as the hard limit
 * allows, as Redis does at start-up. Returns the limit now in force; when
 * it is below want, err says so (the process runs, with fewer
 * connections than configured). Start-up only. */
long daemon_raise_nofile(long want, char *err, size_t errlen);

/* Exits the process with a message; start-up only. */
void daemon_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Frees the loop, the admin port, metrics and the config strings. */
void daemon_cleanup(const config_var *table);

#endif
