/* ws.h: sans-I/O WebSocket (RFC 6455) codec for the server side.
 *
 * Three parts, none of which touches a socket (the client side of the CLI
 * adds masked frame headers, ws_frame_header_encode_masked + ws_mask):
 *  - ws_accept_key(): the Sec-WebSocket-Accept value for a handshake;
 *  - ws_frame_parse() / ws_frame_header_encode(): one frame at a time;
 *  - ws_reader: reassembles fragmented messages, lets control frames through
 *    between fragments, enforces the message-size ceiling and validates
 *    UTF-8 in text messages (RFC 6455 §8.1).
 * The caller keeps received bytes in its own buffer and feeds them in. */
#ifndef PD_WS_H
#define PD_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/buf.h"

#define WS_ERRORS(X)                                                                               \
    X(WS_PARTIAL, -1, "incomplete frame")                                                          \
    X(WS_E_PROTOCOL, -2, "WebSocket protocol error")                                               \
    X(WS_E_TOO_BIG, -3, "message too big")                                                         \
    X(WS_E_UTF8, -4, "invalid UTF-8 in text message")                                              \
    X(WS_E_NOMEM, -5, "out of memory")

enum {
#define WS_ERR_ENUM(name, value, text) name = (value),
    WS_ERRORS(WS_ERR_ENUM)
#undef WS_ERR_ENUM
};
const char *ws_strerror(int err);

typedef enum ws_opcode {
    WS_OP_CONTINUATION = 0x0,
    WS_OP_TEXT = 0x1,
    WS_OP_BINARY = 0x2,
    WS_OP_CLOSE = 0x8,
    WS_OP_PING = 0x9,
    WS_OP_PONG = 0xA,
} ws_opcode;

/* Close codes we send (RFC 6455 §7.4.1). */
enum {
    WS_CLOSE_NORMAL = 1000,
    WS_CLOSE_GOING_AWAY = 1001,
    WS_CLOSE_PROTOCOL_ERROR = 1002,
    WS_CLOSE_INVALID_DATA = 1007,
    WS_CLOSE_TOO_BIG = 1009,
};

/* Computes base64(SHA-1(key + GUID)) into out (28 chars + NUL).
 * Returns false if the key is not 24 base64 chars decoding to 16 bytes. */
bool ws_accept_key(const char *key, size_t key_len, char out[29]);

typedef struct ws_frame {
    bool fin;
    ws_opcode opcode;
    uint8_t *payload; /* points into the caller's buffer, already unmasked */
    size_t payload_len;
} ws_frame;

/* Parses one frame from in[0..len). Client frames must be masked
 * (require_mask); RSV bits must be zero (we negotiate no extensions);
 * control frames must be final and <= 125 bytes; unknown opcodes are errors.
 * A frame whose payload exceeds max_payload is WS_E_TOO_BIG (checked from the
 * header alone, before the payload arrives). On success unmasks the payload in
 * place and returns the frame's total length (> 0). */
long ws_frame_parse(uint8_t *in, size_t len, bool require_mask, size_t max_payload, ws_frame *out);

/* Writes a frame header (server frames are unmasked) into out; returns its
 * length (2, 4 or 10). */
size_t ws_frame_header_encode(uint8_t out[10], bool fin, ws_opcode opcode, uint64_t payload_len);

/* Client side (RFC 6455 §5.3): every frame a client sends is masked with a
 * fresh, unpredictable 4-byte key. Writes the header with the MASK bit and
 * the key into out; returns its length (6, 8 or 14). The caller then masks
 * the payload with ws_mask(). */
size_t ws_frame_header_encode_masked(uint8_t out[14], bool fin, ws_opcode opcode,
                                     uint64_t payload_len, const uint8_t key[4]);

/* XORs data[0..len) in place with key, starting at key byte (offset & 3),
 * so a payload can be masked in pieces. Masking twice unmasks. */
void ws_mask(uint8_t *data, size_t len, const uint8_t key[4], uint64_t offset);

/* Encodes a close frame payload: 2-byte code + reason (<= 123 bytes, cut). */
size_t ws_close_payload_encode(uint8_t out[125], uint16_t code, const char *reason);

/* Message reassembly. */
typedef struct ws_reader {
    pd_buf fragments;      /* data of an unfinished fragmented message; empty when idle */
    ws_opcode frag_opcode; /* TEXT or BINARY while fragments are pending, else 0 */
    bool in_fragmented;
    size_t max_message;
} ws_reader;

typedef struct ws_message {
    ws_opcode opcode; /* TEXT, BINARY, CLOSE, PING or PONG */
    const uint8_t *data;
    size_t len;
    uint16_t close_code; /* for CLOSE: 1005 when the frame had no code */
} ws_message;

void ws_reader_init(ws_reader *r, size_t max_message);
void ws_reader_cleanup(ws_reader *r);

/* Feeds bytes. Parses at most one frame from in[0..len) (unmasking in
 * place) and sets *consumed to the bytes used. Returns 1 and fills *msg when a
 * whole message (or a control frame) is ready — msg->data stays valid until
 * the next call; 0 when the frame was a non-final fragment or more bytes are
 * needed (*consumed tells which: 0 means need more); < 0 on error (then the
 * caller sends a close with ws_error_close_code() and drops the connection).
 * A CLOSE payload of 1 byte, a bad close code or bad UTF-8 reason is
 * WS_E_PROTOCOL. */
int ws_reader_feed(ws_reader *r, uint8_t *in, size_t len, size_t *consumed, ws_message *msg);

/* Close code that fits an error from this module. */
uint16_t ws_error_close_code(int err);

/* UTF-8 validity (no overlongs, no surrogates, <= U+10FFFF). */
bool ws_utf8_valid(const uint8_t *s, size_t len);

#endif
