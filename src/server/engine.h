/* engine.h: Engine.IO v4 sessions over long-polling and WebSocket.
 *
 * Owns the session table and the libuv side of each session: its requests,
 * WebSockets and timer. The protocol (the heartbeat: the server pings every
 * pingInterval and drops a session whose pong is later than pingTimeout;
 * the polling -> WebSocket upgrade: 2probe/3probe, a noop to every poll
 * while upgrading, then 5) is src/eio/session.h; packet parsing and
 * formatting is src/eio/eio.h; HTTP and WebSocket framing is http_conn.
 * The layer above (Socket.IO, or the echo fixture) sees sessions that
 * open, carry messages and close.
 *
 * Names: engine_* and srv_eio_session, so that eio_* stays the codec's and
 * the core's (src/eio). */
#ifndef PD_ENGINE_H
#define PD_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "http_conn.h"

typedef struct srv_eio_session srv_eio_session;

typedef struct engine_callbacks {
    void (*on_open)(srv_eio_session *s);
    void (*on_message)(srv_eio_session *s, const uint8_t *data, size_t len, bool binary);
    /* Last call for the session; `reason` as the reference names it
     * ("transport close", "ping timeout", "parse error", "forced close", ...). */
    void (*on_close)(srv_eio_session *s, const char *reason);
} engine_callbacks;

typedef struct engine_config {
    unsigned ping_interval_ms;
    unsigned ping_timeout_ms;
    unsigned upgrade_timeout_ms;
    unsigned max_payload;
    /* Caps on open sessions (handshakes never upgraded included): per client
     * address and in all; 0 = no cap. Beyond them a polling handshake gets
     * the Engine.IO error {"code":4,"message":"Too many sessions..."} (403),
     * a WebSocket handshake a bare 400 with that message, as the reference
     * answers a refused upgrade. */
    unsigned max_sessions_per_ip;
    unsigned max_sessions;
    engine_callbacks cb;
} engine_config;

void engine_init(uv_loop_t *loop, const engine_config *cfg);
/* Closes every session (shutdown). */
void engine_shutdown(void);

/* Routes one request to the Engine.IO endpoint (GET/POST polling, WebSocket
 * upgrade, CORS preflight handled by the caller). */
void engine_handle_request(http_conn *hc, const http_request *req, const uint8_t *body,
                           size_t body_len);

/* A polling POST whose body is still arriving: the session counts it as
 * active, so an overlapping POST is caught as the reference does. */
void engine_request_start(http_conn *hc, const http_request *req);

/* Sends a message packet (text or binary). */
void engine_send(srv_eio_session *s, const uint8_t *data, size_t len, bool binary);
/* Closes the session from the server side ("forced close"). */
void engine_close(srv_eio_session *s);

void engine_session_set_user(srv_eio_session *s, void *user);
void *engine_session_user(const srv_eio_session *s);
const char *engine_session_id(const srv_eio_session *s);
bool engine_session_is_websocket(const srv_eio_session *s);
/* The address of the client that opened the session (its handshake). */
const char *engine_session_peer(const srv_eio_session *s);

typedef struct engine_stats {
    size_t sessions_polling;
    size_t sessions_websocket;
    uint64_t upgrades;
} engine_stats;
void engine_get_stats(engine_stats *out);

#endif
