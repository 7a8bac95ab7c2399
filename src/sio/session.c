/* session.c: see session.h. */
#include "session.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../base/refused.h"

struct sio_sess_pending_ack {
    sio_sess_pending_ack *next;
    int64_t id;
    void *token;
};

void sio_sess_init(sio_sess *s, const sio_sess_config *cfg, const sio_sess_io *io, int64_t now_ms)
{
    assert(s && cfg && io && cfg->scratch);
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    s->io = *io;
    s->connect_at_ms = now_ms + cfg->connect_timeout_ms;
    s->attachments_at_ms = SIO_SESS_NEVER;
}

const sio_sess_namespace *sio_sess_ns_namespace(const sio_sess *s, const sio_sess_ns *ns)
{
    return &s->cfg.namespaces[ns->nsp];
}

static const char *ns_name(const sio_sess *s, const sio_sess_ns *ns)
{
    return s->cfg.namespaces[ns->nsp].name;
}

/* The connection goes; `s` may be freed by the time this returns. */
static void close_connection(sio_sess *s)
{
    s->io.close(s->io.ctx);
}

/* --- output ------------------------------------------------------------- */

static int send_packet(sio_sess *s, sio_type type, const char *nsp, int64_t ack_id,
                       const json_t *data, const sio_attachment *att, unsigned att_count)
{
    pd_buf *out = s->cfg.scratch;
    out->len = 0;
    if (att_count > 0)
        type = type == SIO_EVENT ? SIO_BINARY_EVENT : type == SIO_ACK ? SIO_BINARY_ACK : type;
    if (sio_packet_encode(out, type, nsp, strlen(nsp), ack_id, att_count, data) != 0) return -1;
    s->io.send(s->io.ctx, out->data, out->len, false);
    for (unsigned i = 0; i < att_count; i++)
        s->io.send(s->io.ctx, att[i].data, att[i].len, true);
    return 0;
}

static int send_json_text(sio_sess *s, sio_sess_ns *ns, sio_type type, int64_t ack_id,
                          const char *json, size_t len)
{
    pd_buf *out = s->cfg.scratch;
    out->len = 0;
    const char *nsp = ns_name(s, ns);
    if (sio_packet_encode_header(out, type, nsp, strlen(nsp), ack_id, 0) != 0 ||
        pd_buf_append(out, json, len) != PD_BUF_OK)
        return -1;
    s->io.send(s->io.ctx, out->data, out->len, false);
    return 0;
}

static int send_message(sio_sess *s, const char *nsp, sio_type type, const char *message)
{
    json_t *body = json_pack("{s:s}", "message", message);
    int rc = send_packet(s, type, nsp, -1, body, NULL, 0);
    json_decref(body);
    return rc;
}

int sio_sess_emit(sio_sess *s, sio_sess_ns *ns, const json_t *args, const sio_attachment *att,
                  unsigned att_count, void *ack_token)
{
    if (!s || !ns || s->ended) return -1;
    int64_t id = -1;
    if (ack_token) {
        sio_sess_pending_ack *a = malloc(sizeof *a);
        if (!a) return -1;
        a->id = id = ns->next_ack_id++;
        a->token = ack_token;
        a->next = ns->acks;
        ns->acks = a;
    }
    if (send_packet(s, SIO_EVENT, ns_name(s, ns), id, args, att, att_count) == 0) return 0;
    if (ack_token) { /* not sent: no answer will come, and the caller keeps its token */
        sio_sess_pending_ack *a = ns->acks;
        ns->acks = a->next;
        free(a);
    }
    return -1;
}

int sio_sess_emit_json(sio_sess *s, sio_sess_ns *ns, const char *args_json, size_t len)
{
    if (!s || !ns || s->ended) return -1;
    return send_json_text(s, ns, SIO_EVENT, -1, args_json, len);
}

int sio_sess_ack(sio_sess *s, sio_sess_ns *ns, int64_t ack_id, const json_t *args,
                 const sio_attachment *att, unsigned att_count)
{
    if (!s || !ns || s->ended || ack_id < 0) return -1;
    return send_packet(s, SIO_ACK, ns_name(s, ns), ack_id, args, att, att_count);
}

int sio_sess_ack_json(sio_sess *s, sio_sess_ns *ns, int64_t ack_id, const char *args_json,
                      size_t len)
{
    if (!s || !ns || s->ended || ack_id < 0) return -1;
    return send_json_text(s, ns, SIO_ACK, ack_id, args_json, len);
}

/* --- namespace sockets -------------------------------------------------- */

static sio_sess_ns *find_socket(sio_sess *s, const char *nsp, size_t nsp_len)
{
    for (sio_sess_ns *ns = s->sockets; ns; ns = ns->next) {
        const char *name = ns_name(s, ns);
        if (strlen(name) == nsp_len && memcmp(name, nsp, nsp_len) == 0) return ns;
    }
    return NULL;
}

static bool find_namespace(const sio_sess *s, const char *nsp, size_t len, size_t *index)
{
    for (size_t i = 0; i < s->cfg.namespace_count; i++) {
        const char *n = s->cfg.namespaces[i].name;
        if (strlen(n) == len && memcmp(n, nsp, len) == 0) {
            *index = i;
            return true;
        }
    }
    return false;
}

/* Unlinks a socket, tells the caller, drops its acks and frees it. */
static void socket_remove(sio_sess *s, sio_sess_ns *ns, const char *reason)
{
    sio_sess_ns **pp = &s->sockets;
    while (*pp && *pp != ns)
        pp = &(*pp)->next;
    if (*pp) *pp = ns->next;
    s->io.on_disconnect(s->io.ctx, ns, reason);
    while (ns->acks) {
        sio_sess_pending_ack *next = ns->acks->next;
        s->io.ack_dropped(s->io.ctx, ns->acks->token);
        free(ns->acks);
        ns->acks = next;
    }
    free(ns);
}

static void handle_connect(sio_sess *s, const sio_packet *p)
{
    size_t index;
    if (!find_namespace(s, p->nsp, p->nsp_len, &index)) {
        char nsp[PD_MAX_SIO_NSP + 1];
        memcpy(nsp, p->nsp, p->nsp_len);
        nsp[p->nsp_len] = '\0';
        send_message(s, nsp, SIO_CONNECT_ERROR, "Invalid namespace");
        return;
    }
    size_t joined = 0;
    for (sio_sess_ns *ns = s->sockets; ns; ns = ns->next)
        joined++;
    if (find_socket(s, p->nsp, p->nsp_len) || joined >= PD_MAX_SIO_NAMESPACES) {
        close_connection(s); /* a second CONNECT to a joined namespace */
        return;
    }
    sio_sess_ns *ns = calloc(1, sizeof *ns);
    if (!ns) {
        close_connection(s);
        return;
    }
    ns->nsp = index;
    if (!s->io.join(s->io.ctx, ns)) {
        free(ns);
        close_connection(s);
        return;
    }
    ns->next = s->sockets;
    s->sockets = ns;
    s->connect_at_ms = SIO_SESS_NEVER;

    json_t *reply = json_pack("{s:s}", "sid", ns->id);
    send_packet(s, SIO_CONNECT, ns_name(s, ns), -1, reply, NULL, 0);
    json_decref(reply);
    json_t *auth = p->data ? json_incref(p->data) : json_object();
    s->io.on_connect(s->io.ctx, ns, auth);
    json_decref(auth);
}

static void handle_ack(sio_sess *s, sio_sess_ns *ns, const sio_packet *p, const sio_attachment *att,
                       unsigned n)
{
    sio_sess_pending_ack **pp = &ns->acks;
    while (*pp && (*pp)->id != p->ack_id)
        pp = &(*pp)->next;
    if (!*pp) return; /* unknown or already answered: ignored, as the reference does */
    sio_sess_pending_ack *a = *pp;
    *pp = a->next;
    void *token = a->token;
    free(a);
    s->io.on_ack(s->io.ctx, ns, token, p->data, att, n);
}

/* Acts on one complete packet. May end in close_connection: the caller
 * must not touch s afterwards. */
static void dispatch(sio_sess *s, const sio_packet *p, const sio_attachment *att, unsigned n)
{
    if (p->type == SIO_CONNECT) {
        handle_connect(s, p);
        return;
    }
    sio_sess_ns *ns = find_socket(s, p->nsp, p->nsp_len);
    if (!ns) {
        close_connection(s); /* a packet for a namespace the client has not joined */
        return;
    }
    switch (p->type) {
    case SIO_DISCONNECT:
        socket_remove(s, ns, "client namespace disconnect");
        break;
    case SIO_EVENT:
    case SIO_BINARY_EVENT:
        s->io.on_event(s->io.ctx, ns, p->data, p->ack_id, att, n);
        break;
    case SIO_ACK:
    case SIO_BINARY_ACK:
        handle_ack(s, ns, p, att, n);
        break;
    default: /* CONNECT_ERROR is server-to-client only */
        close_connection(s);
        break;
    }
}

/* --- binary packets ----------------------------------------------------- */

static void assembly_free(sio_sess_assembly *a)
{
    if (!a) return;
    for (unsigned i = 0; i < a->received; i++)
        free((void *)a->att[i].data);
    free(a->att);
    sio_packet_cleanup(&a->packet);
    free(a);
}

static void on_attachment(sio_sess *s, const uint8_t *data, size_t len)
{
    sio_sess_assembly *a = s->pending;
    if (!a) {
        close_connection(s); /* an attachment nobody announced */
        return;
    }
    if (len > s->cfg.max_attachment_bytes - a->bytes) {
        pd_refused(PD_REFUSED_ATTACHMENTS);
        PD_LOG_DEBUG("closing: binary attachments over %zu bytes", s->cfg.max_attachment_bytes);
        close_connection(s);
        return;
    }
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) {
        close_connection(s);
        return;
    }
    a->bytes += len;
    if (len) memcpy(copy, data, len);
    a->att[a->received].data = copy;
    a->att[a->received].len = len;
    a->received++;
    if (a->received < a->packet.attachments) return;
    s->pending = NULL;
    s->attachments_at_ms = SIO_SESS_NEVER;
    dispatch(s, &a->packet, a->att, a->received); /* s may be gone: a is ours now */
    assembly_free(a);
}

/* A BINARY_EVENT/ACK for a namespace that takes no binary, or that the
 * client has not joined, is refused at its header, before any attachment is
 * buffered: a CONNECT_ERROR says why (socket.io-client shows it as a
 * connect_error) and the connection closes. Returns true if it refused. */
static bool refuse_binary(sio_sess *s, const char *data, size_t len)
{
    sio_packet h;
    size_t off;
    if (sio_packet_decode_header(data, len, PD_MAX_SIO_ATTACHMENTS, &h, &off) != 0 ||
        (h.type != SIO_BINARY_EVENT && h.type != SIO_BINARY_ACK))
        return false;
    sio_sess_ns *ns = find_socket(s, h.nsp, h.nsp_len);
    if (ns && sio_sess_ns_namespace(s, ns)->binary) return false;
    pd_refused(PD_REFUSED_BINARY_EVENT);
    PD_LOG_DEBUG("closing: binary packet for a namespace that takes none");
    if (ns) send_message(s, ns_name(s, ns), SIO_CONNECT_ERROR, "binary packets are not accepted");
    close_connection(s);
    return true;
}

/* Hands a plain EVENT to the caller's fast path, if it takes it. */
static bool try_fast_event(sio_sess *s, const char *data, size_t len)
{
    sio_packet h;
    size_t off;
    if (!s->io.on_event_raw ||
        sio_packet_decode_header(data, len, PD_MAX_SIO_ATTACHMENTS, &h, &off) != 0 ||
        h.type != SIO_EVENT || off >= len)
        return false;
    sio_sess_ns *ns = find_socket(s, h.nsp, h.nsp_len);
    return ns && s->io.on_event_raw(s->io.ctx, ns, data + off, len - off, h.ack_id);
}

void sio_sess_feed(sio_sess *s, const uint8_t *data, size_t len, bool binary, int64_t now_ms)
{
    if (!s || s->ended) return;
    if (binary) {
        on_attachment(s, data, len);
        return;
    }
    if (s->pending) {
        close_connection(s); /* text while attachments are still expected */
        return;
    }
    const char *text = (const char *)data;
    if (try_fast_event(s, text, len)) return;
    if (refuse_binary(s, text, len)) return;
    sio_packet p;
    int rc = sio_packet_decode(text, len, PD_MAX_SIO_ATTACHMENTS, &p);
    if (rc != 0) {
        /* the bytes are not logged: a malformed packet may still hold a password */
        PD_LOG_DEBUG("closing: %s (%zu bytes)", sio_strerror(rc), len);
        close_connection(s);
        return;
    }
    bool is_binary = p.type == SIO_BINARY_EVENT || p.type == SIO_BINARY_ACK;
    if (is_binary && p.attachments > 0) {
        sio_sess_assembly *a = calloc(1, sizeof *a);
        if (a) a->att = calloc(p.attachments, sizeof *a->att);
        if (!a || !a->att) {
            free(a);
            sio_packet_cleanup(&p);
            close_connection(s);
            return;
        }
        a->packet = p;
        memcpy(a->nsp, p.nsp, p.nsp_len);
        a->nsp[p.nsp_len] = '\0';
        a->packet.nsp = a->nsp;
        s->pending = a;
        s->attachments_at_ms = now_ms + PD_SIO_ATTACHMENT_TIMEOUT_MS;
        return;
    }
    dispatch(s, &p, NULL, 0);
    sio_packet_cleanup(&p);
}

/* --- time and the end --------------------------------------------------- */

void sio_sess_tick(sio_sess *s, int64_t now_ms)
{
    if (!s || s->ended) return;
    if (s->attachments_at_ms <= now_ms) {
        pd_refused(PD_REFUSED_ATTACHMENTS);
        PD_LOG_DEBUG("closing: binary attachments not complete within %u ms",
                     PD_SIO_ATTACHMENT_TIMEOUT_MS);
        s->attachments_at_ms = SIO_SESS_NEVER;
        close_connection(s);
        return;
    }
    if (s->connect_at_ms <= now_ms) {
        PD_LOG_DEBUG("no namespace joined within connectTimeout: closing");
        s->connect_at_ms = SIO_SESS_NEVER;
        close_connection(s);
    }
}

int64_t sio_sess_deadline(const sio_sess *s)
{
    if (!s || s->ended) return SIO_SESS_NEVER;
    return s->connect_at_ms < s->attachments_at_ms ? s->connect_at_ms : s->attachments_at_ms;
}

void sio_sess_end(sio_sess *s, const char *reason)
{
    if (!s || s->ended) return;
    s->ended = true;
    while (s->sockets)
        socket_remove(s, s->sockets, reason);
    assembly_free(s->pending);
    s->pending = NULL;
    s->connect_at_ms = s->attachments_at_ms = SIO_SESS_NEVER;
}

void sio_sess_disconnect(sio_sess *s, sio_sess_ns *ns, bool close_conn)
{
    if (!s || !ns || s->ended) return;
    send_packet(s, SIO_DISCONNECT, ns_name(s, ns), -1, NULL, NULL, 0);
    if (close_conn)
        close_connection(s);
    else
        socket_remove(s, ns, "server namespace disconnect");
}
