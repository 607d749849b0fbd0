/*
 * Unit tests of metrics: the text exposition format, the quantile
 * estimate that benchmarks print, series registered again (found, not
 * duplicated), the family's bound, and the label helpers.
 */
#include "check.h"
#include "common/metrics.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_reason_class(void)
{
    static const struct {
        const char *reason, *want;
    } rows[] = {
        {"over budget: budget:p1:2026 has 0 fen available", "over_budget"},
        {"invalid: payee \"bank\" is not a payee", "invalid"},
        {"unknown ce_type \"onecard.v1.Nope\"", "unknown_ce_type"},
        {"missing ce_type header", "missing_ce_type_header"},
        {"effective_date 2027-01-01 is more than a year ahead", "effective_date"},
        {"age-sweep: x", "age_sweep"},
        {"", "other"},
        {"12345", "other"},
        {NULL, "other"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char out[64];
        metrics_reason_class(out, sizeof(out), rows[i].reason);
        CHECK(strcmp(out, rows[i].want) == 0, "class of \"%s\": %s", rows[i].reason, out);
    }
    char esc[32];
    metrics_label_value(esc, sizeof(esc), "a\"b\\c\nd");
    CHECK(strcmp(esc, "a\\\"b\\\\c\\nd") == 0, "escaped: %s", esc);
}

/* Registering again finds the series; a family stops growing at its bound. */
static void test_series_lookup(void)
{
    metric *x = metrics_counter("onecard_test_items_total", "Items.", "item=\"A\"");
    CHECK(metrics_counter("onecard_test_items_total", "Items.", "item=\"A\"") == x, "same series");
    metric *last = NULL;
    for (int i = 0; i < 400; i++) {
        char l[32];
        snprintf(l, sizeof(l), "item=\"I%d\"", i);
        last = metrics_counter("onecard_test_items_total", "Items.", l);
    }
    char l[32];
    snprintf(l, sizeof(l), "item=\"I%d\"", 399);
    CHECK(metrics_counter("onecard_test_items_total", "Items.", l) == last, "overflow shared");
    CHECK(metrics_counter("onecard_test_items_total", "Items.", "item=\"new\"") == last,
          "past the bound: the overflow series");
}

int main(void)
{
    test_reason_class();
    test_series_lookup();
    metric *a = metrics_counter("onecard_gateway_swipes_total", "Swipes.", "decision=\"approved\"");
    metric *d = metrics_counter("onecard_gateway_swipes_total", "Swipes.", "decision=\"declined\"");
    metric *g = metrics_gauge("onecard_consumer_lag_messages", "Lag.", NULL);
    const double bounds[] = {0.001, 0.01, 0.1};
    metric *h = metrics_histogram("onecard_gateway_http_request_duration_seconds", "Latency.", NULL,
                                  bounds, 3);
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
        "# TYPE onecard_gateway_swipes_total counter\n",
        "onecard_gateway_swipes_total{decision=\"approved\"} 3\n",
        "onecard_gateway_swipes_total{decision=\"declined\"} 1\n",
        "onecard_consumer_lag_messages 42\n",
        "# TYPE onecard_gateway_http_request_duration_seconds histogram\n",
        "onecard_gateway_http_request_duration_seconds_bucket{le=\"0.001\"} 2\n",
        "onecard_gateway_http_request_duration_seconds_bucket{le=\"0.01\"} 3\n",
        "onecard_gateway_http_request_duration_seconds_bucket{le=\"0.1\"} 4\n",
        "onecard_gateway_http_request_duration_seconds_bucket{le=\"+Inf\"} 5\n",
        "onecard_gateway_http_request_duration_seconds_sum 5.056000\n",
        "onecard_gateway_http_request_duration_seconds_count 5\n",
        "# TYPE onecard_process_resident_memory_bytes gauge\n",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        CHECK(strstr(text, want[i]) != NULL, "missing line %s", want[i]);
    /* HELP/TYPE once per family, not per series */
    char *first = strstr(text, "# TYPE onecard_gateway_swipes_total");
    CHECK(first && strstr(first + 1, "# TYPE onecard_gateway_swipes_total") == NULL,
          "one TYPE line");
    CHECK(strstr(text, "onecard_test_items_total{overflow=\"true\"} 0\n") != NULL, "overflow");

    CHECK(metrics_quantile(h, 0.4) == 0.001, "p40 %g", metrics_quantile(h, 0.4));
    CHECK(metrics_quantile(h, 0.6) == 0.01, "p60 %g", metrics_quantile(h, 0.6));
    CHECK(metrics_quantile(h, 0.8) == 0.1, "p80 %g", metrics_quantile(h, 0.8));
    CHECK(metrics_quantile(h, 1.0) > 0.1, "p100 beyond the last bound");
    free(text);
    evbuffer_free(b);
    metrics_cleanup();
    return CHECK_DONE();
}
