/*
 * scripts: see scripts.h. The sources are embedded from lua/ at build time
 * (lua_scripts.h).
 */
#include "scripts.h"

#include "lua_scripts.h"

#include "common/log.h"

#include <string.h>

#define SCRIPTS_COUNT(P, N, s) +1
#define SCRIPTS_DEF(name, KEYS, ARGS, variadic_)                                                   \
    static const char *const name##_keys[] = {KEYS(SCRIPTS_NAME, _)};                              \
    static const char *const name##_args[] = {ARGS(SCRIPTS_NAME, _)};                              \
    scripts_def scripts_##name = {                                                                 \
        {0},      name##_keys, name##_args, 0 KEYS(SCRIPTS_COUNT, _), 0 ARGS(SCRIPTS_COUNT, _),    \
        variadic_};

SCRIPTS_DEF(swipe, SWIPE_KEYS, SWIPE_ARGS, false)
SCRIPTS_DEF(release, RELEASE_KEYS, RELEASE_ARGS, false)
SCRIPTS_DEF(reverse, REVERSE_KEYS, REVERSE_ARGS, false)
SCRIPTS_DEF(unreverse, UNREVERSE_KEYS, UNREVERSE_ARGS, false)
SCRIPTS_DEF(rate, ONSWIPE_KEYS, RATE_ARGS, true)
SCRIPTS_DEF(unrate, ONSWIPE_KEYS, UNDO_ARGS, false)
SCRIPTS_DEF(finalize, FINALIZE_KEYS, FINALIZE_ARGS, false)
SCRIPTS_DEF(balance, BALANCE_KEYS, BALANCE_ARGS, false)
SCRIPTS_DEF(claim, CLAIM_KEYS, CLAIM_ARGS, false)
SCRIPTS_DEF(heartbeat, HEARTBEAT_KEYS, HEARTBEAT_ARGS, false)
SCRIPTS_DEF(forget, FORGET_KEYS, FORGET_ARGS, false)

scripts_def *const scripts_all[] = {&scripts_swipe,     &scripts_release, &scripts_reverse,
                                    &scripts_unreverse, &scripts_rate,    &scripts_unrate,
                                    &scripts_finalize,  &scripts_balance, &scripts_claim,
                                    &scripts_heartbeat, &scripts_forget,  NULL};

void scripts_setup(void)
{
    static const struct {
        scripts_def *s;
        const char *name, *source;
    } src[] = {
        {&scripts_swipe, "swipe", lua_swipe},
        {&scripts_release, "release", lua_release},
        {&scripts_reverse, "reverse", lua_reverse},
        {&scripts_unreverse, "unreverse", lua_unreverse},
        {&scripts_rate, "rate", lua_rate},
        {&scripts_unrate, "unrate", lua_unrate},
        {&scripts_finalize, "finalize", lua_finalize},
        {&scripts_balance, "balance", lua_balance},
        {&scripts_claim, "claim", lua_claim},
        {&scripts_heartbeat, "heartbeat", lua_heartbeat},
        {&scripts_forget, "forget", lua_forget},
    };
    for (size_t i = 0; i < sizeof(src) / sizeof(src[0]); i++)
        redis_script_init(&src[i].s->script, src[i].name, src[i].source);
}

#define SCRIPTS_MAX_ARGV 64

int scripts_call(redis_client *c, const scripts_def *s, const char *const *keys,
                 const char *const *args, int nargs, redis_reply_fn cb, void *arg)
{
    int argc = s->nkeys + nargs;
    if (nargs < s->nargs - (s->variadic ? 1 : 0) || (!s->variadic && nargs != s->nargs) ||
        argc > SCRIPTS_MAX_ARGV) {
        log_error("script_call_refused", "%s.lua takes %d keys and %d%s arguments, given %d",
                  s->script.name, s->nkeys, s->nargs, s->variadic ? "+" : "", nargs);
        return -1;
    }
    const char *argv[SCRIPTS_MAX_ARGV];
    size_t argvlen[SCRIPTS_MAX_ARGV];
    for (int i = 0; i < argc; i++) {
        argv[i] = i < s->nkeys ? keys[i] : args[i - s->nkeys];
        if (argv[i] == NULL) {
            log_error("script_call_refused", "%s.lua: %s %s is missing", s->script.name,
                      i < s->nkeys ? "key" : "argument",
                      i < s->nkeys
                          ? s->keys[i]
                          : s->args[i - s->nkeys < s->nargs ? i - s->nkeys : s->nargs - 1]);
            return -1;
        }
        argvlen[i] = strlen(argv[i]);
    }
    return redis_evalsha(c, &s->script, s->nkeys, argc, argv, argvlen, cb, arg);
}
