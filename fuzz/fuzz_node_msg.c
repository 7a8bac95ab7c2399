/* fuzz_node_msg.c: libFuzzer target for the messages between nodes
 * (src/rooms/node_msg.h): decode arbitrary bytes; a message that decodes
 * must encode back to one that decodes to the same fields. No state
 * outlives one run. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rooms/node_msg.h"

#define FUZZ_ASSERT(c)                                                                             \
    do {                                                                                           \
        if (!(c)) abort();                                                                         \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    node_msg m, back;
    if (!node_msg_decode((const char *)data, size, &m)) return 0;
    FUZZ_ASSERT(m.room >= (const char *)data && m.room + m.room_len <= (const char *)data + size);
    char room[256];
    FUZZ_ASSERT(m.room_len < sizeof room);
    memcpy(room, m.room, m.room_len);
    room[m.room_len] = '\0';
    pd_buf b;
    pd_buf_init(&b, size + 64);
    bool ok = false;
    if (m.kind == NODE_MSG_JOINED)
        ok = node_msg_joined(&b, room, m.node, m.socket);
    else if (m.kind == NODE_MSG_LEFT)
        ok = node_msg_left(&b, room, m.socket);
    else
        ok = node_msg_relay_begin(&b, room, m.socket, m.from, m.sent_us) &&
             pd_buf_append(&b, m.args, m.args_len) == PD_BUF_OK;
    FUZZ_ASSERT(ok);
    FUZZ_ASSERT(node_msg_decode((const char *)b.data, b.len, &back));
    FUZZ_ASSERT(back.kind == m.kind && back.room_len == m.room_len &&
                memcmp(back.room, m.room, m.room_len) == 0);
    FUZZ_ASSERT(strcmp(back.node, m.node) == 0 && strcmp(back.socket, m.socket) == 0 &&
                strcmp(back.from, m.from) == 0 && back.sent_us == m.sent_us);
    FUZZ_ASSERT(back.args_len == m.args_len &&
                (m.args_len == 0 || memcmp(back.args, m.args, m.args_len) == 0));
    pd_buf_reset(&b);
    return 0;
}
