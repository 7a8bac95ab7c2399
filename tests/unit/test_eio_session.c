/* test_eio_session.c: the Engine.IO server session core with a fake clock.
 *
 * Every callback of the session writes one line to a transcript; each case
 * feeds requests, frames and times and compares the transcript, so a
 * callback that fires too often, too seldom or out of order fails. */
#include <stdio.h>
#include <string.h>

#include "../../src/eio/session.h"
#include "check.h"

static char log_buf[8192];
static size_t log_len;

static void logf_line(const char *fmt, const char *a, const uint8_t *data, size_t len)
{
    char line[1024];
    int n = snprintf(line, sizeof line, fmt, a);
    if (n < 0) return;
    size_t l = (size_t)n;
    for (size_t i = 0; data && i < len && l + 3 < sizeof line; i++)
        line[l++] = data[i] == 0x1e ? '|' : (char)data[i]; /* record separator shown as | */
    line[l++] = '\n';
    if (log_len + l < sizeof log_buf) {
        memcpy(log_buf + log_len, line, l);
        log_len += l;
        log_buf[log_len] = '\0';
    }
}

/* Returns the transcript since the last call, and starts a new one. */
static const char *take(void)
{
    static char out[sizeof log_buf];
    memcpy(out, log_buf, log_len + 1);
    log_len = 0;
    log_buf[0] = '\0';
    return out;
}

/* take() once: CHECK_EQ_STR evaluates its arguments twice */
#define CHECK_TAKE(expected)                                                                       \
    do {                                                                                           \
        const char *got = take();                                                                  \
        CHECK_EQ_STR(got, expected);                                                               \
    } while (0)

static void io_reply(void *ctx, eio_sess_req to, eio_sess_reply kind, const uint8_t *body,
                     size_t len)
{
    (void)ctx;
    const char *who = to == EIO_SESS_REQ_HELD_POLL ? "held" : "current";
    if (kind == EIO_SESS_REPLY_PAYLOAD)
        logf_line("%s 200 ", who, body, len);
    else if (kind == EIO_SESS_REPLY_OK)
        logf_line("%s ok", who, NULL, 0);
    else
        logf_line("%s 400", who, NULL, 0);
}

static void io_ws_send(void *ctx, eio_sess_ws to, bool binary, char type, const uint8_t *data,
                       size_t len)
{
    (void)ctx;
    char prefix[32];
    snprintf(prefix, sizeof prefix, "%s %s %c", to == EIO_SESS_WS_PROBE ? "probe" : "ws",
             binary ? "bin" : "text", type ? type : '-');
    logf_line("%s", prefix, data, len);
}

static void io_probe_close(void *ctx)
{
    (void)ctx;
    logf_line("probe closed", "", NULL, 0);
}

static void io_upgraded(void *ctx)
{
    (void)ctx;
    logf_line("upgraded", "", NULL, 0);
}

static void io_want_flush(void *ctx)
{
    (void)ctx;
    logf_line("want flush", "", NULL, 0);
}

static void io_on_message(void *ctx, const uint8_t *data, size_t len, bool binary)
{
    (void)ctx;
    logf_line("%s ", binary ? "message bin" : "message", data, len);
}

static int closes;
static void io_on_close(void *ctx, const char *reason)
{
    (void)ctx;
    closes++;
    logf_line("close %s", reason, NULL, 0);
}

static const eio_sess_io io = {.reply = io_reply,
                               .ws_send = io_ws_send,
                               .probe_close = io_probe_close,
                               .upgraded = io_upgraded,
                               .want_flush = io_want_flush,
                               .on_message = io_on_message,
                               .on_close = io_on_close};

/* The official suites' timings: pingInterval 300, pingTimeout 200. */
static const eio_sess_config cfg = {.ping_interval_ms = 300,
                                    .ping_timeout_ms = 200,
                                    .upgrade_timeout_ms = 1000,
                                    .max_payload = 100};

#define T0 1000000 /* a fake clock far from 0 */
#define RS "\x1e"  /* the polling payload's record separator */

static void post(eio_sess *s, const char *body, int64_t now)
{
    eio_sess_post(s, (const uint8_t *)body, strlen(body), false, false, now);
}

static void test_open_packet(void)
{
    eio_sess s;
    char out[256];
    eio_sess_init(&s, &cfg, &io, false, T0);
    int n = eio_sess_open_packet(&s, "SID", out, sizeof out);
    CHECK_EQ_MEM(out, n,
                 "0{\"sid\":\"SID\",\"upgrades\":[\"websocket\"],\"pingInterval\":300,"
                 "\"pingTimeout\":200,\"maxPayload\":100}",
                 strlen("0{\"sid\":\"SID\",\"upgrades\":[\"websocket\"],\"pingInterval\":300,"
                        "\"pingTimeout\":200,\"maxPayload\":100}"));
    CHECK_EQ_INT(eio_sess_open_packet(&s, "SID", out, 10), -1);
    eio_sess_cleanup(&s);
    eio_sess_init(&s, &cfg, &io, true, T0);
    n = eio_sess_open_packet(&s, "SID", out, sizeof out);
    CHECK(n > 0 && strstr(out, "\"upgrades\":[]") != NULL);
    CHECK_TAKE("");
    eio_sess_cleanup(&s);
}

/* Polling: the ping waits for a GET; a pong restarts the interval; a late
 * pong closes with "ping timeout" and the held GET gets a 400. */
static void test_heartbeat_polling(void)
{
    eio_sess s;
    eio_sess_init(&s, &cfg, &io, false, T0);
    CHECK_EQ_INT(eio_sess_deadline(&s), T0 + 300);
    eio_sess_tick(&s, T0 + 299);
    CHECK_TAKE("");
    CHECK(eio_sess_poll_get(&s)); /* held */
    eio_sess_tick(&s, T0 + 300);
    CHECK_TAKE("want flush\n");
    CHECK_EQ_INT(eio_sess_deadline(&s), T0 + 500);
    eio_sess_flush(&s);
    CHECK_TAKE("held 200 2\n");
    post(&s, "3", T0 + 350);
    CHECK_TAKE("current ok\n");
    CHECK_EQ_INT(eio_sess_deadline(&s), T0 + 650);
    eio_sess_tick(&s, T0 + 500); /* the old pong deadline is gone */
    CHECK_TAKE("");
    eio_sess_tick(&s, T0 + 650);
    CHECK_TAKE("want flush\n");
    CHECK(!eio_sess_poll_get(&s)); /* the ping was waiting: answered at once */
    CHECK_TAKE("current 200 2\n");
    CHECK(eio_sess_poll_get(&s));
    eio_sess_tick(&s, T0 + 849);
    CHECK_TAKE("");
    eio_sess_tick(&s, T0 + 850);
    CHECK_TAKE("held 400\nclose ping timeout\n");
    CHECK(eio_sess_is_closed(&s));
    CHECK_EQ_INT(eio_sess_deadline(&s), EIO_SESS_NEVER);
    /* a closed session ignores everything */
    eio_sess_tick(&s, T0 + 10000);
    post(&s, "3", T0 + 10000);
    eio_sess_send(&s, (const uint8_t *)"x", 1, false);
    CHECK(!eio_sess_poll_get(&s));
    eio_sess_close(&s, NULL);
    CHECK_TAKE("");
    eio_sess_cleanup(&s);
}

/* WebSocket: the ping is a text frame; a pong that was not asked for does
 * not move the deadline; a client ping is a protocol error. */
static void test_heartbeat_websocket(void)
{
    eio_sess s;
    eio_sess_init(&s, &cfg, &io, true, T0);
    eio_sess_ws_frame(&s, false, (const uint8_t *)"3", 1, T0 + 100); /* unasked pong */
    CHECK_EQ_INT(eio_sess_deadline(&s), T0 + 300);
    eio_sess_tick(&s, T0 + 300);
    CHECK_TAKE("ws text 2\n");
    eio_sess_ws_frame(&s, false, (const uint8_t *)"3", 1, T0 + 400);
    CHECK_EQ_INT(eio_sess_deadline(&s), T0 + 700);
    eio_sess_ws_frame(&s, false, (const uint8_t *)"4hi", 3, T0 + 400);
    eio_sess_ws_frame(&s, true, (const uint8_t *)"\x01\x02", 2, T0 + 400);
    eio_sess_send(&s, (const uint8_t *)"yo", 2, false);
    eio_sess_send(&s, (const uint8_t *)"\xff", 1, true);
    CHECK_TAKE("message hi\nmessage bin \x01\x02\nws text 4yo\nws bin -\xff\n");
    eio_sess_ws_frame(&s, false, (const uint8_t *)"2", 1, T0 + 500);
    CHECK_TAKE("close parse error\n");
    eio_sess_cleanup(&s);

    eio_sess_init(&s, &cfg, &io, true, T0);
    eio_sess_ws_frame(&s, false, (const uint8_t *)"abc", 3, T0);
    CHECK_TAKE("close parse error\n");
    eio_sess_cleanup(&s);

    eio_sess_init(&s, &cfg, &io, true, T0);
    eio_sess_tick(&s, T0 + 300);
    eio_sess_tick(&s, T0 + 500);
    CHECK_TAKE("ws text 2\nclose ping timeout\n");
    eio_sess_cleanup(&s);

    eio_sess_init(&s, &cfg, &io, true, T0);
    eio_sess_ws_closed(&s);
    CHECK_TAKE("close transport close\n");
    CHECK(!eio_sess_probe_open(&s, T0));
    eio_sess_cleanup(&s);
}

/* The upgrade as socket.io-client 4.8 does it (notes §2.7): output during
 * the probe waits, every poll gets a noop, "5" switches and what waited
 * goes over the WebSocket in order. */
static void test_upgrade(void)
{
    eio_sess s;
    eio_sess_init(&s, &cfg, &io, false, T0);
    CHECK(eio_sess_poll_get(&s));
    CHECK(eio_sess_probe_open(&s, T0 + 10));
    CHECK(!eio_sess_probe_open(&s, T0 + 10)); /* one probe at a time */
    CHECK_EQ_INT(eio_sess_deadline(&s), T0 + 300);
    eio_sess_probe_frame(&s, false, (const uint8_t *)"2probe", 6);
    CHECK_TAKE("probe text 3probe\nheld 200 6\n");
    eio_sess_send(&s, (const uint8_t *)"a", 1, false);
    eio_sess_send(&s, (const uint8_t *)"\x07", 1, true);
    CHECK_TAKE("want flush\n");
    CHECK(!eio_sess_poll_get(&s));
    CHECK_TAKE("current 200 6\n");
    eio_sess_flush(&s); /* no held poll, and upgrading: nothing leaves */
    CHECK_TAKE("");
    eio_sess_probe_frame(&s, false, (const uint8_t *)"5", 1);
    CHECK_TAKE("upgraded\nws text 4a\nws bin -\x07\n");
    CHECK(eio_sess_is_websocket(&s));
    CHECK(!eio_sess_probe_open(&s, T0 + 20)); /* a second WebSocket is refused */
    CHECK(!eio_sess_post_begin(&s));
    /* polling requests on a WebSocket session are not held, nor acted on
     * (the glue answers them first; fuzz_eio_session) */
    CHECK(!eio_sess_poll_get(&s));
    post(&s, "4x", T0 + 20);
    CHECK_TAKE("current 400\ncurrent 400\n");
    eio_sess_send(&s, (const uint8_t *)"b", 1, false);
    CHECK_TAKE("ws text 4b\n");
    eio_sess_ws_frame(&s, false, (const uint8_t *)"1", 1, T0 + 30);
    CHECK_TAKE("close transport close\n");
    eio_sess_cleanup(&s);
}

/* An upgrade that does not finish within upgradeTimeout is dropped and
 * polling goes on; so is one whose probe says something else, or closes. */
static void test_upgrade_timeout_and_abort(void)
{
    eio_sess s;
    eio_sess_init(&s, &cfg, &io, false, T0);
    s.cfg.ping_interval_ms = 5000; /* keep the heartbeat out of the way */
    s.ping_at_ms = T0 + 5000;
    CHECK(eio_sess_probe_open(&s, T0));
    CHECK_EQ_INT(eio_sess_deadline(&s), T0 + 1000);
    eio_sess_probe_frame(&s, false, (const uint8_t *)"2probe", 6);
    eio_sess_send(&s, (const uint8_t *)"a", 1, false);
    CHECK_TAKE("probe text 3probe\nwant flush\n");
    eio_sess_tick(&s, T0 + 999);
    CHECK_TAKE("");
    eio_sess_tick(&s, T0 + 1000);
    CHECK_TAKE("probe closed\n");
    CHECK_EQ_INT(eio_sess_deadline(&s), T0 + 5000);
    CHECK(!eio_sess_is_websocket(&s));
    CHECK(!eio_sess_poll_get(&s)); /* what waited goes to polling again */
    CHECK_TAKE("current 200 4a\n");
    /* a probe that does not start with 2probe */
    CHECK(eio_sess_probe_open(&s, T0 + 1100));
    eio_sess_probe_frame(&s, false, (const uint8_t *)"5", 1);
    CHECK_TAKE("probe closed\n");
    /* a binary frame on the probe */
    CHECK(eio_sess_probe_open(&s, T0 + 1200));
    eio_sess_probe_frame(&s, true, (const uint8_t *)"2probe", 6);
    CHECK_TAKE("probe closed\n");
    /* a probe that goes away by itself: no probe_close, polling again */
    CHECK(eio_sess_probe_open(&s, T0 + 1300));
    eio_sess_probe_frame(&s, false, (const uint8_t *)"2probe", 6);
    eio_sess_probe_closed(&s);
    CHECK_TAKE("probe text 3probe\n");
    CHECK(eio_sess_poll_get(&s));
    CHECK_EQ_INT(eio_sess_deadline(&s), T0 + 5000);
    CHECK(!eio_sess_is_closed(&s));
    eio_sess_cleanup(&s);
}

static void test_close(void)
{
    eio_sess s;
    closes = 0;
    /* the client closes: the held poll gets a noop */
    eio_sess_init(&s, &cfg, &io, false, T0);
    CHECK(eio_sess_poll_get(&s));
    post(&s, "4x" RS "1" RS "4y", T0);
    CHECK_TAKE("current ok\nmessage x\nheld 200 6\nclose transport close\n");
    eio_sess_cleanup(&s);

    /* the server closes: what was queued, then the close packet */
    eio_sess_init(&s, &cfg, &io, false, T0);
    CHECK(eio_sess_poll_get(&s));
    eio_sess_send(&s, (const uint8_t *)"bye", 3, false);
    eio_sess_close(&s, "forced close");
    CHECK_TAKE("want flush\nheld 200 4bye|1\nclose forced close\n");
    eio_sess_cleanup(&s);

    /* a bad record anywhere: nothing of the payload acts */
    eio_sess_init(&s, &cfg, &io, false, T0);
    CHECK(eio_sess_poll_get(&s));
    post(&s, "4x" RS "abc", T0);
    CHECK_TAKE("current 400\nheld 200 1\nclose parse error\n");
    eio_sess_cleanup(&s);

    /* binary over v4 polling is refused; "b" base64 records are messages */
    eio_sess_init(&s, &cfg, &io, false, T0);
    eio_sess_post(&s, (const uint8_t *)"4x", 2, false, true, T0);
    CHECK_TAKE("current 400\nclose parse error\n");
    eio_sess_cleanup(&s);
    eio_sess_init(&s, &cfg, &io, false, T0);
    post(&s, "bAQI=", T0);
    CHECK_TAKE("current ok\nmessage bin \x01\x02\n");
    post(&s, "b!!!", T0);
    CHECK_TAKE("current ok\nclose parse error\n");
    eio_sess_cleanup(&s);

    /* two GETs at once: the first gets the close packet, the second a 400 */
    eio_sess_init(&s, &cfg, &io, false, T0);
    CHECK(eio_sess_poll_get(&s));
    CHECK(!eio_sess_poll_get(&s));
    CHECK_TAKE("held 200 1\nclose transport error\ncurrent 400\n");
    eio_sess_cleanup(&s);

    /* two POSTs at once */
    eio_sess_init(&s, &cfg, &io, false, T0);
    CHECK(eio_sess_post_begin(&s));
    post(&s, "4x", T0);
    CHECK_TAKE("current 400\nclose transport error\n");
    eio_sess_cleanup(&s);
    eio_sess_init(&s, &cfg, &io, false, T0);
    CHECK(eio_sess_post_begin(&s));
    CHECK(!eio_sess_post_begin(&s));
    CHECK_TAKE("close transport error\n");
    eio_sess_cleanup(&s);
    /* an announced POST is no overlap; an aborted one is forgotten */
    eio_sess_init(&s, &cfg, &io, false, T0);
    CHECK(eio_sess_post_begin(&s));
    eio_sess_post(&s, (const uint8_t *)"4x", 2, true, false, T0);
    CHECK(eio_sess_post_begin(&s));
    eio_sess_post_aborted(&s);
    post(&s, "4y", T0);
    CHECK_TAKE("current ok\nmessage x\ncurrent ok\nmessage y\n");
    eio_sess_cleanup(&s);

    /* a held poll whose client goes away closes the session */
    eio_sess_init(&s, &cfg, &io, false, T0);
    eio_sess_poll_aborted(&s, T0); /* none held: nothing */
    CHECK(eio_sess_poll_get(&s));
    eio_sess_poll_aborted(&s, T0);
    CHECK_TAKE("close transport close\n");
    eio_sess_cleanup(&s);

    /* a client that stops polling: output capped at 4 maxPayloads */
    eio_sess_init(&s, &cfg, &io, false, T0);
    uint8_t big[90];
    memset(big, 'z', sizeof big);
    for (int i = 0; i < 4; i++)
        eio_sess_send(&s, big, sizeof big, false);
    CHECK(!eio_sess_is_closed(&s));
    eio_sess_send(&s, big, sizeof big, false);
    CHECK(eio_sess_is_closed(&s));
    CHECK_TAKE("want flush\nclose forced close\n");
    eio_sess_cleanup(&s);
    CHECK_EQ_INT(closes, 10); /* each close reported once */
}

/* A message handler that closes the session in the middle of a payload:
 * the rest of the payload is not acted on. */
static eio_sess *reentrant;
static void closing_on_message(void *ctx, const uint8_t *data, size_t len, bool binary)
{
    io_on_message(ctx, data, len, binary);
    eio_sess_close(reentrant, NULL);
}

static void test_reentrant_close(void)
{
    eio_sess s;
    eio_sess_io rio = io;
    rio.on_message = closing_on_message;
    reentrant = &s;
    eio_sess_init(&s, &cfg, &rio, false, T0);
    post(&s, "4a" RS "4b", T0);
    CHECK_TAKE("current ok\nmessage a\nclose forced close\n");
    eio_sess_cleanup(&s);
}

int main(void)
{
    test_open_packet();
    test_heartbeat_polling();
    test_heartbeat_websocket();
    test_upgrade();
    test_upgrade_timeout_and_abort();
    test_close();
    test_reentrant_close();
    return CHECK_DONE();
}
