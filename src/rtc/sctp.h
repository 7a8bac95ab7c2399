/* sctp.h: one SCTP association over DTLS (RFC 8261), on usrsctp.
 *
 * usrsctp runs without threads of its own (usrsctp_init_nothreads): the
 * caller's GMainContext thread makes every usrsctp call, a 10 ms GLib tick
 * drives its timers, and packets go in with rtc_sctp_feed() and out through
 * the send callback. Callbacks never run inside usrsctp: its upcall only
 * sets a flag and the work happens after usrsctp returns, which avoids the
 * re-entrancy deadlocks of usrsctp#711/#712/#719.
 *
 * Process-wide: usrsctp has one global stack, so every association in a
 * process must live on the same GMainContext (the first one's).
 *
 * Messages are whole (reassembled until MSG_EOR) and carry a PPID; DCEP
 * and channel semantics live in peer.c. Outgoing messages the stack cannot
 * take yet wait in one FIFO, flushed when usrsctp reports it writable;
 * on_sent tells the owner when a queued message left the queue, so it can
 * keep per-channel bufferedAmount. */
#ifndef PD_RTC_SCTP_H
#define PD_RTC_SCTP_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 8831 §8: payload protocol identifiers */
enum {
    RTC_PPID_DCEP = 50,
    RTC_PPID_STRING = 51,
    RTC_PPID_BINARY_PARTIAL = 52, /* deprecated: receive only */
    RTC_PPID_BINARY = 53,
    RTC_PPID_STRING_PARTIAL = 54, /* deprecated: receive only */
    RTC_PPID_STRING_EMPTY = 56,
    RTC_PPID_BINARY_EMPTY = 57,
};

typedef struct rtc_sctp rtc_sctp;

typedef struct rtc_sctp_callbacks {
    void (*send)(void *user, const uint8_t *packet, size_t len); /* one packet, to DTLS */
    void (*on_connected)(void *user);
    void (*on_closed)(void *user, const char *reason);
    void (*on_message)(void *user, uint16_t sid, uint32_t ppid, const uint8_t *data, size_t len);
    void (*on_sent)(void *user, uint16_t sid, uint32_t ppid, size_t len); /* queued msg taken */
    void (*on_stream_reset)(void *user, uint16_t sid); /* the remote reset its side */
} rtc_sctp_callbacks;

/* max_message: the largest message we accept (our a=max-message-size);
 * send_buffer: the send buffer to start from, 0 = SCTP_BUFFER (1 MiB),
 * never below twice max_message. */
rtc_sctp *rtc_sctp_create(GMainContext *ctx, uint16_t local_port, uint16_t remote_port,
                          size_t max_message, size_t send_buffer, const rtc_sctp_callbacks *cb,
                          void *user);
/* Sends INIT. Both sides connect (RFC 8841 §9.3, simultaneous open). */
int rtc_sctp_connect(rtc_sctp *s);
/* One decrypted DTLS record = one SCTP packet. */
void rtc_sctp_feed(rtc_sctp *s, const uint8_t *packet, size_t len);
/* Returns 1 if usrsctp took the message now, 0 if it was queued (on_sent
 * follows), -1 on error. Never blocks. */
int rtc_sctp_send(rtc_sctp *s, uint16_t sid, uint32_t ppid, bool unordered, const uint8_t *data,
                  size_t len);
/* Resets our outgoing stream sid once everything queued before is sent. */
void rtc_sctp_reset_stream(rtc_sctp *s, uint16_t sid);
/* Bytes usrsctp holds for the association beyond its congestion window:
 * queued, sent or not, and unacknowledged (SCTP_STATUS sstat_unackdata, in
 * whole chunks) minus the primary path's cwnd; 0 before it is up. What a
 * new message would wait behind before it can even be sent. */
size_t rtc_sctp_queued(rtc_sctp *s);
/* Aborts the association (the remote learns at once) and frees. */
void rtc_sctp_destroy(rtc_sctp *s);

#endif
