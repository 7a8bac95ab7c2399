/* fuzz_eio_session.c: the Engine.IO session core driven by arbitrary
 * events and a fake clock. The input is a script: its first byte picks the
 * transport of the handshake, then each step is an opcode byte, a length
 * byte and that many bytes of data (a POST body, a frame, a time step).
 * The checks are what the glue relies on: a held poll is answered at most
 * once and only when held, the probe is written to only while open, on_close
 * comes once and nothing comes after it, deadlines never lie in the past.
 * No state outlives one run. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/eio/session.h"

#define FUZZ_ASSERT(c)                                                                             \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #c);              \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

typedef struct world {
    eio_sess s;
    bool poll_held, probe_open, websocket, closed, in_request;
    int closes;
} world;

static void io_reply(void *ctx, eio_sess_req to, eio_sess_reply kind, const uint8_t *body,
                     size_t len)
{
    world *w = ctx;
    FUZZ_ASSERT(kind != EIO_SESS_REPLY_PAYLOAD || (body && len > 0));
    if (to == EIO_SESS_REQ_HELD_POLL) {
        FUZZ_ASSERT(w->poll_held);
        w->poll_held = false;
    } else {
        FUZZ_ASSERT(w->in_request);
        w->in_request = false; /* one answer per request */
    }
}

static void io_ws_send(void *ctx, eio_sess_ws to, bool binary, char type, const uint8_t *data,
                       size_t len)
{
    world *w = ctx;
    (void)data, (void)len;
    FUZZ_ASSERT(!w->closed);
    FUZZ_ASSERT(binary ? type == 0 : (type >= '0' && type <= '6'));
    if (to == EIO_SESS_WS_PROBE)
        FUZZ_ASSERT(w->probe_open);
    else
        FUZZ_ASSERT(w->websocket);
}

static void io_probe_close(void *ctx)
{
    world *w = ctx;
    FUZZ_ASSERT(w->probe_open);
    w->probe_open = false;
}

static void io_upgraded(void *ctx)
{
    world *w = ctx;
    FUZZ_ASSERT(w->probe_open && !w->websocket);
    w->probe_open = false;
    w->websocket = true;
}

static void io_want_flush(void *ctx)
{
    world *w = ctx;
    FUZZ_ASSERT(!w->closed);
}

static void io_on_message(void *ctx, const uint8_t *data, size_t len, bool binary)
{
    world *w = ctx;
    (void)data, (void)len, (void)binary;
    FUZZ_ASSERT(!w->closed);
}

static void io_on_close(void *ctx, const char *reason)
{
    world *w = ctx;
    FUZZ_ASSERT(reason && !w->closed && !w->poll_held);
    w->closed = true;
    w->closes++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    static const eio_sess_config cfg = {.ping_interval_ms = 300,
                                        .ping_timeout_ms = 200,
                                        .upgrade_timeout_ms = 1000,
                                        .max_payload = 256};
    eio_sess_io io = {.reply = io_reply,
                      .ws_send = io_ws_send,
                      .probe_close = io_probe_close,
                      .upgraded = io_upgraded,
                      .want_flush = io_want_flush,
                      .on_message = io_on_message,
                      .on_close = io_on_close};
    world *w = calloc(1, sizeof *w);
    if (!w) return 0;
    io.ctx = w;
    int64_t now = 1000;
    w->websocket = data[0] & 1;
    eio_sess_init(&w->s, &cfg, &io, w->websocket, now);
    size_t pos = 1;
    while (pos + 2 <= size) {
        uint8_t op = data[pos] % 16, n = data[pos + 1];
        pos += 2;
        if (n > size - pos) n = (uint8_t)(size - pos);
        const uint8_t *d = data + pos;
        pos += n;
        bool was_closed = w->closed;
        switch (op) {
        case 0:
            w->in_request = true;
            if (eio_sess_poll_get(&w->s)) {
                FUZZ_ASSERT(w->in_request && !w->poll_held && !w->websocket);
                w->poll_held = true;
            } else {
                FUZZ_ASSERT(!w->in_request || was_closed); /* answered, or ignored when closed */
            }
            w->in_request = false;
            break;
        case 1:
            w->poll_held = false; /* the glue forgets it first */
            eio_sess_poll_aborted(&w->s, now);
            break;
        case 2:
            eio_sess_post_begin(&w->s);
            break;
        case 3:
            eio_sess_post_aborted(&w->s);
            break;
        case 4:
            w->in_request = true;
            eio_sess_post(&w->s, d, n, n & 1, n % 7 == 3, now);
            FUZZ_ASSERT(!w->in_request || was_closed);
            w->in_request = false;
            break;
        case 5:
            eio_sess_ws_frame(&w->s, false, d, n, now);
            break;
        case 6:
            eio_sess_ws_frame(&w->s, true, d, n, now);
            break;
        case 7:
            if (w->websocket) eio_sess_ws_closed(&w->s);
            break;
        case 8:
            if (eio_sess_probe_open(&w->s, now)) {
                FUZZ_ASSERT(!w->probe_open && !w->websocket);
                w->probe_open = true;
            }
            break;
        case 9:
            eio_sess_probe_frame(&w->s, false, d, n);
            break;
        case 10:
            eio_sess_probe_frame(&w->s, true, d, n);
            break;
        case 11:
            if (w->probe_open) {
                w->probe_open = false;
                eio_sess_probe_closed(&w->s);
            }
            break;
        case 12:
            eio_sess_send(&w->s, d, n, n & 1);
            break;
        case 13:
            eio_sess_close(&w->s, NULL);
            break;
        case 14:
            eio_sess_flush(&w->s);
            break;
        default: {
            /* time goes on: up to ~16 s per step */
            int64_t step = n ? (int64_t)d[0] * 64 : 1;
            now += step;
            eio_sess_tick(&w->s, now);
            break;
        }
        }
        if (w->closed) w->probe_open = w->poll_held = false; /* the glue closes them */
        int64_t due = eio_sess_deadline(&w->s);
        FUZZ_ASSERT(w->closed ? due == EIO_SESS_NEVER : due > now);
        FUZZ_ASSERT(eio_sess_is_closed(&w->s) == w->closed);
        FUZZ_ASSERT(eio_sess_is_websocket(&w->s) == w->websocket || w->closed);
    }
    FUZZ_ASSERT(w->closes <= 1);
    eio_sess_cleanup(&w->s);
    free(w);
    return 0;
}
