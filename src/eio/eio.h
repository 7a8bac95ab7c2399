/* eio.h: sans-I/O Engine.IO v4 codec.
 *
 * Packets (spec "4th version"): one type digit then data.
 *   0 open  1 close  2 ping  3 pong  4 message  5 upgrade  6 noop
 * Over WebSocket each packet is one frame: a text frame is "<digit><data>";
 * a binary frame is a message packet with no type byte.
 * Over long-polling a payload is packets joined by 0x1e (record separator);
 * a binary message travels as "b" + base64(data).
 *
 * This module only parses and formats. A session (heartbeat, upgrade) is
 * src/eio/session.h; timers and transports live in
 * src/server/engine.c. */
#ifndef PD_EIO_H
#define PD_EIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/buf.h"

#define EIO_ERRORS(X)                                                                              \
    X(EIO_E_SYNTAX, -1, "malformed Engine.IO packet")                                              \
    X(EIO_E_TOO_BIG, -2, "payload over maxPayload")                                                \
    X(EIO_E_NOMEM, -3, "out of memory")

enum {
#define EIO_ERR_ENUM(name, value, text) name = (value),
    EIO_ERRORS(EIO_ERR_ENUM)
#undef EIO_ERR_ENUM
};
const char *eio_strerror(int err);

typedef enum eio_type {
    EIO_OPEN = 0,
    EIO_CLOSE = 1,
    EIO_PING = 2,
    EIO_PONG = 3,
    EIO_MESSAGE = 4,
    EIO_UPGRADE = 5,
    EIO_NOOP = 6,
} eio_type;

typedef struct eio_packet {
    eio_type type;
    bool binary;         /* message with binary data */
    const uint8_t *data; /* for text packets: after the type digit */
    size_t len;
} eio_packet;

/* Parses a text packet (WebSocket text frame, or one polling record that
 * is not "b"-prefixed): first byte must be '0'..'6'. Data points into in. */
int eio_packet_parse_text(const uint8_t *in, size_t len, eio_packet *out);

/* Splits a polling payload: call repeatedly with *pos starting at 0.
 * Returns 1 and sets *rec and *rec_len to the next record (between separators),
 * or 0 at the end. An empty record (e.g. "4a\x1e\x1e") is returned as
 * length 0 and the caller treats it as a syntax error. */
int eio_payload_next(const uint8_t *in, size_t len, size_t *pos, const uint8_t **rec,
                     size_t *rec_len);

/* Parses one polling record into *out. A "b<base64>" record is decoded into
 * `scratch` (which must hold PD_BASE64_DECODED_MAX(rec_len) bytes) and
 * out->data points there; other records behave as eio_packet_parse_text. */
int eio_record_parse(const uint8_t *rec, size_t rec_len, uint8_t *scratch, eio_packet *out);

/* Appends one packet to a polling payload in `out`, adding the 0x1e
 * separator when out is not empty, and base64 for binary messages. */
int eio_payload_append(pd_buf *out, const eio_packet *p);

/* Formats the open packet's JSON (without the leading '0'):
 * {"sid":"...","upgrades":["websocket"]|[],"pingInterval":N,"pingTimeout":N,"maxPayload":N}
 * Returns the length, or -1 if it does not fit in cap. */
int eio_open_json(char *out, size_t cap, const char *sid, bool upgrades_websocket,
                  unsigned ping_interval_ms, unsigned ping_timeout_ms, unsigned max_payload);

/* The handshake/request query: EIO, transport, sid. */
typedef enum eio_transport { EIO_TRANSPORT_POLLING = 1, EIO_TRANSPORT_WEBSOCKET = 2 } eio_transport;

/* Engine.IO HTTP error codes (reference Server.errors). */
typedef enum eio_http_error {
    EIO_HTTP_OK = -1,
    EIO_HTTP_UNKNOWN_TRANSPORT = 0,
    EIO_HTTP_UNKNOWN_SID = 1,
    EIO_HTTP_BAD_HANDSHAKE_METHOD = 2,
    EIO_HTTP_BAD_REQUEST = 3,
    EIO_HTTP_FORBIDDEN = 4,
    EIO_HTTP_UNSUPPORTED_PROTOCOL_VERSION = 5,
} eio_http_error;

typedef struct eio_query {
    eio_transport transport;
    const char *sid; /* NULL when absent; points into the query */
    size_t sid_len;
} eio_query;

/* Checks a request's query string in the reference's order: transport must
 * be polling or websocket (else UNKNOWN_TRANSPORT, checked first, as in
 * Server.verify); then, only for a handshake (no or empty sid), EIO must be
 * "4" (else UNSUPPORTED_PROTOCOL_VERSION; the reference checks it in
 * Server.handshake and never for requests inside a session). Values are
 * compared percent-decoded and a repeated key's last value wins, as with
 * URLSearchParams. Returns EIO_HTTP_OK or the error code.
 * On UNSUPPORTED_PROTOCOL_VERSION *out is still filled: the reference
 * answers a non-GET handshake with BAD_HANDSHAKE_METHOD and a websocket
 * handshake without Upgrade with BAD_REQUEST before looking at EIO, so the
 * caller makes those checks first. The sid is left percent-encoded. */
eio_http_error eio_query_parse(const char *query, size_t query_len, eio_query *out);

/* "Transport unknown", "Session ID unknown", ... */
const char *eio_http_error_message(eio_http_error code);

/* Writes the reference's error body {"code":N,"message":"..."}; returns length. */
int eio_http_error_json(char *out, size_t cap, eio_http_error code);

#endif
