/*
 * metrics: a Prometheus registry of counters, gauges and histograms,
 * rendered in the text exposition format on the admin port's /metrics.
 *
 * Series are usually registered at start-up and then updated with relaxed
 * atomics from any thread, so the Kafka delivery thread and the event loop
 * can both count. A family (one name) holds series that differ by their
 * label set. Registering a name and labels again returns the series
 * registered before, so a label whose values come from data (an item code,
 * a topic and partition, a reason class) is counted by registering its
 * series when first seen (registration takes a lock; keep it off paths
 * that run per message where a series can be looked up once). A family
 * holds at most 256 series; past that, new label sets share one series
 * labelled overflow="true".
 *
 * Naming (docs/metrics.md): onecard_<service>_... for a service's own
 * series (gateway, ledger, settlement, eligibility, rating), and
 * onecard_<library>_... (kafka, consumer, dlq, redis, process) for the
 * shared library's, whose service is the scrape's `service` label. Units
 * in the names (_seconds, _bytes, _fen, _messages, _total).
 */
#ifndef ONECARD_METRICS_H
#define ONECARD_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;

typedef struct metric metric;

/* Register a series, or find the one registered with the same name and
 * labels. labels is the inside of the braces, e.g. "decision=\"approved\"",
 * or NULL; values taken from data go through metrics_label_value. The name
 * must carry its unit (_seconds, _bytes, _fen, _total). Returns the series;
 * aborts on OOM or on a name reused with another type (a programming
 * error). Owned by the registry until metrics_cleanup. Any thread. */
metric *metrics_counter(const char *name, const char *help, const char *labels);
metric *metrics_gauge(const char *name, const char *help, const char *labels);
/* bounds: ascending upper bounds, +Inf is implied. */
metric *metrics_histogram(const char *name, const char *help, const char *labels,
                          const double *bounds, int nbounds);

/* Escapes text for use inside a label value's quotes (backslash, quote,
 * newline), truncated to fit out. */
void metrics_label_value(char *out, size_t outlen, const char *text);
/* A bounded label value for a free-text reason: its leading words (letters,
 * '_' and '-'), lower case, joined by '_', stopped at the first other
 * character, so "over budget: budget:p1:2026" is "over_budget" and
 * "unknown ce_type \"x\"" is "unknown_ce_type"; "other" when empty. */
void metrics_reason_class(char *out, size_t outlen, const char *reason);

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
