/* session.h: the transfer engine, one xfer_session per data channel
 * (docs/protocol.md §5), the twin of Session in web/src/protocol/session.ts.
 * The caller owns the channel, the files and the clock: it feeds received
 * messages and the results of reads and writes it was asked to do, and
 * takes out messages to send, read requests and events (open/write/close
 * for storage, progress, results). The engine never reads, writes, sleeps
 * or blocks. Incoming progress lives in an xfer_incoming (incoming.h) that
 * outlives a session. A file's digest is its plain SHA-256, or its block
 * digest (§5.8) when both hellos list "sha256-blocks"; OpenSSL hashes each
 * 4 MiB block inline, so unlike the TS engine this one has no hash events. */
#ifndef PD_TRANSFER_SESSION_H
#define PD_TRANSFER_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "transfer/incoming.h"
#include "transfer/types.h"

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
    bool no_text_cap; /* leave out "text": this endpoint takes no text snippets (§5.9) */
    /* our name for the peer to show ("from NAME"), sent in hello (§5.1),
     * NUL-terminated; NULL = none. Cleaned as xfer_peer_text_clean does
     * (cut to XFER_MAX_PEER_NAME bytes); nothing left = none. */
    const char *name;
    /* hello.lanes (§5.10): extra connections we take part in with this
     * peer, 0..XFER_MAX_LANES (more: create fails); 0 leaves it out */
    uint32_t lanes;
    /* list "lane-resend" (§5.11, after "text"): with lanes, DATA carries
     * its transfer's tag and copies of DATA sent again are taken */
    bool lane_resend;
} xfer_options;

typedef enum xfer_event_type {
    XFER_EV_READY,     /* peer hello received: msg_size, peer_max_msg, peer_win,
                        * peer_name (NULL when the hello had none) */
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
    XFER_EV_TEXT,           /* a text snippet arrived (already acknowledged, §5.9): xfer
                             * holds its id, data/len its UTF-8 bytes (may hold U+0000 and
                             * control characters: escape before showing) */
    XFER_EV_TEXT_ACKED,     /* the peer acknowledged our text: xfer holds its id */
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
    /* READY: the peer's hello.name, cleaned by the codec (no controls,
     * bidi or format characters, at most 64 bytes), valid while the
     * session lives; NULL when absent */
    const char *peer_name;
    size_t peer_name_len;
    /* READY: the session's lanes, min(ours, the peer's hello.lanes) (§5.10) */
    uint32_t lanes;
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

/* Lanes (§5.10). The agreed lane count L = min(ours, the peer's
 * hello.lanes); 0 before READY or when either side has none. */
uint32_t xfer_session_lanes(const xfer_session *s);
/* Lane `lane` (1..L) opened: from now on the merge counts it as a channel
 * that may still bring the next DATA (the rule that every channel holding
 * a DATA that is not the next one is PROTOCOL). Feeding a lane marks it
 * open too. Outside 1..L: ignored. */
void xfer_session_lane_opened(xfer_session *s, unsigned lane);
/* Both hellos list "lane-resend" and L > 0 (§5.11). Known once
 * XFER_EV_READY came. */
bool xfer_session_lane_resend(const xfer_session *s);
/* Lane `lane` (1..L) closed or failed after it opened. Under lane-resend
 * the session goes on (what the merge held from it stays: it arrived
 * whole) and true is returned; otherwise false: the caller ends the
 * session, whose DATA on that lane may be lost (§5.10 "Ending"). */
bool xfer_session_lane_closed(xfer_session *s, unsigned lane);
/* Sender, §5.11: msg (len bytes) is a DATA message this session produced
 * (xfer_session_next_output) that the peer no longer needs: its `ack`
 * covers it, its file is verified, failed or cancelled, its transfer ended
 * (or is not the current one). A caller keeping sent DATA to send it again
 * frees what this says; O(1). Not a DATA message: true. */
bool xfer_session_data_done(const xfer_session *s, const uint8_t *msg, size_t len);
/* Channels the merge counts: 1 (the session's) + lanes opened. */
unsigned xfer_session_channels(const xfer_session *s);
/* Messages the merge holds now (DATA and control behind an early end). */
size_t xfer_session_held(const xfer_session *s);
/* A DATA message received on lane `lane` (0 = the session's channel, as
 * xfer_session_feed_binary). A lane above L, or any lane before both hellos,
 * is PROTOCOL. With L > 0, DATA that is not the next one is held (copied)
 * until it is; WRITE events of held DATA point into the session's copy,
 * valid until the next feed. One feed may then release many: after
 * xfer_session_write_failed() for a file, skip the WRITEs of it still
 * queued. */
void xfer_session_feed_binary_lane(xfer_session *s, unsigned lane, const uint8_t *msg, size_t len);
/* A control message received on lane `lane`: lane 0 is
 * xfer_session_feed_text; on a lane it is PROTOCOL (control messages travel
 * only on the session's channel). */
void xfer_session_feed_text_lane(xfer_session *s, unsigned lane, const uint8_t *text, size_t len);

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

/* Both hellos list "text" (§5.9). Known once XFER_EV_READY came. */
bool xfer_session_text_supported(const xfer_session *s);
/* Sends a text snippet with id (32 lowercase hex, unique among our texts
 * waiting for their ack): len 1 to XFER_MAX_TEXT bytes of valid UTF-8.
 * XFER_E_ARG for a bad id or text, XFER_E_STATE if not ready or
 * XFER_MAX_TEXT_PENDING texts are waiting, XFER_E_UNSUPPORTED if the peer's
 * hello has no "text" (nothing is sent: a peer that did not ask for texts
 * never gets one), XFER_E_TOO_BIG if the message exceeds the peer's maxMsg.
 * XFER_EV_TEXT_ACKED with this id follows once the peer has it. */
int xfer_session_send_text(xfer_session *s, const char *id, const char *text, size_t len);

/* Both: cancels our outgoing or incoming transfer (or declines an offer). */
void xfer_session_cancel(xfer_session *s, const char *xfer);

#endif
