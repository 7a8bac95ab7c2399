/* socketio.h: the Socket.IO v5 layer on top of Engine.IO sessions.
 *
 * The protocol of each Engine.IO session (the namespaces joined, one
 * srv_sio_socket each; acks; binary packets and their attachments;
 * connectTimeout) is src/sio/session.h; this layer gives it a timer and a
 * table of socket ids, and dispatches events to the namespace's handlers.
 * A namespace that takes no binary has BINARY_EVENT/BINARY_ACK refused at
 * the packet header, before any attachment is held; where binary is taken,
 * a packet's attachments may total one maxPayload and must arrive within
 * PD_SIO_ATTACHMENT_TIMEOUT_MS. Packet parsing and formatting is
 * src/sio/sio.h. Any decode error or a packet in an invalid state closes
 * the whole Engine.IO connection, as the reference does (Client.ondecoded).
 *
 * Names: srv_sio_*, so that sio_* stays the codec's and the core's
 * (src/sio). */
#ifndef PD_SOCKETIO_H
#define PD_SOCKETIO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "engine.h"
#include "sio/session.h" /* sio_attachment */

typedef struct srv_sio_socket srv_sio_socket;

typedef struct srv_sio_namespace_def {
    const char *name; /* "/", "/custom" */
    /* auth is the CONNECT payload, {} when absent (never NULL) */
    void (*on_connect)(srv_sio_socket *sock, json_t *auth);
    /* args is the EVENT array, event name first; ack_id < 0 when no ack is asked */
    void (*on_event)(srv_sio_socket *sock, json_t *args, int64_t ack_id, const sio_attachment *att,
                     unsigned att_count);
    void (*on_disconnect)(srv_sio_socket *sock, const char *reason);
    /* Optional fast path for EVENT packets: gets the payload's JSON text
     * unparsed. Returns true if it handled the event; false sends the packet
     * down the full path (decode with jansson, then on_event). */
    bool (*on_event_raw)(srv_sio_socket *sock, const char *json, size_t len, int64_t ack_id);
    /* Takes BINARY_EVENT / BINARY_ACK packets. When false, such a packet
     * gets a CONNECT_ERROR {"message":"binary packets are not accepted"} for
     * its namespace and the Engine.IO session is closed. */
    bool binary;
} srv_sio_namespace_def;

/* Called when the client acknowledges an event we emitted with an ack. */
typedef void (*srv_sio_ack_fn)(srv_sio_socket *sock, void *ctx, json_t *args,
                               const sio_attachment *att, unsigned att_count);

void srv_sio_init(uv_loop_t *loop, const srv_sio_namespace_def *namespaces, size_t count,
                  unsigned connect_timeout_ms, unsigned max_payload);
extern const engine_callbacks srv_sio_engine_callbacks;

/* Emits an EVENT (args: an array, event name first). With attachments, the
 * JSON must hold their placeholders and a BINARY_EVENT is sent. With `ack`,
 * asks the client for an acknowledgement. Returns 0 or -1. */
int srv_sio_emit(srv_sio_socket *sock, const json_t *args, const sio_attachment *att,
                 unsigned att_count, srv_sio_ack_fn ack, void *ack_ctx);
/* Convenience: emits [event, payload] (payload may be NULL: no argument). */
int srv_sio_emit_simple(srv_sio_socket *sock, const char *event, const json_t *payload);
/* Emits an EVENT whose argument array is given as JSON text (e.g.
 * `["offer",{...}]`), already encoded by the caller: the relay fast path. */
int srv_sio_emit_json(srv_sio_socket *sock, const char *args_json, size_t len);
/* Answers an ack with argument-array JSON text (e.g. `[{"ok":true}]`). */
int srv_sio_ack_json(srv_sio_socket *sock, int64_t ack_id, const char *args_json, size_t len);
/* Answers an event's ack request with `args` (an array). */
int srv_sio_ack(srv_sio_socket *sock, int64_t ack_id, const json_t *args, const sio_attachment *att,
                unsigned att_count);

/* Server-side disconnect of this namespace socket: sends DISCONNECT; with
 * close_connection, also closes the Engine.IO session. */
void srv_sio_socket_disconnect(srv_sio_socket *sock, bool close_connection);

const char *srv_sio_socket_id(const srv_sio_socket *sock);
srv_sio_socket *srv_sio_socket_find(const char *id, size_t id_len); /* any namespace */
void srv_sio_socket_set_user(srv_sio_socket *sock, void *user);
void *srv_sio_socket_user(const srv_sio_socket *sock);
bool srv_sio_socket_is_websocket(const srv_sio_socket *sock);
/* The Engine.IO session under this socket: its id, and its client address.
 * A client that renews its namespace (41 then 40) keeps both. */
const char *srv_sio_socket_session_id(const srv_sio_socket *sock);
const char *srv_sio_socket_peer(const srv_sio_socket *sock);
size_t srv_sio_socket_count(void);

#endif
