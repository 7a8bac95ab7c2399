/* test_pake_gate.c: the opening of a protocol-2 data channel (issue 14,
 * src/pake/gate.h, docs/protocol.md §5.0), driven with fake inputs and a
 * fake clock, both roles:
 *   - two honest gates meet, open, show the same code, and send nothing
 *     but PAKE messages; input after the opening is not taken;
 *   - a `hello` (v1 or v2), an `offer`, a binary message, malformed or
 *     oversized text, or a hello in the middle of the run fail the gate
 *     with exactly one `error` AUTH_FAILED and nothing of the run;
 *   - the peer's `error` ends the run with its code and message, unanswered;
 *   - a wrong password: one side fails with AUTH_FAILED, the other hears it;
 *   - the deadline: running until PD_AUTH_DEADLINE_MS; at it LOST while
 *     this side's tag is not out (a drop), failed once it is;
 *   - the channel closed mid-run: the same split, nothing sent either way;
 *   - no usable fingerprint: failed at the start;
 * and the fingerprint of a whole SDP (pake_fingerprint_from_sdp): exactly
 * one distinct a=fingerprint, session- or media-level. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "../../src/base/limits.h"
#include "../../src/pake/gate.h"
#include "check.h"
#include "guard.h"

static const char FP_A[] = "sha-256 "
                           "6b8bf0655f3a5a8d96b0fd0bb3a5a2f5d4e2c9b01b4d1e5b1f9ae6c4d2c31908";
static const char FP_B[] = "sha-256 "
                           "0c2e9b6a1d7f4e3c5b8a9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c";

typedef struct pair {
    pake_gate a, b; /* a: the offerer (opened the channel), b: the answerer */
    uint8_t prs_a[PAKE_PRS_LEN], prs_b[PAKE_PRS_LEN];
} pair;

static pake_session_config config(pake_role role, const uint8_t *prs)
{
    return (pake_session_config){.role = role,
                                 .prs = prs,
                                 .room = {(const uint8_t *)"room-1", 6},
                                 .offerer_id = {(const uint8_t *)"sockA", 5},
                                 .answerer_id = {(const uint8_t *)"sockB", 5},
                                 .fp_offerer = FP_A,
                                 .fp_answerer = FP_B};
}

static void pair_start(pair *p, bool same_password, int64_t now)
{
    memset(p->prs_a, 7, sizeof p->prs_a);
    memset(p->prs_b, same_password ? 7 : 8, sizeof p->prs_b);
    pake_session_config ca = config(PAKE_OFFERER, p->prs_a), cb = config(PAKE_ANSWERER, p->prs_b);
    CHECK_EQ_INT(pake_gate_start(&p->a, &ca, now), PAKE_GATE_RUNNING);
    CHECK_EQ_INT(pake_gate_start(&p->b, &cb, now), PAKE_GATE_RUNNING);
}

/* Moves every queued message from one gate to the other (each through a
 * guard page), counting them; a message that is not a PAKE one or the
 * AUTH_FAILED error fails the test. */
static int deliver(pake_gate *from, pake_gate *to)
{
    const char *text;
    size_t len;
    int n = 0;
    while (pake_gate_next_output(from, &text, &len)) {
        CHECK(!strncmp(text, "{\"t\":\"pake-", 11) || !strcmp(text, PAKE_GATE_ERROR_TEXT));
        guarded g = guard_copy(text, len);
        pake_gate_feed(to, g.data, len, false);
        guard_free(&g);
        n++;
    }
    return n;
}

static void run(pair *p)
{
    for (int round = 0; round < 6; round++) /* bounded: an honest run takes four flights */
        if (deliver(&p->a, &p->b) + deliver(&p->b, &p->a) == 0) break;
}

static void test_honest(void)
{
    pair p;
    pair_start(&p, true, 1000);
    run(&p);
    CHECK_EQ_INT(p.a.state, PAKE_GATE_OPEN);
    CHECK_EQ_INT(p.b.state, PAKE_GATE_OPEN);
    const char *sa = pake_gate_sas(&p.a), *sb = pake_gate_sas(&p.b);
    CHECK(sa && sb && strlen(sa) == 6 && !strcmp(sa, sb));
    /* the run's secrets are gone once it is done */
    CHECK(sodium_is_zero(p.a.s.prs, PAKE_PRS_LEN) && sodium_is_zero(p.b.s.prs, PAKE_PRS_LEN));
    CHECK(sodium_is_zero(p.a.s.y, sizeof p.a.s.y) && sodium_is_zero(p.b.s.y, sizeof p.b.s.y));
    /* open: the hello that follows is the transfer session's, not the gate's */
    const char *hello = "{\"t\":\"hello\",\"v\":2,\"maxMsg\":262144,\"win\":16777216,\"caps\":[]}";
    CHECK_EQ_INT(pake_gate_feed(&p.b, (const uint8_t *)hello, strlen(hello), false),
                 PAKE_GATE_OPEN);
    const char *text;
    size_t len;
    CHECK(!pake_gate_next_output(&p.b, &text, &len));
    /* the clock no longer matters */
    CHECK_EQ_INT(pake_gate_tick(&p.a, 1000 + 10 * (int64_t)PD_AUTH_DEADLINE_MS), PAKE_GATE_OPEN);
    pake_gate_cleanup(&p.a);
    pake_gate_cleanup(&p.b);
}

/* After the failing input: exactly one `error` AUTH_FAILED, nothing of the
 * run, and later input changes nothing. */
static void check_refused(pake_gate *g, const char *why)
{
    const char *text;
    size_t len;
    if (g->state != PAKE_GATE_FAILED) fprintf(stderr, "not refused: %s\n", why);
    CHECK_EQ_INT(g->state, PAKE_GATE_FAILED);
    CHECK(g->reason != NULL);
    CHECK(pake_gate_next_output(g, &text, &len));
    CHECK_EQ_MEM(text, len, PAKE_GATE_ERROR_TEXT, strlen(PAKE_GATE_ERROR_TEXT));
    CHECK(!pake_gate_next_output(g, &text, &len));
    CHECK(pake_gate_sas(g) == NULL);
    CHECK(sodium_is_zero(g->s.prs, PAKE_PRS_LEN) && sodium_is_zero(g->s.y, sizeof g->s.y));
    const char *late = "{\"t\":\"pake-share\",\"y\":\"00\"}";
    CHECK_EQ_INT(pake_gate_feed(g, (const uint8_t *)late, strlen(late), false), PAKE_GATE_FAILED);
    CHECK(!pake_gate_next_output(g, &text, &len));
}

/* The first message of a peer that does not authenticate, to a gate of
 * either role; the gate's own first flight (if any) is dropped first. */
static void test_first_message_refused(void)
{
    static const struct {
        const char *text;
        bool binary;
        const char *why;
    } cases[] = {
        {"{\"t\":\"hello\",\"v\":1,\"maxMsg\":262144,\"win\":16777216,\"caps\":[]}", false,
         "a protocol-1 hello"},
        {"{\"t\":\"hello\",\"v\":2,\"maxMsg\":262144,\"win\":16777216,\"caps\":[\"resume\"]}",
         false, "a protocol-2 hello before authenticating"},
        {"{\"t\":\"offer\",\"xfer\":\"0123456789abcdef0123456789abcdef\",\"files\":[{\"id\":0,"
         "\"name\":\"a\",\"dir\":\"\",\"size\":1,\"mime\":\"\"}]}",
         false, "an offer"},
        {"\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff", true,
         "a data message"},
        {"{\"t\":\"pake-start\"", false, "truncated JSON"},
        {"not json", false, "not JSON"},
        {"{\"t\":\"no-such-type\"}", false, "an unknown type"},
    };
    for (int role = 0; role < 2; role++)
        for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
            uint8_t prs[PAKE_PRS_LEN] = {7};
            pake_session_config c = config(role ? PAKE_ANSWERER : PAKE_OFFERER, prs);
            pake_gate g;
            CHECK_EQ_INT(pake_gate_start(&g, &c, 0), PAKE_GATE_RUNNING);
            const char *text;
            size_t len;
            while (pake_gate_next_output(&g, &text, &len)) /* its pake-start, if any */
                CHECK(!strncmp(text, "{\"t\":\"pake-start\"", 17));
            size_t n = cases[k].binary ? 17 : strlen(cases[k].text);
            guarded in = guard_copy(cases[k].text, n);
            pake_gate_feed(&g, in.data, n, cases[k].binary);
            guard_free(&in);
            check_refused(&g, cases[k].why);
            pake_gate_cleanup(&g);
        }
}

/* A hello after the first PAKE flight: refused as well (not only first). */
static void test_hello_mid_run(void)
{
    pair p;
    pair_start(&p, true, 0);
    deliver(&p.a, &p.b); /* whichever side starts, its first flight arrives */
    deliver(&p.b, &p.a);
    pake_gate *running = p.a.state == PAKE_GATE_RUNNING ? &p.a : &p.b;
    CHECK_EQ_INT(running->state, PAKE_GATE_RUNNING);
    const char *text;
    size_t len;
    while (pake_gate_next_output(running, &text, &len)) {
    }
    const char *hello = "{\"t\":\"hello\",\"v\":2,\"maxMsg\":262144,\"win\":16777216,\"caps\":[]}";
    pake_gate_feed(running, (const uint8_t *)hello, strlen(hello), false);
    check_refused(running, "a hello in the middle of the run");
    pake_gate_cleanup(&p.a);
    pake_gate_cleanup(&p.b);
}

static void test_oversized(void)
{
    uint8_t prs[PAKE_PRS_LEN] = {7};
    pake_session_config c = config(PAKE_OFFERER, prs);
    pake_gate g;
    pake_gate_start(&g, &c, 0);
    size_t n = 20000;
    char *big = malloc(n);
    memset(big, ' ', n);
    const char *start = "{\"t\":\"error\",\"code\":\"PROTOCOL\",\"message\":\"x\"";
    memcpy(big, start, strlen(start));
    big[n - 1] = '}';
    pake_gate_feed(&g, (const uint8_t *)big, n, false);
    free(big);
    check_refused(&g, "an error message of 20000 bytes");
    pake_gate_cleanup(&g);
}

static void test_peer_error(void)
{
    for (int role = 0; role < 2; role++) {
        uint8_t prs[PAKE_PRS_LEN] = {7};
        pake_session_config c = config(role ? PAKE_ANSWERER : PAKE_OFFERER, prs);
        pake_gate g;
        pake_gate_start(&g, &c, 0);
        const char *text;
        size_t len;
        while (pake_gate_next_output(&g, &text, &len)) {
        }
        const char *err =
            "{\"t\":\"error\",\"code\":\"PROTOCOL\",\"message\":\"first message must be hello\"}";
        CHECK_EQ_INT(pake_gate_feed(&g, (const uint8_t *)err, strlen(err), false),
                     PAKE_GATE_PEER_ERROR);
        CHECK_EQ_STR(g.peer_code, "PROTOCOL");
        CHECK_EQ_STR(g.peer_message, "first message must be hello");
        CHECK(!pake_gate_next_output(&g, &text, &len)); /* an error is not answered */
        CHECK(pake_gate_sas(&g) == NULL);
        CHECK(sodium_is_zero(g.s.prs, PAKE_PRS_LEN));
        pake_gate_cleanup(&g);
    }
}

/* A wrong password: the side that finds it out sends AUTH_FAILED, the
 * other hears it as the peer's error; neither shows a code. */
static void test_wrong_password(void)
{
    pair p;
    pair_start(&p, false, 0);
    run(&p);
    CHECK(p.a.state != PAKE_GATE_OPEN && p.b.state != PAKE_GATE_OPEN);
    CHECK(p.a.state == PAKE_GATE_FAILED || p.b.state == PAKE_GATE_FAILED);
    pake_gate *heard = p.a.state == PAKE_GATE_FAILED ? &p.b : &p.a;
    CHECK_EQ_INT(heard->state, PAKE_GATE_PEER_ERROR);
    CHECK_EQ_STR(heard->peer_code, "AUTH_FAILED");
    CHECK(pake_gate_sas(&p.a) == NULL && pake_gate_sas(&p.b) == NULL);
    pake_gate_cleanup(&p.a);
    pake_gate_cleanup(&p.b);
}

/* Ended before our tag went out: LOST, nothing to send, secrets wiped. */
static void check_lost(pake_gate *g, const char *why)
{
    const char *text;
    size_t len;
    if (g->state != PAKE_GATE_LOST) fprintf(stderr, "not lost: %s\n", why);
    CHECK_EQ_INT(g->state, PAKE_GATE_LOST);
    CHECK(g->reason != NULL);
    CHECK(!pake_gate_next_output(g, &text, &len));
    CHECK(pake_gate_sas(g) == NULL);
    CHECK(sodium_is_zero(g->s.prs, PAKE_PRS_LEN) && sodium_is_zero(g->s.y, sizeof g->s.y));
    const char *late = "{\"t\":\"pake-share\",\"y\":\"00\"}";
    CHECK_EQ_INT(pake_gate_feed(g, (const uint8_t *)late, strlen(late), false), PAKE_GATE_LOST);
    CHECK(!pake_gate_next_output(g, &text, &len));
}

/* The deadline: running until PD_AUTH_DEADLINE_MS. At it, a gate whose tag
 * is not out yet (either role with nothing from the peer, the answerer
 * after its share) is LOST, a drop to connect again after; the offerer
 * whose tag is out (it had the answerer's share) fails with AUTH_FAILED:
 * the peer could have tested a guess against that tag. */
static void test_deadline(void)
{
    for (int role = 0; role < 2; role++) {
        uint8_t prs[PAKE_PRS_LEN] = {7};
        pake_session_config c = config(role ? PAKE_ANSWERER : PAKE_OFFERER, prs);
        pake_gate g;
        int64_t t0 = 5000;
        pake_gate_start(&g, &c, t0);
        const char *text;
        size_t len;
        while (pake_gate_next_output(&g, &text, &len)) {
        }
        CHECK_EQ_INT(pake_gate_tick(&g, t0 + PD_AUTH_DEADLINE_MS - 1), PAKE_GATE_RUNNING);
        CHECK(!pake_gate_next_output(&g, &text, &len));
        CHECK(!pake_gate_tag_sent(&g));
        CHECK_EQ_INT(pake_gate_tick(&g, t0 + PD_AUTH_DEADLINE_MS), PAKE_GATE_LOST);
        check_lost(&g, "the deadline, nothing from the peer");
        pake_gate_cleanup(&g);
    }
    pair p;
    pair_start(&p, true, 0); /* the answerer answered, then heard nothing */
    deliver(&p.a, &p.b);
    deliver(&p.b, &p.a); /* the offerer now sends its share and tag: they get lost */
    CHECK(pake_gate_tag_sent(&p.a) && !pake_gate_tag_sent(&p.b));
    CHECK_EQ_INT(pake_gate_tick(&p.b, PD_AUTH_DEADLINE_MS), PAKE_GATE_LOST);
    check_lost(&p.b, "the deadline, the answerer after its share");
    CHECK_EQ_INT(pake_gate_tick(&p.a, PD_AUTH_DEADLINE_MS), PAKE_GATE_FAILED);
    check_refused(&p.a, "the deadline, the offerer after its tag");
    pake_gate_cleanup(&p.a);
    pake_gate_cleanup(&p.b);
    CHECK_EQ_INT(PD_AUTH_DEADLINE_MS, 30000); /* auth-spec §B; the web app's AUTH_DEADLINE_MS */
}

/* The channel closed mid-run: LOST before our tag went out, FAILED after
 * (a cut run counts once it could have tested a guess), nothing to send
 * either way; a gate already done or failed stays as it is. */
static void test_abort(void)
{
    pair p;
    pair_start(&p, true, 0);
    deliver(&p.a, &p.b); /* pake-start; the answerer's share is queued */
    CHECK_EQ_INT(pake_gate_abort(&p.b, "the channel closed"), PAKE_GATE_LOST);
    CHECK_EQ_STR(p.b.reason, "the channel closed");
    check_lost(&p.b, "closed before the answerer's tag");
    CHECK_EQ_INT(pake_gate_abort(&p.a, "the channel closed"), PAKE_GATE_LOST);
    check_lost(&p.a, "closed before the offerer's tag");
    pake_gate_cleanup(&p.a);
    pake_gate_cleanup(&p.b);

    pair_start(&p, true, 0);
    deliver(&p.a, &p.b);
    deliver(&p.b, &p.a); /* the offerer's share and tag are queued: out */
    const char *text;
    size_t len;
    CHECK_EQ_INT(pake_gate_abort(&p.a, "the channel closed"), PAKE_GATE_FAILED);
    CHECK(!pake_gate_next_output(&p.a, &text, &len)); /* no channel to say it on */
    CHECK(sodium_is_zero(p.a.s.prs, PAKE_PRS_LEN) && sodium_is_zero(p.a.s.y, sizeof p.a.s.y));
    CHECK(pake_gate_sas(&p.a) == NULL);
    pake_gate_cleanup(&p.a);
    pake_gate_cleanup(&p.b);

    pair_start(&p, true, 0);
    run(&p);
    CHECK_EQ_INT(pake_gate_abort(&p.a, "late"), PAKE_GATE_OPEN);
    CHECK(pake_gate_sas(&p.a) != NULL);
    pake_gate_cleanup(&p.a);
    pake_gate_cleanup(&p.b);
}

static void test_no_fingerprint(void)
{
    uint8_t prs[PAKE_PRS_LEN] = {7};
    for (int which = 0; which < 3; which++) {
        pake_session_config c = config(PAKE_OFFERER, prs);
        if (which == 0) c.fp_offerer = NULL;
        if (which == 1) c.fp_answerer = NULL;
        if (which == 2) c.fp_answerer = "sha-256 AB:CD"; /* not canonical */
        pake_gate g;
        CHECK_EQ_INT(pake_gate_start(&g, &c, 0), PAKE_GATE_FAILED);
        check_refused(&g, "no fingerprint");
        pake_gate_cleanup(&g);
    }
}

static void test_fingerprint_from_sdp(void)
{
    const char *fp_line = "a=fingerprint:sha-256 "
                          "6B:8B:F0:65:5F:3A:5A:8D:96:B0:FD:0B:B3:A5:A2:F5:D4:E2:C9:B0:1B:4D:1E:5B:"
                          "1F:9A:E6:C4:D2:C3:19:08";
    const char *other = "a=fingerprint:sha-256 "
                        "0C:2E:9B:6A:1D:7F:4E:3C:5B:8A:9D:0E:1F:2A:3B:4C:5D:6E:7F:80:91:A2:B3:C4:"
                        "D5:E6:F7:08:19:2A:3B:4C";
    char sdp[2048], out[PAKE_FP_MAX];
    const char *head = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";
    const char *m = "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n";
    /* media level, CRLF */
    snprintf(sdp, sizeof sdp, "%s%s%s\r\na=setup:actpass\r\n", head, m, fp_line);
    CHECK_EQ_INT(pake_fingerprint_from_sdp(out, sdp, strlen(sdp)), (int)strlen(FP_A));
    CHECK_EQ_STR(out, FP_A);
    /* session level, LF only, no final newline */
    snprintf(sdp, sizeof sdp, "v=0\nt=0 0\n%s\nm=application 9 UDP/DTLS/SCTP x", fp_line);
    CHECK(pake_fingerprint_from_sdp(out, sdp, strlen(sdp)) > 0 && !strcmp(out, FP_A));
    /* the same at both levels (in another case and colons style): once */
    char lower[256];
    snprintf(lower, sizeof lower, "%s", fp_line);
    for (char *c = lower + 22; *c; c++)
        if (*c >= 'A' && *c <= 'F') *c = (char)(*c - 'A' + 'a');
    snprintf(sdp, sizeof sdp, "%s%s\r\n%s%s\r\n", head, fp_line, m, lower);
    CHECK(pake_fingerprint_from_sdp(out, sdp, strlen(sdp)) > 0 && !strcmp(out, FP_A));
    /* two distinct: refused, at one level or across both */
    snprintf(sdp, sizeof sdp, "%s%s%s\r\n%s\r\n", head, m, fp_line, other);
    CHECK_EQ_INT(pake_fingerprint_from_sdp(out, sdp, strlen(sdp)), PAKE_E_FINGERPRINT);
    CHECK_EQ_STR(out, "");
    snprintf(sdp, sizeof sdp, "%s%s\r\n%s%s\r\n", head, other, m, fp_line);
    CHECK_EQ_INT(pake_fingerprint_from_sdp(out, sdp, strlen(sdp)), PAKE_E_FINGERPRINT);
    /* a sha-256 next to a sha-1: refused (RFC 8122 allows it; we never choose) */
    snprintf(sdp, sizeof sdp,
             "%s%s%s\r\na=fingerprint:sha-1 "
             "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01\r\n",
             head, m, fp_line);
    CHECK_EQ_INT(pake_fingerprint_from_sdp(out, sdp, strlen(sdp)), PAKE_E_FINGERPRINT);
    /* none */
    snprintf(sdp, sizeof sdp, "%s%sa=setup:actpass\r\n", head, m);
    CHECK_EQ_INT(pake_fingerprint_from_sdp(out, sdp, strlen(sdp)), PAKE_E_FINGERPRINT);
    CHECK_EQ_INT(pake_fingerprint_from_sdp(out, "", 0), PAKE_E_FINGERPRINT);
    /* a malformed digest */
    snprintf(sdp, sizeof sdp, "%s%sa=fingerprint:sha-256 6B:8B\r\n", head, m);
    CHECK_EQ_INT(pake_fingerprint_from_sdp(out, sdp, strlen(sdp)), PAKE_E_FINGERPRINT);
    /* through a guard page, the attribute at the very end */
    snprintf(sdp, sizeof sdp, "%s%s%s", head, m, fp_line);
    guarded g = guard_copy(sdp, strlen(sdp));
    CHECK(pake_fingerprint_from_sdp(out, (const char *)g.data, strlen(sdp)) > 0 &&
          !strcmp(out, FP_A));
    guard_free(&g);
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    test_honest();
    test_first_message_refused();
    test_hello_mid_run();
    test_oversized();
    test_peer_error();
    test_wrong_password();
    test_deadline();
    test_abort();
    test_no_fingerprint();
    test_fingerprint_from_sdp();
    return CHECK_DONE();
}
