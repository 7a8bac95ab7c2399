/* sas.c: the verification code of sas.h. */
#include "sas.h"

#include <sodium.h>
#include <stdio.h>

#include "keys.h"

int pake_sas_digits(char out[PAKE_SAS_DIGITS + 1], const uint8_t isk[CPACE_ISK_LEN])
{
    uint8_t b[8];
    out[0] = 0;
    if (!isk) return PAKE_E_ARG;
    int r = pake_hkdf_sha512(b, sizeof b, isk, CPACE_ISK_LEN, PAKE_LABEL_SAS);
    if (r != PAKE_OK) return r;
    uint64_t n = 0;
    for (int i = 0; i < 8; i++)
        n = n << 8 | b[i];
    snprintf(out, PAKE_SAS_DIGITS + 1, "%06u", (unsigned)(n % 1000000u));
    sodium_memzero(b, sizeof b);
    return PAKE_OK;
}
