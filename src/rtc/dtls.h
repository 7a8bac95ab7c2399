/* dtls.h: DTLS 1.2 for WebRTC (RFC 8827, RFC 5763) with OpenSSL 3.0.
 *
 * Records in: rtc_dtls_feed() with each datagram the ICE layer received.
 * Records out: the send callback, one call per datagram (a custom write
 * BIO, because a memory BIO would merge records and 3.0 has no datagram
 * memory BIO). Retransmission timers run on a GLib timeout on the caller's
 * context, starting at 100 ms instead of OpenSSL's 1 s so a lost first
 * flight costs little (target: channel open < 300 ms). The peer
 * certificate is accepted only if its SHA-256 equals the fingerprint from
 * the remote SDP; the chain is ignored (self-signed by design). */
#ifndef PD_RTC_DTLS_H
#define PD_RTC_DTLS_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Our certificate and key: ECDSA P-256, self-signed, one per peer, or
 * shared by a peer and its lanes (docs/protocol.md §5.10: a lane is
 * authenticated by its session's confirmed fingerprint). Reference
 * counted: create gives one reference, ref another, destroy drops one. */
typedef struct rtc_dtls_identity rtc_dtls_identity;
rtc_dtls_identity *rtc_dtls_identity_create(void);
rtc_dtls_identity *rtc_dtls_identity_ref(rtc_dtls_identity *id);
void rtc_dtls_identity_destroy(rtc_dtls_identity *id);
const uint8_t *rtc_dtls_identity_fingerprint(const rtc_dtls_identity *id); /* 32 bytes */

typedef struct rtc_dtls rtc_dtls;

typedef struct rtc_dtls_callbacks {
    void (*send)(void *user, const uint8_t *data, size_t len); /* one datagram */
    void (*on_connected)(void *user);
    void (*on_data)(void *user, const uint8_t *data, size_t len); /* one record's payload */
    void (*on_failed)(void *user, const char *reason);
    void (*on_closed)(void *user); /* the remote sent close_notify */
} rtc_dtls_callbacks;

/* client: the side that sends ClientHello (a=setup:active, RFC 5763 §5). */
rtc_dtls *rtc_dtls_create(GMainContext *ctx, const rtc_dtls_identity *id, bool client,
                          const uint8_t remote_fingerprint[32], const rtc_dtls_callbacks *cb,
                          void *user);
/* The client sends its first flight; the server just waits. Call once the
 * transport can deliver (ICE connected). */
void rtc_dtls_start(rtc_dtls *d);
void rtc_dtls_feed(rtc_dtls *d, const uint8_t *data, size_t len);
/* Encrypts one application record (one SCTP packet). Returns 0 or -1. */
int rtc_dtls_send(rtc_dtls *d, const uint8_t *data, size_t len);
bool rtc_dtls_is_client(const rtc_dtls *d);
/* Sends close_notify, then frees. No callback fires after it returns. */
void rtc_dtls_destroy(rtc_dtls *d);

#endif
