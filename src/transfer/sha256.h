/* sha256.h: incremental SHA-256 (OpenSSL EVP) with a non-destructive
 * peek, the twin of web/src/protocol/sha256.ts; and the random transfer id
 * (OpenSSL's CSPRNG). */
#ifndef PD_TRANSFER_SHA256_H
#define PD_TRANSFER_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "transfer/types.h"

typedef struct xfer_hasher xfer_hasher;
xfer_hasher *xfer_hasher_create(void);
void xfer_hasher_destroy(xfer_hasher *h);
void xfer_hasher_reset(xfer_hasher *h);
void xfer_hasher_update(xfer_hasher *h, const uint8_t *data, size_t len);
/* Hex digest of everything so far; the hasher keeps running. */
void xfer_hasher_peek_hex(const xfer_hasher *h, char out[XFER_SHA_HEX_LEN + 1]);

/* Fills out with 32 lowercase hex digits of 128 random bits + NUL; false
 * if the CSPRNG failed. */
bool xfer_random_id(char out[XFER_ID_LEN + 1]);

#endif
