/* peer.c: see peer.h. */
#include "cli/peer.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/limits.h"
#include "base/log.h"
#include "cli/display.h"
#include "cli/lane.h"
#include "cli/output.h"
#include "cli/receiver.h"
#include "cli/resend.h"
#include "cli/sender.h"
#include "transfer/codec.h"

static gboolean on_drain_timeout(gpointer data)
{
    cli_app *a = data;
    PD_LOG_DEBUG("peer did not answer our channel close in %d ms", DRAIN_TIMEOUT_MS);
    cli_app_finish(a, a->drain_code);
    return G_SOURCE_REMOVE;
}

static bool auth_cut(cli_peer *p, const char *why);

static void auth_timer_stop(cli_peer *p)
{
    if (!p->auth_timer) return;
    g_source_destroy(p->auth_timer);
    g_source_unref(p->auth_timer);
    p->auth_timer = NULL;
}

static void lanes_wait_stop(cli_peer *p)
{
    if (!p->lanes_wait) return;
    g_source_destroy(p->lanes_wait);
    g_source_unref(p->lanes_wait);
    p->lanes_wait = NULL;
}

static void backlog_poll_stop(cli_peer *p)
{
    if (!p->backlog_poll) return;
    g_source_destroy(p->backlog_poll);
    g_source_unref(p->backlog_poll);
    p->backlog_poll = NULL;
}

static void peer_destroy(cli_peer *p)
{
    if (!p) return;
    auth_timer_stop(p);
    lanes_wait_stop(p);
    backlog_poll_stop(p);
    cli_resend_free(p);
    pake_gate_cleanup(&p->gate);
    if (p->prompt) {
        g_source_destroy(p->prompt);
        g_source_unref(p->prompt);
    }
    if (p->reaper) {
        g_source_destroy(p->reaper);
        g_source_unref(p->reaper);
    }
    if (p->s) xfer_session_shutdown(p->s);
    if (cli_lanes_pending(p) > 0 && !g_hash_table_contains(p->a->no_lanes, p->sid)) {
        PD_LOG_INFO("no more lanes with %.8s: its session ended while they were being set up "
                    "(does the server relay 'lane'?)",
                    p->sid);
        g_hash_table_add(p->a->no_lanes, g_strdup(p->sid));
    }
    cli_lanes_close(p); /* lanes live and die with their session (§5.10) */
    rtc_peer_destroy(p->pc);
    xfer_session_destroy(p->s);
    if (p->src_fd >= 0) close(p->src_fd);
    if (p->out_fd >= 0) close(p->out_fd);
    for (guint i = 0; p->ending && i < p->ending->len; i++)
        if (g_array_index(p->ending, cli_ending_file, i).fd >= 0)
            close(g_array_index(p->ending, cli_ending_file, i).fd);
    if (p->ending) g_array_free(p->ending, TRUE);
    cli_receiver_files_free(&p->rx);
    json_decref(p->failed);
    free(p->buf);
    free(p);
}

cli_peer *cli_peer_find(cli_app *a, const char *sid)
{
    for (cli_peer *p = a->peers; p; p = p->next)
        if (!strcmp(p->sid, sid)) return p;
    return NULL;
}

void cli_peer_remove(cli_app *a, cli_peer *p)
{
    for (cli_peer **pp = &a->peers; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    peer_destroy(p);
}

/* Freed later, never inside one of its own rtc callbacks (STYLE §4). */
static gboolean reap_peer(gpointer data)
{
    cli_peer *p = data;
    g_source_unref(p->reaper);
    p->reaper = NULL;
    cli_peer_remove(p->a, p);
    return G_SOURCE_REMOVE;
}

void cli_peer_finish(cli_peer *p)
{
    if (p->finished) return;
    p->finished = true;
    p->reaper = g_idle_source_new();
    g_source_set_callback(p->reaper, reap_peer, p, NULL);
    g_source_attach(p->reaper, p->a->ctx);
}

static void signal_send(cli_app *a, const char *event, cli_peer *p, json_t *payload)
{
    json_object_set_new(payload, "targetSocketId", json_string(p->sid));
    if (cli_signal_emit(a->sig, event, payload, NULL, NULL) < 0)
        PD_LOG_WARN("cannot relay %s: not connected to the server", event);
    json_decref(payload);
}

/* The one fingerprint of an SDP, canonical, or "" (the gate then fails). */
static void take_fingerprint(char out[PAKE_FP_MAX], const char *sdp)
{
    if (pake_fingerprint_from_sdp(out, sdp, strlen(sdp)) < 0) out[0] = 0;
}

static void on_local_description(rtc_peer *pc, const char *type, const char *sdp, void *user)
{
    cli_peer *p = user;
    take_fingerprint(p->fp_local, sdp); /* ours: the description set locally */
    signal_send(p->a, type, p, json_pack("{s:s}", "sdp", sdp));
}

static void on_local_candidate(rtc_peer *pc, const char *cand, const char *mid, void *user)
{
    cli_peer *p = user;
    json_t *c = cand ? json_pack("{s:s,s:s,s:i}", "candidate", cand, "sdpMid", mid ? mid : "0",
                                 "sdpMLineIndex", 0)
                     : json_null();
    signal_send(p->a, "ice-candidate", p, json_pack("{s:o}", "candidate", c));
}

static void on_state(rtc_peer *pc, rtc_state st, const char *reason, void *user)
{
    cli_peer *p = user;
    if (st == RTC_STATE_FAILED && p->draining) {
        cli_app_finish(p->a, p->a->drain_code);
        cli_peer_finish(p);
    } else if (st == RTC_STATE_FAILED && auth_cut(p, "the connection failed")) {
        return;
    } else if (st == RTC_STATE_FAILED && !p->finished) {
        cli_say(p->a, "connection to peer failed: %s", reason ? reason : "?");
        cli_out_json(p->a, "error",
                     json_pack("{s:s,s:s}", "peer", p->sid, "message", reason ? reason : ""));
        if (p->s) xfer_session_shutdown(p->s);
        if (p->a->sending)
            cli_sender_retry_later(p);
        else
            cli_receiver_lost(p);
        cli_peer_finish(p);
    }
}

static int64_t now_ms(void)
{
    return g_get_monotonic_time() / 1000;
}

/* Authenticated: the code both sides show, then the transfer protocol. */
static void auth_done(cli_peer *p)
{
    cli_app *a = p->a;
    const char *sas = pake_gate_sas(&p->gate);
    char b[CLI_SHOWN_CAP];
    p->authenticated = true;
    if (!a->json) {
        /* also with --quiet: it is what a user compares, not progress; on
         * stderr then, so that stdout holds only a received text
         * (peerdrop receive -q LINK > file, issue 17) */
        FILE *f = a->quiet ? stderr : stdout;
        if (a->tty && !a->quiet) fputs("\r\033[K", f);
        fprintf(f, "verification code with %s: %.3s %.3s\n", cli_shown(p->sid, b), sas, sas + 3);
        fflush(f);
    }
    cli_out_json(a, "authenticated", json_pack("{s:s,s:s}", "peer", p->sid, "sas", sas));
    pake_gate_cleanup(&p->gate); /* the code is shown: nothing of the run is kept */
    /* The opener says hello now; the acceptor answers the opener's first
     * message (docs/protocol.md §5.1: Chromium loses an acceptor's message
     * sent too early). */
    if (p->acceptor)
        p->hello_pending = true;
    else
        xfer_session_open(p->s);
    cli_peer_pump(p);
}

/* send --code: one more failed PAKE run in the code's room, i.e. one
 * online guess of the code (or a receiver that mistyped it). The third
 * burns the code: the sender leaves the room, and the server forgets the
 * room once its last member is gone, so nobody can guess on. */
static void code_run_failed(cli_app *a)
{
    a->code_failed++;
    if (a->code_failed < CODE_FAILED_RUNS_MAX || a->quitting) return;
    json_t *j = json_object();
    cli_signal_emit(a->sig, "leave-room", j, NULL, NULL);
    json_decref(j);
    char msg[192];
    snprintf(msg, sizeof msg,
             "the code was used with a wrong secret %u times: someone may be guessing it; "
             "nothing was sent. Start again for a new code",
             a->code_failed);
    if (a->json)
        cli_out_json(a, "error", json_pack("{s:s,s:s}", "code", "CODE_BURNT", "message", msg));
    else
        fprintf(stderr, "%s\n", msg);
    cli_app_finish(a, EXIT_AUTH);
}

/* Authentication failed (a wrong tag, a peer that did not authenticate,
 * the deadline, or the peer's error): nothing was sent to this peer nor
 * received from it. The `error` AUTH_FAILED went out (gate output); the
 * connection ends without a retry, since another attempt would meet the
 * same password or the same man in the middle; other peers go on. */
static void auth_failed(cli_peer *p)
{
    cli_app *a = p->a;
    char b[CLI_SHOWN_CAP];
    p->auth_failed = true;
    a->auth_failures++;
    if (p->gate.state == PAKE_GATE_PEER_ERROR) {
        char c[CLI_SHOWN_CAP], m[CLI_SHOWN_CAP]; /* one buffer per shown text */
        PD_LOG_INFO("peer %s ended the authentication: %s %s", cli_shown(p->sid, b),
                    cli_shown(p->gate.peer_code, c), cli_shown(p->gate.peer_message, m));
    } else {
        PD_LOG_INFO("authentication with %s failed: %s", cli_shown(p->sid, b), p->gate.reason);
    }
    if (a->json)
        cli_out_json(a, "auth-failed", json_pack("{s:s}", "peer", p->sid));
    else
        fprintf(stderr,
                "authentication failed: the connection to %s may be intercepted, or the other "
                "side used a different %s; nothing was %s\n",
                cli_shown(p->sid, b), a->code_mode ? "code" : "password",
                a->sending ? "sent" : "received");
    if (p->s) xfer_session_shutdown(p->s);
    if (!a->sending && !a->quitting) {
        bool others = false;
        for (const cli_peer *q = a->peers; q; q = q->next)
            others |= q != p && !q->finished && !q->auth_failed;
        if (!others) {
            cli_peer_finish_drained(p, EXIT_AUTH); /* the peer hears why, then we exit */
            return;
        }
    }
    if (p->ch) rtc_channel_close(p->ch);
    cli_peer_finish(p);
    if (a->sending && a->code_mode) {
        code_run_failed(a);
        return;
    }
    /* a sender with --count: a receiver that failed authentication is done
     * too (it gets no retry); the exit code reports it (main.c) */
    if (a->sending && a->count > 0 && a->completed + a->auth_failures >= a->count)
        cli_app_finish(a, EXIT_OK);
}

/* The run ended before our tag went out (gate.h, PAKE_GATE_LOST): nothing
 * was learnt on either side, so it is a dropped connection, not a failed
 * authentication: no warning, no guess counted; the sender offers again,
 * the receiver waits for that offer, as after any drop. */
static void auth_lost(cli_peer *p)
{
    cli_app *a = p->a;
    char b[CLI_SHOWN_CAP];
    PD_LOG_INFO("connection to %s ended before authentication: %s; connecting again",
                cli_shown(p->sid, b), p->gate.reason);
    cli_out_json(a, "error",
                 json_pack("{s:s,s:s}", "peer", p->sid, "message",
                           "the connection ended before authentication"));
    if (p->s) xfer_session_shutdown(p->s);
    if (p->ch) rtc_channel_close(p->ch);
    if (a->sending)
        cli_sender_retry_later(p);
    else
        cli_receiver_lost(p);
    cli_peer_finish(p);
}

/* Sends what the gate queued, then acts on its state. */
static void auth_pump(cli_peer *p)
{
    const char *text;
    size_t len;
    while (pake_gate_next_output(&p->gate, &text, &len))
        if (p->ch && rtc_channel_send(p->ch, (const uint8_t *)text, len, false) < 0)
            PD_LOG_WARN("data channel refused a %zu-byte message", len);
    switch (p->gate.state) {
    case PAKE_GATE_RUNNING:
        return;
    case PAKE_GATE_OPEN:
        auth_timer_stop(p);
        auth_done(p);
        return;
    case PAKE_GATE_FAILED:
    case PAKE_GATE_PEER_ERROR:
        auth_timer_stop(p);
        auth_failed(p);
        return;
    case PAKE_GATE_LOST:
        auth_timer_stop(p);
        auth_lost(p);
        return;
    }
}

static gboolean on_auth_deadline(gpointer data)
{
    cli_peer *p = data;
    g_source_unref(p->auth_timer);
    p->auth_timer = NULL;
    /* the timer fires at the deadline, so the gate always fails here */
    pake_gate_tick(&p->gate, now_ms() + 1);
    auth_pump(p);
    return G_SOURCE_REMOVE;
}

/* The channel is open: one CPace run before anything else. The opener (the
 * WebRTC offerer) is A; CI names the offerer's socket id first, each as
 * this side knows it; the fingerprints are each side's own view. */
static void auth_start(cli_peer *p)
{
    cli_app *a = p->a;
    bool offerer = !p->acceptor;
    const char *me = p->self_id, *peer = p->sid;
    const char *oid = offerer ? me : peer, *aid = offerer ? peer : me;
    const char *fl = p->fp_local[0] ? p->fp_local : NULL;
    const char *fr = p->fp_remote[0] ? p->fp_remote : NULL;
    pake_session_config c = {
        .role = offerer ? PAKE_OFFERER : PAKE_ANSWERER,
        .prs = a->prs,
        .room = {(const uint8_t *)a->room, strlen(a->room)},
        .offerer_id = {(const uint8_t *)oid, strlen(oid)},
        .answerer_id = {(const uint8_t *)aid, strlen(aid)},
        .fp_offerer = offerer ? fl : fr,
        .fp_answerer = offerer ? fr : fl,
    };
    p->gate_started = true;
    pake_gate_start(&p->gate, &c, now_ms());
    p->auth_timer = g_timeout_source_new(PD_AUTH_DEADLINE_MS);
    g_source_set_callback(p->auth_timer, on_auth_deadline, p, NULL);
    g_source_attach(p->auth_timer, a->ctx);
    auth_pump(p);
}

static void session_start(cli_peer *p)
{
    xfer_options o = {.max_msg = 262144,
                      .send_limit = rtc_peer_remote_max_message_size(p->pc),
                      .read_block = READ_BLOCK,
                      .allow_hidden = p->a->allow_dotfiles,
                      .name = p->a->name[0] ? p->a->name : NULL,
                      .lanes = g_hash_table_contains(p->a->no_lanes, p->sid) ? 0 : p->a->lanes,
                      /* §5.11: a stalled or lost lane's DATA goes again elsewhere */
                      .lane_resend = true};
    p->s = xfer_session_create(&o);
    if (!p->s) {
        cli_app_finish(p->a, EXIT_LOCAL);
        return;
    }
    rtc_channel_set_buffered_amount_low_threshold(p->ch, SEND_LOW_WATER);
    auth_start(p); /* hello only after it (docs/protocol.md §5.0) */
}

/* The channel closed or the connection failed while authenticating: a
 * failed run once our tag is out, else a lost connection to retry (gate.h,
 * pake_gate_abort). Either way the peer is finished here. True when that
 * was the case. */
static bool auth_cut(cli_peer *p, const char *why)
{
    if (!p->gate_started || p->authenticated || p->auth_failed || p->finished) return false;
    pake_gate_state st = pake_gate_abort(&p->gate, why);
    auth_timer_stop(p);
    if (st == PAKE_GATE_LOST)
        auth_lost(p);
    else
        auth_failed(p);
    return true;
}

static void on_channel(rtc_peer *pc, rtc_channel *ch, void *user)
{
    cli_peer *p = user;
    if (p->ch || strcmp(rtc_channel_label(ch), "peerdrop")) return;
    p->ch = ch;
    p->acceptor = true;
    rtc_channel_set_user(ch, p);
}

static void on_channel_open(rtc_channel *ch, void *user)
{
    cli_peer *p = user;
    if (ch != p->ch || p->s) return;
    const char *path = rtc_peer_path(p->pc);
    double ms = (double)(g_get_monotonic_time() - p->created_us) / 1000.0;
    PD_LOG_DEBUG("data channel open after %.1f ms (%s)", ms, path ? path : "?");
    cli_out_json(p->a, "connected",
                 json_pack("{s:s,s:s,s:i}", "peer", p->sid, "path", path ? path : "unknown", "ms",
                           (json_int_t)(ms + 0.5)));
    session_start(p);
}

static void on_channel_closed(rtc_channel *ch, void *user)
{
    cli_peer *p = user;
    if (ch != p->ch) return;
    if (p->draining) {
        cli_app_finish(p->a, p->a->drain_code);
    } else if (auth_cut(p, "the channel closed before authentication was done")) {
        return; /* auth_failed() finished the peer */
    } else if (p->s && !p->finished) {
        /* mid-transfer (an ended, declined or failed one is finished): the
         * sender offers again with the same transfer id, the receiver waits
         * for it, and the transfer resumes */
        xfer_session_shutdown(p->s);
        cli_say(p->a, "peer closed the connection");
        if (p->a->sending)
            cli_sender_retry_later(p);
        else
            cli_receiver_lost(p);
    }
    cli_peer_finish(p);
}

void cli_peer_lost(cli_peer *p, const char *why)
{
    if (p->finished || p->draining) return;
    if (p->s) {
        xfer_session_shutdown(p->s);
        cli_say(p->a, "%s", why);
        cli_out_json(p->a, "error", json_pack("{s:s,s:s}", "peer", p->sid, "message", why));
        if (p->a->sending)
            cli_sender_retry_later(p);
        else
            cli_receiver_lost(p);
    }
    if (p->ch) rtc_channel_close(p->ch); /* the peer learns it too */
    cli_peer_finish(p);
}

static void on_message(rtc_channel *ch, const uint8_t *data, size_t len, bool binary, void *user)
{
    cli_peer *p = user;
    if (!p->s || p->auth_failed) return;
    if (!p->authenticated) { /* only the PAKE before it is done (gate.h) */
        if (!p->gate_started) return;
        pake_gate_feed(&p->gate, data, len, binary);
        auth_pump(p);
        return;
    }
    if (p->hello_pending) { /* before the message is handled: nothing may precede it */
        p->hello_pending = false;
        xfer_session_open(p->s);
    }
    if (binary)
        xfer_session_feed_binary(p->s, data, len);
    else
        xfer_session_feed_text(p->s, data, len);
    cli_peer_pump(p); /* write events point into `data`: drain them now */
}

static void on_low(rtc_channel *ch, void *user)
{
    cli_peer_pump(user);
}

cli_peer *cli_peer_new(cli_app *a, const char *sid)
{
    cli_peer *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->a = a;
    p->created_us = g_get_monotonic_time();
    snprintf(p->sid, sizeof p->sid, "%s", sid);
    p->src_fd = p->out_fd = -1;
    p->src_id = p->out_id = -1;
    p->last_decile = -1;
    if (!(p->failed = json_array())) {
        free(p);
        return NULL;
    }
    snprintf(p->self_id, sizeof p->self_id, "%s", a->self_id);
    rtc_config cfg = {.context = a->ctx,
                      .ice_servers = a->ice.list,
                      .ice_server_count = a->ice.count,
                      .relay_only = a->relay_only,
                      .user = p,
                      .cb = {on_local_description, on_local_candidate, on_state, on_channel,
                             on_channel_open, on_channel_closed, on_message, on_low}};
    p->pc = rtc_peer_create(&cfg);
    if (!p->pc) {
        json_decref(p->failed);
        free(p);
        return NULL;
    }
    p->next = a->peers;
    a->peers = p;
    return p;
}

int cli_peer_set_remote(cli_peer *p, const char *type, const char *sdp)
{
    if (rtc_peer_set_remote_description(p->pc, type, sdp) < 0) return -1;
    take_fingerprint(p->fp_remote, sdp); /* the peer's: the description applied */
    return 0;
}

/* Sender: the text or the files, once the session (and its lanes) can take them. */
static void sender_start(cli_peer *p)
{
    if (p->a->text)
        cli_sender_text(p);
    else
        cli_sender_offer(p);
}

void cli_peer_lanes_settled(cli_peer *p)
{
    if (!p->lanes_wait || cli_lanes_pending(p) > 0) return;
    lanes_wait_stop(p);
    if (p->finished || !p->s) return;
    sender_start(p);
    cli_peer_pump(p);
}

static gboolean on_lanes_wait(gpointer data)
{
    cli_peer *p = data;
    g_source_unref(p->lanes_wait);
    p->lanes_wait = NULL;
    PD_LOG_DEBUG("%u lane(s) not open after %u ms: sending without them for now",
                 cli_lanes_pending(p), PD_LANE_OFFER_WAIT_MS);
    if (!p->finished && p->s) {
        sender_start(p);
        cli_peer_pump(p);
    }
    return G_SOURCE_REMOVE;
}

static void handle_event(cli_peer *p, const xfer_event *ev)
{
    cli_app *a = p->a;
    switch (ev->type) {
    case XFER_EV_READY:
        PD_LOG_DEBUG("transfer session ready, message size %llu, digests %s",
                     (unsigned long long)ev->msg_size,
                     xfer_session_block_digests(p->s) ? "sha256-blocks (4 MiB)" : "sha256");
        if (ev->peer_name) {
            /* a hostile peer's name: no control or format characters */
            cli_display_strip(ev->peer_name, ev->peer_name_len, p->peer_name, sizeof p->peer_name);
            if (p->peer_name[0]) {
                cli_say(a, "%s %s", a->sending ? "to" : "from", p->peer_name);
                cli_out_json(a, "peer-name",
                             json_pack("{s:s,s:s}", "peer", p->sid, "name", p->peer_name));
            }
        }
        if (ev->lanes > 0) {
            PD_LOG_DEBUG("lanes agreed: %u%s", ev->lanes,
                         xfer_session_lane_resend(p->s) ? ", lane-resend" : "");
            cli_lanes_open(p); /* the sender only: it opened the session */
            if (a->sending) cli_resend_watch_start(p);
        }
        if (a->sending && cli_lanes_pending(p) > 0) {
            p->lanes_wait = g_timeout_source_new(PD_LANE_OFFER_WAIT_MS);
            g_source_set_callback(p->lanes_wait, on_lanes_wait, p, NULL);
            g_source_attach(p->lanes_wait, a->ctx);
        } else if (a->sending) {
            sender_start(p);
        }
        break;
    case XFER_EV_TEXT:
        cli_receiver_text(p, ev);
        break;
    case XFER_EV_TEXT_ACKED:
        cli_sender_text_delivered(p);
        break;
    case XFER_EV_OFFER:
        cli_receiver_offer(p, ev);
        break;
    case XFER_EV_ACCEPTED:
        cli_sender_accepted(p, ev);
        break;
    case XFER_EV_DECLINED:
        cli_say(a, "the receiver declined");
        cli_out_json(a, "declined", json_pack("{s:s}", "peer", p->sid));
        cli_peer_finish(p);
        break;
    case XFER_EV_OPEN:
        cli_receiver_open(p, ev);
        break;
    case XFER_EV_WRITE:
        cli_receiver_write(p, ev);
        break;
    case XFER_EV_CLOSE:
        cli_receiver_close(p, ev);
        break;
    case XFER_EV_PROGRESS: {
        /* per-file bytes: turn into a running total */
        uint64_t sum = 0;
        if (ev->out) {
            /* acked bytes of this file + sizes of the accepted files finished
             * before it: not of every earlier file, since files the receiver
             * left out (held, hidden) are not in total_bytes either */
            sum = p->sent_files_bytes;
        } else if (p->rx.inc) {
            for (uint32_t i = 0; i < ev->file; i++)
                if (!cli_receiver_left_out(a, xfer_incoming_file(p->rx.inc, i)))
                    sum += xfer_incoming_file(p->rx.inc, i)->size;
        }
        p->done_bytes = sum + ev->bytes;
        if (p->done_bytes > p->total_bytes) p->done_bytes = p->total_bytes;
        cli_progress(p, false);
        break;
    }
    case XFER_EV_FILE_DONE: {
        const xfer_file_entry *f =
            ev->out ? &a->entries[ev->file] : xfer_incoming_file(p->rx.inc, ev->file);
        if (ev->out) p->sent_files_bytes += f->size; /* a failed file is done too */
        char b[CLI_SHOWN_CAP], m[CLI_SHOWN_CAP];
        if (ev->ok) {
            cli_say(a, "%s %s", ev->out ? "sent" : "received", cli_shown_path(f, NULL, b));
            if (ev->out) { /* the receiver counts what its transfer holds (receiver.c) */
                p->ok_files++;
                p->ok_bytes += f->size;
            }
        } else {
            json_array_append_new(p->failed, json_pack("{s:s,s:s,s:s}", "name", f->name, "dir",
                                                       f->dir, "code", xfer_code_name(ev->code)));
            if (ev->out && ev->code == XFER_CODE_READ_ERROR) p->read_failed = true;
            cli_say(a, "FAILED %s: %s (%s)", cli_shown_path(f, NULL, b), cli_shown(ev->message, m),
                    xfer_code_name(ev->code));
            if (!a->sending && a->exit_code == EXIT_OK)
                a->exit_code = ev->code == XFER_CODE_WRITE_ERROR ? EXIT_LOCAL : EXIT_TRANSFER;
        }
        cli_out_json(a, "file",
                     json_pack("{s:s,s:s,s:s,s:b,s:s}", "peer", p->sid, "name", f->name, "dir",
                               f->dir, "ok", ev->ok, "code",
                               ev->ok ? "" : xfer_code_name(ev->code)));
        break;
    }
    case XFER_EV_TRANSFER_DONE:
        cli_progress(p, true);
        if (!a->sending) cli_receiver_tally(p);
        /* only verified bytes count; a failed file is named, not counted */
        cli_out_json(a, "done",
                     json_pack("{s:s,s:I,s:I,s:O}", "peer", p->sid, "files",
                               (json_int_t)p->ok_files, "bytes", (json_int_t)p->ok_bytes, "failed",
                               p->failed));
        cli_summary(p);
        if (a->sending) {
            /* this receiver did not get everything: with --count the run
             * fails (docs/peerdrop.1); the first outcome wins, 6 still
             * overrides it (main.c) */
            if (json_array_size(p->failed) > 0 && a->exit_code == EXIT_OK)
                a->exit_code = p->read_failed ? EXIT_LOCAL : EXIT_TRANSFER;
            a->completed++;
            cli_peer_finish(p);
            if (a->count > 0 && a->completed >= a->count) cli_app_finish(a, EXIT_OK);
        } else {
            cli_peer_finish_drained(p, a->exit_code);
        }
        break;
    case XFER_EV_CANCELLED:
    case XFER_EV_TRANSFER_ERROR:
    case XFER_EV_FATAL: {
        const char *what = ev->type == XFER_EV_CANCELLED ? "cancelled" : "error";
        char m[CLI_SHOWN_CAP];
        cli_say(a, "%s%s: %s %s", what, ev->by_peer ? " by peer" : "",
                ev->type == XFER_EV_CANCELLED ? "" : xfer_code_name(ev->code),
                cli_shown(ev->message, m));
        if (!ev->by_peer && ev->code == XFER_CODE_UNSAFE_PATH && !a->allow_dotfiles &&
            ev->message && strstr(ev->message, "hidden name") && !a->json)
            fprintf(stderr, "peerdrop: every offered file has a hidden name (such as .config/ or "
                            ".bashrc): nothing else to receive; --allow-dotfiles receives them\n");
        cli_out_json(a, what,
                     json_pack("{s:s,s:b,s:s,s:s}", "peer", p->sid, "byPeer", ev->by_peer, "code",
                               ev->type == XFER_EV_CANCELLED ? "" : xfer_code_name(ev->code),
                               "message", ev->message ? ev->message : ""));
        int code = ev->type == XFER_EV_CANCELLED       ? EXIT_DECLINED
                   : ev->code == XFER_CODE_UNSAFE_PATH ? EXIT_LOCAL
                                                       : EXIT_TRANSFER;
        if (!a->sending) {
            cli_peer_finish_drained(p, code); /* the peer should hear why */
            break;
        }
        if (ev->type == XFER_EV_FATAL && p->ch) rtc_channel_close(p->ch);
        cli_peer_finish(p);
        break;
    }
    }
}

/* Hands the session's queued messages to the channel. */
static void flush_output(cli_peer *p)
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
void cli_peer_finish_drained(cli_peer *p, int code)
{
    cli_app *a = p->a;
    if (a->quitting || a->drain) return;
    flush_output(p);
    if (!p->ch || !rtc_channel_is_open(p->ch)) {
        cli_app_finish(a, code);
        return;
    }
    a->drain_code = code;
    p->draining = true;
    rtc_channel_close(p->ch);
    a->drain = g_timeout_source_new(DRAIN_TIMEOUT_MS);
    g_source_set_callback(a->drain, on_drain_timeout, a, NULL);
    g_source_attach(a->drain, a->ctx);
}

static gboolean on_backlog_poll(gpointer data)
{
    cli_peer *p = data;
    g_source_unref(p->backlog_poll);
    p->backlog_poll = NULL;
    cli_peer_pump(p);
    return G_SOURCE_REMOVE;
}

void cli_peer_pump(cli_peer *p)
{
    if (!p->s) return;
    for (int guard = 0; guard < 100000; guard++) {
        bool busy = false;
        const uint8_t *d;
        size_t len;
        bool bin;
        while (xfer_session_next_output(p->s, &d, &len, &bin)) {
            busy = true;
            /* DATA on the least buffered channel (not a stalled lane,
             * §5.11), control on the session's (§5.10) */
            unsigned k = 0;
            rtc_channel *ch = bin ? cli_lanes_pick(p, UINT_MAX, &k) : p->ch;
            if (ch && rtc_channel_send(ch, d, len, bin) < 0)
                PD_LOG_WARN("data channel refused a %zu-byte message", len);
            else if (ch != p->ch)
                p->lane_bytes += len;
            /* kept until acknowledged, to send again if its lane stalls */
            if (bin && ch) cli_resend_sent(p, k, d, len, false);
        }
        xfer_event ev;
        while (xfer_session_next_event(p->s, &ev)) {
            busy = true;
            handle_event(p, &ev);
        }
        if (!p->s) return;
        cli_resend_release(p); /* after the acks among those events */
        /* the watermarks are per channel: read while one has room */
        if (p->a->sending && p->ch && cli_lanes_min_buffered(p) < SEND_HIGH_WATER) {
            bool lanes = cli_lanes_open_count(p) > 0;
            if (lanes && cli_lanes_min_backlog(p) >= LANE_BACKLOG_MAX) {
                if (!p->backlog_poll && !p->finished) {
                    p->backlog_poll = g_timeout_source_new(LANE_BACKLOG_POLL_MS);
                    g_source_set_callback(p->backlog_poll, on_backlog_poll, p, NULL);
                    g_source_attach(p->backlog_poll, p->a->ctx);
                }
            } else {
                xfer_read r;
                if (xfer_session_next_read(p->s, &r)) {
                    busy = true;
                    cli_sender_read(p, &r);
                }
            }
        }
        if (!busy) return;
    }
}
