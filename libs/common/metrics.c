/*
 * metrics: the registry behind /metrics. See metrics.h.
 *
 * Families keep registration order so the output is stable. Histogram sums
 * are kept as integer micro-units so that updates stay lock-free; seconds
 * are reported with microsecond resolution, which is what a latency needs.
 */
#include "common/metrics.h"

#include <ctype.h>
#include <event2/buffer.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef enum { M_COUNTER, M_GAUGE, M_HISTOGRAM } metric_kind;

struct metric {
    struct metric *next; /* next series of the same family */
    char *labels;
    int64_t value;     /* counter, gauge; histogram: count */
    int64_t sum_micro; /* histogram sum x 1e6 */
    int nbounds;
    double *bounds;
    int64_t *buckets; /* nbounds + 1, not cumulative */
};

typedef struct metric_family {
    struct metric_family *next;
    char *name, *help;
    metric_kind kind;
    metric *series;
    int nseries;
    metric *overflow; /* the series past METRICS_SERIES_MAX share */
} metric_family;

/* A family's series at most: a label value taken from data (an item code,
 * a reason) cannot grow the registry without bound. */
#define METRICS_SERIES_MAX 256

static metric_family *families, *families_tail;
static time_t metrics_start_time;
/* Guards the lists (registration, render); values are atomics. */
static pthread_mutex_t metrics_lock = PTHREAD_MUTEX_INITIALIZER;

const double metrics_latency_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                         0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
const int metrics_latency_nbounds = sizeof(metrics_latency_bounds) / sizeof(double);

static void *metrics_xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n, sz);
    if (p == NULL)
        abort();
    return p;
}

static char *metrics_xstrdup(const char *s)
{
    char *p = strdup(s);
    if (p == NULL)
        abort();
    return p;
}

static metric *metrics_series_new(metric_family *f, const char *labels)
{
    metric *m = metrics_xcalloc(1, sizeof(*m));
    m->labels = labels ? metrics_xstrdup(labels) : NULL;
    metric **tail = &f->series;
    while (*tail)
        tail = &(*tail)->next;
    *tail = m;
    f->nseries++;
    return m;
}

static bool metrics_same_labels(const char *a, const char *b)
{
    return (a == NULL || b == NULL) ? a == b : strcmp(a, b) == 0;
}

/* Under metrics_lock. The existing series when name and labels were
 * registered before. */
static metric *metrics_register_locked(const char *name, const char *help, const char *labels,
                                       metric_kind kind, bool *created)
{
    *created = false;
    if (metrics_start_time == 0)
        metrics_start_time = time(NULL);
    metric_family *f;
    for (f = families; f; f = f->next)
        if (strcmp(f->name, name) == 0)
            break;
    if (f == NULL) {
        f = metrics_xcalloc(1, sizeof(*f));
        f->name = metrics_xstrdup(name);
        f->help = metrics_xstrdup(help);
        f->kind = kind;
        if (families_tail)
            families_tail->next = f;
        else
            families = f;
        families_tail = f;
    } else if (f->kind != kind) {
        fprintf(stderr, "metrics: %s registered twice with different types\n", name);
        abort();
    }
    for (metric *m = f->series; m; m = m->next)
        if (metrics_same_labels(m->labels, labels))
            return m;
    if (f->nseries >= METRICS_SERIES_MAX) {
        if (f->overflow == NULL) {
            f->overflow = metrics_series_new(f, "overflow=\"true\"");
            *created = true;
        }
        return f->overflow;
    }
    *created = true;
    return metrics_series_new(f, labels);
}

static metric *metrics_register(const char *name, const char *help, const char *labels,
                                metric_kind kind)
{
    bool created;
    pthread_mutex_lock(&metrics_lock);
    metric *m = metrics_register_locked(name, help, labels, kind, &created);
    pthread_mutex_unlock(&metrics_lock);
    return m;
}

metric *metrics_counter(const char *name, const char *help, const char *labels)
{
    return metrics_register(name, help, labels, M_COUNTER);
}

metric *metrics_gauge(const char *name, const char *help, const char *labels)
{
    return metrics_register(name, help, labels, M_GAUGE);
}

metric *metrics_histogram(const char *name, const char *help, const char *labels,
                          const double *bounds, int nbounds)
{
    bool created;
    pthread_mutex_lock(&metrics_lock);
    metric *m = metrics_register_locked(name, help, labels, M_HISTOGRAM, &created);
    if (created) {
        m->nbounds = nbounds;
        m->bounds = metrics_xcalloc((size_t)nbounds, sizeof(double));
        memcpy(m->bounds, bounds, (size_t)nbounds * sizeof(double));
        m->buckets = metrics_xcalloc((size_t)nbounds + 1, sizeof(int64_t));
    }
    pthread_mutex_unlock(&metrics_lock);
    return m;
}

void metrics_label_value(char *out, size_t outlen, const char *text)
{
    size_t o = 0;
    for (const char *p = text ? text : ""; *p && o + 3 < outlen; p++) {
        if (*p == '\\' || *p == '"') {
            out[o++] = '\\';
            out[o++] = *p;
        } else if (*p == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else {
            out[o++] = *p;
        }
    }
    if (outlen > 0)
        out[o] = '\0';
}

void metrics_reason_class(char *out, size_t outlen, const char *reason)
{
    size_t o = 0;
    bool space = false;
    for (const char *p = reason ? reason : ""; *p && o + 1 < outlen; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch == ' ') {
            space = o > 0;
            continue;
        }
        if (!isalpha(ch) && ch != '_' && ch != '-')
            break;
        if (space && o + 2 < outlen)
            out[o++] = '_';
        space = false;
        out[o++] = ch == '-' ? '_' : (char)tolower(ch);
    }
    if (o == 0 && outlen > 8)
        o = (size_t)snprintf(out, outlen, "other");
    if (outlen > 0)
        out[o] = '\0';
}

void metrics_add(metric *m, int64_t v)
{
    __atomic_fetch_add(&m->value, v, __ATOMIC_RELAXED);
}

void metrics_set(metric *m, int64_t v)
{
    __atomic_store_n(&m->value, v, __ATOMIC_RELAXED);
}

int64_t metrics_value(const metric *m)
{
    return __atomic_load_n(&m->value, __ATOMIC_RELAXED);
}

void metrics_observe(metric *m, double v)
{
    int i = 0;
    while (i < m->nbounds && v > m->bounds[i])
        i++;
    __atomic_fetch_add(&m->buckets[i], 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&m->value, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&m->sum_micro, (int64_t)(v * 1e6), __ATOMIC_RELAXED);
}

double metrics_quantile(const metric *m, double q)
{
    int64_t total = metrics_value(m);
    if (total == 0)
        return 0;
    int64_t rank = (int64_t)(q * (double)total + 0.999999);
    int64_t seen = 0;
    for (int i = 0; i < m->nbounds; i++) {
        seen += __atomic_load_n(&m->buckets[i], __ATOMIC_RELAXED);
        if (seen >= rank)
            return m->bounds[i];
    }
    return m->nbounds ? m->bounds[m->nbounds - 1] * 2 : 0;
}

/* Writes name{labels[,extra]} into out. */
static void metrics_series_name(struct evbuffer *out, const char *name, const char *suffix,
                                const char *labels, const char *extra)
{
    evbuffer_add_printf(out, "%s%s", name, suffix);
    if (labels || extra) {
        evbuffer_add_printf(out, "{%s%s%s}", labels ? labels : "", labels && extra ? "," : "",
                            extra ? extra : "");
    }
}

static int64_t metrics_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if (f == NULL)
        return 0;
    if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
        rss = 0;
    fclose(f);
    return (int64_t)rss * sysconf(_SC_PAGESIZE);
}

void metrics_render(struct evbuffer *out)
{
    static const char *const kinds[] = {"counter", "gauge", "histogram"};
    pthread_mutex_lock(&metrics_lock);
    for (metric_family *f = families; f; f = f->next) {
        evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name,
                            kinds[f->kind]);
        for (metric *m = f->series; m; m = m->next) {
            if (f->kind != M_HISTOGRAM) {
                metrics_series_name(out, f->name, "", m->labels, NULL);
                evbuffer_add_printf(out, " %lld\n", (long long)metrics_value(m));
                continue;
            }
            int64_t cum = 0;
            char le[64];
            for (int i = 0; i <= m->nbounds; i++) {
                cum += __atomic_load_n(&m->buckets[i], __ATOMIC_RELAXED);
                if (i < m->nbounds)
                    snprintf(le, sizeof(le), "le=\"%g\"", m->bounds[i]);
                else
                    snprintf(le, sizeof(le), "le=\"+Inf\"");
                metrics_series_name(out, f->name, "_bucket", m->labels, le);
                evbuffer_add_printf(out, " %lld\n", (long long)cum);
            }
            int64_t sum = __atomic_load_n(&m->sum_micro, __ATOMIC_RELAXED);
            metrics_series_name(out, f->name, "_sum", m->labels, NULL);
            evbuffer_add_printf(out, " %lld.%06lld\n", (long long)(sum / 1000000),
                                (long long)(sum % 1000000 < 0 ? -(sum % 1000000) : sum % 1000000));
            metrics_series_name(out, f->name, "_count", m->labels, NULL);
            evbuffer_add_printf(out, " %lld\n", (long long)cum);
        }
    }
    pthread_mutex_unlock(&metrics_lock);
    evbuffer_add_printf(out,
                        "# HELP onecard_process_resident_memory_bytes Resident set size.\n"
                        "# TYPE onecard_process_resident_memory_bytes gauge\n"
                        "onecard_process_resident_memory_bytes %lld\n"
                        "# HELP onecard_process_start_time_seconds Start time, Unix seconds.\n"
                        "# TYPE onecard_process_start_time_seconds gauge\n"
                        "onecard_process_start_time_seconds %lld\n",
                        (long long)metrics_rss_bytes(), (long long)metrics_start_time);
}

void metrics_cleanup(void)
{
    pthread_mutex_lock(&metrics_lock);
    metric_family *f = families;
    while (f) {
        metric_family *fn = f->next;
        metric *m = f->series;
        while (m) {
            metric *mn = m->next;
            free(m->labels);
            free(m->bounds);
            free(m->buckets);
            free(m);
            m = mn;
        }
        free(f->name);
        free(f->help);
        free(f);
        f = fn;
    }
    families = families_tail = NULL;
    pthread_mutex_unlock(&metrics_lock);
}
