/* http_conn.h: HTTP/1.1 server connections on top of pd_conn.
 *
 * Feeds received bytes to the sans-I/O parser (src/http), hands each complete
 * request (head + Content-Length body) to the router, and writes responses.
 * A request can also be held (Engine.IO long-polling GET) and answered later,
 * or the connection upgraded to WebSocket, after which received bytes go to
 * the ws_reader (src/ws) and whole messages to the owner's handler.
 *
 * Memory: an idle keep-alive or WebSocket connection holds no buffer; partial
 * input is copied into `in` only until it completes. Pipelined requests wait
 * unanswered while the connection's output is above PD_CONN_OUTPUT_PAUSE; a
 * WebSocket gets the output caps of limits.h; a request head must complete
 * within head_timeout_ms of its first byte (slowloris). */
#ifndef PD_HTTP_CONN_H
#define PD_HTTP_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/http.h"
#include "net/conn.h"
#include "ws/ws.h"

typedef struct http_conn http_conn;

typedef void (*http_request_fn)(http_conn *hc, const http_request *req, const uint8_t *body,
                                size_t body_len);

typedef struct http_ws_handler {
    /* A whole text or binary message (control frames are handled here). */
    void (*on_message)(void *owner, http_conn *hc, ws_opcode opcode, const uint8_t *data,
                       size_t len);
    /* The WebSocket is gone (close frame, error or TCP close). Last call. */
    void (*on_close)(void *owner, http_conn *hc);
} http_ws_handler;

/* CORS policy applied to every response (Engine.IO's `cors` option). */
typedef struct http_cors {
    bool any;             /* Access-Control-Allow-Origin: * */
    const char **origins; /* else: echo an Origin that is in this list */
    size_t origin_count;
} http_cors;

typedef struct http_server_config {
    http_request_fn on_request;
    /* Optional: a request head arrived whose body is still on its way
     * (called once per request, body NULL). */
    http_request_fn on_request_start;
    /* Optional: true for a request the app answers from its head alone, as
     * the web app's share target (router.c): on_request gets no body, the
     * body is read and dropped whatever its size (up to a bound), and the
     * connection closes after it. */
    bool (*answers_from_head)(const http_request *req);
    size_t max_body; /* larger bodies get 413 and the connection closes */
    size_t max_ws_message;
    size_t max_ws_output;     /* WebSocket output hard cap (0: none); soft cap in limits.h */
    unsigned head_timeout_ms; /* a request head completes within this of its first byte */
    http_cors cors;
} http_server_config;

void http_server_configure(const http_server_config *cfg);
/* Starts the idle sweep that closes silent keep-alive connections. */
void http_server_start(uv_loop_t *loop);
void http_server_stop(void);
/* pd_listener glue */
void http_conn_accept(pd_conn *c);
extern const pd_conn_handler http_conn_handler;

/* Answers the current request. `extra_headers` is NULL or preformatted
 * "Name: value\r\n" lines. CORS headers are added when the request's Origin
 * is allowed. Then reads the next request, or closes if not keep-alive. */
void http_conn_respond(http_conn *hc, int status, const char *content_type,
                       const char *extra_headers, const void *body, size_t body_len);
/* Answers with the Engine.IO error JSON {"code":N,"message":...}. */
void http_conn_respond_json(http_conn *hc, int status, const char *json);

/* Holds the current request: nothing is sent until http_conn_respond().
 * If the client goes away meanwhile, on_abort(owner, hc) is called (once). */
void http_conn_hold(http_conn *hc, void *owner, void (*on_abort)(void *owner, http_conn *hc));
/* Like http_conn_hold, but the request keeps reading (a POST body on its
 * way): on_abort is called if the client goes away before the answer. */
void http_conn_watch(http_conn *hc, void *owner, void (*on_abort)(void *owner, http_conn *hc));
/* Drops the hold or watch without a callback (the owner is going away). */
void http_conn_release(http_conn *hc);

/* Sends 101 for a validated WebSocket upgrade request; returns false (and
 * answers 400) if the handshake headers are wrong. */
bool http_conn_upgrade(http_conn *hc, const http_request *req, void *owner,
                       const http_ws_handler *handler);
/* Sends one WebSocket message: `prefix` (0 or 1 byte, e.g. the Engine.IO
 * packet type) followed by data. */
void http_conn_ws_send(http_conn *hc, ws_opcode opcode, const char *prefix, const void *data,
                       size_t len);
/* Sends a close frame (code 0 = no status code) and closes the connection;
 * the owner's on_close is not called after this. */
void http_conn_ws_close(http_conn *hc, uint16_t code);
void http_conn_set_owner(http_conn *hc, void *owner);

void http_conn_close(http_conn *hc);
/* The current request's response ends the connection ("Connection: close"). */
void http_conn_set_keep_alive(http_conn *hc, bool keep_alive);
/* True if the current request's Origin is allowed by the CORS policy. */
bool http_conn_cors_allowed(const http_conn *hc);
/* True if a browser page at the request's Origin may use this server: no
 * Origin (native clients), the server's own origin (scheme://Host), or an
 * origin --cors-origin allows. Engine.IO refuses the others (issue 11,
 * item 7), so no page elsewhere can drive its visitors' browsers here. */
bool http_conn_origin_allowed(const http_conn *hc, const http_request *req);
bool http_conn_is_tls(const http_conn *hc);
/* The client's address as text ("127.0.0.1", "::1"); "" if unknown. */
const char *http_conn_peer(const http_conn *hc);
bool http_conn_is_websocket(const http_conn *hc);
/* The client address, as counted for per-address limits. */
const pd_ip_key *http_conn_ip(const http_conn *hc);

#endif
