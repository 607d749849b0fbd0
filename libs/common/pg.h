/*
 * pg: PostgreSQL helpers over libpq, blocking, for the consumers and the
 * command-line tools (the gateway never touches PostgreSQL).
 *
 * Connect with retry, run statements with parameters (always through
 * PQexecParams/PQexecPrepared: never by pasting values into SQL), explicit
 * transactions, and the consumer offsets that a service keeps next to its
 * data so that effects and offsets commit together.
 */
#ifndef ONECARD_PG_H
#define ONECARD_PG_H

#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Tries up to attempts times, delay_ms apart (attempts <= 0: forever until
 * *stop becomes true, stop may be NULL). NULL with err on failure. */
PGconn *pg_connect(const char *dsn, int attempts, int delay_ms, const volatile bool *stop,
                   char *err, size_t errlen);

/* Runs sql with text parameters. Returns the result (PQclear it) when it
 * succeeded, NULL with err otherwise. */
PGresult *pg_query(PGconn *conn, const char *sql, int nparams, const char *const *params, char *err,
                   size_t errlen);

/* As pg_query, discarding the result. 0 / -1. */
int pg_exec(PGconn *conn, const char *sql, int nparams, const char *const *params, char *err,
            size_t errlen) __attribute__((warn_unused_result));

/* Prepares name once per connection. 0 / -1. */
int pg_prepare(PGconn *conn, const char *name, const char *sql, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Runs a prepared statement. Result or NULL with err. */
PGresult *pg_exec_prepared(PGconn *conn, const char *name, int nparams, const char *const *params,
                           char *err, size_t errlen);

int pg_begin(PGconn *conn, char *err, size_t errlen) __attribute__((warn_unused_result));
int pg_commit(PGconn *conn, char *err, size_t errlen) __attribute__((warn_unused_result));
/* Best effort; never fails the caller. */
void pg_rollback(PGconn *conn);

/* True when the connection is usable; otherwise tries one PQreset. An
 * idle connection the server closed (a restart, pg_terminate_backend)
 * still says CONNECTION_OK until it is used: when idle, what the socket
 * holds is read first (without blocking), so the server's goodbye is seen
 * here and not by the next query. */
bool pg_alive(PGconn *conn);

/* Sets each element's offset to the stored next offset of (group, topic,
 * partition), or RD_KAFKA_OFFSET_BEGINNING when none is stored. */
int pg_offsets_load(PGconn *conn, const char *group, rd_kafka_topic_partition_list_t *parts,
                    char *err, size_t errlen) __attribute__((warn_unused_result));

/* ------------------------------------------------------------ array params */

/* A PostgreSQL array literal built element by element, to pass a whole
 * batch as one parameter ($1::text[], $2::bigint[] ... then unnest): many
 * rows per statement without pasting values into SQL. Elements are quoted
 * and escaped, so any text is safe. */
typedef struct pg_array {
    char *buf;
    size_t len, cap;
    int n;
    bool oom;
} pg_array;

void pg_array_reset(pg_array *a);
void pg_array_add(pg_array *a, const char *v); /* NULL adds SQL NULL */
void pg_array_add_int(pg_array *a, int64_t v);
/* The literal ("{...}"), or NULL when memory ran out. Valid until the next
 * add or reset. */
const char *pg_array_text(pg_array *a);
void pg_array_free(pg_array *a);

/* Runs sql with n arrays as its parameters: $k is arrs[idx[k-1]] (or
 * arrs[k-1] when idx is NULL), n <= PG_ARRAYS_MAX. Logs the statement's
 * time at debug level. The result, or NULL with err (out of memory, or the
 * server's error). pg_exec_arrays: the same, for a statement without rows. */
#define PG_ARRAYS_MAX 32
PGresult *pg_query_arrays(PGconn *conn, const char *sql, pg_array *arrs, const int *idx, int n,
                          char *err, size_t errlen);
int pg_exec_arrays(PGconn *conn, const char *sql, pg_array *arrs, const int *idx, int n, char *err,
                   size_t errlen) __attribute__((warn_unused_result));

#endif
