/* client.c: see client.h. */
#include "client.h"

#include <assert.h>
#include <jansson.h>
#include <string.h>

#include "eio.h"

void eio_client_init(eio_client *c, const eio_client_io *io)
{
    assert(c && io);
    memset(c, 0, sizeof *c);
    c->io = *io;
    c->silent_at_ms = EIO_CLIENT_NEVER;
}

static void client_close(eio_client *c, const char *reason)
{
    if (c->closed) return;
    c->closed = true;
    c->open = false;
    c->silent_at_ms = EIO_CLIENT_NEVER;
    c->io.on_close(c->io.ctx, reason);
}

/* The open packet's JSON: only the heartbeat matters to a WebSocket client
 * (its sid is for polling requests, its upgrades for polling clients). */
static bool read_open(eio_client *c, const uint8_t *data, size_t len)
{
    json_t *o = json_loadb((const char *)data, len, 0, NULL);
    json_int_t pi = json_integer_value(json_object_get(o, "pingInterval"));
    json_int_t pt = json_integer_value(json_object_get(o, "pingTimeout"));
    json_decref(o);
    if (pi <= 0 || pt <= 0 || pi > EIO_CLIENT_MAX_HEARTBEAT_MS || pt > EIO_CLIENT_MAX_HEARTBEAT_MS)
        return false;
    c->heartbeat_ms = (unsigned)(pi + pt);
    return true;
}

void eio_client_feed_text(eio_client *c, const uint8_t *data, size_t len, int64_t now_ms)
{
    if (!c || c->closed) return;
    eio_packet p;
    if (eio_packet_parse_text(data, len, &p) < 0) {
        client_close(c, "malformed Engine.IO packet");
        return;
    }
    switch (p.type) {
    case EIO_OPEN:
        if (!read_open(c, p.data, p.len)) {
            client_close(c, "bad Engine.IO open packet");
            return;
        }
        c->open = true;
        c->silent_at_ms = now_ms + c->heartbeat_ms;
        c->io.on_open(c->io.ctx);
        break;
    case EIO_PING:
        if (c->heartbeat_ms) c->silent_at_ms = now_ms + c->heartbeat_ms;
        c->io.send_text(c->io.ctx, '3', NULL, 0);
        break;
    case EIO_CLOSE:
        client_close(c, "closed by the server");
        break;
    case EIO_MESSAGE:
        c->io.on_message(c->io.ctx, p.data, p.len);
        break;
    default:
        break; /* pong, upgrade, noop: nothing for a WebSocket client */
    }
}

bool eio_client_send(eio_client *c, const uint8_t *data, size_t len)
{
    if (!c || !c->open) return false;
    return c->io.send_text(c->io.ctx, '4', data, len);
}

void eio_client_tick(eio_client *c, int64_t now_ms)
{
    if (!c || c->closed || c->silent_at_ms > now_ms) return;
    client_close(c, "no ping from the server");
}

int64_t eio_client_deadline(const eio_client *c)
{
    return c && !c->closed ? c->silent_at_ms : EIO_CLIENT_NEVER;
}

bool eio_client_is_open(const eio_client *c)
{
    return c && c->open;
}
