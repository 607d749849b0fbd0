/*
 * sample: a sample of any onecard event, every field set, built from the
 * protobuf-c descriptors alone so that a new field or a new message is
 * covered without editing a test.
 */
#ifndef ONECARD_SAMPLE_H
#define ONECARD_SAMPLE_H

#include <protobuf-c/protobuf-c.h>

/* Returns a message of type d with every field set to a value derived from
 * the field (strings "<name>-sample", integers number*1000+7, the last enum
 * value, two elements in each repeated field, nested messages filled), and
 * event_id set to event_id. Free with protobuf_c_message_free_unpacked(m,
 * NULL). NULL on OOM. */
ProtobufCMessage *sample_new(const ProtobufCMessageDescriptor *d, const char *event_id);

#endif
