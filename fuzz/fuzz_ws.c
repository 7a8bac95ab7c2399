/* fuzz_ws.c: libFuzzer target for the WebSocket codec. Copies the input
 * (frames are unmasked in place), drives a ws_reader over all of it the way
 * a connection would, then cleans up. One input in three gets a 64-byte
 * message limit so the size checks are reached; the choice uses the length,
 * not a byte, so it does not constrain the frames. No state survives between
 * runs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ws/ws.h"

#define FUZZ_ASSERT(c)                                                                             \
    do {                                                                                           \
        if (!(c)) abort();                                                                         \
    } while (0)

static void check_message(const ws_message *m)
{
    FUZZ_ASSERT(m->data != NULL || m->len == 0);
    if (m->opcode == WS_OP_TEXT) FUZZ_ASSERT(ws_utf8_valid(m->data, m->len));
    if (m->opcode == WS_OP_CLOSE) FUZZ_ASSERT(m->close_code >= 1000 && m->len <= 123);
    if (m->opcode == WS_OP_PING || m->opcode == WS_OP_PONG) FUZZ_ASSERT(m->len <= 125);
    /* touch every byte so ASan checks the pointer */
    volatile uint8_t sum = 0;
    for (size_t i = 0; i < m->len; i++)
        sum += m->data[i];
    (void)sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    if (size) memcpy(buf, data, size);
    size_t max = size % 3 == 0 ? 64 : 1u << 16;

    ws_reader r;
    ws_reader_init(&r, max);
    size_t off = 0;
    for (;;) {
        size_t used = 0;
        ws_message m;
        int rc = ws_reader_feed(&r, buf + off, size - off, &used, &m);
        if (rc < 0) {
            FUZZ_ASSERT(ws_error_close_code(rc) >= 1000);
            break;
        }
        FUZZ_ASSERT(used <= size - off);
        if (rc == 1) check_message(&m);
        if (used == 0) break;
        off += used;
    }
    /* an idle reader gives back its memory (ws.h) */
    FUZZ_ASSERT(r.in_fragmented || r.fragments.data == NULL);
    ws_reader_cleanup(&r);

    /* the encoders, driven by the same bytes */
    if (size >= 2) {
        uint8_t hdr[10], close[125];
        uint64_t len = 0;
        for (size_t i = 0; i < size && i < 8; i++)
            len = len << 8 | data[i];
        size_t n = ws_frame_header_encode(hdr, true, WS_OP_BINARY, len >> 1);
        FUZZ_ASSERT(n == 2 || n == 4 || n == 10);
        char reason[200];
        size_t rl = size - 2 < sizeof reason - 1 ? size - 2 : sizeof reason - 1;
        memcpy(reason, data + 2, rl);
        reason[rl] = '\0';
        n = ws_close_payload_encode(close, (uint16_t)(data[0] << 8 | data[1]), reason);
        FUZZ_ASSERT(n >= 2 && n <= 125);
        char accept[29];
        ws_accept_key((const char *)data, size < 24 ? size : 24, accept);
    }
    free(buf);
    return 0;
}
