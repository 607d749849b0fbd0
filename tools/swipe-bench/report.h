/*
 * report: the result of a run, as one JSON document (for scripts such as
 * tools/bench/gateway-bench) or as a few lines for a person.
 *
 * Counts are integers; rates and latencies (milliseconds, from the
 * histogram, so within 1/128 above the truth) are doubles.
 */
#ifndef BENCH_REPORT_H
#define BENCH_REPORT_H

#include "fleet.h"

#include <stdio.h>

void report_json(FILE *out, const fleet_config *cfg, const fleet_stats *st);
void report_text(FILE *out, const fleet_config *cfg, const fleet_stats *st);

#endif
