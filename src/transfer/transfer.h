/* transfer.h: the Peerdrop file-transfer protocol v1 (docs/protocol.md),
 * sans-I/O, byte-for-byte compatible with web/src/protocol/.
 *
 * Three parts:
 *  - the codec: control messages (canonical JSON, §3) and data messages
 *    (16-byte header, §4);
 *  - the path rules of §7 (xfer_path_*), which a receiver applies to every
 *    manifest before anything touches the disk;
 *  - xfer_session: one per data channel (§5). The caller owns the channel,
 *    the files and the clock: it feeds received messages and the results of
 *    reads and writes it was asked to do, and takes out messages to send,
 *    read requests and events (open/write/close for storage, progress,
 *    results). The engine never reads, writes, sleeps or blocks.
 * Incoming progress lives in an xfer_incoming that outlives a session, so a
 * new channel can resume it (§5.5). Hashing is OpenSSL EVP SHA-256, whose
 * context is copied to produce a prefix proof without stopping the running
 * hash (§10). A file's digest is its plain SHA-256, or its block digest
 * (§5.8) when both hellos list "sha256-blocks"; OpenSSL hashes each 4 MiB
 * block inline, so unlike the TS engine this one has no hash events. */
#ifndef PD_TRANSFER_H
#define PD_TRANSFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/buf.h"

/* ---- constants (docs/protocol.md §2) ---- */
#define XFER_VERSION 1u
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

/* Module errors (returned by functions, never sent). */
#define XFER_ERRORS(X)                                                                             \
    X(XFER_OK, 0, "ok")                                                                            \
    X(XFER_E_NOMEM, -1, "out of memory")                                                           \
    X(XFER_E_STATE, -2, "not allowed in this state")                                               \
    X(XFER_E_ARG, -3, "invalid argument")                                                          \
    X(XFER_E_TOO_BIG, -4, "manifest does not fit in one message")                                  \
    X(XFER_E_DECODE, -5, "malformed message")

enum {
#define XFER_ERR_ENUM(name, value, text) name = value,
    XFER_ERRORS(XFER_ERR_ENUM)
#undef XFER_ERR_ENUM
};
const char *xfer_strerror(int err);

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
} xfer_code;
const char *xfer_code_name(xfer_code c);
/* Unknown names map to INTERNAL (§3.2 error.code). */
xfer_code xfer_code_parse(const char *name, size_t len);

/* ---- codec ---- */

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
} xfer_msg;

/* Decodes a control message (UTF-8 JSON). Returns XFER_OK, XFER_E_NOMEM, or
 * XFER_E_DECODE with *code set to the wire code to answer (PROTOCOL). On
 * error *out holds nothing to free. */
int xfer_msg_decode(const uint8_t *text, size_t len, xfer_msg *out, xfer_code *code);
void xfer_msg_cleanup(xfer_msg *m);
/* Appends the canonical JSON of m to out (§3.1). */
int xfer_msg_encode(pd_buf *out, const xfer_msg *m);

typedef struct xfer_data {
    uint32_t file;
    uint64_t offset;
    const uint8_t *payload; /* points into the input */
    size_t payload_len;
} xfer_data;

/* Returns XFER_OK or XFER_E_DECODE (the wire code is PROTOCOL). */
int xfer_data_decode(const uint8_t *msg, size_t len, xfer_data *out);
void xfer_data_header_encode(uint8_t out[XFER_DATA_HEADER_LEN], uint32_t file, uint64_t offset);

/* Appends s to out escaped exactly as ECMAScript JSON.stringify does. */
int xfer_json_string(pd_buf *out, const char *s, size_t len);

/* ---- path rules (§7) ---- */

/* NULL when safe, else a short reason ("dot component", ...). */
const char *xfer_path_component_problem(const char *c, size_t len);
const char *xfer_path_name_problem(const char *name, size_t len);
const char *xfer_path_dir_problem(const char *dir, size_t len);
/* Checks every entry and that no two paths collide and no file path is
 * also a directory. Returns XFER_OK and *problem NULL when safe; XFER_OK
 * and writes a reason ("file 3: dot component") into problem_buf otherwise;
 * XFER_E_NOMEM when the check itself could not run. */
int xfer_path_manifest_check(const xfer_file_entry *files, size_t n, char *problem_buf,
                             size_t problem_cap, const char **problem);
/* Receiver policy, not a §7 rule: true when a component of `path` (a name,
 * or a dir of '/'-joined components) starts with '.'. */
bool xfer_path_hidden(const char *path, size_t len);
/* Its dir or its name is hidden. */
bool xfer_path_entry_hidden(const xfer_file_entry *f);
/* NULL when no entry is hidden, else "file 3: hidden name (leading dot)"
 * written into buf. */
const char *xfer_path_manifest_hidden(const xfer_file_entry *files, size_t n, char *buf,
                                      size_t cap);

/* ---- SHA-256 helpers ---- */
typedef struct xfer_hasher xfer_hasher;
xfer_hasher *xfer_hasher_create(void);
void xfer_hasher_destroy(xfer_hasher *h);
void xfer_hasher_reset(xfer_hasher *h);
void xfer_hasher_update(xfer_hasher *h, const uint8_t *data, size_t len);
/* Hex digest of everything so far; the hasher keeps running. */
void xfer_hasher_peek_hex(const xfer_hasher *h, char out[XFER_SHA_HEX_LEN + 1]);

/* ---- the digest of one file (§5.3, §5.8) ----
 * plain: SHA-256 of the bytes. blocks: SHA-256 over the 32-byte SHA-256 of
 * each XFER_HASH_BLOCK-byte block, the last one short; an empty file's is
 * the SHA-256 of nothing. covered() is the prefix, from byte 0, whose digest
 * peek_hex() gives: every byte fed (plain); the complete blocks fed, plus
 * the short last one after finish() (blocks). Only such a prefix can be
 * proven for a resume. */
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

/* ---- receiver state that survives a dropped channel ---- */

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

/* ---- session ---- */

typedef struct xfer_options {
    uint64_t max_msg;    /* largest message we accept; 0 = 262144 */
    uint64_t win;        /* receive window; 0 = XFER_DEFAULT_WINDOW */
    uint64_t msg_size;   /* preferred outgoing data message size; 0 = 65536 */
    uint64_t send_limit; /* transport's max message size; 0 = unlimited */
    uint64_t read_block; /* bytes per read request; 0 = 1 MiB */
    /* caps advertised: ["resume","sha256-blocks"], minus the ones turned off */
    bool no_resume_cap; /* leave out "resume" */
    bool no_blocks_cap; /* leave out "sha256-blocks": plain SHA-256 digests (§5.8) */
    /* receiver: receive files with hidden names (".config/...", ".bashrc");
     * by default they are left out of accept, and an offer of nothing
     * else is refused as UNSAFE_PATH (§7, issue 11) */
    bool allow_hidden;
} xfer_options;

typedef enum xfer_event_type {
    XFER_EV_READY,     /* peer hello received: msg_size, peer_max_msg, peer_win */
    XFER_EV_OFFER,     /* incoming offer: files/files_len (valid until accept/decline);
                        * hidden_ids: the files accept leaves out (hidden names) */
    XFER_EV_ACCEPTED,  /* our offer was accepted: file_ids */
    XFER_EV_DECLINED,  /* our offer was declined */
    XFER_EV_OPEN,      /* storage: open file at offset (truncate there) */
    XFER_EV_WRITE,     /* storage: write data at offset, then call written() */
    XFER_EV_CLOSE,     /* storage: commit (ok) or discard (!ok); if ok call closed() */
    XFER_EV_PROGRESS,  /* bytes of file delivered (acked / stored) */
    XFER_EV_FILE_DONE, /* ok, or code + message */
    XFER_EV_TRANSFER_DONE,
    XFER_EV_CANCELLED,      /* by_peer */
    XFER_EV_TRANSFER_ERROR, /* code, message, by_peer */
    XFER_EV_FATAL,          /* session over: code, message, by_peer; close the channel */
} xfer_event_type;

typedef struct xfer_event {
    xfer_event_type type;
    bool out; /* direction: true for our outgoing transfer */
    char xfer[XFER_ID_LEN + 1];
    uint32_t file;
    uint64_t offset, bytes;
    /* WRITE: points into the buffer of the xfer_session_feed_binary() call
     * that produced it, so drain events after every feed. */
    const uint8_t *data;
    size_t len;
    bool ok, by_peer;
    xfer_code code;
    const char *message; /* valid until the next xfer_session_next_event() */
    const xfer_file_entry *files;
    size_t files_len;
    const uint32_t *file_ids;
    size_t file_ids_len;
    /* OFFER: ids, increasing, of the files with a hidden name that this
     * receiver (no allow_hidden) never asks for; valid until the next
     * xfer_session_next_event() */
    const uint32_t *hidden_ids;
    size_t hidden_len;
    uint64_t msg_size, peer_max_msg, peer_win;
} xfer_event;

typedef struct xfer_read {
    char xfer[XFER_ID_LEN + 1];
    uint32_t file;
    uint64_t offset;
    size_t len;
} xfer_read;

typedef struct xfer_session xfer_session;

xfer_session *xfer_session_create(const xfer_options *opt);
void xfer_session_destroy(xfer_session *s);
/* The channel opened: queues our hello. */
void xfer_session_open(xfer_session *s);
/* The channel closed: nothing more is sent; incoming state stays resumable. */
void xfer_session_shutdown(xfer_session *s);
bool xfer_session_ready(const xfer_session *s);
bool xfer_session_closed_state(const xfer_session *s); /* dead: fatal error or shutdown */
uint64_t xfer_session_msg_size(const xfer_session *s);
/* Both hellos list "sha256-blocks": every digest of this session is a block
 * digest (§5.8). Known once XFER_EV_READY came. */
bool xfer_session_block_digests(const xfer_session *s);

void xfer_session_feed_text(xfer_session *s, const uint8_t *text, size_t len);
void xfer_session_feed_binary(xfer_session *s, const uint8_t *msg, size_t len);

/* Next message to send; data valid until the next call. */
bool xfer_session_next_output(xfer_session *s, const uint8_t **data, size_t *len, bool *binary);
bool xfer_session_next_event(xfer_session *s, xfer_event *ev);

/* Sender. Offers files (ids must be 0..n-1). XFER_E_STATE if not ready or an
 * outgoing transfer is active, XFER_E_TOO_BIG if the manifest does not fit
 * in one message of the peer's maxMsg. */
int xfer_session_offer(xfer_session *s, const char *xfer, const xfer_file_entry *files, size_t n);
/* Next read to do, or false (none, window full, or one outstanding). */
bool xfer_session_next_read(xfer_session *s, xfer_read *req);
void xfer_session_read_done(xfer_session *s, const xfer_read *req, const uint8_t *data, size_t len);
void xfer_session_read_failed(xfer_session *s, const xfer_read *req, const char *message);

/* Receiver. Accepts the pending offer into inc (same xfer and manifest; a
 * kept one resumes its held prefixes). ids NULL = every file not verified.
 * Without allow_hidden, files with a hidden name are left out whatever ids
 * says (the offer event's hidden_ids); nothing left to ask for declines. */
int xfer_session_accept(xfer_session *s, xfer_incoming *inc, const uint32_t *ids, size_t n_ids);
/* The offset accept would ask to resume file i of inc at in this session, 0
 * for none: the end of the bytes both stored and covered by a digest of the
 * session's mode; with block digests the last whole block held, or the
 * file's size (§5.5, §5.8). */
uint64_t xfer_session_resume_offset(const xfer_session *s, const xfer_incoming *inc, size_t i);
int xfer_session_decline(xfer_session *s);
void xfer_session_written(xfer_session *s, const char *xfer, uint32_t file, uint64_t up_to);
void xfer_session_closed(xfer_session *s, const char *xfer, uint32_t file, bool ok,
                         const char *message);
void xfer_session_write_failed(xfer_session *s, const char *xfer, uint32_t file,
                               const char *message);

/* Both: cancels our outgoing or incoming transfer (or declines an offer). */
void xfer_session_cancel(xfer_session *s, const char *xfer);

/* Fills out with 32 lowercase hex digits of 128 random bits + NUL; false
 * if the CSPRNG failed. */
bool xfer_random_id(char out[XFER_ID_LEN + 1]);

#endif
