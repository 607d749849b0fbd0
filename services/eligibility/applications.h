/*
 * applications: a person applies once (or someone acting for them), and
 * the application is reviewed at three levels (review.h) by operators
 * signed in with a session (operators.h).
 *
 *   application submit PERSON_ID --items A,B [--agent-relation R --agent-id ID] --actor A
 *   application resubmit APP_ID --actor A           (a returned application)
 *   application decide APP_ID --decision pass|reject|return [--reason R] --session TOKEN
 *   application queue --session TOKEN               (my level and area, overdue first)
 *   application show APP_ID --session TOKEN         (with its history)
 *   application sweep --actor A                     (escalate the overdue, once a stage)
 *
 * Only items the catalogue grants by application (its application column)
 * are applied for, and only by a person their rule admits (the grant is
 * what the application adds). An agent (guardian, family member, community
 * worker) is recorded by relation and a salted hash of their national id.
 *
 * A decision is made by the reviewer of the application's level and area
 * (a village reviewer decides only for their village: asking for another
 * village's application, even by its id, is refused), once, never by the
 * operator who decided another level of it, with a reason for a rejection
 * or a return. An approval grants the items from the day of approval (a
 * dated person change 'grant:<item>': issuance prorates from it, the card
 * carries the items at once). Every change of state is in the history, in
 * the audit trail and on onecard.applications.v1 (ApplicationChanged).
 *
 * The handler of commands.h's table: 0, 1 refused (printed), 2 a store or
 * the broker failed.
 */
#ifndef ELIG_APPLICATIONS_H
#define ELIG_APPLICATIONS_H

#include "registry.h"

int applications_command(registry *r, int argc, char **argv);

#endif
