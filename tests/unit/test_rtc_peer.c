/* test_rtc_peer.c: rtc_peer behaviour beyond the happy path, two peers
 * in one process over real loopback UDP:
 *  - a fingerprint that does not match the certificate fails both sides
 *    (RFC 8122: the SDP fingerprint is what authenticates the peer), and
 *    no channel ever opens;
 *  - bad remote descriptions are refused (answer with actpass, garbage,
 *    an answer before any offer);
 *  - both sides open channels at once (even/odd stream ids by DTLS role,
 *    RFC 8832 §6), one of them unordered, and messages cross;
 *  - rtc_peer_destroy() from inside a callback: no callback afterwards;
 *  - the remote peer going away closes our channels;
 *  - a peer that never answers: the connect timeout fails ours, with a
 *    reason, and nothing else fires;
 *  - a peer made with another's certificate (a lane, docs/protocol.md
 *    §5.10) shows the same fingerprint, a new one another, and the shared
 *    certificate outlives the peers it came from.
 * Every scenario is bounded by a deadline. */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../../src/base/log.h"
#include "../../src/rtc/rtc.h"
#include "check.h"

#define DEADLINE_MS 20000

typedef struct side side;
struct side {
    rtc_peer *peer;
    side *other;
    rtc_state state;
    int opened, closed, remote_channels, messages, callbacks_after_destroy;
    bool destroyed;
    char last_msg[64];
};

static GMainContext *ctx;
static GMainLoop *loop;
static side A, B;
static bool tamper_fingerprint, destroy_in_open, silent_peer, one_channel;
static char fail_reason[160];

typedef struct sig {
    side *to;
    char *type, *body;
} sig;

static gboolean deliver(gpointer data)
{
    sig *m = data;
    if (m->to->peer && !m->to->destroyed) {
        if (strcmp(m->type, "candidate") == 0)
            rtc_peer_add_remote_candidate(m->to->peer, m->body, "0");
        else
            CHECK_EQ_INT(rtc_peer_set_remote_description(m->to->peer, m->type, m->body), 0);
    }
    g_free(m->type);
    g_free(m->body);
    g_free(m);
    return G_SOURCE_REMOVE;
}

static void post(side *to, const char *type, const char *body)
{
    if (silent_peer) return; /* the other side never hears of us */
    sig *m = g_new0(sig, 1);
    m->to = to;
    m->type = g_strdup(type);
    m->body = g_strdup(body);
    if (tamper_fingerprint && strcmp(type, "answer") == 0) {
        /* flip one hex digit of the sha-256: still well-formed */
        char *fp = strstr(m->body, "sha-256 ");
        if (fp) fp[8] = fp[8] == 'A' ? 'B' : 'A';
    }
    GSource *s = g_idle_source_new();
    g_source_set_callback(s, deliver, m, NULL);
    g_source_attach(s, ctx);
    g_source_unref(s);
}

static void note_after_destroy(side *s)
{
    if (s->destroyed) s->callbacks_after_destroy++;
}

static void on_desc(rtc_peer *p, const char *type, const char *sdp, void *user)
{
    note_after_destroy(user);
    post(((side *)user)->other, type, sdp);
}

static void on_cand(rtc_peer *p, const char *c, const char *mid, void *user)
{
    note_after_destroy(user);
    post(((side *)user)->other, "candidate", c);
}

static void on_state(rtc_peer *p, rtc_state st, const char *reason, void *user)
{
    side *s = user;
    note_after_destroy(s);
    s->state = st;
    if (st == RTC_STATE_FAILED)
        snprintf(fail_reason, sizeof fail_reason, "%s", reason ? reason : "");
    if (silent_peer && st == RTC_STATE_FAILED) g_main_loop_quit(loop);
    if (tamper_fingerprint && A.state == RTC_STATE_FAILED && B.state == RTC_STATE_FAILED)
        g_main_loop_quit(loop);
}

static void on_channel(rtc_peer *p, rtc_channel *ch, void *user)
{
    side *s = user;
    note_after_destroy(s);
    s->remote_channels++;
    rtc_channel_set_user(ch, s);
}

static void on_open(rtc_channel *ch, void *user)
{
    side *s = user;
    note_after_destroy(s);
    s->opened++;
    if (destroy_in_open && s == &A) {
        rtc_peer_destroy(A.peer);
        A.destroyed = true;
        return;
    }
    char msg[64];
    snprintf(msg, sizeof msg, "%s from %s", rtc_channel_label(ch), s == &A ? "A" : "B");
    CHECK_EQ_INT(rtc_channel_send(ch, (const uint8_t *)msg, strlen(msg), false), 0);
}

static void on_closed(rtc_channel *ch, void *user)
{
    side *s = user;
    note_after_destroy(s);
    s->closed++;
    if (destroy_in_open && s == &B) g_main_loop_quit(loop);
}

static void on_message(rtc_channel *ch, const uint8_t *d, size_t len, bool bin, void *user)
{
    side *s = user;
    note_after_destroy(s);
    s->messages++;
    snprintf(s->last_msg, sizeof s->last_msg, "%.*s", (int)len, (const char *)d);
    /* each side sees four open channels and each open sends one message */
    if (!destroy_in_open && A.messages == 4 && B.messages == 4) g_main_loop_quit(loop);
    if (one_channel && A.messages == 1 && B.messages == 1) g_main_loop_quit(loop);
}

static gboolean on_deadline(gpointer data)
{
    *(bool *)data = true;
    g_main_loop_quit(loop);
    return G_SOURCE_REMOVE;
}

static void setup_with(unsigned connect_timeout_ms)
{
    memset(&A, 0, sizeof A);
    memset(&B, 0, sizeof B);
    A.other = &B;
    B.other = &A;
    rtc_config cfg = {
        .context = ctx,
        .cb = {on_desc, on_cand, on_state, on_channel, on_open, on_closed, on_message, NULL},
        .connect_timeout_ms = connect_timeout_ms,
    };
    cfg.user = &A;
    A.peer = rtc_peer_create(&cfg);
    cfg.user = &B;
    B.peer = rtc_peer_create(&cfg);
    CHECK(A.peer && B.peer);
}

static void setup(void)
{
    setup_with(0);
}

static bool run(void)
{
    bool timed_out = false;
    GSource *d = g_timeout_source_new(DEADLINE_MS);
    g_source_set_callback(d, on_deadline, &timed_out, NULL);
    g_source_attach(d, ctx);
    g_main_loop_run(loop);
    g_source_destroy(d);
    g_source_unref(d);
    return !timed_out;
}

static void teardown(void)
{
    if (!A.destroyed) rtc_peer_destroy(A.peer);
    rtc_peer_destroy(B.peer);
    A.destroyed = B.destroyed = true;
    for (int i = 0; i < 50; i++)
        g_main_context_iteration(ctx, FALSE);
    CHECK_EQ_INT(A.callbacks_after_destroy, 0);
    CHECK_EQ_INT(B.callbacks_after_destroy, 0);
}

static void test_fingerprint_mismatch(void)
{
    tamper_fingerprint = true;
    setup();
    rtc_channel *ch = rtc_channel_create(A.peer, "x", false);
    CHECK(ch != NULL);
    CHECK_EQ_INT(rtc_peer_create_offer(A.peer), 0);
    CHECK(run());
    CHECK_EQ_INT(A.state, RTC_STATE_FAILED);
    CHECK_EQ_INT(B.state, RTC_STATE_FAILED);
    CHECK_EQ_INT(A.opened + B.opened, 0);
    CHECK(!rtc_channel_is_open(ch));
    CHECK_EQ_INT(rtc_channel_send(ch, (const uint8_t *)"x", 1, false), -1);
    teardown();
    tamper_fingerprint = false;
}

static const char fake_answer[] =
    "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:abcd\r\na=ice-pwd:0123456789012345678901\r\n"
    "a=fingerprint:sha-256 "
    "7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:"
    "08"
    "\r\na=setup:actpass\r\na=mid:0\r\n";

static void test_bad_descriptions(void)
{
    setup();
    /* an answer before we offered */
    CHECK_EQ_INT(rtc_peer_set_remote_description(A.peer, "answer", fake_answer), -1);
    CHECK_EQ_INT(rtc_peer_set_remote_description(A.peer, "pranswer", fake_answer), -1);
    CHECK_EQ_INT(rtc_peer_set_remote_description(B.peer, "offer", "v=0\r\ngarbage"), -1);
    CHECK_EQ_INT(rtc_peer_create_offer(A.peer), 0);
    /* RFC 5763 §5: an answer must pick a role */
    CHECK_EQ_INT(rtc_peer_set_remote_description(A.peer, "answer", fake_answer), -1);
    CHECK_EQ_INT(rtc_peer_add_remote_candidate(A.peer, "candidate:garbage", "0"), 0); /* queued */
    CHECK(rtc_channel_create(A.peer, NULL, false) == NULL);
    CHECK(rtc_peer_create(NULL) == NULL);
    rtc_peer_destroy(NULL);
    /* drain the queued signaling without delivering it */
    A.destroyed = B.destroyed = true;
    for (int i = 0; i < 50; i++)
        g_main_context_iteration(ctx, FALSE);
    A.destroyed = B.destroyed = false;
    teardown();
}

static void test_both_open_channels(void)
{
    setup();
    /* both before the connection exists: they open once SCTP is up */
    CHECK(rtc_channel_create(A.peer, "a-ordered", false) != NULL);
    CHECK(rtc_channel_create(A.peer, "a-unordered", true) != NULL);
    CHECK_EQ_INT(rtc_peer_create_offer(A.peer), 0);
    /* B creates its channels before it has even seen the offer */
    CHECK(rtc_channel_create(B.peer, "b-one", false) != NULL);
    CHECK(rtc_channel_create(B.peer, "b-two", true) != NULL);
    CHECK(run());
    CHECK_EQ_INT(A.remote_channels, 2);
    CHECK_EQ_INT(B.remote_channels, 2);
    CHECK_EQ_INT(A.opened, 4); /* two own + two remote */
    CHECK_EQ_INT(B.opened, 4);
    CHECK_EQ_INT(A.messages, 4);
    CHECK_EQ_INT(B.messages, 4);
    CHECK_EQ_INT(rtc_peer_state(A.peer), RTC_STATE_CONNECTED);
    teardown();
}

static void test_destroy_in_callback(void)
{
    destroy_in_open = true;
    setup();
    rtc_channel *ch = rtc_channel_create(A.peer, "doomed", false);
    CHECK(ch != NULL);
    CHECK_EQ_INT(rtc_peer_create_offer(A.peer), 0);
    /* A destroys itself in on_channel_open; B must see its channel close
     * (SCTP ABORT / DTLS close_notify) */
    CHECK(run());
    CHECK_EQ_INT(A.opened, 1);
    CHECK_EQ_INT(B.closed, 1);
    CHECK(B.state == RTC_STATE_CLOSED || B.state == RTC_STATE_FAILED);
    teardown();
    destroy_in_open = false;
}

static void test_connect_timeout(void)
{
    silent_peer = true;
    setup_with(300);
    rtc_channel *ch = rtc_channel_create(A.peer, "never", false);
    CHECK(ch != NULL);
    gint64 t0 = g_get_monotonic_time();
    CHECK_EQ_INT(rtc_peer_create_offer(A.peer), 0);
    CHECK(run());
    gint64 ms = (g_get_monotonic_time() - t0) / 1000;
    CHECK_EQ_INT(A.state, RTC_STATE_FAILED);
    CHECK(strstr(fail_reason, "no connection") != NULL);
    CHECK(ms >= 250 && ms < 5000);
    CHECK_EQ_INT(A.opened + A.closed, 0); /* the channel never opened */
    CHECK(!rtc_channel_is_open(ch));
    /* B heard nothing, so only its own timer (300 ms) can fail it */
    for (int i = 0; i < 100 && B.state != RTC_STATE_FAILED; i++)
        g_usleep(10000), g_main_context_iteration(ctx, FALSE);
    CHECK_EQ_INT(B.state, RTC_STATE_FAILED);
    teardown();
    silent_peer = false;
}

static char fps[3][160];
static int ndesc;

static void cap_desc(rtc_peer *p, const char *type, const char *sdp, void *user)
{
    int i = (int)(intptr_t)user;
    const char *f = strstr(sdp, "a=fingerprint:");
    if (f) snprintf(fps[i], sizeof fps[i], "%.*s", (int)strcspn(f, "\r\n"), f);
    ndesc++;
}
static void cap_cand(rtc_peer *p, const char *c, const char *mid, void *user) {}
static void cap_state(rtc_peer *p, rtc_state st, const char *reason, void *user) {}

static void test_shared_certificate(void)
{
    rtc_config c = {.context = ctx,
                    .cb = {cap_desc, cap_cand, cap_state, NULL, NULL, NULL, NULL, NULL}};
    c.user = (void *)(intptr_t)0;
    rtc_peer *p0 = rtc_peer_create(&c);
    c.user = (void *)(intptr_t)1;
    c.same_certificate = p0;
    rtc_peer *p1 = rtc_peer_create(&c);
    c.user = (void *)(intptr_t)2;
    c.same_certificate = NULL;
    rtc_peer *p2 = rtc_peer_create(&c);
    CHECK(p0 && p1 && p2);
    ndesc = 0;
    CHECK(rtc_channel_create(p0, "x", false) && rtc_channel_create(p1, "x", false) &&
          rtc_channel_create(p2, "x", false));
    CHECK_EQ_INT(rtc_peer_create_offer(p0), 0);
    CHECK_EQ_INT(rtc_peer_create_offer(p1), 0);
    CHECK_EQ_INT(rtc_peer_create_offer(p2), 0);
    for (int i = 0; i < 1000 && ndesc < 3; i++)
        g_main_context_iteration(ctx, TRUE);
    CHECK_EQ_INT(ndesc, 3);
    CHECK(fps[0][0] && !strcmp(fps[0], fps[1]));
    CHECK(fps[2][0] && strcmp(fps[0], fps[2]) != 0);
    /* the first goes; a third peer of the same certificate connects */
    rtc_peer_destroy(p0);
    rtc_peer_destroy(p2);
    setup();
    rtc_peer_destroy(A.peer);
    rtc_config cfg = {
        .context = ctx,
        .cb = {on_desc, on_cand, on_state, on_channel, on_open, on_closed, on_message, NULL},
        .user = &A,
        .same_certificate = p1,
    };
    A.peer = rtc_peer_create(&cfg);
    rtc_peer_destroy(p1); /* the certificate lives on in A */
    CHECK(A.peer != NULL);
    CHECK(rtc_channel_create(A.peer, "lane", false) != NULL);
    CHECK_EQ_INT(rtc_peer_create_offer(A.peer), 0);
    one_channel = true;
    CHECK(run());
    one_channel = false;
    CHECK_EQ_INT(rtc_peer_state(A.peer), RTC_STATE_CONNECTED);
    CHECK(A.opened == 1 && B.remote_channels == 1 && A.messages == 1);
    teardown();
}

int main(void)
{
    pd_log_set_level(g_getenv("PD_LOG_DEBUG") ? PD_LOG_LEVEL_DEBUG : PD_LOG_LEVEL_ERROR);
    ctx = g_main_context_new();
    loop = g_main_loop_new(ctx, FALSE);
    test_fingerprint_mismatch();
    test_bad_descriptions();
    test_both_open_channels();
    test_destroy_in_callback();
    test_connect_timeout();
    test_shared_certificate();
    g_main_loop_unref(loop);
    g_main_context_unref(ctx);
    return CHECK_DONE();
}
