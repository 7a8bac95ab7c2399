/* socketio.c: see socketio.h. */
#include "socketio.h"

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/id.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/map.h"
#include "base/refused.h"
#include "sio/sio.h"

typedef struct pending_ack {
    struct pending_ack *next;
    int64_t id;
    sio_ack_fn fn;
    void *ctx;
} pending_ack;

typedef struct sio_client sio_client;

struct sio_socket {
    pd_map_entry entry; /* in g.sockets, keyed by id */
    char id[PD_ID_LEN + 1];
    sio_client *client;
    const sio_namespace_def *nsp;
    sio_socket *next_in_client;
    pending_ack *acks;
    int64_t next_ack_id;
    void *user;
};

/* A binary packet waiting for its attachments. */
typedef struct binary_assembly {
    sio_packet packet;
    char nsp[PD_MAX_SIO_NSP + 1]; /* the input the packet was parsed from is gone */
    sio_attachment *att;
    unsigned received;
    size_t bytes;      /* attachment bytes held so far */
    uv_timer_t *timer; /* the attachments' deadline */
} binary_assembly;

struct sio_client {
    eio_session *eio;
    sio_socket *sockets;
    binary_assembly *pending;  /* only while a binary packet is incomplete */
    uv_timer_t *connect_timer; /* only until the first namespace is joined */
};

static struct {
    uv_loop_t *loop;
    const sio_namespace_def *namespaces;
    size_t namespace_count;
    unsigned connect_timeout_ms;
    size_t max_attachment_bytes;
    pd_map sockets;
    pd_buf scratch; /* encoding buffer, reused: the loop is single-threaded */
} g;

static json_t *empty_object(void)
{
    return json_object();
}

/* --- output ------------------------------------------------------------- */

static int send_packet(sio_client *c, sio_type type, const char *nsp, int64_t ack_id,
                       const json_t *data, const sio_attachment *att, unsigned att_count)
{
    g.scratch.len = 0;
    size_t nsp_len = strlen(nsp);
    if (att_count > 0)
        type = type == SIO_EVENT ? SIO_BINARY_EVENT : type == SIO_ACK ? SIO_BINARY_ACK : type;
    if (sio_packet_encode(&g.scratch, type, nsp, nsp_len, ack_id, att_count, data) != 0) return -1;
    engine_send(c->eio, g.scratch.data, g.scratch.len, false);
    for (unsigned i = 0; i < att_count; i++)
        engine_send(c->eio, att[i].data, att[i].len, true);
    return 0;
}

int sio_emit(sio_socket *sock, const json_t *args, const sio_attachment *att, unsigned att_count,
             sio_ack_fn ack, void *ack_ctx)
{
    int64_t id = -1;
    if (ack) {
        pending_ack *pa = malloc(sizeof *pa);
        if (!pa) return -1;
        pa->id = id = sock->next_ack_id++;
        pa->fn = ack;
        pa->ctx = ack_ctx;
        pa->next = sock->acks;
        sock->acks = pa;
    }
    return send_packet(sock->client, SIO_EVENT, sock->nsp->name, id, args, att, att_count);
}

static int send_json_text(sio_socket *sock, sio_type type, int64_t ack_id, const char *json,
                          size_t len)
{
    g.scratch.len = 0;
    const char *nsp = sock->nsp->name;
    if (sio_packet_encode_header(&g.scratch, type, nsp, strlen(nsp), ack_id, 0) != 0 ||
        pd_buf_append(&g.scratch, json, len) != PD_BUF_OK)
        return -1;
    engine_send(sock->client->eio, g.scratch.data, g.scratch.len, false);
    return 0;
}

int sio_emit_json(sio_socket *sock, const char *args_json, size_t len)
{
    return send_json_text(sock, SIO_EVENT, -1, args_json, len);
}

int sio_ack_json(sio_socket *sock, int64_t ack_id, const char *args_json, size_t len)
{
    if (ack_id < 0) return -1;
    return send_json_text(sock, SIO_ACK, ack_id, args_json, len);
}

int sio_emit_simple(sio_socket *sock, const char *event, const json_t *payload)
{
    json_t *args = json_array();
    if (!args) return -1;
    json_array_append_new(args, json_string(event));
    if (payload) json_array_append(args, (json_t *)payload);
    int rc = sio_emit(sock, args, NULL, 0, NULL, NULL);
    json_decref(args);
    return rc;
}

int sio_ack(sio_socket *sock, int64_t ack_id, const json_t *args, const sio_attachment *att,
            unsigned att_count)
{
    if (ack_id < 0) return -1;
    return send_packet(sock->client, SIO_ACK, sock->nsp->name, ack_id, args, att, att_count);
}

/* --- sockets ------------------------------------------------------------ */

static sio_socket *client_socket(sio_client *c, const char *nsp, size_t nsp_len)
{
    for (sio_socket *s = c->sockets; s; s = s->next_in_client)
        if (strlen(s->nsp->name) == nsp_len && memcmp(s->nsp->name, nsp, nsp_len) == 0) return s;
    return NULL;
}

static void socket_free(sio_socket *s)
{
    while (s->acks) {
        pending_ack *next = s->acks->next;
        free(s->acks);
        s->acks = next;
    }
    free(s);
}

/* Unlinks a socket and tells its namespace; frees it. */
static void socket_remove(sio_socket *s, const char *reason)
{
    sio_client *c = s->client;
    sio_socket **pp = &c->sockets;
    while (*pp && *pp != s)
        pp = &(*pp)->next_in_client;
    if (*pp) *pp = s->next_in_client;
    pd_map_remove(&g.sockets, &s->entry);
    if (s->nsp->on_disconnect) s->nsp->on_disconnect(s, reason);
    socket_free(s);
}

static const sio_namespace_def *find_namespace(const char *nsp, size_t len)
{
    for (size_t i = 0; i < g.namespace_count; i++) {
        const char *n = g.namespaces[i].name;
        if (strlen(n) == len && memcmp(n, nsp, len) == 0) return &g.namespaces[i];
    }
    return NULL;
}

static void stop_connect_timer(sio_client *c)
{
    if (!c->connect_timer) return;
    uv_close((uv_handle_t *)c->connect_timer, (uv_close_cb)free);
    c->connect_timer = NULL;
}

static void handle_connect(sio_client *c, const sio_packet *p)
{
    const sio_namespace_def *def = find_namespace(p->nsp, p->nsp_len);
    if (!def) {
        json_t *err = json_pack("{s:s}", "message", "Invalid namespace");
        char nsp[PD_MAX_SIO_NSP + 1];
        memcpy(nsp, p->nsp, p->nsp_len);
        nsp[p->nsp_len] = '\0';
        send_packet(c, SIO_CONNECT_ERROR, nsp, -1, err, NULL, 0);
        json_decref(err);
        return;
    }
    size_t joined = 0;
    for (sio_socket *s = c->sockets; s; s = s->next_in_client)
        joined++;
    if (client_socket(c, p->nsp, p->nsp_len) || joined >= PD_MAX_SIO_NAMESPACES) {
        engine_close(c->eio); /* a second CONNECT to a joined namespace */
        return;
    }
    sio_socket *s = calloc(1, sizeof *s);
    if (!s) {
        engine_close(c->eio);
        return;
    }
    do
        pd_random_id(s->id);
    while (pd_map_find(&g.sockets, s->id, PD_ID_LEN));
    s->entry.key = s->id;
    s->entry.key_len = PD_ID_LEN;
    s->client = c;
    s->nsp = def;
    if (!pd_map_insert(&g.sockets, &s->entry)) {
        free(s);
        engine_close(c->eio);
        return;
    }
    s->next_in_client = c->sockets;
    c->sockets = s;
    stop_connect_timer(c);

    json_t *reply = json_pack("{s:s}", "sid", s->id);
    send_packet(c, SIO_CONNECT, def->name, -1, reply, NULL, 0);
    json_decref(reply);
    json_t *auth = p->data ? json_incref(p->data) : empty_object();
    if (def->on_connect) def->on_connect(s, auth);
    json_decref(auth);
}

static void handle_ack(sio_socket *s, const sio_packet *p, const sio_attachment *att, unsigned n)
{
    pending_ack **pp = &s->acks;
    while (*pp && (*pp)->id != p->ack_id)
        pp = &(*pp)->next;
    if (!*pp) return; /* unknown or already answered: ignored, as the reference does */
    pending_ack *pa = *pp;
    *pp = pa->next;
    sio_ack_fn fn = pa->fn;
    void *ctx = pa->ctx;
    free(pa);
    fn(s, ctx, p->data, att, n);
}

/* Acts on one complete packet. May free c (through a close): the caller
 * must not touch c afterwards. */
static void dispatch(sio_client *c, const sio_packet *p, const sio_attachment *att, unsigned n)
{
    if (p->type == SIO_CONNECT) {
        handle_connect(c, p);
        return;
    }
    sio_socket *s = client_socket(c, p->nsp, p->nsp_len);
    if (!s) {
        /* a packet for a namespace the client has not joined */
        engine_close(c->eio);
        return;
    }
    switch (p->type) {
    case SIO_DISCONNECT:
        socket_remove(s, "client namespace disconnect");
        break;
    case SIO_EVENT:
    case SIO_BINARY_EVENT:
        if (s->nsp->on_event) s->nsp->on_event(s, p->data, p->ack_id, att, n);
        break;
    case SIO_ACK:
    case SIO_BINARY_ACK:
        handle_ack(s, p, att, n);
        break;
    default: /* CONNECT_ERROR is server-to-client only */
        engine_close(c->eio);
        break;
    }
}

static void assembly_free(binary_assembly *a)
{
    if (!a) return;
    if (a->timer) uv_close((uv_handle_t *)a->timer, (uv_close_cb)free);
    for (unsigned i = 0; i < a->received; i++)
        free((void *)a->att[i].data);
    free(a->att);
    sio_packet_cleanup(&a->packet);
    free(a);
}

/* --- Engine.IO callbacks ------------------------------------------------ */

static void connect_timeout_cb(uv_timer_t *t)
{
    sio_client *c = t->data;
    PD_LOG_DEBUG("no namespace joined within connectTimeout: closing");
    engine_close(c->eio);
}

static void on_open(eio_session *es)
{
    sio_client *c = calloc(1, sizeof *c);
    if (!c) {
        engine_close(es);
        return;
    }
    c->eio = es;
    engine_session_set_user(es, c);
    c->connect_timer = malloc(sizeof *c->connect_timer);
    if (c->connect_timer) {
        uv_timer_init(g.loop, c->connect_timer);
        c->connect_timer->data = c;
        uv_timer_start(c->connect_timer, connect_timeout_cb, g.connect_timeout_ms, 0);
    }
}

static void on_binary(sio_client *c, const uint8_t *data, size_t len)
{
    binary_assembly *a = c->pending;
    if (!a) {
        engine_close(c->eio); /* an attachment nobody announced */
        return;
    }
    if (len > g.max_attachment_bytes - a->bytes) {
        pd_refused(PD_REFUSED_ATTACHMENTS);
        PD_LOG_DEBUG("closing: binary attachments over %zu bytes", g.max_attachment_bytes);
        engine_close(c->eio);
        return;
    }
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) {
        engine_close(c->eio);
        return;
    }
    a->bytes += len;
    memcpy(copy, data, len);
    a->att[a->received].data = copy;
    a->att[a->received].len = len;
    a->received++;
    if (a->received < a->packet.attachments) return;
    c->pending = NULL;
    dispatch(c, &a->packet, a->att, a->received);
    assembly_free(a);
}

static void attachment_timeout_cb(uv_timer_t *t)
{
    sio_client *c = t->data;
    pd_refused(PD_REFUSED_ATTACHMENTS);
    PD_LOG_DEBUG("closing: binary attachments not complete within %u ms",
                 PD_SIO_ATTACHMENT_TIMEOUT_MS);
    engine_close(c->eio);
}

/* A BINARY_EVENT/ACK for a namespace that takes no binary, or that the
 * client has not joined, is refused at its header, before any attachment is
 * buffered: a CONNECT_ERROR says why (socket.io-client shows it as a
 * connect_error) and the session closes. Returns true if it refused. */
static bool refuse_binary(sio_client *c, const char *data, size_t len)
{
    sio_packet h;
    size_t off;
    if (sio_packet_decode_header(data, len, PD_MAX_SIO_ATTACHMENTS, &h, &off) != 0 ||
        (h.type != SIO_BINARY_EVENT && h.type != SIO_BINARY_ACK))
        return false;
    sio_socket *s = client_socket(c, h.nsp, h.nsp_len);
    if (s && s->nsp->binary) return false;
    pd_refused(PD_REFUSED_BINARY_EVENT);
    PD_LOG_DEBUG("closing: binary packet for a namespace that takes none");
    if (s) {
        json_t *err = json_pack("{s:s}", "message", "binary packets are not accepted");
        send_packet(c, SIO_CONNECT_ERROR, s->nsp->name, -1, err, NULL, 0);
        json_decref(err);
    }
    engine_close(c->eio);
    return true;
}

/* Hands a plain EVENT to its namespace's fast path, if it has one. */
static bool try_fast_event(sio_client *c, const char *data, size_t len)
{
    sio_packet h;
    size_t off;
    if (sio_packet_decode_header(data, len, PD_MAX_SIO_ATTACHMENTS, &h, &off) != 0 ||
        h.type != SIO_EVENT || off >= len)
        return false;
    sio_socket *s = client_socket(c, h.nsp, h.nsp_len);
    return s && s->nsp->on_event_raw && s->nsp->on_event_raw(s, data + off, len - off, h.ack_id);
}

static void on_message(eio_session *es, const uint8_t *data, size_t len, bool binary)
{
    sio_client *c = engine_session_user(es);
    if (!c) return;
    if (binary) {
        on_binary(c, data, len);
        return;
    }
    if (c->pending) {
        engine_close(es); /* text while attachments are still expected */
        return;
    }
    if (try_fast_event(c, (const char *)data, len)) return;
    if (refuse_binary(c, (const char *)data, len)) return;
    sio_packet p;
    int rc = sio_packet_decode((const char *)data, len, PD_MAX_SIO_ATTACHMENTS, &p);
    if (rc != 0) {
        /* the bytes are not logged: a malformed packet may still hold a password */
        PD_LOG_DEBUG("closing: %s (%zu bytes)", sio_strerror(rc), len);
        engine_close(es);
        return;
    }
    bool is_binary = p.type == SIO_BINARY_EVENT || p.type == SIO_BINARY_ACK;
    if (is_binary && p.attachments > 0) {
        binary_assembly *a = calloc(1, sizeof *a);
        if (a) a->att = calloc(p.attachments, sizeof *a->att);
        if (!a || !a->att) {
            free(a);
            sio_packet_cleanup(&p);
            engine_close(es);
            return;
        }
        a->packet = p;
        memcpy(a->nsp, p.nsp, p.nsp_len);
        a->packet.nsp = a->nsp;
        a->timer = malloc(sizeof *a->timer);
        if (a->timer) {
            uv_timer_init(g.loop, a->timer);
            a->timer->data = c;
            uv_timer_start(a->timer, attachment_timeout_cb, PD_SIO_ATTACHMENT_TIMEOUT_MS, 0);
        }
        c->pending = a;
        return;
    }
    dispatch(c, &p, NULL, 0);
    sio_packet_cleanup(&p);
}

static void on_close(eio_session *es, const char *reason)
{
    sio_client *c = engine_session_user(es);
    if (!c) return;
    engine_session_set_user(es, NULL);
    while (c->sockets)
        socket_remove(c->sockets, reason);
    assembly_free(c->pending);
    stop_connect_timer(c);
    free(c);
}

const engine_callbacks sio_engine_callbacks = {
    .on_open = on_open, .on_message = on_message, .on_close = on_close};

/* --- public ------------------------------------------------------------- */

void sio_server_init(uv_loop_t *loop, const sio_namespace_def *namespaces, size_t count,
                     unsigned connect_timeout_ms, unsigned max_payload)
{
    g.loop = loop;
    g.namespaces = namespaces;
    g.namespace_count = count;
    g.connect_timeout_ms = connect_timeout_ms;
    g.max_attachment_bytes = max_payload;
    pd_map_init(&g.sockets);
    pd_buf_init(&g.scratch, (size_t)max_payload * 2);
}

void sio_socket_disconnect(sio_socket *sock, bool close_connection)
{
    sio_client *c = sock->client;
    send_packet(c, SIO_DISCONNECT, sock->nsp->name, -1, NULL, NULL, 0);
    if (close_connection)
        engine_close(c->eio);
    else
        socket_remove(sock, "server namespace disconnect");
}

const char *sio_socket_id(const sio_socket *sock)
{
    return sock->id;
}

sio_socket *sio_socket_find(const char *id, size_t id_len)
{
    pd_map_entry *e = pd_map_find(&g.sockets, id, id_len);
    return e ? PD_CONTAINER_OF(e, sio_socket, entry) : NULL;
}

void sio_socket_set_user(sio_socket *sock, void *user)
{
    sock->user = user;
}

void *sio_socket_user(const sio_socket *sock)
{
    return sock->user;
}

bool sio_socket_is_websocket(const sio_socket *sock)
{
    return engine_session_is_websocket(sock->client->eio);
}

const char *sio_socket_session_id(const sio_socket *sock)
{
    return engine_session_id(sock->client->eio);
}

const char *sio_socket_peer(const sio_socket *sock)
{
    return engine_session_peer(sock->client->eio);
}

size_t sio_socket_count(void)
{
    return g.sockets.count;
}
