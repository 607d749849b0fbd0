/*
 * onecard-dirload: loads directory records into Redis through the shared
 * writer (libs/common/directory.c), one record per line on stdin, so that
 * operators and tests never write a key by hand:
 *
 *   item CODE WALLET STANDARD_FEN DAILY_CAP_FEN ANNUAL_CAP_FEN CATEGORY [KIND]
 *   provider ID STATUS CATEGORY ITEM,ITEM,...
 *   terminal ID PROVIDER SECRET STATUS
 *   card CARD_NO PERSON STATUS PIN
 *   status CARD_NO STATUS
 *   entitlement CARD_NO ITEM ANNUAL_CAP_FEN DAILY_CAP_FEN FUND_SOURCE
 *   revoke CARD_NO ITEM
 *   wallet CARD_NO WALLET BALANCE_FEN
 *
 * Redis from ONECARD_REDIS_HOST / ONECARD_REDIS_PORT (127.0.0.1:16379), the
 * PIN pepper from ONECARD_PIN_PEPPER (the gateway's). A bad line stops the
 * load with its line number; lines before it are applied.
 */
#include "common/directory.h"
#include "common/redis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t dirload_int(const char *s, bool *ok)
{
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (s[0] == '\0' || *end != '\0' || v < 0)
        *ok = false;
    return v;
}

int main(void)
{
    const char *host = getenv("ONECARD_REDIS_HOST") ? getenv("ONECARD_REDIS_HOST") : "127.0.0.1";
    const char *port = getenv("ONECARD_REDIS_PORT") ? getenv("ONECARD_REDIS_PORT") : "16379";
    const char *pepper =
        getenv("ONECARD_PIN_PEPPER") ? getenv("ONECARD_PIN_PEPPER") : "onecard-local-pepper";
    char err[512], line[4096];
    redisContext *ctx = redis_sync_connect(host, atoi(port), 5000, err, sizeof(err));
    if (ctx == NULL) {
        fprintf(stderr, "onecard-dirload: %s\n", err);
        return 1;
    }
    directory d;
    directory_init(&d, ctx);
    int lineno = 0, records = 0, rc = 0;
    while (fgets(line, sizeof(line), stdin)) {
        lineno++;
        char *f[8];
        int n = 0;
        for (char *tok = strtok(line, " \t\r\n"); tok && n < 8; tok = strtok(NULL, " \t\r\n"))
            f[n++] = tok;
        if (n == 0 || f[0][0] == '#')
            continue;
        bool ok = true;
        if (strcmp(f[0], "item") == 0 && (n == 7 || n == 8)) {
            int kind = n == 8 ? directory_kind_parse(f[7]) : DIRECTORY_KIND_CREDIT;
            directory_item it = {f[1],
                                 f[2],
                                 f[6],
                                 dirload_int(f[3], &ok),
                                 dirload_int(f[4], &ok),
                                 dirload_int(f[5], &ok),
                                 kind < 0 ? DIRECTORY_KIND_CREDIT : (directory_kind)kind};
            if (kind < 0)
                ok = false;
            if (ok)
                directory_put_item(&d, &it);
        } else if (strcmp(f[0], "provider") == 0 && n == 5) {
            directory_put_provider(&d, f[1], f[2], f[3], f[4]);
        } else if (strcmp(f[0], "terminal") == 0 && n == 5) {
            directory_put_terminal(&d, f[1], f[2], f[3], f[4]);
        } else if (strcmp(f[0], "card") == 0 && n == 5) {
            directory_put_card(&d, f[1], f[2], f[3], f[4], pepper);
        } else if (strcmp(f[0], "status") == 0 && n == 3) {
            directory_set_card_status(&d, f[1], f[2]);
        } else if (strcmp(f[0], "entitlement") == 0 && n == 6) {
            int64_t a = dirload_int(f[3], &ok), dc = dirload_int(f[4], &ok);
            if (ok)
                directory_put_entitlement(&d, f[1], f[2], a, dc, f[5]);
        } else if (strcmp(f[0], "revoke") == 0 && n == 3) {
            directory_del_entitlement(&d, f[1], f[2]);
        } else if (strcmp(f[0], "wallet") == 0 && n == 4) {
            int64_t b = dirload_int(f[3], &ok);
            if (ok)
                directory_set_wallet(&d, f[1], f[2], b);
        } else {
            ok = false;
        }
        if (!ok) {
            fprintf(stderr, "onecard-dirload: line %d: not a valid record\n", lineno);
            rc = 1;
            break;
        }
        records++;
    }
    if (directory_sync(&d, err, sizeof(err)) < 0) {
        fprintf(stderr, "onecard-dirload: %s\n", err);
        rc = 1;
    }
    redisFree(ctx);
    if (rc == 0)
        printf("%d record(s) loaded\n", records);
    return rc;
}
