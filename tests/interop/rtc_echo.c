/* rtc_echo.c: a native data-channel peer for interop tests (rtc-echo).
 *
 * Speaks signaling as JSON lines on stdin/stdout and echoes every
 * data-channel message back on the channel it came from, binary or text
 * as received. Driven by tests/integration/rtc-chromium.test.mjs.
 *
 * stdin:  {"type":"offer"|"answer","sdp":"..."}
 *         {"type":"candidate","candidate":"candidate:..."|"" ,"mid":"0"}
 *         {"type":"create-offer","label":"echo"}   (become the offerer)
 *         {"type":"close-channels"}                (reset every channel)
 *         {"type":"send","text":"..."}   (send a text on every channel)
 *         {"type":"sink"}        (count received bytes instead of echoing;
 *                                 a text "end" reports {"type":"sunk",...})
 *         {"type":"stream","bytes":N} (send N bytes in 64 KiB binary
 *                                 messages with bufferedAmount backpressure,
 *                                 then a text "end")
 * stdout: {"type":"offer"|"answer","sdp":"..."}
 *         {"type":"candidate","candidate":"..."|null,"mid":"0"}
 *         {"type":"state","state":"connected"|...}
 *         {"type":"channel","label":"..."}   (remote opened one)
 *         {"type":"open","label":"...","ms":N} (ms since create-offer or the
 *                                                remote offer arrived)
 *         {"type":"closed","label":"..."}
 * Exits when stdin closes. Logs go to stderr. */
#include <glib-unix.h>
#include <glib.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "rtc/rtc.h"

static GMainLoop *loop;
static rtc_peer *peer;
static gint64 t0;
static GString *inbuf;

static void emit(json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT);
    if (s) {
        fputs(s, stdout);
        fputc('\n', stdout);
        fflush(stdout);
        free(s);
    }
    json_decref(o);
}

static void on_local_description(rtc_peer *p, const char *type, const char *sdp, void *user)
{
    emit(json_pack("{s:s,s:s}", "type", type, "sdp", sdp));
}

static void on_local_candidate(rtc_peer *p, const char *cand, const char *mid, void *user)
{
    emit(json_pack("{s:s,s:s?,s:s}", "type", "candidate", "candidate", cand, "mid", mid));
}

static void on_state(rtc_peer *p, rtc_state st, const char *reason, void *user)
{
    static const char *names[] = {"new", "connecting", "connected", "failed", "closed"};
    emit(json_pack("{s:s,s:s,s:s?}", "type", "state", "state", names[st], "reason", reason));
}

static void on_channel(rtc_peer *p, rtc_channel *ch, void *user)
{
    emit(json_pack("{s:s,s:s}", "type", "channel", "label", rtc_channel_label(ch)));
}

static void on_channel_open(rtc_channel *ch, void *user)
{
    emit(json_pack("{s:s,s:s,s:f}", "type", "open", "label", rtc_channel_label(ch), "ms",
                   (double)(g_get_monotonic_time() - t0) / 1000.0));
}

static void on_channel_closed(rtc_channel *ch, void *user)
{
    emit(json_pack("{s:s,s:s}", "type", "closed", "label", rtc_channel_label(ch)));
}

/* bench mode (tests/interop/rtc_pair_bench.py) */
static bool sink;
static uint64_t sunk_bytes, stream_left;
static gint64 sink_t0;
static rtc_channel *stream_ch;
#define STREAM_CHUNK 65536
#define STREAM_HIGH (1024 * 1024)

static void pump(void)
{
    static uint8_t chunk[STREAM_CHUNK];
    while (stream_left && rtc_channel_buffered_amount(stream_ch) < STREAM_HIGH) {
        size_t n = stream_left < STREAM_CHUNK ? stream_left : STREAM_CHUNK;
        if (rtc_channel_send(stream_ch, chunk, n, true) != 0) return;
        stream_left -= n;
        if (!stream_left) rtc_channel_send(stream_ch, (const uint8_t *)"end", 3, false);
    }
}

static void on_low(rtc_channel *ch, void *user)
{
    if (ch == stream_ch) pump();
}

static void on_message(rtc_channel *ch, const uint8_t *data, size_t len, bool binary, void *user)
{
    /* test data only: the first bytes say which message this was */
    PD_LOG_DEBUG("rtc-echo: %s message of %zu bytes on %s, first bytes %02x %02x %02x %02x",
                 binary ? "binary" : "text", len, rtc_channel_label(ch), len > 0 ? data[0] : 0,
                 len > 1 ? data[1] : 0, len > 2 ? data[2] : 0, len > 3 ? data[3] : 0);
    if (sink) {
        if (!binary && len == 3 && memcmp(data, "end", 3) == 0) {
            emit(json_pack("{s:s,s:I,s:f}", "type", "sunk", "bytes", (json_int_t)sunk_bytes, "ms",
                           (double)(g_get_monotonic_time() - sink_t0) / 1000.0));
            sunk_bytes = 0;
            return;
        }
        if (!sunk_bytes) sink_t0 = g_get_monotonic_time();
        sunk_bytes += len;
        return;
    }
    if (rtc_channel_send(ch, data, len, binary) != 0)
        PD_LOG_WARN("rtc-echo: echo of %zu bytes failed", len);
}

static rtc_channel *channels[64];
static size_t n_channels;

static void handle_line(const char *line)
{
    json_error_t err;
    json_t *o = json_loads(line, 0, &err);
    const char *type = o ? json_string_value(json_object_get(o, "type")) : NULL;
    if (!type) {
        PD_LOG_WARN("rtc-echo: bad input line");
        json_decref(o);
        return;
    }
    if (strcmp(type, "offer") == 0) t0 = g_get_monotonic_time();
    if (strcmp(type, "offer") == 0 || strcmp(type, "answer") == 0) {
        const char *sdp = json_string_value(json_object_get(o, "sdp"));
        if (!sdp || rtc_peer_set_remote_description(peer, type, sdp) != 0)
            emit(json_pack("{s:s,s:s}", "type", "error", "what", "remote description"));
    } else if (strcmp(type, "candidate") == 0) {
        const char *c = json_string_value(json_object_get(o, "candidate"));
        const char *mid = json_string_value(json_object_get(o, "mid"));
        rtc_peer_add_remote_candidate(peer, c ? c : "", mid);
    } else if (strcmp(type, "create-offer") == 0) {
        t0 = g_get_monotonic_time();
        const char *label = json_string_value(json_object_get(o, "label"));
        rtc_channel *ch = rtc_channel_create(peer, label ? label : "echo", false);
        if (ch && n_channels < G_N_ELEMENTS(channels)) channels[n_channels++] = ch;
        rtc_peer_create_offer(peer);
    } else if (strcmp(type, "sink") == 0) {
        sink = true;
    } else if (strcmp(type, "stream") == 0 && n_channels > 0) {
        stream_ch = channels[0];
        stream_left = (uint64_t)json_integer_value(json_object_get(o, "bytes"));
        rtc_channel_set_buffered_amount_low_threshold(stream_ch, STREAM_HIGH / 4);
        pump();
    } else if (strcmp(type, "send") == 0) {
        const char *text = json_string_value(json_object_get(o, "text"));
        for (size_t i = 0; text && i < n_channels; i++)
            if (rtc_channel_send(channels[i], (const uint8_t *)text, strlen(text), false) != 0)
                PD_LOG_WARN("rtc-echo: send on %s failed", rtc_channel_label(channels[i]));
    } else if (strcmp(type, "close-channels") == 0) {
        for (size_t i = 0; i < n_channels; i++)
            rtc_channel_close(channels[i]);
    }
    json_decref(o);
}

static gboolean on_stdin(gint fd, GIOCondition cond, gpointer data)
{
    char buf[65536];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) {
        g_main_loop_quit(loop);
        return G_SOURCE_REMOVE;
    }
    g_string_append_len(inbuf, buf, n);
    char *nl;
    while ((nl = memchr(inbuf->str, '\n', inbuf->len))) {
        *nl = '\0';
        handle_line(inbuf->str);
        g_string_erase(inbuf, 0, nl - inbuf->str + 1);
    }
    return G_SOURCE_CONTINUE;
}

static void on_channel_remote(rtc_peer *p, rtc_channel *ch, void *user)
{
    if (n_channels < G_N_ELEMENTS(channels)) channels[n_channels++] = ch;
    on_channel(p, ch, user);
}

int main(void)
{
    pd_log_set_level(g_getenv("PD_LOG_DEBUG") ? PD_LOG_LEVEL_DEBUG : PD_LOG_LEVEL_WARN);
    t0 = g_get_monotonic_time();
    GMainContext *ctx = g_main_context_new();
    g_main_context_push_thread_default(ctx);
    loop = g_main_loop_new(ctx, FALSE);
    inbuf = g_string_new(NULL);
    rtc_config cfg = {
        .context = ctx,
        .cb =
            {
                .on_local_description = on_local_description,
                .on_local_candidate = on_local_candidate,
                .on_state = on_state,
                .on_channel = on_channel_remote,
                .on_channel_open = on_channel_open,
                .on_channel_closed = on_channel_closed,
                .on_message = on_message,
                .on_buffered_amount_low = on_low,
            },
    };
    peer = rtc_peer_create(&cfg);
    if (!peer) return 1;
    GSource *in = g_unix_fd_source_new(0, G_IO_IN | G_IO_HUP | G_IO_ERR);
    g_source_set_callback(in, (GSourceFunc)(void (*)(void))on_stdin, NULL, NULL);
    g_source_attach(in, ctx);
    g_main_loop_run(loop);
    rtc_peer_destroy(peer);
    g_source_destroy(in);
    g_source_unref(in);
    g_string_free(inbuf, TRUE);
    g_main_loop_unref(loop);
    g_main_context_pop_thread_default(ctx);
    g_main_context_unref(ctx);
    return 0;
}
