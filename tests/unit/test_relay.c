/* test_relay.c: each rule of a relayed offer/answer/ice-candidate payload
 * (src/rooms/relay.h), its refusal reason, and the bytes relayed. */
#include <stdio.h>
#include <string.h>

#include "../../src/base/limits.h"
#include "../../src/rooms/relay.h"
#include "check.h"

#define T "\"targetSocketId\":\"abcdefghijklmnopqrst\""

static int check(relay_kind kind, const char *payload)
{
    relay_msg m;
    return relay_check(kind, payload, strlen(payload), &m);
}

/* What `write` appends for an accepted payload, as text ("" if refused). */
static const char *written(relay_kind kind, const char *payload,
                           int (*write)(const relay_msg *, pd_buf *))
{
    static char out[1024];
    relay_msg m;
    pd_buf b;
    pd_buf_init(&b, sizeof out - 1);
    out[0] = '\0';
    if (relay_check(kind, payload, strlen(payload), &m) == RELAY_OK && write(&m, &b) == PD_BUF_OK &&
        b.len > 0) {
        memcpy(out, b.data, b.len);
        out[b.len] = '\0';
    }
    pd_buf_reset(&b);
    return out;
}

/* The value relayed for an accepted payload, as text. */
static const char *relayed(relay_kind kind, const char *payload)
{
    return written(kind, payload, relay_write_value);
}

/* The lane relayed after "from" (docs/signaling.md, Lanes), as text. */
static const char *lane_of(relay_kind kind, const char *payload)
{
    return written(kind, payload, relay_write_lane);
}

/* sdp as an RTCSessionDescriptionInit, what JSON.stringify(pc.localDescription)
 * gives (issue 13): relayed as an object with only type and sdp */
static void test_description(void)
{
    relay_msg m;
    const char *d = "{" T ",\"sdp\":{\"type\":\"offer\",\"sdp\":\"v=0\\r\\n\"}}";
    CHECK_EQ_INT(relay_check(RELAY_OFFER, d, strlen(d), &m), RELAY_OK);
    CHECK(m.described);
    CHECK_EQ_INT(m.value.str_len, 5);
    CHECK_EQ_STR(relayed(RELAY_OFFER, d), "{\"type\":\"offer\",\"sdp\":\"v=0\\r\\n\"}");
    /* members in any order; others are not relayed */
    CHECK_EQ_STR(
        relayed(RELAY_ANSWER, "{" T ",\"sdp\":{\"x\":[1],\"sdp\":\"s\",\"type\":\"answer\"}}"),
        "{\"type\":\"answer\",\"sdp\":\"s\"}");
    /* a string stays a string */
    const char *plain = "{" T ",\"sdp\":\"s\"}";
    CHECK_EQ_INT(relay_check(RELAY_OFFER, plain, strlen(plain), &m), RELAY_OK);
    CHECK(!m.described);
    /* type: the event's own */
    CHECK_EQ_INT(check(RELAY_OFFER, "{" T ",\"sdp\":{\"type\":\"answer\",\"sdp\":\"s\"}}"),
                 RELAY_E_SDP_TYPE);
    CHECK_EQ_INT(check(RELAY_ANSWER, "{" T ",\"sdp\":{\"type\":\"pranswer\",\"sdp\":\"s\"}}"),
                 RELAY_E_SDP_TYPE);
    CHECK_EQ_INT(check(RELAY_OFFER, "{" T ",\"sdp\":{\"sdp\":\"s\"}}"), RELAY_E_SDP_TYPE);
    CHECK_EQ_INT(check(RELAY_OFFER, "{" T ",\"sdp\":{\"type\":null,\"sdp\":\"s\"}}"),
                 RELAY_E_SDP_TYPE);
    CHECK_EQ_INT(check(RELAY_OFFER, "{" T ",\"sdp\":{}}"), RELAY_E_SDP_TYPE);
    /* its sdp: a string of 1..PD_MAX_SDP bytes */
    CHECK_EQ_INT(check(RELAY_OFFER, "{" T ",\"sdp\":{\"type\":\"offer\"}}"), RELAY_E_SDP);
    CHECK_EQ_INT(check(RELAY_OFFER, "{" T ",\"sdp\":{\"type\":\"offer\",\"sdp\":\"\"}}"),
                 RELAY_E_SDP);
    CHECK_EQ_INT(check(RELAY_OFFER, "{" T ",\"sdp\":{\"type\":\"offer\",\"sdp\":{}}}"),
                 RELAY_E_SDP);
    static char big[PD_MAX_SDP + 128];
    int n = snprintf(big, sizeof big, "{" T ",\"sdp\":{\"type\":\"offer\",\"sdp\":\"");
    memset(big + n, 'a', PD_MAX_SDP);
    strcpy(big + n + PD_MAX_SDP, "\"}}");
    CHECK_EQ_INT(check(RELAY_OFFER, big), RELAY_OK);
    big[n + PD_MAX_SDP] = 'a';
    strcpy(big + n + PD_MAX_SDP + 1, "\"}}");
    CHECK_EQ_INT(check(RELAY_OFFER, big), RELAY_E_SDP);
    /* an escaped type or member name, a member twice: the full path decides */
    CHECK_EQ_INT(check(RELAY_OFFER, "{" T ",\"sdp\":{\"type\":\"\\u006ffer\",\"sdp\":\"s\"}}"),
                 RELAY_E_UNSURE);
    CHECK_EQ_INT(check(RELAY_OFFER, "{" T ",\"sdp\":{\"\\u0074ype\":\"offer\",\"sdp\":\"s\"}}"),
                 RELAY_E_UNSURE);
    CHECK_EQ_INT(
        check(RELAY_OFFER, "{" T ",\"sdp\":{\"type\":\"offer\",\"sdp\":\"s\",\"sdp\":\"t\"}}"),
        RELAY_E_UNSURE);
}

static void test_offer_answer(void)
{
    relay_msg m;
    const char *ok = "{" T ",\"sdp\":\"v=0\\r\\n\",\"extra\":[1,{\"a\":null}]}";
    CHECK_EQ_INT(relay_check(RELAY_OFFER, ok, strlen(ok), &m), RELAY_OK);
    CHECK_EQ_MEM(m.target, m.target_len, "abcdefghijklmnopqrst", 20);
    CHECK(m.target_plain);
    CHECK_EQ_STR(relayed(RELAY_ANSWER, ok), "\"v=0\\r\\n\"");
    /* escapes in values are read (lengths decoded) and relayed as written */
    const char *u = "{" T ",\"sdp\":\"\\u0001\\u00e9\"}";
    CHECK_EQ_INT(relay_check(RELAY_OFFER, u, strlen(u), &m), RELAY_OK);
    CHECK_EQ_INT(m.value.str_len, 3);
    CHECK_EQ_STR(relayed(RELAY_OFFER, u), "\"\\u0001\\u00e9\"");

    CHECK_EQ_INT(check(RELAY_ICE, ""), RELAY_E_UNSURE); /* nothing scanned (fuzz_relay) */
    CHECK_EQ_INT(check(RELAY_OFFER, "[]"), RELAY_E_NOT_OBJECT);
    CHECK_EQ_INT(check(RELAY_OFFER, "null"), RELAY_E_NOT_OBJECT);
    CHECK_EQ_INT(check(RELAY_OFFER, "\"sdp\""), RELAY_E_NOT_OBJECT);
    /* targetSocketId: a string of 1..40 bytes */
    CHECK_EQ_INT(check(RELAY_OFFER, "{\"sdp\":\"x\"}"), RELAY_E_TARGET);
    CHECK_EQ_INT(check(RELAY_OFFER, "{\"targetSocketId\":\"\",\"sdp\":\"x\"}"), RELAY_E_TARGET);
    CHECK_EQ_INT(check(RELAY_OFFER, "{\"targetSocketId\":7,\"sdp\":\"x\"}"), RELAY_E_TARGET);
    CHECK_EQ_INT(check(RELAY_OFFER, "{\"targetSocketId\":\"0123456789012345678901234567890123456789"
                                    "0\",\"sdp\":\"x\"}"),
                 RELAY_E_TARGET);
    CHECK_EQ_INT(check(RELAY_OFFER, "{\"targetSocketId\":\"0123456789012345678901234567890123456789"
                                    "\",\"sdp\":\"x\"}"),
                 RELAY_OK);
    /* an escaped id is accepted but cannot be a socket id */
    const char *esc = "{\"targetSocketId\":\"a\\\"b\",\"sdp\":\"x\"}";
    CHECK_EQ_INT(relay_check(RELAY_OFFER, esc, strlen(esc), &m), RELAY_OK);
    CHECK(!m.target_plain);
    /* sdp: a string of 1..PD_MAX_SDP bytes */
    CHECK_EQ_INT(check(RELAY_OFFER, "{" T "}"), RELAY_E_SDP);
    CHECK_EQ_INT(check(RELAY_OFFER, "{" T ",\"sdp\":\"\"}"), RELAY_E_SDP);
    CHECK_EQ_INT(check(RELAY_ANSWER, "{" T ",\"sdp\":{\"type\":\"offer\"}}"), RELAY_E_SDP_TYPE);
    CHECK_EQ_INT(check(RELAY_OFFER, "{" T ",\"sdp\":null}"), RELAY_E_SDP);
    static char big[PD_MAX_SDP + 128];
    int n = snprintf(big, sizeof big, "{" T ",\"sdp\":\"");
    memset(big + n, 'a', PD_MAX_SDP);
    strcpy(big + n + PD_MAX_SDP, "\"}");
    CHECK_EQ_INT(check(RELAY_OFFER, big), RELAY_OK);
    big[n + PD_MAX_SDP] = 'a';
    strcpy(big + n + PD_MAX_SDP + 1, "\"}");
    CHECK_EQ_INT(check(RELAY_OFFER, big), RELAY_E_SDP);
    /* outside the scanned subset, or a member given twice: unsure */
    CHECK_EQ_INT(check(RELAY_OFFER, "{ " T ",\"sdp\":\"x\"}"), RELAY_E_UNSURE);
    CHECK_EQ_INT(check(RELAY_OFFER, "{\"targetSocketId\":\"a\",\"\\u0073dp\":\"x\"}"),
                 RELAY_E_UNSURE);
    CHECK_EQ_INT(
        check(RELAY_ICE, "{" T ",\"candidate\":{\"candidate\":\"c\",\"\\u0063andidate\":1}}"),
        RELAY_E_UNSURE);
    CHECK_EQ_INT(check(RELAY_OFFER, "{" T ",\"sdp\":\"x\",\"t\":1.5}"), RELAY_E_UNSURE);
    CHECK_EQ_INT(check(RELAY_OFFER, "{" T ",\"sdp\":\"x\",\"sdp\":\"y\"}"), RELAY_E_UNSURE);
    CHECK_EQ_INT(check(RELAY_OFFER, "{" T "," T ",\"sdp\":\"x\"}"), RELAY_E_UNSURE);
    CHECK_EQ_INT(check(RELAY_OFFER, "{" T ",\"sdp\":\"x\"} "), RELAY_E_UNSURE);
}

static void test_candidate(void)
{
    CHECK_EQ_STR(relayed(RELAY_ICE, "{" T ",\"candidate\":null}"), "null");
    /* known fields only, in a fixed order */
    CHECK_EQ_STR(relayed(RELAY_ICE, "{" T ",\"candidate\":{\"x\":1,\"usernameFragment\":\"u\","
                                    "\"sdpMLineIndex\":0,\"candidate\":\"c\",\"sdpMid\":\"0\"}}"),
                 "{\"candidate\":\"c\",\"sdpMid\":\"0\",\"sdpMLineIndex\":0,\"usernameFragment\":"
                 "\"u\"}");
    CHECK_EQ_STR(relayed(RELAY_ICE, "{" T ",\"candidate\":{\"candidate\":\"\",\"sdpMid\":null}}"),
                 "{\"candidate\":\"\",\"sdpMid\":null}");
    CHECK_EQ_INT(check(RELAY_ICE, "{" T "}"), RELAY_E_CANDIDATE);
    CHECK_EQ_INT(check(RELAY_ICE, "{" T ",\"candidate\":\"candidate:1\"}"), RELAY_E_CANDIDATE);
    CHECK_EQ_INT(check(RELAY_ICE, "{" T ",\"candidate\":[]}"), RELAY_E_CANDIDATE);
    CHECK_EQ_INT(check(RELAY_ICE, "{" T ",\"candidate\":{}}"), RELAY_E_CANDIDATE_TEXT);
    CHECK_EQ_INT(check(RELAY_ICE, "{" T ",\"candidate\":{\"candidate\":null}}"),
                 RELAY_E_CANDIDATE_TEXT);
    static char big[PD_MAX_CANDIDATE + 128];
    int n = snprintf(big, sizeof big, "{" T ",\"candidate\":{\"candidate\":\"");
    memset(big + n, 'a', PD_MAX_CANDIDATE + 1);
    strcpy(big + n + PD_MAX_CANDIDATE + 1, "\"}}");
    CHECK_EQ_INT(check(RELAY_ICE, big), RELAY_E_CANDIDATE_TEXT);
    char mid[400];
    snprintf(mid, sizeof mid, "{" T ",\"candidate\":{\"candidate\":\"c\",\"sdpMid\":\"%0257d\"}}",
             0);
    CHECK_EQ_INT(check(RELAY_ICE, mid), RELAY_E_SDP_MID);
    snprintf(mid, sizeof mid, "{" T ",\"candidate\":{\"candidate\":\"c\",\"sdpMid\":\"%0256d\"}}",
             0);
    CHECK_EQ_INT(check(RELAY_ICE, mid), RELAY_OK);
    CHECK_EQ_INT(check(RELAY_ICE, "{" T ",\"candidate\":{\"candidate\":\"c\",\"sdpMid\":0}}"),
                 RELAY_E_SDP_MID);
    CHECK_EQ_INT(
        check(RELAY_ICE, "{" T ",\"candidate\":{\"candidate\":\"c\",\"sdpMLineIndex\":65535}}"),
        RELAY_OK);
    CHECK_EQ_INT(
        check(RELAY_ICE, "{" T ",\"candidate\":{\"candidate\":\"c\",\"sdpMLineIndex\":65536}}"),
        RELAY_E_MLINE_INDEX);
    CHECK_EQ_INT(
        check(RELAY_ICE, "{" T ",\"candidate\":{\"candidate\":\"c\",\"sdpMLineIndex\":-1}}"),
        RELAY_E_MLINE_INDEX);
    CHECK_EQ_INT(
        check(RELAY_ICE, "{" T ",\"candidate\":{\"candidate\":\"c\",\"sdpMLineIndex\":\"0\"}}"),
        RELAY_E_MLINE_INDEX);
    CHECK_EQ_INT(
        check(RELAY_ICE, "{" T ",\"candidate\":{\"candidate\":\"c\",\"sdpMLineIndex\":null}}"),
        RELAY_OK);
    CHECK_EQ_INT(
        check(RELAY_ICE, "{" T ",\"candidate\":{\"candidate\":\"c\",\"usernameFragment\":true}}"),
        RELAY_E_UFRAG);
    CHECK_EQ_INT(
        check(RELAY_ICE, "{" T ",\"candidate\":{\"candidate\":\"c\",\"candidate\":\"d\"}}"),
        RELAY_E_UNSURE);
    /* the target is checked before the value */
    CHECK_EQ_INT(check(RELAY_ICE, "{\"candidate\":[]}"), RELAY_E_TARGET);
    CHECK(strcmp(relay_strerror(RELAY_E_MLINE_INDEX), "unknown error") != 0);
    CHECK_EQ_STR(relay_strerror(RELAY_OK), "ok");
}

/* lane: an optional integer 0..PD_MAX_LANE on all three events, relayed
 * as given when present, nothing when absent (issue 16) */
static void test_lane(void)
{
    relay_msg m;
    const char *o = "{" T ",\"sdp\":\"s\",\"lane\":3}";
    CHECK_EQ_INT(relay_check(RELAY_OFFER, o, strlen(o), &m), RELAY_OK);
    CHECK(m.have_lane);
    CHECK_EQ_INT(m.lane, 3);
    CHECK_EQ_STR(lane_of(RELAY_OFFER, o), ",\"lane\":3");
    CHECK_EQ_STR(lane_of(RELAY_ANSWER, "{\"lane\":7," T ",\"sdp\":\"s\"}"), ",\"lane\":7");
    CHECK_EQ_STR(lane_of(RELAY_ICE, "{" T ",\"lane\":1,\"candidate\":null}"), ",\"lane\":1");
    CHECK_EQ_STR(lane_of(RELAY_ICE, "{" T ",\"candidate\":{\"candidate\":\"c\"},\"lane\":0}"),
                 ",\"lane\":0");
    /* absent: nothing relayed, the main connection */
    const char *plain = "{" T ",\"sdp\":\"s\"}";
    CHECK_EQ_INT(relay_check(RELAY_OFFER, plain, strlen(plain), &m), RELAY_OK);
    CHECK(!m.have_lane);
    CHECK_EQ_STR(lane_of(RELAY_OFFER, plain), "");
    /* 8..15 since hello.moreLanes (docs/protocol.md §5.10) */
    CHECK_EQ_STR(lane_of(RELAY_OFFER, "{" T ",\"sdp\":\"s\",\"lane\":8}"), ",\"lane\":8");
    CHECK_EQ_STR(lane_of(RELAY_ANSWER, "{" T ",\"sdp\":\"s\",\"lane\":15}"), ",\"lane\":15");
    /* anything but a plain integer 0..15 is refused */
    CHECK_EQ_INT(check(RELAY_OFFER, "{" T ",\"sdp\":\"s\",\"lane\":16}"), RELAY_E_LANE);
    CHECK_EQ_INT(check(RELAY_OFFER, "{" T ",\"sdp\":\"s\",\"lane\":99}"), RELAY_E_LANE);
    CHECK_EQ_INT(check(RELAY_OFFER, "{" T ",\"sdp\":\"s\",\"lane\":100}"), RELAY_E_LANE);
    CHECK_EQ_INT(check(RELAY_OFFER, "{" T ",\"sdp\":\"s\",\"lane\":-1}"), RELAY_E_LANE);
    CHECK_EQ_INT(check(RELAY_ANSWER, "{" T ",\"sdp\":\"s\",\"lane\":\"1\"}"), RELAY_E_LANE);
    CHECK_EQ_INT(check(RELAY_ICE, "{" T ",\"candidate\":null,\"lane\":null}"), RELAY_E_LANE);
    CHECK_EQ_INT(check(RELAY_ICE, "{" T ",\"candidate\":null,\"lane\":true}"), RELAY_E_LANE);
    CHECK_EQ_INT(check(RELAY_ICE, "{" T ",\"candidate\":null,\"lane\":[1]}"), RELAY_E_LANE);
    /* a fraction is outside the scanner's subset: the full path decides */
    CHECK_EQ_INT(check(RELAY_OFFER, "{" T ",\"sdp\":\"s\",\"lane\":1.5}"), RELAY_E_UNSURE);
    /* given twice: jansson keeps the last, so the full path decides */
    CHECK_EQ_INT(check(RELAY_OFFER, "{" T ",\"sdp\":\"s\",\"lane\":1,\"lane\":2}"), RELAY_E_UNSURE);
}

int main(void)
{
    test_lane();
    test_offer_answer();
    test_description();
    test_candidate();
    return CHECK_DONE();
}
