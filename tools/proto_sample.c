/*
 * onecard-proto-sample: the C half of the cross-implementation round trip.
 *
 *   onecard-proto-sample write DIR   writes DIR/<ce_type>.bin, a full sample
 *                                    of every event type, packed by protobuf-c
 *   onecard-proto-sample check DIR   unpacks DIR/<ce_type>.py.bin (written by
 *                                    the Python implementation from our bytes)
 *                                    with protobuf-c, packs it again and
 *                                    requires the very bytes we wrote
 *
 * Prints "N passed, N failed" and exits non-zero on any failure.
 */
#include "common/event.h"
#include "sample.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int proto_read(const char *path, uint8_t **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            uint8_t *nb = realloc(buf, cap);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                return -1;
            }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        if (r == 0)
            break;
        n += r;
    }
    fclose(f);
    *out = buf;
    *len = n;
    return 0;
}

static int proto_pack(const event_type *t, uint8_t **out, size_t *len)
{
    char id[EVENT_ID_LEN + 1];
    snprintf(id, sizeof(id), "00000000-0000-4000-8000-000000000001");
    ProtobufCMessage *m = sample_new(t->desc, id);
    if (m == NULL)
        return -1;
    *len = protobuf_c_message_get_packed_size(m);
    *out = malloc(*len ? *len : 1);
    if (*out)
        protobuf_c_message_pack(m, *out);
    protobuf_c_message_free_unpacked(m, NULL);
    return *out ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "write") && strcmp(argv[1], "check"))) {
        fprintf(stderr, "usage: onecard-proto-sample write|check DIR\n");
        return 2;
    }
    int passed = 0, failed = 0;
    for (size_t i = 0; i < event_types_count; i++) {
        const event_type *t = &event_types[i];
        uint8_t *mine = NULL, *theirs = NULL;
        size_t mlen = 0, tlen = 0;
        char path[4096];
        if (proto_pack(t, &mine, &mlen) < 0) {
            fprintf(stderr, "%s: cannot build the sample\n", t->ce_type);
            failed++;
            continue;
        }
        if (strcmp(argv[1], "write") == 0) {
            snprintf(path, sizeof(path), "%s/%s.bin", argv[2], t->ce_type);
            FILE *f = fopen(path, "wb");
            if (f == NULL || fwrite(mine, 1, mlen, f) != mlen) {
                fprintf(stderr, "%s: cannot write %s\n", t->ce_type, path);
                failed++;
            } else {
                passed++;
            }
            if (f)
                fclose(f);
            free(mine);
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s.py.bin", argv[2], t->ce_type);
        if (proto_read(path, &theirs, &tlen) < 0) {
            fprintf(stderr, "FAIL %s: cannot read %s\n", t->ce_type, path);
            failed++;
            free(mine);
            continue;
        }
        ProtobufCMessage *m = protobuf_c_message_unpack(t->desc, NULL, tlen, theirs);
        uint8_t *again = NULL;
        size_t alen = 0;
        if (m) {
            alen = protobuf_c_message_get_packed_size(m);
            again = malloc(alen ? alen : 1);
            if (again)
                protobuf_c_message_pack(m, again);
            protobuf_c_message_free_unpacked(m, NULL);
        }
        if (m && again && alen == mlen && memcmp(again, mine, mlen) == 0) {
            printf("ok   %s (%zu bytes)\n", t->ce_type, mlen);
            passed++;
        } else {
            printf("FAIL %s: %s\n", t->ce_type,
                   m ? "re-encoded bytes differ from ours" : "protobuf-c cannot decode them");
            failed++;
        }
        free(again);
        free(theirs);
        free(mine);
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
