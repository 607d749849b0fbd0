/*
 * review: the year-end elimination list and its confirmation. See review.h.
 */
#include "review.h"

#include "score.h"

#include "common/cli.h"
#include "common/log.h"
#include "common/pg.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------- arguments */

int32_t review_parse_milli(const char *s)
{
    if (s == NULL || *s < '0' || *s > '9')
        return -1;
    int64_t whole = 0;
    while (*s >= '0' && *s <= '9') {
        whole = whole * 10 + (*s++ - '0');
        if (whole > 5)
            return -1;
    }
    int64_t frac = 0;
    int digits = 0;
    if (*s == '.') {
        s++;
        while (*s >= '0' && *s <= '9') {
            if (++digits > 3)
                return -1;
            frac = frac * 10 + (*s++ - '0');
        }
        if (digits == 0)
            return -1;
    }
    if (*s != '\0')
        return -1;
    for (; digits < 3; digits++)
        frac *= 10;
    int64_t v = whole * 1000 + frac;
    return v > 5000 ? -1 : (int32_t)v;
}

static int review_parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (s == NULL || *s == '\0')
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int review_parse_args(int argc, char *const *argv, review_args *a, char *err, size_t errlen)
{
    memset(a, 0, sizeof(*a));
    a->min_ratings = 30;
    a->below_milli = 3000;
    bool below = false, pct = false;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int64_t n;
        if (strcmp(o, "--confirm") == 0) {
            a->confirm = true;
            continue;
        }
        if (strcmp(o, "--year") != 0 && strcmp(o, "--min-ratings") != 0 &&
            strcmp(o, "--below") != 0 && strcmp(o, "--bottom-pct") != 0 &&
            strcmp(o, "--format") != 0) {
            snprintf(err, errlen,
                     "unknown argument \"%.60s\" (--year, --min-ratings, --below, --bottom-pct, "
                     "--format, --confirm)",
                     o);
            return -1;
        }
        if (v == NULL) {
            snprintf(err, errlen, "%s needs a value", o);
            return -1;
        }
        i++;
        if (strcmp(o, "--year") == 0) {
            if (review_parse_int(v, 2000, 9999, &n) < 0) {
                snprintf(err, errlen, "--year \"%.20s\" is not a year between 2000 and 9999", v);
                return -1;
            }
            a->year = (int)n;
        } else if (strcmp(o, "--min-ratings") == 0) {
            if (review_parse_int(v, 0, 1000000000, &n) < 0) {
                snprintf(err, errlen, "--min-ratings \"%.20s\" is not a whole number >= 0", v);
                return -1;
            }
            a->min_ratings = n;
        } else if (strcmp(o, "--below") == 0) {
            int32_t m = review_parse_milli(v);
            if (m < 0) {
                snprintf(err, errlen,
                         "--below \"%.20s\" is not a score between 0 and 5 (at most 3 decimals)",
                         v);
                return -1;
            }
            a->below_milli = m;
            below = true;
        } else if (strcmp(o, "--bottom-pct") == 0) {
            if (review_parse_int(v, 1, 100, &n) < 0) {
                snprintf(err, errlen, "--bottom-pct \"%.20s\" is not a percentage 1..100", v);
                return -1;
            }
            a->bottom_pct = (int)n;
            pct = true;
        } else {
            if (strcmp(v, "json") == 0)
                a->json = true;
            else if (strcmp(v, "text") != 0) {
                snprintf(err, errlen, "--format \"%.20s\" is neither text nor json", v);
                return -1;
            }
        }
    }
    if (a->year == 0) {
        snprintf(err, errlen, "--year is required");
        return -1;
    }
    if (below && pct) {
        snprintf(err, errlen, "--below and --bottom-pct are two different thresholds: give one");
        return -1;
    }
    a->mode = pct ? REVIEW_BOTTOM_PCT : REVIEW_BELOW;
    return 0;
}

/* ------------------------------------------------------------ suspension */

int review_suspend(const char *bin, const char *provider_id, const char *reason, int timeout_ms,
                   char *err, size_t errlen)
{
    if (access(bin, X_OK) != 0) {
        snprintf(err, errlen, "cannot run %.256s: %s", bin, strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork failed: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        /* the registry's own output goes to our stderr: the report stays clean */
        dup2(STDERR_FILENO, STDOUT_FILENO);
        char *const args[] = {(char *)bin,         "provider",      "suspend",
                              (char *)provider_id, "--reason",      (char *)reason,
                              "--actor",           "rating-review", NULL};
        execv(bin, args);
        fprintf(stderr, "rating: exec %s: %s\n", bin, strerror(errno));
        _exit(127);
    }
    int status = 0;
    for (int waited = 0;; waited += 50) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR) {
            snprintf(err, errlen, "waitpid failed: %s", strerror(errno));
            return -1;
        }
        if (waited >= timeout_ms) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            snprintf(err, errlen, "%.256s did not finish within %d ms: killed", bin, timeout_ms);
            return -1;
        }
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFEXITED(status))
        snprintf(err, errlen, "%.256s provider suspend %.64s exited with status %d", bin,
                 provider_id, WEXITSTATUS(status));
    else
        snprintf(err, errlen, "%.256s provider suspend %.64s was killed by signal %d", bin,
                 provider_id, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    return -1;
}

/* The eligibility binary: $ONECARD_ELIGIBILITY_BIN, or next to ours. */
static void review_eligibility_bin(char *out, size_t len)
{
    const char *env = getenv("ONECARD_ELIGIBILITY_BIN");
    if (env && *env) {
        snprintf(out, len, "%s", env);
        return;
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0) {
        snprintf(out, len, "onecard-eligibility");
        return;
    }
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash)
        *slash = '\0';
    snprintf(out, len, "%s/onecard-eligibility", self);
}

/* ---------------------------------------------------------------- report */

typedef struct review_row {
    const char *provider_id, *category, *trend, *rejected, *tags, *suspended;
    int64_t n, sum, dist[5], bursts;
    int32_t bayes, mean, prior;
    bool listed;
    int rank, of; /* within the category, bottom-pct mode */
    char reason[400];
} review_row;

static int review_cmp_category(const void *a, const void *b)
{
    const review_row *x = a, *y = b;
    int c = strcmp(x->category, y->category);
    if (c)
        return c;
    score_entry ex = {x->bayes, x->n}, ey = {y->bayes, y->n};
    return score_compare(&ex, &ey);
}

static int64_t review_year_ms(int year)
{
    struct tm tm = {0};
    tm.tm_year = year - 1900;
    tm.tm_mday = 1;
    return (int64_t)timegm(&tm) * 1000;
}

static void review_json_str(FILE *f, const char *s)
{
    char buf[1024];
    log_json_escape(buf, sizeof(buf), s);
    fprintf(f, "\"%s\"", buf);
}

static void review_print(const review_args *a, review_row *rows, int n, int listed)
{
    char sc[16], mean[16], prior[16], thr[16];
    score_format(thr, sizeof(thr), a->below_milli);
    if (!a->json) {
        if (a->mode == REVIEW_BELOW)
            printf("review %d: Bayesian score below %s with at least %lld ratings: %d of %d "
                   "providers\n",
                   a->year, thr, (long long)a->min_ratings, listed, n);
        else
            printf("review %d: bottom %d%% of each category (at least %lld ratings): %d of %d "
                   "providers\n",
                   a->year, a->bottom_pct, (long long)a->min_ratings, listed, n);
        for (int i = 0; i < n; i++) {
            const review_row *r = &rows[i];
            if (!r->listed)
                continue;
            score_format(sc, sizeof(sc), r->bayes);
            score_format(mean, sizeof(mean), r->mean);
            score_format(prior, sizeof(prior), r->prior);
            printf("\n%s  category %s  score %s  mean %s  prior %s  ratings %lld\n", r->provider_id,
                   r->category[0] ? r->category : "-", sc, mean, prior, (long long)r->n);
            printf("  stars 1..5: %lld %lld %lld %lld %lld\n", (long long)r->dist[0],
                   (long long)r->dist[1], (long long)r->dist[2], (long long)r->dist[3],
                   (long long)r->dist[4]);
            printf("  trend (month:count:sum): %s\n", r->trend[0] ? r->trend : "-");
            printf("  tags: %s\n", r->tags[0] ? r->tags : "-");
            printf("  rejected ratings: %s\n", r->rejected[0] ? r->rejected : "none");
            printf("  flagged 5-star bursts: %lld\n", (long long)r->bursts);
            if (r->suspended[0])
                printf("  already suspended by this review: %s\n", r->suspended);
            printf("  reason: %s\n", r->reason);
        }
        return;
    }
    printf("{\"year\":%d,\"mode\":\"%s\",\"min_ratings\":%lld,", a->year,
           a->mode == REVIEW_BELOW ? "below" : "bottom_pct", (long long)a->min_ratings);
    if (a->mode == REVIEW_BELOW)
        printf("\"below_milli\":%d,", a->below_milli);
    else
        printf("\"bottom_pct\":%d,", a->bottom_pct);
    printf("\"providers_rated\":%d,\"listed\":[", n);
    int k = 0;
    for (int i = 0; i < n; i++) {
        const review_row *r = &rows[i];
        if (!r->listed)
            continue;
        printf("%s{\"provider_id\":", k++ ? "," : "");
        review_json_str(stdout, r->provider_id);
        printf(",\"category\":");
        review_json_str(stdout, r->category);
        printf(",\"bayes_milli\":%d,\"mean_milli\":%d,\"prior_milli\":%d,\"ratings\":%lld,"
               "\"distribution\":[%lld,%lld,%lld,%lld,%lld],\"trend\":",
               r->bayes, r->mean, r->prior, (long long)r->n, (long long)r->dist[0],
               (long long)r->dist[1], (long long)r->dist[2], (long long)r->dist[3],
               (long long)r->dist[4]);
        review_json_str(stdout, r->trend);
        printf(",\"tags\":");
        review_json_str(stdout, r->tags);
        printf(",\"rejected\":");
        review_json_str(stdout, r->rejected);
        printf(",\"bursts_flagged\":%lld,\"already_suspended\":%s,\"reason\":",
               (long long)r->bursts, r->suspended[0] ? "true" : "false");
        review_json_str(stdout, r->reason);
        printf("}");
    }
    printf("]}\n");
}

/* Picks the listed rows and writes their reasons. Returns how many. */
static int review_select(const review_args *a, review_row *rows, int n)
{
    char sc[16], mean[16], prior[16], thr[16];
    score_format(thr, sizeof(thr), a->below_milli);
    int listed = 0;
    if (a->mode == REVIEW_BOTTOM_PCT) {
        qsort(rows, (size_t)n, sizeof(*rows), review_cmp_category);
        for (int i = 0; i < n;) {
            int j = i, eligible = 0;
            while (j < n && strcmp(rows[j].category, rows[i].category) == 0)
                eligible += rows[j++].n >= a->min_ratings;
            size_t k = score_bottom_count((size_t)eligible, a->bottom_pct);
            int rank = 0;
            for (int x = i; x < j; x++) {
                if (rows[x].n < a->min_ratings)
                    continue;
                rank++;
                rows[x].rank = rank;
                rows[x].of = eligible;
                rows[x].listed = rank > eligible - (int)k;
            }
            i = j;
        }
    }
    for (int i = 0; i < n; i++) {
        review_row *r = &rows[i];
        if (a->mode == REVIEW_BELOW)
            r->listed = r->n >= a->min_ratings && r->bayes < a->below_milli;
        if (!r->listed)
            continue;
        listed++;
        score_format(sc, sizeof(sc), r->bayes);
        score_format(mean, sizeof(mean), r->mean);
        score_format(prior, sizeof(prior), r->prior);
        int w;
        if (a->mode == REVIEW_BELOW)
            w = snprintf(r->reason, sizeof(r->reason),
                         "rating review %d: score %s below %s over %lld ratings (mean %s, "
                         "category prior %s)",
                         a->year, sc, thr, (long long)r->n, mean, prior);
        else
            w = snprintf(r->reason, sizeof(r->reason),
                         "rating review %d: bottom %d%% of category %s, rank %d of %d, score %s "
                         "over %lld ratings (mean %s)",
                         a->year, a->bottom_pct, r->category[0] ? r->category : "-", r->rank, r->of,
                         sc, (long long)r->n, mean);
        if (w > 0 && (size_t)w < sizeof(r->reason) && r->rejected[0])
            w += snprintf(r->reason + w, sizeof(r->reason) - (size_t)w,
                          "; ratings rejected for its terminals: %s", r->rejected);
        if (w > 0 && (size_t)w < sizeof(r->reason) && r->bursts > 0)
            snprintf(r->reason + w, sizeof(r->reason) - (size_t)w, "; %lld flagged 5-star bursts",
                     (long long)r->bursts);
    }
    return listed;
}

static int review_confirm(PGconn *pg, const review_args *a, review_row *rows, int n)
{
    char bin[PATH_MAX + 32];
    review_eligibility_bin(bin, sizeof(bin));
    int failed = 0;
    for (int i = 0; i < n; i++) {
        review_row *r = &rows[i];
        if (!r->listed)
            continue;
        if (r->suspended[0]) {
            fprintf(stderr, "rating: %s was suspended by this review already (%s): skipped\n",
                    r->provider_id, r->suspended);
            continue;
        }
        char err[512] = "";
        int rc = review_suspend(bin, r->provider_id, r->reason, 30000, err, sizeof(err));
        char year[8];
        snprintf(year, sizeof(year), "%d", a->year);
        const char *p[] = {year, r->provider_id, rc == 0 ? "suspended" : "suspend_failed",
                           r->reason, err};
        char perr[512];
        if (pg_exec(pg,
                    "INSERT INTO rating_review (year, provider_id, action, reason, detail, actor) "
                    "VALUES ($1::int, $2, $3, $4, $5, 'rating-review')",
                    5, p, perr, sizeof(perr)) < 0)
            fprintf(stderr, "rating: the decision on %s was not recorded: %s\n", r->provider_id,
                    perr);
        if (rc == 0) {
            fprintf(stderr, "rating: %s suspended\n", r->provider_id);
        } else {
            failed++;
            fprintf(stderr, "rating: %s NOT suspended: %s\n", r->provider_id, err);
        }
    }
    return failed ? 1 : 0;
}

int review_run(PGconn *pg, const review_args *a, int64_t prior_weight, int64_t burst_threshold)
{
    char year[8], from[24], to[24], thr[24];
    snprintf(year, sizeof(year), "%04d", a->year);
    snprintf(from, sizeof(from), "%lld", (long long)review_year_ms(a->year));
    snprintf(to, sizeof(to), "%lld", (long long)review_year_ms(a->year + 1));
    snprintf(thr, sizeof(thr), "%lld", (long long)burst_threshold);
    const char *p[] = {year, from, to, thr};
    char err[512];
    PGresult *r = pg_query(
        pg,
        "WITH y AS (SELECT provider_id, sum(n) AS n, sum(sum) AS sum, sum(d1) AS d1, sum(d2) AS "
        "d2, sum(d3) AS d3, sum(d4) AS d4, sum(d5) AS d5 FROM rating_monthly WHERE item_code = '' "
        "AND period LIKE $1 || '-%' GROUP BY 1 HAVING sum(n) > 0), "
        "p AS (SELECT y.*, coalesce(rp.category, '') AS category FROM y LEFT JOIN "
        "rating_providers rp USING (provider_id)), "
        "c AS (SELECT category, sum(n) AS cn, sum(sum) AS csum FROM p GROUP BY 1) "
        "SELECT p.provider_id, p.category, p.n, p.sum, p.d1, p.d2, p.d3, p.d4, p.d5, c.cn, c.csum, "
        "coalesce((SELECT string_agg(m.period || ':' || m.n || ':' || m.sum, ' ' ORDER BY "
        "m.period) FROM rating_monthly m WHERE m.provider_id = p.provider_id AND m.item_code = '' "
        "AND m.period LIKE $1 || '-%'), ''), "
        "coalesce((SELECT string_agg(x.reason_code || ':' || x.k, ' ' ORDER BY x.reason_code) "
        "FROM (SELECT reason_code, count(*) AS k FROM rating_rejected j WHERE j.provider_id = "
        "p.provider_id AND j.rejected_at_ms >= $2::bigint AND j.rejected_at_ms < $3::bigint GROUP "
        "BY 1) x), ''), "
        "coalesce((SELECT string_agg(t.tag || ':' || t.n, ' ' ORDER BY t.n DESC, t.tag) FROM "
        "(SELECT tag, n FROM rating_tags g WHERE g.provider_id = p.provider_id AND g.n > 0 ORDER "
        "BY n DESC, tag LIMIT 5) t), ''), "
        "(SELECT count(*) FROM rating_bursts b WHERE b.provider_id = p.provider_id AND b.n >= "
        "$4::bigint AND b.window_ms >= $2::bigint AND b.window_ms < $3::bigint), "
        "coalesce((SELECT min(decided_at)::text FROM rating_review v WHERE v.provider_id = "
        "p.provider_id AND v.year = $1::int AND v.action = 'suspended'), '') "
        "FROM p JOIN c USING (category) ORDER BY p.provider_id",
        4, p, err, sizeof(err));
    if (r == NULL) {
        fprintf(stderr, "rating: review: %s\n", err);
        return CLI_DEPENDENCY;
    }
    int n = PQntuples(r);
    review_row *rows = calloc((size_t)n + 1, sizeof(*rows));
    if (rows == NULL) {
        PQclear(r);
        fprintf(stderr, "rating: review: out of memory\n");
        return CLI_DEPENDENCY;
    }
    for (int i = 0; i < n; i++) {
        review_row *x = &rows[i];
        x->provider_id = PQgetvalue(r, i, 0);
        x->category = PQgetvalue(r, i, 1);
        x->n = strtoll(PQgetvalue(r, i, 2), NULL, 10);
        x->sum = strtoll(PQgetvalue(r, i, 3), NULL, 10);
        for (int d = 0; d < 5; d++)
            x->dist[d] = strtoll(PQgetvalue(r, i, 4 + d), NULL, 10);
        x->prior = score_mean_milli(strtoll(PQgetvalue(r, i, 9), NULL, 10),
                                    strtoll(PQgetvalue(r, i, 10), NULL, 10));
        x->mean = score_mean_milli(x->n, x->sum);
        x->bayes = score_bayes_milli(x->n, x->sum, x->prior, prior_weight);
        x->trend = PQgetvalue(r, i, 11);
        x->rejected = PQgetvalue(r, i, 12);
        x->tags = PQgetvalue(r, i, 13);
        x->bursts = strtoll(PQgetvalue(r, i, 14), NULL, 10);
        x->suspended = PQgetvalue(r, i, 15);
    }
    int listed = review_select(a, rows, n);
    review_print(a, rows, n, listed);
    fflush(stdout);
    int rc = a->confirm ? review_confirm(pg, a, rows, n) : 0;
    free(rows);
    PQclear(r);
    return rc;
}
