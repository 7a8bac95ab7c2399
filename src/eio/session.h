/* session.h: one Engine.IO v4 server session as a sans-I/O state machine.
 *
 * The session decides; the caller does the I/O. It keeps the transport
 * (long-polling, or one WebSocket), the heartbeat (the server pings every
 * pingInterval; a pong later than pingTimeout closes the session), the
 * polling -> WebSocket upgrade (a probing WebSocket answers "2probe" with
 * "3probe", every poll meanwhile gets a noop "6", and "5" switches), the
 * output buffered for polling and when it may leave, and why the session
 * closed. It is fed what the caller saw (a GET, a POST body, a WebSocket
 * frame, a transport gone) and the current time, and answers through the
 * callbacks of eio_sess_io: replies to requests, frames to send, messages
 * for the layer above, the close. eio_sess_deadline() says when to call
 * eio_sess_tick() next. It never reads a socket, arms a timer or reads the
 * clock; the caller owns the session table, the sockets, HTTP framing and
 * the session ids (src/server/engine.c is the libuv glue).
 *
 * Callbacks may re-enter the session (a message handler sends, or closes):
 * every entry point checks that the session is still open. After on_close
 * the session only ignores calls; the caller frees it once it returns. */
#ifndef PD_EIO_SESSION_H
#define PD_EIO_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/buf.h"

/* No deadline pending. */
#define EIO_SESS_NEVER INT64_MAX

/* Which WebSocket a frame goes to or comes from. */
typedef enum eio_sess_ws {
    EIO_SESS_WS_MAIN = 0,  /* the session's transport */
    EIO_SESS_WS_PROBE = 1, /* a WebSocket being probed for the upgrade */
} eio_sess_ws;

/* Which HTTP request a reply goes to. */
typedef enum eio_sess_req {
    EIO_SESS_REQ_CURRENT = 0, /* the request being handled now */
    EIO_SESS_REQ_HELD_POLL,   /* the GET the session holds; forgotten once answered */
} eio_sess_req;

/* What an HTTP reply is. */
typedef enum eio_sess_reply {
    EIO_SESS_REPLY_PAYLOAD = 0, /* 200, a polling payload (text/plain, no-store) */
    EIO_SESS_REPLY_OK,          /* 200 "ok" (text/html, as the reference) to a POST */
    EIO_SESS_REPLY_BAD,         /* 400 with an empty body */
} eio_sess_reply;

typedef struct eio_sess_io {
    void *ctx;
    /* An HTTP reply; `body` only for EIO_SESS_REPLY_PAYLOAD. */
    void (*reply)(void *ctx, eio_sess_req to, eio_sess_reply kind, const uint8_t *body, size_t len);
    /* One WebSocket frame: binary, or text made of `type` (a digit, or 0
     * for none) followed by data. */
    void (*ws_send)(void *ctx, eio_sess_ws to, bool binary, char type, const uint8_t *data,
                    size_t len);
    /* Closes the probing WebSocket (an upgrade that failed). */
    void (*probe_close)(void *ctx);
    /* The probe became the session's WebSocket. */
    void (*upgraded)(void *ctx);
    /* Output waits for a held poll: call eio_sess_flush() before the next
     * poll of the loop, so that everything produced in one tick leaves in
     * one response, as the reference does. Called once until flushed. */
    void (*want_flush)(void *ctx);
    /* A message packet for the layer above. */
    void (*on_message)(void *ctx, const uint8_t *data, size_t len, bool binary);
    /* The last call: the held poll was answered already; the caller closes
     * its WebSockets and forgets the POST. `reason` as the reference names
     * it ("transport close", "ping timeout", "parse error", ...). */
    void (*on_close)(void *ctx, const char *reason);
} eio_sess_io;

typedef struct eio_sess_config {
    unsigned ping_interval_ms;
    unsigned ping_timeout_ms;
    unsigned upgrade_timeout_ms;
    unsigned max_payload;
} eio_sess_config;

/* The fields are the module's: read them through the functions below. */
typedef struct eio_sess {
    eio_sess_config cfg;
    eio_sess_io io;
    bool websocket; /* the transport: WebSocket, else polling */
    bool closed;
    bool awaiting_pong;
    bool probing;       /* a probing WebSocket is open */
    bool upgrading;     /* the probe answered, waiting for "5" */
    bool poll_held;     /* a GET waits for output */
    bool post_active;   /* a POST whose body is still arriving */
    bool flush_wanted;  /* want_flush was called and eio_sess_flush not yet */
    int64_t ping_at_ms; /* when the next ping goes, or when the pong is late */
    int64_t upgrade_at_ms;
    pd_buf pending; /* polling payload waiting for a GET */
} eio_sess;

/* Starts a session whose handshake came over `websocket` or polling at
 * now_ms; the first ping is due pingInterval later. Output buffered for
 * polling is capped at a few maxPayloads (a client that stops polling
 * cannot make the server buffer without bound). */
void eio_sess_init(eio_sess *s, const eio_sess_config *cfg, const eio_sess_io *io, bool websocket,
                   int64_t now_ms);
void eio_sess_cleanup(eio_sess *s);

/* The handshake's open packet, "0{...}", for session id `sid`. Returns its
 * length, or -1 if it does not fit in cap. */
int eio_sess_open_packet(const eio_sess *s, const char *sid, char *out, size_t cap);

/* A polling GET (the current request). Returns true if the session holds
 * it (nothing to send yet); otherwise it was answered (buffered output, a
 * noop during an upgrade, or a 400 for a second GET, which also closes the
 * session). Polling requests on a WebSocket session get a bare 400: the
 * caller should have answered the transport mismatch (code 3) itself. */
bool eio_sess_poll_get(eio_sess *s);
/* The held GET's client went away: the session closes (the reference
 * closes a session whose pending poll was cancelled). */
void eio_sess_poll_aborted(eio_sess *s, int64_t now_ms);

/* A POST's head arrived and its body is on the way. Returns false if the
 * session closed instead (a second POST at once). */
bool eio_sess_post_begin(eio_sess *s);
void eio_sess_post_aborted(eio_sess *s);
/* A POST's whole body (the current request); `announced` if it was passed
 * to eio_sess_post_begin, `octet_stream` if its Content-Type says binary
 * (Engine.IO v4 polling is text only). The whole payload is checked before
 * any packet acts; the request is answered before the packets act. */
void eio_sess_post(eio_sess *s, const uint8_t *body, size_t len, bool announced, bool octet_stream,
                   int64_t now_ms);

/* A frame on the session's WebSocket. */
void eio_sess_ws_frame(eio_sess *s, bool binary, const uint8_t *data, size_t len, int64_t now_ms);
/* The session's WebSocket closed. */
void eio_sess_ws_closed(eio_sess *s);

/* A WebSocket with this session's id arrived. Returns false if it must be
 * refused (the session has its WebSocket or a probe already: the caller
 * accepts the handshake and closes it, as the reference does); true if it
 * is now the probe, with pingTimeout-independent upgradeTimeout to finish. */
bool eio_sess_probe_open(eio_sess *s, int64_t now_ms);
void eio_sess_probe_frame(eio_sess *s, bool binary, const uint8_t *data, size_t len);
void eio_sess_probe_closed(eio_sess *s);

/* Sends a message packet on the current transport. */
void eio_sess_send(eio_sess *s, const uint8_t *data, size_t len, bool binary);
/* Closes from the server side: a held poll gets what was queued, then the
 * close packet "1". */
void eio_sess_close(eio_sess *s, const char *reason);
/* Answers the held poll with the buffered output, if both are there and
 * no upgrade is under way. */
void eio_sess_flush(eio_sess *s);

/* Acts on the deadlines due at now_ms (ping, ping timeout, upgrade
 * timeout); eio_sess_deadline() is the next one, EIO_SESS_NEVER if none. */
void eio_sess_tick(eio_sess *s, int64_t now_ms);
int64_t eio_sess_deadline(const eio_sess *s);

bool eio_sess_is_websocket(const eio_sess *s);
bool eio_sess_is_closed(const eio_sess *s);

#endif
