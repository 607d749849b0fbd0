/*
 * report: JSON and text renderings of fleet_stats. See report.h.
 */
#include "report.h"

#include <inttypes.h>

static double report_per_s(uint64_t n, double s)
{
    return s > 0 ? (double)n / s : 0.0;
}

static double report_ms(const histogram *h, double pct)
{
    return (double)histogram_percentile(h, pct) / 1e6;
}

/* {"name":n,...}; names are words and status codes, nothing to escape */
static void report_counts(FILE *out, const fleet_count *c, int n)
{
    fputc('{', out);
    for (int i = 0; i < n; i++)
        fprintf(out, "%s\"%s\":%" PRIu64, i ? "," : "", c[i].name, c[i].n);
    fputc('}', out);
}

void report_json(FILE *out, const fleet_config *cfg, const fleet_stats *st)
{
    const histogram *h = &st->latency_ns;
    fprintf(out,
            "{\"gateway\":\"%s:%d\",\"duration_s\":%.3f,\"connections\":%d,\"terminals\":%d,"
            "\"cards\":%" PRIu64 ",\"rate_target_per_s\":%.1f,\"decline_permille\":%d,"
            "\"requests\":%" PRIu64 ",\"requests_per_s\":%.1f,"
            "\"approved\":%" PRIu64 ",\"approved_per_s\":%.1f,"
            "\"declined\":%" PRIu64 ",\"declined_per_s\":%.1f,\"declines_by_reason\":",
            cfg->host, cfg->port, st->elapsed_s, cfg->connections, cfg->terminals, cfg->cards,
            cfg->rate, cfg->decline_permille, st->requests,
            report_per_s(st->requests, st->elapsed_s), st->approved,
            report_per_s(st->approved, st->elapsed_s), st->declined,
            report_per_s(st->declined, st->elapsed_s));
    report_counts(out, st->reasons, st->nreasons);
    fprintf(out, ",\"errors\":%" PRIu64 ",\"errors_by_status\":", st->errors);
    report_counts(out, st->kinds, st->nkinds);
    fprintf(out,
            ",\"latency_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p999\":%.3f,"
            "\"max\":%.3f,\"mean\":%.3f,\"samples\":%" PRIu64 "}}\n",
            report_ms(h, 50.0), report_ms(h, 90.0), report_ms(h, 99.0), report_ms(h, 99.9),
            (double)h->max / 1e6, histogram_mean(h) / 1e6, h->total);
}

void report_text(FILE *out, const fleet_config *cfg, const fleet_stats *st)
{
    const histogram *h = &st->latency_ns;
    fprintf(out, "gateway     %s:%d, %d connections, %d terminals, %" PRIu64 " cards\n", cfg->host,
            cfg->port, cfg->connections, cfg->terminals, cfg->cards);
    fprintf(out, "duration    %.3f s\n", st->elapsed_s);
    fprintf(out, "requests    %" PRIu64 " (%.1f/s)\n", st->requests,
            report_per_s(st->requests, st->elapsed_s));
    fprintf(out, "approved    %" PRIu64 " (%.1f/s)\n", st->approved,
            report_per_s(st->approved, st->elapsed_s));
    fprintf(out, "declined    %" PRIu64 " (%.1f/s)", st->declined,
            report_per_s(st->declined, st->elapsed_s));
    for (int i = 0; i < st->nreasons; i++)
        fprintf(out, "%s%s %" PRIu64, i ? ", " : "  ", st->reasons[i].name, st->reasons[i].n);
    fprintf(out, "\nerrors      %" PRIu64, st->errors);
    for (int i = 0; i < st->nkinds; i++)
        fprintf(out, "%s%s %" PRIu64, i ? ", " : "  ", st->kinds[i].name, st->kinds[i].n);
    fprintf(out, "\nlatency ms  p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f  mean %.3f\n",
            report_ms(h, 50.0), report_ms(h, 90.0), report_ms(h, 99.0), report_ms(h, 99.9),
            (double)h->max / 1e6, histogram_mean(h) / 1e6);
}
