/*
 * args: checking a command's arguments. See args.h.
 *
 * The messages are the ones operators and the end-to-end tests read
 * ("--grade \"9\" must be a whole number 1..4"); a command prints nothing
 * else about its arguments.
 */
#include "args.h"

#include "registry.h"

#include "common/card.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *args_opt(int argc, char **argv, const char *name)
{
    for (int i = 0; i + 1 < argc; i++)
        if (strncmp(argv[i], "--", 2) == 0 && strcmp(argv[i] + 2, name) == 0)
            return argv[i + 1];
    return NULL;
}

int args_check(int argc, char **argv, const char *allowed)
{
    int npos = 0;
    while (npos < argc && strncmp(argv[npos], "--", 2) != 0)
        npos++;
    for (int i = npos; i < argc; i += 2) {
        if (strncmp(argv[i], "--", 2) != 0) {
            registry_fail("unexpected argument \"%s\"", argv[i]);
            return -1;
        }
        char want[48];
        snprintf(want, sizeof(want), ",%s,", argv[i] + 2);
        char list[512];
        snprintf(list, sizeof(list), ",%s,", allowed);
        if (strstr(list, want) == NULL) {
            registry_fail("unknown option %s (allowed: %s)", argv[i], allowed);
            return -1;
        }
        if (i + 1 >= argc) {
            registry_fail("option %s needs a value", argv[i]);
            return -1;
        }
    }
    return npos;
}

int args_need(const char *v, const char *name)
{
    if (v == NULL || v[0] == '\0') {
        registry_fail("--%s is required", name);
        return -1;
    }
    return 0;
}

int args_int(const char *v, const char *name, int lo, int hi, int *out)
{
    char *end = NULL;
    long x = v ? strtol(v, &end, 10) : 0;
    if (v == NULL || v[0] == '\0' || *end != '\0' || x < lo || x > hi) {
        registry_fail("--%s \"%s\" must be a whole number %d..%d", name, v ? v : "", lo, hi);
        return -1;
    }
    *out = (int)x;
    return 0;
}

int args_pin(const char *pin)
{
    if (strlen(pin) != 6 || strspn(pin, "0123456789") != 6) {
        registry_fail("--pin must be 6 digits");
        return -1;
    }
    return 0;
}

int args_card(const char *card_no)
{
    if (!card_no_valid(card_no)) {
        registry_fail("card number %s fails the Luhn check or is not 16-19 digits", card_no);
        return -1;
    }
    return 0;
}

int args_reference(const char *v, const char *name)
{
    size_t n = strlen(v);
    if (n == 0 || n > 64 ||
        strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./-") != n) {
        registry_fail("--%s must be 1-64 of A-Z a-z 0-9 _ . / - (the document's number as "
                      "printed)",
                      name);
        return -1;
    }
    return 0;
}

int args_encoding(const char *v, encoding_kind *kind)
{
    char err[128];
    if (encoding_parse(v, kind, err, sizeof(err)) < 0) {
        registry_fail("%s", err);
        return -1;
    }
    return 0;
}

bool args_one_of(const char *v, const char *const *names)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(v, names[i]) == 0)
            return true;
    return false;
}
