/* client.c: see client.h. */
#include "client.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/buf.h"
#include "../base/limits.h"
#include "sio.h"

struct sio_client_ack {
    sio_client_ack *next;
    int64_t id;
    void *token;
};

void sio_client_init(sio_client *c, const sio_client_io *io, size_t max_packet)
{
    assert(c && io);
    memset(c, 0, sizeof *c);
    c->io = *io;
    c->max_packet = max_packet;
}

static bool send_packet(sio_client *c, sio_type type, int64_t ack_id, const json_t *data)
{
    pd_buf pkt;
    pd_buf_init(&pkt, c->max_packet);
    bool ok = sio_packet_encode(&pkt, type, "/", 1, ack_id, 0, data) == 0 &&
              c->io.send(c->io.ctx, pkt.data, pkt.len);
    pd_buf_reset(&pkt);
    return ok;
}

void sio_client_open(sio_client *c)
{
    if (!c) return;
    c->connected = false;
    send_packet(c, SIO_CONNECT, -1, NULL);
}

static void on_ack(sio_client *c, const sio_packet *p)
{
    sio_client_ack **pp = &c->acks;
    while (*pp && (*pp)->id != p->ack_id)
        pp = &(*pp)->next;
    sio_client_ack *a = *pp;
    if (!a) return; /* unknown or answered already */
    *pp = a->next;
    void *token = a->token;
    free(a);
    c->io.on_ack(c->io.ctx, token, json_array_get(p->data, 0));
}

void sio_client_feed(sio_client *c, const uint8_t *data, size_t len)
{
    if (!c) return;
    sio_packet p;
    if (sio_packet_decode((const char *)data, len, PD_MAX_SIO_ATTACHMENTS, &p) < 0) {
        c->io.on_lost(c->io.ctx, "malformed Socket.IO packet");
        return;
    }
    if (p.nsp_len != 1 || p.nsp[0] != '/') { /* only the main namespace */
        sio_packet_cleanup(&p);
        return;
    }
    switch (p.type) {
    case SIO_CONNECT: {
        const char *sid = json_string_value(json_object_get(p.data, "sid"));
        snprintf(c->sid, sizeof c->sid, "%s", sid ? sid : "");
        c->connected = true;
        c->io.on_connected(c->io.ctx, c->sid);
        break;
    }
    case SIO_CONNECT_ERROR:
        c->connected = false;
        c->io.on_lost(c->io.ctx, "namespace connect refused");
        break;
    case SIO_DISCONNECT:
        c->connected = false;
        c->io.on_lost(c->io.ctx, "disconnected by the server");
        break;
    case SIO_EVENT: {
        const char *name = sio_event_name(p.data);
        if (name) c->io.on_event(c->io.ctx, name, json_array_get(p.data, 1));
        break;
    }
    case SIO_ACK:
        on_ack(c, &p);
        break;
    default:
        break; /* binary packets: the signaling contract has none */
    }
    sio_packet_cleanup(&p);
}

int sio_client_emit(sio_client *c, const char *name, json_t *arg, void *ack_token)
{
    if (!c || !name || !c->connected) return -1;
    json_t *data = json_array();
    if (!data) return -1;
    json_array_append_new(data, json_string(name));
    if (arg) json_array_append(data, arg);
    sio_client_ack *a = NULL;
    int64_t id = -1;
    if (ack_token) {
        a = calloc(1, sizeof *a);
        if (!a) {
            json_decref(data);
            return -1;
        }
        a->id = id = c->next_ack_id++;
        a->token = ack_token;
    }
    bool ok = send_packet(c, SIO_EVENT, id, data);
    json_decref(data);
    if (!ok) {
        free(a);
        return -1;
    }
    if (a) {
        a->next = c->acks;
        c->acks = a;
    }
    return 0;
}

void sio_client_reset(sio_client *c)
{
    if (!c) return;
    c->connected = false;
    sio_client_ack *a = c->acks;
    c->acks = NULL;
    while (a) {
        sio_client_ack *n = a->next;
        void *token = a->token;
        free(a);
        c->io.on_ack(c->io.ctx, token, NULL);
        a = n;
    }
}

void sio_client_cleanup(sio_client *c, void (*free_token)(void *token))
{
    if (!c) return;
    while (c->acks) {
        sio_client_ack *n = c->acks->next;
        if (free_token) free_token(c->acks->token);
        free(c->acks);
        c->acks = n;
    }
}

bool sio_client_connected(const sio_client *c)
{
    return c && c->connected;
}
