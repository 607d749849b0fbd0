/*
 * rules: eligibility, tiers, proration and exclusivity. See rules.h.
 */
#include "rules.h"

#include "common/calendar.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ================================================================== dates */

/* Day numbers are libs/common/calendar.c's; these keep the registry's
 * int32 days. */
int32_t rules_days(int y, int m, int d)
{
    return (int32_t)calendar_days_from_civil(y, m, d);
}

void rules_civil(int32_t z, int *y, int *m, int *d)
{
    calendar_date c = calendar_civil_from_days(z);
    *y = c.year;
    *m = c.month;
    *d = c.day;
}

int rules_days_in_month(int y, int m)
{
    return calendar_days_in_month(y, m);
}

static int rules_digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

char *rules_date_format(char out[RULES_DATE_LEN], int32_t days)
{
    int y, m, d;
    rules_civil(days, &y, &m, &d);
    snprintf(out, RULES_DATE_LEN, "%04d-%02d-%02d", y, m, d);
    return out;
}

int rules_date_parse(const char *s, int32_t *days, char *err, size_t errlen)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-') {
        snprintf(err, errlen, "date \"%.16s\" is not YYYY-MM-DD", s);
        return -1;
    }
    int y = rules_digits(s, 4), m = rules_digits(s + 5, 2), d = rules_digits(s + 8, 2);
    if (y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1 || d > rules_days_in_month(y, m)) {
        snprintf(err, errlen, "date \"%.16s\" is not a real date", s);
        return -1;
    }
    *days = rules_days(y, m, d);
    return 0;
}

int rules_period_parse(const char *s, int *y, int *m, char *err, size_t errlen)
{
    if (strlen(s) != 7 || s[4] != '-') {
        snprintf(err, errlen, "period \"%.16s\" is not YYYY-MM", s);
        return -1;
    }
    *y = rules_digits(s, 4);
    *m = rules_digits(s + 5, 2);
    if (*y < 2000 || *y > 2200 || *m < 1 || *m > 12) {
        snprintf(err, errlen, "period \"%.16s\" is not a real month", s);
        return -1;
    }
    return 0;
}

/* ========================================================== rule language */

static const struct {
    const char *name;
    rules_field field;
    bool text;
} rules_fields[] = {
    {"category", RULES_F_CATEGORY, true}, {"household", RULES_F_HOUSEHOLD, true},
    {"status", RULES_F_STATUS, true},     {"grade", RULES_F_GRADE, false},
    {"care", RULES_F_CARE, false},        {"age", RULES_F_AGE, false},
    {"months", RULES_F_MONTHS, false},    {"evidence", RULES_F_EVIDENCE, true},
};

static int rules_cond_parse(const char *s, size_t len, rules_cond *c, char *err, size_t errlen)
{
    size_t i = 0;
    while (i < len && (isalpha((unsigned char)s[i]) || s[i] == '_'))
        i++;
    size_t nlen = i;
    int f = -1;
    for (size_t k = 0; k < sizeof(rules_fields) / sizeof(rules_fields[0]); k++)
        if (strlen(rules_fields[k].name) == nlen && strncmp(s, rules_fields[k].name, nlen) == 0)
            f = (int)k;
    if (f < 0) {
        snprintf(err, errlen, "unknown field \"%.*s\" in rule", (int)(nlen > 20 ? 20 : nlen), s);
        return -1;
    }
    c->field = rules_fields[f].field;
    if (i + 1 < len && s[i] == '<' && s[i + 1] == '=')
        c->op = RULES_LE, i += 2;
    else if (i + 1 < len && s[i] == '>' && s[i + 1] == '=')
        c->op = RULES_GE, i += 2;
    else if (i + 1 < len && s[i] == '!' && s[i + 1] == '=')
        c->op = RULES_NE, i += 2;
    else if (i < len && s[i] == '<')
        c->op = RULES_LT, i += 1;
    else if (i < len && s[i] == '>')
        c->op = RULES_GT, i += 1;
    else if (i < len && s[i] == '=')
        c->op = RULES_EQ, i += 1;
    else {
        snprintf(err, errlen, "no operator after \"%s\" in rule", rules_fields[f].name);
        return -1;
    }
    const char *v = s + i;
    size_t vlen = len - i;
    if (vlen == 0) {
        snprintf(err, errlen, "no value for \"%s\" in rule", rules_fields[f].name);
        return -1;
    }
    c->nalts = 0;
    c->num = 0;
    if (rules_fields[f].text) {
        if (c->op != RULES_EQ && c->op != RULES_NE) {
            snprintf(err, errlen, "\"%s\" takes = or != only", rules_fields[f].name);
            return -1;
        }
        size_t a = 0;
        while (a <= vlen) {
            size_t b = a;
            while (b < vlen && v[b] != '|')
                b++;
            if (b == a || b - a >= sizeof(c->alts[0]) || c->nalts >= RULES_ALTS_MAX) {
                snprintf(err, errlen, "bad value list for \"%s\" in rule", rules_fields[f].name);
                return -1;
            }
            for (size_t k = a; k < b; k++)
                if (!islower((unsigned char)v[k]) && v[k] != '-') {
                    snprintf(err, errlen, "bad value for \"%s\" in rule", rules_fields[f].name);
                    return -1;
                }
            memcpy(c->alts[c->nalts], v + a, b - a);
            c->alts[c->nalts][b - a] = '\0';
            c->nalts++;
            a = b + 1;
        }
    } else {
        if (vlen > 3 || rules_digits(v, (int)vlen) < 0) {
            snprintf(err, errlen, "\"%s\" takes a number up to 999", rules_fields[f].name);
            return -1;
        }
        c->num = rules_digits(v, (int)vlen);
    }
    return 0;
}

int rules_expr_parse(const char *s, rules_expr *e, char *err, size_t errlen)
{
    e->nconds = 0;
    e->names_evidence = false;
    if (s[0] == '\0' || strcmp(s, "all") == 0)
        return 0;
    const char *p = s;
    for (;;) {
        const char *q = strchr(p, ';');
        size_t len = q ? (size_t)(q - p) : strlen(p);
        if (e->nconds >= RULES_CONDS_MAX) {
            snprintf(err, errlen, "more than %d conditions in rule", RULES_CONDS_MAX);
            return -1;
        }
        if (rules_cond_parse(p, len, &e->conds[e->nconds], err, errlen) < 0)
            return -1;
        if (e->conds[e->nconds].field == RULES_F_EVIDENCE)
            e->names_evidence = true;
        e->nconds++;
        if (q == NULL)
            return 0;
        p = q + 1;
    }
}

/* Whole years and whole months from birth to day. */
void rules_age(int32_t birth, int32_t day, int *years, int *months)
{
    int by, bm, bd, y, m, d;
    rules_civil(birth, &by, &bm, &bd);
    rules_civil(day, &y, &m, &d);
    int mo = (y - by) * 12 + (m - bm) - (d < bd ? 1 : 0);
    if (mo < 0)
        mo = 0;
    *months = mo;
    *years = mo / 12;
}

static bool rules_cmp(int a, rules_op op, int b)
{
    switch (op) {
    case RULES_EQ:
        return a == b;
    case RULES_NE:
        return a != b;
    case RULES_LT:
        return a < b;
    case RULES_LE:
        return a <= b;
    case RULES_GT:
        return a > b;
    case RULES_GE:
        return a >= b;
    }
    return false;
}

bool rules_eligible(const rules_expr *e, const rules_person *p, int32_t day)
{
    if (p->status == NULL || strcmp(p->status, "active") != 0)
        return false;
    const char *evidence = p->evidence && p->evidence[0] ? p->evidence : "certificate";
    if (!e->names_evidence && strcmp(evidence, "certificate") != 0)
        return false;
    int years, months;
    rules_age(p->birth_day, day, &years, &months);
    for (int i = 0; i < e->nconds; i++) {
        const rules_cond *c = &e->conds[i];
        const char *t = NULL;
        int v = 0;
        switch (c->field) {
        case RULES_F_CATEGORY:
            t = p->category;
            break;
        case RULES_F_HOUSEHOLD:
            t = p->household;
            break;
        case RULES_F_STATUS:
            t = p->status;
            break;
        case RULES_F_EVIDENCE:
            t = evidence;
            break;
        case RULES_F_GRADE:
            if (p->grade == 0) /* no grade: no grade condition holds */
                return false;
            v = p->grade;
            break;
        case RULES_F_CARE:
            v = p->care_level;
            break;
        case RULES_F_AGE:
            v = years;
            break;
        case RULES_F_MONTHS:
            v = months;
            break;
        }
        if (c->nalts > 0) {
            bool any = false;
            for (int k = 0; k < c->nalts && t; k++)
                if (strcmp(t, c->alts[k]) == 0)
                    any = true;
            if (any != (c->op == RULES_EQ))
                return false;
        } else if (!rules_cmp(v, c->op, c->num)) {
            return false;
        }
    }
    return true;
}

/* ================================================================== tiers */

int64_t rules_tier_value(const rules_tiers *tiers, rules_tier tier, const rules_person *p,
                         int32_t day)
{
    for (int i = 0; tiers && i < tiers->n; i++)
        if (tiers->rows[i].tier == tier && rules_eligible(&tiers->rows[i].when, p, day))
            return tiers->rows[i].value;
    return 0;
}

/* The item's figure for p: a month's (unit month) or a year's (unit year;
 * a priced item's, whose standard is a price, is its annual cap). */
static int64_t rules_tier_fen(const rules_item *it, const rules_person *p, int32_t day)
{
    if (it->tier == RULES_TIER_FLAT)
        return it->kind == DIRECTORY_KIND_PRICED ? it->annual_cap_fen : it->standard_fen;
    int64_t v = rules_tier_value(it->tiers, it->tier, p, day);
    return it->tier == RULES_TIER_DIBAO30 ? it->standard_fen * v / 10000 : v;
}

bool rules_item_eligible(const rules_item *it, const rules_person *p, int32_t day)
{
    if (!rules_eligible(&it->expr, p, day))
        return false;
    if (!it->application)
        return true;
    /* ",CODE," in the person's granted items */
    const char *g = p->granted ? p->granted : "";
    size_t n = strlen(it->code);
    for (const char *s = strstr(g, it->code); s; s = strstr(s + 1, it->code))
        if (s > g && s[-1] == ',' && s[n] == ',')
            return true;
    return false;
}

int64_t rules_monthly_fen(const rules_item *it, const rules_person *p, int32_t day)
{
    if (!it->issued || !rules_item_eligible(it, p, day))
        return 0;
    int64_t v = rules_tier_fen(it, p, day);
    return it->unit == RULES_UNIT_MONTH ? v : v / 12;
}

/* monthly fen x days of the item over the segments, within month [first,
 * end) and within [lo, hi) (a catalogue version's days) */
static int64_t rules_item_fendays(const rules_item *it, const rules_segment *seg, int nseg,
                                  int32_t first, int32_t end, int32_t lo, int32_t hi)
{
    int64_t sum = 0;
    if (lo > first)
        first = lo;
    if (hi < end)
        end = hi;
    for (int i = 0; i < nseg; i++) {
        int32_t a = seg[i].from_day > first ? seg[i].from_day : first;
        int32_t b = seg[i].to_day < end ? seg[i].to_day : end;
        if (a < it->from_day)
            a = it->from_day;
        if (it->to_day && b > it->to_day)
            b = it->to_day;
        if (b <= a)
            continue;
        sum += rules_monthly_fen(it, &seg[i].p, a) * (b - a);
    }
    return sum;
}

int64_t rules_item_amount(const rules_item *it, const rules_segment *seg, int nseg, int y, int m)
{
    int32_t first = rules_days(y, m, 1);
    int dim = rules_days_in_month(y, m);
    return rules_item_fendays(it, seg, nseg, first, first + dim, INT32_MIN, INT32_MAX) / dim;
}

/* The better of two items of one exclusive group: the larger amount, ties
 * (items never issued: 0) the smaller code. */
static bool rules_better(const rules_item *a, int64_t amount_a, const rules_item *b,
                         int64_t amount_b)
{
    return amount_a > amount_b || (amount_a == amount_b && strcmp(a->code, b->code) < 0);
}

/* Adds the grant of a (> 0) for it to out[0..*n), one per exclusive group. */
static void rules_add_grant(rules_grant *out, int *n, const rules_item *it, int64_t a)
{
    const char *g = it->exclusive;
    if (g[0] != '\0') {
        for (int k = 0; k < *n; k++) {
            if (strcmp(out[k].item->exclusive, g) != 0)
                continue;
            /* one grant per group: keep the larger (ties: smaller code) */
            if (rules_better(it, a, out[k].item, out[k].amount_fen)) {
                out[k].item = it;
                out[k].amount_fen = a;
            }
            return;
        }
    }
    out[*n].item = it;
    out[*n].amount_fen = a;
    (*n)++;
}

int rules_period(const rules_item *items, int nitems, const rules_segment *seg, int nseg, int y,
                 int m, rules_grant *out)
{
    int n = 0;
    for (int i = 0; i < nitems; i++) {
        int64_t a = rules_item_amount(&items[i], seg, nseg, y, m);
        if (a > 0)
            rules_add_grant(out, &n, &items[i], a);
    }
    return n;
}

int rules_plan_make(rules_plan *pl, const rules_span *spans, int nspans, char *err, size_t errlen)
{
    memset(pl, 0, sizeof(*pl));
    if (nspans < 1 || nspans > RULES_SPANS_MAX) {
        snprintf(err, errlen, "%d catalogue versions in one month (1..%d)", nspans,
                 RULES_SPANS_MAX);
        return -1;
    }
    for (int k = 0; k < nspans; k++) {
        pl->from[k] = spans[k].from_day;
        pl->to[k] = spans[k].to_day;
        for (int i = 0; i < spans[k].nitems; i++) {
            const rules_item *it = &spans[k].items[i];
            int j = 0;
            while (j < pl->ncodes && strcmp(pl->head[j]->code, it->code) != 0)
                j++;
            if (j == pl->ncodes) {
                if (j == RULES_PLAN_CODES) {
                    snprintf(err, errlen, "more than %d item codes in one month", RULES_PLAN_CODES);
                    return -1;
                }
                pl->head[pl->ncodes++] = it;
            }
            pl->in[j][k] = it;
        }
    }
    pl->nspans = nspans;
    return 0;
}

int rules_plan_period(const rules_plan *pl, const rules_segment *seg, int nseg, int y, int m,
                      rules_grant *out)
{
    int32_t first = rules_days(y, m, 1);
    int dim = rules_days_in_month(y, m);
    int n = 0;
    for (int j = 0; j < pl->ncodes; j++) {
        int64_t sum = 0;
        for (int k = 0; k < pl->nspans; k++)
            if (pl->in[j][k])
                sum += rules_item_fendays(pl->in[j][k], seg, nseg, first, first + dim, pl->from[k],
                                          pl->to[k]);
        if (sum / dim > 0)
            rules_add_grant(out, &n, pl->head[j], sum / dim);
    }
    return n;
}

void rules_entitlements(const rules_item *items, int nitems, const rules_person *p, int32_t day,
                        rules_entitlement *out)
{
    for (int i = 0; i < nitems; i++) {
        const rules_item *it = &items[i];
        bool in_force = day >= it->from_day && (it->to_day == 0 || day < it->to_day);
        out[i].entitled = in_force && rules_item_eligible(it, p, day);
        out[i].annual_cap_fen =
            out[i].entitled && it->tier == RULES_TIER_LIMB ? rules_tier_fen(it, p, day) : 0;
    }
    for (int i = 0; i < nitems; i++) {
        if (!out[i].entitled || items[i].exclusive[0] == '\0')
            continue;
        int64_t ai = rules_monthly_fen(&items[i], p, day);
        for (int k = 0; k < nitems; k++) {
            if (k == i || !out[k].entitled || strcmp(items[k].exclusive, items[i].exclusive) != 0)
                continue;
            if (rules_better(&items[k], rules_monthly_fen(&items[k], p, day), &items[i], ai)) {
                out[i].entitled = false;
                out[i].annual_cap_fen = 0;
                break;
            }
        }
    }
}
