/* engine.c: see engine.h.
 *
 * The libuv glue around src/eio/session (the protocol: heartbeat, upgrade,
 * output buffering, close reasons). This file keeps what the core does not
 * own: the session table and its caps, the HTTP requests and WebSockets a
 * session is using (the held GET, a POST whose body is arriving, the
 * WebSocket, a probe), one timer per session armed for the core's next
 * deadline, and the flush of held polls once per loop iteration. */
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
#include "eio/session.h"

#define SID_LEN PD_ID_LEN

struct srv_eio_session {
    char sid[SID_LEN + 1];
    eio_sess core;      /* the protocol: heartbeat, upgrade, buffering */
    pd_map_entry entry; /* in g.table, keyed by sid */
    srv_eio_session *dirty_next;
    http_conn *current; /* the request being handed to the core */
    http_conn *poll;    /* held GET */
    http_conn *post;    /* POST whose body is still arriving */
    http_conn *ws;      /* the WebSocket transport */
    http_conn *probe;   /* a WebSocket being probed for upgrade */
    char peer[64];      /* the handshake's client address, for per-client limits */
    uv_timer_t timer;   /* the core's next deadline */
    void *user;
    pd_ip_key ip;    /* the handshake's client address */
    bool ip_counted; /* in g.ips */
    bool timer_open; /* uv_timer_init done: freed through uv_close */
};

static struct {
    uv_loop_t *loop;
    engine_config cfg;
    pd_map table;
    size_t websocket_count;
    uint64_t upgrades;
    srv_eio_session *dirty_head;
    pd_ip_count *ips; /* open sessions per client address */
} g;

/* --- session table ----------------------------------------------------- */

static srv_eio_session *table_find(const char *sid, size_t len)
{
    pd_map_entry *e = pd_map_find(&g.table, sid, len);
    return e ? PD_CONTAINER_OF(e, srv_eio_session, entry) : NULL;
}

static bool table_insert(srv_eio_session *s)
{
    s->entry.key = s->sid;
    s->entry.key_len = SID_LEN;
    return pd_map_insert(&g.table, &s->entry);
}

static void table_remove(srv_eio_session *s)
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

static uint64_t now_ms(void)
{
    return uv_now(g.loop);
}

/* Arms the session's timer for the core's next deadline. */
static void timer_cb(uv_timer_t *t);
static void rearm(srv_eio_session *s)
{
    if (!s->timer_open || eio_sess_is_closed(&s->core)) return;
    int64_t due = eio_sess_deadline(&s->core);
    if (due == EIO_SESS_NEVER) {
        uv_timer_stop(&s->timer);
        return;
    }
    int64_t now = (int64_t)now_ms();
    uv_timer_start(&s->timer, timer_cb, due > now ? (uint64_t)(due - now) : 0, 0);
}

static void timer_cb(uv_timer_t *t)
{
    srv_eio_session *s = t->data;
    eio_sess_tick(&s->core, (int64_t)now_ms());
    rearm(s);
}

/* --- the core's I/O ----------------------------------------------------- */

static void io_reply(void *ctx, eio_sess_req to, eio_sess_reply kind, const uint8_t *body,
                     size_t len)
{
    srv_eio_session *s = ctx;
    http_conn *hc;
    if (to == EIO_SESS_REQ_HELD_POLL) {
        hc = s->poll;
        s->poll = NULL;
        if (!hc) return;
        http_conn_release(hc);
    } else {
        hc = s->current;
        if (!hc) return;
    }
    switch (kind) {
    case EIO_SESS_REPLY_PAYLOAD:
        http_conn_respond(hc, 200, poll_content_type, no_store, body, len);
        break;
    case EIO_SESS_REPLY_OK:
        http_conn_respond(hc, 200, "text/html", NULL, "ok", 2);
        break;
    case EIO_SESS_REPLY_BAD:
        http_conn_respond(hc, 400, NULL, NULL, NULL, 0);
        break;
    }
}

static void io_ws_send(void *ctx, eio_sess_ws to, bool binary, char type, const uint8_t *data,
                       size_t len)
{
    srv_eio_session *s = ctx;
    http_conn *hc = to == EIO_SESS_WS_PROBE ? s->probe : s->ws;
    if (!hc) return;
    if (binary)
        http_conn_ws_send(hc, WS_OP_BINARY, NULL, data, len);
    else
        http_conn_ws_send(hc, WS_OP_TEXT, type ? &type : NULL, data, len);
}

static void io_probe_close(void *ctx)
{
    srv_eio_session *s = ctx;
    http_conn *hc = s->probe;
    s->probe = NULL;
    if (hc) http_conn_ws_close(hc, 0);
}

static void io_upgraded(void *ctx)
{
    srv_eio_session *s = ctx;
    s->ws = s->probe;
    s->probe = NULL;
    g.websocket_count++;
    g.upgrades++;
}

static void io_want_flush(void *ctx)
{
    srv_eio_session *s = ctx;
    s->dirty_next = g.dirty_head;
    g.dirty_head = s;
}

static void io_on_message(void *ctx, const uint8_t *data, size_t len, bool binary)
{
    g.cfg.cb.on_message(ctx, data, len, binary);
}

static void free_session(uv_handle_t *h)
{
    srv_eio_session *s = h->data;
    eio_sess_cleanup(&s->core);
    free(s);
}

static void io_on_close(void *ctx, const char *reason)
{
    srv_eio_session *s = ctx;
    table_remove(s);
    if (eio_sess_is_websocket(&s->core)) g.websocket_count--;
    if (s->post) {
        http_conn_release(s->post);
        s->post = NULL;
    }
    if (s->ws) {
        http_conn *hc = s->ws;
        s->ws = NULL;
        http_conn_ws_close(hc, 0);
    }
    io_probe_close(s);
    PD_LOG_DEBUG("session closed sid=%.6s.. reason=%s", s->sid, reason);
    g.cfg.cb.on_close(s, reason);
    uv_timer_stop(&s->timer);
    /* freed once libuv lets go of the timer; until then the session stays
     * readable for the callers up the stack */
    uv_close((uv_handle_t *)&s->timer, free_session);
}

static const eio_sess_io session_io = {
    .reply = io_reply,
    .ws_send = io_ws_send,
    .probe_close = io_probe_close,
    .upgraded = io_upgraded,
    .want_flush = io_want_flush,
    .on_message = io_on_message,
    .on_close = io_on_close,
};

void engine_close(srv_eio_session *s)
{
    eio_sess_close(&s->core, "forced close");
}

/* --- flush (end of every loop iteration) -------------------------------- */

static void engine_flush(void)
{
    while (g.dirty_head) {
        srv_eio_session *s = g.dirty_head;
        g.dirty_head = s->dirty_next;
        eio_sess_flush(&s->core);
    }
}

/* --- polling ------------------------------------------------------------ */

static void on_poll_abort(void *owner, http_conn *hc)
{
    srv_eio_session *s = owner;
    if (s->poll != hc) return;
    s->poll = NULL;
    eio_sess_poll_aborted(&s->core, (int64_t)now_ms());
}

static void handle_poll_get(srv_eio_session *s, http_conn *hc)
{
    s->current = hc;
    bool hold = eio_sess_poll_get(&s->core);
    s->current = NULL;
    if (!hold) return;
    s->poll = hc;
    http_conn_hold(hc, s, on_poll_abort);
}

static void on_post_abort(void *owner, http_conn *hc)
{
    srv_eio_session *s = owner;
    if (s->post != hc) return;
    s->post = NULL;
    eio_sess_post_aborted(&s->core);
}

static void handle_poll_post(srv_eio_session *s, http_conn *hc, const http_request *req,
                             const uint8_t *body, size_t len)
{
    bool announced = s->post == hc;
    if (announced) {
        http_conn_release(hc);
        s->post = NULL;
    }
    const http_header *ct = http_request_header(req, "content-type");
    bool octet_stream =
        ct && ct->value_len >= 24 && strncasecmp(ct->value, "application/octet-stream", 24) == 0;
    s->current = hc;
    eio_sess_post(&s->core, body, len, announced, octet_stream, (int64_t)now_ms());
    s->current = NULL;
    rearm(s);
}

/* --- WebSocket ---------------------------------------------------------- */

static void ws_on_message(void *owner, http_conn *hc, ws_opcode op, const uint8_t *data, size_t len)
{
    srv_eio_session *s = owner;
    if (eio_sess_is_closed(&s->core)) return;
    if (hc == s->probe)
        eio_sess_probe_frame(&s->core, op != WS_OP_TEXT, data, len);
    else if (hc == s->ws)
        eio_sess_ws_frame(&s->core, op == WS_OP_BINARY, data, len, (int64_t)now_ms());
    else
        return;
    rearm(s);
}

static void ws_on_close(void *owner, http_conn *hc)
{
    srv_eio_session *s = owner;
    if (hc == s->probe) {
        s->probe = NULL;
        eio_sess_probe_closed(&s->core);
        rearm(s);
        return;
    }
    if (hc == s->ws) {
        s->ws = NULL;
        eio_sess_ws_closed(&s->core);
    }
}

static const http_ws_handler ws_handler = {.on_message = ws_on_message, .on_close = ws_on_close};

static void handle_ws_upgrade(srv_eio_session *s, http_conn *hc, const http_request *req)
{
    if (!eio_sess_probe_open(&s->core, (int64_t)now_ms())) {
        /* one WebSocket per session: accept the handshake, then close */
        if (http_conn_upgrade(hc, req, NULL, &ws_handler)) http_conn_ws_close(hc, 0);
        return;
    }
    if (!http_conn_upgrade(hc, req, s, &ws_handler)) {
        eio_sess_probe_closed(&s->core);
        rearm(s);
        return;
    }
    s->probe = hc;
    rearm(s);
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
    srv_eio_session *s = calloc(1, sizeof *s);
    if (!s) {
        http_conn_respond(hc, 503, NULL, NULL, NULL, 0);
        return;
    }
    do
        pd_random_id(s->sid);
    while (table_find(s->sid, SID_LEN));
    snprintf(s->peer, sizeof s->peer, "%s", http_conn_peer(hc));
    bool websocket = transport == EIO_TRANSPORT_WEBSOCKET;
    eio_sess_config scfg = {.ping_interval_ms = g.cfg.ping_interval_ms,
                            .ping_timeout_ms = g.cfg.ping_timeout_ms,
                            .upgrade_timeout_ms = g.cfg.upgrade_timeout_ms,
                            .max_payload = g.cfg.max_payload};
    eio_sess_io io = session_io;
    io.ctx = s;
    eio_sess_init(&s->core, &scfg, &io, websocket, (int64_t)now_ms());
    if (!table_insert(s)) {
        eio_sess_cleanup(&s->core);
        free(s);
        http_conn_respond(hc, 503, NULL, NULL, NULL, 0);
        return;
    }
    s->ip = *http_conn_ip(hc);
    s->ip_counted = g.ips && pd_ip_count_add(g.ips, &s->ip);
    char open[256];
    int n = eio_sess_open_packet(&s->core, s->sid, open, sizeof open);
    if (websocket) {
        if (!http_conn_upgrade(hc, req, s, &ws_handler)) {
            table_remove(s);
            eio_sess_cleanup(&s->core);
            free(s);
            return;
        }
        s->ws = hc;
        g.websocket_count++;
        http_conn_ws_send(hc, WS_OP_TEXT, NULL, open, (size_t)n);
    } else {
        http_conn_respond(hc, 200, poll_content_type, no_store, open, (size_t)n);
    }
    uv_timer_init(g.loop, &s->timer);
    s->timer.data = s;
    s->timer_open = true;
    rearm(s);
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
    srv_eio_session *s = table_find(q.sid, q.sid_len);
    if (!s) {
        respond_error(hc, req, EIO_HTTP_UNKNOWN_SID);
        return;
    }
    if (ws_request) {
        handle_ws_upgrade(s, hc, req);
        return;
    }
    if (eio_sess_is_websocket(&s->core)) {
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
    srv_eio_session *s = table_find(q.sid, q.sid_len);
    if (!s || eio_sess_is_websocket(&s->core)) return;
    if (s->post == hc) return;
    /* a second POST at once closes the session; the body's owner gets 400
     * (code 1) later */
    if (!eio_sess_post_begin(&s->core)) return;
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
    eio_sess_close(&PD_CONTAINER_OF(e, srv_eio_session, entry)->core, "server shutting down");
}

void engine_shutdown(void)
{
    pd_map_each(&g.table, close_for_shutdown, NULL);
    engine_flush();
    pd_map_cleanup(&g.table);
    pd_ip_count_destroy(g.ips);
    g.ips = NULL;
}

void engine_send(srv_eio_session *s, const uint8_t *data, size_t len, bool binary)
{
    eio_sess_send(&s->core, data, len, binary);
}

void engine_session_set_user(srv_eio_session *s, void *user)
{
    s->user = user;
}

void *engine_session_user(const srv_eio_session *s)
{
    return s->user;
}

const char *engine_session_id(const srv_eio_session *s)
{
    return s->sid;
}

const char *engine_session_peer(const srv_eio_session *s)
{
    return s->peer;
}

bool engine_session_is_websocket(const srv_eio_session *s)
{
    return eio_sess_is_websocket(&s->core);
}

void engine_get_stats(engine_stats *out)
{
    out->sessions_websocket = g.websocket_count;
    out->sessions_polling = g.table.count - g.websocket_count;
    out->upgrades = g.upgrades;
}
