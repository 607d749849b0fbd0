/*
 * feed: the daemon's consumer of onecard.eligibility.v1, the changes that
 * agencies report (household status, death, certificate issued or revoked,
 * grade change, moved out), each with an effective date and a source.
 *
 * Each batch is one PostgreSQL transaction: the changes (elig_person_changes,
 * keyed by person, attribute, effective date and event id, so a duplicate
 * is a no-op), the persons' current values recomputed from all their
 * changes (the latest effective date on or before today wins, ties by event
 * id: an event that arrives late or out of order lands where its date puts
 * it), the cards of persons no longer active frozen, and the consumer's
 * next offsets. After the commit the frozen cards are written to Redis at
 * once (the gateway's next swipe is declined), the persons' entitlements
 * re-projected, and a CardStatusChanged published for each frozen card.
 * Issuance reads the same changes, so amounts stop (or start, or re-tier)
 * from the effective date.
 *
 * Invalid events (no person, a bad or far-future date, an unknown change)
 * go to the DLQ with the reason; events about persons not in the registry
 * are counted and skipped. A change recorded before its effective date
 * takes effect on that day (a sweep once a minute re-settles the persons
 * concerned). The walk is libs/common/batch.c's exactly-once batch
 * consumer (offsets stored in the batch's transaction, retried whole after
 * a failure); this file keeps only the rules. Runs on the loop thread;
 * blocking calls to PostgreSQL and Redis on it.
 */
#ifndef ELIG_FEED_H
#define ELIG_FEED_H

#include "registry.h"

#include <stdbool.h>

struct event_base;

int feed_setup(struct event_base *base, elig_config *cfg, const char *group, char *err,
               size_t errlen) __attribute__((warn_unused_result));
bool feed_assigned(void);
/* Stops reading; a batch not applied is read again after the restart. */
void feed_drain(void);
void feed_cleanup(void);

/* Maps a change to the attribute and value it sets (NULL when none), and
 * the card-status reason when it stops a person. Pure; exposed for tests. */
const char *feed_attr(int change, int household, int grade, const char **value, char *buf,
                      size_t buflen);

#endif
