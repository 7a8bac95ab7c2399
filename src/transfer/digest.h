/* digest.h: the digest of one file (docs/protocol.md §5.3, §5.8), the
 * twin of web/src/protocol/digest.ts.
 * plain: SHA-256 of the bytes. blocks: SHA-256 over the 32-byte SHA-256 of
 * each XFER_HASH_BLOCK-byte block, the last one short; an empty file's is
 * the SHA-256 of nothing. covered() is the prefix, from byte 0, whose digest
 * peek_hex() gives: every byte fed (plain); the complete blocks fed, plus
 * the short last one after finish() (blocks). Only such a prefix can be
 * proven for a resume. */
#ifndef PD_TRANSFER_DIGEST_H
#define PD_TRANSFER_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "transfer/types.h"

typedef struct xfer_digest xfer_digest;
xfer_digest *xfer_digest_create(bool blocks);
void xfer_digest_destroy(xfer_digest *d);
void xfer_digest_reset(xfer_digest *d); /* no bytes fed, same mode */
bool xfer_digest_blocks(const xfer_digest *d);
/* Feeds the next bytes of the file. */
void xfer_digest_update(xfer_digest *d, const uint8_t *data, size_t len);
/* Every byte of the file is fed: its short last block counts (covered = size). */
void xfer_digest_finish(xfer_digest *d);
uint64_t xfer_digest_covered(const xfer_digest *d);
/* Forgets the bytes fed after covered(): a resume continues from there. */
void xfer_digest_rewind(xfer_digest *d);
/* Hex digest of the first covered() bytes; the digest keeps running. */
void xfer_digest_peek_hex(const xfer_digest *d, char out[XFER_SHA_HEX_LEN + 1]);

#endif
