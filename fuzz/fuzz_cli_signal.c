/* fuzz_cli_signal.c: the CLI's client cores, Engine.IO (src/eio/client)
 * under Socket.IO (src/sio/client), wired as signal_client.c wires them,
 * driven by a script of server frames, time steps, emits and lost
 * connections. Checks: the Engine.IO side closes at most once and says
 * nothing after; its deadline is never in the past while open; every ack
 * asked is reported once (answered, or NULL on a reset) or dropped at the
 * end. No state outlives one run. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/eio/client.h"
#include "../src/sio/client.h"

#define FUZZ_ASSERT(c)                                                                             \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #c);              \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

typedef struct world {
    eio_client eio;
    sio_client sio;
    bool closed, lost;
    int closes, acks_out;
} world;

static bool eio_send_text(void *ctx, char type, const uint8_t *data, size_t len)
{
    world *w = ctx;
    (void)data, (void)len;
    FUZZ_ASSERT(!w->closed && (type == '3' || type == '4'));
    return true;
}

static void eio_on_open(void *ctx)
{
    world *w = ctx;
    sio_client_open(&w->sio);
}

static void eio_on_message(void *ctx, const uint8_t *data, size_t len)
{
    world *w = ctx;
    FUZZ_ASSERT(!w->closed);
    sio_client_feed(&w->sio, data, len);
}

static void eio_on_close(void *ctx, const char *reason)
{
    world *w = ctx;
    FUZZ_ASSERT(reason && !w->closed);
    w->closed = true;
    w->closes++;
}

static bool sio_send(void *ctx, const uint8_t *data, size_t len)
{
    world *w = ctx;
    return eio_client_send(&w->eio, data, len);
}

static void sio_on_connected(void *ctx, const char *sid)
{
    (void)ctx;
    FUZZ_ASSERT(sid && strlen(sid) < SIO_CLIENT_SID_CAP);
}

static void sio_on_event(void *ctx, const char *name, json_t *arg)
{
    (void)ctx, (void)arg;
    FUZZ_ASSERT(name != NULL);
}

static void sio_on_ack(void *ctx, void *token, json_t *arg)
{
    world *w = ctx;
    (void)arg;
    free(token);
    w->acks_out--;
}

static void sio_on_lost(void *ctx, const char *reason)
{
    world *w = ctx;
    FUZZ_ASSERT(reason != NULL);
    w->lost = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    world *w = calloc(1, sizeof *w);
    if (!w) return 0;
    eio_client_io eio_io = {.ctx = w,
                            .send_text = eio_send_text,
                            .on_open = eio_on_open,
                            .on_message = eio_on_message,
                            .on_close = eio_on_close};
    sio_client_io sio_io = {.ctx = w,
                            .send = sio_send,
                            .on_connected = sio_on_connected,
                            .on_event = sio_on_event,
                            .on_ack = sio_on_ack,
                            .on_lost = sio_on_lost};
    eio_client_init(&w->eio, &eio_io);
    sio_client_init(&w->sio, &sio_io, 1u << 16);
    int64_t now = 1000;
    size_t pos = 0;
    while (pos + 2 <= size) {
        uint8_t op = data[pos] % 4, n = data[pos + 1];
        pos += 2;
        if (n > size - pos) n = (uint8_t)(size - pos);
        const uint8_t *d = data + pos;
        pos += n;
        switch (op) {
        case 0:
            eio_client_feed_text(&w->eio, d, n, now);
            break;
        case 1:
            now += n ? (int64_t)d[0] * 64 : 1;
            eio_client_tick(&w->eio, now);
            break;
        case 2: {
            int *token = malloc(sizeof *token);
            json_t *arg = json_pack("{s:i}", "n", (int)n);
            if (token && sio_client_emit(&w->sio, "e", arg, token) == 0)
                w->acks_out++;
            else
                free(token);
            json_decref(arg);
            break;
        }
        default:
            /* the connection is dropped; the next one starts over */
            sio_client_reset(&w->sio);
            FUZZ_ASSERT(w->acks_out == 0 && !sio_client_connected(&w->sio));
            eio_client_init(&w->eio, &eio_io);
            w->closed = w->lost = false;
            w->closes = 0;
            break;
        }
        if (w->closed || w->lost)
            FUZZ_ASSERT(eio_client_deadline(&w->eio) == EIO_CLIENT_NEVER || w->lost);
        else if (eio_client_is_open(&w->eio))
            FUZZ_ASSERT(eio_client_deadline(&w->eio) > now);
        FUZZ_ASSERT(w->closes <= 1); /* per connection */
    }
    sio_client_cleanup(&w->sio, free);
    free(w);
    return 0;
}
