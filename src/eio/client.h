/* client.h: the client side of an Engine.IO v4 session over one WebSocket,
 * as a sans-I/O state machine (the CLI's; the server side is session.h).
 *
 * Fed the text frames the server sends and the time, it reads the open
 * packet (pingInterval, pingTimeout), answers every ping with a pong, hands
 * message packets up, and says when the server has gone silent: v4 servers
 * ping, so no ping within pingInterval + pingTimeout means the connection
 * is dead (spec "heartbeat"; socket.io-client's resetPingTimeout). The
 * caller owns the socket, the WebSocket framing and a timer armed for
 * eio_client_deadline(). Long-polling is not spoken: the CLI connects with
 * transport=websocket. */
#ifndef PD_EIO_CLIENT_H
#define PD_EIO_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EIO_CLIENT_NEVER INT64_MAX
/* A pingInterval or pingTimeout above an hour is no server of ours: the
 * reference defaults are 25 s and 20 s. */
#define EIO_CLIENT_MAX_HEARTBEAT_MS 3600000u

typedef struct eio_client_io {
    void *ctx;
    /* One text frame: the packet type digit, then data. false if it could
     * not be queued. */
    bool (*send_text)(void *ctx, char type, const uint8_t *data, size_t len);
    /* The open packet came: the session is up. */
    void (*on_open)(void *ctx);
    /* A message packet's data. */
    void (*on_message)(void *ctx, const uint8_t *data, size_t len);
    /* The session is over (a close packet, a malformed packet, a bad open
     * packet, a silent server): the caller drops the connection. The last
     * call. */
    void (*on_close)(void *ctx, const char *reason);
} eio_client_io;

/* The fields are the module's. */
typedef struct eio_client {
    eio_client_io io;
    bool open, closed;
    unsigned heartbeat_ms; /* pingInterval + pingTimeout */
    int64_t silent_at_ms;  /* no ping by then: the server is gone */
} eio_client;

void eio_client_init(eio_client *c, const eio_client_io *io);
/* One text frame from the server. */
void eio_client_feed_text(eio_client *c, const uint8_t *data, size_t len, int64_t now_ms);
/* Sends a message packet; false if it could not be queued or the session
 * is not open. */
bool eio_client_send(eio_client *c, const uint8_t *data, size_t len);
void eio_client_tick(eio_client *c, int64_t now_ms);
int64_t eio_client_deadline(const eio_client *c);
bool eio_client_is_open(const eio_client *c);

#endif
