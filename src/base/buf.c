/* buf.c: see buf.h. Growth doubles, starting at 256 bytes. */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pd_buf_init(pd_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void pd_buf_reset(pd_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

uint8_t *pd_buf_reserve(pd_buf *b, size_t len)
{
    /* one byte of slack past max so callers can NUL-terminate a full buffer */
    if (len > b->max + 1 || b->len > b->max + 1 - len) return NULL;
    size_t need = b->len + len;
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < need)
            cap = cap > SIZE_MAX / 2 ? need : cap * 2;
        if (cap > b->max + 1 && need <= b->max + 1) cap = b->max + 1; /* +1 leaves room for a NUL */
        uint8_t *d = realloc(b->data, cap);
        if (!d) return NULL;
        b->data = d;
        b->cap = cap;
    }
    return b->data + b->len;
}

void pd_buf_commit(pd_buf *b, size_t len)
{
    b->len += len;
}

int pd_buf_append(pd_buf *b, const void *data, size_t len)
{
    if (len == 0) return PD_BUF_OK;
    if (len > b->max || b->len > b->max - len) return PD_BUF_E_FULL;
    uint8_t *dst = pd_buf_reserve(b, len);
    if (!dst) return PD_BUF_E_NOMEM;
    memcpy(dst, data, len);
    b->len += len;
    return PD_BUF_OK;
}

int pd_buf_append_byte(pd_buf *b, uint8_t byte)
{
    return pd_buf_append(b, &byte, 1);
}

int pd_buf_append_str(pd_buf *b, const char *s)
{
    return pd_buf_append(b, s, strlen(s));
}

int pd_buf_printf(pd_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return PD_BUF_E_NOMEM;
    if ((size_t)n > b->max || b->len > b->max - (size_t)n) return PD_BUF_E_FULL;
    uint8_t *dst = pd_buf_reserve(b, (size_t)n + 1);
    if (!dst) return PD_BUF_E_NOMEM;
    va_start(ap, fmt);
    vsnprintf((char *)dst, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return PD_BUF_OK;
}

void pd_buf_consume(pd_buf *b, size_t n)
{
    if (n >= b->len) {
        pd_buf_reset(b);
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

uint8_t *pd_buf_steal(pd_buf *b, size_t *len)
{
    uint8_t *d = b->data;
    if (len) *len = b->len;
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return d;
}
