/* test_sio_session.c: the Socket.IO server session core with a fake clock.
 *
 * Every callback writes one line to a transcript; each case feeds Engine.IO
 * messages and times and compares the transcript. */
#include <stdio.h>
#include <string.h>

#include "../../src/sio/session.h"
#include "check.h"

static char log_buf[8192];
static size_t log_len;

static void line(const char *a, const char *b, const uint8_t *data, size_t len)
{
    char l[1024];
    int n = snprintf(l, sizeof l, "%s%s", a, b);
    if (n < 0) return;
    size_t k = (size_t)n;
    for (size_t i = 0; data && i < len && k + 2 < sizeof l; i++)
        l[k++] = (char)data[i];
    l[k++] = '\n';
    if (log_len + k < sizeof log_buf) {
        memcpy(log_buf + log_len, l, k);
        log_len += k;
        log_buf[log_len] = '\0';
    }
}

static const char *take(void)
{
    static char out[sizeof log_buf];
    memcpy(out, log_buf, log_len + 1);
    log_len = 0;
    log_buf[0] = '\0';
    return out;
}

#define CHECK_TAKE(expected)                                                                       \
    do {                                                                                           \
        const char *got = take();                                                                  \
        CHECK_EQ_STR(got, expected);                                                               \
    } while (0)

static int next_id;
static bool raw_takes; /* on_event_raw takes the event */
static bool join_fails;

static void io_send(void *ctx, const uint8_t *data, size_t len, bool binary)
{
    (void)ctx;
    line(binary ? "send bin " : "send ", "", data, len);
}

static void io_close(void *ctx)
{
    (void)ctx;
    line("close", "", NULL, 0);
}

static bool io_join(void *ctx, sio_sess_ns *ns)
{
    (void)ctx;
    if (join_fails) return false;
    snprintf(ns->id, sizeof ns->id, "ID%d", next_id++);
    return true;
}

static void io_on_connect(void *ctx, sio_sess_ns *ns, json_t *auth)
{
    (void)ctx;
    char *a = json_dumps(auth, JSON_COMPACT);
    line("connect ", ns->id, NULL, 0);
    line("auth ", a ? a : "?", NULL, 0);
    free(a);
}

static bool io_on_event_raw(void *ctx, sio_sess_ns *ns, const char *json, size_t len,
                            int64_t ack_id)
{
    (void)ctx, (void)ack_id;
    line("raw ", ns->id, NULL, 0);
    (void)json, (void)len;
    return raw_takes;
}

static void io_on_event(void *ctx, sio_sess_ns *ns, json_t *args, int64_t ack_id,
                        const sio_attachment *att, unsigned att_count)
{
    (void)ctx;
    char *a = json_dumps(args, JSON_COMPACT);
    char head[64];
    snprintf(head, sizeof head, "event %s ack=%lld att=%u ", ns->id, (long long)ack_id, att_count);
    line(head, a ? a : "?", NULL, 0);
    free(a);
    for (unsigned i = 0; i < att_count; i++)
        line("  att ", "", att[i].data, att[i].len);
}

static void io_on_ack(void *ctx, sio_sess_ns *ns, void *token, json_t *args,
                      const sio_attachment *att, unsigned att_count)
{
    (void)ctx, (void)att, (void)att_count;
    char *a = json_dumps(args, JSON_COMPACT);
    line("ack ", (const char *)token, NULL, 0);
    line("  args ", a ? a : "?", NULL, 0);
    (void)ns;
    free(a);
}

static void io_ack_dropped(void *ctx, void *token)
{
    (void)ctx;
    line("ack dropped ", (const char *)token, NULL, 0);
}

static void io_on_disconnect(void *ctx, sio_sess_ns *ns, const char *reason)
{
    (void)ctx;
    line("disconnect ", ns->id, NULL, 0);
    line("  reason ", reason, NULL, 0);
}

static const sio_sess_io io = {.send = io_send,
                               .close = io_close,
                               .join = io_join,
                               .on_connect = io_on_connect,
                               .on_event_raw = io_on_event_raw,
                               .on_event = io_on_event,
                               .on_ack = io_on_ack,
                               .ack_dropped = io_ack_dropped,
                               .on_disconnect = io_on_disconnect};

static const sio_sess_namespace namespaces[] = {{.name = "/", .binary = false},
                                                {.name = "/bin", .binary = true}};
static pd_buf scratch;

#define T0 5000000

static void start(sio_sess *s)
{
    sio_sess_config cfg = {.namespaces = namespaces,
                           .namespace_count = 2,
                           .connect_timeout_ms = 100,
                           .max_attachment_bytes = 16,
                           .scratch = &scratch};
    next_id = 0;
    raw_takes = false;
    join_fails = false;
    sio_sess_init(s, &cfg, &io, T0);
}

static void feed(sio_sess *s, const char *text)
{
    sio_sess_feed(s, (const uint8_t *)text, strlen(text), false, T0);
}

static void test_connect(void)
{
    sio_sess s;
    start(&s);
    CHECK_EQ_INT(sio_sess_deadline(&s), T0 + 100);
    feed(&s, "0/nope,");
    CHECK_TAKE("send 4/nope,{\"message\":\"Invalid namespace\"}\n");
    CHECK_EQ_INT(sio_sess_deadline(&s), T0 + 100); /* still none joined */
    feed(&s, "0");
    CHECK_TAKE("send 0{\"sid\":\"ID0\"}\nconnect ID0\nauth {}\n");
    CHECK_EQ_INT(sio_sess_deadline(&s), SIO_SESS_NEVER);
    feed(&s, "0/bin,{\"token\":\"t\"}");
    CHECK_TAKE("send 0/bin,{\"sid\":\"ID1\"}\nconnect ID1\nauth {\"token\":\"t\"}\n");
    feed(&s, "0"); /* joined already */
    CHECK_TAKE("close\n");
    sio_sess_end(&s, "transport close");
    CHECK_TAKE(
        "disconnect ID1\n  reason transport close\ndisconnect ID0\n  reason transport close\n");
    feed(&s, "0");
    sio_sess_end(&s, "again");
    CHECK_TAKE("");

    /* connectTimeout */
    start(&s);
    sio_sess_tick(&s, T0 + 99);
    CHECK_TAKE("");
    sio_sess_tick(&s, T0 + 100);
    CHECK_TAKE("close\n");
    CHECK_EQ_INT(sio_sess_deadline(&s), SIO_SESS_NEVER);
    sio_sess_end(&s, "forced close");

    /* the caller refuses the join */
    start(&s);
    join_fails = true;
    feed(&s, "0");
    CHECK_TAKE("close\n");
    sio_sess_end(&s, "forced close");
    CHECK_TAKE("");
}

static void test_events_and_disconnect(void)
{
    sio_sess s;
    start(&s);
    feed(&s, "2[\"a\"]"); /* not joined */
    CHECK_TAKE("close\n");
    sio_sess_end(&s, "x");

    start(&s);
    feed(&s, "0");
    take();
    feed(&s, "27[\"hello\",1]");
    CHECK_TAKE("raw ID0\nevent ID0 ack=7 att=0 [\"hello\",1]\n");
    raw_takes = true;
    feed(&s, "2[\"hello\"]");
    CHECK_TAKE("raw ID0\n");
    CHECK_EQ_INT(sio_sess_ack_json(&s, s.sockets, 7, "[true]", 6), 0);
    CHECK_EQ_INT(sio_sess_ack_json(&s, s.sockets, -1, "[true]", 6), -1);
    CHECK_EQ_INT(sio_sess_emit_json(&s, s.sockets, "[\"e\"]", 5), 0);
    CHECK_TAKE("send 37[true]\nsend 2[\"e\"]\n");
    feed(&s, "1");
    CHECK_TAKE("disconnect ID0\n  reason client namespace disconnect\n");
    feed(&s, "0");
    CHECK_TAKE("send 0{\"sid\":\"ID1\"}\nconnect ID1\nauth {}\n");
    sio_sess_disconnect(&s, s.sockets, false);
    CHECK_TAKE("send 1\ndisconnect ID1\n  reason server namespace disconnect\n");
    feed(&s, "0");
    take();
    sio_sess_disconnect(&s, s.sockets, true);
    CHECK_TAKE("send 1\nclose\n");
    sio_sess_end(&s, "forced close");
    take();

    /* malformed, reserved event names, and a client CONNECT_ERROR close */
    /* (an EVENT is offered to the fast path first, which declines it here) */
    const char *bad[][2] = {
        {"9", "close\n"},     {"2[\"connect\"]", "raw ID0\nclose\n"}, {"2{}", "raw ID0\nclose\n"},
        {"4/,{}", "close\n"}, {"2[\"x\"", "raw ID0\nclose\n"},        {"1/bin,", "close\n"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        start(&s);
        feed(&s, "0");
        take();
        feed(&s, bad[i][0]);
        CHECK_TAKE(bad[i][1]);
        sio_sess_end(&s, "parse error");
        take();
    }
}

static void test_acks(void)
{
    sio_sess s;
    start(&s);
    feed(&s, "0");
    take();
    json_t *args = json_pack("[s]", "ping");
    char t1[] = "first", t2[] = "second", t3[] = "third";
    CHECK_EQ_INT(sio_sess_emit(&s, s.sockets, args, NULL, 0, t1), 0);
    CHECK_EQ_INT(sio_sess_emit(&s, s.sockets, args, NULL, 0, t2), 0);
    CHECK_EQ_INT(sio_sess_emit(&s, s.sockets, args, NULL, 0, NULL), 0);
    CHECK_EQ_INT(sio_sess_emit(&s, s.sockets, args, NULL, 0, t3), 0);
    CHECK_TAKE("send 20[\"ping\"]\nsend 21[\"ping\"]\nsend 2[\"ping\"]\nsend 22[\"ping\"]\n");
    feed(&s, "31[\"b\"]");
    feed(&s, "31[\"again\"]"); /* answered already: ignored */
    feed(&s, "39[]");          /* never asked: ignored */
    feed(&s, "30[]");
    CHECK_TAKE("ack second\n  args [\"b\"]\nack first\n  args []\n");
    feed(&s, "1");
    CHECK_TAKE("disconnect ID0\n  reason client namespace disconnect\nack dropped third\n");
    json_decref(args);
    sio_sess_end(&s, "x");
}

static void test_binary(void)
{
    sio_sess s;
    /* the namespace takes no binary: refused at the header, with a reason */
    start(&s);
    feed(&s, "0");
    take();
    feed(&s, "51-[\"up\",{\"_placeholder\":true,\"num\":0}]");
    CHECK_TAKE("send 4{\"message\":\"binary packets are not accepted\"}\nclose\n");
    sio_sess_end(&s, "forced close");
    take();
    /* not joined at all: closed, nothing said */
    start(&s);
    feed(&s, "51-/bin,[\"up\",{\"_placeholder\":true,\"num\":0}]");
    CHECK_TAKE("close\n");
    sio_sess_end(&s, "forced close");

    /* where binary is taken: attachments are reassembled */
    start(&s);
    feed(&s, "0/bin,");
    take();
    feed(&s,
         "52-/bin,3[\"up\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]");
    CHECK_EQ_INT(sio_sess_deadline(&s), T0 + PD_SIO_ATTACHMENT_TIMEOUT_MS);
    sio_sess_feed(&s, (const uint8_t *)"ab", 2, true, T0);
    CHECK_TAKE("");
    sio_sess_feed(&s, (const uint8_t *)"cde", 3, true, T0);
    CHECK_TAKE("event ID0 ack=3 att=2 [\"up\",{\"_placeholder\":true,\"num\":0},"
               "{\"_placeholder\":true,\"num\":1}]\n  att ab\n  att cde\n");
    CHECK_EQ_INT(sio_sess_deadline(&s), SIO_SESS_NEVER);
    sio_attachment att[1] = {{(const uint8_t *)"xyz", 3}};
    json_t *args = json_loads("[\"down\",{\"_placeholder\":true,\"num\":0}]", 0, NULL);
    CHECK_EQ_INT(sio_sess_emit(&s, s.sockets, args, att, 1, NULL), 0);
    CHECK_TAKE("send 51-/bin,[\"down\",{\"_placeholder\":true,\"num\":0}]\nsend bin xyz\n");
    json_decref(args);
    /* an attachment nobody announced */
    sio_sess_feed(&s, (const uint8_t *)"x", 1, true, T0);
    CHECK_TAKE("close\n");
    sio_sess_end(&s, "forced close");
    take();

    /* attachments late, too big, or interrupted by text */
    const char *head = "51-/bin,[\"up\",{\"_placeholder\":true,\"num\":0}]";
    start(&s);
    feed(&s, "0/bin,");
    feed(&s, head);
    take();
    sio_sess_tick(&s, T0 + PD_SIO_ATTACHMENT_TIMEOUT_MS - 1);
    CHECK_TAKE("");
    sio_sess_tick(&s, T0 + PD_SIO_ATTACHMENT_TIMEOUT_MS);
    CHECK_TAKE("close\n");
    sio_sess_end(&s, "forced close");
    take();

    start(&s);
    feed(&s, "0/bin,");
    feed(&s, head);
    take();
    uint8_t big[17] = {0};
    sio_sess_feed(&s, big, sizeof big, true, T0); /* over max_attachment_bytes (16) */
    CHECK_TAKE("close\n");
    sio_sess_end(&s, "forced close");
    take();

    start(&s);
    feed(&s, "0/bin,");
    feed(&s, head);
    take();
    feed(&s, "2/bin,[\"x\"]");
    CHECK_TAKE("close\n");
    sio_sess_end(&s, "forced close");
    CHECK_TAKE("disconnect ID0\n  reason forced close\n");
}

int main(void)
{
    pd_buf_init(&scratch, 1 << 16);
    test_connect();
    test_events_and_disconnect();
    test_acks();
    test_binary();
    pd_buf_reset(&scratch);
    return CHECK_DONE();
}
