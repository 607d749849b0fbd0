/*
 * holders: settlement's own projection of onecard.registry.v1 — who holds
 * a card and in which district that person lives — so the utilisation
 * report counts money by district without reading eligibility's tables.
 *
 * The registry topic is compacted and each PersonChanged / CardChanged
 * carries its entity's whole state (proto/registry.proto), so a settlement
 * started late rebuilds the projection from the topic alone. The consumer
 * reads it in the same batches as the postings (libs/common/batch.c) and
 * store.c writes both in one transaction with the offsets: exactly once.
 * A posting read before its card's registry event counts in district ""
 * (as one whose card the registry never knew); ProviderChanged and
 * TerminalChanged are not settlement's concern and are skipped.
 *
 * Pure: decoding only; the writes are store.c's.
 */
#ifndef SETTLEMENT_HOLDERS_H
#define SETTLEMENT_HOLDERS_H

#include "common/kafka.h"

#include <stdbool.h>

typedef enum holders_kind {
    HOLDERS_NONE = 0, /* a registry event settlement does not need */
    HOLDERS_PERSON,   /* id = person_id, value = district ("" = keep the known one) */
    HOLDERS_CARD,     /* id = card_no, value = person_id */
} holders_kind;

typedef struct holders_change {
    holders_kind kind;
    const char *id, *value; /* point into the record's message */
} holders_change;

/* What rec (a decoded record of onecard.registry.v1) changes. 0, or -1
 * with why when a person or card event lacks its id (dead-lettered). */
int holders_from_record(const kafka_record *rec, holders_change *out, char *why, size_t whylen)
    __attribute__((warn_unused_result));

#endif
