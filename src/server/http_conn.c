/* http_conn.c: see http_conn.h. */
#include "http_conn.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/limits.h"
#include "base/log.h"
#include "base/refused.h"

/* HC_DISCARD: an over-limit body (or one answered from the head alone) is
 * read and dropped after the answer, so the client, still sending, does not
 * get a reset instead of it. */
enum hc_mode { HC_READING, HC_HELD, HC_WEBSOCKET, HC_DISCARD, HC_CLOSED };

/* Past this, an over-limit body is not worth reading: close at once. */
#define MAX_DISCARD (64u * 1024u * 1024u)

struct http_conn {
    pd_conn *conn;
    pd_buf in;    /* bytes received but not yet consumed; empty when idle */
    uint8_t mode; /* enum hc_mode */
    bool keep_alive;
    bool head_only;        /* HEAD request: headers without body */
    bool processing;       /* inside process_buffered(): no re-entry */
    bool started;          /* on_request_start was called for the current request */
    uint64_t discard_left; /* HC_DISCARD: body bytes still to drop */
    int cors;              /* -1: no CORS headers; 0: "*"; k > 0: echo origins[k-1] */
    void *owner;
    void (*on_abort)(void *owner, http_conn *hc);
    const http_ws_handler *ws;
    ws_reader reader;
    http_conn *prev, *next; /* all HTTP-mode connections, for the idle sweep */
    uint64_t active_ms;     /* last time a request started or bytes arrived */
    uint64_t head_since_ms; /* first byte of an incomplete request head; 0: none */
};

/* A keep-alive connection with no request, or a request body that stops
 * arriving, is closed after these; a request head has the absolute deadline
 * head_timeout_ms (slowloris protection). Held polls and WebSockets are
 * watched by the Engine.IO heartbeat instead. */
#define IDLE_KEEPALIVE_MS 60000
#define IDLE_PARTIAL_MS 15000
#define SWEEP_INTERVAL_MS 1000

/* On every response, errors and Engine.IO included (issue 11, item 8).
 * The CSP allows what the built web app needs and nothing inline: its
 * scripts, styles and service worker are files from this origin, it
 * compiles SHA-256 WebAssembly (web/src/protocol/sha256.ts:
 * 'wasm-unsafe-eval'), shows blob:/data: images, and talks to this origin
 * only ('self' covers ws:/wss: to it, CSP Level 3). frame-ancestors 'none'
 * (and X-Frame-Options for older browsers): a framed #room=...&key= link
 * would join by itself. no-referrer: the key is in the fragment, which is
 * never sent, but nothing else about the page is either. */
#define HTTP_CSP                                                                                   \
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "                 \
    "img-src 'self' data: blob:; connect-src 'self'; worker-src 'self'; object-src 'none'; "       \
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
#define HTTP_SECURITY_HEADERS                                                                      \
    "Content-Security-Policy: " HTTP_CSP "\r\n"                                                    \
    "X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\nX-Frame-Options: DENY\r\n"

static http_server_config g_cfg;
static uv_loop_t *g_loop;
static uv_timer_t g_sweep;
static http_conn *g_conns;

static void sweep_cb(uv_timer_t *t);

void http_server_configure(const http_server_config *cfg)
{
    g_cfg = *cfg;
}

void http_server_start(uv_loop_t *loop)
{
    g_loop = loop;
    uv_timer_init(loop, &g_sweep);
    uv_timer_start(&g_sweep, sweep_cb, SWEEP_INTERVAL_MS, SWEEP_INTERVAL_MS);
    uv_unref((uv_handle_t *)&g_sweep);
}

void http_server_stop(void)
{
    if (g_loop) uv_close((uv_handle_t *)&g_sweep, NULL);
    g_loop = NULL;
}

static void list_remove(http_conn *hc)
{
    if (hc->prev)
        hc->prev->next = hc->next;
    else if (g_conns == hc)
        g_conns = hc->next;
    if (hc->next) hc->next->prev = hc->prev;
    hc->prev = hc->next = NULL;
}

static void sweep_cb(uv_timer_t *t)
{
    uint64_t now = uv_now(t->loop);
    http_conn *next;
    for (http_conn *hc = g_conns; hc; hc = next) {
        next = hc->next;
        if (hc->mode != HC_READING && hc->mode != HC_DISCARD) continue;
        if (hc->mode == HC_READING && hc->head_since_ms && g_cfg.head_timeout_ms &&
            now - hc->head_since_ms >= g_cfg.head_timeout_ms) {
            pd_refused(PD_REFUSED_HEAD_TIMEOUT);
            PD_LOG_DEBUG("request head not complete within %u ms: closing", g_cfg.head_timeout_ms);
            list_remove(hc);
            hc->keep_alive = false;
            hc->head_only = false;
            hc->head_since_ms = 0;
            http_conn_respond(hc, 408, "text/plain", NULL, "request timeout", 15);
            continue;
        }
        uint64_t limit = hc->in.len || hc->mode == HC_DISCARD ? IDLE_PARTIAL_MS : IDLE_KEEPALIVE_MS;
        if (now - hc->active_ms > limit) {
            list_remove(hc);
            http_conn_close(hc);
        }
    }
}

static void process_buffered(http_conn *hc);

void http_conn_accept(pd_conn *c)
{
    http_conn *hc = calloc(1, sizeof *hc);
    if (!hc) {
        pd_conn_close(c);
        return;
    }
    hc->conn = c;
    hc->cors = -1;
    hc->active_ms = g_loop ? uv_now(g_loop) : 0;
    hc->next = g_conns;
    if (g_conns) g_conns->prev = hc;
    g_conns = hc;
    pd_buf_init(&hc->in, PD_MAX_HTTP_HEAD + g_cfg.max_body + 16);
    pd_conn_set_user(c, hc);
}

void http_conn_close(http_conn *hc)
{
    if (hc->mode == HC_CLOSED) return;
    hc->mode = HC_CLOSED;
    pd_conn_close(hc->conn);
}

static void cors_for_request(http_conn *hc, const http_request *req)
{
    hc->cors = -1;
    if (g_cfg.cors.any) {
        hc->cors = 0;
        return;
    }
    const http_header *origin = http_request_header(req, "origin");
    if (!origin) return;
    for (size_t i = 0; i < g_cfg.cors.origin_count; i++) {
        const char *o = g_cfg.cors.origins[i];
        if (strlen(o) == origin->value_len && memcmp(o, origin->value, origin->value_len) == 0) {
            hc->cors = (int)i + 1;
            return;
        }
    }
}

/* Appends to a response head at *n, never past cap: snprintf returns what it
 * would have written, so adding it unclamped could point past the buffer. */
static void head_add(char *head, size_t cap, size_t *n, const char *fmt, ...)
{
    if (*n >= cap - 1) return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(head + *n, cap - *n, fmt, ap);
    va_end(ap);
    if (w > 0) *n += (size_t)w;
    if (*n >= cap) *n = cap - 1;
}

static int cors_headers(const http_conn *hc, char *out, size_t cap)
{
    if (hc->cors < 0) return 0;
    if (hc->cors == 0) return snprintf(out, cap, "Access-Control-Allow-Origin: *\r\n");
    return snprintf(out, cap,
                    "Access-Control-Allow-Origin: %s\r\nVary: Origin\r\n"
                    "Access-Control-Allow-Credentials: true\r\n",
                    g_cfg.cors.origins[hc->cors - 1]);
}

void http_conn_respond(http_conn *hc, int status, const char *content_type,
                       const char *extra_headers, const void *body, size_t body_len)
{
    if (hc->mode == HC_CLOSED) return;
    bool was_held = hc->mode == HC_HELD;
    char head[2048];
    size_t n = 0;
    head_add(head, sizeof head, &n, "HTTP/1.1 %d %s\r\n", status, http_reason(status));
    if (content_type) head_add(head, sizeof head, &n, "Content-Type: %s\r\n", content_type);
    head_add(head, sizeof head, &n, "Content-Length: %zu\r\nConnection: %s\r\n", body_len,
             hc->keep_alive ? "keep-alive" : "close");
    char cors[1024];
    if (cors_headers(hc, cors, sizeof cors) > 0) head_add(head, sizeof head, &n, "%s", cors);
    head_add(head, sizeof head, &n, "%s", HTTP_SECURITY_HEADERS);
    if (extra_headers) head_add(head, sizeof head, &n, "%s", extra_headers);
    head_add(head, sizeof head, &n, "\r\n");
    pd_conn_write(hc->conn, head, n);
    if (body_len && !hc->head_only) pd_conn_write(hc->conn, body, body_len);

    hc->mode = HC_READING;
    hc->owner = NULL;
    hc->on_abort = NULL;
    if (g_loop) hc->active_ms = uv_now(g_loop); /* the idle clock starts after the answer */
    if (hc->discard_left > 0) {
        hc->mode = HC_DISCARD;
        return;
    }
    if (!hc->keep_alive) {
        http_conn_close(hc);
        return;
    }
    /* An answer to a held request: requests pipelined behind it may wait. */
    if (was_held && hc->in.len > 0) process_buffered(hc);
}

void http_conn_respond_json(http_conn *hc, int status, const char *json)
{
    http_conn_respond(hc, status, "application/json", NULL, json, strlen(json));
}

void http_conn_hold(http_conn *hc, void *owner, void (*on_abort)(void *owner, http_conn *hc))
{
    hc->mode = HC_HELD;
    hc->owner = owner;
    hc->on_abort = on_abort;
}

void http_conn_watch(http_conn *hc, void *owner, void (*on_abort)(void *owner, http_conn *hc))
{
    hc->owner = owner;
    hc->on_abort = on_abort;
}

void http_conn_release(http_conn *hc)
{
    hc->owner = NULL;
    hc->on_abort = NULL;
}

void http_conn_set_owner(http_conn *hc, void *owner)
{
    hc->owner = owner;
}

void http_conn_set_keep_alive(http_conn *hc, bool keep_alive)
{
    hc->keep_alive = keep_alive;
}

bool http_conn_cors_allowed(const http_conn *hc)
{
    return hc->cors >= 0;
}

bool http_conn_origin_allowed(const http_conn *hc, const http_request *req)
{
    const http_header *origin = http_request_header(req, "origin");
    if (!origin || hc->cors >= 0) return true;
    /* same origin: "<scheme>://" + the Host header, as the browser wrote both */
    const http_header *host = http_request_header(req, "host");
    const char *scheme = pd_conn_is_tls(hc->conn) ? "https://" : "http://";
    size_t slen = strlen(scheme);
    return host && host->value_len > 0 && origin->value_len == slen + host->value_len &&
           strncasecmp(origin->value, scheme, slen) == 0 &&
           strncasecmp(origin->value + slen, host->value, host->value_len) == 0;
}

bool http_conn_is_tls(const http_conn *hc)
{
    return pd_conn_is_tls(hc->conn);
}

const char *http_conn_peer(const http_conn *hc)
{
    return pd_conn_peer(hc->conn);
}

bool http_conn_is_websocket(const http_conn *hc)
{
    return hc->mode == HC_WEBSOCKET;
}

const pd_ip_key *http_conn_ip(const http_conn *hc)
{
    return pd_conn_ip(hc->conn);
}

bool http_conn_upgrade(http_conn *hc, const http_request *req, void *owner,
                       const http_ws_handler *handler)
{
    const http_header *key = http_request_header(req, "sec-websocket-key");
    const http_header *ver = http_request_header(req, "sec-websocket-version");
    char accept[29];
    if (!req->upgrade_websocket || !key || !ver || ver->value_len != 2 ||
        memcmp(ver->value, "13", 2) != 0 || !ws_accept_key(key->value, key->value_len, accept)) {
        hc->keep_alive = false;
        http_conn_respond(hc, 400, "text/html", NULL, "Bad Request", 11);
        return false;
    }
    char head[2048];
    size_t n = 0;
    head_add(head, sizeof head, &n,
             "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
             "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n",
             accept);
    char cors[1024];
    if (cors_headers(hc, cors, sizeof cors) > 0) head_add(head, sizeof head, &n, "%s", cors);
    head_add(head, sizeof head, &n, "\r\n");
    pd_conn_write(hc->conn, head, n);
    hc->mode = HC_WEBSOCKET;
    hc->owner = owner;
    hc->ws = handler;
    list_remove(hc); /* the Engine.IO heartbeat watches WebSockets */
    hc->head_since_ms = 0;
    if (g_cfg.max_ws_output)
        pd_conn_set_output_limits(hc->conn, g_cfg.max_ws_output, PD_WS_OUTPUT_SOFT,
                                  PD_WS_OUTPUT_SOFT_MS);
    ws_reader_init(&hc->reader, g_cfg.max_ws_message);
    return true;
}

void http_conn_ws_send(http_conn *hc, ws_opcode opcode, const char *prefix, const void *data,
                       size_t len)
{
    if (hc->mode != HC_WEBSOCKET) return;
    uint8_t head[11];
    size_t plen = prefix ? 1 : 0;
    size_t n = ws_frame_header_encode(head, true, opcode, len + plen);
    if (prefix) head[n++] = (uint8_t)prefix[0];
    pd_conn_write(hc->conn, head, n);
    if (len) pd_conn_write(hc->conn, data, len);
}

void http_conn_ws_close(http_conn *hc, uint16_t code)
{
    /* the owner is done with this connection whatever state it is in: a
     * close frame from the client may already have started closing it */
    hc->owner = NULL;
    if (hc->mode != HC_WEBSOCKET) {
        http_conn_close(hc);
        return;
    }
    uint8_t payload[125];
    size_t plen = code ? ws_close_payload_encode(payload, code, "") : 0;
    uint8_t head[10];
    size_t n = ws_frame_header_encode(head, true, WS_OP_CLOSE, plen);
    pd_conn_write(hc->conn, head, n);
    if (plen) pd_conn_write(hc->conn, payload, plen);
    hc->owner = NULL; /* the owner closed it: no on_close callback */
    http_conn_close(hc);
}

/* --- WebSocket input --------------------------------------------------- */

static void ws_handle(http_conn *hc, const ws_message *m)
{
    switch (m->opcode) {
    case WS_OP_TEXT:
    case WS_OP_BINARY:
        if (hc->owner) hc->ws->on_message(hc->owner, hc, m->opcode, m->data, m->len);
        break;
    case WS_OP_PING:
        http_conn_ws_send(hc, WS_OP_PONG, NULL, m->data, m->len);
        break;
    case WS_OP_CLOSE: {
        /* echo a close frame without a code, as the reference does */
        uint8_t head[10];
        size_t n = ws_frame_header_encode(head, true, WS_OP_CLOSE, 0);
        pd_conn_write(hc->conn, head, n);
        http_conn_close(hc); /* on_close fires from pd_conn's close */
        break;
    }
    default:
        break;
    }
}

/* Feeds bytes to the WebSocket reader; returns bytes consumed. */
static size_t ws_feed(http_conn *hc, uint8_t *data, size_t len)
{
    size_t used = 0;
    while (used < len && hc->mode == HC_WEBSOCKET) {
        size_t consumed = 0;
        ws_message m;
        int r = ws_reader_feed(&hc->reader, data + used, len - used, &consumed, &m);
        if (r < 0) {
            PD_LOG_DEBUG("websocket error: %s", ws_strerror(r));
            void *owner = hc->owner;
            http_conn_ws_close(hc, ws_error_close_code(r));
            hc->owner = owner; /* a protocol error is not the owner's close: tell it */
            return len;
        }
        if (r == 0 && consumed == 0) break; /* need more bytes */
        used += consumed;
        if (r == 1) ws_handle(hc, &m);
    }
    return used;
}

/* --- HTTP input -------------------------------------------------------- */

/* Drops body bytes after a 413; closes when the whole body is gone. */
static size_t discard(http_conn *hc, const uint8_t *data, size_t len)
{
    (void)data;
    if (hc->mode != HC_DISCARD) return len;
    size_t n = len < hc->discard_left ? len : (size_t)hc->discard_left;
    hc->discard_left -= n;
    if (hc->discard_left == 0) http_conn_close(hc);
    return len; /* anything after the body is dropped too: the connection ends */
}

/* Handles at most one request from data[0..len); returns bytes consumed,
 * 0 when more bytes are needed. */
static size_t http_feed(http_conn *hc, const uint8_t *data, size_t len)
{
    http_request req;
    int head_len = http_request_parse(data, len, PD_MAX_HTTP_HEAD, &req);
    if (head_len == HTTP_PARTIAL) {
        /* the head deadline runs from its first byte, whatever trickles after */
        if (!hc->head_since_ms && g_loop) hc->head_since_ms = uv_now(g_loop) | 1;
        return 0;
    }
    hc->head_since_ms = 0;
    if (head_len < 0) {
        PD_LOG_DEBUG("bad request: %s", http_strerror(head_len));
        hc->keep_alive = false;
        hc->head_only = false;
        int status = head_len == HTTP_E_TOO_BIG ? 431 : head_len == HTTP_E_CHUNKED ? 411 : 400;
        const char *msg = http_strerror(head_len);
        http_conn_respond(hc, status, "text/plain", NULL, msg, strlen(msg));
        return len;
    }
    hc->keep_alive = req.keep_alive;
    hc->head_only = req.method_len == 4 && memcmp(req.method, "HEAD", 4) == 0;
    cors_for_request(hc, &req);
    if (g_cfg.answers_from_head && g_cfg.answers_from_head(&req)) {
        /* the body is not wanted: dropped as it comes, never buffered, so a
         * shared video gets its answer, not a 413 */
        hc->keep_alive = false;
        if (req.content_length <= MAX_DISCARD) hc->discard_left = req.content_length;
        hc->started = false;
        g_cfg.on_request(hc, &req, NULL, 0);
        return (size_t)head_len + discard(hc, data + head_len, len - (size_t)head_len);
    }
    if (req.content_length > g_cfg.max_body) {
        /* the reference answers 413 and keeps the session; the body is not
         * read, so this connection cannot carry another request */
        hc->keep_alive = false;
        if (req.content_length <= MAX_DISCARD) hc->discard_left = req.content_length;
        http_conn_respond(hc, 413, NULL, NULL, NULL, 0);
        return (size_t)head_len + discard(hc, data + head_len, len - (size_t)head_len);
    }
    size_t total = (size_t)head_len + (size_t)req.content_length;
    if (len < total) {
        if (!hc->started && g_cfg.on_request_start) {
            hc->started = true;
            g_cfg.on_request_start(hc, &req, NULL, 0);
        }
        return 0;
    }
    hc->started = false;
    g_cfg.on_request(hc, &req, data + head_len, (size_t)req.content_length);
    return total;
}

/* Consumes as many whole requests / frames as possible from hc->in. */
static void process_buffered(http_conn *hc)
{
    if (hc->processing) return;
    hc->processing = true;
    /* consume once at the end: one memmove per read, not one per request */
    size_t off = 0;
    while (off < hc->in.len && !pd_conn_output_paused(hc->conn)) {
        size_t used;
        if (hc->mode == HC_READING)
            used = http_feed(hc, hc->in.data + off, hc->in.len - off);
        else if (hc->mode == HC_WEBSOCKET)
            used = ws_feed(hc, hc->in.data + off, hc->in.len - off);
        else
            break; /* held or closed: keep the bytes for later */
        if (used == 0) break;
        off += used;
    }
    pd_buf_consume(&hc->in, off);
    hc->processing = false;
}

static void on_data(pd_conn *c, uint8_t *data, size_t len)
{
    http_conn *hc = pd_conn_user(c);
    if (!hc || hc->mode == HC_CLOSED) return;
    if (g_loop) hc->active_ms = uv_now(g_loop);
    if (hc->mode == HC_DISCARD) {
        discard(hc, data, len);
        return;
    }
    if (hc->in.len == 0 && !hc->processing) {
        /* fast path: parse straight from the read buffer, keep only the tail */
        hc->processing = true;
        size_t used = 0;
        /* pipelined requests wait while the answers are not being read */
        while (used < len && !pd_conn_output_paused(c)) {
            size_t n = 0;
            if (hc->mode == HC_READING)
                n = http_feed(hc, data + used, len - used);
            else if (hc->mode == HC_WEBSOCKET)
                n = ws_feed(hc, data + used, len - used);
            if (n == 0) break;
            used += n;
        }
        hc->processing = false;
        data += used;
        len -= used;
        if (len == 0 || hc->mode == HC_CLOSED) return;
    }
    if (pd_buf_append(&hc->in, data, len) != PD_BUF_OK) {
        PD_LOG_DEBUG("input over limit, closing");
        http_conn_close(hc);
        return;
    }
    process_buffered(hc);
}

/* Output drained below the pause level: answer what was left waiting. */
static void on_drain(pd_conn *c)
{
    http_conn *hc = pd_conn_user(c);
    if (!hc || hc->in.len == 0) return;
    if (hc->mode == HC_READING || hc->mode == HC_WEBSOCKET) process_buffered(hc);
}

static void on_close(pd_conn *c)
{
    http_conn *hc = pd_conn_user(c);
    if (!hc) return;
    hc->mode = HC_CLOSED;
    list_remove(hc);
    if (hc->owner) {
        if (hc->on_abort)
            hc->on_abort(hc->owner, hc);
        else if (hc->ws)
            hc->ws->on_close(hc->owner, hc);
    }
    ws_reader_cleanup(&hc->reader);
    pd_buf_reset(&hc->in);
    free(hc);
}

const pd_conn_handler http_conn_handler = {
    .on_data = on_data, .on_close = on_close, .on_drain = on_drain};
