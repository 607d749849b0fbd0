/*
 * projection: the expected Redis money state. See projection.h.
 */
#include "projection.h"

#include "common/event.h"
#include "common/kafka.h"
#include "common/keys.h"
#include "common/pg.h"
#include "swipe.pb-c.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

proj_card *projection_card(projection *p, const char *card_no)
{
    bool added;
    int64_t *pos = idmap_put(&p->index, card_no, (int64_t)p->n, &added);
    if (pos == NULL)
        return NULL;
    if (!added)
        return &p->cards[*pos];
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 1024;
        proj_card *c = realloc(p->cards, cap * sizeof(*c));
        if (c == NULL)
            return NULL;
        p->cards = c;
        p->cap = cap;
    }
    proj_card *c = &p->cards[p->n++];
    memset(c, 0, sizeof(*c));
    c->card_no = strdup(card_no);
    return c;
}

static proj_wallet *projection_wallet(proj_card *c, const char *name)
{
    for (int i = 0; i < c->nwallets; i++)
        if (strcmp(c->wallets[i].name, name) == 0)
            return &c->wallets[i];
    proj_wallet *w = realloc(c->wallets, (size_t)(c->nwallets + 1) * sizeof(*w));
    if (w == NULL)
        return NULL;
    c->wallets = w;
    w = &c->wallets[c->nwallets++];
    memset(w, 0, sizeof(*w));
    w->name = strdup(name);
    return w;
}

int64_t projection_expected(const proj_wallet *w)
{
    return w->ledger_fen + w->pending_fen - w->uncredited_fen;
}

/* ------------------------------------------------------------ PostgreSQL */

static int projection_ledger(projection *p, PGconn *pg, const char *prefix, char *err,
                             size_t errlen)
{
    const char *params[] = {prefix};
    PGresult *r = pg_query(pg,
                           "SELECT card_no, wallet, -balance_fen FROM ledger_accounts WHERE "
                           "kind = 'wallet' AND starts_with(card_no, $1)",
                           1, params, err, errlen);
    if (r == NULL)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        proj_card *c = projection_card(p, PQgetvalue(r, i, 0));
        proj_wallet *w = c ? projection_wallet(c, PQgetvalue(r, i, 1)) : NULL;
        if (w == NULL) {
            PQclear(r);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        w->ledger_fen = strtoll(PQgetvalue(r, i, 2), NULL, 10);
    }
    PQclear(r);
    /* top-ups and transfers committed whose credits may not have reached
     * Redis (a transfer is a debit of its source and a credit of its
     * destination, each under its own marker) */
    r = pg_query(pg,
                 "WITH e AS (SELECT e.* FROM ledger_outbox o CROSS JOIN LATERAL "
                 "unnest(o.entry_ids) x(id) JOIN ledger_entries e ON e.entry_id = x.id WHERE "
                 "e.kind IN ('topup', 'transfer')) "
                 "SELECT card_no, wallet, CASE kind WHEN 'topup' THEN amount_fen ELSE -amount_fen "
                 "END, coalesce(request_id, event_id) FROM e WHERE starts_with(card_no, $1) "
                 "UNION ALL SELECT to_card_no, wallet, amount_fen, event_id FROM e WHERE kind = "
                 "'transfer' AND starts_with(to_card_no, $1)",
                 1, params, err, errlen);
    if (r == NULL)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        proj_card *c = projection_card(p, PQgetvalue(r, i, 0));
        proj_marker *m = c ? realloc(c->markers, (size_t)(c->nmarkers + 1) * sizeof(*m)) : NULL;
        if (m == NULL) {
            PQclear(r);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        c->markers = m;
        m = &c->markers[c->nmarkers++];
        char key[KEYS_MAX];
        keys_topup(key, sizeof(key), c->card_no, PQgetvalue(r, i, 3));
        m->key = strdup(key);
        m->wallet = strdup(PQgetvalue(r, i, 1));
        m->fen = strtoll(PQgetvalue(r, i, 2), NULL, 10);
    }
    PQclear(r);
    return 0;
}

/* ----------------------------------------------------------------- Kafka */

static bool starts_with_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int projection_hold(projection *p, const char *card_no, const char *wallet,
                           const char *event_id, const char *item, int64_t at_ms, int64_t fen)
{
    proj_card *c = projection_card(p, card_no);
    proj_wallet *w = c ? projection_wallet(c, wallet) : NULL;
    proj_hold *h = w ? realloc(c->holds, (size_t)(c->nholds + 1) * sizeof(*h)) : NULL;
    if (h == NULL)
        return -1;
    c->holds = h;
    h = &c->holds[c->nholds++];
    h->event_id = strdup(event_id);
    h->wallet = strdup(wallet);
    h->item = strdup(item);
    h->at_ms = at_ms;
    h->fen = fen;
    w->pending_fen += fen;
    p->pending_events++;
    return 0;
}

static int projection_message(projection *p, const rd_kafka_message_t *m, const char *prefix)
{
    rd_kafka_headers_t *h = NULL;
    const void *val = NULL;
    size_t vlen = 0;
    if (rd_kafka_message_headers(m, &h) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        rd_kafka_header_get_last(h, "ce_type", &val, &vlen) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return 0;
    const event_type *t = event_type_by_ce(val, vlen);
    char why[256];
    ProtobufCMessage *msg = t ? event_decode(t, m->payload, m->len, why, sizeof(why)) : NULL;
    if (msg == NULL)
        return 0; /* the ledger dead-letters it too */
    int rc = 0;
    if (t->desc == &onecard__v1__swipe_authorized__descriptor) {
        const Onecard__V1__SwipeAuthorized *s = (const void *)msg;
        if (s->amount_fen > 0 && starts_with_prefix(s->card_no, prefix))
            rc = projection_hold(p, s->card_no, s->wallet, s->event_id, s->item_code,
                                 s->occurred_at_ms, -s->amount_fen);
    } else if (t->desc == &onecard__v1__swipe_reversed__descriptor) {
        const Onecard__V1__SwipeReversed *s = (const void *)msg;
        if (s->amount_fen > 0 && starts_with_prefix(s->card_no, prefix))
            rc = projection_hold(p, s->card_no, s->wallet, s->event_id, s->item_code,
                                 s->occurred_at_ms, s->amount_fen);
    }
    protobuf_c_message_free_unpacked(msg, NULL);
    return rc;
}

/* Reads the swipes topic from the stored offsets to the high watermarks. */
static int projection_pending(projection *p, PGconn *pg, const char *brokers, const char *group,
                              const char *prefix, char *err, size_t errlen)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, sizeof(errstr)) ||
        rd_kafka_conf_set(conf, "group.id", "onecard-ledger-tools", errstr, sizeof(errstr)) ||
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, sizeof(errstr)) ||
        rd_kafka_conf_set(conf, "enable.partition.eof", "true", errstr, sizeof(errstr))) {
        snprintf(err, errlen, "kafka: %s", errstr);
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    if (kafka_security_apply(conf, err, errlen) < 0) {
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        snprintf(err, errlen, "kafka: %s", errstr);
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    conf = NULL;
    int rc = -1;
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, TOPIC_SWIPES, NULL);
    if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        md->topic_cnt != 1) {
        snprintf(err, errlen, "kafka: no metadata for %s", TOPIC_SWIPES);
        goto out;
    }
    rd_kafka_topic_partition_list_t *parts =
        rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
    for (int i = 0; i < md->topics[0].partition_cnt; i++)
        rd_kafka_topic_partition_list_add(parts, TOPIC_SWIPES, md->topics[0].partitions[i].id);
    if (pg_offsets_load(pg, group, parts, err, errlen) < 0) {
        rd_kafka_topic_partition_list_destroy(parts);
        goto out;
    }
    int64_t *hw = calloc((size_t)parts->cnt, sizeof(*hw));
    int open = 0;
    for (int i = 0; i < parts->cnt; i++) {
        int64_t lo = 0;
        if (rd_kafka_query_watermark_offsets(rk, TOPIC_SWIPES, parts->elems[i].partition, &lo,
                                             &hw[i], 10000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            snprintf(err, errlen, "kafka: no watermarks for %s[%d]", TOPIC_SWIPES,
                     (int)parts->elems[i].partition);
            free(hw);
            rd_kafka_topic_partition_list_destroy(parts);
            goto out;
        }
        if (parts->elems[i].offset < 0)
            parts->elems[i].offset = lo;
        if (parts->elems[i].offset < hw[i])
            open++;
    }
    rd_kafka_assign(rk, parts);
    while (open > 0) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 10000);
        if (m == NULL) {
            snprintf(err, errlen, "kafka: timed out reading the pending swipes");
            break;
        }
        for (int i = 0; i < parts->cnt; i++) {
            if (parts->elems[i].partition != m->partition)
                continue;
            if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR && m->offset < hw[i] &&
                projection_message(p, m, prefix) < 0) {
                snprintf(err, errlen, "out of memory");
                open = -1;
            }
            int64_t next = m->err ? m->offset : m->offset + 1;
            if (open > 0 && parts->elems[i].offset < hw[i] && next >= hw[i])
                open--;
            if (next > parts->elems[i].offset)
                parts->elems[i].offset = next;
        }
        rd_kafka_message_destroy(m);
    }
    rc = open == 0 ? 0 : -1;
    free(hw);
    rd_kafka_assign(rk, NULL);
    rd_kafka_topic_partition_list_destroy(parts);
out:
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return rc;
}

/* ------------------------------------------------------------------ build */

int projection_build(projection *p, PGconn *pg, const char *brokers, const char *group,
                     const char *prefix, char *err, size_t errlen)
{
    memset(p, 0, sizeof(*p));
    if (pg_exec(pg, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, err, errlen) < 0)
        return -1;
    if (projection_ledger(p, pg, prefix, err, errlen) < 0 ||
        projection_pending(p, pg, brokers, group, prefix, err, errlen) < 0)
        return -1;
    return 0;
}

int projection_check_markers(projection *p, redisContext *rc, char *err, size_t errlen)
{
    for (size_t i = 0; i < p->n; i++) {
        proj_card *c = &p->cards[i];
        for (int k = 0; k < c->nmarkers; k++) {
            redisReply *r = redisCommand(rc, "EXISTS %s", c->markers[k].key);
            if (r == NULL || r->type != REDIS_REPLY_INTEGER) {
                snprintf(err, errlen, "redis: %s", r ? r->str : rc->errstr);
                freeReplyObject(r);
                return -1;
            }
            if (r->integer == 0) {
                proj_wallet *w = projection_wallet(c, c->markers[k].wallet);
                if (w)
                    w->uncredited_fen += c->markers[k].fen;
            }
            freeReplyObject(r);
        }
    }
    return 0;
}

void projection_free(projection *p)
{
    for (size_t i = 0; i < p->n; i++) {
        proj_card *c = &p->cards[i];
        for (int k = 0; k < c->nwallets; k++)
            free(c->wallets[k].name);
        for (int k = 0; k < c->nholds; k++) {
            free(c->holds[k].event_id);
            free(c->holds[k].wallet);
            free(c->holds[k].item);
        }
        for (int k = 0; k < c->nmarkers; k++) {
            free(c->markers[k].key);
            free(c->markers[k].wallet);
        }
        free(c->wallets);
        free(c->holds);
        free(c->markers);
        free(c->card_no);
    }
    free(p->cards);
    idmap_free(&p->index);
    memset(p, 0, sizeof(*p));
}
