/* digest.c: the digest of one file in either of a session's two modes
 * (docs/protocol.md §5.8), the C side of web/src/protocol/digest.ts:
 *  - plain: the SHA-256 of the bytes (§5.3);
 *  - blocks (cap "sha256-blocks"): SHA-256 over the 32-byte SHA-256 of
 *    every 4 MiB block, the last one short.
 * The TS engine hands each complete block to WebCrypto and folds the results
 * back as they come; here OpenSSL hashes each block inline as its bytes
 * arrive, so a block's digest is known the moment its last byte is fed and
 * nothing waits (no hash events, no extra session states).
 * `covered` is the prefix the digest is final for: every byte fed (plain),
 * or the bytes of the complete blocks folded so far plus the short last
 * block once finish() said the file is complete (blocks). A resume can only
 * be proven at such a point (§5.5, §5.8). */
#include <openssl/evp.h>
#include <stdlib.h>

#include "transfer/digest.h"
#include "transfer/sha256.h"

struct xfer_digest {
    bool blocks;
    bool broken;        /* an EVP call failed: peek gives a digest nothing matches */
    uint64_t covered;   /* bytes from 0 that peek_hex covers */
    xfer_hasher *outer; /* plain: the bytes; blocks: the block digests */
    EVP_MD_CTX *block;  /* blocks: SHA-256 of the current block */
    uint64_t block_len; /* blocks: bytes fed to `block` */
};

static void block_restart(xfer_digest *d)
{
    d->block_len = 0;
    if (EVP_DigestInit_ex(d->block, EVP_sha256(), NULL) != 1) d->broken = true;
}

xfer_digest *xfer_digest_create(bool blocks)
{
    xfer_digest *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->blocks = blocks;
    if (!(d->outer = xfer_hasher_create())) goto fail;
    if (blocks) {
        if (!(d->block = EVP_MD_CTX_new())) goto fail;
        block_restart(d);
        if (d->broken) goto fail;
    }
    return d;
fail:
    xfer_digest_destroy(d);
    return NULL;
}

void xfer_digest_destroy(xfer_digest *d)
{
    if (!d) return;
    xfer_hasher_destroy(d->outer);
    EVP_MD_CTX_free(d->block);
    free(d);
}

void xfer_digest_reset(xfer_digest *d)
{
    d->broken = false;
    d->covered = 0;
    xfer_hasher_reset(d->outer);
    if (d->blocks) block_restart(d);
}

bool xfer_digest_blocks(const xfer_digest *d)
{
    return d->blocks;
}

uint64_t xfer_digest_covered(const xfer_digest *d)
{
    return d->covered;
}

/* The current block is complete (or the file's last): fold its SHA-256. */
static void block_cut(xfer_digest *d)
{
    unsigned char md[32];
    unsigned int md_len = 0;
    if (EVP_DigestFinal_ex(d->block, md, &md_len) != 1 || md_len != sizeof md) d->broken = true;
    xfer_hasher_update(d->outer, md, sizeof md);
    d->covered += d->block_len;
    block_restart(d);
}

void xfer_digest_update(xfer_digest *d, const uint8_t *data, size_t len)
{
    if (!d->blocks) {
        xfer_hasher_update(d->outer, data, len);
        d->covered += len;
        return;
    }
    for (size_t p = 0; p < len;) {
        uint64_t room = XFER_HASH_BLOCK - d->block_len;
        size_t take = len - p < room ? len - p : (size_t)room;
        if (EVP_DigestUpdate(d->block, data + p, take) != 1) d->broken = true;
        d->block_len += take;
        p += take;
        if (d->block_len == XFER_HASH_BLOCK) block_cut(d);
    }
}

void xfer_digest_finish(xfer_digest *d)
{
    /* an empty file has no block: its digest is the SHA-256 of nothing */
    if (d->blocks && d->block_len > 0) block_cut(d);
}

void xfer_digest_rewind(xfer_digest *d)
{
    /* plain: covered is every byte fed, nothing to forget */
    if (d->blocks && d->block_len > 0) block_restart(d);
}

void xfer_digest_peek_hex(const xfer_digest *d, char out[XFER_SHA_HEX_LEN + 1])
{
    xfer_hasher_peek_hex(d->outer, out);
    if (d->broken) {
        /* an all-zero digest never matches a real one (as in sha256.c) */
        for (int i = 0; i < 64; i++)
            out[i] = '0';
        out[64] = 0;
    }
}
