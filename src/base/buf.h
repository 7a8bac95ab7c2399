/* buf.h: a growable byte buffer with a hard ceiling.
 *
 * Idle connections must cost almost nothing, so a pd_buf owns no memory until
 * bytes are appended, and pd_buf_reset() gives it all back. Every buffer has a
 * `max` set at init (curl's dynbuf idea): appends past it fail with PD_BUF_E_FULL
 * instead of growing without bound. */
#ifndef PD_BUF_H
#define PD_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct pd_buf {
    uint8_t *data;
    size_t len; /* bytes in use, starting at data */
    size_t cap; /* bytes allocated */
    size_t max; /* ceiling for len */
} pd_buf;

enum { PD_BUF_OK = 0, PD_BUF_E_NOMEM = -1, PD_BUF_E_FULL = -2 };

void pd_buf_init(pd_buf *b, size_t max);
void pd_buf_reset(pd_buf *b); /* frees the storage; keeps max */
int pd_buf_append(pd_buf *b, const void *data, size_t len);
int pd_buf_append_byte(pd_buf *b, uint8_t byte);
int pd_buf_append_str(pd_buf *b, const char *s);
int pd_buf_printf(pd_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Makes room for `len` more bytes and returns where they go (or NULL);
 * the caller writes them and then calls pd_buf_commit(b, written). */
uint8_t *pd_buf_reserve(pd_buf *b, size_t len);
void pd_buf_commit(pd_buf *b, size_t len);
/* Drops the first n bytes (memmove); frees the storage when it empties. */
void pd_buf_consume(pd_buf *b, size_t n);
/* Hands the storage to the caller (who frees it with free()) and resets b. */
uint8_t *pd_buf_steal(pd_buf *b, size_t *len);

#endif
