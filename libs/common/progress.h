/*
 * progress: one progress line on stderr for commands that can run long
 * (import, issue, rebuild-cache, close, reconcile): done/total, percent,
 * rate per second and the time left, redrawn at most ten times a second.
 *
 * Drawn only when stderr is a terminal: in a script, a test or a pipe the
 * command's output is exactly what it was. A total of 0 means unknown
 * (count and rate, no ETA). One bar at a time per process.
 */
#ifndef ONECARD_PROGRESS_H
#define ONECARD_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct progress {
    const char *label;
    int64_t total, done;
    int64_t t0_ms, drawn_ms;
    bool on; /* stderr is a terminal */
} progress;

/* True when a bar would be drawn (stderr is a terminal): a command counts
 * its total only then. */
bool progress_enabled(void);

/* Starts a bar of total units (0: unknown). */
void progress_start(progress *p, const char *label, int64_t total);

/* Sets the units done so far; redraws when 100 ms have passed. */
void progress_update(progress *p, int64_t done);

/* Draws the last state and ends the line. */
void progress_done(progress *p);

/* Formats the bar's text (without the carriage return) for done, total
 * and elapsed_ms into buf. Pure; exposed for tests. */
void progress_format(char *buf, size_t len, const char *label, int64_t done, int64_t total,
                     int64_t elapsed_ms);

#endif
