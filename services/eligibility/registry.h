/*
 * registry: what every operator command shares. The service's
 * configuration (elig_config, also the daemon's), the connections
 * (PostgreSQL, Redis through the shared directory writer, a Kafka producer
 * that waits for acknowledgements), transactions that carry the actor for
 * the audit trigger, publishing registry and card-status events, and the
 * projection of catalogue items and of one card's entitlements into the
 * directory.
 *
 * Order of every change: PostgreSQL commits first (the truth, audited),
 * then Redis (so the gateway acts at once), then the event (waited for).
 * A failure after the commit is reported with a non-zero exit; running
 * `rebuild-directory` repairs Redis from PostgreSQL. Blocking; one thread.
 */
#ifndef ELIG_REGISTRY_H
#define ELIG_REGISTRY_H

#include "catalogue.h"

#include "common/calendar.h"
#include "common/config.h"
#include "common/daemon.h"
#include "common/directory.h"
#include "common/kafka.h"
#include "common/pg.h"

#include <hiredis/hiredis.h>

/* The console's files where the build found them (CMake), so the local
 * stack and the tests need no install step. */
#ifndef ONECARD_CONSOLE_SOURCE_DIR
#define ONECARD_CONSOLE_SOURCE_DIR ""
#endif
#ifndef ONECARD_CONSOLE_VENDOR_SOURCE_DIR
#define ONECARD_CONSOLE_VENDOR_SOURCE_DIR ""
#endif

typedef struct elig_config {
    daemon_config d;
    char *id_salt;                 /* ONECARD_ID_SALT */
    char *pin_pepper;              /* ONECARD_PIN_PEPPER (the gateway's) */
    char *group;                   /* ONECARD_ELIGIBILITY_GROUP: the feed's consumer group */
    char *instance;                /* ONECARD_ELIGIBILITY_INSTANCE: its group.instance.id */
    int64_t tz_offset_min;         /* ONECARD_TZ_OFFSET_MIN: what "today" is */
    char *review_workdays;         /* ONECARD_REVIEW_WORKDAYS: village,town,district (review.h) */
    char *operator_addr;           /* ONECARD_OPERATOR_ADDR: the operator API's (api/api.h) */
    int64_t operator_port;         /* ONECARD_OPERATOR_PORT: 0, no operator API */
    bool operator_secure_cookie;   /* ONECARD_OPERATOR_SECURE_COOKIE: behind TLS */
    int64_t review_sweep_s;        /* ONECARD_REVIEW_SWEEP_S: escalation sweep period, 0 off */
    char *console_dir;             /* ONECARD_CONSOLE_DIR: the console's files (api/console.c) */
    char *console_vendor_dir;      /* ONECARD_CONSOLE_VENDOR_DIR: npm's echarts/dist */
    int64_t attendance_check_hour; /* ONECARD_ATTENDANCE_CHECK_HOUR: the daily 在训 check, -1 off */
    int64_t gauges_s;              /* ONECARD_ELIGIBILITY_GAUGES_S: gauges.h's period, 0 off */
} elig_config;

/* The rows of elig_config in the daemon's configuration table (after
 * DAEMON_CONFIG_ROWS); the commands run with the same environment. */
#define ELIG_CONFIG_ROWS(c)                                                                         \
    {"ONECARD_ID_SALT",                                                                             \
     CONFIG_SECRET,                                                                                 \
     &(c)->id_salt,                                                                                 \
     "onecard-local-id-salt",                                                                       \
     0,                                                                                             \
     0,                                                                                             \
     "secret salt of person ids (hash of the national id)"},                                        \
        {"ONECARD_ELIGIBILITY_GROUP",                                                               \
         CONFIG_STR,                                                                                \
         &(c)->group,                                                                               \
         "onecard-eligibility",                                                                     \
         0,                                                                                         \
         0,                                                                                         \
         "the feed's consumer group (its offsets are stored in PostgreSQL)"},                       \
        {"ONECARD_ELIGIBILITY_INSTANCE",                                                            \
         CONFIG_STR,                                                                                \
         &(c)->instance,                                                                            \
         "eligibility-{host}",                                                                      \
         0,                                                                                         \
         0,                                                                                         \
         "the feed's group.instance.id: unique per process (static membership)"},                   \
        {"ONECARD_PIN_PEPPER",       CONFIG_SECRET, &(c)->pin_pepper, "onecard-local-pepper", 0, 0, \
         "PIN pepper, the gateway's"},                                                              \
        {"ONECARD_REVIEW_WORKDAYS",                                                                 \
         CONFIG_STR,                                                                                \
         &(c)->review_workdays,                                                                     \
         "5,5,10",                                                                                  \
         0,                                                                                         \
         0,                                                                                         \
         "an application's time limit at each review level, in working days: "                      \
         "village,town,district"},                                                                  \
        {"ONECARD_OPERATOR_ADDR",                                                                   \
         CONFIG_STR,                                                                                \
         &(c)->operator_addr,                                                                       \
         "127.0.0.1",                                                                               \
         0,                                                                                         \
         0,                                                                                         \
         "the operator API's listen address"},                                                      \
        {"ONECARD_OPERATOR_PORT",                                                                   \
         CONFIG_INT,                                                                                \
         &(c)->operator_port,                                                                       \
         "8090",                                                                                    \
         0,                                                                                         \
         65535,                                                                                     \
         "the operator API's port (0: none)"},                                                      \
        {"ONECARD_OPERATOR_SECURE_COOKIE",                                                          \
         CONFIG_BOOL,                                                                               \
         &(c)->operator_secure_cookie,                                                              \
         "false",                                                                                   \
         0,                                                                                         \
         0,                                                                                         \
         "the session cookie is Secure (operators reach the API over TLS)"},                        \
        {"ONECARD_REVIEW_SWEEP_S",                                                                  \
         CONFIG_INT,                                                                                \
         &(c)->review_sweep_s,                                                                      \
         "600",                                                                                     \
         0,                                                                                         \
         86400,                                                                                     \
         "how often the daemon escalates overdue applications, in seconds (0: never)"},             \
        {"ONECARD_CONSOLE_DIR",                                                                     \
         CONFIG_STR,                                                                                \
         &(c)->console_dir,                                                                         \
         ONECARD_CONSOLE_SOURCE_DIR,                                                                \
         0,                                                                                         \
         0,                                                                                         \
         "the operator console's static files, served under /console/ (empty: no console)"},        \
        {"ONECARD_CONSOLE_VENDOR_DIR",                                                              \
         CONFIG_STR,                                                                                \
         &(c)->console_vendor_dir,                                                                  \
         ONECARD_CONSOLE_VENDOR_SOURCE_DIR,                                                         \
         0,                                                                                         \
         0,                                                                                         \
         "where the console's echarts.min.js is (npm ci in tools/console-npm)"},                    \
        {"ONECARD_ATTENDANCE_CHECK_HOUR",                                                           \
         CONFIG_INT,                                                                                \
         &(c)->attendance_check_hour,                                                               \
         "2",                                                                                       \
         -1,                                                                                        \
         23,                                                                                        \
         "the local hour the daemon runs the daily training attendance check (-1: never)"},         \
        {"ONECARD_ELIGIBILITY_GAUGES_S",                                                            \
         CONFIG_INT,                                                                                \
         &(c)->gauges_s,                                                                            \
         "30",                                                                                      \
         0,                                                                                         \
         86400,                                                                                     \
         "seconds between two reads of the applications and pauses gauges (0: never)"},             \
        CALENDAR_CONFIG_ROW(&(c)->tz_offset_min)

typedef struct registry {
    elig_config *cfg;
    PGconn *pg;
    redisContext *rc;
    directory dir;
    kafka_producer *kp;
    int delivery_failures;
} registry;

/* Opens what the command needs (REG_* flags). Returns 0, or -1 after
 * printing why. */
#define REG_REDIS 1
#define REG_KAFKA 2
int registry_open(registry *r, elig_config *cfg, int what);
void registry_close(registry *r);

/* BEGIN and set the actor the audit trigger records. 0 / -1 (printed). */
int registry_begin(registry *r, const char *actor);
/* The same, 0 / -1 with err (rolled back), for the daemon's own work. */
int registry_begin_err(registry *r, const char *actor, char *err, size_t errlen)
    __attribute__((warn_unused_result));
int registry_commit(registry *r);
/* Ends a command's transaction: commits when rc is 0 (3, CLI_DEPENDENCY, when the commit
 * fails), rolls back otherwise. Returns the command's exit code. */
int registry_end(registry *r, int rc);

/* Produces msg to its home topic with key and waits for the broker.
 * 0 / -1 (printed). */
int registry_publish(registry *r, const ProtobufCMessage *msg, const char *key);

/* Queues msg without waiting (bulk paths); registry_flush waits for all
 * and returns the number of failures (printed). */
int registry_produce(registry *r, const ProtobufCMessage *msg, const char *key);
int registry_flush(registry *r);

/* Queues a PersonChanged (op: 1 created, 2 updated) for each person of
 * persons (a text[] literal) with the whole state elig_persons holds after
 * the commit that changed them (the registry topic is compacted: each
 * event stands alone); registry_flush waits for them. Returns how many, or
 * -1 (printed). */
long registry_persons_changed(registry *r, int op, const char *persons, const char *actor);

/* Queues a CardChanged (op: 1 created, 2 updated) for the card; like
 * registry_produce, registry_flush waits for it. 0 / -1 (printed). */
int registry_card_changed(registry *r, int op, const char *card_no, const char *person_id,
                          const char *status, const char *actor);

/* Queues a CardStatusChanged for the card, from one status to another by
 * name (active, frozen, lost, replaced, closed); registry_flush waits for
 * it. 0 / -1 (printed). */
int registry_card_status_changed(registry *r, const char *card_no, const char *person_id,
                                 const char *from, const char *to, const char *reason);

/* Inside a transaction: each person's attributes as in force today (the
 * latest change of each attribute effective by today), and their cards
 * following their status: a card in use of a person no longer active is
 * frozen (frozen_by 'eligibility'), a card frozen that way of a person
 * active again is restarted; a card an operator froze stays frozen.
 * persons: a text[] literal. Returns the cards changed (card_no,
 * person_id, the person's status, the card's new status), or NULL
 * (printed). */
PGresult *registry_settle(registry *r, const char *persons);

/* After the commit: those cards' status into Redis, and their
 * CardStatusChanged (waited for). Frees cards. 0 / -1 (printed). */
int registry_settled(registry *r, PGresult *cards);

/* Sends the directory pipeline. 0 / -1 (printed). */
int registry_sync(registry *r);

/* The catalogue version in force on day (days since 1970-01-01), as
 * stored in PostgreSQL (0028_catalogue_versions.sql), parsed by the same
 * code as the file; c->version_id, effective_day and until_day say which
 * and for how long. The one way every reader of the catalogue gets it:
 * registry_today() for what a card carries now, a period's days for
 * issuance. 0 / -1 (printed). */
int registry_catalogue(registry *r, int32_t day, catalogue *c);
/* One version by its id (for `catalogue diff`; no dates set). */
int registry_catalogue_version(registry *r, int vid, catalogue *c);

/* Writes a catalogue item's record (wallet, category, standard amount and
 * caps) into the directory pipeline: what the gateway checks a swipe
 * against. */
void registry_project_item(registry *r, const rules_item *it);

/* A select-list expression, over elig_persons p, of the person's quote
 * bindings "ITEM=PROVIDER,…" (the provider of the latest approved quote of
 * each item); registry_project_quotes writes them onto a card (q:<item>),
 * so a rebuilt or replacing card keeps spending at the quoting provider. */
extern const char registry_quotes_sql[];
void registry_project_quotes(registry *r, const char *card_no, const char *bindings);

/* Writes the entitlements of card_no (for a person with these current
 * attributes) into the directory pipeline: every item the person is
 * eligible for today, and drops the others. */
void registry_project_entitlements(registry *r, const catalogue *c, const char *card_no,
                                   const rules_person *p, int32_t today);

/* Re-projects the entitlements of the person's card in use (active or
 * frozen) and sends the pipeline. 0 / -1 (printed). */
int registry_project_person(registry *r, const char *person_id);
/* A holder's attributes from row of res, whose columns from col on are
 * category, household, status, grade, care_level, birth_date (the order
 * every projecting query selects them in). The strings are res's. A
 * birth date that does not parse is day 0 (no age limit holds). */
/* A person's attributes as a rules_person reads them, in this order, from
 * column col of a row: the one select list every reader uses. */
#define REGISTRY_PERSON_COLS                                                                       \
    "p.category, p.household, p.status, p.grade, p.care_level, p.birth_date, p.granted, "          \
    "p.evidence"
rules_person registry_person_row(const PGresult *res, int row, int col);

/* A new card's credentials: its number (the issuer prefix, a value of
 * elig_card_seq, the Luhn digit), its PIN (pin, or 6 random digits when
 * NULL) and the PIN's salted hash as the gateway checks it. */
typedef struct registry_card {
    char card_no[24], pin[8], salt[33], hash[41];
} registry_card;
void registry_card_make(const registry *r, const char *seq, const char *pin, registry_card *out);

/* A fresh salt (32 hex) and the salted hash (40 hex) of card_no's PIN, as
 * the gateway checks it: what card_make and a PIN reset store. */
void registry_pin_hash(const registry *r, const char *card_no, const char *pin, char salt[33],
                       char hash[41]);

/* Today (UTC+8, the federation's day) in days since 1970-01-01. */
int32_t registry_today(void);

/* Why something was refused or failed: on stderr for a command
 * ("eligibility: ..."); in the operator API, captured into the buffer the
 * request's answer is made from (registry_capture: the first message after
 * it begins is kept; NULL: stderr again). registry_refuse also names the
 * kind of refusal, which the API answers with its HTTP status:
 * REFUSE_INVALID (bad input, the default of registry_fail),
 * REFUSE_NOT_FOUND, REFUSE_FORBIDDEN (not your role or area),
 * REFUSE_CONFLICT (not in a state that allows it), REFUSE_UNAUTHORIZED (no
 * or an expired session, a wrong password), REFUSE_LOCKED. */
typedef enum {
    REFUSE_INVALID,
    REFUSE_NOT_FOUND,
    REFUSE_FORBIDDEN,
    REFUSE_CONFLICT,
    REFUSE_UNAUTHORIZED,
    REFUSE_LOCKED,
} registry_refusal;
void registry_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void registry_refuse(registry_refusal kind, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void registry_capture(char *buf, size_t len);
/* The kind of the first refusal since registry_capture began. */
registry_refusal registry_refusal_kind(void);

#endif
