/* test_sdp.c: the SDP codec against a Chromium data-channel offer (the
 * shape Chromium 120+ sends for createDataChannel() alone, JSEP RFC 8829),
 * a Firefox-style session-level fingerprint, split/partial input, bad
 * values, and a write/parse round trip. Inputs sit at the end of a page
 * followed by an inaccessible one, so a read past the end faults. */
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../src/rtc/sdp.h"
#include "check.h"
#include "guard.h"

static int parse_guarded(const char *s, size_t len, sdp_desc *d)
{
    guarded g = guard_copy(s, len);
    int rc = sdp_parse(g.data, len, d);
    /* the views must point into the input; compare while it is mapped */
    guard_free(&g);
    return rc;
}

#define FP_HEX                                                                                     \
    "7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:"   \
    "19:"                                                                                          \
    "08"

static const char chromium_offer[] =
    "v=0\r\n"
    "o=- 4358629512418437891 2 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0\r\n"
    "a=extmap-allow-mixed\r\n"
    "a=msid-semantic: WMS\r\n"
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=candidate:2837135244 1 udp 2113937151 8f7a6f8e-2e0e-4e4b-9d3e-3a6c0f1d2b4c.local 54321 "
    "typ host generation 0 network-cost 999\r\n"
    "a=candidate:1467250027 1 udp 2122260223 127.0.0.1 50123 typ host generation 0 "
    "network-id 1\r\n"
    "a=ice-ufrag:Xq3b\r\n"
    "a=ice-pwd:Kp1Zr9yT4vN8mQ2wLc6sHb0e\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 " FP_HEX "\r\n"
    "a=setup:actpass\r\n"
    "a=mid:0\r\n"
    "a=sctp-port:5000\r\n"
    "a=max-message-size:262144\r\n";

static const uint8_t fp_bytes[32] = {
    0x7B, 0x8B, 0xF0, 0x65, 0x5F, 0x78, 0xE2, 0x51, 0x3B, 0xAC, 0x6F, 0xF3, 0x3F, 0x46, 0x1B, 0x35,
    0xDC, 0xB8, 0x5F, 0x64, 0x1A, 0x24, 0xC2, 0x43, 0xF0, 0xA1, 0x58, 0xD0, 0xA1, 0x2C, 0x19, 0x08};

static void test_chromium_offer(void)
{
    size_t len = sizeof chromium_offer - 1;
    guarded g = guard_copy(chromium_offer, len);
    sdp_desc d;
    CHECK_EQ_INT(sdp_parse(g.data, len, &d), SDP_OK);
    CHECK_EQ_MEM(d.ice_ufrag.p, d.ice_ufrag.len, "Xq3b", 4);
    CHECK_EQ_MEM(d.ice_pwd.p, d.ice_pwd.len, "Kp1Zr9yT4vN8mQ2wLc6sHb0e", 24);
    CHECK(memcmp(d.fingerprint, fp_bytes, 32) == 0);
    CHECK_EQ_INT(d.setup, SDP_SETUP_ACTPASS);
    CHECK_EQ_MEM(d.mid.p, d.mid.len, "0", 1);
    CHECK_EQ_INT(d.sctp_port, 5000);
    CHECK_EQ_INT(d.max_message_size, 262144);
    CHECK(d.ice_trickle);
    CHECK(!d.ice_lite);
    CHECK(!d.end_of_candidates);
    CHECK_EQ_INT(d.candidate_count, 2);
    CHECK(d.candidates[0].len > 10 && memcmp(d.candidates[0].p, "candidate:2837135244 ", 21) == 0);
    CHECK(d.candidates[1].p[d.candidates[1].len - 1] == '1'); /* no CR kept */
    const char *copy = g.data;
    CHECK(d.ice_ufrag.p >= copy && d.ice_ufrag.p < copy + len);

    sdp_candidate c;
    CHECK_EQ_INT(sdp_candidate_parse(d.candidates[0].p, d.candidates[0].len, &c), SDP_OK);
    CHECK(sdp_candidate_is_mdns(&c));
    CHECK_EQ_INT(c.component, 1);
    CHECK_EQ_INT(c.port, 54321);
    CHECK_EQ_INT(c.priority, 2113937151u);
    CHECK_EQ_MEM(c.type.p, c.type.len, "host", 4);
    CHECK_EQ_INT(sdp_candidate_parse(d.candidates[1].p, d.candidates[1].len, &c), SDP_OK);
    CHECK(!sdp_candidate_is_mdns(&c));
    CHECK_EQ_MEM(c.address.p, c.address.len, "127.0.0.1", 9);
    guard_free(&g);

    /* every truncation either parses or fails cleanly, never reads past */
    for (size_t cut = 0; cut < len; cut++) {
        sdp_desc t;
        int rc = parse_guarded(chromium_offer, cut, &t);
        CHECK(rc <= 0);
    }
    /* LF-only line ends (libnice and some signaling layers strip CR) */
    char lf[sizeof chromium_offer];
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (chromium_offer[i] != '\r') lf[n++] = chromium_offer[i];
    CHECK_EQ_INT(parse_guarded(lf, n, &d), SDP_OK);
}

static void test_session_level_and_defaults(void)
{
    /* Firefox puts the fingerprint at session level; no max-message-size
     * means 64 KiB (RFC 8841 §6); a sha-1 line next to the sha-256 is fine. */
    static const char s[] = "v=0\no=mozilla 1 0 IN IP4 0.0.0.0\ns=-\nt=0 0\n"
                            "a=fingerprint:sha-1 00:11\n"
                            "a=fingerprint:sha-256 " FP_HEX "\n"
                            "a=ice-ufrag:abcd\na=ice-pwd:0123456789012345678901\n"
                            "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\n"
                            "a=setup:active\na=mid:data\na=end-of-candidates\n";
    sdp_desc d;
    CHECK_EQ_INT(parse_guarded(s, sizeof s - 1, &d), SDP_OK);
    CHECK_EQ_INT(d.max_message_size, 65536);
    CHECK_EQ_INT(d.sctp_port, 5000);
    CHECK_EQ_INT(d.setup, SDP_SETUP_ACTIVE);
    CHECK(d.end_of_candidates);
    CHECK(!d.ice_trickle);
}

static void test_rejects(void)
{
    static const char *const bad[] = {
        /* not v=0 first */
        "o=- 1 1 IN IP4 0.0.0.0\r\nv=0\r\n",
        /* audio only */
        "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n",
        /* rejected section */
        "v=0\r\nm=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\n",
        /* old DTLS/SCTP form */
        "v=0\r\nm=application 9 DTLS/SCTP 5000\r\n",
        /* two m-sections */
        "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n",
        /* short ufrag */
        "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=ice-ufrag:abc\r\n"
        "a=ice-pwd:0123456789012345678901\r\na=fingerprint:sha-256 " FP_HEX "\r\n",
        /* ufrag with a space would break the ICE agent's parser */
        "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=ice-ufrag:ab d\r\n"
        "a=ice-pwd:0123456789012345678901\r\na=fingerprint:sha-256 " FP_HEX "\r\n",
        /* fingerprint too short */
        "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=ice-ufrag:abcd\r\n"
        "a=ice-pwd:0123456789012345678901\r\na=fingerprint:sha-256 7B:8B\r\n",
        /* no fingerprint */
        "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=ice-ufrag:abcd\r\n"
        "a=ice-pwd:0123456789012345678901\r\n",
        /* holdconn */
        "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=ice-ufrag:abcd\r\n"
        "a=ice-pwd:0123456789012345678901\r\na=fingerprint:sha-256 " FP_HEX "\r\n"
        "a=setup:holdconn\r\n",
        /* sctp-port out of range */
        "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=ice-ufrag:abcd\r\n"
        "a=ice-pwd:0123456789012345678901\r\na=fingerprint:sha-256 " FP_HEX "\r\n"
        "a=sctp-port:70000\r\n",
        "",
        "v=1\r\n",
        "garbage",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = strlen(bad[i]);
        sdp_desc d;
        int rc = parse_guarded(bad[i], len, &d);
        if (rc >= 0) fprintf(stderr, "bad[%zu] accepted\n", i);
        CHECK(rc < 0);
    }
    /* a NUL inside a line */
    static const char nul[] =
        "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:\0x\r\n";
    sdp_desc dn;
    CHECK_EQ_INT(parse_guarded(nul, sizeof nul - 1, &dn), SDP_E_SYNTAX);
    char *big = calloc(1, 70000);
    memcpy(big, "v=0\r\n", 5);
    memset(big + 5, 'x', 70000 - 5);
    sdp_desc d;
    CHECK_EQ_INT(sdp_parse(big, 70000, &d), SDP_E_TOO_BIG);
    free(big);
}

static void test_write_round_trip(void)
{
    const char *cands[] = {"candidate:1 1 UDP 2015363327 127.0.0.1 40000 typ host"};
    sdp_local l = {
        .session_id = 0xffffffffffffffffull,
        .ice_ufrag = "uF9x",
        .ice_pwd = "abcdefghijklmnopqrstuv+/",
        .setup = SDP_SETUP_ACTPASS,
        .mid = "0",
        .sctp_port = 5000,
        .max_message_size = 262144,
        .candidates = cands,
        .candidate_count = 1,
        .end_of_candidates = true,
    };
    memcpy(l.fingerprint, fp_bytes, 32);
    char out[2048];
    int n = sdp_write(&l, out, sizeof out);
    CHECK(n > 0);
    CHECK_EQ_INT(strlen(out), n);
    CHECK(strstr(out, "a=fingerprint:sha-256 " FP_HEX "\r\n") != NULL);
    CHECK(strstr(out, "o=- 9223372036854775807 2 IN IP4") != NULL);
    sdp_desc d;
    CHECK_EQ_INT(sdp_parse(out, (size_t)n, &d), SDP_OK);
    CHECK_EQ_MEM(d.ice_pwd.p, d.ice_pwd.len, l.ice_pwd, strlen(l.ice_pwd));
    CHECK(memcmp(d.fingerprint, fp_bytes, 32) == 0);
    CHECK_EQ_INT(d.candidate_count, 1);
    CHECK(d.end_of_candidates);

    /* every short buffer reports NOSPACE, never overflows */
    for (size_t cap = 1; cap < (size_t)n + 1; cap += 7)
        CHECK_EQ_INT(sdp_write(&l, out, cap), SDP_E_NOSPACE);
    CHECK_EQ_INT(sdp_write(&l, out, (size_t)n + 1), n);

    /* CR/LF injection through a candidate or bad credentials */
    const char *evil[] = {"candidate:1 1 UDP 1 1.2.3.4 1 typ host\r\na=setup:passive"};
    l.candidates = evil;
    CHECK_EQ_INT(sdp_write(&l, out, sizeof out), SDP_E_CANDIDATE);
    l.candidate_count = 0;
    l.ice_pwd = "short";
    CHECK_EQ_INT(sdp_write(&l, out, sizeof out), SDP_E_ICE);
}

static void test_candidates(void)
{
    sdp_candidate c;
    const char *ok = "a=candidate:842163049 1 udp 1677729535 203.0.113.7 61000 typ srflx raddr "
                     "0.0.0.0 rport 0 generation 0\r\n";
    CHECK_EQ_INT(sdp_candidate_parse(ok, strlen(ok), &c), SDP_OK);
    CHECK_EQ_MEM(c.type.p, c.type.len, "srflx", 5);
    CHECK_EQ_INT(c.port, 61000);
    const char *bad[] = {"candidate:",
                         "candidate:1 0 udp 1 1.2.3.4 5 typ host",
                         "candidate:1 1 udp 1 1.2.3.4 70000 typ host",
                         "candidate:1 1 udp 99999999999 1.2.3.4 5 typ host",
                         "candidate:1 1 udp 1 1.2.3.4 5 type host",
                         "cand:1 1 udp 1 a 5 typ host",
                         "candidate:1 1 udp 1 1.2.3.4 5 typ"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        guarded g = guard_copy(bad[i], strlen(bad[i]));
        CHECK(sdp_candidate_parse(g.data, strlen(bad[i]), &c) < 0);
        guard_free(&g);
    }
    uint8_t fp[32];
    CHECK(!sdp_fingerprint_parse("7B:8B", 5, fp));
    CHECK(sdp_fingerprint_parse(FP_HEX, strlen(FP_HEX), fp));
    char txt[96];
    sdp_fingerprint_format(fp, txt);
    CHECK_EQ_STR(txt, FP_HEX);
}

int main(void)
{
    test_chromium_offer();
    test_session_level_and_defaults();
    test_rejects();
    test_write_round_trip();
    test_candidates();
    return CHECK_DONE();
}
