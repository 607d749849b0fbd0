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
 * The handler of commands.h's table: 0, 1 refused (printed), 3 a store or
 * the broker failed.
 */
#ifndef ELIG_APPLICATIONS_H
#define ELIG_APPLICATIONS_H

#include "operators.h"
#include "registry.h"

#include <stdbool.h>

int applications_command(registry *r, int argc, char **argv);

/* The events not yet sent (of application id, or of every application
 * when NULL, at most 200 a call): each row of the history is an
 * ApplicationChanged with the event id it was written with; an approval
 * re-projects the person's card before its event. In order per
 * application; stops at the first failure. One sender at a time across
 * processes (an advisory lock): wait for it, or (false) leave the rows to
 * the sender holding it. The number sent, or -1 (printed; the rest is
 * sent by the next call: the actions call it after their commit, the
 * daemon every few seconds, so an answer "published": false is finished
 * without an operator). Blocking; outside a transaction. */
int applications_outbox(registry *r, const char *id, bool wait);

/* The actions, shared by the commands and the operator API. Each returns
 * 0, 1 refused (registry_refuse said why) or 3 a store or the broker
 * failed. who is the signed-in operator (NULL for a command run by an
 * actor named on its command line: no role or area check). */

typedef struct applications_new {
    const char *person_id;
    const char *items;                     /* "A,B" */
    const char *agent_relation, *agent_id; /* both or neither */
} applications_new;

/* Submits (id: AP-<n>; *nitems the items applied for). An operator who
 * submits must be a reviewer of the person's area or an administrator. */
int applications_submit(registry *r, const operators_who *who, const char *actor,
                        const applications_new *in, char id[32], int *nitems);

typedef struct applications_decided {
    char from[24], next[24];
    char effective[16]; /* YYYY-MM-DD when approved, else "" */
} applications_decided;

/* Decides (pass | reject | return; a reason for the last two). */
int applications_decide(registry *r, const operators_who *who, const char *id, const char *decision,
                        const char *reason, applications_decided *out);

/* Resubmits a returned application (who: a reviewer of the person's area or
 * an administrator; NULL: a command's actor). */
int applications_resubmit(registry *r, const operators_who *who, const char *actor, const char *id);

/* The review queue of who's level and area, overdue first. */
typedef struct applications_queue {
    void *res; /* PGresult */
    struct applications_queue_row *rows;
    int n, days; /* days: the level's working days */
} applications_queue;

typedef struct applications_entry {
    const char *id, *person12, *items, *since;
    char due[16];
    int32_t days_left; /* negative: overdue by as many days */
    bool by_agent;
} applications_entry;

int applications_queue_load(registry *r, const operators_who *who, applications_queue *q);
/* The k-th entry in queue order (0 <= k < q->n). */
void applications_queue_at(const applications_queue *q, int k, applications_entry *e);
void applications_queue_free(applications_queue *q);

/* An application, its history and the person's materials, as who may see
 * it (a reviewer only in their area). The PGresults' columns: */
enum {
    APP_STATE,
    APP_PERSON,
    APP_ITEMS,
    APP_VILLAGE,
    APP_TOWN,
    APP_DISTRICT,
    APP_BY_AGENT,
    APP_STAGE_DAY,
    APP_REASON,
    APP_EFFECTIVE,
    APP_SUBMITTED_AT,
    APP_SUBMITTED_BY,
    APP_AGENT_RELATION,
    APP_STAGE_SINCE,
};
enum { HIST_AT, HIST_OPERATOR, HIST_ROLE, HIST_FROM, HIST_TO, HIST_REASON };
enum { MAT_KIND, MAT_TYPE, MAT_SIZE, MAT_SHA256, MAT_UPLOADED, MAT_THIS_APPLICATION };
typedef struct applications_view {
    void *app, *history, *materials; /* PGresult */
} applications_view;

int applications_view_load(registry *r, const operators_who *who, const char *id,
                           applications_view *v);
void applications_view_free(applications_view *v);

/* Whether who may see the application (act: and act for its person, as a
 * submitter does): 0, 1 refused (not found, not in the area), 2. */
int applications_access(registry *r, const operators_who *who, const char *id, bool act);

/* Escalates every open application past its stage's time limit, once a
 * stage (an ApplicationChanged "escalated"); each is reported to each (id,
 * state, level), *n counts them. Two sweeps at once escalate each once. */
int applications_sweep(registry *r, const char *actor,
                       void (*each)(void *arg, const char *id, const char *state,
                                    const char *level),
                       void *arg, int *n);

#endif
