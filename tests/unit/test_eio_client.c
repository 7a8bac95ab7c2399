/* test_eio_client.c: the CLI's Engine.IO client core with a fake clock. */
#include <stdio.h>
#include <string.h>

#include "../../src/eio/client.h"
#include "check.h"

static char log_buf[2048];
static size_t log_len;
static bool send_ok = true;

static void line(const char *a, const uint8_t *data, size_t len)
{
    int n = snprintf(log_buf + log_len, sizeof log_buf - log_len, "%s%.*s\n", a, (int)len,
                     data ? (const char *)data : "");
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

static bool io_send_text(void *ctx, char type, const uint8_t *data, size_t len)
{
    (void)ctx;
    char head[16];
    snprintf(head, sizeof head, "send %c", type);
    line(head, data, len);
    return send_ok;
}

static void io_on_open(void *ctx)
{
    (void)ctx;
    line("open", NULL, 0);
}

static void io_on_message(void *ctx, const uint8_t *data, size_t len)
{
    (void)ctx;
    line("message ", data, len);
}

static void io_on_close(void *ctx, const char *reason)
{
    (void)ctx;
    line("close ", (const uint8_t *)reason, strlen(reason));
}

static const eio_client_io io = {.send_text = io_send_text,
                                 .on_open = io_on_open,
                                 .on_message = io_on_message,
                                 .on_close = io_on_close};

#define T0 7000000
#define OPEN                                                                                       \
    "0{\"sid\":\"s\",\"upgrades\":[],\"pingInterval\":300,\"pingTimeout\":200,\"maxPayload\":1}"

static void feed(eio_client *c, const char *text, int64_t now)
{
    eio_client_feed_text(c, (const uint8_t *)text, strlen(text), now);
}

static void test_heartbeat(void)
{
    eio_client c;
    eio_client_init(&c, &io);
    CHECK_EQ_INT(eio_client_deadline(&c), EIO_CLIENT_NEVER); /* nothing before the open */
    CHECK(!eio_client_send(&c, (const uint8_t *)"x", 1));
    feed(&c, OPEN, T0);
    CHECK_TAKE("open\n");
    CHECK(eio_client_is_open(&c));
    CHECK_EQ_INT(eio_client_deadline(&c), T0 + 500); /* pingInterval + pingTimeout */
    feed(&c, "2", T0 + 300);
    CHECK_TAKE("send 3\n"); /* the pong */
    CHECK_EQ_INT(eio_client_deadline(&c), T0 + 800);
    eio_client_tick(&c, T0 + 799);
    CHECK_TAKE("");
    CHECK(eio_client_send(&c, (const uint8_t *)"2[\"e\"]", 6));
    feed(&c, "42[\"hi\"]", T0 + 700);
    CHECK_TAKE("send 42[\"e\"]\nmessage 2[\"hi\"]\n");
    CHECK_EQ_INT(eio_client_deadline(&c), T0 + 800); /* only a ping moves it */
    eio_client_tick(&c, T0 + 800);
    CHECK_TAKE("close no ping from the server\n");
    CHECK_EQ_INT(eio_client_deadline(&c), EIO_CLIENT_NEVER);
    feed(&c, "2", T0 + 900);
    eio_client_tick(&c, T0 + 5000);
    CHECK_TAKE("");
    send_ok = false;
    eio_client_init(&c, &io);
    feed(&c, OPEN, T0);
    CHECK(!eio_client_send(&c, (const uint8_t *)"x", 1)); /* the caller could not queue it */
    send_ok = true;
    take();
}

static void test_bad_input(void)
{
    const char *cases[][2] = {
        {"x", "close malformed Engine.IO packet\n"},
        {"", "close malformed Engine.IO packet\n"},
        {"1", "close closed by the server\n"},
        {"0{}", "close bad Engine.IO open packet\n"},
        {"0{\"pingInterval\":0,\"pingTimeout\":1}", "close bad Engine.IO open packet\n"},
        {"0{\"pingInterval\":3600001,\"pingTimeout\":1}", "close bad Engine.IO open packet\n"},
        {"0not json", "close bad Engine.IO open packet\n"},
        {"6", ""}, /* noop, pong, upgrade: nothing */
        {"3", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        eio_client c;
        eio_client_init(&c, &io);
        feed(&c, cases[i][0], T0);
        CHECK_TAKE(cases[i][1]);
    }
}

int main(void)
{
    test_heartbeat();
    test_bad_input();
    return CHECK_DONE();
}
