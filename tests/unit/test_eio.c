/* test_eio.c: Engine.IO v4 codec against the wire forms in
 * docs notes socketio-protocol.md section 2 (verified on engine.io 6.6.12).
 * Inputs sit at the end of a page followed by an inaccessible one, so any
 * read past the end faults even without ASan. */
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../src/base/base64.h"
#include "../../src/eio/eio.h"
#include "check.h"
#include "guard.h"

/* ---- guard-page copies (picohttpparser test.c idea) ---- */

#define S(lit) (const uint8_t *)(lit), sizeof(lit) - 1

/* ---- packets ---- */

static void test_parse_text_types(void)
{
    static const char *const wire[] = {"0", "1", "2", "3", "4", "5", "6"};
    for (int t = 0; t <= 6; t++) {
        guarded g = guard_copy(wire[t], 1);
        eio_packet p;
        CHECK_EQ_INT(eio_packet_parse_text(g.data, 1, &p), 0);
        CHECK_EQ_INT(p.type, t);
        CHECK(!p.binary);
        CHECK_EQ_INT(p.len, 0);
        guard_free(&g);
    }
}

static void test_parse_text_data(void)
{
    eio_packet p;
    guarded g = guard_copy("4hello", 6);
    CHECK_EQ_INT(eio_packet_parse_text(g.data, 6, &p), 0);
    CHECK_EQ_INT(p.type, EIO_MESSAGE);
    CHECK_EQ_MEM(p.data, p.len, "hello", 5);
    guard_free(&g);

    g = guard_copy("2probe", 6);
    CHECK_EQ_INT(eio_packet_parse_text(g.data, 6, &p), 0);
    CHECK_EQ_INT(p.type, EIO_PING);
    CHECK_EQ_MEM(p.data, p.len, "probe", 5);
    guard_free(&g);

    CHECK_EQ_INT(eio_packet_parse_text(S("3probe"), &p), 0);
    CHECK_EQ_INT(p.type, EIO_PONG);
    CHECK_EQ_INT(eio_packet_parse_text(S("40{\"token\":\"abc\"}"), &p), 0);
    CHECK_EQ_MEM(p.data, p.len, "0{\"token\":\"abc\"}", 16);
}

static void test_parse_text_errors(void)
{
    eio_packet p;
    CHECK_EQ_INT(eio_packet_parse_text(S(""), &p), EIO_E_SYNTAX);
    CHECK_EQ_INT(eio_packet_parse_text(NULL, 0, &p), EIO_E_SYNTAX);
    CHECK_EQ_INT(eio_packet_parse_text(S("7"), &p), EIO_E_SYNTAX);
    CHECK_EQ_INT(eio_packet_parse_text(S("abc"), &p), EIO_E_SYNTAX);
    CHECK_EQ_INT(eio_packet_parse_text(S("/4"), &p), EIO_E_SYNTAX);
    /* "b" is only meaningful inside a polling payload */
    CHECK_EQ_INT(eio_packet_parse_text(S("bAQID"), &p), EIO_E_SYNTAX);
    CHECK_EQ_INT(eio_packet_parse_text(S("4"), NULL), EIO_E_SYNTAX);
}

/* ---- payloads ---- */

/* Splits `in` and joins the records with '|' for an easy comparison. */
static int split_joined(const uint8_t *in, size_t len, char *out, size_t cap)
{
    size_t pos = 0, o = 0;
    const uint8_t *rec;
    size_t rec_len;
    int n = 0;
    while (eio_payload_next(in, len, &pos, &rec, &rec_len)) {
        if (n++) out[o++] = '|';
        if (o + rec_len + 2 > cap) return -1;
        memcpy(out + o, rec, rec_len);
        o += rec_len;
    }
    out[o] = '\0';
    /* and it stays at the end */
    CHECK_EQ_INT(eio_payload_next(in, len, &pos, &rec, &rec_len), 0);
    return n;
}

static void test_payload_split(void)
{
    char j[128];
    guarded g = guard_copy("4hello\x1e"
                           "bAQIDBA==",
                           16);
    CHECK_EQ_INT(split_joined(g.data, 16, j, sizeof j), 2);
    CHECK_EQ_STR(j, "4hello|bAQIDBA==");
    guard_free(&g);

    /* the c4 response of the upgrade trace */
    static const char c4[] = "40{\"sid\":\"abc\"}\x1e"
                             "42[\"welcome\",\"hi\",{\"n\":1}]";
    CHECK_EQ_INT(split_joined(S(c4), j, sizeof j), 2);
    CHECK_EQ_STR(j, "40{\"sid\":\"abc\"}|42[\"welcome\",\"hi\",{\"n\":1}]");

    CHECK_EQ_INT(split_joined(S("1"), j, sizeof j), 1);
    CHECK_EQ_STR(j, "1");
    /* String.split semantics: empty records are reported, not skipped */
    CHECK_EQ_INT(split_joined(S(""), j, sizeof j), 1);
    CHECK_EQ_STR(j, "");
    CHECK_EQ_INT(split_joined(NULL, 0, j, sizeof j), 1);
    CHECK_EQ_INT(split_joined(S("4a\x1e\x1e"), j, sizeof j), 3);
    CHECK_EQ_STR(j, "4a||");
    CHECK_EQ_INT(split_joined(S("4a\x1e"), j, sizeof j), 2);
    CHECK_EQ_INT(split_joined(S("\x1e"
                                "4a"),
                              j, sizeof j),
                 2);
    CHECK_EQ_STR(j, "|4a");
    CHECK_EQ_INT(split_joined(S("2\x1e"
                                "3\x1e"
                                "4x\x1e"
                                "6"),
                              j, sizeof j),
                 4);
    CHECK_EQ_STR(j, "2|3|4x|6");
}

static void test_record_parse(void)
{
    uint8_t scratch[64];
    eio_packet p;
    guarded g = guard_copy("bAQIDBA==", 9);
    CHECK_EQ_INT(eio_record_parse(g.data, 9, scratch, &p), 0);
    CHECK_EQ_INT(p.type, EIO_MESSAGE);
    CHECK(p.binary);
    CHECK_EQ_MEM(p.data, p.len, "\x01\x02\x03\x04", 4);
    guard_free(&g);

    /* client -> server binary from the notes: 0xde 0xad */
    CHECK_EQ_INT(eio_record_parse(S("b3q0="), scratch, &p), 0);
    CHECK_EQ_MEM(p.data, p.len, "\xde\xad", 2);
    CHECK_EQ_INT(eio_record_parse(S("b3q0"), scratch, &p), 0); /* unpadded, as Node accepts */
    CHECK_EQ_MEM(p.data, p.len, "\xde\xad", 2);
    CHECK_EQ_INT(eio_record_parse(S("b"), scratch, &p), 0);
    CHECK(p.binary);
    CHECK_EQ_INT(p.len, 0);

    CHECK_EQ_INT(eio_record_parse(S("4hello"), scratch, &p), 0);
    CHECK(!p.binary);
    CHECK_EQ_MEM(p.data, p.len, "hello", 5);

    CHECK_EQ_INT(eio_record_parse(S("b!!!!"), scratch, &p), EIO_E_SYNTAX);
    CHECK_EQ_INT(eio_record_parse(S("bA"), scratch, &p), EIO_E_SYNTAX);
    CHECK_EQ_INT(eio_record_parse(S(""), scratch, &p), EIO_E_SYNTAX);
    CHECK_EQ_INT(eio_record_parse(S("abc"), scratch, &p), EIO_E_SYNTAX);
    CHECK_EQ_INT(eio_record_parse(S("bAQID"), NULL, &p), EIO_E_SYNTAX);
}

static void test_payload_append(void)
{
    pd_buf b;
    pd_buf_init(&b, 1024);
    eio_packet text = {EIO_MESSAGE, false, (const uint8_t *)"hello", 5};
    eio_packet bin = {EIO_MESSAGE, true, (const uint8_t *)"\x01\x02\x03\x04", 4};
    eio_packet noop = {EIO_NOOP, false, NULL, 0};
    CHECK_EQ_INT(eio_payload_append(&b, &text), 0);
    CHECK_EQ_INT(eio_payload_append(&b, &bin), 0);
    CHECK_EQ_MEM(b.data, b.len,
                 "4hello\x1e"
                 "bAQIDBA==",
                 16);
    CHECK_EQ_INT(eio_payload_append(&b, &noop), 0);
    CHECK_EQ_MEM(b.data, b.len,
                 "4hello\x1e"
                 "bAQIDBA==\x1e"
                 "6",
                 18);
    pd_buf_reset(&b);

    /* a single packet gets no separator */
    CHECK_EQ_INT(eio_payload_append(&b, &noop), 0);
    CHECK_EQ_MEM(b.data, b.len, "6", 1);
    pd_buf_reset(&b);
    eio_packet empty_bin = {EIO_MESSAGE, true, NULL, 0};
    CHECK_EQ_INT(eio_payload_append(&b, &empty_bin), 0);
    CHECK_EQ_MEM(b.data, b.len, "b", 1);
    pd_buf_reset(&b);

    /* rejected: binary non-message, 0x1e inside text, bad type */
    eio_packet bin_ping = {EIO_PING, true, (const uint8_t *)"x", 1};
    eio_packet sep = {EIO_MESSAGE, false,
                      (const uint8_t *)"a\x1e"
                                       "b",
                      3};
    eio_packet bad = {(eio_type)7, false, NULL, 0};
    CHECK_EQ_INT(eio_payload_append(&b, &bin_ping), EIO_E_SYNTAX);
    CHECK_EQ_INT(eio_payload_append(&b, &sep), EIO_E_SYNTAX);
    CHECK_EQ_INT(eio_payload_append(&b, &bad), EIO_E_SYNTAX);
    CHECK_EQ_INT(eio_payload_append(NULL, &text), EIO_E_SYNTAX);
    CHECK_EQ_INT(b.len, 0);

    /* the ceiling: all or nothing */
    pd_buf small;
    pd_buf_init(&small, 8);
    CHECK_EQ_INT(eio_payload_append(&small, &text), 0); /* 6 bytes */
    CHECK_EQ_INT(eio_payload_append(&small, &noop), 0); /* +2 = 8 */
    CHECK_EQ_INT(eio_payload_append(&small, &noop), EIO_E_TOO_BIG);
    CHECK_EQ_MEM(small.data, small.len,
                 "4hello\x1e"
                 "6",
                 8);
    pd_buf_reset(&small);
    CHECK_EQ_INT(eio_payload_append(&small, &bin), EIO_E_TOO_BIG); /* "b" + 8 = 9 > 8 */
    pd_buf_reset(&small);
}

/* Whatever append writes, split + record_parse read back. */
static void test_payload_round_trip(void)
{
    uint8_t raw[256];
    for (int i = 0; i < 256; i++)
        raw[i] = (uint8_t)i;
    pd_buf b;
    pd_buf_init(&b, 4096);
    for (size_t n = 0; n < 8; n++) {
        eio_packet bin = {EIO_MESSAGE, true, raw, n * 31};
        eio_packet txt = {EIO_MESSAGE, false, (const uint8_t *)"42[\"x\"]", 7};
        CHECK_EQ_INT(eio_payload_append(&b, &bin), 0);
        CHECK_EQ_INT(eio_payload_append(&b, &txt), 0);
    }
    size_t pos = 0, count = 0;
    const uint8_t *rec;
    size_t rec_len;
    uint8_t scratch[PD_BASE64_DECODED_MAX(512)];
    while (eio_payload_next(b.data, b.len, &pos, &rec, &rec_len)) {
        eio_packet p;
        CHECK_EQ_INT(eio_record_parse(rec, rec_len, scratch, &p), 0);
        CHECK_EQ_INT(p.type, EIO_MESSAGE);
        if (count % 2 == 0) {
            CHECK(p.binary);
            CHECK_EQ_MEM(p.data, p.len, raw, count / 2 * 31);
        } else {
            CHECK_EQ_MEM(p.data, p.len, "42[\"x\"]", 7);
        }
        count++;
    }
    CHECK_EQ_INT(count, 16);
    pd_buf_reset(&b);
}

/* ---- handshake ---- */

static void test_open_json(void)
{
    char out[256];
    static const char want[] = "{\"sid\":\"79Gld8d1EKnU1hUxAAAA\",\"upgrades\":[\"websocket\"],"
                               "\"pingInterval\":300,\"pingTimeout\":200,\"maxPayload\":1000000}";
    int n = eio_open_json(out, sizeof out, "79Gld8d1EKnU1hUxAAAA", true, 300, 200, 1000000);
    CHECK_EQ_MEM(out, n, want, sizeof want - 1);
    /* the notes' Content-Length 114 is '0' + this JSON */
    CHECK_EQ_INT(n + 1, 114);
    CHECK_EQ_INT(out[n], '\0');

    n = eio_open_json(out, sizeof out, "S", false, 25000, 20000, 1000000);
    CHECK_EQ_STR(out, "{\"sid\":\"S\",\"upgrades\":[],\"pingInterval\":25000,\"pingTimeout\":20000,"
                      "\"maxPayload\":1000000}");

    /* exactly fitting (with the NUL) works, one byte less does not */
    n = eio_open_json(out, sizeof out, "S", false, 1, 2, 3);
    CHECK(n > 0);
    CHECK_EQ_INT(eio_open_json(out, (size_t)n + 1, "S", false, 1, 2, 3), n);
    CHECK_EQ_INT(eio_open_json(out, (size_t)n, "S", false, 1, 2, 3), -1);
    CHECK_EQ_INT(eio_open_json(out, 0, "S", false, 1, 2, 3), -1);
    CHECK_EQ_INT(eio_open_json(out, sizeof out, NULL, false, 1, 2, 3), -1);

    /* a sid is escaped as JSON.stringify would */
    n = eio_open_json(out, sizeof out, "a\"b\\c\x01", false, 1, 2, 3);
    CHECK(n > 0);
    CHECK(strstr(out, "\"sid\":\"a\\\"b\\\\c\\u0001\"") != NULL);
}

/* ---- query ---- */

static eio_http_error query(const char *q, eio_query *out)
{
    guarded g = guard_copy(q, strlen(q));
    eio_http_error r = eio_query_parse((const char *)g.data, strlen(q), out);
    /* sid points into the guarded copy: compare before freeing */
    static char sid[64];
    sid[0] = '\0';
    if (out->sid && out->sid_len < sizeof sid) {
        memcpy(sid, out->sid, out->sid_len);
        sid[out->sid_len] = '\0';
        out->sid = sid;
    }
    guard_free(&g);
    return r;
}

static void test_query_ok(void)
{
    eio_query q;
    CHECK_EQ_INT(query("EIO=4&transport=polling", &q), EIO_HTTP_OK);
    CHECK_EQ_INT(q.transport, EIO_TRANSPORT_POLLING);
    CHECK(q.sid == NULL);
    CHECK_EQ_INT(query("EIO=4&transport=polling&t=N8hyd6w", &q), EIO_HTTP_OK);
    CHECK_EQ_INT(query("transport=websocket&EIO=4", &q), EIO_HTTP_OK);
    CHECK_EQ_INT(q.transport, EIO_TRANSPORT_WEBSOCKET);
    CHECK_EQ_INT(query("EIO=4&transport=websocket&sid=79Gld8d1EKnU1hUxAAAA", &q), EIO_HTTP_OK);
    CHECK_EQ_MEM(q.sid, q.sid_len, "79Gld8d1EKnU1hUxAAAA", 20);
    /* values are compared decoded, as URLSearchParams gives them */
    CHECK_EQ_INT(query("EIO=%34&transport=pol%6Cing", &q), EIO_HTTP_OK);
    CHECK_EQ_INT(q.transport, EIO_TRANSPORT_POLLING);
    /* the last of a repeated key wins (Object.fromEntries) */
    CHECK_EQ_INT(query("transport=abc&EIO=4&transport=polling", &q), EIO_HTTP_OK);
    CHECK_EQ_INT(query("EIO=3&EIO=4&transport=polling", &q), EIO_HTTP_OK);
    CHECK_EQ_INT(query("EIO=4&transport=polling&sid=a&sid=b", &q), EIO_HTTP_OK);
    CHECK_EQ_MEM(q.sid, q.sid_len, "b", 1);
    /* inside a session the reference never looks at EIO */
    CHECK_EQ_INT(query("EIO=3&transport=polling&sid=S", &q), EIO_HTTP_OK);
    CHECK_EQ_INT(query("transport=polling&sid=S", &q), EIO_HTTP_OK);
    CHECK_EQ_MEM(q.sid, q.sid_len, "S", 1);
}

static void test_query_errors(void)
{
    eio_query q;
    CHECK_EQ_INT(query("EIO=4", &q), EIO_HTTP_UNKNOWN_TRANSPORT);
    CHECK_EQ_INT(query("EIO=4&transport=abc", &q), EIO_HTTP_UNKNOWN_TRANSPORT);
    CHECK_EQ_INT(query("EIO=4&transport=", &q), EIO_HTTP_UNKNOWN_TRANSPORT);
    CHECK_EQ_INT(query("EIO=4&transport", &q), EIO_HTTP_UNKNOWN_TRANSPORT);
    CHECK_EQ_INT(query("EIO=4&transport=Polling", &q), EIO_HTTP_UNKNOWN_TRANSPORT);
    CHECK_EQ_INT(query("EIO=4&transport=webtransport", &q), EIO_HTTP_UNKNOWN_TRANSPORT);
    CHECK_EQ_INT(query("EIO=4&transport=polling%", &q), EIO_HTTP_UNKNOWN_TRANSPORT);
    CHECK_EQ_INT(query("EIO=4&transport=polling+", &q), EIO_HTTP_UNKNOWN_TRANSPORT);
    CHECK_EQ_INT(query("EIO=4&transport=polling&transport=x", &q), EIO_HTTP_UNKNOWN_TRANSPORT);
    CHECK_EQ_INT(query("", &q), EIO_HTTP_UNKNOWN_TRANSPORT);
    CHECK_EQ_INT(eio_query_parse(NULL, 0, &q), EIO_HTTP_UNKNOWN_TRANSPORT);
    /* transport is checked before EIO (Server.verify runs before handshake) */
    CHECK_EQ_INT(query("EIO=3&transport=abc", &q), EIO_HTTP_UNKNOWN_TRANSPORT);
    CHECK_EQ_INT(query("", &q), EIO_HTTP_UNKNOWN_TRANSPORT);

    CHECK_EQ_INT(query("transport=polling", &q), EIO_HTTP_UNSUPPORTED_PROTOCOL_VERSION);
    CHECK_EQ_INT(q.transport, EIO_TRANSPORT_POLLING); /* still filled, see eio.h */
    CHECK_EQ_INT(query("EIO=3&transport=polling", &q), EIO_HTTP_UNSUPPORTED_PROTOCOL_VERSION);
    CHECK_EQ_INT(query("EIO=abc&transport=websocket", &q), EIO_HTTP_UNSUPPORTED_PROTOCOL_VERSION);
    CHECK_EQ_INT(q.transport, EIO_TRANSPORT_WEBSOCKET);
    CHECK_EQ_INT(query("EIO=&transport=polling", &q), EIO_HTTP_UNSUPPORTED_PROTOCOL_VERSION);
    CHECK_EQ_INT(query("EIO=44&transport=polling", &q), EIO_HTTP_UNSUPPORTED_PROTOCOL_VERSION);
    CHECK_EQ_INT(query("EIO=4.0&transport=polling", &q), EIO_HTTP_UNSUPPORTED_PROTOCOL_VERSION);
    CHECK_EQ_INT(query("EIO=4&EIO=3&transport=polling", &q), EIO_HTTP_UNSUPPORTED_PROTOCOL_VERSION);
    /* `if (sid)`: an empty sid is a handshake */
    CHECK_EQ_INT(query("transport=polling&sid=", &q), EIO_HTTP_UNSUPPORTED_PROTOCOL_VERSION);
    CHECK(q.sid == NULL);
    CHECK_EQ_INT(eio_query_parse("EIO=4&transport=polling", 23, NULL), EIO_HTTP_BAD_REQUEST);
}

static void test_http_errors(void)
{
    char out[128];
    static const struct {
        eio_http_error code;
        const char *json;
    } cases[] = {
        {EIO_HTTP_UNKNOWN_TRANSPORT, "{\"code\":0,\"message\":\"Transport unknown\"}"},
        {EIO_HTTP_UNKNOWN_SID, "{\"code\":1,\"message\":\"Session ID unknown\"}"},
        {EIO_HTTP_BAD_HANDSHAKE_METHOD, "{\"code\":2,\"message\":\"Bad handshake method\"}"},
        {EIO_HTTP_BAD_REQUEST, "{\"code\":3,\"message\":\"Bad request\"}"},
        {EIO_HTTP_FORBIDDEN, "{\"code\":4,\"message\":\"Forbidden\"}"},
        {EIO_HTTP_UNSUPPORTED_PROTOCOL_VERSION,
         "{\"code\":5,\"message\":\"Unsupported protocol version\"}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int n = eio_http_error_json(out, sizeof out, cases[i].code);
        CHECK_EQ_MEM(out, n, cases[i].json, strlen(cases[i].json));
        CHECK_EQ_INT(eio_http_error_json(out, (size_t)n, cases[i].code), -1);
    }
    CHECK_EQ_STR(eio_http_error_message(EIO_HTTP_UNKNOWN_TRANSPORT), "Transport unknown");
    CHECK_EQ_STR(eio_http_error_message(EIO_HTTP_UNSUPPORTED_PROTOCOL_VERSION),
                 "Unsupported protocol version");
    CHECK(eio_http_error_message(EIO_HTTP_OK) == NULL);
    CHECK(eio_http_error_message((eio_http_error)6) == NULL);
    CHECK_EQ_INT(eio_http_error_json(out, sizeof out, EIO_HTTP_OK), -1);

    CHECK_EQ_STR(eio_strerror(EIO_E_SYNTAX), "malformed Engine.IO packet");
    CHECK_EQ_STR(eio_strerror(EIO_E_TOO_BIG), "payload over maxPayload");
    CHECK_EQ_STR(eio_strerror(EIO_E_NOMEM), "out of memory");
    CHECK_EQ_STR(eio_strerror(-99), "unknown error");
}

int main(void)
{
    test_parse_text_types();
    test_parse_text_data();
    test_parse_text_errors();
    test_payload_split();
    test_record_parse();
    test_payload_append();
    test_payload_round_trip();
    test_open_json();
    test_query_ok();
    test_query_errors();
    test_http_errors();
    return CHECK_DONE();
}
