/*
 * fuzz_materials: the check of an uploaded material (materials_check): any
 * bytes get a content type (PDF, JPEG, PNG, by the first bytes) or a
 * reason, never both, never neither; a type is given only to bytes that
 * start as that type says.
 */
#include "fuzz.h"
#include "materials.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256] = "";
    const char *type = materials_check(data, size, err, sizeof(err));
    FUZZ_REQUIRE((type == NULL) == (err[0] != '\0'));
    if (type) {
        FUZZ_REQUIRE(size >= 3 && size <= MATERIALS_MAX_BYTES);
        if (strcmp(type, "application/pdf") == 0)
            FUZZ_REQUIRE(memcmp(data, "%PDF-", 5) == 0);
        else if (strcmp(type, "image/png") == 0)
            FUZZ_REQUIRE(data[0] == 0x89 && data[1] == 'P');
        else
            FUZZ_REQUIRE(strcmp(type, "image/jpeg") == 0 && data[0] == 0xff && data[1] == 0xd8);
    }
    return 0;
}
