/* app.h: the state of one run of the peerdrop command, shared by its parts
 * (the folder's internal header: nothing outside src/cli includes it):
 *   main.c      arguments, start-up, the loop, the outcome (cli_app_finish)
 *   room.c      signaling: the room, its events, the ICE servers
 *   peer.c      one WebRTC connection to a room member and its transfer
 *               session: channel callbacks, the engine loop (pump), events
 *   sender.c    the files to send: inputs, reads, offers, retries
 *   receiver.c  the files received: output folder, .partial files, held
 *               files, the offer and its prompt, storage events
 *   link.c      the share link and its QR code
 *   output.c    text, progress, --json events
 * Everything runs on one GMainContext: no locks. */
#ifndef PD_CLI_APP_H
#define PD_CLI_APP_H

#include <glib.h>
#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/limits.h"
#include "cli/ice_servers.h"
#include "cli/secret.h"
#include "cli/signal_client.h"
#include "pake/gate.h"
#include "rtc/rtc.h"
#include "transfer/incoming.h"
#include "transfer/session.h"

/* Exit codes: documented in usage() and docs/peerdrop.1. */
enum {
    EXIT_OK = 0,
    EXIT_USAGE = 1,
    EXIT_SIGNALING = 2, /* server unreachable, room not found, bad password */
    EXIT_TRANSFER = 3,  /* WebRTC failed, peer error, hash mismatch */
    EXIT_DECLINED = 4,  /* declined or cancelled */
    EXIT_LOCAL = 5,     /* cannot read an input or write the output */
    EXIT_AUTH = 6,      /* a peer failed authentication (issue 14): nothing sent to it */
    EXIT_INTERRUPTED = 130,
};

/* docs/protocol.md §5.4: stop producing above 4 MiB buffered, resume at 1 MiB. */
#define SEND_HIGH_WATER (4u << 20)
#define SEND_LOW_WATER (1u << 20)
#define READ_BLOCK (1u << 20)
/* With lanes (docs/protocol.md §5.10) the sender reads on only while some
 * channel has less than this waiting beyond its congestion window
 * (rtc_channel_backlog): data is committed to a lane when the lane can
 * send it, so little waits behind a lane that is recovering from a loss
 * (and is held by the receiver's merge meanwhile). 256 KiB and 1 MiB moved
 * the same at 50 ms and 0.5 % loss (1.6 MB/s, 16 MiB, 7 lanes, 2 rounds,
 * bench/RESULTS.md "Lanes"): the smaller one is kept. */
#define LANE_BACKLOG_MAX (256u << 10)
/* ... and looks again this often while every channel is over it: SCTP says
 * nothing when its queue drains below a level (one RTT at 5 ms is a tenth
 * of a 50 ms round trip). */
#define LANE_BACKLOG_POLL_MS 5
/* --lanes default (docs/protocol.md §5.10): see bench/RESULTS.md; usage()
 * in main.c says it too */
#define CLI_DEFAULT_LANES 7
#define CONNECT_ATTEMPTS 6 /* failed signaling connects before giving up */
/* A sender offers a receiver whose connection failed again, up to this many
 * times, 1 s, 2 s, 3 s later, with the same transfer id so that the browser
 * resumes where it stopped: as the web app's offering side does (the
 * answering side only waits for a new offer). */
#define PEER_RETRIES 3
/* Receiver: a connection that failed before it ever opened waits this long
 * for the sender's next offer (the web app gives up on an attempt after
 * 20 s and offers again 1-3 s later), at most PEER_RETRIES times. */
#define REOFFER_WAIT_MS 25000
/* After the last message, the receiver closes its channel and waits for the
 * peer's answering stream reset (RFC 8831 §6.7), which comes only after all
 * data sent before it was delivered. Exiting at once lost the final
 * acknowledgement: the browser showed "peer left" for a complete transfer.
 * On loopback the reset round trip takes a few ms; the cap covers a peer
 * that never answers. */
#define DRAIN_TIMEOUT_MS 3000
#define DEFAULT_SERVER "http://127.0.0.1:8080"
/* GET /config: the same STUN/TURN URLs the web app uses, without TURN
 * credentials; a room member gets its own credential in the create-room /
 * join-room ack and asks for a fresh one (`ice-servers`) at half its
 * lifetime (iceServersTtl), so a long-running sender can still relay to a
 * receiver that comes late (docs/signaling.md). */
#define CONFIG_TIMEOUT_MS 5000
#define ICE_REFRESH_MIN_S 30
/* send --code: a code is burnt after this many failed PAKE runs in its
 * room (each is one online guess of its 16 bits; magic-wormhole burns a
 * code after one); docs/authentication.md "Short codes". */
#define CODE_FAILED_RUNS_MAX 3
/* send --code: the nameplate is drawn from 1-99 (short to type), then
 * 1-999, then 1-9999, each after this many taken ones (ROOM_EXISTS); after
 * CODE_NAMEPLATE_TRIES in all the sender gives up. */
#define CODE_NAMEPLATE_TRIES_PER_RANGE 3
#define CODE_NAMEPLATE_TRIES 12
/* send, after a signaling reconnection: create-room answered ROOM_EXISTS
 * (receivers still hold the room), then join-room ROOM_NOT_FOUND (they all
 * left in between), and so on. Each round needs members leaving at exactly
 * that moment; a few rounds mean something is wrong, and the sender stops
 * (exit 2) rather than loop. */
#define ROOM_RETAKE_TRIES 4

typedef struct src_file {
    char *path; /* on disk */
} src_file;

typedef struct cli_app cli_app;

/* Receiver: one incoming transfer (what the engine holds: verified files,
 * stored prefixes and their digests) and where its files go. A connection
 * lost mid-way hands it to app.kept for the sender's next offer of it. */
typedef struct cli_incoming_files {
    xfer_incoming *inc;
    /* names in the file's dir (the manifest's, beneath the output folder) */
    char **final_name, **partial_name;
    /* per file: the partial file may be reused (it passed the checks at the
     * offer, or we created it); otherwise a new one is made with O_EXCL */
    bool *own_partial;
    /* per file: final_name exists already with the offered size; the
     * receiver offered its digest as a whole-file resume, so the sender
     * confirms it (nothing is sent) or sends it anew, into a free name */
    bool *in_place;
} cli_incoming_files;

typedef struct cli_lane cli_lane; /* lane.c */

/* lane-resend (docs/protocol.md §5.11, resend.h): a DATA message sent on a
 * channel and kept until the peer no longer needs it; `copy`: it was sent
 * again here after its first channel stalled or closed; `resent`: this
 * (first) copy was sent again elsewhere. */
typedef struct cli_kept {
    struct cli_kept *next;
    bool copy, resent;
    size_t len;
    uint8_t d[];
} cli_kept;

/* The sender's view of one channel of the session (0: the session's,
 * 1..PD_MAX_LANES: lanes) under lane-resend: what it keeps and whether it
 * moves. */
typedef struct cli_channel_watch {
    cli_kept *head, *tail;
    size_t kept_bytes;
    size_t prev_backlog;              /* rtc_channel_backlog at the last look */
    size_t added;                     /* bytes sent on it since */
    int64_t last_sent_us, last_ok_us; /* it sent some; it sent some or had none waiting */
    bool stalled;                     /* no new DATA until its backlog is 0 */
} cli_channel_watch;

/* A received file whose CLOSE has not come yet (cli_peer.ending): its fd,
 * or -1 once it was synced and closed early (synced: that fsync succeeded). */
typedef struct cli_ending_file {
    int fd;
    uint32_t id;
    bool synced;
} cli_ending_file;

/* At most this many files keep their fd open while they wait for their
 * CLOSE; beyond it the oldest is synced and closed at once (its bytes are
 * all written: a later file has opened) and its CLOSE only renames it. A
 * sender that ends thousands of tiny files in one go cannot use up the
 * process's descriptors. */
#define CLI_ENDING_FDS_MAX 16

typedef struct cli_peer {
    struct cli_peer *next;
    cli_app *a;
    char sid[64];
    char self_id[64]; /* our socket id when this connection began: the peer's `from` */
    rtc_peer *pc;
    rtc_channel *ch;
    bool acceptor;      /* the peer opened the channel (DCEP OPEN) */
    bool hello_pending; /* acceptor: hello goes out with the first message */
    /* Authentication (docs/authentication.md §7): the gate runs from the
     * channel's opening; the transfer session says hello only once it is
     * open. The fingerprints are canonical, "" when the SDP had not exactly
     * one (the gate then fails). */
    char fp_local[PAKE_FP_MAX], fp_remote[PAKE_FP_MAX];
    pake_gate gate;
    bool gate_started, authenticated, auth_failed;
    GSource *auth_timer; /* PD_AUTH_DEADLINE_MS after the opening */
    xfer_session *s;
    char xfer[XFER_ID_LEN + 1];
    bool finished;
    /* sender */
    int src_fd;
    int64_t src_id;
    uint8_t *buf;
    /* receiver */
    cli_incoming_files rx;
    bool accepted; /* rx.inc was accepted (by --yes, the prompt, or a resume) */
    int out_fd;
    int64_t out_id;
    bool out_synced; /* out_fd is -1 because out_id was synced and closed early */
    /* Files whose end came but whose CLOSE has not yet (their last writes
     * were still queued): with lanes, the merge hands the session a file's
     * last DATA, its end and the next file's start in one go, so the next
     * OPEN comes before this CLOSE (docs/protocol.md §5.10). Their fds wait
     * here for it, CLI_ENDING_FDS_MAX at most with an open fd; the list
     * is bounded by the files of one transfer. */
    GArray *ending; /* cli_ending_file */
    GSource *prompt;
    GSource *reaper; /* pending idle that frees this peer */
    bool draining;   /* receiver: channel closed by us after the last message */
    int attempt;     /* sender: 0, then 1..PEER_RETRIES for offers made again */
    /* progress */
    uint64_t done_bytes, total_bytes, base_bytes;
    uint64_t sent_files_bytes; /* sender: sizes of the accepted files finished so far */
    int64_t created_us;        /* cli_peer_new(): "connected" reports the time since */
    int64_t start_us, last_print_us;
    int last_decile;
    /* the outcome, for the done and summary events (issue 17) */
    uint32_t ok_files;   /* verified by the receiver (sender: over this receiver's connections) */
    uint64_t ok_bytes;   /* their sizes */
    uint64_t wire_bytes; /* file bytes sent or written in this connection: the rate */
    json_t *failed;      /* this connection's failed files: [{name, dir, code}] */
    bool read_failed;    /* sender: one of them could not be read here (exit 5, not 3) */
    /* the peer's hello.name with control and format characters left out
     * (display.h), "" when it sent none */
    char peer_name[XFER_MAX_PEER_NAME + 1];
    /* lanes 1..PD_MAX_LANES of this session (lane.h), NULL where none;
     * index 0 unused (lane 0 is ch) */
    cli_lane *lanes[PD_MAX_LANES + 1];
    uint64_t lane_bytes;   /* DATA bytes sent or received on lanes (summary) */
    GSource *lanes_wait;   /* sender: the offer waits for the lanes (PD_LANE_OFFER_WAIT_MS) */
    GSource *backlog_poll; /* sender: pumps again while every channel is over LANE_BACKLOG_MAX */
    /* sender, lane-resend (§5.11): each channel's kept DATA and movement,
     * the stall timer (PD_LANE_STALL_POLL_MS), and what was sent again */
    cli_channel_watch watch[PD_MAX_LANES + 1];
    GSource *stall_poll;
    uint64_t resent_msgs, resent_bytes;
} cli_peer;

struct cli_app {
    GMainContext *ctx;
    GMainLoop *loop;
    bool sending;
    char server[1024];
    char room[130];
    /* The room secret: shown to the user in the link, never sent. The
     * server gets its admission value instead (issue 14): a new room's
     * password is ASCII, a link's key or --password is NFC-normalised. */
    char password[PAKE_SECRET_MAX + 1];
    char admission[CLI_ADMISSION_HEX_LEN + 1]; /* create-room / join-room's `password` */
    uint8_t prs[PAKE_PRS_LEN];                 /* CPace's PRS: never leaves this process */
    /* A short code (issue 14, docs/authentication.md "Short codes"): `send
     * --code` or `receive CODE`. The room is a code room (no password sent),
     * `password` holds the canonical code, `prs` comes from it alone. */
    bool code_mode;
    unsigned code_tries;  /* send: nameplates tried (ROOM_EXISTS draws another) */
    unsigned code_failed; /* send: PAKE runs that failed in the code's room */
    cli_signal *sig;
    char self_id[64];  /* our socket id, as the server shows it to peers (`from`) */
    int auth_failures; /* peers that failed authentication: the exit code says so */
    cli_ice_servers ice;
    GSource *ice_refresh; /* asks for a fresh TURN credential */
    bool room_announced;
    unsigned room_retakes; /* send: create/join rounds since the last success */
    /* send */
    src_file *files;
    xfer_file_entry *entries;
    size_t nfiles;
    uint64_t total;
    /* One transfer id for every receiver: the same files are the same
     * transfer, so a receiver that comes back as a new member of the room
     * (a reopened browser tab) recognises it and continues it (§5.5). */
    char xfer[XFER_ID_LEN + 1];
    long count; /* exit after this many receivers finished; 0 = never */
    bool count_given;
    /* send --text (issue 17, docs/protocol.md §5.9): a snippet instead of
     * files, 1 to XFER_MAX_TEXT bytes of UTF-8, sent to each receiver
     * under text_id; a receiver is done when it acknowledged it */
    char *text;
    size_t text_len;
    char text_id[XFER_ID_LEN + 1];
    /* --lanes: hello.lanes, extra connections per session (§5.10) */
    unsigned lanes;
    /* our name in hello (--name, or the host name), "" for none */
    char name[XFER_MAX_PEER_NAME + 1];
    long completed;
    /* receive */
    char out_dir[PATH_MAX];
    int out_root;        /* out_dir's descriptor: every received file is beneath it */
    bool allow_dotfiles; /* --allow-dotfiles: receive hidden names (".config/...") */
    bool yes, force, joined;
    bool relay_only; /* --relay: TURN relayed candidates only */
    /* output */
    bool json, tty, quiet;
    int exit_code;
    bool quitting;  /* cli_app_finish() ran: the outcome is decided */
    GSource *drain; /* cli_peer_finish_drained(): the cap on waiting for the peer */
    int drain_code;
    cli_peer *peers;
    GHashTable *left; /* socket ids that left the room: never offered again */
    /* members whose session ended while its lanes were being set up: their
     * next sessions offer no lanes (a signaling server that does not relay
     * `lane` turns each lane offer into a new main offer, which replaces
     * the session; docs/protocol.md §5.10, as the web app does) */
    GHashTable *no_lanes;
    int recv_failures;     /* receiver: connections that failed or were lost */
    GSource *reoffer;      /* receiver: the wait for the sender's next offer */
    char reoffer_from[64]; /* ... from this socket id */
    /* receiver: a transfer whose connection was lost mid-way, kept for the
     * sender's next offer of it, which resumes */
    cli_incoming_files kept;
};

/* The outcome of the run: the first one wins (an interrupt overrides);
 * stops the loop. */
void cli_app_finish(cli_app *a, int code);

#endif
