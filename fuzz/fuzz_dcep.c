/* fuzz_dcep.c: libFuzzer target for the DCEP codec: decode one message;
 * an OPEN that decodes must re-encode to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtc/dcep.h"

#define FUZZ_ASSERT(c)                                                                             \
    do {                                                                                           \
        if (!(c)) abort();                                                                         \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dcep_msg m;
    if (dcep_decode(data, size, &m) != DCEP_OK || m.type != DCEP_MSG_OPEN) return 0;
    FUZZ_ASSERT(m.label + m.label_len <= data + size);
    FUZZ_ASSERT(m.protocol + m.protocol_len == data + size);
    uint8_t *out = malloc(size);
    if (!out) return 0;
    FUZZ_ASSERT(dcep_open_encode(&m, out, size) == (int)size);
    FUZZ_ASSERT(memcmp(out, data, size) == 0);
    free(out);
    return 0;
}
