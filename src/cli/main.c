/* main.c: the `peerdrop` command line peer (issue 4).
 *
 *   peerdrop send FILE|DIR... [--server URL]       create a room, send to each receiver
 *   peerdrop receive LINK|ROOM [--password P] [-o DIR] [--yes] [--force]
 *
 * Wiring only: signaling through cli_signal (Socket.IO over WebSocket),
 * WebRTC through src/rtc, the transfer protocol through src/transfer (the
 * same bytes as the web app), files through pread/pwrite in bounded
 * chunks. Files are written only beneath the output folder, through
 * cli_outdir (no symbolic link followed, no hard link written through), and
 * peer text reaches the terminal only through cli_display_escape. Everything
 * runs on one GMainContext. Memory stays flat: the
 * sender reads 1 MiB at a time and only while the channel's buffered amount
 * is under 4 MiB (docs/protocol.md §5.4); the receiver writes each message
 * as it arrives and acknowledges only stored bytes. Received files go to
 * NAME.partial and are renamed after the digest matched (the file's
 * SHA-256, or with a peer that lists "sha256-blocks" its block digest,
 * docs/protocol.md §5.8); an existing partial file is resumed; an existing
 * file is never overwritten without --force (a free name "a (1).txt" is
 * chosen instead). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/rand.h>
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "base/log.h"
#include "cli/display.h"
#include "cli/ice_servers.h"
#include "cli/outdir.h"
#include "cli/signal_client.h"
#include "rtc/rtc.h"
#include "transfer/codec.h"
#include "transfer/incoming.h"
#include "transfer/paths.h"
#include "transfer/session.h"
#include "transfer/sha256.h"

/* Exit codes: documented in usage() and docs/peerdrop.1. */
enum {
    EXIT_OK = 0,
    EXIT_USAGE = 1,
    EXIT_SIGNALING = 2, /* server unreachable, room not found, bad password */
    EXIT_TRANSFER = 3,  /* WebRTC failed, peer error, hash mismatch */
    EXIT_DECLINED = 4,  /* declined or cancelled */
    EXIT_LOCAL = 5,     /* cannot read an input or write the output */
    EXIT_INTERRUPTED = 130,
};

/* docs/protocol.md §5.4: stop producing above 4 MiB buffered, resume at 1 MiB. */
#define SEND_HIGH_WATER (4u << 20)
#define SEND_LOW_WATER (1u << 20)
#define READ_BLOCK (1u << 20)
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

typedef struct src_file {
    char *path; /* on disk */
} src_file;

typedef struct app app;

/* Receiver: one incoming transfer (what the engine holds: verified files,
 * stored prefixes and their digests) and where its files go. A connection
 * lost mid-way hands it to app.kept for the sender's next offer of it. */
typedef struct incoming_files {
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
} incoming_files;

typedef struct peer_conn {
    struct peer_conn *next;
    app *a;
    char sid[64];
    rtc_peer *pc;
    rtc_channel *ch;
    bool acceptor;      /* the peer opened the channel (DCEP OPEN) */
    bool hello_pending; /* acceptor: hello goes out with the first message */
    xfer_session *s;
    char xfer[XFER_ID_LEN + 1];
    bool finished;
    /* sender */
    int src_fd;
    int64_t src_id;
    uint8_t *buf;
    /* receiver */
    incoming_files rx;
    bool accepted; /* rx.inc was accepted (by --yes, the prompt, or a resume) */
    int out_fd;
    int64_t out_id;
    GSource *prompt;
    GSource *reaper; /* pending idle that frees this peer */
    bool draining;   /* receiver: channel closed by us after the last message */
    int attempt;     /* sender: 0, then 1..PEER_RETRIES for offers made again */
    /* progress */
    uint64_t done_bytes, total_bytes, base_bytes;
    int64_t created_us; /* peer_new(): "connected" reports the time since */
    int64_t start_us, last_print_us;
    int last_decile;
} peer_conn;

struct app {
    GMainContext *ctx;
    GMainLoop *loop;
    bool sending;
    char server[1024];
    char room[130];
    char password[256];
    cli_signal *sig;
    cli_ice_servers ice;
    GSource *ice_refresh; /* asks for a fresh TURN credential */
    bool room_announced;
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
    bool quitting;  /* finish() ran: the outcome is decided */
    GSource *drain; /* finish_drained(): the cap on waiting for the peer */
    int drain_code;
    peer_conn *peers;
    GHashTable *left;      /* socket ids that left the room: never offered again */
    int recv_failures;     /* receiver: connections that failed or were lost */
    GSource *reoffer;      /* receiver: the wait for the sender's next offer */
    char reoffer_from[64]; /* ... from this socket id */
    /* receiver: a transfer whose connection was lost mid-way, kept for the
     * sender's next offer of it, which resumes */
    incoming_files kept;
};

static app *g_app; /* only for the SIGINT handler */

/* ---------------- output ---------------- */

static void out_json(app *a, const char *event, json_t *fields)
{
    if (!a->json) {
        json_decref(fields);
        return;
    }
    json_t *o = fields ? fields : json_object();
    json_object_set_new(o, "event", json_string(event));
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (s) {
        fprintf(stdout, "%s\n", s);
        fflush(stdout);
        free(s);
    }
    json_decref(o);
}

/* Human text to stderr-free stdout, unless --json (then events only). */
__attribute__((format(printf, 2, 3))) static void say(app *a, const char *fmt, ...)
{
    if (a->json || a->quiet) return;
    if (a->tty) fputs("\r\033[K", stdout);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

/* The first outcome wins: once a receive is done, the sender closing its
 * channel or connection (seen in the same loop iteration, before the loop
 * returns) must not turn success into a failure. Only an interrupt before
 * the end overrides. */
static void finish(app *a, int code)
{
    if (a->quitting) return;
    a->quitting = true;
    if (a->exit_code == EXIT_OK || code == EXIT_INTERRUPTED) a->exit_code = code;
    g_main_loop_quit(a->loop);
}

static gboolean on_drain_timeout(gpointer data)
{
    app *a = data;
    PD_LOG_DEBUG("peer did not answer our channel close in %d ms", DRAIN_TIMEOUT_MS);
    finish(a, a->drain_code);
    return G_SOURCE_REMOVE;
}

static void human_bytes(uint64_t n, char *out, size_t cap)
{
    static const char *u[] = {"B", "kB", "MB", "GB", "TB"};
    double v = (double)n;
    int i = 0;
    while (v >= 1000 && i < 4)
        v /= 1000, i++;
    snprintf(out, cap, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

static void progress(peer_conn *p, bool force)
{
    app *a = p->a;
    int64_t now = g_get_monotonic_time();
    if (!force && now - p->last_print_us < 250000) return;
    p->last_print_us = now;
    double secs = (double)(now - p->start_us) / 1e6;
    uint64_t moved = p->done_bytes > p->base_bytes ? p->done_bytes - p->base_bytes : 0;
    double rate = secs > 0.05 ? (double)moved / secs : 0;
    uint64_t left = p->total_bytes > p->done_bytes ? p->total_bytes - p->done_bytes : 0;
    double eta = rate > 0 ? (double)left / rate : -1;
    double frac = p->total_bytes ? (double)p->done_bytes / (double)p->total_bytes : 1.0;
    if (a->json) {
        out_json(a, "progress",
                 json_pack("{s:s,s:I,s:I,s:f,s:f}", "peer", p->sid, "bytes",
                           (json_int_t)p->done_bytes, "total", (json_int_t)p->total_bytes,
                           "bytesPerSecond", rate, "etaSeconds", eta));
        return;
    }
    if (a->quiet) return;
    char done[32], total[32], speed[32];
    human_bytes(p->done_bytes, done, sizeof done);
    human_bytes(p->total_bytes, total, sizeof total);
    human_bytes((uint64_t)rate, speed, sizeof speed);
    if (a->tty) {
        char bar[31];
        int fill = (int)(frac * 30);
        for (int i = 0; i < 30; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[30] = 0;
        char etas[32] = "-";
        if (eta >= 0) snprintf(etas, sizeof etas, "%.0f s", eta);
        fprintf(stdout, "\r\033[K[%s] %3.0f%% %s / %s  %s/s  ETA %s", bar, frac * 100, done, total,
                speed, etas);
        fflush(stdout);
    } else {
        int decile = (int)(frac * 10);
        if (decile != p->last_decile || force) {
            p->last_decile = decile;
            fprintf(stdout, "progress %3.0f%% %s / %s %s/s\n", frac * 100, done, total, speed);
            fflush(stdout);
        }
    }
}

/* ---------------- helpers ---------------- */

static bool random_password(char *out, size_t len)
{
    /* the web app's alphabet (web/src/lib/link.ts): no 0/O/1/l/I */
    static const char alpha[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    size_t n = 0;
    while (n < len) {
        unsigned char b[32];
        if (RAND_bytes(b, sizeof b) != 1) return false;
        for (size_t i = 0; i < sizeof b && n < len; i++)
            if (b[i] < 224) out[n++] = alpha[b[i] % 56]; /* 224 = 4*56: uniform */
    }
    out[n] = 0;
    return true;
}

static bool random_uuid(char out[37])
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1) return false;
    b[6] = (b[6] & 0x0f) | 0x40; /* RFC 4122 version 4 */
    b[8] = (b[8] & 0x3f) | 0x80;
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
    return true;
}

static void url_encode(const char *in, char *out, size_t cap)
{
    /* encodeURIComponent: keep A-Z a-z 0-9 - _ . ! ~ * ' ( ) */
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && o + 4 < cap; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            strchr("-_.!~*'()", *p))
            out[o++] = (char)*p;
        else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* URLSearchParams-style: '+' is a space, %XX decoded. */
static void url_decode(const char *in, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < cap; i++) {
        if (in[i] == '+')
            out[o++] = ' ';
        else if (in[i] == '%' && i + 2 < len + 0 && hexval(in[i + 1]) >= 0 &&
                 hexval(in[i + 2]) >= 0) {
            out[o++] = (char)(hexval(in[i + 1]) * 16 + hexval(in[i + 2]));
            i += 2;
        } else
            out[o++] = in[i];
    }
    out[o] = 0;
}

static bool room_id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 128) return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
            return false;
    return true;
}

/* The web app's link: BASE#room=<id>&key=<password> (web/src/lib/link.ts). */
static void build_link(app *a, char *out, size_t cap)
{
    char base[1024], id[400], pw[800];
    snprintf(base, sizeof base, "%s", a->server);
    char *hash = strchr(base, '#');
    if (hash) *hash = 0;
    char *q = strchr(base, '?');
    if (q) *q = 0;
    /* ws(s):// given: the page lives on http(s):// */
    if (!strncmp(base, "ws://", 5))
        memmove(base + 2, base, strlen(base) + 1), memcpy(base, "http", 4);
    if (!strncmp(base, "wss://", 6))
        memmove(base + 2, base, strlen(base) + 1), memcpy(base, "https", 5);
    /* URL.toString() of an origin always has a path: at least "/" */
    const char *after_scheme = strstr(base, "://");
    if (after_scheme && !strchr(after_scheme + 3, '/'))
        strncat(base, "/", sizeof base - strlen(base) - 1);
    url_encode(a->room, id, sizeof id);
    url_encode(a->password, pw, sizeof pw);
    snprintf(out, cap, "%s#room=%s&key=%s", base, id, pw);
}

static void print_qr(const char *text)
{
    QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_L, QR_MODE_8, 1);
    if (!qr) return;
    int w = qr->width, quiet = 2;
    /* two modules per character cell with half blocks: ▀ ▄ █ */
    for (int y = -quiet; y < w + quiet; y += 2) {
        fputs("  ", stdout);
        for (int x = -quiet; x < w + quiet; x++) {
            bool top = y >= 0 && y < w && x >= 0 && x < w && (qr->data[y * w + x] & 1);
            bool bot =
                y + 1 >= 0 && y + 1 < w && x >= 0 && x < w && (qr->data[(y + 1) * w + x] & 1);
            /* dark modules print as blank on a dark terminal: invert (light = block) */
            fputs(!top && !bot ? "\u2588" : !top ? "\u2580" : !bot ? "\u2584" : " ", stdout);
        }
        fputc('\n', stdout);
    }
    QRcode_free(qr);
}

/* Peer text for the terminal (display.h): at most a line's worth. */
#define SHOWN_CAP 512

static const char *shown(const char *text, char buf[SHOWN_CAP])
{
    return cli_display_escape(text, text ? strlen(text) : 0, buf, SHOWN_CAP);
}

/* "dir/name" of a received file (name: the one it is stored under), escaped. */
static const char *shown_path(const xfer_file_entry *f, const char *name, char buf[SHOWN_CAP])
{
    char *joined = g_strdup_printf("%s%s%s", f->dir, f->dir_len ? "/" : "", name ? name : f->name);
    cli_display_escape(joined, strlen(joined), buf, SHOWN_CAP);
    g_free(joined);
    return buf;
}

/* A file this receiver leaves out: a hidden name without --allow-dotfiles.
 * The same rule as the engine's, which never asks for such a file (the
 * offer event's hidden_ids). */
static bool left_out(const app *a, const xfer_file_entry *f)
{
    return !a->allow_dotfiles && xfer_path_entry_hidden(f);
}

/* ---------------- peers ---------------- */

static void free_paths(char **paths, size_t n)
{
    for (size_t i = 0; paths && i < n; i++)
        free(paths[i]);
    free(paths);
}

static void incoming_files_free(incoming_files *f)
{
    size_t n = f->inc ? xfer_incoming_count(f->inc) : 0;
    free_paths(f->final_name, n);
    free_paths(f->partial_name, n);
    free(f->own_partial);
    free(f->in_place);
    xfer_incoming_destroy(f->inc);
    *f = (incoming_files){0};
}

static void peer_destroy(peer_conn *p)
{
    if (!p) return;
    if (p->prompt) {
        g_source_destroy(p->prompt);
        g_source_unref(p->prompt);
    }
    if (p->reaper) {
        g_source_destroy(p->reaper);
        g_source_unref(p->reaper);
    }
    if (p->s) xfer_session_shutdown(p->s);
    rtc_peer_destroy(p->pc);
    xfer_session_destroy(p->s);
    if (p->src_fd >= 0) close(p->src_fd);
    if (p->out_fd >= 0) close(p->out_fd);
    incoming_files_free(&p->rx);
    free(p->buf);
    free(p);
}

static peer_conn *peer_find(app *a, const char *sid)
{
    for (peer_conn *p = a->peers; p; p = p->next)
        if (!strcmp(p->sid, sid)) return p;
    return NULL;
}

static void peer_remove(app *a, peer_conn *p)
{
    for (peer_conn **pp = &a->peers; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    peer_destroy(p);
}

/* Freed later, never inside one of its own rtc callbacks (STYLE §4). */
static gboolean reap_peer(gpointer data)
{
    peer_conn *p = data;
    g_source_unref(p->reaper);
    p->reaper = NULL;
    peer_remove(p->a, p);
    return G_SOURCE_REMOVE;
}

static void peer_finish(peer_conn *p)
{
    if (p->finished) return;
    p->finished = true;
    p->reaper = g_idle_source_new();
    g_source_set_callback(p->reaper, reap_peer, p, NULL);
    g_source_attach(p->reaper, p->a->ctx);
}

static void signal_send(app *a, const char *event, peer_conn *p, json_t *payload)
{
    json_object_set_new(payload, "targetSocketId", json_string(p->sid));
    if (cli_signal_emit(a->sig, event, payload, NULL, NULL) < 0)
        PD_LOG_WARN("cannot relay %s: not connected to the server", event);
    json_decref(payload);
}

static void on_local_description(rtc_peer *pc, const char *type, const char *sdp, void *user)
{
    peer_conn *p = user;
    signal_send(p->a, type, p, json_pack("{s:s}", "sdp", sdp));
}

static void on_local_candidate(rtc_peer *pc, const char *cand, const char *mid, void *user)
{
    peer_conn *p = user;
    json_t *c = cand ? json_pack("{s:s,s:s,s:i}", "candidate", cand, "sdpMid", mid ? mid : "0",
                                 "sdpMLineIndex", 0)
                     : json_null();
    signal_send(p->a, "ice-candidate", p, json_pack("{s:o}", "candidate", c));
}

static void pump(peer_conn *p);
static void finish_drained(peer_conn *p, int code);
static peer_conn *offer_to(app *a, const char *sid);

typedef struct peer_retry {
    app *a;
    char sid[64];
    char xfer[XFER_ID_LEN + 1];
    int attempt;
} peer_retry;

static gboolean on_retry(gpointer data)
{
    peer_retry *r = data;
    app *a = r->a;
    if (a->quitting || g_hash_table_contains(a->left, r->sid) || peer_find(a, r->sid))
        return G_SOURCE_REMOVE;
    say(a, "connecting to %.8s again (%d of %d)", r->sid, r->attempt, PEER_RETRIES);
    peer_conn *p = offer_to(a, r->sid);
    if (p) {
        p->attempt = r->attempt;
        memcpy(p->xfer, r->xfer, sizeof p->xfer);
    }
    return G_SOURCE_REMOVE;
}

static gboolean on_reoffer_timeout(gpointer data)
{
    app *a = data;
    g_source_unref(a->reoffer);
    a->reoffer = NULL;
    say(a, "the sender did not try again");
    finish(a, EXIT_TRANSFER);
    return G_SOURCE_REMOVE;
}

static void stop_reoffer_wait(app *a)
{
    if (!a->reoffer) return;
    g_source_destroy(a->reoffer);
    g_source_unref(a->reoffer);
    a->reoffer = NULL;
}

/* Receiver: the connection failed, before it opened or mid-transfer; the
 * sender (the CLI or the web app) offers again, so wait for that rather than
 * give up. */
static void wait_for_reoffer(app *a, const char *sid)
{
    a->recv_failures++;
    snprintf(a->reoffer_from, sizeof a->reoffer_from, "%s", sid);
    say(a, "waiting for the sender to try again (%d of %d)", a->recv_failures, PEER_RETRIES);
    stop_reoffer_wait(a);
    a->reoffer = g_timeout_source_new(REOFFER_WAIT_MS);
    g_source_set_callback(a->reoffer, on_reoffer_timeout, a, NULL);
    g_source_attach(a->reoffer, a->ctx);
}

/* Receiver: keeps what an accepted transfer received (see app.kept);
 * the session that filled it is shut down, so nothing changes it any more. */
static void keep_incoming(peer_conn *p)
{
    if (!p->rx.inc || !p->accepted) return; /* a prompt still open asks again */
    incoming_files_free(&p->a->kept);
    p->a->kept = p->rx;
    p->rx = (incoming_files){0};
}

/* Receiver: another connection is up or being set up. Any member of the
 * room can send an offer; one that comes to nothing (a well-formed SDP
 * that never connects, from a member that then leaves) must not end the
 * receive from the sender (issue 11). */
static bool receiver_busy_elsewhere(const app *a, const peer_conn *p)
{
    for (const peer_conn *q = a->peers; q; q = q->next)
        if (q != p && !q->finished) return true;
    return false;
}

/* Receiver: the connection is gone (failed, or its channel closed) before
 * the transfer ended. Unless the sender left, wait for its next offer: a
 * transfer under way resumes where it stopped (docs/protocol.md §5.5). */
static void receiver_lost(peer_conn *p)
{
    app *a = p->a;
    if (a->quitting) return;
    keep_incoming(p);
    if (receiver_busy_elsewhere(a, p)) {
        char b[SHOWN_CAP];
        PD_LOG_WARN("connection with %.8s lost; another connection goes on", shown(p->sid, b));
        return;
    }
    if (g_hash_table_contains(a->left, p->sid)) {
        say(a, "the sender left the room");
        finish(a, EXIT_TRANSFER);
    } else if (a->recv_failures < PEER_RETRIES) {
        wait_for_reoffer(a, p->sid);
    } else {
        finish(a, EXIT_TRANSFER);
    }
}

/* Sender: offers this receiver a new connection later, unless it left or
 * the retries are used up. */
static void retry_later(peer_conn *p)
{
    app *a = p->a;
    if (a->quitting || p->attempt >= PEER_RETRIES || g_hash_table_contains(a->left, p->sid)) return;
    peer_retry *r = g_new0(peer_retry, 1);
    r->a = a;
    r->attempt = p->attempt + 1;
    snprintf(r->sid, sizeof r->sid, "%s", p->sid);
    memcpy(r->xfer, p->xfer, sizeof r->xfer);
    GSource *t = g_timeout_source_new((guint)(1000 * r->attempt));
    g_source_set_callback(t, on_retry, r, g_free);
    g_source_attach(t, a->ctx);
    g_source_unref(t);
}

static void on_state(rtc_peer *pc, rtc_state st, const char *reason, void *user)
{
    peer_conn *p = user;
    if (st == RTC_STATE_FAILED && p->draining) {
        finish(p->a, p->a->drain_code);
        peer_finish(p);
    } else if (st == RTC_STATE_FAILED && !p->finished) {
        say(p->a, "connection to peer failed: %s", reason ? reason : "?");
        out_json(p->a, "error",
                 json_pack("{s:s,s:s}", "peer", p->sid, "message", reason ? reason : ""));
        if (p->s) xfer_session_shutdown(p->s);
        if (p->a->sending)
            retry_later(p);
        else
            receiver_lost(p);
        peer_finish(p);
    }
}

static void session_start(peer_conn *p)
{
    xfer_options o = {.max_msg = 262144,
                      .send_limit = rtc_peer_remote_max_message_size(p->pc),
                      .read_block = READ_BLOCK,
                      .allow_hidden = p->a->allow_dotfiles};
    p->s = xfer_session_create(&o);
    if (!p->s) {
        finish(p->a, EXIT_LOCAL);
        return;
    }
    rtc_channel_set_buffered_amount_low_threshold(p->ch, SEND_LOW_WATER);
    /* The opener says hello now; the acceptor answers the opener's first
     * message (docs/protocol.md §5.1: Chromium loses an acceptor's message
     * sent too early). */
    if (p->acceptor)
        p->hello_pending = true;
    else
        xfer_session_open(p->s);
    pump(p);
}

static void on_channel(rtc_peer *pc, rtc_channel *ch, void *user)
{
    peer_conn *p = user;
    if (p->ch || strcmp(rtc_channel_label(ch), "peerdrop")) return;
    p->ch = ch;
    p->acceptor = true;
    rtc_channel_set_user(ch, p);
}

static void on_channel_open(rtc_channel *ch, void *user)
{
    peer_conn *p = user;
    if (ch != p->ch || p->s) return;
    const char *path = rtc_peer_path(p->pc);
    double ms = (double)(g_get_monotonic_time() - p->created_us) / 1000.0;
    PD_LOG_DEBUG("data channel open after %.1f ms (%s)", ms, path ? path : "?");
    out_json(p->a, "connected",
             json_pack("{s:s,s:s,s:i}", "peer", p->sid, "path", path ? path : "unknown", "ms",
                       (json_int_t)(ms + 0.5)));
    session_start(p);
}

static void on_channel_closed(rtc_channel *ch, void *user)
{
    peer_conn *p = user;
    if (ch != p->ch) return;
    if (p->draining) {
        finish(p->a, p->a->drain_code);
    } else if (p->s && !p->finished) {
        /* mid-transfer (an ended, declined or failed one is finished): the
         * sender offers again with the same transfer id, the receiver waits
         * for it, and the transfer resumes */
        xfer_session_shutdown(p->s);
        say(p->a, "peer closed the connection");
        if (p->a->sending)
            retry_later(p);
        else
            receiver_lost(p);
    }
    peer_finish(p);
}

static void on_message(rtc_channel *ch, const uint8_t *data, size_t len, bool binary, void *user)
{
    peer_conn *p = user;
    if (!p->s) return;
    if (p->hello_pending) { /* before the message is handled: nothing may precede it */
        p->hello_pending = false;
        xfer_session_open(p->s);
    }
    if (binary)
        xfer_session_feed_binary(p->s, data, len);
    else
        xfer_session_feed_text(p->s, data, len);
    pump(p); /* write events point into `data`: drain them now */
}

static void on_low(rtc_channel *ch, void *user)
{
    pump(user);
}

static size_t count_turn(const cli_ice_servers *ice)
{
    size_t n = 0;
    for (size_t i = 0; i < ice->count; i++)
        n += strncmp(ice->list[i].url, "turn", 4) == 0;
    return n;
}

static void ice_servers_load(app *a)
{
    cli_ice_servers_cleanup(&a->ice);
    if (cli_ice_servers_fetch(a->server, CONFIG_TIMEOUT_MS, &a->ice) < 0) return;
    size_t turn = count_turn(&a->ice);
    /* counts only: the URLs may carry credentials in other deployments */
    PD_LOG_DEBUG("ICE servers from /config: %zu STUN, %zu TURN", a->ice.count - turn, turn);
}

static void stop_ice_refresh(app *a)
{
    if (!a->ice_refresh) return;
    g_source_destroy(a->ice_refresh);
    g_source_unref(a->ice_refresh);
    a->ice_refresh = NULL;
}

static void take_ice(app *a, json_t *ack);

static void on_ice_ack(cli_signal *c, json_t *arg, void *user)
{
    (void)c;
    app *a = user;
    if (arg && json_is_true(json_object_get(arg, "ok"))) {
        take_ice(a, arg);
        return;
    }
    /* lost connection or refused: keep the list, try again later */
    json_t *retry = json_pack("{s:i}", "iceServersTtl", 4 * ICE_REFRESH_MIN_S);
    take_ice(a, retry);
    json_decref(retry);
}

static gboolean on_ice_refresh(gpointer user)
{
    app *a = user;
    stop_ice_refresh(a);
    json_t *j = json_object();
    cli_signal_emit(a->sig, "ice-servers", j, on_ice_ack, a);
    json_decref(j);
    return G_SOURCE_REMOVE;
}

/* A create-room / join-room / ice-servers ack: this member's ICE servers,
 * with its own TURN credential, replace the list from /config (peers that
 * exist keep their copy); a refresh is due at half their lifetime. */
static void take_ice(app *a, json_t *ack)
{
    json_t *list = json_object_get(ack, "iceServers");
    if (json_is_array(list)) {
        json_t *wrap = json_pack("{s:O}", "iceServers", list);
        char *text = json_dumps(wrap, JSON_COMPACT);
        cli_ice_servers fresh;
        if (text && cli_ice_servers_parse(text, strlen(text), &fresh) == 0) {
            cli_ice_servers_cleanup(&a->ice);
            a->ice = fresh;
            size_t turn = count_turn(&a->ice);
            PD_LOG_DEBUG("ICE servers from the room: %zu STUN, %zu TURN", a->ice.count - turn, turn);
        }
        if (text) {
            /* the text holds the TURN credential */
            memset(text, 0, strlen(text));
            free(text);
        }
        json_decref(wrap);
    }
    json_int_t ttl = json_integer_value(json_object_get(ack, "iceServersTtl"));
    if (ttl <= 0) return;
    stop_ice_refresh(a);
    json_int_t wait_s = ttl / 2 > ICE_REFRESH_MIN_S ? ttl / 2 : ICE_REFRESH_MIN_S;
    a->ice_refresh = g_timeout_source_new_seconds((guint)wait_s);
    g_source_set_callback(a->ice_refresh, on_ice_refresh, a, NULL);
    g_source_attach(a->ice_refresh, a->ctx);
}

static peer_conn *peer_new(app *a, const char *sid)
{
    peer_conn *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->a = a;
    p->created_us = g_get_monotonic_time();
    snprintf(p->sid, sizeof p->sid, "%s", sid);
    p->src_fd = p->out_fd = -1;
    p->src_id = p->out_id = -1;
    p->last_decile = -1;
    rtc_config cfg = {.context = a->ctx,
                      .ice_servers = a->ice.list,
                      .ice_server_count = a->ice.count,
                      .relay_only = a->relay_only,
                      .user = p,
                      .cb = {on_local_description, on_local_candidate, on_state, on_channel,
                             on_channel_open, on_channel_closed, on_message, on_low}};
    p->pc = rtc_peer_create(&cfg);
    if (!p->pc) {
        free(p);
        return NULL;
    }
    p->next = a->peers;
    a->peers = p;
    return p;
}

/* ---------------- sender side ---------------- */

static void send_read(peer_conn *p, const xfer_read *r)
{
    app *a = p->a;
    if (p->src_id != (int64_t)r->file) {
        if (p->src_fd >= 0) close(p->src_fd);
        p->src_fd = open(a->files[r->file].path, O_RDONLY | O_CLOEXEC);
        p->src_id = r->file;
    }
    if (!p->buf) p->buf = malloc(READ_BLOCK);
    size_t got = 0;
    while (p->src_fd >= 0 && p->buf && got < r->len) {
        ssize_t n = pread(p->src_fd, p->buf + got, r->len - got, (off_t)(r->offset + got));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
    }
    if (got != r->len) {
        char msg[256];
        snprintf(msg, sizeof msg, "cannot read %s", a->entries[r->file].name);
        xfer_session_read_failed(p->s, r, msg);
        return;
    }
    xfer_session_read_done(p->s, r, p->buf, r->len);
}

/* ---------------- receiver side ---------------- */

static char *partial_of(const char *name)
{
    return name ? g_strdup_printf("%s.partial", name) : NULL;
}

/* Reads the bytes held of file i (its partial file, or the final file for
 * an in-place check) into the running hash (flat: 1 MiB at a time). The
 * offset asked is where a digest of the session's kind can prove the bytes:
 * all of them with plain SHA-256; with block digests the end of the last
 * whole 4 MiB block, or the file's size (docs/protocol.md §5.8). */
static void load_held(peer_conn *p, size_t i)
{
    const xfer_file_entry *f = xfer_incoming_file(p->rx.inc, i);
    bool in_place = p->rx.in_place[i];
    if (!in_place && !p->rx.own_partial[i]) return;
    /* a partial file is reused only with one link (checked again at open) */
    int fd = cli_outdir_read_open(
        p->a->out_root, f->dir, in_place ? p->rx.final_name[i] : p->rx.partial_name[i], !in_place);
    if (fd < 0) return;
    struct stat st;
    if (fstat(fd, &st) < 0 || (uint64_t)st.st_size > f->size) {
        close(fd);
        return; /* larger than the file: start over (truncated at open) */
    }
    uint8_t *b = malloc(READ_BLOCK);
    uint64_t off = 0;
    while (b && off < (uint64_t)st.st_size) {
        ssize_t n = pread(fd, b, READ_BLOCK, (off_t)off);
        if (n <= 0) break;
        xfer_incoming_prefix_update(p->rx.inc, i, b, (size_t)n);
        off += (uint64_t)n;
    }
    free(b);
    close(fd);
    char sb[SHOWN_CAP];
    if (p->rx.in_place[i]) {
        say(p->a, "%s exists with the same size: asking the sender whether it is the same file",
            shown_path(f, NULL, sb));
        out_json(p->a, "resume",
                 json_pack("{s:s,s:s,s:I,s:I}", "name", f->name, "dir", f->dir, "bytes",
                           (json_int_t)off, "offset",
                           (json_int_t)xfer_session_resume_offset(p->s, p->rx.inc, i)));
    } else if (off) {
        uint64_t at = xfer_session_resume_offset(p->s, p->rx.inc, i);
        if (at == off)
            say(p->a, "resuming %s from %llu bytes", shown_path(f, NULL, sb),
                (unsigned long long)off);
        else if (at > 0)
            say(p->a, "resuming %s from %llu bytes (of %llu held: the last whole 4 MiB block)",
                shown_path(f, NULL, sb), (unsigned long long)at, (unsigned long long)off);
        else
            say(p->a, "%s: %llu bytes held, less than one whole 4 MiB block: starting over",
                shown_path(f, NULL, sb), (unsigned long long)off);
        out_json(p->a, "resume",
                 json_pack("{s:s,s:s,s:I,s:I}", "name", f->name, "dir", f->dir, "bytes",
                           (json_int_t)off, "offset", (json_int_t)at));
    }
}

static void do_accept(peer_conn *p)
{
    if (xfer_session_accept(p->s, p->rx.inc, NULL, 0) != XFER_OK) finish(p->a, EXIT_TRANSFER);
    p->accepted = true;
    p->start_us = g_get_monotonic_time();
    pump(p);
}

static gboolean on_prompt_input(gint fd, GIOCondition cond, gpointer data)
{
    peer_conn *p = data;
    char line[64] = "";
    ssize_t n = read(fd, line, sizeof line - 1);
    if (n > 0) line[n] = 0;
    g_source_unref(p->prompt);
    p->prompt = NULL;
    if (n > 0 && (line[0] == 'y' || line[0] == 'Y')) {
        do_accept(p);
    } else {
        xfer_session_decline(p->s);
        say(p->a, "declined");
        out_json(p->a, "declined", NULL);
        finish_drained(p, EXIT_DECLINED);
    }
    return G_SOURCE_REMOVE;
}

/* Receiver: the sender's new offer of the transfer a lost connection
 * interrupted: accepted again without asking, into what was kept, so that
 * verified files are not sent again and the file under way resumes. */
static void resume_kept(peer_conn *p)
{
    app *a = p->a;
    p->rx = a->kept;
    a->kept = (incoming_files){0};
    size_t n = xfer_incoming_count(p->rx.inc);
    for (size_t i = 0; i < n; i++) {
        const xfer_file_entry *f = xfer_incoming_file(p->rx.inc, i);
        if (left_out(a, f)) continue;
        uint64_t at = xfer_session_resume_offset(p->s, p->rx.inc, i);
        p->total_bytes += f->size;
        p->base_bytes += at;
        if (at == 0 || at == f->size) continue;
        char b[SHOWN_CAP];
        say(a, "resuming %s from %llu bytes", shown_path(f, NULL, b), (unsigned long long)at);
        struct stat st;
        uint64_t held = cli_outdir_stat(a->out_root, f->dir, p->rx.partial_name[i], &st) == 0
                            ? (uint64_t)st.st_size
                            : at;
        out_json(a, "resume",
                 json_pack("{s:s,s:s,s:I,s:I}", "name", f->name, "dir", f->dir, "bytes",
                           (json_int_t)held, "offset", (json_int_t)at));
    }
    p->done_bytes = p->base_bytes;
    do_accept(p);
}

/* Says which offered files this receiver leaves out and why, before it
 * accepts the rest: "peerdrop: left out 3 hidden files (.gitignore,
 * .git/config, ...); --allow-dotfiles receives them" on standard error, or
 * a left-out event with --json. */
static void tell_left_out(peer_conn *p, const xfer_event *ev)
{
    app *a = p->a;
    if (ev->hidden_len == 0) return;
    if (a->json) {
        json_t *list = json_array();
        for (size_t k = 0; k < ev->hidden_len; k++) {
            const xfer_file_entry *f = &ev->files[ev->hidden_ids[k]];
            json_array_append_new(list, json_pack("{s:s,s:s,s:I}", "name", f->name, "dir", f->dir,
                                                  "size", (json_int_t)f->size));
        }
        out_json(a, "left-out",
                 json_pack("{s:s,s:s,s:o,s:s}", "peer", p->sid, "reason", "hidden", "files", list,
                           "message",
                           "hidden names (leading dot); --allow-dotfiles receives them"));
        return;
    }
    enum { NAMED = 3 }; /* a line, not the whole list: the offer listed them */
    GString *names = g_string_new(NULL);
    for (size_t k = 0; k < ev->hidden_len && k < NAMED; k++) {
        char b[SHOWN_CAP];
        g_string_append_printf(names, "%s%s", k ? ", " : "",
                               shown_path(&ev->files[ev->hidden_ids[k]], NULL, b));
    }
    fprintf(stderr, "peerdrop: left out %zu hidden file%s (%s%s); --allow-dotfiles receives them\n",
            ev->hidden_len, ev->hidden_len == 1 ? "" : "s", names->str,
            ev->hidden_len > NAMED ? ", \u2026" : "");
    g_string_free(names, TRUE);
}

static void on_offer(peer_conn *p, const xfer_event *ev)
{
    app *a = p->a;
    if (a->kept.inc && !strcmp(ev->xfer, xfer_incoming_xfer(a->kept.inc))) {
        resume_kept(p);
        return;
    }
    incoming_files_free(&a->kept); /* another transfer: its .partial files stay for a later run */
    p->rx.inc = xfer_incoming_create(ev->xfer, ev->files, ev->files_len);
    /* the hellos came first, so the digest kind is known: hash partial
     * files once, in it */
    xfer_incoming_prefix_mode(p->rx.inc, xfer_session_block_digests(p->s));
    size_t n = ev->files_len;
    p->rx.final_name = calloc(n, sizeof *p->rx.final_name);
    p->rx.partial_name = calloc(n, sizeof *p->rx.partial_name);
    p->rx.own_partial = calloc(n ? n : 1, sizeof *p->rx.own_partial);
    p->rx.in_place = calloc(n ? n : 1, sizeof *p->rx.in_place);
    if (!p->rx.inc || !p->rx.final_name || !p->rx.partial_name || !p->rx.own_partial ||
        !p->rx.in_place) {
        finish(a, EXIT_LOCAL);
        return;
    }
    uint64_t total = 0;
    json_t *list = json_array();
    say(a, "incoming: %zu file%s", n, n == 1 ? "" : "s");
    for (size_t i = 0; i < n; i++) {
        const xfer_file_entry *f = &ev->files[i];
        char b[SHOWN_CAP];
        char size[32];
        human_bytes(f->size, size, sizeof size);
        json_array_append_new(list, json_pack("{s:s,s:s,s:I}", "name", f->name, "dir", f->dir,
                                              "size", (json_int_t)f->size));
        if (left_out(a, f)) {
            /* never asked for: nothing looked up, nothing opened */
            say(a, "  %s  %s  (hidden name: left out)", shown_path(f, NULL, b), size);
            continue;
        }
        total += f->size;
        char *partial = partial_of(f->name);
        struct stat st;
        /* a partial file means an interrupted receive of this name: resume
         * it, if it is a regular file of ours (one link: a hard link planted
         * there is never written through); an existing final file is kept
         * unless --force: one of the offered size may be this file, received
         * before (a run after an interrupted one), which the sender then
         * confirms instead of sending it again; anything else goes to a free
         * name */
        int held = partial ? cli_outdir_read_open(a->out_root, f->dir, partial, true) : -ENOMEM;
        if (held >= 0) close(held);
        bool resume = held >= 0;
        if (held < 0 && held != -ENOENT && held != -ENOMEM)
            say(a, "%s.partial: %s: not resumed", shown_path(f, NULL, b),
                cli_outdir_strerror(held));
        p->rx.in_place[i] = !resume && !a->force &&
                            cli_outdir_stat(a->out_root, f->dir, f->name, &st) == 0 &&
                            S_ISREG(st.st_mode) && (uint64_t)st.st_size == f->size;
        p->rx.final_name[i] = a->force || resume || p->rx.in_place[i]
                                  ? strdup(f->name)
                                  : cli_outdir_free_name(a->out_root, f->dir, f->name);
        p->rx.partial_name[i] = partial_of(p->rx.final_name[i]);
        p->rx.own_partial[i] = resume;
        free(partial);
        if (!p->rx.final_name[i] || !p->rx.partial_name[i]) {
            finish(a, EXIT_LOCAL);
            json_decref(list);
            return;
        }
        say(a, "  %s  %s", shown_path(f, NULL, b), size);
        load_held(p, i);
    }
    p->total_bytes = total;
    for (size_t i = 0; i < n; i++)
        p->base_bytes += xfer_session_resume_offset(p->s, p->rx.inc, i); /* not resent */
    p->done_bytes = p->base_bytes;
    out_json(a, "offer", json_pack("{s:o,s:I}", "files", list, "total", (json_int_t)total));
    tell_left_out(p, ev);
    if (a->yes) {
        do_accept(p);
        return;
    }
    if (!isatty(0)) {
        say(a, "not a terminal and no --yes: declining");
        xfer_session_decline(p->s);
        finish_drained(p, EXIT_DECLINED);
        return;
    }
    char t[32];
    human_bytes(total, t, sizeof t);
    char b[SHOWN_CAP];
    fprintf(stdout, "accept %s into %s? [y/N] ", t, shown(a->out_dir, b));
    fflush(stdout);
    p->prompt = g_unix_fd_source_new(0, G_IO_IN | G_IO_HUP);
    g_source_set_callback(p->prompt, G_SOURCE_FUNC(on_prompt_input), p, NULL);
    g_source_attach(p->prompt, a->ctx);
}

/* An in-place file (see peer_conn.in_place) is never written: the sender
 * either starts at its end (same bytes: nothing to receive) or at 0 (other
 * bytes: they go to a free name; the existing file stays as it is). */
static bool redirect_in_place(peer_conn *p, const xfer_event *ev)
{
    const xfer_file_entry *f = xfer_incoming_file(p->rx.inc, ev->file);
    if (ev->offset == f->size) return false;
    char *name = ev->offset == 0 ? cli_outdir_free_name(p->a->out_root, f->dir, f->name) : NULL;
    char *partial = partial_of(name);
    if (!partial) {
        free(name);
        xfer_session_write_failed(p->s, ev->xfer, ev->file, "cannot resume into an existing file");
        return true;
    }
    char b[SHOWN_CAP], b2[SHOWN_CAP];
    say(p->a, "%s differs from the sender's: receiving it as %s", shown_path(f, NULL, b),
        shown_path(f, name, b2));
    free(p->rx.final_name[ev->file]);
    free(p->rx.partial_name[ev->file]);
    p->rx.final_name[ev->file] = name;
    p->rx.partial_name[ev->file] = partial;
    p->rx.own_partial[ev->file] = false;
    p->rx.in_place[ev->file] = false;
    return false;
}

static void on_storage_open(peer_conn *p, const xfer_event *ev)
{
    if (p->out_fd >= 0) close(p->out_fd);
    p->out_fd = -1;
    p->out_id = -1;
    if (p->rx.in_place[ev->file]) {
        if (redirect_in_place(p, ev)) return;
        if (p->rx.in_place[ev->file]) { /* confirmed: nothing to write */
            p->out_id = ev->file;
            return;
        }
    }
    const xfer_file_entry *f = xfer_incoming_file(p->rx.inc, ev->file);
    /* beneath the output folder, no symbolic link followed; a new partial
     * file with O_EXCL, an earlier one only if still ours (outdir.h) */
    int fd = cli_outdir_partial_open(p->a->out_root, f->dir, p->rx.partial_name[ev->file],
                                     p->rx.own_partial[ev->file]);
    p->out_id = ev->file;
    if (fd >= 0) {
        p->rx.own_partial[ev->file] = true;
        p->out_fd = fd;
        if (ftruncate(fd, (off_t)ev->offset) < 0) fd = -errno;
    }
    if (fd < 0) {
        char msg[160], b[SHOWN_CAP];
        snprintf(msg, sizeof msg, "cannot open the file: %s", cli_outdir_strerror(fd));
        say(p->a, "%s: %s", shown_path(f, p->rx.partial_name[ev->file], b), msg);
        xfer_session_write_failed(p->s, ev->xfer, ev->file, msg);
    }
}

static void on_storage_write(peer_conn *p, const xfer_event *ev)
{
    size_t done = 0;
    while (p->out_fd >= 0 && done < ev->len) {
        ssize_t n = pwrite(p->out_fd, ev->data + done, ev->len - done, (off_t)(ev->offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        done += (size_t)n;
    }
    if (done != ev->len) {
        char msg[128];
        snprintf(msg, sizeof msg, "cannot write the file: %s", strerror(errno));
        xfer_session_write_failed(p->s, ev->xfer, ev->file, msg);
        p->a->exit_code = EXIT_LOCAL;
        return;
    }
    xfer_session_written(p->s, ev->xfer, ev->file, ev->offset + ev->len);
}

static void on_storage_close(peer_conn *p, const xfer_event *ev)
{
    if (p->rx.in_place[ev->file]) { /* the existing file: never renamed, never deleted */
        p->out_id = -1;
        if (ev->ok) xfer_session_closed(p->s, ev->xfer, ev->file, true, NULL);
        return;
    }
    bool ok = ev->ok && p->out_fd >= 0 && p->out_id == (int64_t)ev->file && fsync(p->out_fd) == 0;
    if (ev->ok && p->out_id != (int64_t)ev->file) {
        /* an empty file gets no write; it was opened by its start */
        ok = false;
    }
    if (p->out_fd >= 0) close(p->out_fd);
    p->out_fd = -1;
    p->out_id = -1;
    const xfer_file_entry *f = xfer_incoming_file(p->rx.inc, ev->file);
    const char *partial = p->rx.partial_name[ev->file];
    if (!ev->ok) {
        /* hash mismatch or cancel: never keep the bytes (only our own file) */
        if (p->rx.own_partial[ev->file]) cli_outdir_remove(p->a->out_root, f->dir, partial);
        p->rx.own_partial[ev->file] = false;
        return;
    }
    /* never over a file that appeared meanwhile, unless --force */
    if (ok && cli_outdir_commit(p->a->out_root, f->dir, partial, p->rx.final_name[ev->file],
                                p->a->force) < 0)
        ok = false;
    if (ok) p->rx.own_partial[ev->file] = false;
    xfer_session_closed(p->s, ev->xfer, ev->file, ok, ok ? NULL : "could not commit the file");
}

/* ---------------- the engine loop ---------------- */

static void handle_event(peer_conn *p, const xfer_event *ev)
{
    app *a = p->a;
    switch (ev->type) {
    case XFER_EV_READY:
        PD_LOG_DEBUG("transfer session ready, message size %llu, digests %s",
                     (unsigned long long)ev->msg_size,
                     xfer_session_block_digests(p->s) ? "sha256-blocks (4 MiB)" : "sha256");
        if (a->sending) {
            if (!p->xfer[0]) memcpy(p->xfer, a->xfer, sizeof p->xfer);
            int r = xfer_session_offer(p->s, p->xfer, a->entries, a->nfiles);
            if (r != XFER_OK) {
                say(a, "cannot offer the files: %s", xfer_strerror(r));
                finish(a, EXIT_LOCAL);
                return;
            }
            p->total_bytes = a->total;
            say(a, "offered %zu file%s to %.8s", a->nfiles, a->nfiles == 1 ? "" : "s", p->sid);
        }
        break;
    case XFER_EV_OFFER:
        on_offer(p, ev);
        break;
    case XFER_EV_ACCEPTED: {
        uint64_t t = 0;
        for (size_t i = 0; i < ev->file_ids_len; i++)
            t += a->entries[ev->file_ids[i]].size;
        p->total_bytes = t;
        p->start_us = g_get_monotonic_time();
        if (ev->file_ids_len < a->nfiles) /* the rest left out: held already, or hidden names */
            say(a, "accepted: %zu of %zu files (the receiver left the others out)",
                ev->file_ids_len, a->nfiles);
        else
            say(a, "accepted: %zu file%s", ev->file_ids_len, ev->file_ids_len == 1 ? "" : "s");
        out_json(a, "accepted",
                 json_pack("{s:s,s:I,s:I}", "peer", p->sid, "files", (json_int_t)ev->file_ids_len,
                           "offered", (json_int_t)a->nfiles));
        break;
    }
    case XFER_EV_DECLINED:
        say(a, "the receiver declined");
        out_json(a, "declined", json_pack("{s:s}", "peer", p->sid));
        peer_finish(p);
        break;
    case XFER_EV_OPEN:
        on_storage_open(p, ev);
        break;
    case XFER_EV_WRITE:
        on_storage_write(p, ev);
        break;
    case XFER_EV_CLOSE:
        on_storage_close(p, ev);
        break;
    case XFER_EV_PROGRESS: {
        /* per-file bytes: turn into a running total */
        uint64_t sum = 0;
        if (ev->out) {
            /* acked bytes of this file + sizes of files finished before */
            for (uint32_t i = 0; i < ev->file; i++)
                sum += a->entries[i].size;
        } else if (p->rx.inc) {
            for (uint32_t i = 0; i < ev->file; i++)
                if (!left_out(a, xfer_incoming_file(p->rx.inc, i)))
                    sum += xfer_incoming_file(p->rx.inc, i)->size;
        }
        p->done_bytes = sum + ev->bytes;
        if (p->done_bytes > p->total_bytes) p->done_bytes = p->total_bytes;
        progress(p, false);
        break;
    }
    case XFER_EV_FILE_DONE: {
        const xfer_file_entry *f =
            ev->out ? &a->entries[ev->file] : xfer_incoming_file(p->rx.inc, ev->file);
        char b[SHOWN_CAP], m[SHOWN_CAP];
        if (ev->ok) {
            say(a, "%s %s", ev->out ? "sent" : "received", shown_path(f, NULL, b));
        } else {
            say(a, "FAILED %s: %s (%s)", shown_path(f, NULL, b), shown(ev->message, m),
                xfer_code_name(ev->code));
            if (!a->sending && a->exit_code == EXIT_OK)
                a->exit_code = ev->code == XFER_CODE_WRITE_ERROR ? EXIT_LOCAL : EXIT_TRANSFER;
        }
        out_json(a, "file",
                 json_pack("{s:s,s:s,s:s,s:b,s:s}", "peer", p->sid, "name", f->name, "dir", f->dir,
                           "ok", ev->ok, "code", ev->ok ? "" : xfer_code_name(ev->code)));
        break;
    }
    case XFER_EV_TRANSFER_DONE:
        progress(p, true);
        say(a, "transfer complete");
        out_json(a, "done",
                 json_pack("{s:s,s:I}", "peer", p->sid, "bytes", (json_int_t)p->done_bytes));
        if (a->sending) {
            a->completed++;
            peer_finish(p);
            if (a->count > 0 && a->completed >= a->count) finish(a, EXIT_OK);
        } else {
            finish_drained(p, a->exit_code);
        }
        break;
    case XFER_EV_CANCELLED:
    case XFER_EV_TRANSFER_ERROR:
    case XFER_EV_FATAL: {
        const char *what = ev->type == XFER_EV_CANCELLED ? "cancelled" : "error";
        char m[SHOWN_CAP];
        say(a, "%s%s: %s %s", what, ev->by_peer ? " by peer" : "",
            ev->type == XFER_EV_CANCELLED ? "" : xfer_code_name(ev->code), shown(ev->message, m));
        if (!ev->by_peer && ev->code == XFER_CODE_UNSAFE_PATH && !a->allow_dotfiles &&
            ev->message && strstr(ev->message, "hidden name") && !a->json)
            fprintf(stderr, "peerdrop: every offered file has a hidden name (such as .config/ or "
                            ".bashrc): nothing else to receive; --allow-dotfiles receives them\n");
        out_json(a, what,
                 json_pack("{s:s,s:b,s:s,s:s}", "peer", p->sid, "byPeer", ev->by_peer, "code",
                           ev->type == XFER_EV_CANCELLED ? "" : xfer_code_name(ev->code), "message",
                           ev->message ? ev->message : ""));
        int code = ev->type == XFER_EV_CANCELLED       ? EXIT_DECLINED
                   : ev->code == XFER_CODE_UNSAFE_PATH ? EXIT_LOCAL
                                                       : EXIT_TRANSFER;
        if (!a->sending) {
            finish_drained(p, code); /* the peer should hear why */
            break;
        }
        if (ev->type == XFER_EV_FATAL && p->ch) rtc_channel_close(p->ch);
        peer_finish(p);
        break;
    }
    }
}

/* Hands the session's queued messages to the channel. */
static void flush_output(peer_conn *p)
{
    const uint8_t *d;
    size_t len;
    bool bin;
    while (p->s && xfer_session_next_output(p->s, &d, &len, &bin))
        if (p->ch && rtc_channel_send(p->ch, d, len, bin) < 0)
            PD_LOG_WARN("data channel refused a %zu-byte message", len);
}

/* Receiver: ends the run with `code` once our last messages reached the
 * peer (see DRAIN_TIMEOUT_MS), not before. */
static void finish_drained(peer_conn *p, int code)
{
    app *a = p->a;
    if (a->quitting || a->drain) return;
    flush_output(p);
    if (!p->ch || !rtc_channel_is_open(p->ch)) {
        finish(a, code);
        return;
    }
    a->drain_code = code;
    p->draining = true;
    rtc_channel_close(p->ch);
    a->drain = g_timeout_source_new(DRAIN_TIMEOUT_MS);
    g_source_set_callback(a->drain, on_drain_timeout, a, NULL);
    g_source_attach(a->drain, a->ctx);
}

static void pump(peer_conn *p)
{
    if (!p->s) return;
    for (int guard = 0; guard < 100000; guard++) {
        bool busy = false;
        const uint8_t *d;
        size_t len;
        bool bin;
        while (xfer_session_next_output(p->s, &d, &len, &bin)) {
            busy = true;
            if (p->ch && rtc_channel_send(p->ch, d, len, bin) < 0)
                PD_LOG_WARN("data channel refused a %zu-byte message", len);
        }
        xfer_event ev;
        while (xfer_session_next_event(p->s, &ev)) {
            busy = true;
            handle_event(p, &ev);
        }
        if (p->a->sending && p->ch && rtc_channel_buffered_amount(p->ch) < SEND_HIGH_WATER) {
            xfer_read r;
            if (xfer_session_next_read(p->s, &r)) {
                busy = true;
                send_read(p, &r);
            }
        }
        if (!busy) return;
    }
}

/* ---------------- signaling ---------------- */

static void on_join_ack(cli_signal *c, json_t *arg, void *user);

static void join_room(app *a)
{
    json_t *j = json_pack("{s:s,s:s}", "roomId", a->room, "password", a->password);
    cli_signal_emit(a->sig, "join-room", j, on_join_ack, a);
    json_decref(j);
}

static void announce_room(app *a)
{
    if (a->room_announced) return;
    a->room_announced = true;
    char link[2048];
    build_link(a, link, sizeof link);
    if (a->json) {
        out_json(
            a, "room",
            json_pack("{s:s,s:s,s:s}", "link", link, "roomId", a->room, "password", a->password));
        return;
    }
    if (a->quiet) return;
    printf(
        "\nOpen this link on the receiving device, or run `peerdrop receive '<link>'`:\n\n  %s\n\n",
        link);
    printf("  room:     %s\n  password: %s\n\n", a->room, a->password);
    if (a->tty) print_qr(link);
    printf("\nwaiting for receivers (Ctrl-C to stop)...\n");
    fflush(stdout);
}

static const char *ack_error(json_t *arg)
{
    if (!arg) return "CONNECTION_LOST";
    if (json_is_true(json_object_get(arg, "ok"))) return NULL;
    const char *code = json_string_value(json_object_get(json_object_get(arg, "error"), "code"));
    return code ? code : "INTERNAL";
}

static void on_join_ack(cli_signal *c, json_t *arg, void *user)
{
    app *a = user;
    const char *err = ack_error(arg);
    if (!err) {
        take_ice(a, arg);
        if (!a->joined) say(a, "joined room, waiting for the sender...");
        a->joined = true;
        out_json(a, "joined", json_pack("{s:s}", "roomId", a->room));
        return;
    }
    if (!strcmp(err, "CONNECTION_LOST")) return; /* on_connected joins again */
    if (a->sending && !strcmp(err, "ALREADY_IN_ROOM")) return;
    say(a, "cannot join the room: %s", err);
    out_json(a, "error", json_pack("{s:s}", "code", err));
    finish(a, EXIT_SIGNALING);
}

static void on_create_ack(cli_signal *c, json_t *arg, void *user)
{
    app *a = user;
    const char *err = ack_error(arg);
    if (!err) {
        take_ice(a, arg);
        announce_room(a);
        return;
    }
    if (!strcmp(err, "CONNECTION_LOST")) return;
    /* after a reconnection our receivers may still hold the room: join it */
    if (!strcmp(err, "ROOM_EXISTS") && a->room_announced) {
        join_room(a);
        return;
    }
    say(a, "cannot create the room: %s", err);
    out_json(a, "error", json_pack("{s:s}", "code", err));
    finish(a, EXIT_SIGNALING);
}

static void on_connected(cli_signal *c, const char *sid, void *user)
{
    app *a = user;
    PD_LOG_DEBUG("signaling connected");
    if (a->sending) {
        json_t *j = json_pack("{s:s,s:s}", "roomId", a->room, "password", a->password);
        cli_signal_emit(c, "create-room", j, on_create_ack, a);
        json_decref(j);
    } else {
        join_room(a);
    }
}

static void on_disconnected(cli_signal *c, const char *reason, void *user)
{
    app *a = user;
    if (!a->room_announced && !a->joined && cli_signal_failures(c) >= CONNECT_ATTEMPTS) {
        say(a, "cannot reach the server %s: %s", a->server, reason);
        out_json(a, "error",
                 json_pack("{s:s,s:s}", "code", "SERVER_UNREACHABLE", "message", reason));
        finish(a, EXIT_SIGNALING);
    }
}

static const char *str_of(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* Sender: a new peer connection to `sid`, with our channel, and the offer. */
static peer_conn *offer_to(app *a, const char *sid)
{
    peer_conn *p = peer_new(a, sid);
    if (!p) return NULL;
    p->ch = rtc_channel_create(p->pc, "peerdrop", false);
    if (p->ch) rtc_channel_set_user(p->ch, p);
    rtc_peer_create_offer(p->pc);
    return p;
}

static void on_event(cli_signal *c, const char *name, json_t *arg, void *user)
{
    app *a = user;
    if (!strcmp(name, "user-joined") && a->sending) {
        const char *sid = str_of(arg, "socketId");
        if (!*sid || peer_find(a, sid)) return;
        say(a, "receiver %.8s joined", sid);
        out_json(a, "peer-joined", json_pack("{s:s}", "peer", sid));
        offer_to(a, sid);
    } else if (!strcmp(name, "user-left")) {
        const char *sid = str_of(arg, "socketId");
        if (*sid) g_hash_table_add(a->left, g_strdup(sid));
        if (a->reoffer && !strcmp(sid, a->reoffer_from)) { /* the sender we wait for is gone */
            stop_reoffer_wait(a);
            say(a, "the sender left the room");
            finish(a, EXIT_TRANSFER);
        }
        peer_conn *p = peer_find(a, sid);
        /* a connected peer does not need the server any more */
        if (p && !p->s) peer_finish(p);
    } else if (!strcmp(name, "offer") && !a->sending) {
        const char *from = str_of(arg, "from");
        peer_conn *old = peer_find(a, from);
        /* connected: the session decides, not a stray offer (a lost one is
         * finished, and this offer is its replacement) */
        if (old && old->s && !old->finished) return;
        /* the sender gave up on an attempt we still wait for: its new offer
         * replaces it (as the web app's answering side does); one that
         * failed already is being reaped */
        if (old && !old->finished) peer_remove(a, old);
        peer_conn *p = peer_new(a, from);
        if (!p) {
            finish(a, EXIT_LOCAL);
            return;
        }
        if (rtc_peer_set_remote_description(p->pc, "offer", str_of(arg, "sdp")) < 0) {
            /* any member of the room can send an offer: a malformed one is
             * ignored (issue 11), and the wait for a good one goes on */
            char b[SHOWN_CAP];
            PD_LOG_WARN("ignored a malformed connection offer from %.8s", shown(from, b));
            out_json(a, "warning",
                     json_pack("{s:s,s:s,s:s}", "peer", from, "code", "BAD_OFFER", "message",
                               "ignored a malformed connection offer"));
            peer_finish(p);
            return;
        }
        stop_reoffer_wait(a);
    } else if (!strcmp(name, "answer")) {
        peer_conn *p = peer_find(a, str_of(arg, "from"));
        if (p && rtc_peer_set_remote_description(p->pc, "answer", str_of(arg, "sdp")) < 0)
            peer_finish(p);
    } else if (!strcmp(name, "ice-candidate")) {
        peer_conn *p = peer_find(a, str_of(arg, "from"));
        if (!p) return;
        json_t *cand = json_object_get(arg, "candidate");
        if (json_is_null(cand) || !cand)
            rtc_peer_add_remote_candidate(p->pc, NULL, NULL);
        else
            rtc_peer_add_remote_candidate(p->pc, str_of(cand, "candidate"), str_of(cand, "sdpMid"));
    } else if (!strcmp(name, "signaling-error")) {
        char e[SHOWN_CAP], c2[SHOWN_CAP];
        PD_LOG_WARN("server refused %s: %s", shown(str_of(arg, "event"), e),
                    shown(str_of(arg, "code"), c2));
    }
}

/* ---------------- inputs ---------------- */

static bool add_file(app *a, const char *path, const char *dir, const char *name, uint64_t size)
{
    src_file *nf = realloc(a->files, (a->nfiles + 1) * sizeof *nf);
    if (!nf) return false;
    a->files = nf;
    xfer_file_entry *ne = realloc(a->entries, (a->nfiles + 1) * sizeof *ne);
    if (!ne) return false;
    a->entries = ne;
    a->files[a->nfiles].path = strdup(path);
    xfer_file_entry *e = &a->entries[a->nfiles];
    *e = (xfer_file_entry){.id = (uint32_t)a->nfiles,
                           .name = strdup(name),
                           .name_len = strlen(name),
                           .dir = strdup(dir),
                           .dir_len = strlen(dir),
                           .size = size,
                           .mime = strdup(""),
                           .mime_len = 0};
    a->nfiles++;
    a->total += size;
    return a->files[a->nfiles - 1].path && e->name && e->dir && e->mime;
}

/* Adds a regular file, or a directory's files with their relative paths
 * under the directory's own name (as a browser's folder picker does).
 * Symlinks inside a directory are skipped: we send what is there, not
 * what it points to. */
static int add_path(app *a, const char *path, const char *dir, int depth)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        fprintf(stderr, "peerdrop: %s: %s\n", path, strerror(errno));
        return -1;
    }
    const char *base = strrchr(path, '/');
    char name[PATH_MAX];
    snprintf(name, sizeof name, "%s", base ? base + 1 : path);
    size_t nl = strlen(name);
    while (nl > 1 && name[nl - 1] == '/')
        name[--nl] = 0;
    if (S_ISREG(st.st_mode)) {
        const char *why = xfer_path_name_problem(name, strlen(name));
        if (why) {
            char b[SHOWN_CAP];
            fprintf(stderr, "peerdrop: %s: name cannot be sent (%s)\n", shown(path, b), why);
            return -1;
        }
        if (access(path, R_OK) < 0) {
            fprintf(stderr, "peerdrop: %s: %s\n", path, strerror(errno));
            return -1;
        }
        return add_file(a, path, dir, name, (uint64_t)st.st_size) ? 0 : -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, "peerdrop: %s: not a regular file or directory\n", path);
        return -1;
    }
    if (depth >= (int)XFER_MAX_DIR_DEPTH) {
        fprintf(stderr, "peerdrop: %s: too deep\n", path);
        return -1;
    }
    char sub[XFER_MAX_DIR_BYTES + 1];
    if (depth == 0 && (!strcmp(name, ".") || !strcmp(name, "..") || !strcmp(name, "/"))) {
        char cwd[PATH_MAX];
        if (!realpath(path, cwd)) return -1;
        const char *b = strrchr(cwd, '/');
        snprintf(name, sizeof name, "%s", b && b[1] ? b + 1 : "root");
    }
    snprintf(sub, sizeof sub, "%s%s%s", dir, *dir ? "/" : "", name);
    const char *why = xfer_path_dir_problem(sub, strlen(sub));
    if (why) {
        char b[SHOWN_CAP];
        fprintf(stderr, "peerdrop: %s: directory name cannot be sent (%s)\n", shown(path, b), why);
        return -1;
    }
    DIR *d = opendir(path);
    if (!d) {
        fprintf(stderr, "peerdrop: %s: %s\n", path, strerror(errno));
        return -1;
    }
    /* sorted, so the manifest order is stable */
    struct dirent **list = NULL;
    closedir(d);
    int n = scandir(path, &list, NULL, alphasort);
    int rc = 0;
    for (int i = 0; i < n; i++) {
        const char *e = list[i]->d_name;
        if (rc == 0 && strcmp(e, ".") && strcmp(e, "..")) {
            char child[PATH_MAX];
            snprintf(child, sizeof child, "%s/%s", path, e);
            struct stat lst;
            if (lstat(child, &lst) == 0 && !S_ISLNK(lst.st_mode))
                rc = add_path(a, child, sub, depth + 1);
        }
        free(list[i]);
    }
    free(list);
    return rc;
}

/* LINK = http(s)://host[:port]/...#room=ID&key=PW; anything else a room id. */
static bool parse_target(app *a, const char *t, bool have_server)
{
    const char *hash = strchr(t, '#');
    if (!hash) {
        if (!room_id_ok(t)) return false;
        snprintf(a->room, sizeof a->room, "%s", t);
        return true;
    }
    if (!have_server) {
        snprintf(a->server, sizeof a->server, "%.*s", (int)(hash - t), t);
    }
    const char *p = hash + 1;
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        if (eq) {
            size_t kl = (size_t)(eq - p);
            if (kl == 4 && !strncmp(p, "room", 4))
                url_decode(eq + 1, len - kl - 1, a->room, sizeof a->room);
            else if (kl == 3 && !strncmp(p, "key", 3) && !a->password[0])
                url_decode(eq + 1, len - kl - 1, a->password, sizeof a->password);
        }
        p += len + (amp ? 1 : 0);
    }
    return room_id_ok(a->room);
}

static void usage(FILE *f)
{
    fputs("usage: peerdrop send FILE|DIR... [--server URL] [--count N] [--json] [--quiet]\n"
          "       peerdrop receive LINK|ROOM [--password P] [--server URL] [-o DIR] [--yes]\n"
          "                       [--force] [--allow-dotfiles] [--json] [--quiet]\n"
          "       (both take --relay)\n"
          "\n"
          "Sends files peer to peer (WebRTC data channel) to the Peerdrop web app or another\n"
          "peerdrop. The server only relays the connection set-up; files never pass through it.\n"
          "\n"
          "send      creates a room with a random id and password, prints a link for the web app\n"
          "          (and a QR code on a terminal), and sends the files to every receiver that\n"
          "          joins. Directories are sent with their relative paths.\n"
          "receive   joins the room of LINK (or ROOM with --password), shows the files and asks\n"
          "          before accepting, then stores them in DIR (default: current directory).\n"
          "\n"
          "options:\n"
          "  --server URL     signaling server, http(s):// or ws(s):// (default $PEERDROP_URL or\n"
          "                   " DEFAULT_SERVER "; for receive, the link's own server)\n"
          "  --count N        send: exit after N receivers got everything (default: run until "
          "Ctrl-C)\n"
          "  --password P     receive: the room password (when ROOM is a bare id)\n"
          "  -o, --output DIR receive: where to store the files (created if needed)\n"
          "  -y, --yes        receive: accept without asking\n"
          "  --force          receive: overwrite existing files (default: pick a free name)\n"
          "  --allow-dotfiles receive: also names starting with '.' (.config/, .gitignore);\n"
          "                   by default they are left out (and said so), the rest received\n"
          "  --relay          connect only through the server's TURN relay, so that the other\n"
          "                   peer never learns your IP addresses (slower; needs TURN)\n"
          "  --json           one JSON object per line on stdout (events: room, joined,\n"
          "                   peer-joined, connected, offer, resume, accepted, progress, file,\n"
          "                   left-out, done, declined, cancelled, error, warning)\n"
          "  -q, --quiet      no progress output\n"
          "  --log-level L    debug | info | warn | error (default warn), on stderr\n"
          "  -h, --help       this help\n"
          "\n"
          "Received files are written to NAME.partial and renamed only after their SHA-256\n"
          "digest matched. A connection lost mid-transfer is offered again by the sender and\n"
          "resumes in the same run; an interrupted receive resumes from the .partial file\n"
          "when run again (with a peer that uses block digests, from its last whole 4 MiB\n"
          "block).\n"
          "Files are written only beneath DIR: symbolic links in the way are not followed,\n"
          "a .partial file with other hard links is not reused.\n"
          "\n"
          "STUN/TURN servers come from the server: URLs from GET /config, the TURN\n"
          "credential with the room. See peerdrop(1).\n"
          "\n"
          "exit status:\n"
          "  0    success\n"
          "  1    usage error\n"
          "  2    signaling failed: server unreachable, room not found, wrong password\n"
          "  3    transfer failed: connection failed, peer error, SHA-256 mismatch\n"
          "  4    declined or cancelled\n"
          "  5    local file error: cannot read an input or write the output, or the sender\n"
          "       offered an unsafe name, or hidden names only\n"
          "  130  interrupted (SIGINT/SIGTERM)\n",
          f);
}

static gboolean on_sigint(gpointer data)
{
    app *a = data;
    say(a, "interrupted");
    finish(a, EXIT_INTERRUPTED);
    return G_SOURCE_CONTINUE;
}

int main(int argc, char **argv)
{
    app a = {0};
    g_app = &a;
    pd_log_set_level(PD_LOG_LEVEL_WARN);
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (!strcmp(argv[1], "send"))
        a.sending = true;
    else if (strcmp(argv[1], "receive") && strcmp(argv[1], "recv")) {
        fprintf(stderr, "peerdrop: unknown command '%s'\n", argv[1]);
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *env = getenv("PEERDROP_URL");
    snprintf(a.server, sizeof a.server, "%s", env && *env ? env : DEFAULT_SERVER);
    snprintf(a.out_dir, sizeof a.out_dir, ".");
    a.out_root = -1;
    bool have_server = false;
    const char *target = NULL;
    char **inputs = calloc((size_t)argc, sizeof *inputs);
    int ninputs = 0;
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i];
        bool more = i + 1 < argc;
        if (!strcmp(o, "--server") && more) {
            snprintf(a.server, sizeof a.server, "%s", argv[++i]);
            have_server = true;
        } else if (!strcmp(o, "--password") && more)
            snprintf(a.password, sizeof a.password, "%s", argv[++i]);
        else if ((!strcmp(o, "-o") || !strcmp(o, "--output")) && more)
            snprintf(a.out_dir, sizeof a.out_dir, "%s", argv[++i]);
        else if (!strcmp(o, "--count") && more)
            a.count = strtol(argv[++i], NULL, 10);
        else if (!strcmp(o, "-y") || !strcmp(o, "--yes"))
            a.yes = true;
        else if (!strcmp(o, "--force"))
            a.force = true;
        else if (!strcmp(o, "--allow-dotfiles"))
            a.allow_dotfiles = true;
        else if (!strcmp(o, "--relay"))
            a.relay_only = true;
        else if (!strcmp(o, "--json"))
            a.json = true;
        else if (!strcmp(o, "-q") || !strcmp(o, "--quiet"))
            a.quiet = true;
        else if (!strcmp(o, "--log-level") && more) {
            pd_log_level l;
            if (!pd_log_level_parse(argv[++i], &l)) {
                fprintf(stderr, "peerdrop: bad log level\n");
                return EXIT_USAGE;
            }
            pd_log_set_level(l);
        } else if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            usage(stdout);
            return EXIT_OK;
        } else if (o[0] == '-' && o[1]) {
            fprintf(stderr, "peerdrop: unknown option '%s'\n", o);
            return EXIT_USAGE;
        } else
            inputs[ninputs++] = argv[i];
    }
    a.tty = isatty(1) && !a.json;
    if (a.json) pd_log_set_json(true);
    int rc = EXIT_OK;
    if (a.sending) {
        if (ninputs == 0) {
            fprintf(stderr, "peerdrop send: no files given\n");
            free(inputs);
            return EXIT_USAGE;
        }
        for (int i = 0; i < ninputs; i++)
            if (add_path(&a, inputs[i], "", 0) < 0) {
                free(inputs);
                return EXIT_LOCAL;
            }
        if (a.nfiles == 0 || a.nfiles > XFER_MAX_FILES) {
            fprintf(stderr, "peerdrop send: %zu files (1 to %u can be sent at once)\n", a.nfiles,
                    XFER_MAX_FILES);
            free(inputs);
            return EXIT_USAGE;
        }
        char buf[128];
        const char *problem;
        if (xfer_path_manifest_check(a.entries, a.nfiles, buf, sizeof buf, &problem) != XFER_OK ||
            problem) {
            fprintf(stderr, "peerdrop send: %s\n", problem ? problem : "out of memory");
            free(inputs);
            return EXIT_USAGE;
        }
        if (xfer_path_manifest_hidden(a.entries, a.nfiles, buf, sizeof buf))
            fprintf(stderr,
                    "peerdrop send: note: some names start with '.' (hidden files); a "
                    "receiver leaves them out unless it runs with --allow-dotfiles, and the "
                    "web app leaves them out\n");
        if (!random_uuid(a.room) || !random_password(a.password, 20) || !xfer_random_id(a.xfer)) {
            free(inputs);
            return EXIT_LOCAL;
        }
    } else {
        if (ninputs != 1 || !(target = inputs[0]) || !parse_target(&a, target, have_server)) {
            fprintf(stderr,
                    "peerdrop receive: give one link (…#room=ID&key=PASSWORD) or a room id\n");
            free(inputs);
            return EXIT_USAGE;
        }
        if (!a.password[0]) {
            fprintf(stderr, "peerdrop receive: no password (use the full link or --password)\n");
            free(inputs);
            return EXIT_USAGE;
        }
        a.out_root = cli_outdir_open_root(a.out_dir);
        if (a.out_root < 0) {
            fprintf(stderr, "peerdrop: %s: %s\n", a.out_dir, strerror(-a.out_root));
            free(inputs);
            return EXIT_LOCAL;
        }
    }
    free(inputs);
    a.left = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    a.ctx = g_main_context_new();
    a.loop = g_main_loop_new(a.ctx, FALSE);
    g_main_context_push_thread_default(a.ctx);
    GSource *sigs[2];
    int signums[2] = {SIGINT, SIGTERM};
    for (int i = 0; i < 2; i++) {
        sigs[i] = g_unix_signal_source_new(signums[i]);
        g_source_set_callback(sigs[i], on_sigint, &a, NULL);
        g_source_attach(sigs[i], a.ctx);
    }
    ice_servers_load(&a);
    cli_signal_callbacks cb = {on_connected, on_disconnected, on_event};
    if (a.relay_only && count_turn(&a.ice) == 0) {
        fprintf(stderr, "peerdrop: --relay needs a TURN server, and %s/config lists none\n",
                a.server);
        rc = EXIT_TRANSFER;
    } else if (!(a.sig = cli_signal_create(a.ctx, a.server, &cb, &a))) {
        fprintf(stderr, "peerdrop: bad server URL '%s'\n", a.server);
        rc = EXIT_USAGE;
    } else {
        if (!a.sending) say(&a, "connecting to %s ...", a.server);
        g_main_loop_run(a.loop);
        rc = a.exit_code;
    }
    if (a.tty && !a.quiet) fputc('\n', stdout);
    if (a.drain) {
        g_source_destroy(a.drain);
        g_source_unref(a.drain);
    }
    stop_reoffer_wait(&a);
    stop_ice_refresh(&a);
    while (a.peers)
        peer_remove(&a, a.peers);
    incoming_files_free(&a.kept);
    cli_signal_destroy(a.sig);
    for (int i = 0; i < 2; i++) {
        g_source_destroy(sigs[i]);
        g_source_unref(sigs[i]);
    }
    /* let destroyed sources and idle reapers run out */
    while (g_main_context_iteration(a.ctx, FALSE)) {
    }
    g_main_context_pop_thread_default(a.ctx);
    g_main_loop_unref(a.loop);
    g_main_context_unref(a.ctx); /* destroys pending retries (and frees them) */
    g_hash_table_destroy(a.left);
    for (size_t i = 0; i < a.nfiles; i++) {
        free(a.files[i].path);
        free(a.entries[i].name);
        free(a.entries[i].dir);
        free(a.entries[i].mime);
    }
    free(a.files);
    free(a.entries);
    cli_ice_servers_cleanup(&a.ice);
    if (a.out_root >= 0) close(a.out_root);
    return rc;
}
