/* peer.c: rtc_peer and rtc_channel (rtc.h), gluing ice -> dtls -> sctp and
 * speaking DCEP (RFC 8832) and the data-channel rules of RFC 8831.
 *
 * Order of events: SDP exchange fixes the ICE role (offerer controls) and
 * the DTLS role (a=setup); when ICE connects the DTLS client starts its
 * handshake, so its first flight is not lost to a path that does not exist
 * yet; when DTLS is up both sides send SCTP INIT; when SCTP is up, channels
 * created early send their DCEP OPEN. A channel counts as open as soon as
 * its OPEN is handed to SCTP (data follows it in order on the same stream;
 * RFC 8832 §6 lets the opener send before the ACK), which saves one round
 * trip of open time.
 *
 * Re-entrancy: the application may call anything, rtc_peer_destroy()
 * included, from inside a callback. Destruction is then deferred to an
 * idle source and no callback fires after the call returns. */
#include <stdio.h>
#include <string.h>

#include "../base/limits.h"
#include "../base/log.h"
#include "dcep.h"
#include "dtls.h"
#include "ice.h"
#include "rtc.h"
#include "sctp.h"
#include "sdp.h"

#define RTC_DEFAULT_MAX_MESSAGE 262144u
#define RTC_SCTP_PORT 5000
/* Remote candidates that arrive before the remote description. */
/* A peer that is not connected this long after its creation has failed.
 * libnice reports failure only once every candidate pair was tried; with no
 * pair at all (no TURN allocation under --relay, a peer that went silent
 * mid-handshake) it never would. Chromium gives up after about 30 s too. */
#define RTC_DEFAULT_CONNECT_TIMEOUT_MS 30000u
#define RTC_MAX_EARLY_CANDIDATES 64
#define RTC_MAX_LABEL 1024
/* Largest message we send whatever the remote allows (Firefox advertises
 * 1 GiB, and 0 means "no limit", RFC 8841 §6): a message must fit in the
 * SCTP send buffer or usrsctp never takes it, and without I-DATA one huge
 * message blocks the association anyway. Every send buffer starts at two
 * of our largest incoming messages at least (2 x 256 KiB, sctp.c), so
 * that much; the transfer protocol sends at most 256 KiB (maxMsg). */
#define RTC_MAX_SEND_MESSAGE (512u * 1024)

typedef enum ch_state { CH_PENDING, CH_OPEN, CH_CLOSING, CH_CLOSED } ch_state;

struct rtc_channel {
    rtc_peer *peer;
    char *label;
    bool unordered;
    bool has_sid;
    uint16_t sid;
    ch_state state;
    bool acked; /* RFC 8832 §6: send ordered until the ACK */
    bool remote_reset, local_reset;
    size_t buffered, low_threshold;
    void *user;
    bool has_user;
};

struct rtc_peer {
    rtc_config cfg;
    rtc_ice_server *servers; /* deep copy */
    rtc_state state;
    rtc_dtls_identity *id;
    rtc_ice *ice;
    rtc_dtls *dtls;
    rtc_sctp *sctp;
    bool offerer, have_local, have_remote;
    char *local_sdp;
    char mid[SDP_MID_MAX + 1];
    uint8_t remote_fp[32];
    bool dtls_client;
    uint16_t remote_sctp_port;
    size_t remote_max_message;
    uint64_t session_id;
    GPtrArray *early_candidates; /* char*, before the remote description */
    bool early_done;
    GPtrArray *channels; /* rtc_channel*, owned; freed with the peer */
    uint16_t next_sid;
    int depth; /* application callbacks on the stack */
    bool dead; /* destroyed from inside a callback: silence, then reap */
    GSource *reaper;
    GSource *connect_timer; /* until RTC_STATE_CONNECTED */
    gint64 created_us;
};

/* ---- application callbacks, guarded ---- */

#define EMIT(p, fn, ...)                                                                           \
    do {                                                                                           \
        if (!(p)->dead && (p)->cfg.cb.fn) {                                                        \
            (p)->depth++;                                                                          \
            (p)->cfg.cb.fn(__VA_ARGS__);                                                           \
            (p)->depth--;                                                                          \
        }                                                                                          \
    } while (0)

static void *ch_user(const rtc_channel *ch)
{
    return ch->has_user ? ch->user : ch->peer->cfg.user;
}

static void stop_connect_timer(rtc_peer *p)
{
    if (!p->connect_timer) return;
    g_source_destroy(p->connect_timer);
    g_source_unref(p->connect_timer);
    p->connect_timer = NULL;
}

static void set_state(rtc_peer *p, rtc_state st, const char *reason)
{
    if (p->state == st || p->state == RTC_STATE_CLOSED || p->state == RTC_STATE_FAILED) return;
    p->state = st;
    if (st != RTC_STATE_NEW && st != RTC_STATE_CONNECTING) stop_connect_timer(p);
    if (reason) PD_LOG_INFO("rtc: state %d (%s)", (int)st, reason);
    EMIT(p, on_state, p, st, reason, p->cfg.user);
}

static void channel_set_closed(rtc_channel *ch)
{
    if (ch->state == CH_CLOSED) return;
    bool was_open = ch->state == CH_OPEN || ch->state == CH_CLOSING;
    ch->state = CH_CLOSED;
    if (was_open) EMIT(ch->peer, on_channel_closed, ch, ch_user(ch));
}

static void close_all_channels(rtc_peer *p)
{
    for (guint i = 0; i < p->channels->len; i++)
        channel_set_closed(p->channels->pdata[i]);
}

static void peer_fail(rtc_peer *p, const char *reason)
{
    if (p->state == RTC_STATE_FAILED || p->state == RTC_STATE_CLOSED) return;
    close_all_channels(p);
    set_state(p, RTC_STATE_FAILED, reason);
}

static gboolean on_connect_timeout(gpointer data)
{
    rtc_peer *p = data;
    char reason[128];
    snprintf(
        reason, sizeof reason,
        "no connection after %u s: no network path to the peer (a TURN server may help)",
        (p->cfg.connect_timeout_ms ? p->cfg.connect_timeout_ms : RTC_DEFAULT_CONNECT_TIMEOUT_MS) /
            1000);
    peer_fail(p, reason); /* stops (and unrefs) this timer */
    return G_SOURCE_REMOVE;
}

static rtc_channel *find_channel(rtc_peer *p, uint16_t sid)
{
    for (guint i = 0; i < p->channels->len; i++) {
        rtc_channel *ch = p->channels->pdata[i];
        if (ch->has_sid && ch->sid == sid && ch->state != CH_CLOSED) return ch;
    }
    return NULL;
}

/* ---- channels over SCTP ---- */

/* RFC 8832 §6: the DTLS client uses even stream ids, the server odd. */
static bool alloc_sid(rtc_peer *p, uint16_t *out)
{
    for (unsigned tries = 0; tries < 512; tries++) {
        uint16_t sid = p->next_sid;
        p->next_sid = (uint16_t)(p->next_sid + 2);
        if (p->next_sid >= 1024) p->next_sid = p->dtls_client ? 0 : 1;
        if (!find_channel(p, sid)) {
            *out = sid;
            return true;
        }
    }
    return false;
}

static void channel_send_open(rtc_channel *ch)
{
    rtc_peer *p = ch->peer;
    if (!alloc_sid(p, &ch->sid)) {
        PD_LOG_WARN("rtc: no free stream id");
        channel_set_closed(ch);
        return;
    }
    ch->has_sid = true;
    dcep_msg m = {.channel_type = ch->unordered ? DCEP_UNORDERED : DCEP_RELIABLE,
                  .priority = 256, /* "normal" is 256 in Chromium's scale */
                  .label = (const uint8_t *)ch->label,
                  .label_len = (uint16_t)strlen(ch->label)};
    uint8_t buf[DCEP_OPEN_HEADER_LEN + RTC_MAX_LABEL];
    int n = dcep_open_encode(&m, buf, sizeof buf);
    if (n < 0 || rtc_sctp_send(p->sctp, ch->sid, RTC_PPID_DCEP, false, buf, (size_t)n) < 0) {
        channel_set_closed(ch);
        return;
    }
    ch->state = CH_OPEN;
    PD_LOG_DEBUG("rtc: channel open on stream %u after %.1f ms", (unsigned)ch->sid,
                 (double)(g_get_monotonic_time() - p->created_us) / 1000.0);
    EMIT(p, on_channel_open, ch, ch_user(ch));
}

static void on_dcep(rtc_peer *p, uint16_t sid, const uint8_t *data, size_t len)
{
    dcep_msg m;
    if (dcep_decode(data, len, &m) != DCEP_OK) {
        PD_LOG_WARN("rtc: bad DCEP message on stream %u", (unsigned)sid);
        return;
    }
    rtc_channel *ch = find_channel(p, sid);
    if (m.type == DCEP_MSG_ACK) {
        if (ch) ch->acked = true;
        return;
    }
    /* an OPEN: the remote's stream ids have the other parity than ours */
    bool remote_even = !p->dtls_client;
    if ((sid % 2 == 0) != remote_even || ch) {
        PD_LOG_WARN("rtc: refusing DCEP OPEN on stream %u", (unsigned)sid);
        rtc_sctp_reset_stream(p->sctp, sid);
        return;
    }
    if ((m.channel_type & 0x7f) != DCEP_RELIABLE)
        PD_LOG_DEBUG("rtc: partial reliability requested; delivering reliably");
    ch = g_new0(rtc_channel, 1);
    ch->peer = p;
    ch->label = g_strndup((const char *)m.label, m.label_len);
    ch->unordered = m.channel_type & DCEP_UNORDERED;
    ch->has_sid = true;
    ch->sid = sid;
    ch->state = CH_OPEN;
    ch->acked = true; /* we are the acceptor: nothing to wait for */
    g_ptr_array_add(p->channels, ch);
    uint8_t ack[1];
    dcep_ack_encode(ack, sizeof ack);
    rtc_sctp_send(p->sctp, sid, RTC_PPID_DCEP, false, ack, 1);
    EMIT(p, on_channel, p, ch, p->cfg.user);
    if (ch->state == CH_OPEN) EMIT(p, on_channel_open, ch, ch_user(ch));
}

static void sctp_on_message(void *user, uint16_t sid, uint32_t ppid, const uint8_t *data,
                            size_t len)
{
    rtc_peer *p = user;
    if (ppid == RTC_PPID_DCEP) {
        on_dcep(p, sid, data, len);
        return;
    }
    rtc_channel *ch = find_channel(p, sid);
    if (!ch || ch->state != CH_OPEN) return;
    switch (ppid) {
    case RTC_PPID_STRING:
    case RTC_PPID_STRING_PARTIAL:
        EMIT(p, on_message, ch, data, len, false, ch_user(ch));
        break;
    case RTC_PPID_BINARY:
    case RTC_PPID_BINARY_PARTIAL:
        EMIT(p, on_message, ch, data, len, true, ch_user(ch));
        break;
    case RTC_PPID_STRING_EMPTY: /* one byte that is not data (RFC 8831 §6.6) */
        EMIT(p, on_message, ch, (const uint8_t *)"", 0, false, ch_user(ch));
        break;
    case RTC_PPID_BINARY_EMPTY:
        EMIT(p, on_message, ch, (const uint8_t *)"", 0, true, ch_user(ch));
        break;
    default: /* RFC 8831 §8: unknown PPIDs are dropped */
        break;
    }
}

static void sctp_on_sent(void *user, uint16_t sid, uint32_t ppid, size_t len)
{
    rtc_peer *p = user;
    if (ppid == RTC_PPID_DCEP) return; /* not counted in bufferedAmount */
    rtc_channel *ch = find_channel(p, sid);
    if (!ch || ch->buffered < len) return;
    size_t before = ch->buffered;
    ch->buffered -= len;
    if (before > ch->low_threshold && ch->buffered <= ch->low_threshold)
        EMIT(p, on_buffered_amount_low, ch, ch_user(ch));
}

static void sctp_on_stream_reset(void *user, uint16_t sid)
{
    rtc_peer *p = user;
    rtc_channel *ch = find_channel(p, sid);
    if (!ch) return;
    ch->remote_reset = true;
    /* RFC 8831 §6.7: answer an incoming reset by resetting ours */
    if (!ch->local_reset) {
        ch->local_reset = true;
        rtc_sctp_reset_stream(p->sctp, sid);
    }
    channel_set_closed(ch);
}

static void sctp_on_connected(void *user)
{
    rtc_peer *p = user;
    PD_LOG_DEBUG("rtc: SCTP up after %.1f ms",
                 (double)(g_get_monotonic_time() - p->created_us) / 1000.0);
    set_state(p, RTC_STATE_CONNECTED, "connected");
    for (guint i = 0; i < p->channels->len && !p->dead; i++) {
        rtc_channel *ch = p->channels->pdata[i];
        if (ch->state == CH_PENDING && !ch->has_sid) channel_send_open(ch);
    }
}

static void sctp_on_closed(void *user, const char *reason)
{
    rtc_peer *p = user;
    close_all_channels(p);
    set_state(p, RTC_STATE_CLOSED, reason);
}

static void sctp_send_cb(void *user, const uint8_t *packet, size_t len)
{
    rtc_peer *p = user;
    if (p->dtls) rtc_dtls_send(p->dtls, packet, len);
}

/* ---- DTLS ---- */

static void dtls_send_cb(void *user, const uint8_t *data, size_t len)
{
    rtc_peer *p = user;
    if (p->ice) rtc_ice_send(p->ice, data, len);
}

static void dtls_on_connected(void *user)
{
    rtc_peer *p = user;
    PD_LOG_DEBUG("rtc: DTLS up after %.1f ms",
                 (double)(g_get_monotonic_time() - p->created_us) / 1000.0);
    static const rtc_sctp_callbacks cb = {
        .send = sctp_send_cb,
        .on_connected = sctp_on_connected,
        .on_closed = sctp_on_closed,
        .on_message = sctp_on_message,
        .on_sent = sctp_on_sent,
        .on_stream_reset = sctp_on_stream_reset,
    };
    size_t max = p->cfg.max_message_size ? p->cfg.max_message_size : RTC_DEFAULT_MAX_MESSAGE;
    p->sctp = rtc_sctp_create(p->cfg.context, RTC_SCTP_PORT, p->remote_sctp_port, max,
                              p->cfg.initial_send_buffer, &cb, p);
    if (!p->sctp || rtc_sctp_connect(p->sctp) != 0) peer_fail(p, "SCTP set-up failed");
}

static void dtls_on_data(void *user, const uint8_t *data, size_t len)
{
    rtc_peer *p = user;
    if (p->sctp) rtc_sctp_feed(p->sctp, data, len);
}

static void dtls_on_failed(void *user, const char *reason)
{
    peer_fail(user, reason);
}

static void dtls_on_closed(void *user)
{
    rtc_peer *p = user;
    close_all_channels(p);
    set_state(p, RTC_STATE_CLOSED, "DTLS closed by the remote");
}

/* ---- ICE ---- */

static void ice_on_candidate(void *user, const char *cand)
{
    rtc_peer *p = user;
    EMIT(p, on_local_candidate, p, cand, p->mid, p->cfg.user);
}

static void ice_on_connected(void *user)
{
    rtc_peer *p = user;
    PD_LOG_DEBUG("rtc: ICE connected after %.1f ms",
                 (double)(g_get_monotonic_time() - p->created_us) / 1000.0);
    if (p->dtls) rtc_dtls_start(p->dtls);
}

static void ice_on_failed(void *user, const char *reason)
{
    peer_fail(user, reason);
}

static void ice_on_recv(void *user, const uint8_t *data, size_t len)
{
    rtc_peer *p = user;
    if (p->dtls) rtc_dtls_feed(p->dtls, data, len);
}

static int ensure_ice(rtc_peer *p, bool controlling)
{
    if (p->ice) return 0;
    static const rtc_ice_callbacks cb = {
        .on_candidate = ice_on_candidate,
        .on_connected = ice_on_connected,
        .on_failed = ice_on_failed,
        .on_recv = ice_on_recv,
    };
    p->ice = rtc_ice_create(p->cfg.context, controlling, p->cfg.relay_only, p->servers,
                            p->cfg.ice_server_count, &cb, p);
    return p->ice ? 0 : -1;
}

/* ---- SDP ---- */

static int emit_local_description(rtc_peer *p, const char *type, sdp_setup setup)
{
    char buf[4096];
    sdp_local l = {
        .session_id = p->session_id,
        .ice_ufrag = rtc_ice_local_ufrag(p->ice),
        .ice_pwd = rtc_ice_local_pwd(p->ice),
        .setup = setup,
        .mid = p->mid,
        .sctp_port = RTC_SCTP_PORT,
        .max_message_size =
            p->cfg.max_message_size ? p->cfg.max_message_size : RTC_DEFAULT_MAX_MESSAGE,
    };
    memcpy(l.fingerprint, rtc_dtls_identity_fingerprint(p->id), 32);
    int n = sdp_write(&l, buf, sizeof buf);
    if (n < 0) {
        PD_LOG_ERROR("rtc: cannot write our SDP: %s", sdp_strerror(n));
        return -1;
    }
    g_free(p->local_sdp);
    p->local_sdp = g_strdup(buf);
    p->have_local = true;
    EMIT(p, on_local_description, p, type, p->local_sdp, p->cfg.user);
    if (p->dead) return 0;
    /* gather after the description is out, so candidates never precede it */
    return rtc_ice_gather(p->ice);
}

static int create_dtls(rtc_peer *p)
{
    static const rtc_dtls_callbacks cb = {
        .send = dtls_send_cb,
        .on_connected = dtls_on_connected,
        .on_data = dtls_on_data,
        .on_failed = dtls_on_failed,
        .on_closed = dtls_on_closed,
    };
    p->dtls = rtc_dtls_create(p->cfg.context, p->id, p->dtls_client, p->remote_fp, &cb, p);
    if (!p->dtls) return -1;
    p->next_sid = p->dtls_client ? 0 : 1;
    return 0;
}

static void add_candidate_now(rtc_peer *p, const char *cand)
{
    if (!cand || !*cand) {
        rtc_ice_remote_gathering_done(p->ice);
        return;
    }
    if (rtc_ice_add_remote_candidate(p->ice, cand, strlen(cand)) != 0)
        PD_LOG_WARN("rtc: ignoring a remote candidate we cannot parse");
}

int rtc_peer_set_remote_description(rtc_peer *p, const char *type, const char *sdp)
{
    if (!p || !type || !sdp || p->dead) return -1;
    bool is_offer = strcmp(type, "offer") == 0;
    if (!is_offer && strcmp(type, "answer") != 0) return -1;
    if (p->have_remote || (is_offer && p->have_local) || (!is_offer && !p->have_local)) {
        PD_LOG_WARN("rtc: unexpected remote %s (no renegotiation support)", type);
        return -1;
    }
    sdp_desc d;
    int rc = sdp_parse(sdp, strlen(sdp), &d);
    if (rc != SDP_OK) {
        PD_LOG_WARN("rtc: remote %s rejected: %s", type, sdp_strerror(rc));
        return -1;
    }
    /* RFC 5763 §5: the offer says actpass; our answer takes active, so we
     * are the DTLS client. An answer must pick a role; absent means active
     * (RFC 4145 §4). */
    if (is_offer) {
        p->dtls_client = d.setup != SDP_SETUP_ACTIVE;
    } else {
        if (d.setup == SDP_SETUP_ACTPASS) {
            PD_LOG_WARN("rtc: remote answer says a=setup:actpass");
            return -1;
        }
        p->dtls_client = d.setup == SDP_SETUP_PASSIVE;
    }
    memcpy(p->remote_fp, d.fingerprint, 32);
    p->remote_sctp_port = d.sctp_port;
    p->remote_max_message = d.max_message_size && d.max_message_size < RTC_MAX_SEND_MESSAGE
                                ? (size_t)d.max_message_size
                                : RTC_MAX_SEND_MESSAGE;
    if (is_offer) {
        if (d.mid.len) {
            memcpy(p->mid, d.mid.p, d.mid.len);
            p->mid[d.mid.len] = '\0';
        }
        p->offerer = false;
        if (ensure_ice(p, false) != 0) return -1;
    }
    char ufrag[SDP_ICE_MAX + 1], pwd[SDP_ICE_MAX + 1];
    memcpy(ufrag, d.ice_ufrag.p, d.ice_ufrag.len);
    ufrag[d.ice_ufrag.len] = '\0';
    memcpy(pwd, d.ice_pwd.p, d.ice_pwd.len);
    pwd[d.ice_pwd.len] = '\0';
    if (rtc_ice_set_remote_credentials(p->ice, ufrag, pwd) != 0 || create_dtls(p) != 0) {
        peer_fail(p, "cannot apply the remote description");
        return -1;
    }
    p->have_remote = true;
    set_state(p, RTC_STATE_CONNECTING, NULL);
    for (size_t i = 0; i < d.candidate_count; i++) {
        char *c = g_strndup(d.candidates[i].p, d.candidates[i].len);
        add_candidate_now(p, c);
        g_free(c);
    }
    for (guint i = 0; i < p->early_candidates->len; i++)
        add_candidate_now(p, p->early_candidates->pdata[i]);
    g_ptr_array_set_size(p->early_candidates, 0);
    if (d.end_of_candidates || p->early_done) add_candidate_now(p, NULL);
    if (is_offer)
        return emit_local_description(p, "answer",
                                      p->dtls_client ? SDP_SETUP_ACTIVE : SDP_SETUP_PASSIVE);
    return 0;
}

int rtc_peer_create_offer(rtc_peer *p)
{
    if (!p || p->dead) return -1;
    if (p->have_local) {
        if (!p->offerer) return -1;
        EMIT(p, on_local_description, p, "offer", p->local_sdp, p->cfg.user);
        return 0;
    }
    p->offerer = true;
    if (ensure_ice(p, true) != 0) return -1;
    set_state(p, RTC_STATE_CONNECTING, NULL);
    return emit_local_description(p, "offer", SDP_SETUP_ACTPASS);
}

int rtc_peer_add_remote_candidate(rtc_peer *p, const char *candidate, const char *mid)
{
    if (!p || p->dead) return -1;
    if (candidate && strlen(candidate) > PD_MAX_CANDIDATE) return -1;
    if (!p->have_remote) {
        if (!candidate || !*candidate) {
            p->early_done = true;
            return 0;
        }
        if (p->early_candidates->len >= RTC_MAX_EARLY_CANDIDATES) return -1;
        g_ptr_array_add(p->early_candidates, g_strdup(candidate));
        return 0;
    }
    add_candidate_now(p, candidate);
    return 0;
}

/* ---- peer lifetime ---- */

static void peer_free(rtc_peer *p);

rtc_peer *rtc_peer_create(const rtc_config *cfg)
{
    if (!cfg || !cfg->context) return NULL;
    rtc_peer *p = g_new0(rtc_peer, 1);
    p->cfg = *cfg;
    p->created_us = g_get_monotonic_time();
    p->servers = g_new0(rtc_ice_server, cfg->ice_server_count + 1);
    for (size_t i = 0; i < cfg->ice_server_count; i++) {
        p->servers[i].url = g_strdup(cfg->ice_servers[i].url);
        p->servers[i].username = g_strdup(cfg->ice_servers[i].username);
        p->servers[i].credential = g_strdup(cfg->ice_servers[i].credential);
    }
    p->cfg.ice_servers = p->servers;
    p->state = RTC_STATE_NEW;
    p->remote_max_message = SDP_DEFAULT_MAX_MESSAGE;
    strcpy(p->mid, "0");
    p->session_id = ((uint64_t)g_random_int() << 32 | g_random_int()) & INT64_MAX;
    p->early_candidates = g_ptr_array_new_with_free_func(g_free);
    p->channels = g_ptr_array_new();
    p->id = cfg->same_certificate ? rtc_dtls_identity_ref(cfg->same_certificate->id)
                                  : rtc_dtls_identity_create();
    p->cfg.same_certificate = NULL; /* not kept: it may go first */
    if (!p->id) {
        peer_free(p); /* nothing of it is on the stack yet: no reaper needed */
        return NULL;
    }
    p->connect_timer = g_timeout_source_new(
        cfg->connect_timeout_ms ? cfg->connect_timeout_ms : RTC_DEFAULT_CONNECT_TIMEOUT_MS);
    g_source_set_callback(p->connect_timer, on_connect_timeout, p, NULL);
    g_source_attach(p->connect_timer, p->cfg.context);
    return p;
}

static void channel_free(gpointer data)
{
    rtc_channel *ch = data;
    g_free(ch->label);
    g_free(ch);
}

static void peer_free(rtc_peer *p)
{
    /* innermost first: SCTP's ABORT and DTLS's close_notify still go out */
    rtc_sctp_destroy(p->sctp);
    p->sctp = NULL;
    rtc_dtls_destroy(p->dtls);
    p->dtls = NULL;
    rtc_ice_destroy(p->ice);
    p->ice = NULL;
    rtc_dtls_identity_destroy(p->id);
    if (p->channels) g_ptr_array_free(p->channels, TRUE);
    if (p->early_candidates) g_ptr_array_free(p->early_candidates, TRUE);
    for (size_t i = 0; p->servers && i < p->cfg.ice_server_count; i++) {
        g_free((char *)p->servers[i].url);
        g_free((char *)p->servers[i].username);
        g_free((char *)p->servers[i].credential);
    }
    g_free(p->servers);
    g_free(p->local_sdp);
    if (p->reaper) g_source_unref(p->reaper);
    g_free(p);
}

static gboolean reap(gpointer data)
{
    peer_free(data);
    return G_SOURCE_REMOVE;
}

void rtc_peer_destroy(rtc_peer *p)
{
    if (!p || p->dead) return;
    p->dead = true;
    stop_connect_timer(p);
    if (p->channels) {
        /* best effort: reset open streams so the remote's channels close */
        for (guint i = 0; i < p->channels->len; i++) {
            rtc_channel *ch = p->channels->pdata[i];
            if (p->sctp && ch->has_sid && ch->state != CH_CLOSED && !ch->local_reset) {
                ch->local_reset = true;
                rtc_sctp_reset_stream(p->sctp, ch->sid);
            }
        }
        g_ptr_array_set_free_func(p->channels, channel_free);
    }
    if (p->depth > 0) {
        /* inside one of our callbacks: lower layers are on the stack */
        p->reaper = g_idle_source_new();
        g_source_set_priority(p->reaper, G_PRIORITY_HIGH);
        g_source_set_callback(p->reaper, reap, p, NULL);
        g_source_attach(p->reaper, p->cfg.context);
        return;
    }
    peer_free(p);
}

rtc_state rtc_peer_state(const rtc_peer *p)
{
    return p ? p->state : RTC_STATE_CLOSED;
}

const char *rtc_peer_path(rtc_peer *p)
{
    return p && p->ice ? rtc_ice_selected_type(p->ice) : NULL;
}

size_t rtc_peer_remote_max_message_size(const rtc_peer *p)
{
    return p ? p->remote_max_message : 0;
}

/* ---- channels ---- */

rtc_channel *rtc_channel_create(rtc_peer *p, const char *label, bool unordered)
{
    if (!p || p->dead || !label || strlen(label) > RTC_MAX_LABEL) return NULL;
    if (p->state == RTC_STATE_FAILED || p->state == RTC_STATE_CLOSED) return NULL;
    rtc_channel *ch = g_new0(rtc_channel, 1);
    ch->peer = p;
    ch->label = g_strdup(label);
    ch->unordered = unordered;
    ch->state = CH_PENDING;
    g_ptr_array_add(p->channels, ch);
    if (p->state == RTC_STATE_CONNECTED) channel_send_open(ch);
    return ch;
}

int rtc_channel_send(rtc_channel *ch, const uint8_t *data, size_t len, bool binary)
{
    if (!ch || ch->state != CH_OPEN || ch->peer->dead || !ch->peer->sctp) return -1;
    if (len > ch->peer->remote_max_message || (len && !data)) return -1;
    uint32_t ppid = binary ? RTC_PPID_BINARY : RTC_PPID_STRING;
    static const uint8_t zero[1] = {0};
    if (len == 0) { /* RFC 8831 §6.6: empty messages carry one byte */
        ppid = binary ? RTC_PPID_BINARY_EMPTY : RTC_PPID_STRING_EMPTY;
        data = zero;
        len = 1;
    }
    int rc = rtc_sctp_send(ch->peer->sctp, ch->sid, ppid, ch->unordered && ch->acked, data, len);
    if (rc < 0) return -1;
    if (rc == 0) ch->buffered += len; /* queued: on_sent takes it off */
    return 0;
}

size_t rtc_channel_buffered_amount(const rtc_channel *ch)
{
    return ch ? ch->buffered : 0;
}

size_t rtc_channel_backlog(const rtc_channel *ch)
{
    return ch ? ch->buffered + rtc_sctp_queued(ch->peer->sctp) : 0;
}

void rtc_channel_set_buffered_amount_low_threshold(rtc_channel *ch, size_t bytes)
{
    if (ch) ch->low_threshold = bytes;
}

const char *rtc_channel_label(const rtc_channel *ch)
{
    return ch ? ch->label : NULL;
}

bool rtc_channel_is_open(const rtc_channel *ch)
{
    return ch && ch->state == CH_OPEN && !ch->peer->dead;
}

void rtc_channel_close(rtc_channel *ch)
{
    if (!ch || ch->peer->dead) return;
    if (ch->state == CH_PENDING) {
        ch->state = CH_CLOSED;
        return;
    }
    if (ch->state != CH_OPEN) return;
    ch->state = CH_CLOSING;
    if (!ch->local_reset && ch->peer->sctp) {
        ch->local_reset = true;
        rtc_sctp_reset_stream(ch->peer->sctp, ch->sid);
    }
    if (ch->remote_reset) channel_set_closed(ch);
}

void rtc_channel_set_user(rtc_channel *ch, void *user)
{
    if (!ch) return;
    ch->user = user;
    ch->has_user = true;
}

void *rtc_channel_user(const rtc_channel *ch)
{
    return ch ? ch_user(ch) : NULL;
}
