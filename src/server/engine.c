/* engine.c: see engine.h.
 *
 * A session is in one of two transports: POLLING (held GET + POSTs) or
 * WEBSOCKET (one connection). A polling session may carry a second, probing
 * WebSocket during an upgrade. Output for a polling session is kept encoded
 * as a polling payload and sent when a GET is (or becomes) available; the
 * flush happens once per loop iteration so that everything produced in one
 * tick leaves in one response, as the reference does. */
#include "engine.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base64.h"
#include "base/buf.h"
#include "base/id.h"
#include "base/ip_count.h"
#include "base/log.h"
#include "base/map.h"
#include "base/refused.h"
#include "eio/eio.h"

#define SID_LEN PD_ID_LEN
/* A polling client that stops polling cannot make us buffer without bound. */
#define MAX_PENDING_FACTOR 4u

enum transport { T_POLLING, T_WEBSOCKET };

struct eio_session {
    char sid[SID_LEN + 1];
    uint8_t transport;
    bool closed;
    bool awaiting_pong;
    bool upgrading;     /* probe answered, waiting for "5" */
    bool dirty;         /* pending output to flush to a held poll */
    pd_map_entry entry; /* in g.table, keyed by sid */
    eio_session *dirty_next;
    http_conn *poll;  /* held GET */
    http_conn *post;  /* POST whose body is still arriving */
    http_conn *ws;    /* the WebSocket transport */
    http_conn *probe; /* a WebSocket being probed for upgrade */
    uv_timer_t *upgrade_timer;
    pd_buf pending; /* polling payload waiting for a GET */
    char peer[64];  /* the handshake's client address, for per-client limits */
    uv_timer_t heartbeat;
    void *user;
    pd_ip_key ip;    /* the handshake's client address */
    bool ip_counted; /* in g.ips */
};

static struct {
    uv_loop_t *loop;
    engine_config cfg;
    pd_map table;
    size_t websocket_count;
    uint64_t upgrades;
    eio_session *dirty_head;
    pd_ip_count *ips; /* open sessions per client address */
} g;

/* --- session table ----------------------------------------------------- */

static eio_session *table_find(const char *sid, size_t len)
{
    pd_map_entry *e = pd_map_find(&g.table, sid, len);
    return e ? PD_CONTAINER_OF(e, eio_session, entry) : NULL;
}

static bool table_insert(eio_session *s)
{
    s->entry.key = s->sid;
    s->entry.key_len = SID_LEN;
    return pd_map_insert(&g.table, &s->entry);
}

static void table_remove(eio_session *s)
{
    pd_map_remove(&g.table, &s->entry);
    if (s->ip_counted) pd_ip_count_remove(g.ips, &s->ip);
    s->ip_counted = false;
}

/* The session caps: NULL if a new session from hc's address may open, else
 * the message of the refusal. */
static const char *session_refusal(http_conn *hc)
{
    if (g.cfg.max_sessions && g.table.count >= g.cfg.max_sessions) {
        pd_refused(PD_REFUSED_SESSIONS_TOTAL);
        return "Too many sessions";
    }
    if (g.cfg.max_sessions_per_ip && g.ips &&
        pd_ip_count_get(g.ips, http_conn_ip(hc)) >= g.cfg.max_sessions_per_ip) {
        pd_refused(PD_REFUSED_SESSIONS_PER_IP);
        return "Too many sessions from this address";
    }
    return NULL;
}

/* --- helpers ------------------------------------------------------------ */

static void respond_error(http_conn *hc, const http_request *req, eio_http_error code)
{
    char json[128];
    eio_http_error_json(json, sizeof json, code);
    if (req && req->upgrade_websocket) {
        /* the reference answers a refused upgrade with a bare 400 and a close */
        const char *msg = eio_http_error_message(code);
        http_conn_set_keep_alive(hc, false);
        http_conn_respond(hc, 400, "text/html", NULL, msg, strlen(msg));
        return;
    }
    http_conn_respond_json(hc, code == EIO_HTTP_FORBIDDEN ? 403 : 400, json);
}

static const char poll_content_type[] = "text/plain; charset=UTF-8";
static const char no_store[] = "cache-control: no-store\r\n";

static void poll_respond(http_conn *hc, const void *body, size_t len)
{
    http_conn_respond(hc, 200, poll_content_type, no_store, body, len);
}

static void mark_dirty(eio_session *s)
{
    if (s->dirty) return;
    s->dirty = true;
    s->dirty_next = g.dirty_head;
    g.dirty_head = s;
}

/* Queues one packet on the session's current transport. */
static void send_packet(eio_session *s, const eio_packet *p)
{
    if (s->closed) return;
    if (s->transport == T_WEBSOCKET) {
        if (p->binary) {
            http_conn_ws_send(s->ws, WS_OP_BINARY, NULL, p->data, p->len);
        } else {
            char type = (char)('0' + p->type);
            http_conn_ws_send(s->ws, WS_OP_TEXT, &type, p->data, p->len);
        }
        return;
    }
    if (eio_payload_append(&s->pending, p) != 0) {
        PD_LOG_WARN("session sid=%.6s.. output over limit: client is not polling", s->sid);
        engine_close(s);
        return;
    }
    mark_dirty(s);
}

static void send_simple(eio_session *s, eio_type type, const char *data)
{
    eio_packet p = {.type = type,
                    .binary = false,
                    .data = (const uint8_t *)data,
                    .len = data ? strlen(data) : 0};
    send_packet(s, &p);
}

/* --- closing ------------------------------------------------------------ */

static void free_session(uv_handle_t *h)
{
    eio_session *s = h->data;
    pd_buf_reset(&s->pending);
    free(s);
}

static void free_timer(uv_handle_t *h)
{
    free(h);
}

static void stop_upgrade_timer(eio_session *s)
{
    if (!s->upgrade_timer) return;
    uv_close((uv_handle_t *)s->upgrade_timer, free_timer);
    s->upgrade_timer = NULL;
}

/* poll_reply: what a held GET receives ("1" close, "6" noop, NULL: 400). */
static void session_close(eio_session *s, const char *reason, const char *poll_reply)
{
    if (s->closed) return;
    s->closed = true;
    table_remove(s);
    if (s->transport == T_WEBSOCKET) g.websocket_count--;
    if (s->poll) {
        http_conn *hc = s->poll;
        s->poll = NULL;
        http_conn_release(hc);
        eio_packet close_packet = {.type = EIO_CLOSE};
        if (poll_reply && poll_reply[0] == '1' && s->pending.len > 0 &&
            eio_payload_append(&s->pending, &close_packet) == 0) {
            /* what was queued goes first, as the reference flushes its
             * write buffer before closing (Socket.close): a CONNECT_ERROR
             * saying why reaches the client */
            poll_respond(hc, s->pending.data, s->pending.len);
        } else if (poll_reply) {
            poll_respond(hc, poll_reply, strlen(poll_reply));
        } else {
            http_conn_respond(hc, 400, NULL, NULL, NULL, 0);
        }
    }
    if (s->post) {
        http_conn_release(s->post);
        s->post = NULL;
    }
    if (s->ws) {
        http_conn *hc = s->ws;
        s->ws = NULL;
        http_conn_ws_close(hc, 0);
    }
    if (s->probe) {
        http_conn *hc = s->probe;
        s->probe = NULL;
        http_conn_ws_close(hc, 0);
    }
    stop_upgrade_timer(s);
    PD_LOG_DEBUG("session closed sid=%.6s.. reason=%s", s->sid, reason);
    g.cfg.cb.on_close(s, reason);
    uv_timer_stop(&s->heartbeat);
    uv_close((uv_handle_t *)&s->heartbeat, free_session);
}

void engine_close(eio_session *s)
{
    /* a held poll carries the close packet; without one the client learns
     * of it from the 400 of its next request */
    session_close(s, "forced close", "1");
}

/* --- heartbeat ---------------------------------------------------------- */

static void heartbeat_cb(uv_timer_t *t)
{
    eio_session *s = t->data;
    if (s->awaiting_pong) {
        session_close(s, "ping timeout", NULL);
        return;
    }
    s->awaiting_pong = true;
    send_simple(s, EIO_PING, NULL);
    uv_timer_start(&s->heartbeat, heartbeat_cb, g.cfg.ping_timeout_ms, 0);
}

/* --- incoming packets --------------------------------------------------- */

/* Handles one packet from the client on the session's current transport.
 * Returns false when the session closed. */
static bool session_on_packet(eio_session *s, const eio_packet *p)
{
    switch (p->type) {
    case EIO_MESSAGE:
        g.cfg.cb.on_message(s, p->data, p->len, p->binary);
        break;
    case EIO_PONG:
        if (s->awaiting_pong) {
            s->awaiting_pong = false;
            uv_timer_start(&s->heartbeat, heartbeat_cb, g.cfg.ping_interval_ms, 0);
        }
        break;
    case EIO_CLOSE:
        session_close(s, "transport close", "6");
        return false;
    default:
        /* v4: the server pings, so a client ping is a protocol error; so are
         * open, upgrade and noop from a client on an established transport */
        session_close(s, "parse error", "1");
        return false;
    }
    return !s->closed;
}

/* --- flush (end of every loop iteration) -------------------------------- */

static void engine_flush(void)
{
    while (g.dirty_head) {
        eio_session *s = g.dirty_head;
        g.dirty_head = s->dirty_next;
        s->dirty = false;
        if (s->closed || !s->poll || s->pending.len == 0 || s->upgrading) continue;
        http_conn *hc = s->poll;
        s->poll = NULL;
        http_conn_release(hc);
        poll_respond(hc, s->pending.data, s->pending.len);
        pd_buf_reset(&s->pending);
    }
}

/* --- polling ------------------------------------------------------------ */

static void on_poll_abort(void *owner, http_conn *hc)
{
    eio_session *s = owner;
    if (s->poll != hc) return;
    s->poll = NULL;
    /* the reference closes a session whose pending poll was cancelled */
    session_close(s, "transport close", NULL);
}

static void handle_poll_get(eio_session *s, http_conn *hc)
{
    if (s->poll) {
        /* overlapping GETs: the reference closes the session; the first GET
         * gets a close packet, this one a 400 */
        session_close(s, "transport error", "1");
        http_conn_respond(hc, 400, NULL, NULL, NULL, 0);
        return;
    }
    if (s->upgrading) {
        /* every poll during an upgrade gets a noop so the client can finish
         * it (socketioxide #479/#497, python-engineio #160) */
        poll_respond(hc, "6", 1);
        return;
    }
    if (s->pending.len > 0) {
        poll_respond(hc, s->pending.data, s->pending.len);
        pd_buf_reset(&s->pending);
        return;
    }
    s->poll = hc;
    http_conn_hold(hc, s, on_poll_abort);
}

static void on_post_abort(void *owner, http_conn *hc)
{
    eio_session *s = owner;
    if (s->post == hc) s->post = NULL;
}

static void handle_poll_post(eio_session *s, http_conn *hc, const http_request *req,
                             const uint8_t *body, size_t len)
{
    if (s->post == hc) {
        http_conn_release(hc);
        s->post = NULL;
    } else if (s->post) {
        /* overlapping POSTs: the reference closes the session */
        http_conn_respond(hc, 400, NULL, NULL, NULL, 0);
        session_close(s, "transport error", "1");
        return;
    }
    const http_header *ct = http_request_header(req, "content-type");
    if (ct && ct->value_len >= 24 && strncasecmp(ct->value, "application/octet-stream", 24) == 0) {
        /* Engine.IO v4 polling is text only */
        http_conn_respond(hc, 400, NULL, NULL, NULL, 0);
        session_close(s, "parse error", "1");
        return;
    }
    /* validate the whole payload before acting on any packet, so a bad
     * record does not leave half a payload applied */
    size_t pos = 0;
    const uint8_t *rec;
    size_t rec_len;
    bool ok = len > 0;
    while (ok && eio_payload_next(body, len, &pos, &rec, &rec_len)) {
        eio_packet p;
        if (rec_len == 0)
            ok = false;
        else if (rec[0] == 'b')
            ok = true; /* base64 checked below */
        else
            ok = eio_packet_parse_text(rec, rec_len, &p) == 0;
    }
    if (!ok) {
        http_conn_respond(hc, 400, NULL, NULL, NULL, 0);
        session_close(s, "parse error", "1");
        return;
    }
    /* answer first: packets may make the upper layer write to this session */
    http_conn_respond(hc, 200, "text/html", NULL, "ok", 2);
    pos = 0;
    while (!s->closed && eio_payload_next(body, len, &pos, &rec, &rec_len)) {
        eio_packet p;
        uint8_t *scratch = NULL;
        if (rec[0] == 'b') {
            scratch = malloc(PD_BASE64_DECODED_MAX(rec_len));
            if (!scratch || eio_record_parse(rec, rec_len, scratch, &p) != 0) {
                free(scratch);
                session_close(s, "parse error", "1");
                break;
            }
        } else {
            eio_packet_parse_text(rec, rec_len, &p);
        }
        session_on_packet(s, &p);
        free(scratch);
    }
}

/* --- WebSocket ---------------------------------------------------------- */

static void finish_upgrade(eio_session *s)
{
    http_conn *hc = s->probe;
    s->probe = NULL;
    s->ws = hc;
    s->upgrading = false;
    s->transport = T_WEBSOCKET;
    g.websocket_count++;
    g.upgrades++;
    stop_upgrade_timer(s);
    if (s->poll) {
        http_conn *poll = s->poll;
        s->poll = NULL;
        http_conn_release(poll);
        poll_respond(poll, "6", 1);
    }
    /* packets buffered for polling now go over the WebSocket, in order */
    if (s->pending.len > 0) {
        size_t len;
        uint8_t *payload = pd_buf_steal(&s->pending, &len);
        size_t pos = 0;
        const uint8_t *rec;
        size_t rec_len;
        while (eio_payload_next(payload, len, &pos, &rec, &rec_len)) {
            eio_packet p;
            uint8_t *scratch =
                rec_len && rec[0] == 'b' ? malloc(PD_BASE64_DECODED_MAX(rec_len)) : NULL;
            if (eio_record_parse(rec, rec_len, scratch, &p) == 0) send_packet(s, &p);
            free(scratch);
        }
        free(payload);
    }
}

static void abort_probe(eio_session *s)
{
    http_conn *hc = s->probe;
    s->probe = NULL;
    s->upgrading = false;
    stop_upgrade_timer(s);
    if (hc) http_conn_ws_close(hc, 0);
    mark_dirty(s); /* output held back during the probe can go to polling again */
}

static void upgrade_timeout_cb(uv_timer_t *t)
{
    eio_session *s = t->data;
    PD_LOG_DEBUG("upgrade timeout sid=%.6s..", s->sid);
    abort_probe(s);
}

static void ws_on_message(void *owner, http_conn *hc, ws_opcode op, const uint8_t *data, size_t len)
{
    eio_session *s = owner;
    if (s->closed) return;
    if (hc == s->probe) {
        eio_packet p;
        bool text = op == WS_OP_TEXT && eio_packet_parse_text(data, len, &p) == 0;
        if (text && p.type == EIO_PING && p.len == 5 && memcmp(p.data, "probe", 5) == 0 &&
            !s->upgrading) {
            http_conn_ws_send(hc, WS_OP_TEXT, "3", "probe", 5);
            s->upgrading = true;
            if (s->poll) { /* release the paused poller with a noop */
                http_conn *poll = s->poll;
                s->poll = NULL;
                http_conn_release(poll);
                poll_respond(poll, "6", 1);
            }
        } else if (text && p.type == EIO_UPGRADE && p.len == 0 && s->upgrading) {
            finish_upgrade(s);
        } else {
            abort_probe(s);
        }
        return;
    }
    if (hc != s->ws) return;
    if (op == WS_OP_BINARY) {
        eio_packet p = {.type = EIO_MESSAGE, .binary = true, .data = data, .len = len};
        session_on_packet(s, &p);
        return;
    }
    eio_packet p;
    if (eio_packet_parse_text(data, len, &p) != 0) {
        session_close(s, "parse error", NULL);
        return;
    }
    session_on_packet(s, &p);
}

static void ws_on_close(void *owner, http_conn *hc)
{
    eio_session *s = owner;
    if (hc == s->probe) {
        s->probe = NULL;
        s->upgrading = false;
        stop_upgrade_timer(s);
        mark_dirty(s);
        return;
    }
    if (hc == s->ws) {
        s->ws = NULL;
        session_close(s, "transport close", NULL);
    }
}

static const http_ws_handler ws_handler = {.on_message = ws_on_message, .on_close = ws_on_close};

static void handle_ws_upgrade(eio_session *s, http_conn *hc, const http_request *req)
{
    if (s->transport == T_WEBSOCKET || s->probe) {
        /* one WebSocket per session: accept the handshake, then close */
        if (http_conn_upgrade(hc, req, NULL, &ws_handler)) http_conn_ws_close(hc, 0);
        return;
    }
    if (!http_conn_upgrade(hc, req, s, &ws_handler)) return;
    s->probe = hc;
    s->upgrade_timer = malloc(sizeof *s->upgrade_timer);
    if (s->upgrade_timer) {
        uv_timer_init(g.loop, s->upgrade_timer);
        s->upgrade_timer->data = s;
        uv_timer_start(s->upgrade_timer, upgrade_timeout_cb, g.cfg.upgrade_timeout_ms, 0);
    }
}

/* --- handshake ---------------------------------------------------------- */

static void handshake(http_conn *hc, const http_request *req, eio_transport transport)
{
    if (req->method_len != 3 || memcmp(req->method, "GET", 3) != 0) {
        respond_error(hc, req, EIO_HTTP_BAD_HANDSHAKE_METHOD);
        return;
    }
    const char *refusal = session_refusal(hc);
    if (refusal) {
        /* the reference's answer to a handshake its allowRequest refuses:
         * Forbidden (code 4, 403) with the reason as the message; a refused
         * WebSocket upgrade gets its bare 400 with the message, and a close */
        PD_LOG_DEBUG("handshake refused: %s", refusal);
        if (req->upgrade_websocket) {
            http_conn_set_keep_alive(hc, false);
            http_conn_respond(hc, 400, "text/html", NULL, refusal, strlen(refusal));
            return;
        }
        char json[128];
        snprintf(json, sizeof json, "{\"code\":%d,\"message\":\"%s\"}", EIO_HTTP_FORBIDDEN,
                 refusal);
        http_conn_respond_json(hc, 403, json);
        return;
    }
    eio_session *s = calloc(1, sizeof *s);
    if (!s) {
        http_conn_respond(hc, 503, NULL, NULL, NULL, 0);
        return;
    }
    do
        pd_random_id(s->sid);
    while (table_find(s->sid, SID_LEN));
    snprintf(s->peer, sizeof s->peer, "%s", http_conn_peer(hc));
    pd_buf_init(&s->pending, (size_t)g.cfg.max_payload * MAX_PENDING_FACTOR);
    if (!table_insert(s)) {
        free(s);
        http_conn_respond(hc, 503, NULL, NULL, NULL, 0);
        return;
    }
    s->ip = *http_conn_ip(hc);
    s->ip_counted = g.ips && pd_ip_count_add(g.ips, &s->ip);
    char open[256];
    open[0] = '0';
    int n = eio_open_json(open + 1, sizeof open - 1, s->sid, transport == EIO_TRANSPORT_POLLING,
                          g.cfg.ping_interval_ms, g.cfg.ping_timeout_ms, g.cfg.max_payload);
    if (transport == EIO_TRANSPORT_WEBSOCKET) {
        if (!http_conn_upgrade(hc, req, s, &ws_handler)) {
            table_remove(s);
            free(s);
            return;
        }
        s->transport = T_WEBSOCKET;
        s->ws = hc;
        g.websocket_count++;
        http_conn_ws_send(hc, WS_OP_TEXT, NULL, open, (size_t)n + 1);
    } else {
        s->transport = T_POLLING;
        poll_respond(hc, open, (size_t)n + 1);
    }
    uv_timer_init(g.loop, &s->heartbeat);
    s->heartbeat.data = s;
    uv_timer_start(&s->heartbeat, heartbeat_cb, g.cfg.ping_interval_ms, 0);
    g.cfg.cb.on_open(s);
}

void engine_handle_request(http_conn *hc, const http_request *req, const uint8_t *body,
                           size_t body_len)
{
    if (!http_conn_origin_allowed(hc, req)) {
        /* a page from elsewhere: Forbidden, on polling and WebSocket alike
         * (the reference's allowRequest answers code 4 with 403) */
        char json[128];
        eio_http_error_json(json, sizeof json, EIO_HTTP_FORBIDDEN);
        if (req->upgrade_websocket) http_conn_set_keep_alive(hc, false);
        http_conn_respond_json(hc, 403, json);
        return;
    }
    eio_query q;
    eio_http_error err = eio_query_parse(req->query, req->query_len, &q);
    if (err == EIO_HTTP_UNKNOWN_TRANSPORT) {
        respond_error(hc, req, err);
        return;
    }
    bool ws_request = q.transport == EIO_TRANSPORT_WEBSOCKET;
    if (ws_request != req->upgrade_websocket) {
        /* websocket without Upgrade headers, or an Upgrade on polling */
        respond_error(hc, req, EIO_HTTP_BAD_REQUEST);
        return;
    }
    if (!q.sid) {
        /* the reference checks the method before the protocol version */
        if (!(req->method_len == 3 && memcmp(req->method, "GET", 3) == 0))
            respond_error(hc, req, EIO_HTTP_BAD_HANDSHAKE_METHOD);
        else if (err != EIO_HTTP_OK)
            respond_error(hc, req, err);
        else
            handshake(hc, req, q.transport);
        return;
    }
    eio_session *s = table_find(q.sid, q.sid_len);
    if (!s) {
        respond_error(hc, req, EIO_HTTP_UNKNOWN_SID);
        return;
    }
    if (ws_request) {
        handle_ws_upgrade(s, hc, req);
        return;
    }
    if (s->transport != T_POLLING) {
        respond_error(hc, req, EIO_HTTP_BAD_REQUEST); /* transport mismatch */
        return;
    }
    if (req->method_len == 3 && memcmp(req->method, "GET", 3) == 0) {
        handle_poll_get(s, hc);
    } else if (req->method_len == 4 && memcmp(req->method, "POST", 4) == 0) {
        handle_poll_post(s, hc, req, body, body_len);
    } else {
        respond_error(hc, req, EIO_HTTP_BAD_REQUEST);
    }
}

void engine_request_start(http_conn *hc, const http_request *req)
{
    eio_query q;
    if (eio_query_parse(req->query, req->query_len, &q) != EIO_HTTP_OK || !q.sid ||
        q.transport != EIO_TRANSPORT_POLLING)
        return;
    eio_session *s = table_find(q.sid, q.sid_len);
    if (!s || s->transport != T_POLLING) return;
    if (s->post && s->post != hc) {
        session_close(s, "transport error", "1"); /* the body's owner gets 400 (code 1) later */
        return;
    }
    s->post = hc;
    http_conn_watch(hc, s, on_post_abort);
}

/* --- public ------------------------------------------------------------- */

void engine_init(uv_loop_t *loop, const engine_config *cfg)
{
    g.loop = loop;
    g.cfg = *cfg;
    g.ips = pd_ip_count_create();
    pd_conn_add_flush_hook(engine_flush);
}

static void close_for_shutdown(pd_map_entry *e, void *ctx)
{
    (void)ctx;
    session_close(PD_CONTAINER_OF(e, eio_session, entry), "server shutting down", "1");
}

void engine_shutdown(void)
{
    pd_map_each(&g.table, close_for_shutdown, NULL);
    engine_flush();
    pd_map_cleanup(&g.table);
    pd_ip_count_destroy(g.ips);
    g.ips = NULL;
}

void engine_send(eio_session *s, const uint8_t *data, size_t len, bool binary)
{
    eio_packet p = {.type = EIO_MESSAGE, .binary = binary, .data = data, .len = len};
    send_packet(s, &p);
}

void engine_session_set_user(eio_session *s, void *user)
{
    s->user = user;
}

void *engine_session_user(const eio_session *s)
{
    return s->user;
}

const char *engine_session_id(const eio_session *s)
{
    return s->sid;
}

const char *engine_session_peer(const eio_session *s)
{
    return s->peer;
}

bool engine_session_is_websocket(const eio_session *s)
{
    return s->transport == T_WEBSOCKET;
}

void engine_get_stats(engine_stats *out)
{
    out->sessions_websocket = g.websocket_count;
    out->sessions_polling = g.table.count - g.websocket_count;
    out->upgrades = g.upgrades;
}
