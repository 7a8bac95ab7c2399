/* lane.c: see lane.h. */
#include "cli/lane.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "base/log.h"
#include "cli/output.h"
#include "cli/peer.h"
#include "cli/resend.h"

struct cli_lane {
    cli_peer *p; /* the session's connection */
    unsigned k;  /* 1..PD_MAX_LANES */
    rtc_peer *pc;
    rtc_channel *ch;
    bool open;         /* its channel opened: it is one of the session's channels */
    bool dead;         /* refused or given up: its slot stays taken (one lane k) */
    bool answered;     /* sender: its answer was applied */
    GSource *deadline; /* PD_LANE_OPEN_TIMEOUT_MS after its offer */
    GSource *reaper;   /* frees its connection outside its callbacks */
};

static void lane_send(cli_lane *l, const char *event, json_t *payload)
{
    json_object_set_new(payload, "targetSocketId", json_string(l->p->sid));
    json_object_set_new(payload, "lane", json_integer(l->k));
    PD_LOG_DEBUG("lane %u: %s to the peer", l->k, event);
    if (cli_signal_emit(l->p->a->sig, event, payload, NULL, NULL) < 0)
        PD_LOG_WARN("cannot relay a lane's %s: not connected to the server", event);
    json_decref(payload);
}

static void timer_stop(GSource **t)
{
    if (!*t) return;
    g_source_destroy(*t);
    g_source_unref(*t);
    *t = NULL;
}

/* Its connection goes from an idle source, never inside its callbacks
 * (STYLE §4). */
static gboolean reap_lane(gpointer data)
{
    cli_lane *l = data;
    g_source_unref(l->reaper);
    l->reaper = NULL;
    rtc_peer_destroy(l->pc);
    l->pc = NULL;
    l->ch = NULL;
    return G_SOURCE_REMOVE;
}

/* Refused or given up: closed, nothing more sent on it; the session goes
 * on without it. `why` names no SDP. */
static void lane_drop(cli_lane *l, const char *why)
{
    if (l->dead) return;
    cli_app *a = l->p->a;
    char b[CLI_SHOWN_CAP];
    l->dead = true;
    timer_stop(&l->deadline);
    PD_LOG_INFO("lane %u with %s not used: %s", l->k, cli_shown(l->p->sid, b), why);
    cli_out_json(
        a, "lane-refused",
        json_pack("{s:s,s:i,s:s}", "peer", l->p->sid, "lane", (json_int_t)l->k, "reason", why));
    if (l->pc && !l->reaper) {
        l->reaper = g_idle_source_new();
        g_source_set_callback(l->reaper, reap_lane, l, NULL);
        g_source_attach(l->reaper, a->ctx);
    }
    cli_peer_lanes_settled(l->p);
}

/* An open lane failed or closed. Under lane-resend (§5.11) the session
 * goes on: the receiver keeps what it held from the lane, the sender sends
 * what the lane kept again on the other channels. Otherwise its DATA may
 * be lost, so the session ends like a dropped connection and resumes on a
 * new one (§5.10). */
static void lane_lost(cli_lane *l, const char *why)
{
    cli_peer *p = l->p;
    if (l->dead || p->finished || p->draining) return;
    l->dead = true;
    timer_stop(&l->deadline);
    char b[CLI_SHOWN_CAP];
    PD_LOG_INFO("lane %u with %s lost: %s", l->k, cli_shown(p->sid, b), why);
    if (!p->s || !xfer_session_lane_closed(p->s, l->k)) {
        cli_peer_lost(p, "a lane of the connection was lost");
        return;
    }
    if (l->pc && !l->reaper) {
        l->reaper = g_idle_source_new();
        g_source_set_callback(l->reaper, reap_lane, l, NULL);
        g_source_attach(l->reaper, p->a->ctx);
    }
    cli_resend_lane_lost(p, l->k);
    cli_out_json(p->a, "lanes",
                 json_pack("{s:s,s:i,s:i}", "peer", p->sid, "open",
                           (json_int_t)cli_lanes_open_count(p), "agreed",
                           (json_int_t)xfer_session_lanes(p->s)));
    cli_peer_pump(p);
}

static void on_local_description(rtc_peer *pc, const char *type, const char *sdp, void *user)
{
    cli_lane *l = user;
    if (l->dead) return;
    char fp[PAKE_FP_MAX];
    if (pake_fingerprint_from_sdp(fp, sdp, strlen(sdp)) < 0 || strcmp(fp, l->p->fp_local) != 0)
        return lane_drop(l, "its local fingerprint is not the session's");
    lane_send(l, type, json_pack("{s:s}", "sdp", sdp));
}

static void on_local_candidate(rtc_peer *pc, const char *cand, const char *mid, void *user)
{
    cli_lane *l = user;
    if (l->dead) return;
    json_t *c = cand ? json_pack("{s:s,s:s,s:i}", "candidate", cand, "sdpMid", mid ? mid : "0",
                                 "sdpMLineIndex", 0)
                     : json_null();
    lane_send(l, "ice-candidate", json_pack("{s:o}", "candidate", c));
}

static void on_state(rtc_peer *pc, rtc_state st, const char *reason, void *user)
{
    cli_lane *l = user;
    if (st != RTC_STATE_FAILED) return;
    if (l->open)
        lane_lost(l, reason ? reason : "the connection failed");
    else
        lane_drop(l, "its connection failed");
}

static void on_channel(rtc_peer *pc, rtc_channel *ch, void *user)
{
    cli_lane *l = user;
    if (l->ch || l->dead || strcmp(rtc_channel_label(ch), "peerdrop-lane")) return;
    l->ch = ch;
    rtc_channel_set_user(ch, l);
}

static void on_channel_open(rtc_channel *ch, void *user)
{
    cli_lane *l = user;
    cli_peer *p = l->p;
    if (ch != l->ch || l->dead || l->open || !p->s) return;
    l->open = true;
    timer_stop(&l->deadline);
    rtc_channel_set_buffered_amount_low_threshold(ch, SEND_LOW_WATER);
    xfer_session_lane_opened(p->s, l->k);
    unsigned n = cli_lanes_open_count(p);
    PD_LOG_DEBUG("lane %u open (%u of %u)", l->k, n, xfer_session_lanes(p->s));
    cli_out_json(p->a, "lanes",
                 json_pack("{s:s,s:i,s:i}", "peer", p->sid, "open", (json_int_t)n, "agreed",
                           (json_int_t)xfer_session_lanes(p->s)));
    cli_peer_lanes_settled(p);
    cli_peer_pump(p);
}

static void on_channel_closed(rtc_channel *ch, void *user)
{
    cli_lane *l = user;
    if (ch != l->ch) return;
    if (l->open)
        lane_lost(l, "its channel closed");
    else
        lane_drop(l, "its channel closed before it opened");
}

static void on_message(rtc_channel *ch, const uint8_t *data, size_t len, bool binary, void *user)
{
    cli_lane *l = user;
    cli_peer *p = l->p;
    if (ch != l->ch || l->dead || !p->s || !p->authenticated) return;
    if (binary) {
        p->lane_bytes += len;
        xfer_session_feed_binary_lane(p->s, l->k, data, len);
    } else
        xfer_session_feed_text_lane(p->s, l->k, data, len); /* PROTOCOL (§5.10) */
    cli_peer_pump(p); /* write events point into `data`: drain them now */
}

static void on_low(rtc_channel *ch, void *user)
{
    cli_lane *l = user;
    if (!l->dead) cli_peer_pump(l->p);
}

static gboolean on_deadline(gpointer data)
{
    cli_lane *l = data;
    g_source_unref(l->deadline);
    l->deadline = NULL;
    char why[64];
    snprintf(why, sizeof why, "not open within %u s", PD_LANE_OPEN_TIMEOUT_MS / 1000);
    lane_drop(l, why);
    return G_SOURCE_REMOVE;
}

/* The lanes that share the lanes' starting send buffer: L of the session,
 * at least 1. */
static size_t lanes_sharing(cli_peer *p)
{
    uint32_t n = p->s ? xfer_session_lanes(p->s) : PD_MAX_LANES;
    return n ? n : 1;
}

/* Lane k of p: a new connection with p's certificate, in p's slot k. */
static cli_lane *lane_new(cli_peer *p, unsigned k)
{
    cli_app *a = p->a;
    cli_lane *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    l->p = p;
    l->k = k;
    rtc_config cfg = {.context = a->ctx,
                      .ice_servers = a->ice.list,
                      .ice_server_count = a->ice.count,
                      .relay_only = a->relay_only,
                      .user = l,
                      .connect_timeout_ms = PD_LANE_OPEN_TIMEOUT_MS,
                      .same_certificate = p->pc,
                      /* The session's connection starts with a 1 MiB send
                       * buffer (src/rtc/sctp.c, SCTP_BUFFER), which bounds
                       * its slow start; seven lanes starting with 4 MiB
                       * each overshot a 500 Mbit/s, 100 ms path's queue
                       * (queue drops, timeouts: 28.5 MB/s against 46.3
                       * without lanes, bench/RESULTS.md). The session's L
                       * lanes share one start (each at least two of the
                       * largest messages, sctp.c); each grows with its own
                       * measured rate, as one would. */
                      .initial_send_buffer = RTC_SEND_BUFFER_START / lanes_sharing(p),
                      .cb = {on_local_description, on_local_candidate, on_state, on_channel,
                             on_channel_open, on_channel_closed, on_message, on_low}};
    l->pc = rtc_peer_create(&cfg);
    if (!l->pc) {
        free(l);
        return NULL;
    }
    p->lanes[k] = l;
    l->deadline = g_timeout_source_new(PD_LANE_OPEN_TIMEOUT_MS);
    g_source_set_callback(l->deadline, on_deadline, l, NULL);
    g_source_attach(l->deadline, a->ctx);
    return l;
}

void cli_lanes_open(cli_peer *p)
{
    if (p->acceptor || !p->s) return; /* only the session's offerer opens lanes */
    uint32_t n = xfer_session_lanes(p->s);
    for (unsigned k = 1; k <= n && k <= PD_MAX_LANES; k++) {
        if (p->lanes[k]) continue;
        cli_lane *l = lane_new(p, k);
        if (!l) {
            PD_LOG_WARN("cannot create lane %u", k);
            return;
        }
        l->ch = rtc_channel_create(l->pc, "peerdrop-lane", false);
        if (l->ch) rtc_channel_set_user(l->ch, l);
        if (!l->ch || rtc_peer_create_offer(l->pc) < 0) lane_drop(l, "cannot create its offer");
    }
}

/* The canonical fingerprint of an SDP equals `want` (a confirmed one). */
static bool fingerprint_is(const char *sdp, const char *want)
{
    char fp[PAKE_FP_MAX];
    return want[0] && pake_fingerprint_from_sdp(fp, sdp, strlen(sdp)) > 0 && !strcmp(fp, want);
}

void cli_lane_offer(cli_peer *p, unsigned k, const char *sdp)
{
    char b[CLI_SHOWN_CAP];
    const char *why = NULL;
    if (!p || !p->s || !p->authenticated || p->finished || !p->acceptor)
        why = "no authenticated session with that member";
    else if (!xfer_session_ready(p->s) || k < 1 || k > xfer_session_lanes(p->s))
        why = "not a lane the session agreed";
    else if (p->lanes[k])
        why = "the session has that lane already";
    else if (!fingerprint_is(sdp, p->fp_remote))
        why = "its fingerprint is not the session's";
    if (why) {
        const char *sid = p ? p->sid : "?";
        PD_LOG_INFO("refused lane %u from %s: %s", k, cli_shown(sid, b), why);
        if (p)
            cli_out_json(
                p->a, "lane-refused",
                json_pack("{s:s,s:i,s:s}", "peer", sid, "lane", (json_int_t)k, "reason", why));
        return;
    }
    cli_lane *l = lane_new(p, k);
    if (!l) {
        PD_LOG_WARN("cannot create lane %u", k);
        return;
    }
    /* the answer comes out of on_local_description, checked there */
    if (rtc_peer_set_remote_description(l->pc, "offer", sdp) < 0)
        lane_drop(l, "an offer we cannot use");
}

void cli_lane_answer(cli_peer *p, unsigned k, const char *sdp)
{
    cli_lane *l = p && k >= 1 && k <= PD_MAX_LANES ? p->lanes[k] : NULL;
    if (!l || l->dead || l->answered || p->acceptor) return;
    l->answered = true;
    if (!fingerprint_is(sdp, p->fp_remote))
        return lane_drop(l, "its fingerprint is not the session's");
    if (rtc_peer_set_remote_description(l->pc, "answer", sdp) < 0)
        lane_drop(l, "an answer we cannot use");
}

void cli_lane_candidate(cli_peer *p, unsigned k, const char *cand, const char *mid)
{
    cli_lane *l = p && k >= 1 && k <= PD_MAX_LANES ? p->lanes[k] : NULL;
    if (!l || l->dead || !l->pc) return;
    rtc_peer_add_remote_candidate(l->pc, cand, mid);
}

static bool usable(const cli_lane *l)
{
    return l && l->open && !l->dead && l->ch && rtc_channel_is_open(l->ch);
}

/* The open channel (the session's or a lane's, not `exclude` nor a
 * stalled lane, §5.11) with the least of what `measure` reads, that amount
 * and its number in *k (SIZE_MAX and NULL: none). */
static rtc_channel *least_of_but(cli_peer *p, size_t (*measure)(const rtc_channel *), size_t *least,
                                 unsigned exclude, unsigned *k_out)
{
    bool main_ok = p->ch && exclude != 0;
    rtc_channel *best = main_ok ? p->ch : NULL;
    *least = main_ok ? measure(p->ch) : SIZE_MAX;
    *k_out = 0;
    for (unsigned k = 1; k <= PD_MAX_LANES; k++) {
        const cli_lane *l = p->lanes[k];
        if (!usable(l) || k == exclude || cli_resend_stalled(p, k)) continue;
        size_t n = measure(l->ch);
        if (n < *least || !best) {
            *least = n;
            best = l->ch;
            *k_out = k;
        }
    }
    return best;
}

static rtc_channel *least_of(cli_peer *p, size_t (*measure)(const rtc_channel *), size_t *least)
{
    unsigned k;
    return least_of_but(p, measure, least, UINT_MAX, &k);
}

rtc_channel *cli_lanes_pick(cli_peer *p, unsigned exclude, unsigned *k)
{
    size_t least;
    return least_of_but(p, rtc_channel_backlog, &least, exclude, k);
}

rtc_channel *cli_lanes_channel(cli_peer *p, unsigned k)
{
    if (k == 0) return p->ch && rtc_channel_is_open(p->ch) ? p->ch : NULL;
    return k <= PD_MAX_LANES && usable(p->lanes[k]) ? p->lanes[k]->ch : NULL;
}

size_t cli_lanes_min_backlog(cli_peer *p)
{
    size_t least;
    least_of(p, rtc_channel_backlog, &least);
    return least;
}

size_t cli_lanes_min_buffered(cli_peer *p)
{
    size_t least;
    least_of(p, rtc_channel_buffered_amount, &least);
    return least;
}

unsigned cli_lanes_pending(const cli_peer *p)
{
    unsigned n = 0;
    for (unsigned k = 1; k <= PD_MAX_LANES; k++)
        n += p->lanes[k] && !p->lanes[k]->open && !p->lanes[k]->dead;
    return n;
}

unsigned cli_lanes_open_count(const cli_peer *p)
{
    unsigned n = 0;
    for (unsigned k = 1; k <= PD_MAX_LANES; k++)
        n += p->lanes[k] && p->lanes[k]->open && !p->lanes[k]->dead;
    return n;
}

void cli_lanes_close(cli_peer *p)
{
    for (unsigned k = 1; k <= PD_MAX_LANES; k++) {
        cli_lane *l = p->lanes[k];
        if (!l) continue;
        timer_stop(&l->deadline);
        timer_stop(&l->reaper);
        rtc_peer_destroy(l->pc);
        free(l);
        p->lanes[k] = NULL;
    }
}
