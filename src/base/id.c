/* id.c: see id.h. */
#include "id.h"

#include <sodium.h>
#include <stdint.h>

void pd_random_id(char out[PD_ID_LEN + 1])
{
    uint8_t raw[15];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(out, PD_ID_LEN + 1, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}
