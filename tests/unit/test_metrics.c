/*
 * Unit tests of metrics: the text exposition format and the quantile
 * estimate that benchmarks print.
 */
#include "check.h"
#include "common/metrics.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    metric *a = metrics_counter("onecard_swipes_total", "Swipes.", "decision=\"approved\"");
    metric *d = metrics_counter("onecard_swipes_total", "Swipes.", "decision=\"declined\"");
    metric *g = metrics_gauge("onecard_consumer_lag_messages", "Lag.", NULL);
    const double bounds[] = {0.001, 0.01, 0.1};
    metric *h =
        metrics_histogram("onecard_http_request_duration_seconds", "Latency.", NULL, bounds, 3);
    metrics_add(a, 3);
    metrics_add(d, 1);
    metrics_set(g, 42);
    const double obs[] = {0.0005, 0.0005, 0.005, 0.05, 5};
    for (size_t i = 0; i < 5; i++)
        metrics_observe(h, obs[i]);

    struct evbuffer *b = evbuffer_new();
    metrics_render(b);
    size_t len = evbuffer_get_length(b);
    char *text = calloc(1, len + 1);
    evbuffer_remove(b, text, len);
    static const char *const want[] = {
        "# TYPE onecard_swipes_total counter\n",
        "onecard_swipes_total{decision=\"approved\"} 3\n",
        "onecard_swipes_total{decision=\"declined\"} 1\n",
        "onecard_consumer_lag_messages 42\n",
        "# TYPE onecard_http_request_duration_seconds histogram\n",
        "onecard_http_request_duration_seconds_bucket{le=\"0.001\"} 2\n",
        "onecard_http_request_duration_seconds_bucket{le=\"0.01\"} 3\n",
        "onecard_http_request_duration_seconds_bucket{le=\"0.1\"} 4\n",
        "onecard_http_request_duration_seconds_bucket{le=\"+Inf\"} 5\n",
        "onecard_http_request_duration_seconds_sum 5.056000\n",
        "onecard_http_request_duration_seconds_count 5\n",
        "# TYPE onecard_process_resident_memory_bytes gauge\n",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        CHECK(strstr(text, want[i]) != NULL, "missing line %s", want[i]);
    /* HELP/TYPE once per family, not per series */
    char *first = strstr(text, "# TYPE onecard_swipes_total");
    CHECK(first && strstr(first + 1, "# TYPE onecard_swipes_total") == NULL, "one TYPE line");

    CHECK(metrics_quantile(h, 0.4) == 0.001, "p40 %g", metrics_quantile(h, 0.4));
    CHECK(metrics_quantile(h, 0.6) == 0.01, "p60 %g", metrics_quantile(h, 0.6));
    CHECK(metrics_quantile(h, 0.8) == 0.1, "p80 %g", metrics_quantile(h, 0.8));
    CHECK(metrics_quantile(h, 1.0) > 0.1, "p100 beyond the last bound");
    free(text);
    evbuffer_free(b);
    metrics_cleanup();
    return CHECK_DONE();
}
