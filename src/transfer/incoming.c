/* incoming.c: see incoming.h. What a receiver keeps of an incoming
 * transfer between sessions; the session (session.c) drives the per-file
 * states (incoming_internal.h), as Session drives IncomingTransfer in
 * web/src/protocol/session.ts. */
#include <stdlib.h>
#include <string.h>

#include "transfer/incoming_internal.h"

void xfer_in_digests_drop(in_file *f)
{
    for (int m = 0; m < 2; m++) {
        xfer_digest_destroy(f->digest[m]);
        f->digest[m] = NULL;
    }
}

void xfer_entries_free(xfer_file_entry *f, size_t n)
{
    if (!f) return;
    for (size_t i = 0; i < n; i++) {
        free(f[i].name);
        free(f[i].dir);
        free(f[i].mime);
    }
    free(f);
}

char *xfer_dup_len(const char *s, size_t len)
{
    char *d = malloc(len + 1);
    if (!d) return NULL;
    if (len) memcpy(d, s, len);
    d[len] = 0;
    return d;
}

xfer_file_entry *xfer_entries_copy(const xfer_file_entry *src, size_t n)
{
    xfer_file_entry *f = calloc(n ? n : 1, sizeof *f);
    if (!f) return NULL;
    for (size_t i = 0; i < n; i++) {
        f[i] = src[i];
        f[i].name = xfer_dup_len(src[i].name, src[i].name_len);
        f[i].dir = xfer_dup_len(src[i].dir, src[i].dir_len);
        f[i].mime = xfer_dup_len(src[i].mime, src[i].mime_len);
        if (!f[i].name || !f[i].dir || !f[i].mime) {
            xfer_entries_free(f, i + 1);
            return NULL;
        }
    }
    return f;
}

xfer_incoming *xfer_incoming_create(const char *xfer, const xfer_file_entry *files, size_t n)
{
    if (!xfer || strlen(xfer) != XFER_ID_LEN || !files || n == 0 || n > XFER_MAX_FILES) return NULL;
    xfer_incoming *inc = calloc(1, sizeof *inc);
    if (!inc) return NULL;
    memcpy(inc->xfer, xfer, XFER_ID_LEN + 1);
    inc->n = n;
    inc->manifest = xfer_entries_copy(files, n);
    inc->files = calloc(n, sizeof *inc->files);
    if (!inc->manifest || !inc->files) goto fail;
    inc->prefix_mode[0] = inc->prefix_mode[1] = true;
    return inc;
fail:
    xfer_incoming_destroy(inc);
    return NULL;
}

void xfer_incoming_destroy(xfer_incoming *inc)
{
    if (!inc) return;
    if (inc->files)
        for (size_t i = 0; i < inc->n; i++)
            xfer_in_digests_drop(&inc->files[i]);
    free(inc->files);
    xfer_entries_free(inc->manifest, inc->manifest ? inc->n : 0);
    free(inc);
}

static bool same_str(const char *a, size_t alen, const char *b, size_t blen)
{
    return alen == blen && memcmp(a, b, alen) == 0;
}

bool xfer_same_manifest(const xfer_file_entry *a, size_t an, const xfer_file_entry *b, size_t bn)
{
    if (an != bn) return false;
    for (size_t i = 0; i < an; i++)
        if (!same_str(a[i].name, a[i].name_len, b[i].name, b[i].name_len) ||
            !same_str(a[i].dir, a[i].dir_len, b[i].dir, b[i].dir_len) || a[i].size != b[i].size ||
            !same_str(a[i].mime, a[i].mime_len, b[i].mime, b[i].mime_len))
            return false;
    return true;
}

bool xfer_incoming_same(const xfer_incoming *inc, const char *xfer, const xfer_file_entry *files,
                        size_t n)
{
    return inc && xfer && strcmp(inc->xfer, xfer) == 0 &&
           xfer_same_manifest(inc->manifest, inc->n, files, n);
}
const char *xfer_incoming_xfer(const xfer_incoming *inc)
{
    return inc->xfer;
}
size_t xfer_incoming_count(const xfer_incoming *inc)
{
    return inc->n;
}
const xfer_file_entry *xfer_incoming_file(const xfer_incoming *inc, size_t i)
{
    return i < inc->n ? &inc->manifest[i] : NULL;
}
uint64_t xfer_incoming_held(const xfer_incoming *inc, size_t i)
{
    return i < inc->n ? inc->files[i].written : 0;
}
bool xfer_incoming_verified(const xfer_incoming *inc, size_t i)
{
    return i < inc->n && inc->files[i].status == IN_VERIFIED;
}
void xfer_incoming_prefix_mode(xfer_incoming *inc, bool blocks)
{
    if (!inc) return;
    inc->prefix_mode[0] = !blocks;
    inc->prefix_mode[1] = blocks;
}

void xfer_incoming_prefix_update(xfer_incoming *inc, size_t i, const uint8_t *data, size_t len)
{
    if (!inc || i >= inc->n || inc->files[i].status != IN_IDLE) return;
    in_file *f = &inc->files[i];
    uint64_t size = inc->manifest[i].size;
    if (f->received + len > size) return;
    for (int m = 0; m < 2; m++) {
        if (!inc->prefix_mode[m]) continue;
        /* a digest that would miss the bytes already held is no proof:
         * without one accept asks for nothing in that mode */
        if (!f->digest[m] && (f->received > 0 || !(f->digest[m] = xfer_digest_create(m == 1))))
            continue;
        xfer_digest_update(f->digest[m], data, len);
        /* the whole file is on disk: as the receiver does in on_data, so
         * that a block digest can prove it (resume at size, §5.8) */
        if (f->received + len == size) xfer_digest_finish(f->digest[m]);
    }
    f->received += len;
    f->written = f->received;
}
