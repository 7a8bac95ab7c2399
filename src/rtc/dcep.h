/* dcep.h: sans-I/O codec for the Data Channel Establishment Protocol
 * (RFC 8832), carried on SCTP PPID 50. Two messages: DATA_CHANNEL_OPEN
 * (type 0x03) and DATA_CHANNEL_ACK (type 0x02), all integers big-endian.
 * Decoding checks every length field against the buffer; label and
 * protocol point into the caller's buffer. Channel state lives in sctp.c. */
#ifndef PD_RTC_DCEP_H
#define PD_RTC_DCEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DCEP_ERRORS(X)                                                                             \
    X(DCEP_OK, 0, "ok")                                                                            \
    X(DCEP_E_SHORT, -1, "DCEP message truncated")                                                  \
    X(DCEP_E_TYPE, -2, "unknown DCEP message type")                                                \
    X(DCEP_E_CHANNEL_TYPE, -3, "unknown data channel type")                                        \
    X(DCEP_E_NOSPACE, -4, "output buffer too small")                                               \
    X(DCEP_E_TOO_BIG, -5, "label or protocol too long")

enum {
#define DCEP_ERR_ENUM(name, value, text) name = (value),
    DCEP_ERRORS(DCEP_ERR_ENUM)
#undef DCEP_ERR_ENUM
};
const char *dcep_strerror(int err);

/* RFC 8832 §8.2.1 message types */
#define DCEP_MSG_ACK 0x02
#define DCEP_MSG_OPEN 0x03
#define DCEP_OPEN_HEADER_LEN 12

/* RFC 8832 §5.1 channel types; the 0x80 bit means unordered. */
enum {
    DCEP_RELIABLE = 0x00,
    DCEP_PARTIAL_RELIABLE_REXMIT = 0x01,
    DCEP_PARTIAL_RELIABLE_TIMED = 0x02,
    DCEP_UNORDERED = 0x80,
};

typedef struct dcep_msg {
    uint8_t type; /* DCEP_MSG_OPEN or DCEP_MSG_ACK */
    /* OPEN only: */
    uint8_t channel_type;
    uint16_t priority;
    uint32_t reliability; /* rexmit count or lifetime in ms; 0 for reliable */
    const uint8_t *label;
    uint16_t label_len;
    const uint8_t *protocol;
    uint16_t protocol_len;
} dcep_msg;

/* Decodes one whole SCTP message. Trailing bytes after an OPEN's protocol
 * are rejected (the lengths must add up, RFC 8832 §5.1). */
int dcep_decode(const uint8_t *in, size_t len, dcep_msg *out);
/* Encodes an OPEN (type field ignored). Returns bytes written or an error. */
int dcep_open_encode(const dcep_msg *m, uint8_t *out, size_t cap);
/* Encodes an ACK: one byte. Returns 1 or DCEP_E_NOSPACE. */
int dcep_ack_encode(uint8_t *out, size_t cap);

#endif
