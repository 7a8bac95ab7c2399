/* merge.c: the queues of the receiver's merge (merge.h, docs/protocol.md
 * §5.10): singly linked FIFOs, one per channel and one for control
 * messages, and a list of popped messages kept until collect. */
#include <stdlib.h>
#include <string.h>

#include "transfer/merge.h"

typedef struct fifo {
    xfer_held *head, *tail;
} fifo;

struct xfer_merge {
    uint64_t max_bytes, bytes;
    size_t max_msgs, msgs;
    fifo data[XFER_MERGE_CHANNELS];
    fifo control;
    xfer_held *retired;
};

xfer_merge *xfer_merge_create(uint64_t max_bytes, size_t max_msgs)
{
    xfer_merge *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->max_bytes = max_bytes;
    m->max_msgs = max_msgs;
    return m;
}

static void free_list(xfer_held *h)
{
    while (h) {
        xfer_held *n = h->next;
        free(h);
        h = n;
    }
}

void xfer_merge_destroy(xfer_merge *m)
{
    if (!m) return;
    for (unsigned c = 0; c < XFER_MERGE_CHANNELS; c++)
        free_list(m->data[c].head);
    free_list(m->control.head);
    free_list(m->retired);
    free(m);
}

/* counted: the DATA payload, or the whole control message */
static int hold(xfer_merge *m, fifo *q, uint32_t file, uint64_t offset, size_t payload,
                size_t counted, const uint8_t *msg, size_t len)
{
    if (m->msgs >= m->max_msgs || counted > m->max_bytes - m->bytes) return XFER_E_TOO_BIG;
    xfer_held *h = malloc(sizeof *h + len);
    if (!h) return XFER_E_NOMEM;
    h->next = NULL;
    h->file = file;
    h->offset = offset;
    h->payload = payload;
    h->len = len;
    if (len) memcpy(h->msg, msg, len);
    if (q->tail)
        q->tail->next = h;
    else
        q->head = h;
    q->tail = h;
    m->msgs++;
    m->bytes += counted;
    return XFER_OK;
}

static void pop(xfer_merge *m, fifo *q, bool data)
{
    xfer_held *h = q->head;
    if (!h) return;
    q->head = h->next;
    if (!q->head) q->tail = NULL;
    m->msgs--;
    m->bytes -= data ? h->payload : h->len;
    h->next = m->retired;
    m->retired = h;
}

int xfer_merge_hold_data(xfer_merge *m, unsigned channel, uint32_t file, uint64_t offset,
                         size_t payload, const uint8_t *msg, size_t len)
{
    if (!m || channel >= XFER_MERGE_CHANNELS || payload > len) return XFER_E_ARG;
    return hold(m, &m->data[channel], file, offset, payload, payload, msg, len);
}

const xfer_held *xfer_merge_data_head(const xfer_merge *m, unsigned channel)
{
    return m && channel < XFER_MERGE_CHANNELS ? m->data[channel].head : NULL;
}

void xfer_merge_pop_data(xfer_merge *m, unsigned channel)
{
    if (m && channel < XFER_MERGE_CHANNELS) pop(m, &m->data[channel], true);
}

int xfer_merge_hold_control(xfer_merge *m, const uint8_t *msg, size_t len)
{
    if (!m) return XFER_E_ARG;
    return hold(m, &m->control, 0, 0, 0, len, msg, len);
}

const xfer_held *xfer_merge_control_head(const xfer_merge *m)
{
    return m ? m->control.head : NULL;
}

void xfer_merge_pop_control(xfer_merge *m)
{
    if (m) pop(m, &m->control, false);
}

size_t xfer_merge_held_msgs(const xfer_merge *m)
{
    return m ? m->msgs : 0;
}

uint64_t xfer_merge_held_bytes(const xfer_merge *m)
{
    return m ? m->bytes : 0;
}

void xfer_merge_collect(xfer_merge *m)
{
    if (!m) return;
    free_list(m->retired);
    m->retired = NULL;
}
