/* types.h: the Peerdrop file-transfer protocol v2 (docs/protocol.md):
 * its constants, error codes and messages, as data. The twin of
 * web/src/protocol/types.ts; the other headers of src/transfer each belong
 * to one .c file and mirror the .ts file of the same name:
 *   codec.h    codec.ts     control (JSON, §3) and data (§4) messages
 *   paths.h    paths.ts     the path rules of §7
 *   sha256.h   sha256.ts    incremental SHA-256 (OpenSSL), transfer ids
 *   digest.h   digest.ts    a file's digest, plain or in blocks (§5.8)
 *   incoming.h session.ts   IncomingTransfer: receiver state that outlives
 *                           a channel (§5.5)
 *   session.h  session.ts   Session: the engine, one per data channel (§5)
 * All sans-I/O: the caller owns the channel, the files and the clock. */
#ifndef PD_TRANSFER_TYPES_H
#define PD_TRANSFER_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/limits.h"

/* ---- constants (§2) ---- */
/* 2: every channel opens with the PAKE of docs/authentication.md §7 before
 * hello (src/pake/gate.h, docs/protocol.md §5.0); a peer hello below 2 is
 * VERSION (1 had no authentication, which is not optional) */
#define XFER_VERSION 2u
#define XFER_DATA_HEADER_LEN 16u
#define XFER_DATA_TYPE 0x01u
#define XFER_MIN_MAX_MSG 16384u         /* every endpoint accepts 16 KiB messages */
#define XFER_DEFAULT_MSG_SIZE 65536u    /* RFC 8841 §6 default max-message-size */
#define XFER_DEFAULT_WINDOW (16u << 20) /* receiver memory bound before the disk catches up */
#define XFER_MAX_ACK_STEP (1u << 20)
#define XFER_MAX_FILES 10000u
#define XFER_MAX_NAME_BYTES 255u /* common file-system component limit */
#define XFER_MAX_DIR_BYTES 4096u /* PATH_MAX */
#define XFER_MAX_DIR_DEPTH 64u
#define XFER_MAX_MIME 255u
#define XFER_MAX_ERROR_MESSAGE 1024u /* UTF-16 code units, as the TS side counts */
#define XFER_MAX_CAPS 32u
#define XFER_MAX_SIZE 9007199254740991ull /* 2^53 - 1: exact in JS numbers and doubles */
#define XFER_ID_LEN 32u                   /* transfer id: 32 lowercase hex digits */
#define XFER_SHA_HEX_LEN 64u
/* §5.8: B, one WebCrypto digest() call per block in the browser */
#define XFER_HASH_BLOCK 4194304u
#define XFER_CAP_RESUME "resume"
#define XFER_CAP_BLOCKS "sha256-blocks"
/* §5.9: this endpoint takes text snippets (text / text-ack); a text is
 * sent only when both hellos list it */
#define XFER_CAP_TEXT "text"
/* §5.11: DATA carries its transfer's tag, a sender may send a stalled or
 * lost lane's DATA again on another channel; in force when both hellos
 * list it and L > 0 */
#define XFER_CAP_LANE_RESEND "lane-resend"
#define XFER_MAX_TEXT PD_MAX_TEXT_BYTES           /* UTF-8 bytes of one snippet */
#define XFER_MAX_TEXT_PENDING PD_MAX_TEXT_PENDING /* sent, not yet acknowledged */
#define XFER_MAX_PEER_NAME PD_MAX_PEER_NAME_BYTES /* hello.name, UTF-8 bytes */
/* §5.10: extra connections carrying a session's DATA; hello.lanes says at
 * most XFER_MAX_WIRE_LANES, hello.moreLanes the rest */
#define XFER_MAX_LANES PD_MAX_LANES
/* §5.4: in flight at most min(peer.win, this) */
#define XFER_MAX_PEER_WIN PD_MAX_PEER_WIN
#define XFER_MAX_WIRE_LANES PD_MAX_WIRE_LANES
/* §5.10: held DATA (and control messages held behind an early end) of a
 * session's merge, in messages; their payload bytes are bounded by our win */
#define XFER_MAX_HELD_MSGS PD_MAX_LANE_HELD_MSGS

/* Module errors (returned by functions, never sent). */
#define XFER_ERRORS(X)                                                                             \
    X(XFER_OK, 0, "ok")                                                                            \
    X(XFER_E_NOMEM, -1, "out of memory")                                                           \
    X(XFER_E_STATE, -2, "not allowed in this state")                                               \
    X(XFER_E_ARG, -3, "invalid argument")                                                          \
    X(XFER_E_TOO_BIG, -4, "does not fit in one message (peer maxMsg)")                             \
    X(XFER_E_DECODE, -5, "malformed message")                                                      \
    X(XFER_E_UNSUPPORTED, -6, "the peer does not take text (no \"text\" in its hello)")

enum {
#define XFER_ERR_ENUM(name, value, text) name = (value),
    XFER_ERRORS(XFER_ERR_ENUM)
#undef XFER_ERR_ENUM
};

/* Wire error codes (§8). */
typedef enum xfer_code {
    XFER_CODE_PROTOCOL,
    XFER_CODE_VERSION,
    XFER_CODE_TOO_BIG,
    XFER_CODE_UNSAFE_PATH,
    XFER_CODE_HASH_MISMATCH,
    XFER_CODE_READ_ERROR,
    XFER_CODE_WRITE_ERROR,
    XFER_CODE_INTERNAL,
    XFER_CODE_AUTH_FAILED, /* v2: the PAKE that opens the channel failed (§5.0) */
} xfer_code;

/* ---- messages (§3, §4) ---- */

typedef enum xfer_type {
    XFER_HELLO,
    XFER_OFFER,
    XFER_ACCEPT,
    XFER_DECLINE,
    XFER_START,
    XFER_END,
    XFER_ACK,
    XFER_VERIFIED,
    XFER_CANCEL,
    XFER_ERROR,
    XFER_TEXT,     /* §5.9: a text snippet, either direction */
    XFER_TEXT_ACK, /* §5.9: the snippet of that id arrived */
} xfer_type;

/* Strings carry their length: JSON may hold U+0000 (a name with one is then
 * refused by the path rules, a message keeps it). They are NUL-terminated too. */
typedef struct xfer_file_entry {
    uint32_t id;
    char *name;
    size_t name_len;
    char *dir;
    size_t dir_len;
    uint64_t size;
    char *mime;
    size_t mime_len;
} xfer_file_entry;

typedef struct xfer_accept_entry {
    uint32_t id;
    uint64_t offset;
    bool has_sha256; /* iff offset > 0 */
    char sha256[XFER_SHA_HEX_LEN + 1];
} xfer_accept_entry;

typedef struct xfer_msg {
    xfer_type t;
    char xfer[XFER_ID_LEN + 1]; /* "" when absent (hello, error without xfer) */
    /* hello */
    uint32_t v;
    uint64_t max_msg, win;
    size_t caps_len;
    char caps[XFER_MAX_CAPS][33];
    /* this endpoint's lane count (§5.10), 0..XFER_MAX_LANES, 0 when absent:
     * hello.lanes, or hello.moreLanes above XFER_MAX_WIRE_LANES (then
     * encoded as lanes 7 and moreLanes); encoded only when > 0 */
    uint32_t lanes;
    /* hello.name and hello.device (§5.1), optional: who the peer is for
     * its user ("Blue Fox", "Firefox on Android"); cleaned as
     * xfer_peer_text_clean does, on decode and on encode */
    bool has_name, has_device;
    char name[XFER_MAX_PEER_NAME + 1];
    size_t name_len;
    char device[XFER_MAX_PEER_NAME + 1];
    size_t device_len;
    /* offer / accept (owned, freed by xfer_msg_cleanup) */
    xfer_file_entry *files;
    size_t files_len;
    xfer_accept_entry *accepts;
    size_t accepts_len;
    /* start / end / ack / verified / error */
    uint32_t file;
    bool has_file; /* error only; always true for the others */
    uint64_t offset, bytes;
    char sha256[XFER_SHA_HEX_LEN + 1];
    xfer_code code;
    char *message; /* error: owned */
    size_t message_len;
    /* text / text-ack: id (32 lowercase hex); text: its UTF-8 bytes, owned */
    char text_id[XFER_ID_LEN + 1];
    char *text;
    size_t text_len;
} xfer_msg;

typedef struct xfer_data {
    uint32_t file;
    uint64_t offset;
    uint16_t tag;           /* the transfer's tag (§5.11); 0 unless lane-resend is agreed */
    const uint8_t *payload; /* points into the input */
    size_t payload_len;
} xfer_data;

#endif
