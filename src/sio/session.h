/* session.h: the Socket.IO v5 server side of one Engine.IO session, as a
 * sans-I/O state machine.
 *
 * It keeps the namespaces the client joined (CONNECT, DISCONNECT, a second
 * CONNECT, too many namespaces), the acknowledgements the server asked for
 * (ids handed out, matched once, unknown ones ignored as the reference
 * does), binary packets and their attachments (refused at the packet header
 * for a namespace that takes no binary, before any attachment is held;
 * elsewhere capped at one maxPayload and PD_SIO_ATTACHMENT_TIMEOUT_MS), and
 * connectTimeout. It is fed Engine.IO messages and the time; it answers
 * through eio-independent callbacks: bytes to send, the connection to
 * close, namespace sockets that open and close, events and acks for the
 * application. Any decode error or packet in an invalid state closes the
 * whole connection, as the reference does (Client.ondecoded).
 *
 * It never touches a socket, a timer or the clock: the caller (for the
 * server, src/server/socketio.c) owns the Engine.IO session, the socket ids'
 * table, the namespace handlers and a timer armed for sio_sess_deadline(). */
#ifndef PD_SIO_SESSION_H
#define PD_SIO_SESSION_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/buf.h"
#include "../base/id.h"
#include "../base/limits.h"
#include "sio.h"

#define SIO_SESS_NEVER INT64_MAX

typedef struct sio_attachment {
    const uint8_t *data;
    size_t len;
} sio_attachment;

/* A namespace the server offers. */
typedef struct sio_sess_namespace {
    const char *name; /* "/", "/custom" */
    /* Takes BINARY_EVENT / BINARY_ACK packets. When false, such a packet
     * gets a CONNECT_ERROR {"message":"binary packets are not accepted"} for
     * its namespace and the connection is closed. */
    bool binary;
} sio_sess_namespace;

typedef struct sio_sess_pending_ack sio_sess_pending_ack;

/* One namespace the client joined (the reference's server-side Socket). */
typedef struct sio_sess_ns {
    struct sio_sess_ns *next;
    size_t nsp;                 /* index in the config's namespaces */
    char id[PD_ID_LEN + 1];     /* given by the caller's join callback */
    sio_sess_pending_ack *acks; /* asked of the client, not yet answered */
    int64_t next_ack_id;
    void *user; /* the caller's */
} sio_sess_ns;

typedef struct sio_sess_io {
    void *ctx;
    /* One Engine.IO message to send (a text packet, or an attachment). */
    void (*send)(void *ctx, const uint8_t *data, size_t len, bool binary);
    /* Close the Engine.IO connection. The caller's close path ends in
     * sio_sess_end(), and may free the session before this returns: the
     * core touches nothing after calling it. */
    void (*close)(void *ctx);
    /* A namespace is being joined: fill ns->id with a socket id unique
     * among the caller's sockets, and set ns->user. false refuses (the
     * connection closes). */
    bool (*join)(void *ctx, sio_sess_ns *ns);
    /* The join was answered: `auth` is the CONNECT payload, {} when absent. */
    void (*on_connect)(void *ctx, sio_sess_ns *ns, json_t *auth);
    /* A plain EVENT's JSON text, unparsed: true if the caller took it; false
     * sends the packet down the full path (jansson, then on_event). */
    bool (*on_event_raw)(void *ctx, sio_sess_ns *ns, const char *json, size_t len, int64_t ack_id);
    /* An EVENT (args: the array, event name first); ack_id < 0: none asked. */
    void (*on_event)(void *ctx, sio_sess_ns *ns, json_t *args, int64_t ack_id,
                     const sio_attachment *att, unsigned att_count);
    /* The client answered the ack asked with `token` (sio_sess_emit). */
    void (*on_ack)(void *ctx, sio_sess_ns *ns, void *token, json_t *args, const sio_attachment *att,
                   unsigned att_count);
    /* An ack asked with `token` will never come (its namespace closed). */
    void (*ack_dropped)(void *ctx, void *token);
    /* The namespace socket is gone; ns is freed after this returns. */
    void (*on_disconnect)(void *ctx, sio_sess_ns *ns, const char *reason);
} sio_sess_io;

typedef struct sio_sess_config {
    const sio_sess_namespace *namespaces;
    size_t namespace_count;
    unsigned connect_timeout_ms;
    size_t max_attachment_bytes; /* all attachments of one packet */
    pd_buf *scratch;             /* the caller's encoding buffer, shared by its sessions */
} sio_sess_config;

/* A binary packet waiting for its attachments. */
typedef struct sio_sess_assembly {
    sio_packet packet;
    char nsp[PD_MAX_SIO_NSP + 1]; /* the input the packet was parsed from is gone */
    sio_attachment *att;
    unsigned received;
    size_t bytes; /* attachment bytes held so far */
} sio_sess_assembly;

/* The fields are the module's. */
typedef struct sio_sess {
    sio_sess_config cfg;
    sio_sess_io io;
    sio_sess_ns *sockets;
    sio_sess_assembly *pending; /* only while a binary packet is incomplete */
    int64_t connect_at_ms;      /* until the first namespace is joined */
    int64_t attachments_at_ms;  /* while a binary packet is incomplete */
    bool ended;
} sio_sess;

/* The Engine.IO session opened at now_ms: a namespace must be joined
 * within connectTimeout. */
void sio_sess_init(sio_sess *s, const sio_sess_config *cfg, const sio_sess_io *io, int64_t now_ms);
/* The Engine.IO session closed: every namespace socket gets on_disconnect
 * with `reason`; everything held is freed. */
void sio_sess_end(sio_sess *s, const char *reason);

/* One Engine.IO message from the client. */
void sio_sess_feed(sio_sess *s, const uint8_t *data, size_t len, bool binary, int64_t now_ms);

/* Acts on the deadlines due at now_ms; the next is sio_sess_deadline(). */
void sio_sess_tick(sio_sess *s, int64_t now_ms);
int64_t sio_sess_deadline(const sio_sess *s);

/* Emits an EVENT (args: an array, event name first). With attachments, the
 * JSON must hold their placeholders and a BINARY_EVENT is sent. With a
 * token (not NULL), asks for an acknowledgement, which comes back as
 * on_ack with that token. Returns 0 or -1. */
int sio_sess_emit(sio_sess *s, sio_sess_ns *ns, const json_t *args, const sio_attachment *att,
                  unsigned att_count, void *ack_token);
/* Emits an EVENT whose argument array is given as JSON text. */
int sio_sess_emit_json(sio_sess *s, sio_sess_ns *ns, const char *args_json, size_t len);
/* Answers an event's ack request (ack_id >= 0) with `args` (an array), or
 * with argument-array JSON text. */
int sio_sess_ack(sio_sess *s, sio_sess_ns *ns, int64_t ack_id, const json_t *args,
                 const sio_attachment *att, unsigned att_count);
int sio_sess_ack_json(sio_sess *s, sio_sess_ns *ns, int64_t ack_id, const char *args_json,
                      size_t len);
/* Server-side disconnect of one namespace: sends DISCONNECT; with
 * close_connection, closes the connection, else the socket ends alone
 * ("server namespace disconnect"). */
void sio_sess_disconnect(sio_sess *s, sio_sess_ns *ns, bool close_connection);

/* The namespace an ns belongs to. */
const sio_sess_namespace *sio_sess_ns_namespace(const sio_sess *s, const sio_sess_ns *ns);

#endif
