/* incoming_internal.h: the fields of an xfer_incoming, shared by
 * incoming.c and session.c only (no other module includes this): a session
 * moves each file's status along as TS's Session does with
 * IncomingTransfer's fields. Plus the manifest-copy helpers both use. */
#ifndef PD_TRANSFER_INCOMING_INTERNAL_H
#define PD_TRANSFER_INCOMING_INTERNAL_H

#include "transfer/digest.h"
#include "transfer/incoming.h"

typedef enum in_status {
    IN_IDLE,
    IN_ACCEPTED,
    IN_RECEIVING,
    IN_ENDED,
    IN_CLOSING,
    IN_VERIFIED,
    IN_FAILED,
} in_status;

typedef struct in_file {
    in_status status;
    uint64_t received; /* bytes arrived in order (fed to the digest) */
    uint64_t written;  /* bytes the storage layer confirmed */
    uint64_t last_ack;
    uint64_t resume_at; /* offset we asked to resume at in this session */
    /* [0] plain, [1] block digest; NULL until the file first starts (or a
     * prefix is fed). A session uses the one of its mode; only a prefix fed
     * from disk, before any session chose, has both. */
    xfer_digest *digest[2];
} in_file;

struct xfer_incoming {
    char xfer[XFER_ID_LEN + 1];
    xfer_file_entry *manifest;
    in_file *files;
    size_t n;
    bool prefix_mode[2]; /* digests prefix_update computes: [0] plain, [1] blocks */
};

/* Destroys both digests of f. */
void xfer_in_digests_drop(in_file *f);
/* A copy of len bytes of s, NUL-terminated; NULL when out of memory. */
char *xfer_dup_len(const char *s, size_t len);
/* Deep copies of a manifest; free with xfer_entries_free (NULL is fine). */
xfer_file_entry *xfer_entries_copy(const xfer_file_entry *src, size_t n);
void xfer_entries_free(xfer_file_entry *f, size_t n);
/* Same names, dirs, sizes and types, in the same order (ids aside). */
bool xfer_same_manifest(const xfer_file_entry *a, size_t an, const xfer_file_entry *b, size_t bn);

#endif
