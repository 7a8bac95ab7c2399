/* test_rtc_loopback.c: two rtc_peers in one process, one GMainContext,
 * real UDP between them. Signaling (SDP, trickled candidates) goes through
 * an in-memory queue drained from idle callbacks, like a server would.
 * Checks: the channel opens (offerer-created, answerer gets on_channel),
 * messages of 5 B, 0 B, 64 KiB and 256 KiB go both ways in order and
 * intact, 64 MiB streams with bufferedAmount/low-threshold backpressure,
 * and closing one side closes both. Prints channel-open time and MB/s
 * (informational: no timing assertions). The whole test is bounded. */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "../../src/base/log.h"
#include "../../src/rtc/rtc.h"
#include "check.h"

#define TEST_DEADLINE_MS 60000
#define STREAM_TOTAL (64u * 1024 * 1024)
#define STREAM_CHUNK (64u * 1024)
#define HIGH_WATER (1024u * 1024)
#define LOW_WATER (256u * 1024)

typedef struct side side;
struct side {
    const char *name;
    rtc_peer *peer;
    rtc_channel *ch;
    side *other;
    int opened, closed, low_events, channels;
    rtc_state state;
    /* echo checking */
    int next_expected;
    /* streaming receive */
    uint64_t stream_received;
    bool stream_bad;
};

static GMainLoop *loop;
static GMainContext *ctx;
static side A = {.name = "A"}, B = {.name = "B"};
static gint64 t_start, t_open, t_stream_start, t_stream_end;
static double cpu_stream_start, cpu_stream_end; /* s of CPU, both peers */
static int phase;
static uint64_t stream_sent;
static size_t max_buffered_seen;
static bool timed_out;

static const size_t echo_sizes[] = {5, 0, 65536, 262144, 1, 65535};
#define N_ECHO (sizeof echo_sizes / sizeof echo_sizes[0])

/* ---- in-memory signaling ---- */

typedef struct sig_msg {
    side *to;
    char *type; /* "offer", "answer", "candidate" */
    char *body; /* NULL candidate = end */
} sig_msg;

static gboolean deliver(gpointer data)
{
    sig_msg *m = data;
    if (strcmp(m->type, "candidate") == 0) {
        CHECK_EQ_INT(rtc_peer_add_remote_candidate(m->to->peer, m->body, "0"), 0);
    } else {
        CHECK_EQ_INT(rtc_peer_set_remote_description(m->to->peer, m->type, m->body), 0);
    }
    g_free(m->type);
    g_free(m->body);
    g_free(m);
    return G_SOURCE_REMOVE;
}

static void post(side *to, const char *type, const char *body)
{
    sig_msg *m = g_new0(sig_msg, 1);
    m->to = to;
    m->type = g_strdup(type);
    m->body = g_strdup(body);
    GSource *s = g_idle_source_new();
    g_source_set_callback(s, deliver, m, NULL);
    g_source_attach(s, ctx);
    g_source_unref(s);
}

static void on_local_description(rtc_peer *p, const char *type, const char *sdp, void *user)
{
    side *s = user;
    CHECK(strstr(sdp, "webrtc-datachannel") != NULL);
    post(s->other, type, sdp);
}

static void on_local_candidate(rtc_peer *p, const char *cand, const char *mid, void *user)
{
    side *s = user;
    if (cand) CHECK(strncmp(cand, "candidate:", 10) == 0);
    post(s->other, "candidate", cand);
}

static void on_state(rtc_peer *p, rtc_state st, const char *reason, void *user)
{
    side *s = user;
    s->state = st;
    if (st == RTC_STATE_FAILED) {
        fprintf(stderr, "%s failed: %s\n", s->name, reason ? reason : "");
        g_main_loop_quit(loop);
    }
}

/* ---- the test script ---- */

static uint8_t *make_payload(size_t len, unsigned seed)
{
    uint8_t *b = g_malloc(len ? len : 1);
    for (size_t i = 0; i < len; i++)
        b[i] = (uint8_t)(i * 31 + seed);
    return b;
}

static void send_echo_round(void)
{
    /* A sends all, binary and text mixed, back to back */
    for (size_t i = 0; i < N_ECHO; i++) {
        uint8_t *b = make_payload(echo_sizes[i], (unsigned)i);
        CHECK_EQ_INT(rtc_channel_send(A.ch, b, echo_sizes[i], i % 2 == 0), 0);
        g_free(b);
    }
}

static void pump_stream(void)
{
    static uint8_t *chunk;
    if (!chunk) chunk = g_malloc(STREAM_CHUNK);
    while (stream_sent < STREAM_TOTAL && rtc_channel_buffered_amount(A.ch) < HIGH_WATER) {
        size_t n = STREAM_CHUNK;
        for (size_t i = 0; i < n; i += 4096)
            chunk[i] = (uint8_t)((stream_sent + i) >> 12); /* a cheap per-page tag */
        CHECK_EQ_INT(rtc_channel_send(A.ch, chunk, n, true), 0);
        stream_sent += n;
        size_t b = rtc_channel_buffered_amount(A.ch);
        if (b > max_buffered_seen) max_buffered_seen = b;
    }
    if (stream_sent >= STREAM_TOTAL) {
        g_free(chunk);
        chunk = NULL;
    }
}

static void on_channel(rtc_peer *p, rtc_channel *ch, void *user)
{
    side *s = user;
    s->channels++;
    s->ch = ch;
    CHECK_EQ_STR(rtc_channel_label(ch), "test");
    rtc_channel_set_user(ch, s);
}

static void on_channel_open(rtc_channel *ch, void *user)
{
    side *s = user;
    s->opened++;
    if (s == &A) {
        t_open = g_get_monotonic_time();
        phase = 1;
        send_echo_round();
    }
}

static void on_channel_closed(rtc_channel *ch, void *user)
{
    side *s = user;
    s->closed++;
    if (A.closed && B.closed) g_main_loop_quit(loop);
}

static double cpu_now(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static void start_stream(void)
{
    cpu_stream_start = cpu_now();
    phase = 2;
    t_stream_start = g_get_monotonic_time();
    rtc_channel_set_buffered_amount_low_threshold(A.ch, LOW_WATER);
    pump_stream();
}

static void on_message(rtc_channel *ch, const uint8_t *data, size_t len, bool binary, void *user)
{
    side *s = user;
    if (s == &B && phase == 1) { /* echo */
        CHECK_EQ_INT(rtc_channel_send(ch, data, len, binary), 0);
        return;
    }
    if (s == &A && phase == 1) {
        int i = s->next_expected++;
        CHECK(i < (int)N_ECHO);
        if (i >= (int)N_ECHO) return;
        CHECK_EQ_INT(len, echo_sizes[i]);
        CHECK_EQ_INT(binary, i % 2 == 0);
        uint8_t *b = make_payload(echo_sizes[i], (unsigned)i);
        CHECK(len == echo_sizes[i] && memcmp(b, data, len) == 0);
        g_free(b);
        if (s->next_expected == (int)N_ECHO) start_stream();
        return;
    }
    if (s == &B && phase == 2) {
        CHECK(binary);
        for (size_t i = 0; i < len; i += 4096)
            if (data[i] != (uint8_t)((s->stream_received + i) >> 12)) s->stream_bad = true;
        s->stream_received += len;
        {
            static gint64 last;
            gint64 now = g_get_monotonic_time();
            if (last && now - last > 20000 && g_getenv("PD_RTC_GAPS")) /* stall finder */
                fprintf(stderr, "gap %.1f ms at %llu\n", (now - last) / 1000.0,
                        (unsigned long long)s->stream_received);
            last = now;
        }
        if (s->stream_received == STREAM_TOTAL)
            CHECK_EQ_INT(rtc_channel_send(ch, (const uint8_t *)"done", 4, false), 0);
        return;
    }
    if (s == &A && phase == 2) {
        CHECK_EQ_MEM(data, len, "done", 4);
        t_stream_end = g_get_monotonic_time();
        cpu_stream_end = cpu_now();
        phase = 3;
        rtc_channel_close(A.ch);
    }
}

static void on_low(rtc_channel *ch, void *user)
{
    side *s = user;
    s->low_events++;
    CHECK(rtc_channel_buffered_amount(ch) <= LOW_WATER);
    if (s == &A && phase == 2) pump_stream();
}

static gboolean on_deadline(gpointer data)
{
    timed_out = true;
    g_main_loop_quit(loop);
    return G_SOURCE_REMOVE;
}

static rtc_peer *make_peer(side *s)
{
    rtc_config cfg = {
        .context = ctx,
        .cb =
            {
                .on_local_description = on_local_description,
                .on_local_candidate = on_local_candidate,
                .on_state = on_state,
                .on_channel = on_channel,
                .on_channel_open = on_channel_open,
                .on_channel_closed = on_channel_closed,
                .on_message = on_message,
                .on_buffered_amount_low = on_low,
            },
        .user = s,
    };
    return rtc_peer_create(&cfg);
}

int main(void)
{
    pd_log_set_level(g_getenv("PD_LOG_DEBUG") ? PD_LOG_LEVEL_DEBUG : PD_LOG_LEVEL_WARN);
    ctx = g_main_context_new();
    loop = g_main_loop_new(ctx, FALSE);
    A.other = &B;
    B.other = &A;
    A.peer = make_peer(&A);
    B.peer = make_peer(&B);
    CHECK(A.peer && B.peer);
    if (!A.peer || !B.peer) return CHECK_DONE();

    GSource *deadline = g_timeout_source_new(TEST_DEADLINE_MS);
    g_source_set_callback(deadline, on_deadline, NULL, NULL);
    g_source_attach(deadline, ctx);

    t_start = g_get_monotonic_time();
    A.ch = rtc_channel_create(A.peer, "test", false);
    CHECK(A.ch != NULL);
    rtc_channel_set_user(A.ch, &A);
    CHECK(!rtc_channel_is_open(A.ch));
    CHECK_EQ_INT(rtc_channel_send(A.ch, (const uint8_t *)"x", 1, true), -1); /* not open yet */
    CHECK_EQ_INT(rtc_peer_create_offer(A.peer), 0);
    g_main_loop_run(loop);

    CHECK(!timed_out);
    CHECK_EQ_INT(A.state, RTC_STATE_CONNECTED);
    CHECK_EQ_INT(B.state, RTC_STATE_CONNECTED);
    CHECK_EQ_INT(A.opened, 1);
    CHECK_EQ_INT(B.opened, 1);
    CHECK_EQ_INT(B.channels, 1);
    CHECK_EQ_INT(A.next_expected, N_ECHO);
    CHECK_EQ_INT(B.stream_received, STREAM_TOTAL);
    CHECK(!B.stream_bad);
    CHECK(A.low_events > 0);
    CHECK(max_buffered_seen < HIGH_WATER + STREAM_CHUNK);
    CHECK_EQ_INT(A.closed, 1);
    CHECK_EQ_INT(B.closed, 1);
    CHECK_EQ_INT(rtc_peer_remote_max_message_size(A.peer), 262144);

    if (t_open)
        printf("channel open: %.1f ms after create_offer\n", (double)(t_open - t_start) / 1000.0);
    if (t_stream_end)
        printf("stream: %u MiB in %.1f ms = %.1f MB/s (A->B, %u KiB messages, "
               "%d low-threshold events)\n",
               STREAM_TOTAL >> 20, (double)(t_stream_end - t_stream_start) / 1000.0,
               (double)STREAM_TOTAL / ((double)(t_stream_end - t_stream_start) / 1e6) / 1e6,
               STREAM_CHUNK >> 10, A.low_events);
    /* both peers share this one thread: CPU time is the figure that does
     * not depend on what else the machine runs. Two processes (CLI to CLI)
     * split it across two cores. */
    if (t_stream_end)
        printf("stream CPU: %.0f ms for both peers = %.1f MB per CPU-second\n",
               (cpu_stream_end - cpu_stream_start) * 1000.0,
               (double)STREAM_TOTAL / (cpu_stream_end - cpu_stream_start) / 1e6);

    rtc_peer_destroy(A.peer);
    rtc_peer_destroy(B.peer);
    /* no callback after destroy: run the loop a little to let stray sources fire */
    for (int i = 0; i < 20; i++)
        g_main_context_iteration(ctx, FALSE);
    g_source_destroy(deadline);
    g_source_unref(deadline);
    g_main_loop_unref(loop);
    g_main_context_unref(ctx);
    return CHECK_DONE();
}
