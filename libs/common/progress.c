/*
 * progress: the shared progress bar of long commands. See progress.h.
 */
#include "common/progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

static int64_t progress_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void progress_hms(char *buf, size_t len, int64_t s)
{
    if (s >= 3600)
        snprintf(buf, len, "%lld:%02lld:%02lld", (long long)(s / 3600), (long long)(s / 60 % 60),
                 (long long)(s % 60));
    else
        snprintf(buf, len, "%lld:%02lld", (long long)(s / 60), (long long)(s % 60));
}

void progress_format(char *buf, size_t len, const char *label, int64_t done, int64_t total,
                     int64_t elapsed_ms)
{
    double rate = elapsed_ms > 0 ? (double)done * 1000.0 / (double)elapsed_ms : 0.0;
    char el[32], eta[32];
    progress_hms(el, sizeof(el), elapsed_ms / 1000);
    if (total <= 0) {
        snprintf(buf, len, "%s %lld, %.0f/s, %s", label, (long long)done, rate, el);
        return;
    }
    enum { WIDTH = 24 };
    char bar[WIDTH + 1];
    int64_t shown = done > total ? total : done;
    int fill = (int)(shown * WIDTH / total);
    for (int i = 0; i < WIDTH; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[WIDTH] = '\0';
    if (rate > 0 && done < total)
        progress_hms(eta, sizeof(eta), (int64_t)((double)(total - done) / rate + 0.5));
    else
        snprintf(eta, sizeof(eta), done >= total ? "0:00" : "?");
    snprintf(buf, len, "%s [%s] %lld/%lld %3d%% %.0f/s, %s elapsed, ETA %s", label, bar,
             (long long)done, (long long)total, (int)(shown * 100 / total), rate, el, eta);
}

static void progress_draw(progress *p, int64_t now)
{
    char line[256];
    progress_format(line, sizeof(line), p->label, p->done, p->total, now - p->t0_ms);
    fprintf(stderr, "\r%s\033[K", line);
    fflush(stderr);
    p->drawn_ms = now;
}

bool progress_enabled(void)
{
    return isatty(STDERR_FILENO) == 1;
}

void progress_start(progress *p, const char *label, int64_t total)
{
    p->label = label;
    p->total = total;
    p->done = 0;
    p->t0_ms = progress_now_ms();
    p->drawn_ms = 0;
    p->on = progress_enabled();
    if (p->on)
        progress_draw(p, p->t0_ms);
}

void progress_update(progress *p, int64_t done)
{
    p->done = done;
    if (!p->on)
        return;
    int64_t now = progress_now_ms();
    if (now - p->drawn_ms >= 100)
        progress_draw(p, now);
}

void progress_done(progress *p)
{
    if (!p->on)
        return;
    progress_draw(p, progress_now_ms());
    fputc('\n', stderr);
    p->on = false;
}
