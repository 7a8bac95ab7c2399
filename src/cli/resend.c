/* resend.c: see resend.h. */
#include "cli/resend.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "cli/lane.h"
#include "cli/output.h"
#include "cli/peer.h"

bool cli_resend_on(const cli_peer *p)
{
    return p->s && xfer_session_lane_resend(p->s);
}

bool cli_resend_stalled(const cli_peer *p, unsigned k)
{
    return k <= PD_MAX_LANES && p->watch[k].stalled;
}

void cli_resend_sent(cli_peer *p, unsigned k, const uint8_t *d, size_t len, bool copy)
{
    if (k > PD_MAX_LANES || !cli_resend_on(p)) return;
    cli_channel_watch *w = &p->watch[k];
    w->added += len;
    cli_kept *e = malloc(sizeof *e + len);
    if (!e) {
        /* not kept: if its lane is lost the receiver waits for it, and the
         * session ends when its channel does (as without lane-resend) */
        PD_LOG_WARN("out of memory: a sent message is not kept to send again");
        return;
    }
    e->next = NULL;
    e->copy = copy;
    e->resent = false;
    e->len = len;
    memcpy(e->d, d, len);
    if (w->tail)
        w->tail->next = e;
    else
        w->head = e;
    w->tail = e;
    w->kept_bytes += len;
}

static void pop_head(cli_channel_watch *w)
{
    cli_kept *e = w->head;
    w->head = e->next;
    if (!w->head) w->tail = NULL;
    w->kept_bytes -= e->len;
    free(e);
}

void cli_resend_release(cli_peer *p)
{
    if (!p->s) return;
    /* each channel's messages go in (file, offset) order and acks cover
     * prefixes, so the head is the first one still needed: O(1) amortised */
    for (unsigned k = 0; k <= PD_MAX_LANES; k++) {
        cli_channel_watch *w = &p->watch[k];
        while (w->head && xfer_session_data_done(p->s, w->head->d, w->head->len))
            pop_head(w);
    }
}

/* Sends what lane k keeps again, in order, on the other channels (least
 * backlog first): first copies only when it stalled (never a third live
 * copy), every one not sent again yet when it is lost. Returns how many. */
static unsigned send_again(cli_peer *p, unsigned k, bool lost)
{
    unsigned n = 0;
    uint64_t bytes = 0;
    for (cli_kept *e = p->watch[k].head; e; e = e->next) {
        if (e->resent || (e->copy && !lost) || xfer_session_data_done(p->s, e->d, e->len)) continue;
        unsigned to;
        rtc_channel *ch = cli_lanes_pick(p, k, &to);
        if (!ch) break; /* no other channel: the session ends with its own */
        if (rtc_channel_send(ch, e->d, e->len, true) < 0) {
            PD_LOG_WARN("data channel refused a %zu-byte message", e->len);
            break;
        }
        if (to != 0) p->lane_bytes += e->len;
        e->resent = true;
        cli_resend_sent(p, to, e->d, e->len, true);
        n++;
        bytes += e->len;
    }
    p->resent_msgs += n;
    p->resent_bytes += bytes;
    if (n)
        PD_LOG_INFO("lane %u %s: %u message(s), %llu bytes sent again on the other channels", k,
                    lost ? "lost" : "stalled", n, (unsigned long long)bytes);
    return n;
}

void cli_resend_lane_lost(cli_peer *p, unsigned k)
{
    if (k == 0 || k > PD_MAX_LANES || !cli_resend_on(p)) return;
    send_again(p, k, true);
    cli_channel_watch *w = &p->watch[k];
    while (w->head)
        pop_head(w); /* sent again, or no longer needed */
    w->stalled = false;
}

/* §5.11: a lane with DATA waiting that sent none of it for
 * PD_LANE_STALL_MS, while another channel sent some since or had nothing
 * waiting, has stalled. "Nothing waiting" counts too: once the lane holds
 * the receiver's oldest message the peer's window fills and the other
 * channels go idle, and an association in timeout back-off shows its
 * backlog only after its first retransmission timeout (its cwnd falls to
 * one packet, rtc_sctp_queued), by when they may have been idle for a
 * while. When every channel has data waiting and none moves, the path is
 * down and nothing is sent again. */
static gboolean on_stall_poll(gpointer data)
{
    cli_peer *p = data;
    if (!cli_resend_on(p) || p->finished) return G_SOURCE_CONTINUE;
    int64_t now = g_get_monotonic_time();
    size_t backlog[PD_MAX_LANES + 1] = {0};
    bool open[PD_MAX_LANES + 1] = {false};
    for (unsigned k = 0; k <= PD_MAX_LANES; k++) {
        rtc_channel *ch = cli_lanes_channel(p, k);
        cli_channel_watch *w = &p->watch[k];
        if (!ch) continue;
        open[k] = true;
        size_t b = backlog[k] = rtc_channel_backlog(ch);
        bool sent = w->prev_backlog + w->added > b;
        if (sent) w->last_sent_us = now;
        if (sent || b == 0 || !w->last_ok_us) w->last_ok_us = now;
        w->prev_backlog = b;
        w->added = 0;
        if (w->stalled && b == 0) {
            w->stalled = false;
            PD_LOG_INFO("lane %u moves again", k);
        }
    }
    const int64_t stall_us = (int64_t)PD_LANE_STALL_MS * 1000;
    bool again = false;
    for (unsigned k = 1; k <= PD_MAX_LANES; k++) {
        cli_channel_watch *w = &p->watch[k];
        if (!open[k] || w->stalled || backlog[k] == 0 || now - w->last_ok_us < stall_us) continue;
        bool other = false;
        for (unsigned j = 0; j <= PD_MAX_LANES && !other; j++)
            other =
                j != k && open[j] && (p->watch[j].last_sent_us > w->last_ok_us || backlog[j] == 0);
        if (!other) continue;
        w->stalled = true;
        if (send_again(p, k, false) == 0) PD_LOG_INFO("lane %u stalled: nothing to send again", k);
        again = true;
    }
    if (again) cli_peer_pump(p);
    return G_SOURCE_CONTINUE;
}

void cli_resend_watch_start(cli_peer *p)
{
    if (p->stall_poll || !cli_resend_on(p)) return;
    p->stall_poll = g_timeout_source_new(PD_LANE_STALL_POLL_MS);
    g_source_set_callback(p->stall_poll, on_stall_poll, p, NULL);
    g_source_attach(p->stall_poll, p->a->ctx);
}

void cli_resend_free(cli_peer *p)
{
    if (p->stall_poll) {
        g_source_destroy(p->stall_poll);
        g_source_unref(p->stall_poll);
        p->stall_poll = NULL;
    }
    for (unsigned k = 0; k <= PD_MAX_LANES; k++)
        while (p->watch[k].head)
            pop_head(&p->watch[k]);
}
