/* test_server_redis_uv.c: hiredis on the libuv loop (src/server/redis_uv.h)
 * against real sockets on loopback, no Redis needed:
 *   - a connection the peer resets (RST) while a command waits for its
 *     reply: hiredis hears it (the reply callback gets NULL, the disconnect
 *     callback an error) instead of waiting for ever. libuv reports the
 *     reset as an error status (POLLERR), which hiredis's bundled adapter
 *     ignored: with it, this case times out;
 *   - a connect to a port nobody listens on fails with a callback;
 *   - a healthy exchange: a command and its reply, then a clean close.
 * Every case is bounded by a timer on the loop. */
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "../../src/server/redis_uv.h"
#include "check.h"

#define CASE_DEADLINE_MS 3000

static uv_loop_t loop;
static uv_tcp_t listener, accepted;
static uv_timer_t deadline;
static int port;
static bool timed_out, reset_on_data, answer_pong;
static int replies, null_replies, connects, connect_errors, disconnects, disconnect_errors;
static char read_buf[4096];

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)h;
    (void)suggested;
    *b = uv_buf_init(read_buf, sizeof read_buf);
}

static void on_write(uv_write_t *w, int status)
{
    (void)status;
    free(w);
}

/* The "server": a reset as soon as a command arrives, or a +PONG. */
static void on_server_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    (void)b;
    if (n <= 0) {
        if (!uv_is_closing((uv_handle_t *)s)) uv_close((uv_handle_t *)s, NULL);
        return;
    }
    if (reset_on_data) {
        uv_tcp_close_reset(&accepted, NULL);
    } else if (answer_pong) {
        static char pong[] = "+PONG\r\n";
        uv_write_t *w = malloc(sizeof *w);
        uv_buf_t out = uv_buf_init(pong, sizeof pong - 1);
        uv_write(w, s, &out, 1, on_write);
    }
}

static void on_connection(uv_stream_t *server, int status)
{
    if (status < 0) return;
    uv_tcp_init(&loop, &accepted);
    if (uv_accept(server, (uv_stream_t *)&accepted) == 0)
        uv_read_start((uv_stream_t *)&accepted, alloc_cb, on_server_read);
}

static void on_deadline(uv_timer_t *t)
{
    (void)t;
    timed_out = true;
    uv_stop(&loop);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    (void)ac;
    connects++;
    if (status != REDIS_OK) {
        connect_errors++;
        uv_stop(&loop);
    }
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    (void)ac;
    disconnects++;
    if (status != REDIS_OK) disconnect_errors++;
    uv_stop(&loop);
}

static void on_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)priv;
    redisReply *r = reply;
    if (!r) {
        null_replies++;
        return;
    }
    replies++;
    CHECK(r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0);
    redisAsyncDisconnect(ac); /* clean close: disconnect callback with REDIS_OK */
}

static void reset_counts(void)
{
    timed_out = false;
    replies = null_replies = connects = connect_errors = disconnects = disconnect_errors = 0;
}

/* Runs the loop until a callback stops it or the deadline passes. */
static void run_case(int to_port)
{
    redisAsyncContext *ac = redisAsyncConnect("127.0.0.1", to_port);
    CHECK(ac != NULL);
    if (!ac) return;
    if (ac->err) { /* refused at once: hiredis said so, nothing to wait for */
        connect_errors++;
        redisAsyncFree(ac);
        return;
    }
    CHECK_EQ_INT(redis_uv_attach(ac, &loop), REDIS_OK);
    CHECK_EQ_INT(redis_uv_attach(ac, &loop), REDIS_ERR); /* once only */
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    redisAsyncCommand(ac, on_reply, NULL, "PING");
    uv_timer_start(&deadline, on_deadline, CASE_DEADLINE_MS, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_timer_stop(&deadline);
    if (timed_out) fprintf(stderr, "case timed out: hiredis never heard of the socket's fate\n");
    /* closes and frees still pending run to completion */
    uv_run(&loop, UV_RUN_NOWAIT);
}

int main(void)
{
    uv_loop_init(&loop);
    uv_timer_init(&loop, &deadline);
    uv_tcp_init(&loop, &listener);
    struct sockaddr_in sa;
    uv_ip4_addr("127.0.0.1", 0, &sa);
    CHECK_EQ_INT(uv_tcp_bind(&listener, (const struct sockaddr *)&sa, 0), 0);
    CHECK_EQ_INT(uv_listen((uv_stream_t *)&listener, 8, on_connection), 0);
    struct sockaddr_storage name;
    int len = sizeof name;
    uv_tcp_getsockname(&listener, (struct sockaddr *)&name, &len);
    port = ntohs(((struct sockaddr_in *)&name)->sin_port);

    /* a reset while the PING waits for its reply */
    reset_counts();
    reset_on_data = true;
    answer_pong = false;
    run_case(port);
    CHECK(!timed_out);
    CHECK_EQ_INT(connects, 1);
    CHECK_EQ_INT(null_replies, 1);
    CHECK_EQ_INT(disconnects, 1);
    CHECK_EQ_INT(disconnect_errors, 1);

    /* a healthy exchange and a clean close */
    reset_counts();
    reset_on_data = false;
    answer_pong = true;
    run_case(port);
    CHECK(!timed_out);
    CHECK_EQ_INT(replies, 1);
    CHECK_EQ_INT(disconnects, 1);
    CHECK_EQ_INT(disconnect_errors, 0);

    /* nobody listens: a free port (the listener's, closed) */
    uv_close((uv_handle_t *)&listener, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
    reset_counts();
    run_case(port);
    CHECK(!timed_out);
    CHECK_EQ_INT(connect_errors, 1);

    uv_close((uv_handle_t *)&deadline, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return CHECK_DONE();
}
