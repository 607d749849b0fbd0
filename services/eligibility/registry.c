/*
 * registry: connections, audited transactions, events, projection. See
 * registry.h.
 */
#include "registry.h"

#include "attendance.h"
#include "ident.h"

#include "common/cli.h"
#include "common/calendar.h"
#include "common/card.h"
#include "common/redis.h"
#include "common/event.h"
#include "common/log.h"
#include "common/sign.h"

#include "eligibility.pb-c.h"
#include "registry.pb-c.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int registry_tz_offset_min = 480; /* what "today" is: set on open */

/* The operator API's capture (registry_capture): one process-wide buffer,
 * the API answers one request at a time on its loop. */
static char *registry_capture_buf;
static size_t registry_capture_len;
static registry_refusal registry_capture_kind;

__attribute__((format(printf, 2, 0))) static void registry_vfail(registry_refusal kind,
                                                                 const char *fmt, va_list ap)
{
    if (registry_capture_buf == NULL) {
        fputs("eligibility: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
    } else if (registry_capture_buf[0] == '\0') {
        vsnprintf(registry_capture_buf, registry_capture_len, fmt, ap);
        registry_capture_kind = kind;
    }
}

void registry_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    registry_vfail(REFUSE_INVALID, fmt, ap);
    va_end(ap);
}

void registry_refuse(registry_refusal kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    registry_vfail(kind, fmt, ap);
    va_end(ap);
}

void registry_capture(char *buf, size_t len)
{
    registry_capture_buf = len > 0 ? buf : NULL;
    registry_capture_len = len;
    registry_capture_kind = REFUSE_INVALID;
    if (registry_capture_buf)
        registry_capture_buf[0] = '\0';
}

registry_refusal registry_refusal_kind(void)
{
    return registry_capture_kind;
}

int registry_open(registry *r, elig_config *cfg, int what)
{
    char err[512];
    memset(r, 0, sizeof(*r));
    r->cfg = cfg;
    registry_tz_offset_min = (int)cfg->tz_offset_min;
    r->pg = pg_connect(cfg->d.pg_dsn, 3, 1000, NULL, err, sizeof(err));
    if (r->pg == NULL) {
        registry_fail("%s", err);
        return -1;
    }
    if (what & REG_REDIS) {
        r->rc =
            redis_sync_connect(cfg->d.redis_host, (int)cfg->d.redis_port, 5000, err, sizeof(err));
        if (r->rc == NULL) {
            registry_fail("%s", err);
            return -1;
        }
        directory_init(&r->dir, r->rc);
    }
    if (what & REG_KAFKA) {
        r->kp = kafka_producer_new(cfg->d.kafka_brokers, "/onecard/eligibility", NULL, 10000, NULL,
                                   err, sizeof(err));
        if (r->kp == NULL) {
            registry_fail("%s", err);
            return -1;
        }
    }
    return 0;
}

void registry_close(registry *r)
{
    if (r->kp)
        kafka_producer_free(r->kp, 10000);
    if (r->rc)
        redisFree(r->rc);
    if (r->pg)
        PQfinish(r->pg);
    memset(r, 0, sizeof(*r));
}

int registry_begin_err(registry *r, const char *actor, char *err, size_t errlen)
{
    const char *p[] = {actor};
    if (pg_begin(r->pg, err, errlen) < 0 ||
        pg_exec(r->pg, "SELECT set_config('onecard.actor', $1, true)", 1, p, err, errlen) < 0) {
        pg_rollback(r->pg);
        return -1;
    }
    return 0;
}

int registry_begin(registry *r, const char *actor)
{
    char err[512];
    if (registry_begin_err(r, actor, err, sizeof(err)) < 0) {
        registry_fail("%s", err);
        return -1;
    }
    return 0;
}

int registry_commit(registry *r)
{
    char err[512];
    if (pg_commit(r->pg, err, sizeof(err)) < 0) {
        registry_fail("%s", err);
        return -1;
    }
    return 0;
}

int registry_end(registry *r, int rc)
{
    if (rc == 0 && registry_commit(r) < 0)
        rc = CLI_DEPENDENCY;
    if (rc != 0)
        pg_rollback(r->pg);
    return rc;
}

static void registry_delivered(void *opaque, int err, const char *errstr, int32_t partition,
                               int64_t offset)
{
    registry *r = opaque;
    if (err != 0) {
        r->delivery_failures++;
        registry_fail("event not acknowledged: %s", errstr);
    }
}

int registry_publish(registry *r, const ProtobufCMessage *msg, const char *key)
{
    char err[512];
    int before = r->delivery_failures;
    if (kafka_produce(r->kp, msg, NULL, key, strlen(key), registry_delivered, r, err, sizeof(err)) <
        0) {
        registry_fail("publish: %s", err);
        return -1;
    }
    if (kafka_producer_flush(r->kp, 15000) > 0) {
        registry_fail("publish: no acknowledgement within 15 s");
        return -1;
    }
    return r->delivery_failures == before ? 0 : -1;
}

int registry_produce(registry *r, const ProtobufCMessage *msg, const char *key)
{
    char err[512];
    if (kafka_produce(r->kp, msg, NULL, key, strlen(key), registry_delivered, r, err, sizeof(err)) <
        0) {
        registry_fail("publish: %s", err);
        r->delivery_failures++;
        return -1;
    }
    return 0;
}

int registry_card_changed(registry *r, int op, const char *card_no, const char *person_id,
                          const char *status, const char *actor)
{
    Onecard__V1__CardChanged cc = ONECARD__V1__CARD_CHANGED__INIT;
    char eid[EVENT_ID_LEN + 1];
    event_new_id(eid);
    cc.event_id = eid;
    cc.op = (Onecard__V1__RegistryOp)op;
    cc.card_no = (char *)card_no;
    cc.person_id = (char *)person_id;
    cc.status = (char *)status;
    cc.actor = (char *)actor;
    cc.occurred_at_ms = event_now_ms();
    return registry_produce(r, &cc.base, card_no);
}

long registry_persons_changed(registry *r, int op, const char *persons, const char *actor)
{
    char err[512], after[72] = "";
    long total = 0;
    int64_t now = event_now_ms();
    for (;;) { /* pages of 5,000: a million new persons are not one result */
        const char *q[] = {persons, after};
        PGresult *res = pg_query(r->pg,
                                 "SELECT person_id, category, grade, care_level, birth_date::text, "
                                 "district, town, village, household, status, evidence FROM "
                                 "elig_persons "
                                 "WHERE person_id = ANY($1::text[]) AND person_id > $2 ORDER BY "
                                 "person_id LIMIT 5000",
                                 2, q, err, sizeof(err));
        if (res == NULL) {
            registry_fail("persons: %s", err);
            return -1;
        }
        int n = PQntuples(res);
        for (int i = 0; i < n; i++) {
            Onecard__V1__PersonChanged pc = ONECARD__V1__PERSON_CHANGED__INIT;
            char eid[EVENT_ID_LEN + 1];
            event_new_id(eid);
            pc.event_id = eid;
            pc.op = (Onecard__V1__RegistryOp)op;
            pc.person_id = PQgetvalue(res, i, 0);
            pc.category = PQgetvalue(res, i, 1);
            pc.grade = (int32_t)strtol(PQgetvalue(res, i, 2), NULL, 10);
            pc.care_level = (int32_t)strtol(PQgetvalue(res, i, 3), NULL, 10);
            pc.birth_date = PQgetvalue(res, i, 4);
            pc.district = PQgetvalue(res, i, 5);
            pc.town = PQgetvalue(res, i, 6);
            pc.village = PQgetvalue(res, i, 7);
            pc.household_status = PQgetvalue(res, i, 8);
            pc.status = PQgetvalue(res, i, 9);
            pc.evidence = PQgetvalue(res, i, 10);
            pc.actor = (char *)actor;
            pc.occurred_at_ms = now;
            if (registry_produce(r, &pc.base, pc.person_id) < 0) {
                PQclear(res);
                return -1;
            }
        }
        if (n > 0)
            snprintf(after, sizeof(after), "%s", PQgetvalue(res, n - 1, 0));
        PQclear(res);
        total += n;
        if (n < 5000)
            return total;
    }
}

static Onecard__V1__CardStatus registry_card_status(const char *name)
{
    static const char *const names[] = {"", "active", "frozen", "lost", "replaced", "closed"};
    for (int i = 1; i < 6; i++)
        if (strcmp(name, names[i]) == 0)
            return (Onecard__V1__CardStatus)i;
    return ONECARD__V1__CARD_STATUS__CARD_STATUS_UNSPECIFIED;
}

int registry_card_status_changed(registry *r, const char *card_no, const char *person_id,
                                 const char *from, const char *to, const char *reason)
{
    Onecard__V1__CardStatusChanged cs = ONECARD__V1__CARD_STATUS_CHANGED__INIT;
    char eid[EVENT_ID_LEN + 1];
    event_new_id(eid);
    cs.event_id = eid;
    cs.card_no = (char *)card_no;
    cs.person_id = (char *)person_id;
    cs.old_status = registry_card_status(from);
    cs.new_status = registry_card_status(to);
    cs.reason = (char *)reason;
    cs.occurred_at_ms = event_now_ms();
    return registry_produce(r, &cs.base, card_no);
}

static const char registry_snapshot_sql[] =
    "UPDATE elig_persons p SET category = coalesce(s.category, p.category), grade = "
    "coalesce(s.grade::int, p.grade), care_level = coalesce(s.care_level::int, p.care_level), "
    "household = coalesce(s.household, p.household), status = coalesce(s.status, p.status), "
    "granted = coalesce(s.granted, p.granted), evidence = coalesce(s.evidence, p.evidence), "
    "updated_at = now() FROM (SELECT person_id, max(value) FILTER (WHERE attr = 'category') "
    "category, max(value) FILTER (WHERE attr = 'grade') grade, max(value) FILTER (WHERE attr = "
    "'care_level') care_level, max(value) FILTER (WHERE attr = 'household') household, "
    "max(value) FILTER (WHERE attr = 'status') status, max(value) FILTER (WHERE attr = "
    "'evidence') evidence, CASE WHEN bool_or(attr LIKE 'grant:%') "
    "THEN coalesce(',' || string_agg(substr(attr, 7), ',' ORDER BY attr) FILTER (WHERE attr "
    "LIKE 'grant:%' AND value = '1') || ',', '') END granted FROM (SELECT DISTINCT ON "
    "(person_id, attr) person_id, attr, value FROM elig_person_changes WHERE person_id = "
    "ANY($1::text[]) AND effective_from <= (now() AT TIME ZONE 'Asia/Shanghai')::date ORDER BY "
    "person_id, attr, effective_from DESC, recorded_at DESC, event_id DESC) l GROUP BY person_id) "
    "s WHERE "
    "p.person_id = s.person_id AND (p.category, p.grade, p.care_level, p.household, p.status, "
    "p.granted, p.evidence) IS DISTINCT FROM (coalesce(s.category, p.category), "
    "coalesce(s.grade::int, p.grade), coalesce(s.care_level::int, p.care_level), "
    "coalesce(s.household, p.household), coalesce(s.status, p.status), coalesce(s.granted, "
    "p.granted), coalesce(s.evidence, p.evidence))";

PGresult *registry_settle(registry *r, const char *persons)
{
    char err[512];
    const char *q[] = {persons};
    PGresult *res = NULL;
    if (pg_exec(r->pg, registry_snapshot_sql, 1, q, err, sizeof(err)) < 0 ||
        (res = pg_query(r->pg,
                        "UPDATE elig_cards c SET status = CASE c.status WHEN 'active' THEN "
                        "'frozen' ELSE 'active' END, frozen_by = CASE c.status WHEN 'active' "
                        "THEN 'eligibility' END, updated_at = now() FROM elig_persons p WHERE "
                        "p.person_id = c.person_id AND c.person_id = ANY($1::text[]) AND "
                        "((c.status = 'active' AND p.status <> 'active') OR (c.status = "
                        "'frozen' AND c.frozen_by = 'eligibility' AND p.status = 'active')) "
                        "RETURNING c.card_no, c.person_id, p.status, c.status",
                        1, q, err, sizeof(err))) == NULL)
        registry_fail("%s", err);
    return res;
}

int registry_settled(registry *r, PGresult *cards)
{
    int n = cards ? PQntuples(cards) : 0, rc = 0;
    /* at once: the gateway reads the card's status on the next swipe */
    for (int i = 0; i < n; i++)
        directory_set_card_status(&r->dir, PQgetvalue(cards, i, 0), PQgetvalue(cards, i, 3));
    if (n > 0 && registry_sync(r) < 0)
        rc = -1;
    for (int i = 0; i < n; i++) {
        const char *card = PQgetvalue(cards, i, 0), *st = PQgetvalue(cards, i, 2);
        bool stop = strcmp(PQgetvalue(cards, i, 3), "frozen") == 0;
        if (registry_card_status_changed(r, card, PQgetvalue(cards, i, 1),
                                         stop ? "active" : "frozen", stop ? "frozen" : "active",
                                         !stop                         ? "reinstated"
                                         : strcmp(st, "deceased") == 0 ? "death"
                                                                       : st) < 0)
            rc = -1;
        char masked[CARD_MASKED_MAX];
        log_info(stop ? "card_frozen" : "card_unfrozen", "card %s: person %s",
                 card_mask(masked, sizeof(masked), card), st);
    }
    if (n > 0 && registry_flush(r) > 0)
        rc = -1;
    PQclear(cards);
    return rc;
}

int registry_flush(registry *r)
{
    int left = kafka_producer_flush(r->kp, 60000);
    if (left > 0)
        registry_fail("publish: %d event(s) not acknowledged within 60 s", left);
    int failed = r->delivery_failures + left;
    r->delivery_failures = 0;
    return failed;
}

int registry_sync(registry *r)
{
    char err[512];
    if (directory_sync(&r->dir, err, sizeof(err)) < 0) {
        registry_fail("directory: %s", err);
        return -1;
    }
    return 0;
}

int registry_catalogue(registry *r, int32_t day, catalogue *c)
{
    char err[512], when[RULES_DATE_LEN];
    rules_date_format(when, day);
    PGresult *ver = pg_query(r->pg,
                             "SELECT version_id, effective - DATE '1970-01-01' FROM "
                             "elig_catalogue_versions",
                             0, NULL, err, sizeof(err));
    if (ver == NULL) {
        registry_fail("%s", err);
        return -1;
    }
    int n = PQntuples(ver);
    catalogue_version *v = calloc((size_t)n + 1, sizeof(*v));
    for (int i = 0; v && i < n; i++) {
        v[i].id = atoi(PQgetvalue(ver, i, 0));
        v[i].effective_day = (int32_t)atol(PQgetvalue(ver, i, 1));
    }
    PQclear(ver);
    if (v == NULL) {
        registry_fail("out of memory");
        return -1;
    }
    int32_t until = 0;
    int k = catalogue_version_pick(v, n, day, &until);
    int vid = k >= 0 ? v[k].id : 0;
    int32_t eff = k >= 0 ? v[k].effective_day : 0;
    free(v);
    if (k < 0) {
        registry_fail("没有 %s 生效的服务目录 / no catalogue in force on %s (run: "
                      "onecard-eligibility catalogue load FILE [--effective YYYY-MM-DD])",
                      when, when);
        return -1;
    }
    if (registry_catalogue_version(r, vid, c) < 0)
        return -1;
    c->effective_day = eff;
    c->until_day = until;
    return 0;
}

int registry_catalogue_version(registry *r, int vid, catalogue *c)
{
    char err[512], id[16];
    snprintf(id, sizeof(id), "%d", vid);
    const char *vp[] = {id};
    PGresult *res = pg_query(
        r->pg,
        "SELECT version, code, category, name_zh, name_en, item_group, unit, kind, CASE WHEN "
        "application THEN 'yes' ELSE 'no' END, standard_fen, "
        "tier_rule, "
        "eligibility, annual_cap_fen, daily_cap_fen, coalesce(exclusive_group, '-'), "
        "coalesce(fund_shares, fund_source), "
        "programme, CASE WHEN issued THEN 'yes' ELSE 'no' END, effective_from, "
        "coalesce(effective_to::text, '-'), CASE WHEN is_default THEN 'yes' ELSE 'no' END, "
        "procedure, legal_basis, attendance_weeks, credit_ends FROM elig_catalogue_version_items "
        "WHERE "
        "version_id = $1::int ORDER BY code",
        1, vp, err, sizeof(err));
    PGresult *tiers = res ? pg_query(r->pg,
                                     "SELECT tier, when_rule, value, legal_basis FROM "
                                     "elig_catalogue_version_tiers WHERE version_id = $1::int "
                                     "ORDER BY tier, ord",
                                     1, vp, err, sizeof(err))
                          : NULL;
    if (res == NULL || tiers == NULL) {
        registry_fail("%s", err);
        PQclear(res);
        return -1;
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        PQclear(tiers);
        registry_fail("catalogue version %d has no items", vid);
        return -1;
    }
    size_t cap = 4096 + (size_t)PQntuples(res) * 2048 + (size_t)PQntuples(tiers) * 1024, len = 0;
    char *buf = malloc(cap);
    if (buf == NULL) {
        PQclear(res);
        PQclear(tiers);
        return -1;
    }
    len += (size_t)snprintf(
        buf, cap,
        "# version: %s\ncode\tcategory\tname_zh\tname_en\tgroup\tunit\t"
        "kind\tapplication\tstandard_fen\ttier\teligibility\tannual_cap_fen\tdaily_cap_fen\t"
        "exclusive\tfund_source\tprogramme\tissued\teffective_from\t"
        "effective_to\tdefault\tprocedure\tlegal_basis\tattendance_weeks\tcredit_ends\n",
        PQgetvalue(res, 0, 0));
    for (int i = 0; i < PQntuples(res); i++) {
        for (int k = 1; k < 25 && len < cap; k++)
            len += (size_t)snprintf(buf + len, cap - len, "%s%c", PQgetvalue(res, i, k),
                                    k == 24 ? '\n' : '\t');
    }
    PQclear(res);
    if (len < cap)
        len += (size_t)snprintf(buf + len, cap - len, "tier\twhen\tvalue\tlegal_basis\n");
    for (int i = 0; i < PQntuples(tiers) && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s\t%s\t%s\t%s\n", PQgetvalue(tiers, i, 0),
                                PQgetvalue(tiers, i, 1), PQgetvalue(tiers, i, 2),
                                PQgetvalue(tiers, i, 3));
    PQclear(tiers);
    int rc = catalogue_parse_stored(c, buf, len < cap ? len : cap, err, sizeof(err));
    free(buf);
    if (rc < 0) {
        registry_fail("stored catalogue version %d: %s", vid, err);
        return rc;
    }
    c->version_id = vid;
    return 0;
}

void registry_project_item(registry *r, const rules_item *it)
{
    /* earmarked: every item is spent from its own wallet, named by its code
     * (the catalogue's group is only a grouping for display) */
    directory_item di = {it->code,          it->code,           it->category, it->standard_fen,
                         it->daily_cap_fen, it->annual_cap_fen, it->kind};
    directory_put_item(&r->dir, &di);
}

void registry_project_entitlements(registry *r, const catalogue *c, const char *card_no,
                                   const rules_person *p, int32_t today)
{
    rules_entitlement e[CATALOGUE_MAX_ITEMS];
    rules_entitlements(c->items, c->nitems, p, today, e);
    for (int i = 0; i < c->nitems; i++) {
        const rules_item *it = &c->items[i];
        if (e[i].entitled)
            directory_put_entitlement(&r->dir, card_no, it->code, e[i].annual_cap_fen, 0,
                                      it->fund_source);
        else
            directory_del_entitlement(&r->dir, card_no, it->code);
    }
}

int32_t registry_today(void)
{
    calendar_date c = calendar_of_ms(event_now_ms(), registry_tz_offset_min);
    return (int32_t)calendar_days_from_civil(c.year, c.month, c.day);
}

rules_person registry_person_row(const PGresult *res, int row, int col)
{
    int32_t bday = 0;
    char why[128];
    if (rules_date_parse(PQgetvalue(res, row, col + 5), &bday, why, sizeof(why)) < 0)
        bday = 0;
    rules_person p = {PQgetvalue(res, row, col),           PQgetvalue(res, row, col + 1),
                      PQgetvalue(res, row, col + 2),       atoi(PQgetvalue(res, row, col + 3)),
                      atoi(PQgetvalue(res, row, col + 4)), bday,
                      PQgetvalue(res, row, col + 6),       PQgetvalue(res, row, col + 7)};
    return p;
}

const char registry_quotes_sql[] =
    "coalesce((SELECT string_agg(item_code || '=' || provider_id, ',') FROM (SELECT DISTINCT ON "
    "(item_code) item_code, provider_id FROM elig_quotes q WHERE q.person_id = p.person_id AND "
    "q.state = 'approved' ORDER BY item_code, decided_at DESC) x), '')";

void registry_project_quotes(registry *r, const char *card_no, const char *bindings)
{
    for (const char *s = bindings; s && *s;) {
        size_t n = strcspn(s, ",");
        char pair[200];
        if (n < sizeof(pair)) {
            memcpy(pair, s, n);
            pair[n] = '\0';
            char *eq = strchr(pair, '=');
            if (eq) {
                *eq = '\0';
                directory_put_quote(&r->dir, card_no, pair, eq + 1);
            }
        }
        s += n + (s[n] == ',');
    }
}

int registry_project_person(registry *r, const char *pid)
{
    char err[512], sql[1024];
    const char *p[] = {pid};
    snprintf(sql, sizeof(sql),
             "SELECT c.card_no, " REGISTRY_PERSON_COLS ", %s FROM elig_persons p JOIN elig_cards "
             "c USING (person_id) WHERE "
             "p.person_id = $1 AND c.status IN ('active', 'frozen')",
             registry_quotes_sql);
    PGresult *res = pg_query(r->pg, sql, 1, p, err, sizeof(err));
    if (res == NULL) {
        registry_fail("%s", err);
        return -1;
    }
    int rc = 0;
    if (PQntuples(res) == 1) {
        catalogue c;
        if (registry_catalogue(r, registry_today(), &c) < 0) {
            PQclear(res);
            return -1;
        }
        rules_person rp = registry_person_row(res, 0, 1);
        registry_project_entitlements(r, &c, PQgetvalue(res, 0, 0), &rp, registry_today());
        registry_project_quotes(r, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, PQnfields(res) - 1));
        attendance_project_card(r, PQgetvalue(res, 0, 0), pid);
        rc = registry_sync(r);
        catalogue_free(&c);
    }
    PQclear(res);
    return rc;
}

void registry_pin_hash(const registry *r, const char *card_no, const char *pin, char salt[33],
                       char hash[41])
{
    sign_pin_new(salt, hash, r->cfg->pin_pepper, card_no, pin);
}

void registry_card_make(const registry *r, const char *seq, const char *pin, registry_card *out)
{
    snprintf(out->card_no, sizeof(out->card_no), "62881%.10s", seq);
    size_t cl = strlen(out->card_no);
    out->card_no[cl] = card_check_digit(out->card_no);
    out->card_no[cl + 1] = '\0';
    if (pin) {
        snprintf(out->pin, sizeof(out->pin), "%s", pin);
    } else {
        unsigned char rnd[6];
        event_random(rnd, sizeof(rnd));
        for (int k = 0; k < 6; k++)
            out->pin[k] = (char)('0' + rnd[k] % 10);
        out->pin[6] = '\0';
    }
    registry_pin_hash(r, out->card_no, out->pin, out->salt, out->hash);
}
