/* merge.h: the receiver's merge of a session's channels (docs/protocol.md
 * §5.10, "Receiving: the merge"). Each channel (the session's, lane 0, and
 * its lanes 1..7) is ordered, the channels are not ordered with each other:
 * DATA that is not the next one waits in a FIFO queue per channel, and the
 * control messages behind an early `end` wait in one more queue, until the
 * session (session.c) can handle them in the sender's order. This module
 * only keeps the queues and their bounds; which message is the next one is
 * the session's business. Sans-I/O, no policy.
 *
 * A popped message is not freed at once: a WRITE event of the session
 * points into it until the caller has drained the events, so popped
 * messages are kept until xfer_merge_collect(), which the session calls at
 * the start of its next feed.
 *
 * Keyed (§5.11, cap lane-resend): held DATA is also found by its (file,
 * offset) among everything held, not only at a queue's head, since a copy
 * sent again on another channel arrives behind that channel's newer data.
 * The index is a chained hash table sized once for max_msgs (no allocation
 * per message beyond the held copy); its hash is seeded per merge so that
 * a peer cannot choose offsets that all share one chain. */
#ifndef PD_TRANSFER_MERGE_H
#define PD_TRANSFER_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "transfer/types.h"

/* channels of a session: lane 0 and its lanes 1..XFER_MAX_LANES */
#define XFER_MERGE_CHANNELS (XFER_MAX_LANES + 1u)

typedef struct xfer_held {
    struct xfer_held *next, *prev; /* its queue */
    struct xfer_held *hnext;       /* keyed: its chain of the index */
    unsigned channel;              /* DATA: the queue it waits in */
    uint32_t file;                 /* DATA: its file and offset (header of §4) */
    uint64_t offset;
    size_t payload; /* DATA: payload bytes, what the window bound counts */
    size_t len;     /* the whole message as it arrived */
    uint8_t msg[];
} xfer_held;

typedef struct xfer_merge xfer_merge;

/* max_bytes bounds the held DATA payload plus held control bytes (the
 * receiver's own win), max_msgs the held messages of both kinds; keyed
 * adds the (file, offset) index of §5.11. */
xfer_merge *xfer_merge_create(uint64_t max_bytes, size_t max_msgs, bool keyed);
void xfer_merge_destroy(xfer_merge *m);

/* Copies a DATA message into the queue of `channel` (< XFER_MERGE_CHANNELS).
 * XFER_E_TOO_BIG when it would pass a bound (nothing held), XFER_E_NOMEM. */
int xfer_merge_hold_data(xfer_merge *m, unsigned channel, uint32_t file, uint64_t offset,
                         size_t payload, const uint8_t *msg, size_t len);
/* The oldest held DATA of `channel`, NULL when it holds none. */
const xfer_held *xfer_merge_data_head(const xfer_merge *m, unsigned channel);
/* Takes the head of `channel` out; its bytes stay valid until collect. */
void xfer_merge_pop_data(xfer_merge *m, unsigned channel);

/* Keyed merge only (NULL otherwise): the held DATA of (file, offset). */
const xfer_held *xfer_merge_find(const xfer_merge *m, uint32_t file, uint64_t offset);
/* Takes h (held DATA of this merge) out of its queue, wherever it is in
 * it; its bytes stay valid until collect. */
void xfer_merge_take(xfer_merge *m, const xfer_held *h);

/* Copies a control message (the session's channel) into the control queue;
 * same results as hold_data. */
int xfer_merge_hold_control(xfer_merge *m, const uint8_t *msg, size_t len);
const xfer_held *xfer_merge_control_head(const xfer_merge *m);
void xfer_merge_pop_control(xfer_merge *m);

size_t xfer_merge_held_msgs(const xfer_merge *m);
uint64_t xfer_merge_held_bytes(const xfer_merge *m);

/* Frees what was popped since the last collect. */
void xfer_merge_collect(xfer_merge *m);

#endif
