/* fuzz_sio_session.c: the Socket.IO session core driven by arbitrary
 * messages and a fake clock. The input is a script: each step is an opcode
 * byte, a length byte and that many bytes (a text or binary message, a time
 * step, an emit asking for an ack, a server disconnect). Checks: every
 * namespace joined is disconnected exactly once, every ack token comes back
 * once (answered or dropped), nothing happens after the connection is
 * closed and ended. No state outlives one run. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/sio/session.h"

#define FUZZ_ASSERT(c)                                                                             \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #c);              \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

typedef struct world {
    sio_sess s;
    int joined, left, acks_out, closes;
    unsigned next_id;
    bool ended;
} world;

static void io_send(void *ctx, const uint8_t *data, size_t len, bool binary)
{
    world *w = ctx;
    (void)data, (void)len, (void)binary;
    FUZZ_ASSERT(!w->ended);
}

static void io_close(void *ctx)
{
    world *w = ctx;
    FUZZ_ASSERT(!w->ended);
    w->closes++;
}

static bool io_join(void *ctx, sio_sess_ns *ns)
{
    world *w = ctx;
    FUZZ_ASSERT(!w->ended && w->closes == 0);
    snprintf(ns->id, sizeof ns->id, "%u", w->next_id++);
    w->joined++;
    return true;
}

static void io_on_connect(void *ctx, sio_sess_ns *ns, json_t *auth)
{
    (void)ctx, (void)ns;
    FUZZ_ASSERT(json_is_object(auth));
}

static bool io_on_event_raw(void *ctx, sio_sess_ns *ns, const char *json, size_t len,
                            int64_t ack_id)
{
    (void)ctx, (void)ns, (void)json, (void)ack_id;
    return len % 3 == 0; /* takes some, declines others */
}

static void io_on_event(void *ctx, sio_sess_ns *ns, json_t *args, int64_t ack_id,
                        const sio_attachment *att, unsigned att_count)
{
    world *w = ctx;
    (void)ns, (void)ack_id;
    FUZZ_ASSERT(!w->ended && json_is_array(args) && json_array_size(args) > 0);
    for (unsigned i = 0; i < att_count; i++)
        FUZZ_ASSERT(att[i].data != NULL);
}

static void io_on_ack(void *ctx, sio_sess_ns *ns, void *token, json_t *args,
                      const sio_attachment *att, unsigned att_count)
{
    world *w = ctx;
    (void)ns, (void)att, (void)att_count;
    FUZZ_ASSERT(json_is_array(args));
    free(token);
    w->acks_out--;
}

static void io_ack_dropped(void *ctx, void *token)
{
    world *w = ctx;
    free(token);
    w->acks_out--;
}

static void io_on_disconnect(void *ctx, sio_sess_ns *ns, const char *reason)
{
    world *w = ctx;
    (void)ns;
    FUZZ_ASSERT(reason != NULL);
    w->left++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const sio_sess_namespace nss[] = {{.name = "/", .binary = false},
                                             {.name = "/bin", .binary = true}};
    pd_buf scratch;
    pd_buf_init(&scratch, 1 << 16);
    sio_sess_config cfg = {.namespaces = nss,
                           .namespace_count = 2,
                           .connect_timeout_ms = 1000,
                           .max_attachment_bytes = 512,
                           .scratch = &scratch};
    sio_sess_io io = {.send = io_send,
                      .close = io_close,
                      .join = io_join,
                      .on_connect = io_on_connect,
                      .on_event_raw = io_on_event_raw,
                      .on_event = io_on_event,
                      .on_ack = io_on_ack,
                      .ack_dropped = io_ack_dropped,
                      .on_disconnect = io_on_disconnect};
    world *w = calloc(1, sizeof *w);
    if (!w) return 0;
    io.ctx = w;
    int64_t now = 1000;
    sio_sess_init(&w->s, &cfg, &io, now);
    size_t pos = 0;
    while (pos + 2 <= size && w->closes == 0) {
        uint8_t op = data[pos] % 5, n = data[pos + 1];
        pos += 2;
        if (n > size - pos) n = (uint8_t)(size - pos);
        const uint8_t *d = data + pos;
        pos += n;
        switch (op) {
        case 0:
            sio_sess_feed(&w->s, d, n, false, now);
            break;
        case 1:
            sio_sess_feed(&w->s, d, n, true, now);
            break;
        case 2:
            now += n ? (int64_t)d[0] * 64 : 1;
            sio_sess_tick(&w->s, now);
            FUZZ_ASSERT(w->closes > 0 || sio_sess_deadline(&w->s) > now);
            break;
        case 3:
            if (w->s.sockets) {
                json_t *args = json_pack("[s]", "e");
                int *token = malloc(sizeof *token);
                if (token && sio_sess_emit(&w->s, w->s.sockets, args, NULL, 0, token) == 0)
                    w->acks_out++;
                else
                    free(token);
                json_decref(args);
            }
            break;
        default:
            if (w->s.sockets) sio_sess_disconnect(&w->s, w->s.sockets, n & 1);
            break;
        }
    }
    /* the glue's close path ends the core */
    sio_sess_end(&w->s, "transport close");
    w->ended = true;
    FUZZ_ASSERT(w->left == w->joined);
    FUZZ_ASSERT(w->acks_out == 0);
    FUZZ_ASSERT(w->closes <= 1);
    free(w);
    pd_buf_reset(&scratch);
    return 0;
}
