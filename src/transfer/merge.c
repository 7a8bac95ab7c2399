/* merge.c: the queues of the receiver's merge (merge.h, docs/protocol.md
 * §5.10): doubly linked FIFOs, one per channel and one for control
 * messages, a list of popped messages kept until collect, and for §5.11 an
 * index of held DATA by (file, offset). */
#include <openssl/rand.h>
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
    /* keyed (§5.11): nbuckets a power of two, NULL buckets when not keyed */
    xfer_held **buckets;
    size_t nbuckets;
    uint64_t seed;
};

xfer_merge *xfer_merge_create(uint64_t max_bytes, size_t max_msgs, bool keyed)
{
    xfer_merge *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->max_bytes = max_bytes;
    m->max_msgs = max_msgs;
    if (keyed) {
        /* about two held messages per chain when every slot is taken */
        size_t n = 16;
        while (n < max_msgs / 2 && n < ((size_t)1 << 20))
            n *= 2;
        m->nbuckets = n;
        m->buckets = calloc(n, sizeof(xfer_held *));
        if (!m->buckets || RAND_bytes((unsigned char *)&m->seed, sizeof m->seed) != 1) {
            free(m->buckets);
            free(m);
            return NULL;
        }
    }
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
    free(m->buckets);
    free(m);
}

/* splitmix64's finaliser over the key and the merge's secret seed */
static size_t bucket_of(const xfer_merge *m, uint32_t file, uint64_t offset)
{
    uint64_t x = (offset ^ m->seed) + ((uint64_t)file << 32 | file) * 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    x ^= x >> 31;
    return (size_t)(x & (m->nbuckets - 1));
}

/* counted: the DATA payload, or the whole control message */
static int hold(xfer_merge *m, fifo *q, uint32_t file, uint64_t offset, size_t payload,
                size_t counted, const uint8_t *msg, size_t len, xfer_held **out)
{
    if (m->msgs >= m->max_msgs || counted > m->max_bytes - m->bytes) return XFER_E_TOO_BIG;
    xfer_held *h = malloc(sizeof *h + len);
    if (!h) return XFER_E_NOMEM;
    h->next = NULL;
    h->prev = q->tail;
    h->hnext = NULL;
    h->channel = 0;
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
    *out = h;
    return XFER_OK;
}

static void unlink_index(xfer_merge *m, const xfer_held *h)
{
    if (!m->buckets) return;
    for (xfer_held **pp = &m->buckets[bucket_of(m, h->file, h->offset)]; *pp; pp = &(*pp)->hnext)
        if (*pp == h) {
            *pp = h->hnext;
            return;
        }
}

static void take(xfer_merge *m, fifo *q, xfer_held *h, bool data)
{
    if (h->prev)
        h->prev->next = h->next;
    else
        q->head = h->next;
    if (h->next)
        h->next->prev = h->prev;
    else
        q->tail = h->prev;
    if (data) unlink_index(m, h);
    m->msgs--;
    m->bytes -= data ? h->payload : h->len;
    h->prev = NULL;
    h->next = m->retired;
    m->retired = h;
}

int xfer_merge_hold_data(xfer_merge *m, unsigned channel, uint32_t file, uint64_t offset,
                         size_t payload, const uint8_t *msg, size_t len)
{
    if (!m || channel >= XFER_MERGE_CHANNELS || payload > len) return XFER_E_ARG;
    xfer_held *h;
    int r = hold(m, &m->data[channel], file, offset, payload, payload, msg, len, &h);
    if (r != XFER_OK) return r;
    h->channel = channel;
    if (m->buckets) {
        size_t b = bucket_of(m, file, offset);
        h->hnext = m->buckets[b];
        m->buckets[b] = h;
    }
    return XFER_OK;
}

const xfer_held *xfer_merge_data_head(const xfer_merge *m, unsigned channel)
{
    return m && channel < XFER_MERGE_CHANNELS ? m->data[channel].head : NULL;
}

void xfer_merge_pop_data(xfer_merge *m, unsigned channel)
{
    if (m && channel < XFER_MERGE_CHANNELS && m->data[channel].head)
        take(m, &m->data[channel], m->data[channel].head, true);
}

const xfer_held *xfer_merge_find(const xfer_merge *m, uint32_t file, uint64_t offset)
{
    if (!m || !m->buckets) return NULL;
    for (const xfer_held *h = m->buckets[bucket_of(m, file, offset)]; h; h = h->hnext)
        if (h->file == file && h->offset == offset) return h;
    return NULL;
}

void xfer_merge_take(xfer_merge *m, const xfer_held *h)
{
    if (!m || !h || h->channel >= XFER_MERGE_CHANNELS) return;
    take(m, &m->data[h->channel], (xfer_held *)h, true);
}

int xfer_merge_hold_control(xfer_merge *m, const uint8_t *msg, size_t len)
{
    if (!m) return XFER_E_ARG;
    xfer_held *h;
    return hold(m, &m->control, 0, 0, 0, len, msg, len, &h);
}

const xfer_held *xfer_merge_control_head(const xfer_merge *m)
{
    return m ? m->control.head : NULL;
}

void xfer_merge_pop_control(xfer_merge *m)
{
    if (m && m->control.head) take(m, &m->control, m->control.head, false);
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
