/*
 * test_scripts: the gateway's Lua scripts and C agree on every call's
 * arguments (services/card-gateway/scripts.h): each script's "-- @keys" and
 * "-- @argv" header lines name exactly the keys and arguments of its C
 * table, in the same order; every KEYS[n] and ARGV[n] a script uses is
 * within what it declares; no script builds a key of its own (keys come
 * from common/keys.h, passed in as KEYS, so that the layout has one home
 * and Redis Cluster sees every key a script touches); and a call that does
 * not match is refused.
 */
#include "check.h"
#include "scripts.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The names on the script's "-- @<tag> " line, split on spaces, into out. */
static int header_names(const char *src, const char *tag, char out[][48], int max)
{
    char want[32];
    snprintf(want, sizeof(want), "-- @%s ", tag);
    const char *line = strstr(src, want);
    if (line == NULL)
        return -1;
    line += strlen(want);
    int n = 0;
    while (*line && *line != '\n' && n < max) {
        while (*line == ' ')
            line++;
        size_t len = strcspn(line, " \n");
        if (len == 0)
            break;
        snprintf(out[n++], 48, "%.*s", (int)len, line);
        line += len;
    }
    return n;
}

/* The largest n of "<what>[n]" in the source. */
static int highest_index(const char *src, const char *what)
{
    int hi = 0;
    size_t wl = strlen(what);
    for (const char *p = strstr(src, what); p; p = strstr(p + 1, what)) {
        if (p[wl] != '[' || !isdigit((unsigned char)p[wl + 1]))
            continue;
        int v = atoi(p + wl + 1);
        if (v > hi)
            hi = v;
    }
    return hi;
}

/* The first code line (not a "--" comment) of src that holds a key's hash
 * tag or a quoted key prefix (keys.h's layout), or NULL. */
static const char *built_key(const char *src, char *line, size_t cap)
{
    static const char *const marks[] = {
        "{c:",    "{t:",     "{p:",     "{gw}",    "'card:", "'wallet:", "'holds:", "'caps:",
        "'idem:", "'swipe:", "'topup:", "'nonce:", "'term:", "'prov:",   "'gw:"};
    for (const char *p = src; *p;) {
        size_t len = strcspn(p, "\n");
        snprintf(line, cap, "%.*s", (int)len, p);
        p += len + (p[len] == '\n');
        const char *code = line + strspn(line, " ");
        if (strncmp(code, "--", 2) == 0)
            continue;
        for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
            if (strstr(code, marks[i]) != NULL)
                return line;
    }
    return NULL;
}

static void null_reply(redisReply *r, const char *e, void *arg)
{
}

int main(void)
{
    scripts_setup(); /* each script's name and source */
    size_t nall = 0;
    for (; scripts_all[nall]; nall++) {
        const scripts_def *d = scripts_all[nall];
        const char *name = d->script.name, *src = d->script.source;
        char names[64][48];
        int nk = header_names(src, "keys", names, 64);
        CHECK(nk == d->nkeys, "%s.lua declares %d keys, C has %d", name, nk, d->nkeys);
        for (int k = 0; k < nk && k < d->nkeys; k++)
            CHECK(strcmp(names[k], d->keys[k]) == 0,
                  "%s.lua key %d: \"%s\" in the script, \"%s\" in C", name, k + 1, names[k],
                  d->keys[k]);
        int na = header_names(src, "argv", names, 64);
        CHECK(na == d->nargs, "%s.lua declares %d arguments, C has %d", name, na, d->nargs);
        for (int a = 0; a < na && a < d->nargs; a++)
            CHECK(strcmp(names[a], d->args[a]) == 0,
                  "%s.lua argument %d: \"%s\" in the script, \"%s\" in C", name, a + 1, names[a],
                  d->args[a]);
        bool variadic = na > 0 && strstr(names[na - 1], "...") != NULL;
        CHECK(variadic == d->variadic, "%s.lua: variadic in the script %d, in C %d", name, variadic,
              d->variadic);
        CHECK(highest_index(src, "KEYS") <= d->nkeys, "%s.lua uses KEYS[%d] of %d", name,
              highest_index(src, "KEYS"), d->nkeys);
        CHECK(highest_index(src, "ARGV") <= d->nargs, "%s.lua uses ARGV[%d] of %d", name,
              highest_index(src, "ARGV"), d->nargs);
        char line[512];
        const char *built = built_key(src, line, sizeof(line));
        CHECK(built == NULL, "%s.lua builds a key instead of taking it in KEYS: %s", name,
              built ? built : "");
    }
    /* every script under lua/ has an interface: lua_scripts.h embeds 11 */
    CHECK(nall == 11, "%zu scripts with an interface", nall);
    /* calls that do not match the interface never reach Redis */
    const char *keys[8] = {"a", "b", "c", "d", "e", "f", "g", "h"};
    const char *args[24] = {0};
    for (int i = 0; i < 24; i++)
        args[i] = "x";
    CHECK(scripts_call(NULL, &scripts_finalize, keys, args, 2, null_reply, NULL) == -1,
          "too many arguments refused");
    CHECK(scripts_call(NULL, &scripts_swipe, keys, args, SWIPE_NARGS - 1, null_reply, NULL) == -1,
          "too few arguments refused");
    CHECK(scripts_call(NULL, &scripts_rate, keys, args, RATE_NARGS - 2, null_reply, NULL) == -1,
          "a rating without its score refused");
    const char *missing[SWIPE_NARGS] = {0};
    CHECK(scripts_call(NULL, &scripts_swipe, keys, missing, SWIPE_NARGS, null_reply, NULL) == -1,
          "an argument left NULL refused");
    return CHECK_DONE();
}
