/* base64.h: RFC 4648 base64 (standard alphabet, padded), sans-I/O.
 * Engine.IO carries binary over long-polling as "b" + base64, and the
 * WebSocket handshake's Sec-WebSocket-Accept is base64(SHA-1). */
#ifndef PD_BASE64_H
#define PD_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Output size for n input bytes, without NUL. */
#define PD_BASE64_ENCODED_LEN(n) ((((n) + 2) / 3) * 4)
/* Upper bound of decoded size for n base64 chars. */
#define PD_BASE64_DECODED_MAX(n) (((n) / 4) * 3 + 3)

/* Writes PD_BASE64_ENCODED_LEN(len) chars to out (no NUL); returns that count. */
size_t pd_base64_encode(const uint8_t *in, size_t len, char *out);
/* Decodes; returns bytes written, or -1 on a bad character, bad padding or
 * bad length. Accepts input without padding too (as Node's Buffer does). */
long pd_base64_decode(const char *in, size_t len, uint8_t *out);

#endif
