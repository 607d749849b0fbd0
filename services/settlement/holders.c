/*
 * holders: registry events into card holders and districts. See holders.h.
 */
#include "holders.h"

#include "registry.pb-c.h"

#include <stdio.h>
#include <string.h>

int holders_from_record(const kafka_record *rec, holders_change *out, char *why, size_t whylen)
{
    memset(out, 0, sizeof(*out));
    if (rec->type->desc == &onecard__v1__person_changed__descriptor) {
        const Onecard__V1__PersonChanged *m = (const void *)rec->msg;
        if (m->person_id == NULL || m->person_id[0] == '\0') {
            snprintf(why, whylen, "PersonChanged without person_id");
            return -1;
        }
        *out = (holders_change){HOLDERS_PERSON, m->person_id, m->district ? m->district : ""};
    } else if (rec->type->desc == &onecard__v1__card_changed__descriptor) {
        const Onecard__V1__CardChanged *m = (const void *)rec->msg;
        if (m->card_no == NULL || m->card_no[0] == '\0' || m->person_id == NULL ||
            m->person_id[0] == '\0') {
            snprintf(why, whylen, "CardChanged without card_no or person_id");
            return -1;
        }
        *out = (holders_change){HOLDERS_CARD, m->card_no, m->person_id};
    }
    return 0;
}
