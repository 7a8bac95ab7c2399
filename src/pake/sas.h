/* sas.h: the short authentication string both peers show
 * (docs/authentication.md §6): six decimal digits from the session key,
 *
 *   n   = HKDF-SHA-512(ISK, salt "", info PAKE_LABEL_SAS), 8 bytes, big-endian
 *   sas = n mod 10^6, written with leading zeros
 *
 * 64 bits reduced mod 10^6 are uniform to within 10^6 / 2^64 (5e-14). Equal
 * ISKs give equal codes; a man in the middle who knows the password holds
 * two different ISKs and, because the offerer commits to its share before
 * seeing the answerer's (confirm.h), cannot pick one to make the codes
 * match: 1 chance in 10^6 per attempt. */
#ifndef PD_PAKE_SAS_H
#define PD_PAKE_SAS_H

#include <stdint.h>

#include "cpace.h"
#include "pake.h"

enum { PAKE_SAS_DIGITS = 6 };

/* out gets six digits and a NUL. PAKE_OK or PAKE_E_CRYPTO. */
int pake_sas_digits(char out[PAKE_SAS_DIGITS + 1], const uint8_t isk[CPACE_ISK_LEN]);

#endif
