/* codec.h: control messages (canonical JSON, docs/protocol.md §3) and
 * data messages (16-byte header, §4), byte for byte as
 * web/src/protocol/codec.ts writes them. */
#ifndef PD_TRANSFER_CODEC_H
#define PD_TRANSFER_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "transfer/types.h"

const char *xfer_strerror(int err);

/* Wire error codes (§8) by name. */
const char *xfer_code_name(xfer_code c);
/* Unknown names map to INTERNAL (§3.2 error.code). */
xfer_code xfer_code_parse(const char *name, size_t len);

/* Decodes a control message (UTF-8 JSON). Returns XFER_OK, XFER_E_NOMEM, or
 * XFER_E_DECODE with *code set to the wire code to answer (PROTOCOL). On
 * error *out holds nothing to free. */
int xfer_msg_decode(const uint8_t *text, size_t len, xfer_msg *out, xfer_code *code);
void xfer_msg_cleanup(xfer_msg *m);
/* Appends the canonical JSON of m to out (§3.1). */
int xfer_msg_encode(pd_buf *out, const xfer_msg *m);

/* Returns XFER_OK or XFER_E_DECODE (the wire code is PROTOCOL). */
int xfer_data_decode(const uint8_t *msg, size_t len, xfer_data *out);
/* The 16-byte header of §4; tag is the transfer's tag (§5.11), 0 without
 * lane-resend. */
void xfer_data_header_encode(uint8_t out[XFER_DATA_HEADER_LEN], uint32_t file, uint64_t offset,
                             uint16_t tag);

/* A peer's name or device made safe to show (§5.1), as peerText in
 * codec.ts: invalid UTF-8, control characters (C0, DEL, C1), bidi
 * controls, zero-width, format and line-separator characters removed,
 * white space (as JS \s) collapsed to one space and trimmed, cut to
 * XFER_MAX_PEER_NAME bytes on a character boundary. Writes out (NUL-
 * terminated) and returns its length, 0 for nothing left. */
size_t xfer_peer_text_clean(const char *in, size_t len, char out[XFER_MAX_PEER_NAME + 1]);

/* Appends s to out escaped exactly as ECMAScript JSON.stringify does. */
int xfer_json_string(pd_buf *out, const char *s, size_t len);

#endif
