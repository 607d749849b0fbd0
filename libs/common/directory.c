/*
 * directory: the Redis projection of the registry. See directory.h.
 */
#include "common/directory.h"
#include "common/keys.h"
#include "common/money.h"
#include "common/sign.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void directory_init(directory *d, redisContext *ctx)
{
    d->ctx = ctx;
    d->pending = 0;
    d->failed = 0;
}

static void directory_append(directory *d, int argc, const char **argv)
{
    if (redisAppendCommandArgv(d->ctx, argc, argv, NULL) == REDIS_OK)
        d->pending++;
    else
        d->failed++;
}

/* ------------------------------------------------------ catalogue value */

static const char *const directory_fields[] = {"wallet",     "standard", "daily_cap",
                                               "annual_cap", "category", "kind"};
static const char *const directory_kinds[DIRECTORY_KINDS] = {"credit", "priced", "quote",
                                                             "reimburse", "cash"};

const char *directory_kind_name(directory_kind k)
{
    return (unsigned)k < DIRECTORY_KINDS ? directory_kinds[k] : "?";
}

int directory_kind_parse(const char *s)
{
    for (int i = 0; s && i < DIRECTORY_KINDS; i++)
        if (strcmp(s, directory_kinds[i]) == 0)
            return i;
    return -1;
}

int directory_kind_pays_person(directory_kind k)
{
    return k == DIRECTORY_KIND_REIMBURSE || k == DIRECTORY_KIND_CASH;
}

int directory_item_format(const directory_item *it, char *out, size_t outlen, char *err,
                          size_t errlen)
{
    const char *text[] = {it->wallet, it->category};
    const size_t cap[] = {sizeof(((directory_value *)0)->wallet),
                          sizeof(((directory_value *)0)->category)};
    for (int i = 0; i < 2; i++) {
        const char *name = directory_fields[i == 0 ? 0 : 4];
        if (text[i] == NULL || (i == 0 && text[i][0] == '\0') || strlen(text[i]) >= cap[i] ||
            strchr(text[i], '|')) {
            snprintf(err, errlen, "catalogue item %.64s: %s is empty, longer than %zu or holds '|'",
                     it->code ? it->code : "?", name, cap[i] - 1);
            return -1;
        }
    }
    const int64_t fen[] = {it->standard_fen, it->daily_cap_fen, it->annual_cap_fen};
    for (int i = 0; i < 3; i++)
        if (!money_in_range(fen[i])) {
            snprintf(err, errlen,
                     "catalogue item %.64s: %s %" PRId64 " is out of range (0..%" PRId64 ")",
                     it->code ? it->code : "?", directory_fields[1 + i], fen[i], MONEY_MAX_FEN);
            return -1;
        }
    if ((unsigned)it->kind >= DIRECTORY_KINDS) {
        snprintf(err, errlen, "catalogue item %.64s: kind %d is unknown", it->code ? it->code : "?",
                 (int)it->kind);
        return -1;
    }
    int n = snprintf(out, outlen, "%s|%" PRId64 "|%" PRId64 "|%" PRId64 "|%s|%s", it->wallet,
                     it->standard_fen, it->daily_cap_fen, it->annual_cap_fen, it->category,
                     directory_kinds[it->kind]);
    if (n < 0 || (size_t)n >= outlen) {
        snprintf(err, errlen, "catalogue item %.64s: value longer than %zu",
                 it->code ? it->code : "?", outlen - 1);
        return -1;
    }
    return 0;
}

/* Copies the next '|'-separated field of *s into out; advances *s (NULL
 * after the last field). -1 when it does not fit. */
static int directory_field(const char **s, char *out, size_t outlen)
{
    const char *end = strchr(*s, '|');
    size_t n = end ? (size_t)(end - *s) : strlen(*s);
    if (n >= outlen)
        return -1;
    memcpy(out, *s, n);
    out[n] = '\0';
    *s = end ? end + 1 : NULL;
    return 0;
}

int directory_item_parse(const char *value, directory_value *v, char *err, size_t errlen)
{
    char f[6][72];
    const char *s = value;
    for (int i = 0; i < 6; i++) {
        if (i == 5 && s == NULL) {
            strcpy(f[5], "credit"); /* written before kinds */
            break;
        }
        if (s == NULL || directory_field(&s, f[i], sizeof(f[i])) < 0) {
            snprintf(err, errlen, "catalogue value: %s is %s", directory_fields[i],
                     s == NULL ? "missing" : "longer than 71");
            return -1;
        }
    }
    if (s != NULL) {
        snprintf(err, errlen, "catalogue value: more than 6 fields");
        return -1;
    }
    int kind = directory_kind_parse(f[5]);
    if (kind < 0) {
        snprintf(err, errlen,
                 "catalogue value: kind \"%.16s\" is not one of credit, priced, "
                 "quote, reimburse, cash",
                 f[5]);
        return -1;
    }
    if (f[0][0] == '\0' || strlen(f[0]) >= sizeof(v->wallet) ||
        strlen(f[4]) >= sizeof(v->category)) {
        snprintf(err, errlen, "catalogue value: wallet empty, or wallet or category too long");
        return -1;
    }
    int64_t fen[3];
    for (int i = 0; i < 3; i++)
        if (!money_parse_fen(f[1 + i], &fen[i])) {
            snprintf(err, errlen, "catalogue value: %s \"%.24s\" is not a fen amount",
                     directory_fields[1 + i], f[1 + i]);
            return -1;
        }
    memcpy(v->wallet, f[0], strlen(f[0]) + 1); /* lengths checked above */
    memcpy(v->category, f[4], strlen(f[4]) + 1);
    v->standard_fen = fen[0];
    v->daily_cap_fen = fen[1];
    v->annual_cap_fen = fen[2];
    v->kind = (directory_kind)kind;
    return 0;
}

/* ---------------------------------------------------------------- writes */

void directory_put_item(directory *d, const directory_item *it)
{
    char val[256], err[200];
    if (directory_item_format(it, val, sizeof(val), err, sizeof(err)) < 0) {
        d->failed++; /* the caller's catalogue check refuses such an item first */
        return;
    }
    const char *argv[] = {"HSET", KEYS_CATALOGUE, it->code, val};
    directory_append(d, 4, argv);
}

void directory_put_provider(directory *d, const char *provider_id, const char *status,
                            const char *category, const char *items)
{
    char key[KEYS_MAX];
    if (keys_provider(key, sizeof(key), provider_id) < 0) {
        d->failed++;
        return;
    }
    const char *argv[] = {"HSET", key, "status", status, "category", category, "items", items};
    directory_append(d, 8, argv);
}

void directory_put_terminal(directory *d, const char *terminal_id, const char *provider_id,
                            const char *secret, const char *status)
{
    char key[KEYS_MAX];
    if (keys_terminal(key, sizeof(key), terminal_id) < 0) {
        d->failed++;
        return;
    }
    const char *argv[] = {"HSET", key, "provider", provider_id, "secret", secret, "status", status};
    directory_append(d, 8, argv);
}

void directory_put_card(directory *d, const char *card_no, const char *person_id,
                        const char *status, const char *pin, const char *pepper)
{
    char key[KEYS_MAX], salt[33], hash[41];
    if (keys_card(key, sizeof(key), card_no) < 0) {
        d->failed++;
        return;
    }
    sign_pin_new(salt, hash, pepper, card_no, pin);
    const char *argv[] = {"HSET",      key,        "status",     status,     "person",
                          person_id,   "pin_salt", salt,         "pin_hash", hash,
                          "pin_fails", "0",        "pin_locked", "0"};
    directory_append(d, 14, argv);
}

void directory_put_card_hashed(directory *d, const char *card_no, const char *person_id,
                               const char *status, const char *pin_salt, const char *pin_hash)
{
    char key[KEYS_MAX];
    if (keys_card(key, sizeof(key), card_no) < 0) {
        d->failed++;
        return;
    }
    const char *argv[] = {"HSET",    key,        "status", status,     "person",
                          person_id, "pin_salt", pin_salt, "pin_hash", pin_hash};
    directory_append(d, 10, argv);
}

void directory_set_card_status(directory *d, const char *card_no, const char *status)
{
    char key[KEYS_MAX];
    if (keys_card(key, sizeof(key), card_no) < 0) {
        d->failed++;
        return;
    }
    const char *argv[] = {"HSET", key, "status", status};
    directory_append(d, 4, argv);
}

void directory_put_entitlement(directory *d, const char *card_no, const char *item_code,
                               int64_t annual_cap_fen, int64_t daily_cap_fen,
                               const char *fund_source)
{
    char key[KEYS_MAX], field[96], val[160];
    if (keys_card(key, sizeof(key), card_no) < 0) {
        d->failed++;
        return;
    }
    snprintf(field, sizeof(field), "e:%s", item_code);
    snprintf(val, sizeof(val), "%" PRId64 "|%" PRId64 "|%s", annual_cap_fen, daily_cap_fen,
             fund_source);
    const char *argv[] = {"HSET", key, field, val};
    directory_append(d, 4, argv);
}

void directory_del_entitlement(directory *d, const char *card_no, const char *item_code)
{
    char key[KEYS_MAX], field[96];
    if (keys_card(key, sizeof(key), card_no) < 0) {
        d->failed++;
        return;
    }
    snprintf(field, sizeof(field), "e:%s", item_code);
    const char *argv[] = {"HDEL", key, field};
    directory_append(d, 3, argv);
}

void directory_put_quote(directory *d, const char *card_no, const char *item_code,
                         const char *provider_id)
{
    char key[KEYS_MAX], field[96];
    if (keys_card(key, sizeof(key), card_no) < 0) {
        d->failed++;
        return;
    }
    snprintf(field, sizeof(field), "q:%s", item_code);
    const char *argv[] = {provider_id ? "HSET" : "HDEL", key, field, provider_id};
    directory_append(d, provider_id ? 4 : 3, argv);
}

void directory_put_pause(directory *d, const char *card_no, const char *item_code,
                         const char *paused_on)
{
    char key[KEYS_MAX], field[96];
    if (keys_card(key, sizeof(key), card_no) < 0) {
        d->failed++;
        return;
    }
    snprintf(field, sizeof(field), "p:%s", item_code);
    const char *argv[] = {paused_on ? "HSET" : "HDEL", key, field, paused_on};
    directory_append(d, paused_on ? 4 : 3, argv);
}

void directory_set_wallet(directory *d, const char *card_no, const char *wallet,
                          int64_t balance_fen)
{
    char key[KEYS_MAX], val[32];
    if (keys_wallet(key, sizeof(key), card_no) < 0) {
        d->failed++;
        return;
    }
    snprintf(val, sizeof(val), "%" PRId64, balance_fen);
    const char *argv[] = {"HSET", key, wallet, val};
    directory_append(d, 4, argv);
}

int directory_sync(directory *d, char *err, size_t errlen)
{
    int rc = 0;
    if (d->failed) {
        snprintf(err, errlen, "%d directory command(s) could not be built", d->failed);
        rc = -1;
    }
    while (d->pending > 0) {
        void *r = NULL;
        if (redisGetReply(d->ctx, &r) != REDIS_OK) {
            snprintf(err, errlen, "redis: %s", d->ctx->errstr);
            d->pending = 0;
            return -1;
        }
        d->pending--;
        redisReply *reply = r;
        if (reply->type == REDIS_REPLY_ERROR && rc == 0) {
            snprintf(err, errlen, "redis: %s", reply->str);
            rc = -1;
        }
        freeReplyObject(reply);
    }
    d->failed = 0;
    return rc;
}
