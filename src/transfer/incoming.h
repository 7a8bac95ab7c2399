/* incoming.h: a receiver's state of one incoming transfer that outlives a
 * dropped channel, so that a new session can resume it (docs/protocol.md
 * §5.5): the manifest, and per file its status, the bytes stored and the
 * running digest. The twin of IncomingTransfer in
 * web/src/protocol/session.ts. Sessions (session.h) accept an offer into
 * one and move its files along; the caller creates, keeps and destroys it. */
#ifndef PD_TRANSFER_INCOMING_H
#define PD_TRANSFER_INCOMING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "transfer/types.h"

typedef struct xfer_incoming xfer_incoming;

/* Copies the manifest. */
xfer_incoming *xfer_incoming_create(const char *xfer, const xfer_file_entry *files, size_t n);
void xfer_incoming_destroy(xfer_incoming *inc);
bool xfer_incoming_same(const xfer_incoming *inc, const char *xfer, const xfer_file_entry *files,
                        size_t n);
const char *xfer_incoming_xfer(const xfer_incoming *inc);
size_t xfer_incoming_count(const xfer_incoming *inc);
const xfer_file_entry *xfer_incoming_file(const xfer_incoming *inc, size_t i);
/* Bytes stored of file i (confirmed by xfer_session_written). */
uint64_t xfer_incoming_held(const xfer_incoming *inc, size_t i);
bool xfer_incoming_verified(const xfer_incoming *inc, size_t i);
/* Feeds the bytes of a partial file found on disk (e.g. after a restart of
 * the process), in order from byte 0, so that accept asks to resume from
 * them (§5.5). Only before the file is accepted in a session. The digest
 * mode belongs to the session that will accept (§5.8), so both a plain and
 * a block digest are computed, unless xfer_incoming_prefix_mode() said
 * which one. */
void xfer_incoming_prefix_update(xfer_incoming *inc, size_t i, const uint8_t *data, size_t len);
/* Before the first prefix_update: the session that will accept is known
 * (xfer_session_block_digests() once it is ready), so hash partial files in
 * its mode only, once instead of twice. A session of the other mode then
 * resumes nothing (it starts those files at 0), as after any mode change. */
void xfer_incoming_prefix_mode(xfer_incoming *inc, bool blocks);

#endif
