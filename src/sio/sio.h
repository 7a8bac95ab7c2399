/* sio.h: sans-I/O Socket.IO v5 packet codec (JSON via jansson).
 *
 * Wire form (inside an Engine.IO message packet):
 *   <type>[<attachments>-][<nsp>,][<ack id>][<JSON>]      nsp omitted when "/"
 *   0 CONNECT 1 DISCONNECT 2 EVENT 3 ACK 4 CONNECT_ERROR 5 BINARY_EVENT 6 BINARY_ACK
 * Binary attachments follow a BINARY_* packet as separate Engine.IO messages;
 * in the JSON they are {"_placeholder":true,"num":i}. This codec leaves the
 * placeholders in place: reassembly (counting attachments) is the caller's job.
 *
 * Decoding applies the reference parser's validity rules (socket.io-parser
 * 4.2 isPayloadValid): a violation is an error, and the server then closes the
 * whole Engine.IO connection, as the reference does. */
#ifndef PD_SIO_H
#define PD_SIO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/buf.h"

#define SIO_ERRORS(X)                                                                              \
    X(SIO_E_SYNTAX, -1, "malformed Socket.IO packet")                                              \
    X(SIO_E_TYPE, -2, "unknown packet type")                                                       \
    X(SIO_E_ATTACHMENTS, -3, "bad attachment count")                                               \
    X(SIO_E_NSP, -4, "bad namespace")                                                              \
    X(SIO_E_JSON, -5, "invalid JSON payload")                                                      \
    X(SIO_E_PAYLOAD, -6, "payload not valid for packet type")                                      \
    X(SIO_E_NOMEM, -7, "out of memory")                                                            \
    X(SIO_E_TOO_BIG, -8, "packet over the output buffer's limit")

enum {
#define SIO_ERR_ENUM(name, value, text) name = (value),
    SIO_ERRORS(SIO_ERR_ENUM)
#undef SIO_ERR_ENUM
};
const char *sio_strerror(int err);

typedef enum sio_type {
    SIO_CONNECT = 0,
    SIO_DISCONNECT = 1,
    SIO_EVENT = 2,
    SIO_ACK = 3,
    SIO_CONNECT_ERROR = 4,
    SIO_BINARY_EVENT = 5,
    SIO_BINARY_ACK = 6,
} sio_type;

typedef struct sio_packet {
    sio_type type;
    const char *nsp; /* points into the input, or to the static "/" */
    size_t nsp_len;
    int64_t ack_id;       /* -1 when absent */
    unsigned attachments; /* BINARY_* only */
    json_t *data;         /* owned; NULL when the packet has no payload */
} sio_packet;

/* Decodes one packet from in[0..len) (the Engine.IO message data, without
 * the '4'). Rules (violations return an error and leave *out empty):
 *  - type digit 0..6;
 *  - BINARY_*: "<n>-" with 0 <= n <= max_attachments;
 *  - a namespace starts with '/' and runs to ',' or the end; <= PD_MAX_SIO_NSP;
 *  - the ack id is a run of decimal digits (<= 2^53-1), then the JSON;
 *  - payload: CONNECT object or absent; DISCONNECT absent; CONNECT_ERROR
 *    string or object; EVENT/BINARY_EVENT a non-empty array whose first
 *    element is a number or a string that is not a reserved event name
 *    (connect, connect_error, disconnect, disconnecting, newListener,
 *    removeListener); ACK/BINARY_ACK an array.
 * On success the caller owns out->data and calls sio_packet_cleanup(). */
int sio_packet_decode(const char *in, size_t len, unsigned max_attachments, sio_packet *out);
void sio_packet_cleanup(sio_packet *p);

/* Decodes everything but the JSON payload (out->data stays NULL) and sets
 * *payload_offset to where the payload starts (== len when there is none).
 * The JSON is not checked: the caller either scans it itself (the relay
 * fast path) or falls back to sio_packet_decode. */
int sio_packet_decode_header(const char *in, size_t len, unsigned max_attachments, sio_packet *out,
                             size_t *payload_offset);

/* Appends the encoded packet (without the Engine.IO '4') to out. `data` may
 * be NULL. ack_id < 0 means none. JSON is compact, UTF-8 kept as is. */
int sio_packet_encode(pd_buf *out, sio_type type, const char *nsp, size_t nsp_len, int64_t ack_id,
                      unsigned attachments, const json_t *data);

/* Appends only the packet header: type, "<n>-" for BINARY_*, the namespace
 * and the ack id. The caller appends the JSON payload text itself; the relay
 * path uses this to write a packet without building a JSON tree. */
int sio_packet_encode_header(pd_buf *out, sio_type type, const char *nsp, size_t nsp_len,
                             int64_t ack_id, unsigned attachments);

/* Appends s as a JSON string, quoted and escaped exactly as JSON.stringify
 * writes it. */
int sio_json_string_append(pd_buf *out, const char *s, size_t len);

/* The event name of an EVENT packet's data (array element 0 as a string), or NULL. */
const char *sio_event_name(const json_t *data);

#endif
