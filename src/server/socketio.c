/* socketio.c: see socketio.h.
 *
 * The libuv glue around src/sio/session (the protocol: namespaces, acks,
 * binary attachments, connectTimeout). This file keeps the table of socket
 * ids across all sessions, the namespace handlers, one timer per Engine.IO
 * session armed for the core's next deadline, and the Engine.IO side. */
#include "socketio.h"

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/id.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/map.h"
#include "sio/sio.h"

typedef struct srv_sio_client srv_sio_client;

struct srv_sio_socket {
    pd_map_entry entry; /* in g.sockets, keyed by the core's ns->id */
    srv_sio_client *client;
    sio_sess_ns *ns;
    const srv_sio_namespace_def *def;
    void *user;
};

struct srv_sio_client {
    srv_eio_session *eio;
    sio_sess core;
    uv_timer_t timer; /* the core's next deadline; the client is freed with it */
    bool ended;
};

/* What srv_sio_emit asked to be called with the client's ack. */
typedef struct ack_closure {
    srv_sio_ack_fn fn;
    void *ctx;
} ack_closure;

static struct {
    uv_loop_t *loop;
    const srv_sio_namespace_def *namespaces;
    sio_sess_namespace *sess_namespaces; /* the same, as the core sees them */
    size_t namespace_count;
    unsigned connect_timeout_ms;
    size_t max_attachment_bytes;
    pd_map sockets;
    pd_buf scratch; /* encoding buffer, reused: the loop is single-threaded */
} g;

static int64_t now_ms(void)
{
    return (int64_t)uv_now(g.loop);
}

/* --- timer -------------------------------------------------------------- */

static void timer_cb(uv_timer_t *t);

static void rearm(srv_sio_client *c)
{
    if (c->ended) return;
    int64_t due = sio_sess_deadline(&c->core);
    if (due == SIO_SESS_NEVER) {
        uv_timer_stop(&c->timer);
        return;
    }
    int64_t now = now_ms();
    uv_timer_start(&c->timer, timer_cb, due > now ? (uint64_t)(due - now) : 0, 0);
}

static void timer_cb(uv_timer_t *t)
{
    srv_sio_client *c = t->data;
    sio_sess_tick(&c->core, now_ms());
    rearm(c);
}

/* --- the core's I/O ----------------------------------------------------- */

static void io_send(void *ctx, const uint8_t *data, size_t len, bool binary)
{
    srv_sio_client *c = ctx;
    engine_send(c->eio, data, len, binary);
}

static void io_close(void *ctx)
{
    srv_sio_client *c = ctx;
    engine_close(c->eio);
}

static bool io_join(void *ctx, sio_sess_ns *ns)
{
    srv_sio_client *c = ctx;
    srv_sio_socket *sock = calloc(1, sizeof *sock);
    if (!sock) return false;
    do
        pd_random_id(ns->id);
    while (pd_map_find(&g.sockets, ns->id, PD_ID_LEN));
    sock->entry.key = ns->id;
    sock->entry.key_len = PD_ID_LEN;
    sock->client = c;
    sock->ns = ns;
    sock->def = &g.namespaces[ns->nsp];
    if (!pd_map_insert(&g.sockets, &sock->entry)) {
        free(sock);
        return false;
    }
    ns->user = sock;
    return true;
}

static void io_on_connect(void *ctx, sio_sess_ns *ns, json_t *auth)
{
    (void)ctx;
    srv_sio_socket *sock = ns->user;
    if (sock->def->on_connect) sock->def->on_connect(sock, auth);
}

static bool io_on_event_raw(void *ctx, sio_sess_ns *ns, const char *json, size_t len,
                            int64_t ack_id)
{
    (void)ctx;
    srv_sio_socket *sock = ns->user;
    return sock->def->on_event_raw && sock->def->on_event_raw(sock, json, len, ack_id);
}

static void io_on_event(void *ctx, sio_sess_ns *ns, json_t *args, int64_t ack_id,
                        const sio_attachment *att, unsigned att_count)
{
    (void)ctx;
    srv_sio_socket *sock = ns->user;
    if (sock->def->on_event) sock->def->on_event(sock, args, ack_id, att, att_count);
}

static void io_on_ack(void *ctx, sio_sess_ns *ns, void *token, json_t *args,
                      const sio_attachment *att, unsigned att_count)
{
    (void)ctx;
    ack_closure closure = *(ack_closure *)token;
    free(token);
    closure.fn(ns->user, closure.ctx, args, att, att_count);
}

static void io_ack_dropped(void *ctx, void *token)
{
    (void)ctx;
    free(token);
}

static void io_on_disconnect(void *ctx, sio_sess_ns *ns, const char *reason)
{
    (void)ctx;
    srv_sio_socket *sock = ns->user;
    pd_map_remove(&g.sockets, &sock->entry);
    if (sock->def->on_disconnect) sock->def->on_disconnect(sock, reason);
    free(sock);
}

static const sio_sess_io client_io = {
    .send = io_send,
    .close = io_close,
    .join = io_join,
    .on_connect = io_on_connect,
    .on_event_raw = io_on_event_raw,
    .on_event = io_on_event,
    .on_ack = io_on_ack,
    .ack_dropped = io_ack_dropped,
    .on_disconnect = io_on_disconnect,
};

/* --- output ------------------------------------------------------------- */

int srv_sio_emit(srv_sio_socket *sock, const json_t *args, const sio_attachment *att,
                 unsigned att_count, srv_sio_ack_fn ack, void *ack_ctx)
{
    ack_closure *closure = NULL;
    if (ack) {
        closure = malloc(sizeof *closure);
        if (!closure) return -1;
        closure->fn = ack;
        closure->ctx = ack_ctx;
    }
    int rc = sio_sess_emit(&sock->client->core, sock->ns, args, att, att_count, closure);
    if (rc != 0) free(closure);
    return rc;
}

int srv_sio_emit_json(srv_sio_socket *sock, const char *args_json, size_t len)
{
    return sio_sess_emit_json(&sock->client->core, sock->ns, args_json, len);
}

int srv_sio_ack_json(srv_sio_socket *sock, int64_t ack_id, const char *args_json, size_t len)
{
    return sio_sess_ack_json(&sock->client->core, sock->ns, ack_id, args_json, len);
}

int srv_sio_emit_simple(srv_sio_socket *sock, const char *event, const json_t *payload)
{
    json_t *args = json_array();
    if (!args) return -1;
    json_array_append_new(args, json_string(event));
    if (payload) json_array_append(args, (json_t *)payload);
    int rc = srv_sio_emit(sock, args, NULL, 0, NULL, NULL);
    json_decref(args);
    return rc;
}

int srv_sio_ack(srv_sio_socket *sock, int64_t ack_id, const json_t *args, const sio_attachment *att,
                unsigned att_count)
{
    return sio_sess_ack(&sock->client->core, sock->ns, ack_id, args, att, att_count);
}

/* --- Engine.IO callbacks ------------------------------------------------ */

static void on_open(srv_eio_session *es)
{
    srv_sio_client *c = calloc(1, sizeof *c);
    if (!c) {
        engine_close(es);
        return;
    }
    c->eio = es;
    engine_session_set_user(es, c);
    sio_sess_config cfg = {.namespaces = g.sess_namespaces,
                           .namespace_count = g.namespace_count,
                           .connect_timeout_ms = g.connect_timeout_ms,
                           .max_attachment_bytes = g.max_attachment_bytes,
                           .scratch = &g.scratch};
    sio_sess_io io = client_io;
    io.ctx = c;
    sio_sess_init(&c->core, &cfg, &io, now_ms());
    uv_timer_init(g.loop, &c->timer);
    c->timer.data = c;
    rearm(c);
}

static void on_message(srv_eio_session *es, const uint8_t *data, size_t len, bool binary)
{
    srv_sio_client *c = engine_session_user(es);
    if (!c) return;
    sio_sess_feed(&c->core, data, len, binary, now_ms());
    rearm(c); /* c lives until its timer is closed, even if the feed closed it */
}

static void free_client(uv_handle_t *h)
{
    free(h->data);
}

static void on_close(srv_eio_session *es, const char *reason)
{
    srv_sio_client *c = engine_session_user(es);
    if (!c) return;
    engine_session_set_user(es, NULL);
    c->ended = true;
    sio_sess_end(&c->core, reason);
    uv_close((uv_handle_t *)&c->timer, free_client);
}

const engine_callbacks srv_sio_engine_callbacks = {
    .on_open = on_open, .on_message = on_message, .on_close = on_close};

/* --- public ------------------------------------------------------------- */

void srv_sio_init(uv_loop_t *loop, const srv_sio_namespace_def *namespaces, size_t count,
                  unsigned connect_timeout_ms, unsigned max_payload)
{
    g.loop = loop;
    g.namespaces = namespaces;
    g.namespace_count = count;
    g.connect_timeout_ms = connect_timeout_ms;
    g.max_attachment_bytes = max_payload;
    free(g.sess_namespaces);
    g.sess_namespaces = calloc(count ? count : 1, sizeof *g.sess_namespaces);
    if (!g.sess_namespaces) {
        g.namespace_count = 0; /* no namespace can be joined: every CONNECT is refused */
    } else {
        for (size_t i = 0; i < count; i++)
            g.sess_namespaces[i] =
                (sio_sess_namespace){.name = namespaces[i].name, .binary = namespaces[i].binary};
    }
    pd_map_init(&g.sockets);
    pd_buf_init(&g.scratch, (size_t)max_payload * 2);
}

void srv_sio_socket_disconnect(srv_sio_socket *sock, bool close_connection)
{
    sio_sess_disconnect(&sock->client->core, sock->ns, close_connection);
}

const char *srv_sio_socket_id(const srv_sio_socket *sock)
{
    return sock->ns->id;
}

srv_sio_socket *srv_sio_socket_find(const char *id, size_t id_len)
{
    pd_map_entry *e = pd_map_find(&g.sockets, id, id_len);
    return e ? PD_CONTAINER_OF(e, srv_sio_socket, entry) : NULL;
}

void srv_sio_socket_set_user(srv_sio_socket *sock, void *user)
{
    sock->user = user;
}

void *srv_sio_socket_user(const srv_sio_socket *sock)
{
    return sock->user;
}

bool srv_sio_socket_is_websocket(const srv_sio_socket *sock)
{
    return engine_session_is_websocket(sock->client->eio);
}

const char *srv_sio_socket_session_id(const srv_sio_socket *sock)
{
    return engine_session_id(sock->client->eio);
}

const char *srv_sio_socket_peer(const srv_sio_socket *sock)
{
    return engine_session_peer(sock->client->eio);
}

size_t srv_sio_socket_count(void)
{
    return g.sockets.count;
}
