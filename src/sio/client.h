/* client.h: the client side of Socket.IO v5 on the main namespace "/", as
 * a sans-I/O state machine (the CLI's; the server side is session.h).
 *
 * Once Engine.IO is open it sends CONNECT; the server's CONNECT gives the
 * socket id, a CONNECT_ERROR or DISCONNECT ends the connection. It encodes
 * events, hands out ack ids and matches the server's ACKs to them (once;
 * unknown ids are ignored), and hands server events up. Binary packets are
 * not spoken: the signaling contract has none. The caller owns the
 * Engine.IO session below (src/eio/client.h) and the connection. */
#ifndef PD_SIO_CLIENT_H
#define PD_SIO_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIO_CLIENT_SID_CAP 64

typedef struct sio_client_io {
    void *ctx;
    /* One Engine.IO message (text) to send; false if it could not be queued. */
    bool (*send)(void *ctx, const uint8_t *data, size_t len);
    /* CONNECT accepted; sid is our socket id. */
    void (*on_connected)(void *ctx, const char *sid);
    /* A server event: its name and first argument (borrowed; may be NULL). */
    void (*on_event)(void *ctx, const char *name, json_t *arg);
    /* The ack asked with `token`: its first argument (borrowed), or NULL
     * when the connection was lost before it came (sio_client_reset). */
    void (*on_ack)(void *ctx, void *token, json_t *arg);
    /* The server refused or ended the connection, or sent a malformed
     * packet: the caller drops the connection (and calls sio_client_reset). */
    void (*on_lost)(void *ctx, const char *reason);
} sio_client_io;

typedef struct sio_client_ack sio_client_ack;

/* The fields are the module's. */
typedef struct sio_client {
    sio_client_io io;
    bool connected;
    char sid[SIO_CLIENT_SID_CAP];
    int64_t next_ack_id;
    sio_client_ack *acks;
    size_t max_packet; /* cap on one encoded packet */
} sio_client;

void sio_client_init(sio_client *c, const sio_client_io *io, size_t max_packet);
/* Engine.IO is open: sends CONNECT to "/". */
void sio_client_open(sio_client *c);
/* One Engine.IO message from the server. */
void sio_client_feed(sio_client *c, const uint8_t *data, size_t len);
/* Emits [name, arg] (arg not stolen; NULL: no argument). With a token,
 * asks for an ack, reported through on_ack. Returns 0, or -1 when not
 * connected or the packet could not be sent (no ack is then pending). */
int sio_client_emit(sio_client *c, const char *name, json_t *arg, void *ack_token);
/* The connection is gone: every pending ack gets on_ack(token, NULL), and
 * the client waits for the next sio_client_open. */
void sio_client_reset(sio_client *c);
/* Drops pending acks without reporting them (the caller is going away);
 * free_token, when given, gets each token. */
void sio_client_cleanup(sio_client *c, void (*free_token)(void *token));
bool sio_client_connected(const sio_client *c);

#endif
