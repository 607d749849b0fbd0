/*
 * test_shares: the fund shares of an item and the split to the fen
 * (libs/common/shares.c): parsing the catalogue's basis points, the split
 * by weights (1 fen, odd amounts, three levels, negative amounts, zero
 * weights, a wallet's balances as weights), and the amounts' text form.
 */
#include "check.h"
#include "common/shares.h"

#include <stdio.h>
#include <string.h>

static void test_parse(void)
{
    static const struct {
        const char *in;
        bool ok;
        const char *want; /* shares_format of the result, or a word of the error */
    } rows[] = {
        {"central", true, "central:10000"},
        {"district", true, "district:10000"},
        {"central:10000", true, "central:10000"},
        {"central:5000,provincial:3000,municipal:2000", true,
         "central:5000,provincial:3000,municipal:2000"},
        {"municipal:1,central:9999", true, "municipal:1,central:9999"},
        {"central:2500,provincial:2500,municipal:2500,district:2500", true,
         "central:2500,provincial:2500,municipal:2500,district:2500"},
        {"central:5000,provincial:3000,municipal:1999", false, "9999"},
        {"central:5000,provincial:5001", false, "10001"},
        {"central:5000", false, "5000"},
        {"central,provincial", false, "20000"},
        {"central:5000,central:5000", false, "twice"},
        {"federal:10000", false, "federal"},
        {"Central", false, "not a fund level"},
        {"", false, "empty"},
        {"central:", false, "basis points"},
        {"central:0,provincial:10000", false, "basis points"},
        {"central:-5000,provincial:15000", false, "basis points"},
        {"central:10001", false, "basis points"},
        {"central:5e3,provincial:5000", false, "basis points"},
        {"central:5000,", false, "empty share"},
        {",central", false, "empty share"},
        {"central:5000,,provincial:5000", false, "empty share"},
        {"central: 5000,provincial:5000", false, "basis points"},
        {"central:99999999999999999999", false, "basis points"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        shares s;
        char err[256] = "", text[SHARES_TEXT_MAX];
        int rc = shares_parse(rows[i].in, &s, err, sizeof(err));
        if (rows[i].ok)
            CHECK(rc == 0 && strcmp(shares_format(&s, text, sizeof(text)), rows[i].want) == 0,
                  "\"%s\": rc %d err %s", rows[i].in, rc, err);
        else
            CHECK(rc == -1 && strstr(err, rows[i].want) != NULL, "\"%s\": rc %d err \"%s\"",
                  rows[i].in, rc, err);
    }
    shares s;
    char err[128];
    CHECK(shares_parse(NULL, &s, err, sizeof(err)) == -1, "NULL");
}

/* Weights written "level:n,level:n", zeros allowed (shares_parse_amounts
 * refuses a zero amount, a wallet's balance may well be zero). */
static int test_weights(const char *p, shares *w)
{
    memset(w, 0, sizeof(*w));
    while (*p && w->n < SHARES_LEVELS) {
        char name[16];
        long long v;
        int used;
        if (sscanf(p, "%15[a-z]:%lld%n", name, &v, &used) != 2 || shares_level_parse(name) < 0)
            return -1;
        w->level[w->n] = (shares_level)shares_level_parse(name);
        w->v[w->n++] = v;
        p += used;
        if (*p == ',')
            p++;
    }
    return *p ? -1 : 0;
}

/* Each row: amount, weights as text (amount form), the split wanted. */
static void test_split(void)
{
    static const struct {
        const char *name;
        int64_t amount;
        const char *weights;
        const char *want;
    } rows[] = {
        {"1 fen, three levels: to the largest share", 1,
         "central:5000,provincial:3000,municipal:2000", "central:1,provincial:0,municipal:0"},
        {"2 fen: 1 to central, the odd fen to the largest remainder (provincial)", 2,
         "central:5000,provincial:3000,municipal:2000", "central:1,provincial:1,municipal:0"},
        {"odd 10001 fen", 10001, "central:5000,provincial:3000,municipal:2000",
         "central:5001,provincial:3000,municipal:2000"},
        {"odd 333 fen", 333, "central:5000,provincial:3000,municipal:2000",
         "central:166,provincial:100,municipal:67"},
        {"ties to the level listed first", 1, "central:5000,provincial:5000",
         "central:1,provincial:0"},
        {"ties to the level listed first, order reversed", 1, "provincial:5000,central:5000",
         "provincial:1,central:0"},
        {"three equal thirds, 100 fen", 100, "central:1,provincial:1,municipal:1",
         "central:34,provincial:33,municipal:33"},
        {"three equal thirds, 101 fen", 101, "central:1,provincial:1,municipal:1",
         "central:34,provincial:34,municipal:33"},
        {"seed 002's ratio, 12,345 fen", 12345, "central:5420,provincial:2692,municipal:1888",
         "central:6691,provincial:3323,municipal:2331"},
        {"negative: minus the positive split", -333, "central:5000,provincial:3000,municipal:2000",
         "central:-166,provincial:-100,municipal:-67"},
        {"negative 1 fen", -1, "central:5000,provincial:3000,municipal:2000",
         "central:-1,provincial:0,municipal:0"},
        {"zero amount", 0, "central:5000,provincial:5000", "central:0,provincial:0"},
        {"a zero weight gets nothing, even the odd fen", 7, "central:0,provincial:1,municipal:1",
         "central:0,provincial:4,municipal:3"},
        {"single share", 98765, "district:10000", "district:98765"},
        {"four levels", 9, "central:2500,provincial:2500,municipal:2500,district:2500",
         "central:3,provincial:2,municipal:2,district:2"},
        {"a wallet's balances as weights", 1000, "central:2710,provincial:1350,municipal:940",
         "central:542,provincial:270,municipal:188"},
        {"balances, odd fen by remainder", 333, "central:2710,provincial:1350,municipal:940",
         "central:180,provincial:90,municipal:63"},
        {"all the balance", 5000, "central:2710,provincial:1350,municipal:940",
         "central:2710,provincial:1350,municipal:940"},
        {"the largest amount, large weights (no overflow)", 100000000000,
         "central:99999999999,provincial:1", "central:99999999999,provincial:1"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        shares w, out;
        char err[256] = "", text[SHARES_TEXT_MAX] = "";
        int rc = test_weights(rows[i].weights, &w);
        CHECK(rc == 0, "%s: weights", rows[i].name);
        rc = shares_split(rows[i].amount, &w, &out, err, sizeof(err));
        CHECK(rc == 0 && shares_sum(&out) == rows[i].amount &&
                  strcmp(shares_format(&out, text, sizeof(text)), rows[i].want) == 0,
              "%s: rc %d got %s want %s (%s)", rows[i].name, rc, text, rows[i].want, err);
    }
}

/* The sum is exact and each share is within one fen of its exact part, for
 * every amount from -1000 to 1000 over a few weight sets. */
static void test_split_exact(void)
{
    static const char *const weights[] = {
        "central:5000,provincial:3000,municipal:2000",
        "central:5420,provincial:2692,municipal:1888",
        "central:1,provincial:1,municipal:1",
        "central:3,district:7",
        "central:2500,provincial:2500,municipal:2500,district:2500",
    };
    int bad = 0;
    for (size_t k = 0; k < sizeof(weights) / sizeof(weights[0]); k++) {
        shares w, out;
        char err[128];
        if (shares_parse_amounts(weights[k], 100000, &w, err, sizeof(err)) < 0) {
            bad++;
            continue;
        }
        int64_t total = shares_sum(&w);
        for (int64_t a = -1000; a <= 1000; a++) {
            if (shares_split(a, &w, &out, err, sizeof(err)) < 0 || shares_sum(&out) != a) {
                bad++;
                continue;
            }
            for (int i = 0; i < out.n; i++) {
                /* |v * total - a * w| < total */
                int64_t d = out.v[i] * total - a * w.v[i];
                if (d <= -total || d >= total)
                    bad++;
            }
            shares neg;
            if (shares_split(-a, &w, &neg, err, sizeof(err)) < 0)
                bad++;
            for (int i = 0; i < out.n; i++)
                if (neg.v[i] != -out.v[i])
                    bad++;
        }
    }
    CHECK(bad == 0, "%d splits not exact", bad);
}

static void test_split_refused(void)
{
    shares w = {0}, out;
    char err[128] = "";
    CHECK(shares_split(5, &w, &out, err, sizeof(err)) == -1 && err[0], "no shares");
    w.n = 2;
    w.level[0] = SHARES_CENTRAL;
    w.level[1] = SHARES_PROVINCIAL;
    CHECK(shares_split(5, &w, &out, err, sizeof(err)) == -1 && strstr(err, "zero"),
          "zero weights: %s", err);
    w.v[0] = -1;
    w.v[1] = 3;
    CHECK(shares_split(5, &w, &out, err, sizeof(err)) == -1 && strstr(err, "negative"),
          "negative weight: %s", err);
    w.v[0] = INT64_MAX;
    w.v[1] = 1;
    CHECK(shares_split(5, &w, &out, err, sizeof(err)) == -1, "weights overflow");
}

static void test_amounts_text(void)
{
    static const struct {
        const char *in;
        bool ok;
    } rows[] = {
        {"central:271,provincial:135,municipal:94", true},
        {"central:-271,provincial:-135", true},
        {"central:0", false},
        {"central", false},
        {"central:1,central:2", false},
        {"central:1000001", false}, /* over the limit below */
        {"city:5", false},
        {"", false},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        shares s;
        char err[256] = "", text[SHARES_TEXT_MAX];
        int rc = shares_parse_amounts(rows[i].in, 1000000, &s, err, sizeof(err));
        CHECK((rc == 0) == rows[i].ok, "\"%s\": rc %d %s", rows[i].in, rc, err);
        if (rc == 0)
            CHECK(strcmp(shares_format(&s, text, sizeof(text)), rows[i].in) == 0,
                  "round trip \"%s\" -> \"%s\"", rows[i].in, text);
    }
    shares s = {0};
    shares_single(&s, SHARES_MUNICIPAL, 42);
    char text[SHARES_TEXT_MAX];
    CHECK(strcmp(shares_format(&s, text, sizeof(text)), "municipal:42") == 0, "single %s", text);
    s.n = 3;
    s.level[1] = SHARES_CENTRAL;
    s.v[1] = 0;
    s.level[2] = SHARES_DISTRICT;
    s.v[2] = 7;
    shares_drop_zero(&s);
    CHECK(strcmp(shares_format(&s, text, sizeof(text)), "municipal:42,district:7") == 0,
          "drop zero %s", text);
    CHECK(shares_level_parse("provincial") == SHARES_PROVINCIAL && shares_level_parse("x") == -1 &&
              strcmp(shares_level_name((shares_level)9), "?") == 0,
          "level names");
}

int main(void)
{
    test_parse();
    test_split();
    test_split_exact();
    test_split_refused();
    test_amounts_text();
    return CHECK_DONE();
}
