/*
 * log: one JSON object per line on stderr.
 *
 * Every line carries ts, level, service and event; the rest are string
 * key/value pairs (request_id, swipe_id, card masked, ...) so an operator
 * can follow one swipe end to end with grep and jq. Debug lines cost a
 * comparison when debug is off: the macros test the level before calling.
 *
 * Thread safety: log_write and log_kv may be called from any thread; each
 * line is built in a local buffer and written with one write(2).
 */
#ifndef ONECARD_LOG_H
#define ONECARD_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

extern int log_min_level;

/* Set the service name and threshold. Returns 0, or -1 for an unknown level
 * name (debug, info, warn, error), with the reason in err. */
int log_setup(const char *service, const char *level, char *err, size_t errlen);

/* A line with a printf-formatted, JSON-escaped "msg". */
void log_write(int level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A line with string fields: key, value, key, value, ..., NULL. A NULL value
 * is written as JSON null. */
void log_kv(int level, const char *event, ...) __attribute__((sentinel));

#define log_debug(...)                                                                             \
    do {                                                                                           \
        if (log_min_level <= LOG_DEBUG)                                                            \
            log_write(LOG_DEBUG, __VA_ARGS__);                                                     \
    } while (0)
#define log_info(...)  log_write(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_write(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__)

/* Append s to out as a JSON string body (no quotes). Returns the number of
 * bytes written, stopping short rather than overflowing; out is always
 * NUL-terminated when outlen > 0. */
size_t log_json_escape(char *out, size_t outlen, const char *s);

#endif
