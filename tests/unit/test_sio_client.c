/* test_sio_client.c: the CLI's Socket.IO client core. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/sio/client.h"
#include "check.h"

static char log_buf[2048];
static size_t log_len;
static bool send_ok = true;

static void line(const char *a, const char *b)
{
    int n = snprintf(log_buf + log_len, sizeof log_buf - log_len, "%s%s\n", a, b ? b : "");
    if (n > 0 && (size_t)n < sizeof log_buf - log_len) log_len += (size_t)n;
}

static const char *take(void)
{
    static char out[sizeof log_buf];
    memcpy(out, log_buf, log_len);
    out[log_len] = '\0';
    log_len = 0;
    return out;
}

#define CHECK_TAKE(expected)                                                                       \
    do {                                                                                           \
        const char *got = take();                                                                  \
        CHECK_EQ_STR(got, expected);                                                               \
    } while (0)

static bool io_send(void *ctx, const uint8_t *data, size_t len)
{
    (void)ctx;
    char buf[256];
    snprintf(buf, sizeof buf, "%.*s", (int)len, (const char *)data);
    line("send ", buf);
    return send_ok;
}

static void io_on_connected(void *ctx, const char *sid)
{
    (void)ctx;
    line("connected ", sid);
}

static void dump(const char *head, json_t *arg)
{
    char *s = arg ? json_dumps(arg, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    line(head, s ? s : "NULL");
    free(s);
}

static void io_on_event(void *ctx, const char *name, json_t *arg)
{
    (void)ctx;
    line("event ", name);
    dump("  arg ", arg);
}

static void io_on_ack(void *ctx, void *token, json_t *arg)
{
    (void)ctx;
    line("ack ", token);
    dump("  arg ", arg);
}

static void io_on_lost(void *ctx, const char *reason)
{
    (void)ctx;
    line("lost ", reason);
}

static const sio_client_io io = {.send = io_send,
                                 .on_connected = io_on_connected,
                                 .on_event = io_on_event,
                                 .on_ack = io_on_ack,
                                 .on_lost = io_on_lost};

static void feed(sio_client *c, const char *text)
{
    sio_client_feed(c, (const uint8_t *)text, strlen(text));
}

static void test_connect_events_acks(void)
{
    sio_client c;
    sio_client_init(&c, &io, 1 << 16);
    CHECK_EQ_INT(sio_client_emit(&c, "x", NULL, NULL), -1); /* not connected */
    sio_client_open(&c);
    CHECK_TAKE("send 0\n");
    feed(&c, "0{\"sid\":\"abc\"}");
    CHECK_TAKE("connected abc\n");
    CHECK(sio_client_connected(&c));
    json_t *arg = json_pack("{s:s}", "roomId", "r");
    char first[] = "first", second[] = "second";
    CHECK_EQ_INT(sio_client_emit(&c, "create-room", arg, first), 0);
    CHECK_EQ_INT(sio_client_emit(&c, "join-room", arg, second), 0);
    CHECK_EQ_INT(sio_client_emit(&c, "leave-room", NULL, NULL), 0);
    CHECK_TAKE(
        "send 20[\"create-room\",{\"roomId\":\"r\"}]\nsend 21[\"join-room\",{\"roomId\":\"r\"}]\n"
        "send 2[\"leave-room\"]\n");
    feed(&c, "31[{\"ok\":true}]");
    feed(&c, "31[{\"ok\":false}]"); /* answered already */
    feed(&c, "39[]");               /* never asked */
    CHECK_TAKE("ack second\n  arg {\"ok\":true}\n");
    feed(&c, "2[\"user-joined\",{\"socketId\":\"x\"}]");
    feed(&c, "2[\"bare\"]");
    feed(&c, "2/other,[\"elsewhere\"]"); /* only the main namespace */
    CHECK_TAKE("event user-joined\n  arg {\"socketId\":\"x\"}\nevent bare\n  arg NULL\n");
    sio_client_reset(&c); /* the connection is gone: the first ack never comes */
    CHECK_TAKE("ack first\n  arg NULL\n");
    CHECK(!sio_client_connected(&c));
    CHECK_EQ_INT(sio_client_emit(&c, "x", NULL, NULL), -1);

    /* a packet that cannot be queued leaves no ack waiting */
    sio_client_open(&c);
    feed(&c, "0{\"sid\":\"def\"}");
    take();
    send_ok = false;
    CHECK_EQ_INT(sio_client_emit(&c, "x", arg, first), -1);
    send_ok = true;
    sio_client_reset(&c);
    CHECK_TAKE("send 22[\"x\",{\"roomId\":\"r\"}]\n");
    json_decref(arg);
    sio_client_cleanup(&c, NULL);
}

static void test_lost(void)
{
    const char *cases[][2] = {
        {"4{\"message\":\"Invalid namespace\"}", "lost namespace connect refused\n"},
        {"1", "lost disconnected by the server\n"},
        {"9", "lost malformed Socket.IO packet\n"},
        {"2{}", "lost malformed Socket.IO packet\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sio_client c;
        sio_client_init(&c, &io, 1 << 16);
        feed(&c, cases[i][0]);
        CHECK_TAKE(cases[i][1]);
        sio_client_cleanup(&c, NULL);
    }
}

int main(void)
{
    test_connect_events_acks();
    test_lost();
    return CHECK_DONE();
}
