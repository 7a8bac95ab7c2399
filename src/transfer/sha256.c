/* sha256.c: incremental SHA-256 over OpenSSL EVP, with a non-destructive
 * "peek" (the context is copied and the copy finalised) because a receiver
 * must prove a resume prefix while its running hash continues
 * (docs/protocol.md §5.5, §10). Also the random transfer id. */
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>

#include "transfer/sha256.h"

struct xfer_hasher {
    EVP_MD_CTX *ctx;
};

xfer_hasher *xfer_hasher_create(void)
{
    xfer_hasher *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    h->ctx = EVP_MD_CTX_new();
    if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
        xfer_hasher_destroy(h);
        return NULL;
    }
    return h;
}

void xfer_hasher_destroy(xfer_hasher *h)
{
    if (!h) return;
    EVP_MD_CTX_free(h->ctx);
    free(h);
}

void xfer_hasher_reset(xfer_hasher *h)
{
    EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL);
}

void xfer_hasher_update(xfer_hasher *h, const uint8_t *data, size_t len)
{
    if (len) EVP_DigestUpdate(h->ctx, data, len);
}

void xfer_hasher_peek_hex(const xfer_hasher *h, char out[XFER_SHA_HEX_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[32];
    unsigned int md_len = 0;
    EVP_MD_CTX *copy = EVP_MD_CTX_new();
    if (!copy || EVP_MD_CTX_copy_ex(copy, h->ctx) != 1 ||
        EVP_DigestFinal_ex(copy, md, &md_len) != 1)
        md_len = 0;
    EVP_MD_CTX_free(copy);
    if (md_len != 32) {
        /* cannot happen short of OOM; an all-zero digest never matches a real one */
        for (int i = 0; i < 64; i++)
            out[i] = '0';
        out[64] = 0;
        return;
    }
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = 0;
}

bool xfer_random_id(char out[XFER_ID_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1) return false;
    for (int i = 0; i < 16; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[32] = 0;
    return true;
}
