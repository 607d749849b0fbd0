/*
 * sample: descriptor-driven sample events. See sample.h.
 */
#include "sample.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool sample_value(const ProtobufCFieldDescriptor *f, void *slot, const char *event_id)
{
    int64_t n = (int64_t)f->id * 1000 + 7;
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: {
        char buf[128];
        if (strcmp(f->name, "event_id") == 0)
            snprintf(buf, sizeof(buf), "%s", event_id);
        else
            snprintf(buf, sizeof(buf), "%s-sample", f->name);
        *(char **)slot = strdup(buf);
        return *(char **)slot != NULL;
    }
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        *(int32_t *)slot = (int32_t)n;
        return true;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        *(int64_t *)slot = n * 1000003; /* beyond 32 bits is worth a round trip */
        return true;
    case PROTOBUF_C_TYPE_BOOL:
        *(protobuf_c_boolean *)slot = 1;
        return true;
    case PROTOBUF_C_TYPE_FLOAT:
        *(float *)slot = 1.5f;
        return true;
    case PROTOBUF_C_TYPE_DOUBLE:
        *(double *)slot = 2.5;
        return true;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumDescriptor *e = f->descriptor;
        *(int *)slot = e->values[e->n_values - 1].value;
        return true;
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        *(ProtobufCMessage **)slot = sample_new(f->descriptor, event_id);
        return *(ProtobufCMessage **)slot != NULL;
    case PROTOBUF_C_TYPE_BYTES: {
        ProtobufCBinaryData *b = slot;
        b->data = (uint8_t *)strdup("bytes");
        b->len = 5;
        return b->data != NULL;
    }
    }
    return false;
}

static size_t sample_slot_size(const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(void *);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    default:
        return 4;
    }
}

ProtobufCMessage *sample_new(const ProtobufCMessageDescriptor *d, const char *event_id)
{
    ProtobufCMessage *m = calloc(1, d->sizeof_message);
    if (m == NULL)
        return NULL;
    d->message_init(m);
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        char *base = (char *)m;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t sz = sample_slot_size(f);
            void *arr = calloc(2, sz);
            if (arr == NULL)
                goto fail;
            *(void **)(base + f->offset) = arr;
            *(size_t *)(base + f->quantifier_offset) = 2;
            for (int k = 0; k < 2; k++)
                if (!sample_value(f, (char *)arr + (size_t)k * sz, event_id))
                    goto fail;
            continue;
        }
        if (!sample_value(f, base + f->offset, event_id))
            goto fail;
        if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset)
            *(protobuf_c_boolean *)(base + f->quantifier_offset) = 1;
    }
    return m;
fail:
    protobuf_c_message_free_unpacked(m, NULL);
    return NULL;
}
