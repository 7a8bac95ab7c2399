/* rtc.h: a data-channel-only WebRTC peer (the public API of src/rtc).
 *
 * Built from Debian-packaged parts: ICE with libnice, DTLS 1.2 with OpenSSL
 * (self-signed ECDSA P-256 certificate, fingerprint checked against the
 * remote SDP), SCTP with usrsctp (AF_CONN, no threads of its own), and the
 * data channel establishment protocol (RFC 8831/8832). SDP offer/answer for
 * one `m=application ... UDP/DTLS/SCTP webrtc-datachannel` section (RFC
 * 8841). It interoperates with Chromium as offerer and as answerer.
 *
 * Threading: everything runs on the GMainContext given at creation; every
 * callback is called from it, and every function here must be called from
 * it (the caller runs a GMainLoop on that context). No locks needed.
 *
 * Backpressure follows the browser API: rtc_channel_buffered_amount() is
 * the bytes accepted by rtc_channel_send() but not yet taken by SCTP, and
 * on_buffered_amount_low fires when it falls to the threshold or below. */
#ifndef PD_RTC_H
#define PD_RTC_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rtc_peer rtc_peer;
typedef struct rtc_channel rtc_channel;

typedef enum rtc_state {
    RTC_STATE_NEW,
    RTC_STATE_CONNECTING, /* ICE checking / DTLS handshake / SCTP association */
    RTC_STATE_CONNECTED,  /* SCTP association up: channels can open */
    RTC_STATE_FAILED,     /* ICE failed, DTLS failed, fingerprint mismatch, ... */
    RTC_STATE_CLOSED,
} rtc_state;

typedef struct rtc_ice_server {
    const char *url; /* "stun:host:port" or "turn:host:port[?transport=udp|tcp]" */
    const char *username;
    const char *credential;
} rtc_ice_server;

typedef struct rtc_callbacks {
    /* Our SDP (offer or answer) is ready: send it to the remote peer. */
    void (*on_local_description)(rtc_peer *p, const char *type /* "offer"|"answer" */,
                                 const char *sdp, void *user);
    /* A local ICE candidate (trickle). `candidate` is "candidate:..." without
     * the "a=" prefix; mid is the m-section's mid. NULL candidate: gathering done. */
    void (*on_local_candidate)(rtc_peer *p, const char *candidate, const char *mid, void *user);
    void (*on_state)(rtc_peer *p, rtc_state state, const char *reason, void *user);
    /* The remote side opened a channel (DCEP OPEN). */
    void (*on_channel)(rtc_peer *p, rtc_channel *ch, void *user);
    /* Per-channel events: `user` is the channel's user pointer
     * (rtc_channel_set_user), or the peer's when none was set. */
    void (*on_channel_open)(rtc_channel *ch, void *user);
    void (*on_channel_closed)(rtc_channel *ch, void *user);
    void (*on_message)(rtc_channel *ch, const uint8_t *data, size_t len, bool binary, void *user);
    void (*on_buffered_amount_low)(rtc_channel *ch, void *user);
} rtc_callbacks;

/* The SCTP send buffer a connection starts from (src/rtc/sctp.c,
 * SCTP_BUFFER: why 1 MiB). */
#define RTC_SEND_BUFFER_START (1u * 1024u * 1024u)

typedef struct rtc_config {
    GMainContext *context;
    const rtc_ice_server *ice_servers;
    size_t ice_server_count;
    rtc_callbacks cb;
    void *user;
    /* Largest message we accept (a=max-message-size we advertise); 0 = 262144. */
    size_t max_message_size;
    /* Use only TURN relayed candidates, like the browser's iceTransportPolicy
     * "relay": the remote peer never sees our addresses. Needs a TURN server
     * in ice_servers, or ICE fails. */
    bool relay_only;
    /* Not connected (SCTP up) this long after creation: RTC_STATE_FAILED.
     * 0 = 30000. */
    unsigned connect_timeout_ms;
    /* Use this peer's DTLS certificate and key instead of a new one (a
     * lane of its session, docs/protocol.md §5.10: both connections show
     * the same fingerprint). NULL = a new certificate. It need only be
     * alive during rtc_peer_create: the certificate is shared, counted. */
    const rtc_peer *same_certificate;
    /* The SCTP send buffer to start from (it bounds the flight, and grows
     * with the measured bandwidth-delay product); 0 = RTC_SEND_BUFFER_START.
     * The lanes of a session share one start between them (src/cli/lane.c). */
    size_t initial_send_buffer;
} rtc_config;

rtc_peer *rtc_peer_create(const rtc_config *cfg);
/* Closes everything (channels reset, SCTP shutdown, DTLS close_notify) and
 * frees. No callback fires after this returns. NULL is fine. */
void rtc_peer_destroy(rtc_peer *p);

/* Offerer: creates the offer; on_local_description fires (maybe later). */
int rtc_peer_create_offer(rtc_peer *p);
/* Applies the remote "offer" or "answer". On an offer, the answer is
 * produced and reported through on_local_description. Returns 0, or -1 for
 * an SDP we cannot use (the reason is logged; no SDP body is logged). */
int rtc_peer_set_remote_description(rtc_peer *p, const char *type, const char *sdp);
/* Adds a remote trickled candidate ("candidate:..." with or without "a=").
 * NULL or "" means end-of-candidates. Chromium's mDNS ".local" candidates
 * are resolved if possible, else ignored (peer-reflexive pairs still form). */
int rtc_peer_add_remote_candidate(rtc_peer *p, const char *candidate, const char *mid);
rtc_state rtc_peer_state(const rtc_peer *p);
/* The remote's a=max-message-size (65536 if absent, RFC 8841 §6), capped
 * at 2 MiB, the most one message may take of our SCTP send buffer. */
size_t rtc_peer_remote_max_message_size(const rtc_peer *p);

/* How the connection goes, from our side of the selected ICE pair: "host"
 * (direct), "srflx" (through our NAT), "prflx", or "relay" (through TURN);
 * NULL before ICE has selected a pair. */
const char *rtc_peer_path(rtc_peer *p);

/* Opens a reliable channel (ordered unless `unordered`) with DCEP. Can be
 * called before the connection is up: it opens once SCTP is connected. */
rtc_channel *rtc_channel_create(rtc_peer *p, const char *label, bool unordered);
/* Queues one message (<= the remote max message size). Returns 0, or -1 if
 * the channel is not open or the message is too large. Never blocks. */
int rtc_channel_send(rtc_channel *ch, const uint8_t *data, size_t len, bool binary);
size_t rtc_channel_buffered_amount(const rtc_channel *ch);
/* The buffered amount plus what the association's SCTP holds beyond its
 * congestion window: how long a new message would wait. A sender striping
 * over several connections (docs/protocol.md §5.10) picks the least;
 * bufferedAmount alone stays 0 while SCTP's send buffer has room, so it
 * would pick the first channel until that whole buffer was full, and data
 * queued behind a lane that lost packets would wait for its recovery. */
size_t rtc_channel_backlog(const rtc_channel *ch);
void rtc_channel_set_buffered_amount_low_threshold(rtc_channel *ch, size_t bytes);
const char *rtc_channel_label(const rtc_channel *ch);
bool rtc_channel_is_open(const rtc_channel *ch);
/* Closes by stream reset (RFC 8831 §6.7) after queued data is sent. */
void rtc_channel_close(rtc_channel *ch);
void rtc_channel_set_user(rtc_channel *ch, void *user);
void *rtc_channel_user(const rtc_channel *ch);

#endif
