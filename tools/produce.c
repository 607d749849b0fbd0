/*
 * onecard-produce: turns records on stdin into events on their topics,
 * through the shared producer, for tests, the ledger benchmark and the
 * demo. One record per line, fields separated by spaces:
 *
 *   topup  CARD WALLET ITEM FUND PROGRAMME|- PERIOD AMOUNT_FEN [TOPUP_ID [CREDIT_ENDS]]
 *          FUND a fund's name, or fund shares in basis points as the
 *          catalogue writes them (central:5420,provincial:2692,...): the
 *          amount is split by them as eligibility splits it (shares.h);
 *          CREDIT_ENDS the credit's last day (YYYY-MM-DD; lapse.h)
 *   swipe  CARD WALLET PROVIDER ITEM FUND AMOUNT_FEN [COUNT]
 *          synthetic SwipeAuthorized events (no gateway, no hold), COUNT
 *          of them with fresh ids: the ledger benchmark's prefill
 *   garbage TOPIC CE_TYPE     a payload that does not decode
 *   swipe-at CARD WALLET PROVIDER ITEM FUND AMOUNT_FEN OCCURRED_AT_MS
 *   reversal CARD WALLET PROVIDER ITEM FUND AMOUNT_FEN OCCURRED_AT_MS [SWIPE_ID]
 *          one synthetic swipe or reversal at a given time (settlement
 *          tests: postings of a chosen day, a late reversal)
 *
 * Waits for every acknowledgement; prints one JSON line per record:
 * {"line", "event_id", "acked", "failed"}. Exit 1 if any failed, 2 on a
 * malformed record (naming the line; nothing after it is produced).
 *
 * usage: onecard-produce [brokers]   (default $ONECARD_KAFKA_BROKERS)
 */
#include "common/event.h"
#include "common/kafka.h"
#include "common/log.h"
#include "common/shares.h"
#include "swipe.pb-c.h"
#include "topup.pb-c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long produce_acked, produce_failed;

static void produce_delivered(void *opaque, int err, const char *errstr, int32_t partition,
                              int64_t offset)
{
    if (err)
        produce_failed++;
    else
        produce_acked++;
}

static int produce_amount(const char *s, int64_t *out)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*s == '\0' || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

static int produce_line(kafka_producer *p, char **f, int nf, char *id, char *err, size_t errlen)
{
    event_new_id(id);
    if (strcmp(f[0], "topup") == 0 && (nf >= 8 && nf <= 10)) {
        Onecard__V1__TopupIssued t;
        onecard__v1__topup_issued__init(&t);
        t.event_id = id;
        t.card_no = f[1];
        t.wallet = f[2];
        t.item_code = f[3];
        t.fund_source = f[4];
        t.programme = strcmp(f[5], "-") == 0 ? "" : f[5];
        t.period = f[6];
        if (produce_amount(f[7], &t.amount_fen) < 0) {
            snprintf(err, errlen, "AMOUNT_FEN \"%s\" is not a whole number", f[7]);
            return -1;
        }
        t.topup_id = nf >= 9 ? f[8] : id;
        if (nf == 10)
            t.credit_ends = f[9];
        t.occurred_at_ms = event_now_ms();
        shares bp, split;
        Onecard__V1__FundShare fs[SHARES_LEVELS], *fp[SHARES_LEVELS];
        if (strchr(f[4], ':') != NULL) {
            if (shares_parse(f[4], &bp, err, errlen) < 0 ||
                shares_split(t.amount_fen, &bp, &split, err, errlen) < 0)
                return -1;
            shares_drop_zero(&split);
            t.fund_source = (char *)shares_level_name(bp.level[0]);
            for (int k = 0; k < split.n; k++) {
                onecard__v1__fund_share__init(&fs[k]);
                fs[k].level = (char *)shares_level_name(split.level[k]);
                fs[k].amount_fen = split.v[k];
                fp[k] = &fs[k];
            }
            t.n_shares = (size_t)split.n;
            t.shares = fp;
        }
        return kafka_produce(p, &t.base, NULL, t.card_no, strlen(t.card_no), produce_delivered,
                             NULL, err, errlen);
    }
    if (strcmp(f[0], "swipe") == 0 && (nf == 7 || nf == 8)) {
        int64_t amount, count = 1;
        if (produce_amount(f[6], &amount) < 0 || (nf == 8 && produce_amount(f[7], &count) < 0)) {
            snprintf(err, errlen, "AMOUNT_FEN or COUNT is not a whole number");
            return -1;
        }
        for (int64_t i = 0; i < count; i++) {
            if (i > 0)
                event_new_id(id);
            Onecard__V1__SwipeAuthorized s;
            onecard__v1__swipe_authorized__init(&s);
            s.event_id = id;
            s.swipe_id = id;
            s.request_id = id;
            s.terminal_id = "bench";
            s.card_no = f[1];
            s.wallet = f[2];
            s.provider_id = f[3];
            s.item_code = f[4];
            s.fund_source = f[5];
            s.amount_fen = amount;
            s.occurred_at_ms = event_now_ms();
            if (kafka_produce(p, &s.base, NULL, s.card_no, strlen(s.card_no), produce_delivered,
                              NULL, err, errlen) < 0)
                return -1;
            if ((i & 1023) == 1023)
                kafka_producer_poll(p, 0);
        }
        return 0;
    }
    if ((strcmp(f[0], "swipe-at") == 0 && nf == 8) ||
        (strcmp(f[0], "reversal") == 0 && (nf == 8 || nf == 9))) {
        int64_t amount, at;
        if (produce_amount(f[6], &amount) < 0 || produce_amount(f[7], &at) < 0) {
            snprintf(err, errlen, "AMOUNT_FEN or OCCURRED_AT_MS is not a whole number");
            return -1;
        }
        if (f[0][0] == 's') {
            Onecard__V1__SwipeAuthorized s;
            onecard__v1__swipe_authorized__init(&s);
            s.event_id = s.swipe_id = s.request_id = id;
            s.terminal_id = "test";
            s.card_no = f[1];
            s.wallet = f[2];
            s.provider_id = f[3];
            s.item_code = f[4];
            s.fund_source = f[5];
            s.amount_fen = amount;
            s.occurred_at_ms = at;
            return kafka_produce(p, &s.base, NULL, s.card_no, strlen(s.card_no), produce_delivered,
                                 NULL, err, errlen);
        }
        Onecard__V1__SwipeReversed r;
        onecard__v1__swipe_reversed__init(&r);
        r.event_id = r.request_id = id;
        r.swipe_id = nf == 9 ? f[8] : id;
        r.terminal_id = "test";
        r.card_no = f[1];
        r.wallet = f[2];
        r.provider_id = f[3];
        r.item_code = f[4];
        r.fund_source = f[5];
        r.amount_fen = amount;
        r.occurred_at_ms = at;
        return kafka_produce(p, &r.base, NULL, r.card_no, strlen(r.card_no), produce_delivered,
                             NULL, err, errlen);
    }
    if (strcmp(f[0], "garbage") == 0 && nf == 3) {
        rd_kafka_headers_t *h = rd_kafka_headers_new(2);
        rd_kafka_header_add(h, "ce_type", -1, f[2], -1);
        rd_kafka_header_add(h, "ce_id", -1, id, -1);
        static const char junk[] = "\xff\xff\xff\x01 not protobuf";
        if (kafka_produce_raw(p, f[1], id, strlen(id), junk, sizeof(junk) - 1, h, produce_delivered,
                              NULL, err, errlen) < 0) {
            rd_kafka_headers_destroy(h);
            return -1;
        }
        return 0;
    }
    snprintf(err, errlen, "unknown record \"%s\" with %d fields", f[0], nf);
    return -1;
}

int main(int argc, char **argv)
{
    const char *brokers = argc > 1 ? argv[1] : getenv("ONECARD_KAFKA_BROKERS");
    char err[512], line[1024];
    if (brokers == NULL || brokers[0] == '\0') {
        fprintf(stderr, "usage: onecard-produce BROKERS < records\n");
        return 2;
    }
    if (log_setup("produce", "warn", err, sizeof(err)) < 0)
        return 2;
    const char *const extra[] = {
        "linger.ms", "20", "batch.num.messages", "10000", "queue.buffering.max.messages",
        "1000000",   NULL};
    kafka_producer *p =
        kafka_producer_new(brokers, "/onecard/produce", NULL, 30000, extra, err, sizeof(err));
    if (p == NULL) {
        fprintf(stderr, "onecard-produce: %s\n", err);
        return 1;
    }
    int rc = 0, lineno = 0;
    while (rc == 0 && fgets(line, sizeof(line), stdin)) {
        lineno++;
        char *f[12], *save = NULL;
        int nf = 0;
        for (char *t = strtok_r(line, " \t\r\n", &save); t && nf < 12;
             t = strtok_r(NULL, " \t\r\n", &save))
            f[nf++] = t;
        if (nf == 0 || f[0][0] == '#')
            continue;
        char id[EVENT_ID_LEN + 1];
        if (produce_line(p, f, nf, id, err, sizeof(err)) < 0) {
            fprintf(stderr, "onecard-produce: line %d: %s\n", lineno, err);
            rc = 2;
            break;
        }
        printf("{\"line\":%d,\"event_id\":\"%s\"}\n", lineno, id);
    }
    int left = kafka_producer_flush(p, 60000);
    fprintf(stderr, "onecard-produce: %ld acknowledged, %ld failed, %d unreported\n", produce_acked,
            produce_failed, left);
    kafka_producer_free(p, 1000);
    if (rc == 0 && (produce_failed || left))
        rc = 1;
    return rc;
}
