/*
 * test_resume: the rules for a request another gateway left in flight
 * (services/card-gateway/resume.c): which part of a swipe record is taken
 * over and when, how a record is read into the event's fields, the
 * in-flight members, and that the fields read are the ones the scripts
 * write.
 */
#include "check.h"
#include "lua_scripts.h"
#include "resume.h"

#include <stdbool.h>
#include <string.h>

#define NOW   1000050000LL
#define AGE   30000LL
#define MAXKV 40

typedef struct kv {
    const char *name, *value;
} kv;

/* A swipe record as the scripts leave it: an approved swipe owned by gw-a,
 * then whatever a row adds or overrides. */
static const kv base_record[] = {
    {"card", "6222000000000001234"},
    {"terminal", "T1"},
    {"provider", "P1"},
    {"item", "S07"},
    {"wallet", "rehab"},
    {"amount", "500"},
    {"fund", "central-2026"},
    {"at", "999990000"},
    {"day", "20261204"},
    {"year", "2026"},
    {"event", "ev-swipe"},
    {"state", "approved"},
    {"person", "p1"},
    {"request", "req-s"},
    {"approval", "123456"},
    {"balance", "9500"},
    {"gw", "gw-a"},
};

static resume_record build(const kv *extra, size_t nextra, const char **names, const char **values)
{
    size_t n = 0;
    for (size_t i = 0; i < sizeof(base_record) / sizeof(base_record[0]); i++) {
        bool overridden = false;
        for (size_t j = 0; j < nextra; j++)
            if (strcmp(extra[j].name, base_record[i].name) == 0)
                overridden = true;
        if (!overridden) {
            names[n] = base_record[i].name;
            values[n++] = base_record[i].value;
        }
    }
    for (size_t j = 0; j < nextra; j++)
        if (extra[j].value != NULL) { /* NULL: the field is absent */
            names[n] = extra[j].name;
            values[n++] = extra[j].value;
        }
    return (resume_record){n, names, values};
}

static bool alive_ab(const char *id, void *arg)
{
    (void)arg;
    return strcmp(id, "gw-a") == 0 || strcmp(id, "gw-b") == 0;
}

static bool alive_none(const char *id, void *arg)
{
    (void)arg;
    (void)id;
    return false;
}

#define PENDING_SWIPE                                                                              \
    {                                                                                              \
        "state", "pending"                                                                         \
    }
#define REVERSAL(state, gw)                                                                        \
    {"state", "reversed"}, {"reversal_event", "ev-rv"}, {"rv_state", state},                       \
        {"rv_request", "req-rv"}, {"rv_at", "999995000"}, {"rv_balance", "10000"},                 \
    {                                                                                              \
        "rv_gw", gw                                                                                \
    }
#define RATING(state, gw)                                                                          \
    {"rated", "1"}, {"rt_state", state}, {"rt_event", "ev-rt"}, {"rt_request", "req-rt"},          \
        {"rt_at", "999999000"}, {"rt_score", "4"}, {"rt_ntags", "2"}, {"rt_tag1", "on_time"},      \
        {"rt_tag2", "kind"},                                                                       \
    {                                                                                              \
        "rt_gw", gw                                                                                \
    }

static void test_decide(void)
{
    static const struct {
        const char *what;
        kv extra[12];
        int kind;
        const char *me, *dead;
        bool everyone_dead;
        int64_t now;
        resume_verdict want;
    } rows[] = {
        {"an approved swipe is final",
         {{NULL, NULL}},
         's',
         "gw-c",
         NULL,
         true,
         NOW,
         RESUME_NOTHING},
        {"a pending swipe of a live gateway is left to it",
         {PENDING_SWIPE},
         's',
         "gw-c",
         NULL,
         false,
         NOW,
         RESUME_LIVE},
        {"our own pending swipe is ours to finish",
         {PENDING_SWIPE},
         's',
         "gw-a",
         NULL,
         true,
         NOW,
         RESUME_LIVE},
        {"the sweep takes an old pending swipe of a dead gateway",
         {PENDING_SWIPE},
         's',
         "gw-c",
         NULL,
         true,
         NOW,
         RESUME_TAKE},
        {"the sweep waits on a young one",
         {PENDING_SWIPE},
         's',
         "gw-c",
         NULL,
         true,
         999990000 + AGE - 1,
         RESUME_YOUNG},
        {"exactly the age is old enough",
         {PENDING_SWIPE},
         's',
         "gw-c",
         NULL,
         true,
         999990000 + AGE,
         RESUME_TAKE},
        {"a record written before owners: the sweep takes it",
         {PENDING_SWIPE, {"gw", NULL}},
         's',
         "gw-c",
         NULL,
         false,
         NOW,
         RESUME_TAKE},
        {"a dead gateway's member: taken at once, whatever its age",
         {PENDING_SWIPE},
         's',
         "gw-c",
         "gw-a",
         false,
         999990001,
         RESUME_TAKE},
        {"a dead set's member owned by another live gateway now",
         {PENDING_SWIPE, {"gw", "gw-b"}},
         's',
         "gw-c",
         "gw-a",
         false,
         NOW,
         RESUME_NOTHING},
        {"a dead set's member claimed by a gateway that died too",
         {PENDING_SWIPE, {"gw", "gw-z"}},
         's',
         "gw-c",
         "gw-a",
         false,
         NOW,
         RESUME_TAKE},
        {"our own member left behind, still ours",
         {PENDING_SWIPE, {"gw", "gw-c"}},
         's',
         "gw-c",
         "gw-c",
         false,
         NOW,
         RESUME_TAKE},
        {"our own member left behind, taken over meanwhile",
         {PENDING_SWIPE, {"gw", "gw-b"}},
         's',
         "gw-c",
         "gw-c",
         false,
         NOW,
         RESUME_NOTHING},
        {"our own member left behind, final meanwhile",
         {{NULL, NULL}},
         's',
         "gw-c",
         "gw-c",
         false,
         NOW,
         RESUME_NOTHING},
        {"a dead set's member already ours",
         {PENDING_SWIPE, {"gw", "gw-c"}},
         's',
         "gw-c",
         "gw-a",
         false,
         NOW,
         RESUME_LIVE},
        {"a dead set's member already final",
         {{NULL, NULL}},
         's',
         "gw-c",
         "gw-a",
         false,
         NOW,
         RESUME_NOTHING},
        {"a pending reversal of a dead gateway",
         {REVERSAL("pending", "gw-d")},
         'r',
         "gw-c",
         NULL,
         false,
         NOW,
         RESUME_TAKE},
        {"its swipe part is final",
         {REVERSAL("pending", "gw-d")},
         's',
         "gw-c",
         NULL,
         true,
         NOW,
         RESUME_NOTHING},
        {"a reversal made final",
         {REVERSAL("done", "gw-d")},
         'r',
         "gw-c",
         NULL,
         true,
         NOW,
         RESUME_NOTHING},
        {"a pending reversal of a live gateway",
         {REVERSAL("pending", "gw-b")},
         'r',
         "gw-c",
         NULL,
         false,
         NOW,
         RESUME_LIVE},
        {"a dead gateway's pending reversal",
         {REVERSAL("pending", "gw-d")},
         'r',
         "gw-c",
         "gw-d",
         false,
         NOW,
         RESUME_TAKE},
        {"a young pending reversal",
         {REVERSAL("pending", "gw-d")},
         'r',
         "gw-c",
         NULL,
         false,
         999995000 + 10,
         RESUME_YOUNG},
        {"a pending rating of a dead gateway",
         {RATING("pending", "gw-d")},
         't',
         "gw-c",
         NULL,
         false,
         NOW + AGE,
         RESUME_TAKE},
        {"a rating made final",
         {RATING("done", "gw-d")},
         't',
         "gw-c",
         "gw-d",
         false,
         NOW,
         RESUME_NOTHING},
        {"a swipe never rated has no rating part",
         {{NULL, NULL}},
         't',
         "gw-c",
         NULL,
         true,
         NOW,
         RESUME_NOTHING},
        {"an unknown part", {PENDING_SWIPE}, 'x', "gw-c", NULL, true, NOW, RESUME_NOTHING},
        {"an unreadable time is taken (resume_read says why)",
         {PENDING_SWIPE, {"at", "soon"}},
         's',
         "gw-c",
         NULL,
         true,
         NOW,
         RESUME_TAKE},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *names[MAXKV], *values[MAXKV];
        size_t nextra = 0;
        while (nextra < 12 && rows[i].extra[nextra].name != NULL)
            nextra++;
        resume_record r = build(rows[i].extra, nextra, names, values);
        resume_verdict v =
            resume_decide(&r, rows[i].kind, rows[i].me, rows[i].dead,
                          rows[i].everyone_dead ? alive_none : alive_ab, NULL, rows[i].now, AGE);
        CHECK(v == rows[i].want, "%s: got %d want %d", rows[i].what, (int)v, (int)rows[i].want);
    }
}

static void test_read(void)
{
    const char *names[MAXKV], *values[MAXKV];
    char err[160];
    resume_request q;

    kv sw[] = {PENDING_SWIPE};
    resume_record r = build(sw, 1, names, values);
    CHECK(resume_read(&r, 's', "abcd1234-00", &q, err, sizeof(err)) == 0, "swipe: %s", err);
    CHECK(strcmp(q.event_id, "ev-swipe") == 0 && strcmp(q.request_id, "req-s") == 0 &&
              q.amount == 500 && q.balance == 9500 && q.at_ms == 999990000 &&
              strcmp(q.approval, "123456") == 0 && strcmp(q.owner, "gw-a") == 0,
          "swipe fields");

    kv rv[] = {REVERSAL("pending", "gw-d")};
    r = build(rv, 7, names, values);
    CHECK(resume_read(&r, 'r', "abcd1234-00", &q, err, sizeof(err)) == 0, "reversal: %s", err);
    CHECK(strcmp(q.event_id, "ev-rv") == 0 && strcmp(q.request_id, "req-rv") == 0 &&
              q.amount == 500 && q.balance == 10000 && q.at_ms == 999995000 &&
              strcmp(q.terminal_id, "T1") == 0 && strcmp(q.owner, "gw-d") == 0,
          "reversal fields: the reversal's event, request, time and balance, the swipe's card "
          "and terminal");

    kv rt[] = {RATING("pending", "gw-d")};
    r = build(rt, 10, names, values);
    CHECK(resume_read(&r, 't', "abcd1234-00", &q, err, sizeof(err)) == 0, "rating: %s", err);
    CHECK(strcmp(q.event_id, "ev-rt") == 0 && q.score == 4 && q.ntags == 2 &&
              strcmp(q.tags[0], "on_time") == 0 && strcmp(q.tags[1], "kind") == 0 &&
              strcmp(q.provider_id, "P1") == 0,
          "rating fields");

    static const struct {
        const char *what;
        kv extra[2];
        int kind;
        const char *want;
    } bad[] = {
        {"no card", {{"card", NULL}}, 's', "field card is missing"},
        {"no amount", {{"amount", NULL}}, 's', "field amount is missing or not an integer"},
        {"amount not a number",
         {{"amount", "5x"}},
         's',
         "field amount is missing or not an integer"},
        {"no approval", {{"approval", NULL}}, 's', "field approval is missing"},
        {"a reversal without its request",
         {{"reversal_event", "e"}, {"rv_at", "1"}},
         'r',
         "field rv_request is missing"},
        {"a rating without a score",
         {{"rt_event", "e"}, {"rt_request", "q"}},
         't',
         "field rt_at is missing or not an integer"},
        {"an unknown part", {{"card", "1"}}, 'x', "unknown part 'x'"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t n = bad[i].extra[1].name ? 2 : 1;
        r = build(bad[i].extra, n, names, values);
        err[0] = '\0';
        CHECK(resume_read(&r, bad[i].kind, "abcd1234-00", &q, err, sizeof(err)) == -1 &&
                  strcmp(err, bad[i].want) == 0,
              "%s: got \"%s\"", bad[i].what, err);
    }
    kv badscore[] = {{"rt_score", "9"}, RATING("pending", "gw-d")}; /* the first one counts */
    r = build(badscore, 11, names, values);
    CHECK(resume_read(&r, 't', "abcd1234-00", &q, err, sizeof(err)) == -1 &&
              strcmp(err, "field rt_score is out of 1..5") == 0,
          "score out of range: %s", err);
}

static void test_members(void)
{
    char m[400], key[320];
    int kind;
    CHECK(resume_member(m, sizeof(m), 'r', "swipe:{c:abcd1234}:abcd1234-00", "ev1") > 0 &&
              strcmp(m, "r|swipe:{c:abcd1234}:abcd1234-00|ev1") == 0,
          "member %s", m);
    CHECK(resume_member_parse(m, &kind, key, sizeof(key)) == 0 && kind == 'r' &&
              strcmp(key, "swipe:{c:abcd1234}:abcd1234-00") == 0,
          "parsed back");
    static const char *const bad[] = {"", "r", "r|", "r|key", "x|key|ev", "r||ev", "rr|key|ev"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(resume_member_parse(bad[i], &kind, key, sizeof(key)) == -1, "bad member \"%s\"",
              bad[i]);
    CHECK(resume_member_parse("s|k|e", &kind, key, 1) == -1, "a key that does not fit");
    CHECK(strcmp(resume_kind_name('s'), "swipe") == 0 &&
              strcmp(resume_kind_name('r'), "reversal") == 0 &&
              strcmp(resume_kind_name('t'), "rating") == 0 && resume_kind_name('x') == NULL,
          "part names");
}

/* Every field resume.c reads for a part is written by that part's script,
 * and the finalize, claim and undo scripts name the same state and owner. */
static void test_scripts_write_what_is_read(void)
{
    static const struct {
        const char *script_name, *script, *fields;
    } rows[] = {
        {"swipe.lua", lua_swipe,
         "'card' 'terminal' 'provider' 'item' 'wallet' 'amount' 'fund' 'at' 'event' 'state' "
         "'person' 'request' 'approval' 'balance' 'gw' 'pending'"},
        {"reverse.lua", lua_reverse,
         "'reversal_event' 'rv_state' 'rv_request' 'rv_at' 'rv_balance' 'rv_gw' 'pending'"},
        {"rate.lua", lua_rate,
         "'rt_state' 'rt_event' 'rt_request' 'rt_at' 'rt_score' 'rt_ntags' 'rt_tag' 'rt_gw'"},
        {"claim.lua", lua_claim, "'state' 'gw' 'rv_state' 'rv_gw' 'rt_state' 'rt_gw' 'pending'"},
        {"finalize.lua", lua_finalize, "'rv_state' 'rt_state' 'reversal' 'rating' 'pending'"},
        {"release.lua", lua_release, "'state' 'gw' 'pending'"},
        {"unreverse.lua", lua_unreverse, "'reversal_event' 'rv_state' 'rv_gw' 'pending'"},
        {"unrate.lua", lua_unrate, "'rt_event' 'rt_state' 'rt_gw' 'rt_ntags' 'pending'"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char buf[400];
        snprintf(buf, sizeof(buf), "%s", rows[i].fields);
        for (char *tok = strtok(buf, " "); tok; tok = strtok(NULL, " "))
            CHECK(strstr(rows[i].script, tok) != NULL, "%s names %s", rows[i].script_name, tok);
    }
}

int main(void)
{
    test_decide();
    test_read();
    test_members();
    test_scripts_write_what_is_read();
    return CHECK_DONE();
}
