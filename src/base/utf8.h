/* utf8.h: UTF-8 validation (RFC 3629): WebSocket text messages must be
 * valid UTF-8 (RFC 6455 §8.1), and so must JSON text (RFC 8259 §8.1); and
 * decoding one code point at a time, for code that judges text code point by
 * code point (the transfer protocol's path rules, the CLI's terminal
 * escaping). */
#ifndef PD_UTF8_H
#define PD_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length of the multi-byte sequence at s (first byte >= 0x80), or 0 if it
 * is not a valid, shortest-form encoding of a scalar value. */
size_t pd_utf8_seq(const uint8_t *s, size_t len);
bool pd_utf8_valid(const uint8_t *s, size_t len);

/* Decodes the code point at s[i] (i < len) into *cp and returns the length
 * of its sequence (1-4), or 0 where pd_utf8_seq finds no valid one. */
size_t pd_utf8_next(const uint8_t *s, size_t len, size_t i, unsigned *cp);

#endif
