/* node_msg.h: the messages one node publishes to another's channel (many
 * nodes through Redis, docs/scale.md), encoded and decoded; no I/O.
 *
 * One line of tab-separated fields, the kind first:
 *   J <room> <node> <socket>                  a member joined on that node
 *   L <room> <socket>                         a member left
 *   R <room> <target> <from> <sent_us> <args> relay of one event
 * Ids are PD_ID_LEN characters of [A-Za-z0-9_-], a room id as
 * rooms_valid_id says; sent_us is the sender's wall clock in microseconds
 * (cross-node latency, meaningful with synchronised clocks); args is the
 * event's JSON array as the sender's node wrote it, passed on as is. The
 * decoder trusts nothing: Redis is reachable by more than the nodes. */
#ifndef PD_NODE_MSG_H
#define PD_NODE_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/buf.h"
#include "../base/id.h"

typedef enum node_msg_kind {
    NODE_MSG_JOINED = 'J',
    NODE_MSG_LEFT = 'L',
    NODE_MSG_RELAY = 'R',
} node_msg_kind;

typedef struct node_msg {
    node_msg_kind kind;
    const char *room; /* into the input, room_len bytes, not terminated */
    size_t room_len;
    char node[PD_ID_LEN + 1];   /* J: the member's node */
    char socket[PD_ID_LEN + 1]; /* J, L: the member; R: the target */
    char from[PD_ID_LEN + 1];   /* R: the sender */
    uint64_t sent_us;           /* R */
    const char *args;           /* R: into the input, args_len bytes, starts with '[' */
    size_t args_len;
} node_msg;

/* True and fills out if `in` is one well-formed message. */
bool node_msg_decode(const char *in, size_t len, node_msg *out);

/* Each appends one message to out (cleared first); false if out's ceiling
 * refused it. The arguments are the node's own, already valid. */
bool node_msg_joined(pd_buf *out, const char *room_id, const char *node, const char *socket);
bool node_msg_left(pd_buf *out, const char *room_id, const char *socket);
/* The header of a relay: the caller appends the args JSON after it. */
bool node_msg_relay_begin(pd_buf *out, const char *room_id, const char *target, const char *from,
                          uint64_t sent_us);

#endif
