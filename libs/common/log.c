/*
 * log: JSON-lines logging. See log.h for the format and the rules.
 */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

int log_min_level = LOG_INFO;
static char log_service[64] = "onecard";

static const char *const log_level_names[] = {"debug", "info", "warn", "error"};

int log_setup(const char *service, const char *level, char *err, size_t errlen)
{
    snprintf(log_service, sizeof(log_service), "%s", service);
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(level, log_level_names[i]) == 0) {
            log_min_level = i;
            return 0;
        }
    }
    snprintf(err, errlen, "unknown log level \"%s\" (want debug, info, warn or error)", level);
    return -1;
}

size_t log_json_escape(char *out, size_t outlen, const char *s)
{
    size_t n = 0;
    if (outlen == 0)
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char tmp[8];
        const char *rep = NULL;
        size_t replen = 1;
        switch (*p) {
        case '"':
            rep = "\\\"";
            replen = 2;
            break;
        case '\\':
            rep = "\\\\";
            replen = 2;
            break;
        case '\n':
            rep = "\\n";
            replen = 2;
            break;
        case '\r':
            rep = "\\r";
            replen = 2;
            break;
        case '\t':
            rep = "\\t";
            replen = 2;
            break;
        default:
            if (*p < 0x20) {
                snprintf(tmp, sizeof(tmp), "\\u%04x", *p);
                rep = tmp;
                replen = 6;
            }
        }
        if (n + (rep ? replen : 1) >= outlen)
            break;
        if (rep) {
            memcpy(out + n, rep, replen);
            n += replen;
        } else {
            out[n++] = (char)*p;
        }
    }
    out[n] = '\0';
    return n;
}

/* Writes the common head of a line into buf; returns its length. */
static size_t log_head(char *buf, size_t buflen, int level, const char *event)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    char ev[128];
    log_json_escape(ev, sizeof(ev), event);
    int n = snprintf(buf, buflen,
                     "{\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"level\":\"%s\","
                     "\"service\":\"%s\",\"event\":\"%s\"",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000, log_level_names[level], log_service, ev);
    return n < 0 ? 0 : ((size_t)n >= buflen ? buflen - 1 : (size_t)n);
}

static void log_emit(char *buf, size_t n, size_t buflen)
{
    if (n + 2 >= buflen)
        n = buflen - 3;
    buf[n++] = '}';
    buf[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, buf, n);
    (void)w;
}

void log_write(int level, const char *event, const char *fmt, ...)
{
    if (level < log_min_level)
        return;
    char buf[4096], msg[2048], esc[3000];
    size_t n = log_head(buf, sizeof(buf), level, event);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_json_escape(esc, sizeof(esc), msg);
    int w = snprintf(buf + n, sizeof(buf) - n, ",\"msg\":\"%s\"", esc);
    if (w > 0)
        n += (size_t)w < sizeof(buf) - n ? (size_t)w : sizeof(buf) - n - 1;
    log_emit(buf, n, sizeof(buf));
}

void log_kv(int level, const char *event, ...)
{
    if (level < log_min_level)
        return;
    char buf[4096], k[128], v[1024];
    size_t n = log_head(buf, sizeof(buf), level, event);
    va_list ap;
    va_start(ap, event);
    for (;;) {
        const char *key = va_arg(ap, const char *);
        if (key == NULL)
            break;
        const char *val = va_arg(ap, const char *);
        log_json_escape(k, sizeof(k), key);
        int w;
        if (val) {
            log_json_escape(v, sizeof(v), val);
            w = snprintf(buf + n, sizeof(buf) - n, ",\"%s\":\"%s\"", k, v);
        } else {
            w = snprintf(buf + n, sizeof(buf) - n, ",\"%s\":null", k);
        }
        if (w < 0 || (size_t)w >= sizeof(buf) - n) {
            n = sizeof(buf) - 1;
            break;
        }
        n += (size_t)w;
    }
    va_end(ap);
    log_emit(buf, n, sizeof(buf));
}
