/* sctp.c: see sctp.h. Socket options and sysctls follow libdatachannel's
 * sctptransport.cpp and the measurements in notes/webrtc-native-peer.md. */
#include "sctp.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <usrsctp.h>

#include "../base/limits.h"
#include "../base/log.h"
#include "rtc.h"

/* usrsctp timers have 10 ms granularity in practice; a faster tick only
 * burns CPU, a slower one delays SACKs and retransmissions. */
#define SCTP_TICK_MS 10
/* A tick this late means the loop was held up (on_tick). */
#define SCTP_STALL_MS 20
/* Per-socket buffers at the start. SO_SNDBUF must exceed the largest
 * message or its send never succeeds (libdatachannel); 1 MiB was ldc's
 * choice against Mozilla bug 1051685. From there the send buffer grows
 * with the measured bandwidth-delay product, and the receive buffer is
 * larger from the start (tune_send_buffer). 4 MiB, which we had, let the
 * session's connection queue seconds of data under random loss, which the
 * receiver's merge of the lanes then waited for (§5.10): 50 ms, 100
 * Mbit/s, 0.5 % loss, 7 lanes 1.4 MB/s with 4 MiB, 3.8 with 1 MiB; and
 * it overshot a 100 Mbit/s bottleneck's queue at the start (20 % of the
 * packets dropped). 1 MiB cost nothing elsewhere: 100 ms / 500 Mbit/s
 * 48.9 MB/s (99 % of TCP), 20 ms 48.5 against 41.4, loopback 210.5
 * against 208.2 (bench/RESULTS.md, 2026-12-06 09:06-09:15 UTC). */
#define SCTP_BUFFER ((int)RTC_SEND_BUFFER_START)
/* The smallest retransmission timeout. libdatachannel's 200 ms left one
 * round trip of slack at 100 ms RTT: a sender or receiver that stalls for
 * ~100 ms on a busy machine (its SACKs wait unread while the timer runs)
 * fired a spurious T3 timeout with nothing lost, and cwnd fell from 5.7 MB
 * to one packet, then crawled back from half (traced at 100 ms, 500 Mbit/s:
 * 0 link drops, 24 MB/s where TCP gets 42). bench/RESULTS.md (issue 16),
 * 100 ms, 500 Mbit/s, 3 rounds each, same invocation: 200 ms 23.2 MB/s,
 * 400 ms 26.3, 600 ms 29.2, 1000 ms 29.3 (TCP cubic 32.5, loaded machine);
 * on a quieter one 26.4 / 38.5 / - / 38.9. 600 ms leaves half a second
 * for a stall; RFC 9260 §6.3.1 recommends 1 s. A real loss is still
 * repaired by fast retransmit within a round trip; only a loss that no
 * later SACK reveals (a tail) waits the timeout, as with TCP's RTO. */
#define SCTP_RTO_MIN_MS 600
/* RFC 8261 §5 / notes §3: 1280 - 12 (SCTP) - 48 (DTLS) - 8 (UDP) - 40 (IPv6),
 * no PMTU discovery (usrsctp#205). */
#define SCTP_PATH_MTU 1200
/* Streams per direction: Chromium and libdatachannel use 1024 (usrsctp#121
 * sizes its stream arrays from this). */
#define SCTP_STREAMS 1024
#define SCTP_RECV_CHUNK 65536

typedef struct out_msg {
    uint16_t sid;
    bool unordered, reset; /* reset: a stream-reset marker, no payload */
    uint32_t ppid;
    size_t len;
    uint8_t data[];
} out_msg;

struct rtc_sctp {
    struct socket *sock;
    rtc_sctp_callbacks cb;
    void *user;
    uint16_t local_port, remote_port;
    size_t max_message;
    bool connected, closed;
    bool pending;    /* the upcall fired: there is work to do */
    bool processing; /* process() is on the stack */
    GQueue out;      /* out_msg*, FIFO across streams keeps close after data */
    /* reassembly of one incoming message (or notification) */
    uint8_t *msg;
    size_t msg_len, msg_cap;
    bool msg_drop; /* current message exceeded max_message: skip to EOR */
    uint8_t *rbuf;
    /* send buffer sized from the bandwidth-delay product (tune_send_buffer) */
    int snd_buf;
    uint32_t min_rtt_ms;
    gint64 tune_at_us;   /* start of the current interval */
    uint64_t sent_total; /* payload bytes given to usrsctp */
    uint64_t acked_at;   /* bytes acknowledged at tune_at_us */
    double max_ack_rate; /* bytes per second, best interval */
};

/* ---- process-wide usrsctp state (one thread by contract) ---- */

static struct {
    int refs;
    GMainContext *ctx;
    GSource *tick;
    GSource *late; /* timers deferred after a stall (on_tick), or NULL */
    gint64 last_tick_us;
    GList *live; /* rtc_sctp*: conn_output may name a closed one (usrsctp#405) */
} g;

static void process(rtc_sctp *s);
static void tune_send_buffer(rtc_sctp *s);

/* CRC32c (RFC 4960 App. B). usrsctp's table version cost 5% of the
 * loopback profile; the SSE4.2 instruction computes the same polynomial
 * at a few bytes per cycle. The result is in host order, as
 * usrsctp_crc32c's is, which on little-endian hosts is the wire order. */
#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(const uint8_t *p, size_t len)
{
    uint64_t crc = 0xffffffffu;
    for (; len >= 8; p += 8, len -= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        crc = __builtin_ia32_crc32di(crc, v);
    }
    uint32_t c = (uint32_t)crc;
    for (; len; p++, len--)
        c = __builtin_ia32_crc32qi(c, *p);
    return ~c;
}
#endif

static uint32_t crc32c(void *p, size_t len)
{
#if defined(__x86_64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    static int hw = -1;
    if (hw < 0) hw = __builtin_cpu_supports("sse4.2") ? 1 : 0;
    if (hw) return crc32c_hw(p, len);
#endif
    return usrsctp_crc32c(p, len);
}

static int conn_output(void *addr, void *buf, size_t len, uint8_t tos, uint8_t set_df)
{
    rtc_sctp *s = addr;
    if (!g_list_find(g.live, s)) return 0;
    /* crc32c offload is on, so usrsctp leaves the checksum to us; dcSCTP
     * checks it (0.9.5.0 knows no zero-checksum), so it must be right. */
    if (len >= 12) {
        uint8_t *p = buf;
        memset(p + 8, 0, 4);
        uint32_t crc = crc32c(p, len);
        memcpy(p + 8, &crc, 4); /* usrsctp returns it in wire order */
    }
    s->cb.send(s->user, buf, len);
    return 0;
}

static void debug_printf(const char *fmt, ...)
{
    (void)fmt;
}

/* Runs usrsctp's timers for the time since they last ran, then lets every
 * association act on what they queued. */
static void run_timers(void)
{
    gint64 now = g_get_monotonic_time();
    uint32_t elapsed = (uint32_t)((now - g.last_tick_us) / 1000);
    if (elapsed == 0) return;
    g.last_tick_us += (gint64)elapsed * 1000;
    usrsctp_handle_timers(elapsed);
    /* timers may have queued upcalls (retransmissions freed buffer space) */
    for (GList *l = g.live; l;) {
        GList *next = l->next; /* process() may not free, but be safe */
        tune_send_buffer(l->data);
        process(l->data);
        l = next;
    }
}

static gboolean on_late_timers(gpointer data)
{
    (void)data;
    GSource *self = g.late;
    g.late = NULL;
    run_timers();
    g_source_unref(self); /* ours; the loop drops its own on G_SOURCE_REMOVE */
    return G_SOURCE_REMOVE;
}

static gboolean on_tick(gpointer data)
{
    (void)data;
    gint64 late_ms = (g_get_monotonic_time() - g.last_tick_us) / 1000 - SCTP_TICK_MS;
    if (g.late) { /* deferred one tick already: the loop stayed busy, run them now */
        g_source_destroy(g.late);
        g_source_unref(g.late);
        g.late = NULL;
    } else if (late_ms >= SCTP_STALL_MS) {
        /* The loop was held up (another callback ran long, or the process
         * got no core). Packets that arrived meanwhile, SACKs among them,
         * wait in the sockets and are dispatched in this same iteration,
         * possibly after us: timers run first would time out chunks whose
         * SACK sits unread (a spurious T3: cwnd to one packet, nothing
         * lost). Run them once the waiting input is handled: a source of
         * lower priority runs when none of the default's is ready, and the
         * next tick runs them anyway if that takes longer. */
        g.late = g_idle_source_new();
        g_source_set_priority(g.late, G_PRIORITY_LOW);
        g_source_set_callback(g.late, on_late_timers, NULL, NULL);
        g_source_attach(g.late, g.ctx);
        return G_SOURCE_CONTINUE;
    }
    run_timers();
    return G_SOURCE_CONTINUE;
}

static bool global_ref(GMainContext *ctx)
{
    if (g.refs > 0) {
        if (ctx != g.ctx) {
            PD_LOG_ERROR("sctp: all peers of a process must share one GMainContext");
            return false;
        }
        g.refs++;
        return true;
    }
    usrsctp_init_nothreads(0, conn_output, debug_printf);
    usrsctp_enable_crc32c_offload();
    /* libdatachannel's tuning (notes §3) */
    usrsctp_sysctl_set_sctp_ecn_enable(0);
    usrsctp_sysctl_set_sctp_pr_enable(1);
    usrsctp_sysctl_set_sctp_sendspace(SCTP_BUFFER);
    usrsctp_sysctl_set_sctp_recvspace(PD_SCTP_BUFFER_MAX);
    usrsctp_sysctl_set_sctp_max_chunks_on_queue(10 * 1024);
    usrsctp_sysctl_set_sctp_initial_cwnd(10);
    usrsctp_sysctl_set_sctp_max_burst_default(10);
    usrsctp_sysctl_set_sctp_default_cc_module(0);
    usrsctp_sysctl_set_sctp_delayed_sack_time_default(20);
    usrsctp_sysctl_set_sctp_rto_min_default(SCTP_RTO_MIN_MS);
    usrsctp_sysctl_set_sctp_rto_initial_default(1000);
    usrsctp_sysctl_set_sctp_rto_max_default(10000);
    usrsctp_sysctl_set_sctp_init_rto_max_default(10000);
    usrsctp_sysctl_set_sctp_assoc_rtx_max_default(5);
    usrsctp_sysctl_set_sctp_path_rtx_max_default(5);
    usrsctp_sysctl_set_sctp_heartbeat_interval_default(10000);
    g.refs = 1;
    g.ctx = g_main_context_ref(ctx);
    g.last_tick_us = g_get_monotonic_time();
    g.tick = g_timeout_source_new(SCTP_TICK_MS);
    g_source_set_callback(g.tick, on_tick, NULL, NULL);
    g_source_attach(g.tick, ctx);
    return true;
}

static void global_unref(void)
{
    if (--g.refs > 0) return;
    {
        struct sctpstat st;
        usrsctp_get_stat(&st);
        PD_LOG_DEBUG("sctp: retransmitted %u chunks (%u fast), %u T3 timeouts",
                     st.sctps_sendretransdata, st.sctps_sendfastretrans, st.sctps_timodata);
    }
    g_source_destroy(g.tick);
    g_source_unref(g.tick);
    g.tick = NULL;
    if (g.late) {
        g_source_destroy(g.late);
        g_source_unref(g.late);
        g.late = NULL;
    }
    /* usrsctp_finish fails while sockets linger; with SO_LINGER 0 they go
     * at once, but give timers a few rounds anyway (notes §5). */
    for (int i = 0; i < 100 && usrsctp_finish() != 0; i++) {
        usrsctp_handle_timers(100);
        g_usleep(1000);
    }
    g_main_context_unref(g.ctx);
    g.ctx = NULL;
}

/* ---- notifications ---- */

static void set_closed(rtc_sctp *s, const char *reason)
{
    if (s->closed) return;
    s->closed = true;
    s->cb.on_closed(s->user, reason);
}

static void handle_notification(rtc_sctp *s, const uint8_t *buf, size_t len)
{
    union sctp_notification n;
    if (len < sizeof n.sn_header) return;
    memcpy(&n, buf, len < sizeof n ? len : sizeof n);
    switch (n.sn_header.sn_type) {
    case SCTP_ASSOC_CHANGE:
        if (len < sizeof n.sn_assoc_change) return;
        PD_LOG_DEBUG("sctp: association change %u (streams in %u, out %u)",
                     (unsigned)n.sn_assoc_change.sac_state,
                     (unsigned)n.sn_assoc_change.sac_inbound_streams,
                     (unsigned)n.sn_assoc_change.sac_outbound_streams);
        if (n.sn_assoc_change.sac_state == SCTP_COMM_UP) {
            if (!s->connected) {
                s->connected = true;
                s->cb.on_connected(s->user);
            }
        } else if (n.sn_assoc_change.sac_state == SCTP_COMM_LOST ||
                   n.sn_assoc_change.sac_state == SCTP_SHUTDOWN_COMP ||
                   n.sn_assoc_change.sac_state == SCTP_CANT_STR_ASSOC) {
            set_closed(s, "SCTP association closed");
        }
        break;
    case SCTP_STREAM_RESET_EVENT: {
        struct sctp_stream_reset_event ev;
        if (len < sizeof ev) return;
        memcpy(&ev, buf, sizeof ev);
        PD_LOG_DEBUG("sctp: stream reset event, flags 0x%x", (unsigned)ev.strreset_flags);
        if (ev.strreset_flags & (SCTP_STREAM_RESET_DENIED | SCTP_STREAM_RESET_FAILED)) break;
        if (!(ev.strreset_flags & SCTP_STREAM_RESET_INCOMING_SSN)) break;
        size_t n_sids = (ev.strreset_length < sizeof ev ? 0 : ev.strreset_length - sizeof ev) / 2;
        if (sizeof ev + n_sids * 2 > len) n_sids = (len - sizeof ev) / 2;
        for (size_t i = 0; i < n_sids && !s->closed; i++) {
            uint16_t sid;
            memcpy(&sid, buf + sizeof ev + i * 2, 2);
            s->cb.on_stream_reset(s->user, sid);
        }
        break;
    }
    default:
        break;
    }
}

/* ---- receive ---- */

static bool msg_append(rtc_sctp *s, const uint8_t *p, size_t n)
{
    if (s->msg_len + n > s->max_message) return false;
    if (s->msg_len + n > s->msg_cap) {
        size_t cap = s->msg_cap ? s->msg_cap : 65536;
        while (cap < s->msg_len + n)
            cap *= 2;
        if (cap > s->max_message) cap = s->max_message;
        uint8_t *m = g_try_realloc(s->msg, cap);
        if (!m) return false;
        s->msg = m;
        s->msg_cap = cap;
    }
    memcpy(s->msg + s->msg_len, p, n);
    s->msg_len += n;
    return true;
}

static void recv_all(rtc_sctp *s)
{
    while (!s->closed) {
        struct sockaddr_conn from;
        socklen_t from_len = sizeof from;
        struct sctp_rcvinfo info;
        socklen_t info_len = sizeof info;
        unsigned int info_type = 0;
        int flags = 0;
        ssize_t n = usrsctp_recvv(s->sock, s->rbuf, SCTP_RECV_CHUNK, (struct sockaddr *)&from,
                                  &from_len, &info, &info_len, &info_type, &flags);
        if (n < 0) {
            if (errno != EWOULDBLOCK && errno != EAGAIN && errno != EINTR && s->connected)
                set_closed(s, "SCTP receive failed");
            return;
        }
        if (n == 0) return;
        bool eor = flags & MSG_EOR;
        if (flags & MSG_NOTIFICATION) {
            /* notifications are small; reassemble them the same way */
            if (!msg_append(s, s->rbuf, (size_t)n)) s->msg_drop = true;
            if (eor) {
                if (!s->msg_drop) handle_notification(s, s->msg, s->msg_len);
                s->msg_len = 0;
                s->msg_drop = false;
            }
            continue;
        }
        uint16_t sid = info_type == SCTP_RECVV_RCVINFO ? info.rcv_sid : 0;
        uint32_t ppid = info_type == SCTP_RECVV_RCVINFO ? ntohl(info.rcv_ppid) : 0;
        if (eor && s->msg_len == 0 && !s->msg_drop) {
            /* the common case: a whole message in one read, no copy */
            s->cb.on_message(s->user, sid, ppid, s->rbuf, (size_t)n);
            continue;
        }
        if (!s->msg_drop && !msg_append(s, s->rbuf, (size_t)n)) {
            PD_LOG_WARN("sctp: dropping a message over %zu bytes on stream %u", s->max_message,
                        (unsigned)sid);
            s->msg_drop = true;
        }
        if (eor) {
            if (!s->msg_drop) s->cb.on_message(s->user, sid, ppid, s->msg, s->msg_len);
            s->msg_len = 0;
            s->msg_drop = false;
            if (s->msg_cap > 4 * 65536) { /* don't keep a big buffer around */
                g_free(s->msg);
                s->msg = NULL;
                s->msg_cap = 0;
            }
        }
    }
}

/* ---- buffer sizing ---- */

/* Measured over bench/wan (bench/RESULTS.md, "WAN"; the note
 * ../../../shared/notes/wan-emulation.md) at 100 ms RTT, 500 Mbit/s:
 *  - the receive buffer is our advertised window, and the peer takes its
 *    initial ssthresh from the window in our INIT (RFC 9260 §7.2.1): with
 *    4 MiB the sender's slow start ends at 4 MiB and congestion avoidance
 *    adds one packet per round trip from there (27.8 MB/s where TCP reaches
 *    42). A full window also halved the sender's cwnd with no loss on the
 *    link (the "collapse"). So the window is PD_SCTP_BUFFER_MAX from the
 *    start; it costs memory only while data sits unread.
 *  - the send buffer bounds the data in flight. 16 MiB from the start let
 *    slow start overshoot the bottleneck's queue (thousands of drops,
 *    21 MB/s), so it starts at SCTP_BUFFER and grows with the measured
 *    bandwidth-delay product, as Linux TCP grows its send buffer with cwnd
 *    (tcp_sndbuf_expand): SCTP_SNDBUF_BDP_FACTOR x (best delivery rate over
 *    an interval x smallest smoothed RTT). While the path is not full the
 *    delivery rate is flight / RTT, so the buffer grows by that factor per
 *    interval; once the bottleneck is full the rate stops rising and so does
 *    the buffer, at 1.5 BDP: half a BDP more than the path holds, which a
 *    bottleneck queue of half a round trip absorbs.
 * The interval is at least two smoothed RTTs and 50 ms: over one RTT the
 * SACK bursts made the rate read twice the link's. It only grows, up to
 * PD_SCTP_BUFFER_MAX. At loopback RTTs the product stays far below
 * SCTP_BUFFER, so nothing changes there. */
#define SCTP_SNDBUF_BDP_FACTOR 1.5
#define SCTP_TUNE_MIN_INTERVAL_MS 50

static void tune_send_buffer(rtc_sctp *s)
{
    if (!s->connected || s->closed || !s->sock || s->snd_buf >= PD_SCTP_BUFFER_MAX) return;
    struct sctp_status st;
    socklen_t len = sizeof st;
    memset(&st, 0, sizeof st);
    if (usrsctp_getsockopt(s->sock, IPPROTO_SCTP, SCTP_STATUS, &st, &len) != 0) return;
    uint32_t srtt = st.sstat_primary.spinfo_srtt;
    if (srtt > 0 && (s->min_rtt_ms == 0 || srtt < s->min_rtt_ms)) s->min_rtt_ms = srtt;
    /* bytes the peer has acknowledged: given to usrsctp minus what it still
     * holds (sent and unacknowledged, or not yet sent), counted in chunks */
    uint32_t chunk = st.sstat_fragmentation_point ? st.sstat_fragmentation_point : SCTP_PATH_MTU;
    uint64_t held = ((uint64_t)st.sstat_unackdata + st.sstat_penddata) * chunk;
    uint64_t acked = s->sent_total > held ? s->sent_total - held : 0;
    gint64 now = g_get_monotonic_time();
    if (s->tune_at_us == 0) {
        s->tune_at_us = now;
        s->acked_at = acked;
        return;
    }
    gint64 interval_ms = (now - s->tune_at_us) / 1000;
    if (interval_ms < SCTP_TUNE_MIN_INTERVAL_MS || interval_ms < 2 * (gint64)srtt) return;
    double rate = acked > s->acked_at ? (double)(acked - s->acked_at) * 1000 / interval_ms : 0;
    if (rate > s->max_ack_rate) s->max_ack_rate = rate;
    s->tune_at_us = now;
    s->acked_at = acked;
    double target = s->max_ack_rate * s->min_rtt_ms / 1000.0 * SCTP_SNDBUF_BDP_FACTOR;
    int snd = target > PD_SCTP_BUFFER_MAX ? PD_SCTP_BUFFER_MAX : (int)target;
    if (snd > s->snd_buf &&
        usrsctp_setsockopt(s->sock, SOL_SOCKET, SO_SNDBUF, &snd, sizeof snd) == 0) {
        PD_LOG_DEBUG("sctp: send buffer %d KiB (rtt %u ms, %.1f MB/s)", snd / 1024, s->min_rtt_ms,
                     s->max_ack_rate / 1e6);
        s->snd_buf = snd;
    }
}

/* ---- send ---- */

/* Returns the byte count, or -1 with errno (EWOULDBLOCK: no room yet). */
static ssize_t send_now(rtc_sctp *s, uint16_t sid, uint32_t ppid, bool unordered,
                        const uint8_t *data, size_t len)
{
    struct sctp_sendv_spa spa;
    memset(&spa, 0, sizeof spa);
    spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
    spa.sendv_sndinfo.snd_sid = sid;
    spa.sendv_sndinfo.snd_flags = SCTP_EOR | (unordered ? SCTP_UNORDERED : 0);
    spa.sendv_sndinfo.snd_ppid = htonl(ppid);
    return usrsctp_sendv(s->sock, data, len, NULL, 0, &spa, sizeof spa, SCTP_SENDV_SPA, 0);
}

static int reset_now(rtc_sctp *s, uint16_t sid)
{
    size_t len = sizeof(struct sctp_reset_streams) + sizeof(uint16_t);
    struct sctp_reset_streams *srs = g_malloc0(len);
    srs->srs_assoc_id = SCTP_ALL_ASSOC;
    srs->srs_flags = SCTP_STREAM_RESET_OUTGOING;
    srs->srs_number_streams = 1;
    srs->srs_stream_list[0] = sid;
    int rc = usrsctp_setsockopt(s->sock, IPPROTO_SCTP, SCTP_RESET_STREAMS, srs, (socklen_t)len);
    g_free(srs);
    return rc;
}

/* Moves queued messages into usrsctp until it pushes back. */
static void flush(rtc_sctp *s)
{
    out_msg *m;
    while (!s->closed && (m = g_queue_peek_head(&s->out))) {
        if (m->reset) {
            /* EALREADY/EINPROGRESS: a reset is still in flight; retry on
             * the next tick (RFC 6525 allows one outstanding request) */
            if (reset_now(s, m->sid) != 0 &&
                (errno == EALREADY || errno == EINPROGRESS || errno == EBUSY || errno == EAGAIN))
                return;
        } else {
            ssize_t n = send_now(s, m->sid, m->ppid, m->unordered, m->data, m->len);
            if (n < 0 && (errno == EWOULDBLOCK || errno == EAGAIN || errno == ENOBUFS)) return;
            if (n < 0)
                PD_LOG_WARN("sctp: send failed: %s", strerror(errno));
            else
                s->sent_total += (uint64_t)n;
        }
        g_queue_pop_head(&s->out);
        if (!m->reset) s->cb.on_sent(s->user, m->sid, m->ppid, m->len);
        g_free(m);
    }
}

/* Does what the upcall asked for, outside usrsctp. Callbacks run here. */
static void process(rtc_sctp *s)
{
    if (s->processing || !s->sock) return;
    s->processing = true;
    for (int rounds = 0; rounds < 64; rounds++) {
        s->pending = false;
        recv_all(s);
        if (s->connected) flush(s);
        if (!s->pending || s->closed) break;
    }
    s->processing = false;
}

static void upcall(struct socket *sock, void *arg, int flags)
{
    rtc_sctp *s = arg;
    s->pending = true; /* never call usrsctp from here (usrsctp#711) */
}

/* ---- API ---- */

rtc_sctp *rtc_sctp_create(GMainContext *ctx, uint16_t local_port, uint16_t remote_port,
                          size_t max_message, size_t send_buffer, const rtc_sctp_callbacks *cb,
                          void *user)
{
    if (!ctx || !cb || !global_ref(ctx)) return NULL;
    rtc_sctp *s = g_new0(rtc_sctp, 1);
    s->cb = *cb;
    s->user = user;
    s->local_port = local_port;
    s->remote_port = remote_port;
    s->max_message = max_message ? max_message : 262144;
    g_queue_init(&s->out);
    s->rbuf = g_malloc(SCTP_RECV_CHUNK);
    g.live = g_list_prepend(g.live, s);
    usrsctp_register_address(s);

    s->sock = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, NULL, NULL, 0, NULL);
    if (!s->sock) goto fail;
    usrsctp_set_upcall(s->sock, upcall, s);
    if (usrsctp_set_non_blocking(s->sock, 1) != 0) goto fail;

    struct linger lg = {.l_onoff = 1, .l_linger = 0}; /* close = ABORT, no lingering socket */
    struct sctp_assoc_value av = {.assoc_id = SCTP_ALL_ASSOC,
                                  .assoc_value = SCTP_ENABLE_RESET_STREAM_REQ};
    /* SO_SNDBUF must exceed the largest message (SCTP_BUFFER's comment) */
    size_t start = send_buffer ? send_buffer : SCTP_BUFFER;
    if (start < 2 * s->max_message) start = 2 * s->max_message;
    if (start > SCTP_BUFFER) start = SCTP_BUFFER;
    int on = 1, off = 0, buf = (int)start, rbuf = PD_SCTP_BUFFER_MAX;
    struct sctp_initmsg init = {.sinit_num_ostreams = SCTP_STREAMS,
                                .sinit_max_instreams = SCTP_STREAMS};
    struct sctp_paddrparams pp;
    memset(&pp, 0, sizeof pp);
    pp.spp_flags = SPP_PMTUD_DISABLE;
    pp.spp_pathmtu = SCTP_PATH_MTU;
    s->snd_buf = buf;
    if (usrsctp_setsockopt(s->sock, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) ||
        usrsctp_setsockopt(s->sock, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, &av, sizeof av) ||
        usrsctp_setsockopt(s->sock, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof on) ||
        /* RFC 8831 §6.6: no Nagle, messages are latency-sensitive */
        usrsctp_setsockopt(s->sock, IPPROTO_SCTP, SCTP_NODELAY, &on, sizeof on) ||
        usrsctp_setsockopt(s->sock, IPPROTO_SCTP, SCTP_FRAGMENT_INTERLEAVE, &off, sizeof off) ||
        usrsctp_setsockopt(s->sock, IPPROTO_SCTP, SCTP_INITMSG, &init, sizeof init) ||
        usrsctp_setsockopt(s->sock, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp, sizeof pp) ||
        usrsctp_setsockopt(s->sock, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf) ||
        usrsctp_setsockopt(s->sock, SOL_SOCKET, SO_RCVBUF, &rbuf, sizeof rbuf))
        goto fail;
    static const uint16_t events[] = {SCTP_ASSOC_CHANGE, SCTP_SENDER_DRY_EVENT,
                                      SCTP_STREAM_RESET_EVENT};
    for (size_t i = 0; i < G_N_ELEMENTS(events); i++) {
        struct sctp_event ev = {.se_assoc_id = SCTP_ALL_ASSOC, .se_on = 1, .se_type = events[i]};
        if (usrsctp_setsockopt(s->sock, IPPROTO_SCTP, SCTP_EVENT, &ev, sizeof ev)) goto fail;
    }
    struct sockaddr_conn sc;
    memset(&sc, 0, sizeof sc);
    sc.sconn_family = AF_CONN;
    sc.sconn_port = htons(local_port);
    sc.sconn_addr = s;
    if (usrsctp_bind(s->sock, (struct sockaddr *)&sc, sizeof sc) != 0) goto fail;
    return s;
fail:
    PD_LOG_ERROR("sctp: socket set-up failed: %s", strerror(errno));
    rtc_sctp_destroy(s);
    return NULL;
}

int rtc_sctp_connect(rtc_sctp *s)
{
    struct sockaddr_conn sc;
    memset(&sc, 0, sizeof sc);
    sc.sconn_family = AF_CONN;
    sc.sconn_port = htons(s->remote_port);
    sc.sconn_addr = s;
    int rc = usrsctp_connect(s->sock, (struct sockaddr *)&sc, sizeof sc);
    if (rc != 0 && errno != EINPROGRESS) {
        PD_LOG_WARN("sctp: connect failed: %s", strerror(errno));
        return -1;
    }
    process(s);
    return 0;
}

void rtc_sctp_feed(rtc_sctp *s, const uint8_t *packet, size_t len)
{
    if (s->closed) return;
    usrsctp_conninput(s, packet, len, 0);
    process(s);
}

int rtc_sctp_send(rtc_sctp *s, uint16_t sid, uint32_t ppid, bool unordered, const uint8_t *data,
                  size_t len)
{
    if (s->closed) return -1;
    if (s->connected && g_queue_is_empty(&s->out)) {
        ssize_t n = send_now(s, sid, ppid, unordered, data, len);
        /* non-blocking usrsctp takes a whole message or none of it (it
         * fits the send buffer: peer.c caps message sizes) */
        assert(n < 0 || (size_t)n == len);
        if (n >= 0) {
            s->sent_total += (uint64_t)n;
            process(s); /* the send may have raised upcalls */
            return 1;
        }
        if (errno != EWOULDBLOCK && errno != EAGAIN && errno != ENOBUFS) {
            PD_LOG_WARN("sctp: send failed: %s", strerror(errno));
            return -1;
        }
    }
    out_msg *m = g_try_malloc(sizeof *m + len);
    if (!m) return -1;
    m->sid = sid;
    m->ppid = ppid;
    m->unordered = unordered;
    m->reset = false;
    m->len = len;
    if (len) memcpy(m->data, data, len);
    g_queue_push_tail(&s->out, m);
    return 0;
}

size_t rtc_sctp_queued(rtc_sctp *s)
{
    if (!s || !s->connected || s->closed || !s->sock) return 0;
    struct sctp_status st;
    socklen_t len = sizeof st;
    memset(&st, 0, sizeof st);
    if (usrsctp_getsockopt(s->sock, IPPROTO_SCTP, SCTP_STATUS, &st, &len) != 0) return 0;
    uint32_t chunk = st.sstat_fragmentation_point ? st.sstat_fragmentation_point : SCTP_PATH_MTU;
    size_t held = (size_t)st.sstat_unackdata * chunk, cwnd = st.sstat_primary.spinfo_cwnd;
    return held > cwnd ? held - cwnd : 0;
}

void rtc_sctp_reset_stream(rtc_sctp *s, uint16_t sid)
{
    if (s->closed) return;
    out_msg *m = g_new0(out_msg, 1);
    m->sid = sid;
    m->reset = true;
    g_queue_push_tail(&s->out, m);
    if (s->connected) process(s);
}

void rtc_sctp_destroy(rtc_sctp *s)
{
    if (!s) return;
    if (s->sock) {
        usrsctp_set_upcall(s->sock, NULL, NULL);
        usrsctp_close(s->sock); /* ABORT goes out through conn_output now */
    }
    g.live = g_list_remove(g.live, s);
    usrsctp_deregister_address(s);
    g_queue_clear_full(&s->out, g_free);
    g_free(s->msg);
    g_free(s->rbuf);
    g_free(s);
    global_unref();
}
