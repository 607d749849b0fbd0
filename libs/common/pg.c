/*
 * pg: libpq helpers. See pg.h.
 */
#include "common/pg.h"
#include "common/event.h"
#include "common/log.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

PGconn *pg_connect(const char *dsn, int attempts, int delay_ms, const volatile bool *stop,
                   char *err, size_t errlen)
{
    for (int i = 0; attempts <= 0 || i < attempts; i++) {
        PGconn *conn = PQconnectdb(dsn);
        if (conn && PQstatus(conn) == CONNECTION_OK)
            return conn;
        snprintf(err, errlen, "postgresql: %s", conn ? PQerrorMessage(conn) : "out of memory");
        size_t n = strlen(err);
        while (n > 0 && (err[n - 1] == '\n' || err[n - 1] == ' '))
            err[--n] = '\0';
        PQfinish(conn);
        if (stop && *stop)
            break;
        if (attempts <= 0 || i + 1 < attempts) {
            log_warn("pg_connect_retry", "%s", err);
            usleep((useconds_t)delay_ms * 1000);
        }
    }
    return NULL;
}

static PGresult *pg_check(PGconn *conn, PGresult *r, char *err, size_t errlen)
{
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return r;
    const char *msg = r ? PQresultErrorMessage(r) : PQerrorMessage(conn);
    snprintf(err, errlen, "postgresql: %s", msg && *msg ? msg : "no result");
    size_t n = strlen(err);
    while (n > 0 && (err[n - 1] == '\n' || err[n - 1] == ' '))
        err[--n] = '\0';
    PQclear(r);
    return NULL;
}

PGresult *pg_query(PGconn *conn, const char *sql, int nparams, const char *const *params, char *err,
                   size_t errlen)
{
    PGresult *r = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
    return pg_check(conn, r, err, errlen);
}

int pg_exec(PGconn *conn, const char *sql, int nparams, const char *const *params, char *err,
            size_t errlen)
{
    PGresult *r = pg_query(conn, sql, nparams, params, err, errlen);
    if (r == NULL)
        return -1;
    PQclear(r);
    return 0;
}

int pg_prepare(PGconn *conn, const char *name, const char *sql, char *err, size_t errlen)
{
    PGresult *r = pg_check(conn, PQprepare(conn, name, sql, 0, NULL), err, errlen);
    if (r == NULL)
        return -1;
    PQclear(r);
    return 0;
}

PGresult *pg_exec_prepared(PGconn *conn, const char *name, int nparams, const char *const *params,
                           char *err, size_t errlen)
{
    return pg_check(conn, PQexecPrepared(conn, name, nparams, params, NULL, NULL, 0), err, errlen);
}

int pg_begin(PGconn *conn, char *err, size_t errlen)
{
    return pg_exec(conn, "BEGIN", 0, NULL, err, errlen);
}

int pg_commit(PGconn *conn, char *err, size_t errlen)
{
    return pg_exec(conn, "COMMIT", 0, NULL, err, errlen);
}

void pg_rollback(PGconn *conn)
{
    PQclear(PQexec(conn, "ROLLBACK"));
}

/* An idle connection has nothing to read but an asynchronous notice, a
 * parameter status or the server's goodbye (an error, then the end of the
 * stream): consume what is there, a few times, until the socket is quiet
 * or the connection turns out closed. */
static void pg_idle_check(PGconn *conn)
{
    for (int i = 0; i < 4 && PQstatus(conn) == CONNECTION_OK &&
                    PQtransactionStatus(conn) == PQTRANS_IDLE && !PQisBusy(conn);
         i++) {
        struct pollfd p = {.fd = PQsocket(conn), .events = POLLIN};
        if (p.fd < 0 || poll(&p, 1, 0) <= 0)
            return;
        if (!PQconsumeInput(conn))
            return; /* the end of the stream: CONNECTION_BAD now */
        PGnotify *n;
        while ((n = PQnotifies(conn)) != NULL)
            PQfreemem(n);
    }
}

bool pg_alive(PGconn *conn)
{
    pg_idle_check(conn);
    if (PQstatus(conn) == CONNECTION_OK)
        return true;
    PQreset(conn);
    return PQstatus(conn) == CONNECTION_OK;
}

int pg_offsets_load(PGconn *conn, const char *group, rd_kafka_topic_partition_list_t *parts,
                    char *err, size_t errlen)
{
    for (int i = 0; i < parts->cnt; i++) {
        char part[16];
        snprintf(part, sizeof(part), "%d", (int)parts->elems[i].partition);
        const char *p[] = {group, parts->elems[i].topic, part};
        PGresult *r = pg_query(conn,
                               "SELECT next_offset FROM consumer_offsets WHERE consumer_group = $1 "
                               "AND topic = $2 AND partition = $3",
                               3, p, err, errlen);
        if (r == NULL)
            return -1;
        parts->elems[i].offset =
            PQntuples(r) == 1 ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : RD_KAFKA_OFFSET_BEGINNING;
        PQclear(r);
    }
    return 0;
}

/* ---------------------------------------------------------- array params */

static void pg_array_put(pg_array *a, const char *s, size_t n)
{
    if (a->oom)
        return;
    if (a->len + n + 2 > a->cap) {
        size_t cap = a->cap ? a->cap : 256;
        while (a->len + n + 2 > cap)
            cap *= 2;
        char *b = realloc(a->buf, cap);
        if (b == NULL) {
            a->oom = true;
            return;
        }
        a->buf = b;
        a->cap = cap;
    }
    memcpy(a->buf + a->len, s, n);
    a->len += n;
    a->buf[a->len] = '\0';
}

void pg_array_reset(pg_array *a)
{
    a->len = 0;
    a->n = 0;
    a->oom = false;
    pg_array_put(a, "{", 1);
}

void pg_array_add(pg_array *a, const char *v)
{
    if (a->len == 0)
        pg_array_reset(a);
    if (a->n++ > 0)
        pg_array_put(a, ",", 1);
    if (v == NULL) {
        pg_array_put(a, "NULL", 4);
        return;
    }
    pg_array_put(a, "\"", 1);
    for (const char *p = v; *p; p++) {
        if (*p == '"' || *p == '\\')
            pg_array_put(a, "\\", 1);
        pg_array_put(a, p, 1);
    }
    pg_array_put(a, "\"", 1);
}

void pg_array_add_int(pg_array *a, int64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof(num), "%lld", (long long)v);
    if (a->len == 0)
        pg_array_reset(a);
    if (a->n++ > 0)
        pg_array_put(a, ",", 1);
    pg_array_put(a, num, (size_t)n);
}

const char *pg_array_text(pg_array *a)
{
    if (a->len == 0)
        pg_array_reset(a);
    pg_array_put(a, "}", 1);
    if (a->oom)
        return NULL;
    a->len--; /* the closing brace is rewritten on the next call */
    return a->buf;
}

void pg_array_free(pg_array *a)
{
    free(a->buf);
    memset(a, 0, sizeof(*a));
}

PGresult *pg_query_arrays(PGconn *conn, const char *sql, pg_array *arrs, const int *idx, int n,
                          char *err, size_t errlen)
{
    const char *p[PG_ARRAYS_MAX];
    if (n > PG_ARRAYS_MAX) {
        snprintf(err, errlen, "%d array parameters: at most %d", n, PG_ARRAYS_MAX);
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        p[i] = pg_array_text(&arrs[idx ? idx[i] : i]);
        if (p[i] == NULL) {
            snprintf(err, errlen, "out of memory building a batch");
            return NULL;
        }
    }
    int64_t t0 = log_min_level <= LOG_DEBUG ? event_now_ms() : 0;
    PGresult *r = pg_query(conn, sql, n, p, err, errlen);
    if (log_min_level <= LOG_DEBUG)
        log_debug("statement", "%lld ms: %.70s", (long long)(event_now_ms() - t0), sql);
    return r;
}

int pg_exec_arrays(PGconn *conn, const char *sql, pg_array *arrs, const int *idx, int n, char *err,
                   size_t errlen)
{
    PGresult *r = pg_query_arrays(conn, sql, arrs, idx, n, err, errlen);
    if (r == NULL)
        return -1;
    PQclear(r);
    return 0;
}
