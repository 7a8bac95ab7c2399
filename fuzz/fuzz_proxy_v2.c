/* fuzz_proxy_v2.c: libFuzzer target for the PROXY protocol v2 header
 * (src/base/proxy_v2.h, --trust-proxy): parse arbitrary bytes at every cap;
 * a header taken lies within the input and the cap, parsing a prefix of it
 * never says OK, and parsing it again gives the same result. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/proxy_v2.h"

#define FUZZ_ASSERT(c)                                                                             \
    do {                                                                                           \
        if (!(c)) abort();                                                                         \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t caps[] = {16, 28, 52, 232, 1024, 16 + 65535};
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
        proxy_v2_header h;
        const char *why;
        proxy_v2_status st = proxy_v2_parse(data, size, caps[i], &h, &why);
        FUZZ_ASSERT(st == PROXY_V2_OK || st == PROXY_V2_NEED_MORE || st == PROXY_V2_INVALID);
        FUZZ_ASSERT((st == PROXY_V2_INVALID) == (why != NULL));
        if (st != PROXY_V2_OK) continue;
        FUZZ_ASSERT(h.len >= PROXY_V2_FIXED_LEN && h.len <= size && h.len <= caps[i]);
        proxy_v2_header again;
        FUZZ_ASSERT(proxy_v2_parse(data, h.len, caps[i], &again, &why) == PROXY_V2_OK);
        FUZZ_ASSERT(memcmp(&again, &h, sizeof h) == 0);
        FUZZ_ASSERT(proxy_v2_parse(data, h.len - 1, caps[i], &again, &why) == PROXY_V2_NEED_MORE);
    }
    return 0;
}
