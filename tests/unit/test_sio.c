/* test_sio.c: Socket.IO v5 codec against the wire forms in notes
 * socketio-protocol.md section 3 and socket.io-parser 4.2's rules. Expected
 * JSON bytes were produced with Node 20's JSON.stringify. Inputs sit at the
 * end of a page followed by an inaccessible one. */
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../src/base/limits.h"
#include "../../src/sio/sio.h"
#include "check.h"
#include "guard.h"

/* Decodes `s` (of length len) from a guarded copy. The packet's nsp points
 * into the copy, so it is copied to a static buffer first. */
static int decode_n(const char *s, size_t len, sio_packet *p)
{
    static char nsp[PD_MAX_SIO_NSP + 8];
    guarded g = guard_copy(s, len);
    int r = sio_packet_decode(g.data, len, PD_MAX_SIO_ATTACHMENTS, p);
    if (p->nsp_len < sizeof nsp) memcpy(nsp, p->nsp, p->nsp_len);
    p->nsp = nsp;
    guard_free(&g);
    return r;
}

static int decode(const char *s, sio_packet *p)
{
    return decode_n(s, strlen(s), p);
}

/* Compact JSON of p->data via the encoder itself, for comparisons. */
static const char *dump(const json_t *v)
{
    static char out[1024];
    pd_buf b;
    pd_buf_init(&b, sizeof out - 1);
    out[0] = '\0';
    /* an ACK to "/" with no id is just "3" + JSON */
    if (sio_packet_encode(&b, SIO_ACK, "/", 1, -1, 0, v) == 0 && b.len >= 1) {
        memcpy(out, b.data + 1, b.len - 1);
        out[b.len - 1] = '\0';
    }
    pd_buf_reset(&b);
    return out;
}

#define CHECK_DECODES(wire, t, nspv, ack, att, json)                                               \
    do {                                                                                           \
        sio_packet p_;                                                                             \
        CHECK_EQ_INT(decode(wire, &p_), 0);                                                        \
        CHECK_EQ_INT(p_.type, t);                                                                  \
        CHECK_EQ_MEM(p_.nsp, p_.nsp_len, nspv, strlen(nspv));                                      \
        CHECK_EQ_INT(p_.ack_id, ack);                                                              \
        CHECK_EQ_INT(p_.attachments, att);                                                         \
        if (json) {                                                                                \
            CHECK(p_.data != NULL);                                                                \
            CHECK_EQ_STR(dump(p_.data), json ? json : "");                                         \
        } else {                                                                                   \
            CHECK(p_.data == NULL);                                                                \
        }                                                                                          \
        sio_packet_cleanup(&p_);                                                                   \
    } while (0)

#define CHECK_REJECTS(wire, err)                                                                   \
    do {                                                                                           \
        sio_packet p_;                                                                             \
        CHECK_EQ_INT(decode(wire, &p_), err);                                                      \
        CHECK(p_.data == NULL && p_.ack_id == -1 && p_.nsp_len == 1 && p_.attachments == 0);       \
    } while (0)

static const char *const NO_JSON = NULL;

/* ---- decoding: the notes' wire examples (without the Engine.IO '4') ---- */

static void test_decode_examples(void)
{
    CHECK_DECODES("0", SIO_CONNECT, "/", -1, 0, NO_JSON);
    CHECK_DECODES("0{\"token\":\"abc\"}", SIO_CONNECT, "/", -1, 0, "{\"token\":\"abc\"}");
    CHECK_DECODES("0/admin,{\"token\":\"abc\"}", SIO_CONNECT, "/admin", -1, 0,
                  "{\"token\":\"abc\"}");
    CHECK_DECODES("0{\"sid\":\"ZMVIXE3JFISBtdyFAAAA\"}", SIO_CONNECT, "/", -1, 0,
                  "{\"sid\":\"ZMVIXE3JFISBtdyFAAAA\"}");
    CHECK_DECODES("4/private,{\"message\":\"not authorized\",\"data\":{\"content\":\"Please retry "
                  "later\"}}",
                  SIO_CONNECT_ERROR, "/private", -1, 0,
                  "{\"message\":\"not authorized\",\"data\":{\"content\":\"Please retry later\"}}");
    CHECK_DECODES("4/random,{\"message\":\"Invalid namespace\"}", SIO_CONNECT_ERROR, "/random", -1,
                  0, "{\"message\":\"Invalid namespace\"}");
    CHECK_DECODES("2[\"welcome\",\"hi\",{\"n\":1}]", SIO_EVENT, "/", -1, 0,
                  "[\"welcome\",\"hi\",{\"n\":1}]");
    CHECK_DECODES("20[\"echo\",\"x\",1]", SIO_EVENT, "/", 0, 0, "[\"echo\",\"x\",1]");
    CHECK_DECODES("30[\"acked\",\"x\",1]", SIO_ACK, "/", 0, 0, "[\"acked\",\"x\",1]");
    CHECK_DECODES("51-[\"echo\",{\"_placeholder\":true,\"num\":0},\"bin\"]", SIO_BINARY_EVENT, "/",
                  -1, 1, "[\"echo\",{\"_placeholder\":true,\"num\":0},\"bin\"]");
    CHECK_DECODES("61-1[{\"_placeholder\":true,\"num\":0},\"tail\"]", SIO_BINARY_ACK, "/", 1, 1,
                  "[{\"_placeholder\":true,\"num\":0},\"tail\"]");
    CHECK_DECODES("61-0[\"answer!\",{\"_placeholder\":true,\"num\":0}]", SIO_BINARY_ACK, "/", 0, 1,
                  "[\"answer!\",{\"_placeholder\":true,\"num\":0}]");
    CHECK_DECODES("1/admin,", SIO_DISCONNECT, "/admin", -1, 0, NO_JSON);
    CHECK_DECODES("1", SIO_DISCONNECT, "/", -1, 0, NO_JSON);
    /* a namespace with nothing after it needs no comma */
    CHECK_DECODES("0/custom", SIO_CONNECT, "/custom", -1, 0, NO_JSON);
    CHECK_DECODES("1/custom", SIO_DISCONNECT, "/custom", -1, 0, NO_JSON);
    CHECK_DECODES("2/admin,12[\"a\"]", SIO_EVENT, "/admin", 12, 0, "[\"a\"]");
    CHECK_DECODES("61-/nsp,12[\"x\"]", SIO_BINARY_ACK, "/nsp", 12, 1, "[\"x\"]");
    CHECK_DECODES("2/,[\"a\"]", SIO_EVENT, "/", -1, 0, "[\"a\"]");
    CHECK_DECODES("50-[\"a\"]", SIO_BINARY_EVENT, "/", -1, 0, "[\"a\"]");
    CHECK_DECODES("510-[\"a\"]", SIO_BINARY_EVENT, "/", -1, 10, "[\"a\"]");
    CHECK_DECODES("501-[\"a\"]", SIO_BINARY_EVENT, "/", -1, 1, "[\"a\"]");
    /* the reference takes an ack id on any type */
    CHECK_DECODES("11", SIO_DISCONNECT, "/", 1, 0, NO_JSON);
    CHECK_DECODES("2007[\"a\"]", SIO_EVENT, "/", 7, 0, "[\"a\"]");
    CHECK_DECODES("4\"not authorized\"", SIO_CONNECT_ERROR, "/", -1, 0, "\"not authorized\"");
    CHECK_DECODES("2[1,2]", SIO_EVENT, "/", -1, 0, "[1,2]");
    CHECK_DECODES("2[1.5]", SIO_EVENT, "/", -1, 0, "[1.5]");
    /* past int64 every number becomes a double, printed as Node prints it */
    CHECK_DECODES("2[\"a\",99999999999999999999,7]", SIO_EVENT, "/", -1, 0,
                  "[\"a\",100000000000000000000,7]");
    CHECK_DECODES("2[\"a\",123456789012345680000]", SIO_EVENT, "/", -1, 0,
                  "[\"a\",123456789012345680000]");
    CHECK_DECODES("3[]", SIO_ACK, "/", -1, 0, "[]");
    CHECK_DECODES("0{}", SIO_CONNECT, "/", -1, 0, "{}");
    /* trailing JSON whitespace is fine for JSON.parse too */
    CHECK_DECODES("2[\"a\"] \n", SIO_EVENT, "/", -1, 0, "[\"a\"]");
    /* event names that only look reserved */
    CHECK_DECODES("2[\"Connect\"]", SIO_EVENT, "/", -1, 0, "[\"Connect\"]");
    CHECK_DECODES("2[\"connect \"]", SIO_EVENT, "/", -1, 0, "[\"connect \"]");
}

static void test_decode_nul(void)
{
    /* JSON.parse accepts \u0000 in strings; so do we */
    sio_packet p;
    static const char w[] = "2[\"connect\\u0000\",\"a\\u0000b\"]";
    CHECK_EQ_INT(decode(w, &p), 0);
    CHECK_EQ_INT(json_string_length(json_array_get(p.data, 0)), 8);
    CHECK_EQ_INT(json_string_length(json_array_get(p.data, 1)), 3);
    CHECK_EQ_STR(dump(p.data), "[\"connect\\u0000\",\"a\\u0000b\"]");
    sio_packet_cleanup(&p);
    /* a raw NUL byte inside the nsp is just a byte */
    static const char raw[] = "2/a\0b,[\"x\"]";
    CHECK_EQ_INT(decode_n(raw, sizeof raw - 1, &p), 0);
    CHECK_EQ_MEM(p.nsp, p.nsp_len, "/a\0b", 4);
    sio_packet_cleanup(&p);
}

/* ---- decoding: every rejection rule ---- */

static void test_decode_type(void)
{
    CHECK_REJECTS("", SIO_E_TYPE);
    CHECK_REJECTS("7", SIO_E_TYPE);
    CHECK_REJECTS("9[\"a\"]", SIO_E_TYPE);
    CHECK_REJECTS("a", SIO_E_TYPE);
    CHECK_REJECTS(" 0", SIO_E_TYPE); /* Number(" ") is 0 in JS; not here */
    CHECK_REJECTS("/0", SIO_E_TYPE);
    sio_packet p;
    CHECK_EQ_INT(sio_packet_decode(NULL, 0, 10, &p), SIO_E_TYPE);
    CHECK_EQ_INT(sio_packet_decode("0", 1, 10, NULL), SIO_E_SYNTAX);
}

static void test_decode_attachments(void)
{
    CHECK_REJECTS("5[\"a\"]", SIO_E_ATTACHMENTS);
    CHECK_REJECTS("5", SIO_E_ATTACHMENTS);
    CHECK_REJECTS("51", SIO_E_ATTACHMENTS);
    CHECK_REJECTS("6-[]", SIO_E_ATTACHMENTS); /* JS reads "" as 0: strict here */
    CHECK_REJECTS("5x-[\"a\"]", SIO_E_ATTACHMENTS);
    CHECK_REJECTS("5 1-[\"a\"]", SIO_E_ATTACHMENTS);
    CHECK_REJECTS("51.0-[\"a\"]", SIO_E_ATTACHMENTS);
    CHECK_REJECTS("5-1-[\"a\"]", SIO_E_ATTACHMENTS);
    CHECK_REJECTS("511-[\"a\"]", SIO_E_ATTACHMENTS); /* > maxAttachments (10) */
    CHECK_REJECTS("599999999999999999999999-[\"a\"]", SIO_E_ATTACHMENTS);
    sio_packet p;
    CHECK_EQ_INT(sio_packet_decode("53-[\"a\"]", 8, 2, &p), SIO_E_ATTACHMENTS);
    CHECK_EQ_INT(sio_packet_decode("52-[\"a\"]", 8, 2, &p), 0);
    sio_packet_cleanup(&p);
}

static void test_decode_nsp(void)
{
    char w[PD_MAX_SIO_NSP + 16];
    w[0] = '2';
    w[1] = '/';
    memset(w + 2, 'n', PD_MAX_SIO_NSP - 1); /* "/" + 255 = 256 chars */
    strcpy(w + 1 + PD_MAX_SIO_NSP, ",[\"a\"]");
    sio_packet p;
    CHECK_EQ_INT(decode(w, &p), 0);
    CHECK_EQ_INT(p.nsp_len, PD_MAX_SIO_NSP);
    sio_packet_cleanup(&p);
    w[1 + PD_MAX_SIO_NSP] = 'n'; /* one more */
    strcpy(w + 2 + PD_MAX_SIO_NSP, ",[\"a\"]");
    CHECK_REJECTS(w, SIO_E_NSP);
    w[2 + PD_MAX_SIO_NSP] = '\0'; /* too long and no comma */
    CHECK_REJECTS(w, SIO_E_NSP);
    /* the namespace eats everything up to ',': no payload is left */
    CHECK_REJECTS("2/admin[\"x\"]", SIO_E_PAYLOAD);
    CHECK_REJECTS("2/admin", SIO_E_PAYLOAD);
}

static void test_decode_ack(void)
{
    CHECK_DECODES("29007199254740991[\"a\"]", SIO_EVENT, "/", 9007199254740991LL, 0, "[\"a\"]");
    CHECK_REJECTS("29007199254740992[\"a\"]", SIO_E_SYNTAX);
    CHECK_REJECTS("299999999999999999999999999999[\"a\"]", SIO_E_SYNTAX);
    CHECK_REJECTS("2/admin,9007199254740992", SIO_E_SYNTAX);
    /* the suite's case: letters where the id would be are bad JSON */
    CHECK_REJECTS("2abc[\"a\"]", SIO_E_JSON);
    CHECK_REJECTS("21abc[\"a\"]", SIO_E_JSON);
    /* whitespace where JS would still read an ack id */
    CHECK_REJECTS("2 [\"a\"]", SIO_E_SYNTAX);
    CHECK_REJECTS("21 [\"a\"]", SIO_E_SYNTAX);
    CHECK_REJECTS("2/a,\t[\"a\"]", SIO_E_SYNTAX);
    CHECK_REJECTS("2\n[\"a\"]", SIO_E_SYNTAX);
}

static void test_decode_json(void)
{
    CHECK_REJECTS("2[", SIO_E_JSON);
    CHECK_REJECTS("2[\"a\"]x", SIO_E_JSON);
    CHECK_REJECTS("2[\"a\"][\"b\"]", SIO_E_JSON);
    CHECK_REJECTS("2[\"a\",]", SIO_E_JSON);
    CHECK_REJECTS("2['a']", SIO_E_JSON);
    CHECK_REJECTS("2[\"\xff\"]", SIO_E_JSON);       /* invalid UTF-8 */
    CHECK_REJECTS("2[\"\\ud800\"]", SIO_E_JSON);    /* lone surrogate */
    CHECK_REJECTS("2[\"a\",1e400]", SIO_E_JSON);    /* Infinity in JS */
    CHECK_REJECTS("0{\"a\\u0000\":1}", SIO_E_JSON); /* NUL in a key */
    CHECK_REJECTS("2[\"a\"\x01]", SIO_E_JSON);
}

static void test_decode_payload_rules(void)
{
    /* CONNECT: object or absent */
    CHECK_REJECTS("0[]", SIO_E_PAYLOAD);
    CHECK_REJECTS("0null", SIO_E_PAYLOAD);
    CHECK_REJECTS("0\"x\"", SIO_E_PAYLOAD);
    CHECK_DECODES("01", SIO_CONNECT, "/", 1, 0, NO_JSON); /* "1" is an ack id, no payload */
    /* DISCONNECT: absent */
    CHECK_REJECTS("1{}", SIO_E_PAYLOAD);
    CHECK_REJECTS("1/admin,{}", SIO_E_PAYLOAD);
    CHECK_REJECTS("1[]", SIO_E_PAYLOAD);
    /* CONNECT_ERROR: string or object */
    CHECK_REJECTS("4[]", SIO_E_PAYLOAD);
    CHECK_REJECTS("41", SIO_E_PAYLOAD);
    CHECK_REJECTS("4null", SIO_E_PAYLOAD);
    CHECK_REJECTS("4", SIO_E_PAYLOAD);
    /* EVENT: non-empty array, name a number or an unreserved string */
    CHECK_REJECTS("2", SIO_E_PAYLOAD);
    CHECK_REJECTS("2[]", SIO_E_PAYLOAD);
    CHECK_REJECTS("2{}", SIO_E_PAYLOAD);
    CHECK_REJECTS("2\"a\"", SIO_E_PAYLOAD);
    CHECK_REJECTS("2[null]", SIO_E_PAYLOAD);
    CHECK_REJECTS("2[{}]", SIO_E_PAYLOAD);
    CHECK_REJECTS("2[[\"a\"]]", SIO_E_PAYLOAD);
    CHECK_REJECTS("2[true]", SIO_E_PAYLOAD);
    CHECK_REJECTS("2[\"connect\"]", SIO_E_PAYLOAD);
    CHECK_REJECTS("2[\"connect_error\"]", SIO_E_PAYLOAD);
    CHECK_REJECTS("2[\"disconnect\",1]", SIO_E_PAYLOAD);
    CHECK_REJECTS("2[\"disconnecting\"]", SIO_E_PAYLOAD);
    CHECK_REJECTS("2[\"newListener\"]", SIO_E_PAYLOAD);
    CHECK_REJECTS("2/admin,5[\"removeListener\"]", SIO_E_PAYLOAD);
    CHECK_REJECTS("51-[\"connect\",{\"_placeholder\":true,\"num\":0}]", SIO_E_PAYLOAD);
    CHECK_REJECTS("50-[]", SIO_E_PAYLOAD);
    /* ACK: array */
    CHECK_REJECTS("3", SIO_E_PAYLOAD);
    CHECK_REJECTS("31", SIO_E_PAYLOAD);
    CHECK_REJECTS("3{}", SIO_E_PAYLOAD);
    CHECK_REJECTS("31\"x\"", SIO_E_PAYLOAD);
    CHECK_REJECTS("61-1{}", SIO_E_PAYLOAD);
}

/* ---- encoding: byte-exact reference forms ---- */

static void check_encodes(sio_type t, const char *nsp, int64_t ack, unsigned att, const char *json,
                          const char *want, int line)
{
    pd_buf b;
    pd_buf_init(&b, 4096);
    json_t *data = NULL;
    if (json) {
        json_error_t err;
        data = json_loads(json, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
        if (!data) fprintf(stderr, "line %d: test JSON does not parse: %s\n", line, err.text);
    }
    int r = sio_packet_encode(&b, t, nsp, nsp ? strlen(nsp) : 0, ack, att, data);
    if (r != 0 || b.len != strlen(want) || memcmp(b.data, want, b.len) != 0)
        fprintf(stderr, "line %d: encode gave %d \"%.*s\"\n", line, r, (int)b.len,
                b.data ? (const char *)b.data : "");
    CHECK_EQ_INT(r, 0);
    CHECK_EQ_MEM(b.data, b.len, want, strlen(want));
    json_decref(data);
    pd_buf_reset(&b);
}

#define CHECK_ENCODES(t, nsp, ack, att, json, want)                                                \
    check_encodes(t, nsp, ack, att, json, want, __LINE__)

static void test_encode_forms(void)
{
    CHECK_ENCODES(SIO_CONNECT, "/", -1, 0, "{\"sid\":\"x\"}", "0{\"sid\":\"x\"}");
    CHECK_ENCODES(SIO_CONNECT, NULL, -1, 0, "{\"sid\":\"x\"}", "0{\"sid\":\"x\"}");
    CHECK_ENCODES(SIO_CONNECT, "/admin", -1, 0, "{\"sid\":\"x\"}", "0/admin,{\"sid\":\"x\"}");
    CHECK_ENCODES(SIO_CONNECT_ERROR, "/random", -1, 0, "{\"message\":\"Invalid namespace\"}",
                  "4/random,{\"message\":\"Invalid namespace\"}");
    CHECK_ENCODES(SIO_CONNECT_ERROR, "/", -1, 0, "{\"message\":\"Invalid namespace\"}",
                  "4{\"message\":\"Invalid namespace\"}");
    CHECK_ENCODES(SIO_EVENT, "/", -1, 0, "[\"welcome\",\"hi\",{\"n\":1}]",
                  "2[\"welcome\",\"hi\",{\"n\":1}]");
    CHECK_ENCODES(SIO_EVENT, "/", 0, 0, "[\"question\",\"q?\"]", "20[\"question\",\"q?\"]");
    CHECK_ENCODES(SIO_ACK, "/", 0, 0, "[\"acked\"]", "30[\"acked\"]");
    CHECK_ENCODES(SIO_BINARY_EVENT, "/", -1, 1, "[\"echo\",{\"_placeholder\":true,\"num\":0}]",
                  "51-[\"echo\",{\"_placeholder\":true,\"num\":0}]");
    CHECK_ENCODES(SIO_BINARY_ACK, "/nsp", 12, 1, "[{\"_placeholder\":true,\"num\":0},\"tail\"]",
                  "61-/nsp,12[{\"_placeholder\":true,\"num\":0},\"tail\"]");
    CHECK_ENCODES(SIO_BINARY_EVENT, "/", -1, 0, "[\"a\"]", "50-[\"a\"]");
    CHECK_ENCODES(SIO_DISCONNECT, "/admin", -1, 0, NULL, "1/admin,");
    CHECK_ENCODES(SIO_DISCONNECT, "/", -1, 0, NULL, "1");
    CHECK_ENCODES(SIO_CONNECT, "/", -1, 0, NULL, "0");
    /* JSON null is skipped, as JSON.stringify is only called for != null */
    CHECK_ENCODES(SIO_CONNECT, "/", -1, 0, "null", "0");
    CHECK_ENCODES(SIO_CONNECT_ERROR, "/", -1, 0, "\"oops\"", "4\"oops\"");
    CHECK_ENCODES(SIO_EVENT, "/", 9007199254740991LL, 0, "[1]", "29007199254740991[1]");
}

static void test_encode_json_like_node(void)
{
    /* expected bytes from Node 20: JSON.stringify(JSON.parse(input)) */
    CHECK_ENCODES(SIO_ACK, "/", -1, 0,
                  "[0.1,1.0,1e21,1e-7,123e-20,-0.0,100,1.5e300,1.2345678901234568e20,0.000001,"
                  "5e-324,1.7976931348623157e308,9007199254740993,-9223372036854775808,2.5,"
                  "-1.25e-5,1e20,123.456]",
                  "3[0.1,1,1e+21,1e-7,1.23e-18,0,100,1.5e+300,123456789012345680000,0.000001,"
                  "5e-324,1.7976931348623157e+308,9007199254740992,-9223372036854776000,2.5,"
                  "-0.0000125,100000000000000000000,123.456]");
    CHECK_ENCODES(SIO_ACK, "/", -1, 0,
                  "[\"\\u001f\\u0000\\b\\f\\n\\r\\t\\u007f/\xc3\xa9\\u2028\\\"\\\\\"]",
                  "3[\"\\u001f\\u0000\\b\\f\\n\\r\\t\x7f/\xc3\xa9\xe2\x80\xa8\\\"\\\\\"]");
    CHECK_ENCODES(SIO_ACK, "/", -1, 0,
                  "{\"b\":1,\"2\":2,\"1\":3,\"a\":4,\"01\":5,\"4294967295\":6,\"4294967294\":7,"
                  "\"b\":8}",
                  "3{\"1\":3,\"2\":2,\"4294967294\":7,\"b\":8,\"a\":4,\"01\":5,\"4294967295\":6}");
    CHECK_ENCODES(SIO_ACK, "/", -1, 0, "[[],{},[[]],{\"a\":{\"b\":[true,false,null]}}]",
                  "3[[],{},[[]],{\"a\":{\"b\":[true,false,null]}}]");
    CHECK_ENCODES(SIO_ACK, "/", -1, 0, "[-5,0,-0,1e2,-1e-7,0.5]", "3[-5,0,0,100,-1e-7,0.5]");
}

static void test_encode_errors(void)
{
    pd_buf b;
    pd_buf_init(&b, 64);
    json_t *arr = json_pack("[s]", "x");
    CHECK_EQ_INT(sio_packet_encode(&b, (sio_type)7, "/", 1, -1, 0, arr), SIO_E_TYPE);
    CHECK_EQ_INT(sio_packet_encode(&b, SIO_EVENT, "admin", 5, -1, 0, arr), SIO_E_NSP);
    CHECK_EQ_INT(sio_packet_encode(&b, SIO_EVENT, "/a,b", 4, -1, 0, arr), SIO_E_NSP);
    CHECK_EQ_INT(sio_packet_encode(&b, SIO_EVENT, "/", 1, 9007199254740992LL, 0, arr),
                 SIO_E_SYNTAX);
    CHECK_EQ_INT(sio_packet_encode(NULL, SIO_EVENT, "/", 1, -1, 0, arr), SIO_E_SYNTAX);
    char big[PD_MAX_SIO_NSP + 2];
    big[0] = '/';
    memset(big + 1, 'n', sizeof big - 1);
    CHECK_EQ_INT(sio_packet_encode(&b, SIO_EVENT, big, sizeof big, -1, 0, arr), SIO_E_NSP);
    CHECK_EQ_INT(b.len, 0);

    /* over the buffer's ceiling: nothing is left behind */
    CHECK_EQ_INT(pd_buf_append_str(&b, "keep"), 0);
    json_t *s = json_pack("[s]", "0123456789012345678901234567890123456789012345678901234567");
    CHECK_EQ_INT(sio_packet_encode(&b, SIO_EVENT, "/", 1, -1, 0, s), SIO_E_TOO_BIG);
    CHECK_EQ_MEM(b.data, b.len, "keep", 4);
    json_decref(s);

    /* a cycle would recurse forever: the depth bound stops it */
    json_t *a = json_array();
    json_t *inner = json_array();
    json_array_append(a, inner);
    json_array_append(inner, a); /* jansson allows this; we must not loop */
    pd_buf big_out;
    pd_buf_init(&big_out, 1u << 20);
    CHECK_EQ_INT(sio_packet_encode(&big_out, SIO_ACK, "/", 1, -1, 0, a), SIO_E_JSON);
    CHECK_EQ_INT(big_out.len, 0);
    json_array_clear(inner);
    json_decref(inner);
    json_decref(a);
    pd_buf_reset(&big_out);
    json_decref(arr);
    pd_buf_reset(&b);

    CHECK_EQ_STR(sio_strerror(SIO_E_PAYLOAD), "payload not valid for packet type");
    CHECK_EQ_STR(sio_strerror(SIO_E_TOO_BIG), "packet over the output buffer's limit");
    CHECK_EQ_STR(sio_strerror(0), "ok");
    CHECK_EQ_STR(sio_strerror(-100), "unknown error");
}

/* decode(wire) then encode gives wire back for canonical forms */
static void test_round_trip(void)
{
    static const char *const wires[] = {
        "0",
        "0{\"token\":\"abc\"}",
        "0/admin,{\"token\":\"abc\"}",
        "4/private,{\"message\":\"not authorized\",\"data\":{\"content\":\"Please retry later\"}}",
        "2[\"welcome\",\"hi\",{\"n\":1}]",
        "20[\"echo\",\"x\",1]",
        "30[\"acked\",\"x\",1]",
        "51-[\"echo\",{\"_placeholder\":true,\"num\":0},\"bin\"]",
        "61-1[{\"_placeholder\":true,\"num\":0},\"tail\"]",
        "61-/nsp,12[\"x\"]",
        "1/admin,",
        "1",
        "2/admin,7[\"signal\",{\"sdp\":\"v=0\\r\\no=- 1 2 IN IP4 127.0.0.1\\r\\n\","
        "\"type\":\"offer\"}]",
        "2[\"candidate\",{\"candidate\":\"candidate:1 1 udp 2122260223 192.168.1.2 54321 typ "
        "host\",\"sdpMid\":\"0\",\"sdpMLineIndex\":0}]",
        "2[42,\"\xe2\x82\xac/\\u0001\",1.25,-3]",
    };
    for (size_t i = 0; i < sizeof wires / sizeof wires[0]; i++) {
        sio_packet p;
        CHECK_EQ_INT(decode(wires[i], &p), 0);
        pd_buf b;
        pd_buf_init(&b, 4096);
        CHECK_EQ_INT(
            sio_packet_encode(&b, p.type, p.nsp, p.nsp_len, p.ack_id, p.attachments, p.data), 0);
        CHECK_EQ_MEM(b.data, b.len, wires[i], strlen(wires[i]));
        pd_buf_reset(&b);
        sio_packet_cleanup(&p);
    }
}

static void test_event_name(void)
{
    sio_packet p;
    CHECK_EQ_INT(decode("2[\"welcome\",\"hi\"]", &p), 0);
    CHECK_EQ_STR(sio_event_name(p.data), "welcome");
    sio_packet_cleanup(&p);
    CHECK_EQ_INT(decode("2[42]", &p), 0);
    CHECK(sio_event_name(p.data) == NULL);
    sio_packet_cleanup(&p);
    CHECK(sio_event_name(NULL) == NULL);
    json_t *o = json_object();
    json_t *e = json_array();
    CHECK(sio_event_name(o) == NULL);
    CHECK(sio_event_name(e) == NULL);
    json_decref(o);
    json_decref(e);
    /* cleanup twice is harmless, as is cleanup of NULL */
    sio_packet_cleanup(&p);
    sio_packet_cleanup(NULL);
}

int main(void)
{
    test_decode_examples();
    test_decode_nul();
    test_decode_type();
    test_decode_attachments();
    test_decode_nsp();
    test_decode_ack();
    test_decode_json();
    test_decode_payload_rules();
    test_encode_forms();
    test_encode_json_like_node();
    test_encode_errors();
    test_round_trip();
    test_event_name();
    return CHECK_DONE();
}
