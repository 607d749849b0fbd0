/*
 * metrics: a Prometheus registry of counters, gauges and histograms,
 * rendered in the text exposition format on the admin port's /metrics.
 *
 * Series are registered once at start-up (registration is not thread-safe)
 * and then updated with relaxed atomics from any thread, so the Kafka
 * delivery thread and the event loop can both count. A family (one name)
 * may hold several series that differ by a constant label set.
 */
#ifndef ONECARD_METRICS_H
#define ONECARD_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;

typedef struct metric metric;

/* Register a series. labels is the inside of the braces, e.g.
 * "decision=\"approved\"", or NULL. The name must carry its unit
 * (_seconds, _bytes, _fen, _total). Returns the series; aborts on OOM or on
 * a name reused with another type (a programming error). Owned by the
 * registry until metrics_cleanup. */
metric *metrics_counter(const char *name, const char *help, const char *labels);
metric *metrics_gauge(const char *name, const char *help, const char *labels);
/* bounds: ascending upper bounds, +Inf is implied. */
metric *metrics_histogram(const char *name, const char *help, const char *labels,
                          const double *bounds, int nbounds);

void metrics_add(metric *m, int64_t v);
void metrics_set(metric *m, int64_t v);
void metrics_observe(metric *m, double v);
int64_t metrics_value(const metric *m);
/* Histogram quantile estimate from the buckets (upper bound of the bucket
 * holding the q-th observation); 0 when empty. For reports and tests. */
double metrics_quantile(const metric *m, double q);

/* Default latency buckets, 100 us .. 10 s. */
extern const double metrics_latency_bounds[];
extern const int metrics_latency_nbounds;

/* Appends the whole registry, plus process metrics, to out. */
void metrics_render(struct evbuffer *out);
void metrics_cleanup(void);

#endif
