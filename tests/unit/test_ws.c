/* test_ws.c: the WebSocket codec against the RFC 6455 examples (§1.3
 * handshake, §5.7 frames), every prefix of a frame, split streams, the
 * reassembly rules, close-frame validation, UTF-8 edge cases and every error
 * code. Inputs sit at the end of exact-size mallocs so ASan sees overreads. */
#include "check.h"

#include "ws/ws.h"

#include <stdint.h>

static uint8_t *exact_copy(const void *s, size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    if (len) memcpy(p, s, len);
    return p;
}

/* Builds a masked client frame into out (cap >= len + 14); returns its size. */
static size_t client_frame(uint8_t *out, unsigned first_byte, const void *payload, size_t len)
{
    static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
    size_t h = ws_frame_header_encode(out, true, WS_OP_TEXT, len);
    out[0] = (uint8_t)first_byte;
    out[1] |= 0x80;
    memcpy(out + h, key, 4);
    const uint8_t *p = payload;
    for (size_t i = 0; i < len; i++)
        out[h + 4 + i] = p[i] ^ key[i & 3];
    return h + 4 + len;
}

/* ---- frames ------------------------------------------------------------- */

static long parse_copy(const uint8_t *in, size_t len, bool mask, size_t max, ws_frame *f,
                       uint8_t **keep)
{
    uint8_t *p = exact_copy(in, len);
    long rc = ws_frame_parse(p, len, mask, max, f);
    if (keep)
        *keep = p;
    else
        free(p);
    return rc;
}

static void test_rfc_examples(void)
{
    ws_frame f;
    uint8_t *p;
    /* §5.7: a single-frame unmasked text message */
    static const uint8_t hello[] = {0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
    CHECK_EQ_INT(parse_copy(hello, sizeof hello, false, 125, &f, &p), 7);
    CHECK(f.fin);
    CHECK_EQ_INT(f.opcode, WS_OP_TEXT);
    CHECK_EQ_MEM(f.payload, f.payload_len, "Hello", 5);
    free(p);
    CHECK_EQ_INT(parse_copy(hello, sizeof hello, true, 125, &f, NULL), WS_E_PROTOCOL);

    /* §5.7: a single-frame masked text message */
    static const uint8_t masked[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
                                     0x7f, 0x9f, 0x4d, 0x51, 0x58};
    CHECK_EQ_INT(parse_copy(masked, sizeof masked, true, 125, &f, &p), 11);
    CHECK_EQ_MEM(f.payload, f.payload_len, "Hello", 5);
    CHECK(f.payload == p + 6);
    free(p);

    /* §5.7: a fragmented unmasked text message */
    static const uint8_t frag1[] = {0x01, 0x03, 0x48, 0x65, 0x6c};
    static const uint8_t frag2[] = {0x80, 0x02, 0x6c, 0x6f};
    CHECK_EQ_INT(parse_copy(frag1, sizeof frag1, false, 125, &f, &p), 5);
    CHECK(!f.fin);
    CHECK_EQ_INT(f.opcode, WS_OP_TEXT);
    CHECK_EQ_MEM(f.payload, f.payload_len, "Hel", 3);
    free(p);
    CHECK_EQ_INT(parse_copy(frag2, sizeof frag2, false, 125, &f, &p), 4);
    CHECK(f.fin);
    CHECK_EQ_INT(f.opcode, WS_OP_CONTINUATION);
    CHECK_EQ_MEM(f.payload, f.payload_len, "lo", 2);
    free(p);

    /* §5.7: unmasked Ping, masked Pong */
    static const uint8_t ping[] = {0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
    CHECK_EQ_INT(parse_copy(ping, sizeof ping, false, 125, &f, &p), 7);
    CHECK_EQ_INT(f.opcode, WS_OP_PING);
    CHECK_EQ_MEM(f.payload, f.payload_len, "Hello", 5);
    free(p);
    static const uint8_t pong[] = {0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d,
                                   0x7f, 0x9f, 0x4d, 0x51, 0x58};
    CHECK_EQ_INT(parse_copy(pong, sizeof pong, true, 125, &f, &p), 11);
    CHECK_EQ_INT(f.opcode, WS_OP_PONG);
    CHECK_EQ_MEM(f.payload, f.payload_len, "Hello", 5);
    free(p);

    /* §5.7: 256 bytes and 64 KiB binary messages in one unmasked frame */
    uint8_t *big = calloc(1, 10 + 65536);
    memcpy(big, "\x82\x7e\x01\x00", 4);
    CHECK_EQ_INT(parse_copy(big, 4 + 256, false, 65536, &f, NULL), 260);
    CHECK_EQ_INT(ws_frame_parse(big, 4 + 255, false, 65536, &f), WS_PARTIAL);
    memcpy(big, "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10);
    CHECK_EQ_INT(parse_copy(big, 10 + 65536, false, 65536, &f, NULL), 10 + 65536);
    CHECK_EQ_INT(f.payload_len, 65536);
    CHECK_EQ_INT(f.opcode, WS_OP_BINARY);
    CHECK_EQ_INT(parse_copy(big, 10, false, 65535, &f, NULL), WS_E_TOO_BIG); /* header alone */
    free(big);
}

/* Every proper prefix is PARTIAL and leaves the bytes as they were (no
 * unmasking until the frame is whole). */
static void test_every_prefix(void)
{
    uint8_t frame[300], payload[200];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)i;
    size_t n = client_frame(frame, 0x82, payload, sizeof payload);
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t *p = exact_copy(frame, i);
        ws_frame f;
        if (ws_frame_parse(p, i, true, 1000, &f) != WS_PARTIAL) bad++;
        if (i && memcmp(p, frame, i) != 0) bad++;
        free(p);
    }
    CHECK_EQ_INT(bad, 0);
    ws_frame f;
    uint8_t *p;
    CHECK_EQ_INT(parse_copy(frame, n, true, 1000, &f, &p), n);
    CHECK_EQ_MEM(f.payload, f.payload_len, payload, sizeof payload);
    free(p);
}

static void test_frame_errors(void)
{
    ws_frame f;
    uint8_t fr[16];
    /* RSV1, RSV2, RSV3 */
    for (unsigned rsv = 0x10; rsv <= 0x40; rsv <<= 1) {
        size_t n = client_frame(fr, 0x81 | rsv, "a", 1);
        CHECK_EQ_INT(parse_copy(fr, n, true, 125, &f, NULL), WS_E_PROTOCOL);
    }
    /* unknown opcodes 3-7 and B-F, found from the first two bytes */
    static const unsigned unknown[] = {3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf};
    for (size_t i = 0; i < sizeof unknown / sizeof *unknown; i++) {
        uint8_t two[2] = {(uint8_t)(0x80 | unknown[i]), 0x80};
        CHECK_EQ_INT(parse_copy(two, 2, true, 125, &f, NULL), WS_E_PROTOCOL);
    }
    /* control frames must be final and <= 125 */
    uint8_t nf[2] = {0x09, 0x80};
    CHECK_EQ_INT(parse_copy(nf, 2, true, 1000, &f, NULL), WS_E_PROTOCOL);
    uint8_t lc[4] = {0x89, 0xfe, 0x00, 0x7e};
    CHECK_EQ_INT(parse_copy(lc, 2, true, 1000, &f, NULL), WS_E_PROTOCOL);
    uint8_t c125[2] = {0x88, 0xfd};
    CHECK_EQ_INT(parse_copy(c125, 2, true, 1000, &f, NULL), WS_PARTIAL);
    /* 64-bit length with the MSB set */
    uint8_t msb[10] = {0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1};
    CHECK_EQ_INT(parse_copy(msb, 10, true, SIZE_MAX, &f, NULL), WS_E_PROTOCOL);
    /* largest legal 64-bit length: too big, not a crash or overflow */
    uint8_t huge[10] = {0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    CHECK_EQ_INT(parse_copy(huge, 10, true, SIZE_MAX, &f, NULL), WS_E_TOO_BIG);
    CHECK_EQ_INT(parse_copy(huge, 9, true, SIZE_MAX, &f, NULL), WS_PARTIAL);
    /* too big from the 16-bit header alone, limit exact */
    uint8_t l16[4] = {0x82, 0xfe, 0x01, 0x00};
    CHECK_EQ_INT(parse_copy(l16, 4, true, 255, &f, NULL), WS_E_TOO_BIG);
    CHECK_EQ_INT(parse_copy(l16, 4, true, 256, &f, NULL), WS_PARTIAL);
    CHECK_EQ_INT(parse_copy(l16, 3, true, 255, &f, NULL), WS_PARTIAL);
    /* the minimal length encoding is not required */
    uint8_t nm[] = {0x81, 0xfe, 0x00, 0x01, 0, 0, 0, 0, 'x'};
    CHECK_EQ_INT(parse_copy(nm, sizeof nm, true, 125, &f, NULL), 9);
    CHECK_EQ_INT(f.payload_len, 1);
    uint8_t nm64[] = {0x82, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4};
    CHECK_EQ_INT(parse_copy(nm64, sizeof nm64, true, 125, &f, NULL), 14);
    CHECK_EQ_INT(f.payload_len, 0);
    /* short input and bad arguments */
    CHECK_EQ_INT(parse_copy(nf, 0, true, 125, &f, NULL), WS_PARTIAL);
    static const uint8_t one[1] = {0x81};
    CHECK_EQ_INT(parse_copy(one, 1, true, 125, &f, NULL), WS_PARTIAL);
    CHECK_EQ_INT(ws_frame_parse(NULL, 2, true, 125, &f), WS_E_PROTOCOL);
    CHECK_EQ_INT(ws_frame_parse(nf, 2, true, 125, NULL), WS_E_PROTOCOL);
}

static void test_header_encode(void)
{
    static const uint64_t lens[] = {0, 1, 125, 126, 65535, 65536, (uint64_t)1 << 40};
    static const size_t hlen[] = {2, 2, 2, 4, 4, 10, 10};
    for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
        uint8_t h[10];
        size_t n = ws_frame_header_encode(h, true, WS_OP_BINARY, lens[i]);
        CHECK_EQ_INT(n, hlen[i]);
        CHECK_EQ_INT(h[0], 0x82);
        CHECK_EQ_INT(h[1] & 0x80, 0); /* server frames are unmasked */
        ws_frame f;
        CHECK_EQ_INT(ws_frame_parse(h, n, false, SIZE_MAX, &f), lens[i] ? WS_PARTIAL : 2);
        if (lens[i] < 126) CHECK_EQ_INT(h[1], lens[i]);
    }
    uint8_t h[10];
    ws_frame_header_encode(h, false, WS_OP_TEXT, 5);
    CHECK_EQ_INT(h[0], 0x01);
    ws_frame_header_encode(h, true, WS_OP_CONTINUATION, 65536);
    static const uint8_t want[10] = {0x80, 127, 0, 0, 0, 0, 0, 1, 0, 0};
    CHECK_EQ_MEM(h, 10, want, 10);
}

static void test_close_encode(void)
{
    uint8_t out[125];
    size_t n = ws_close_payload_encode(out, 1000, "bye");
    CHECK_EQ_MEM(out, n,
                 "\x03\xe8"
                 "bye",
                 5);
    CHECK_EQ_INT(ws_close_payload_encode(out, 1009, NULL), 2);
    CHECK_EQ_INT(out[0], 0x03);
    CHECK_EQ_INT(out[1], 0xf1);
    char long_reason[300];
    memset(long_reason, 'r', sizeof long_reason - 1);
    long_reason[sizeof long_reason - 1] = '\0';
    CHECK_EQ_INT(ws_close_payload_encode(out, 1000, long_reason), 125);
    /* a 2-byte char straddling byte 123 is dropped whole */
    memset(long_reason, 'r', 122);
    memcpy(long_reason + 122, "\xc3\xa9xyz", 6);
    n = ws_close_payload_encode(out, 1000, long_reason);
    CHECK_EQ_INT(n, 124);
    CHECK(ws_utf8_valid(out + 2, n - 2));
}

/* ---- handshake ---------------------------------------------------------- */

static void test_accept_key(void)
{
    char out[29];
    /* RFC 6455 §1.3 */
    CHECK(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", 24, out));
    CHECK_EQ_STR(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    char *k = (char *)exact_copy("dGhlIHNhbXBsZSBub25jZQ==", 24); /* not NUL-terminated */
    CHECK(ws_accept_key(k, 24, out));
    CHECK_EQ_STR(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    free(k);
    CHECK(!ws_accept_key("dGhlIHNhbXBsZSBub25jZQ=", 23, out));
    CHECK(!ws_accept_key("dGhlIHNhbXBsZSBub25jZQ===", 25, out));
    CHECK(!ws_accept_key("dGhlIHNhbXBsZSBub25jZQ!=", 24, out));
    CHECK(!ws_accept_key("dGhlIHNhbXBsZSBub25jZQab", 24, out)); /* 18 bytes, not 16 */
    CHECK(!ws_accept_key("", 0, out));
    CHECK(!ws_accept_key(NULL, 24, out));
}

/* ---- UTF-8 -------------------------------------------------------------- */

static bool utf8(const char *s, size_t len)
{
    uint8_t *p = exact_copy(s, len);
    bool ok = ws_utf8_valid(p, len);
    free(p);
    return ok;
}

static void test_utf8(void)
{
    static const char *const good[] = {
        "",
        "hello",
        "\xc2\x80",
        "\xdf\xbf",
        "\xe0\xa0\x80",
        "\xed\x9f\xbf",
        "\xee\x80\x80",
        "\xef\xbf\xbf",
        "\xf0\x90\x80\x80",
        "\xf4\x8f\xbf\xbf",
        "\xce\xba\xe1\xbd\xb9\xcf\x83",
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        CHECK(utf8(good[i], strlen(good[i])));
    CHECK(utf8("a\0b", 3)); /* U+0000 is valid UTF-8 */
    static const char *const bad[] = {
        "\x80",             /* lone continuation */
        "\xc0\x80",         /* overlong NUL */
        "\xc1\xbf",         /* overlong */
        "\xe0\x80\x80",     /* overlong 3-byte */
        "\xe0\x9f\xbf",     /* overlong 3-byte */
        "\xf0\x80\x80\x80", /* overlong 4-byte */
        "\xf0\x8f\xbf\xbf", /* overlong 4-byte */
        "\xed\xa0\x80",     /* surrogate U+D800 */
        "\xed\xbf\xbf",     /* surrogate U+DFFF */
        "\xf4\x90\x80\x80", /* U+110000 */
        "\xf5\x80\x80\x80", /* beyond */
        "\xff",
        "\xfe",
        "\xc2",             /* truncated at the end */
        "\xe2\x82",         /* truncated at the end */
        "\xf0\x90\x80",     /* truncated at the end */
        "\xc2\x41",         /* bad continuation */
        "\xe2\x28\xa1",     /* bad continuation */
        "\xf0\x90\x28\xbc", /* bad continuation */
        "abc\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80!edited",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        bool ok = utf8(bad[i], strlen(bad[i]));
        if (ok) fprintf(stderr, "bad utf8 %zu accepted\n", i);
        CHECK(!ok);
    }
    CHECK(ws_utf8_valid(NULL, 0));
}

/* ---- reader ------------------------------------------------------------- */

typedef struct stream {
    uint8_t buf[4096];
    size_t len;
} stream;

static void put(stream *s, unsigned first_byte, const void *payload, size_t len)
{
    s->len += client_frame(s->buf + s->len, first_byte, payload, len);
}

typedef struct got {
    int msgs, texts, binaries, pings, pongs, closes, errors;
    int last_err;
    char text[1024];
    size_t text_len;
    uint16_t close_code;
} got;

/* Feeds a copy of s to a fresh reader, delivering bytes `step` at a time
 * (step 0: all at once) like a socket would, and counts what came out. */
static void run(const stream *s, size_t step, size_t max_message, got *g)
{
    memset(g, 0, sizeof *g);
    ws_reader r;
    ws_reader_init(&r, max_message);
    uint8_t *copy = exact_copy(s->buf, s->len);
    size_t start = 0, avail = step ? 0 : s->len;
    for (;;) {
        /* exact-size window of the bytes "received" so far */
        uint8_t *win = exact_copy(copy + start, avail - start);
        size_t used = 0;
        ws_message m;
        int rc = ws_reader_feed(&r, win, avail - start, &used, &m);
        if (rc == 1) {
            g->msgs++;
            if (m.opcode == WS_OP_TEXT) {
                g->texts++;
                g->text_len = m.len < sizeof g->text ? m.len : sizeof g->text;
                if (m.len) memcpy(g->text, m.data, g->text_len);
            }
            if (m.opcode == WS_OP_BINARY) g->binaries++;
            if (m.opcode == WS_OP_PING) g->pings++;
            if (m.opcode == WS_OP_PONG) g->pongs++;
            if (m.opcode == WS_OP_CLOSE) {
                g->closes++;
                g->close_code = m.close_code;
            }
        }
        /* write back the unmasked bytes, as if parsed in the caller's buffer */
        memcpy(copy + start, win, used);
        free(win);
        if (rc < 0) {
            g->errors++;
            g->last_err = rc;
            break;
        }
        start += used;
        if (used == 0) {
            if (avail == s->len) break;
            avail = step ? (avail + step < s->len ? avail + step : s->len) : s->len;
        }
    }
    CHECK(!r.in_fragmented || g->errors || start < s->len);
    /* the last feed found nothing to do, so an idle reader holds no memory */
    if (!r.in_fragmented) CHECK(r.fragments.data == NULL);
    ws_reader_cleanup(&r);
    CHECK(r.fragments.data == NULL);
    free(copy);
}

static void run_all_steps(const stream *s, size_t max, const got *want)
{
    static const size_t steps[] = {0, 1, 2, 3, 7, 64};
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
        got g;
        run(s, steps[i], max, &g);
        CHECK_EQ_INT(g.msgs, want->msgs);
        CHECK_EQ_INT(g.texts, want->texts);
        CHECK_EQ_INT(g.binaries, want->binaries);
        CHECK_EQ_INT(g.pings, want->pings);
        CHECK_EQ_INT(g.closes, want->closes);
        CHECK_EQ_INT(g.errors, want->errors);
        CHECK_EQ_INT(g.last_err, want->last_err);
        if (want->texts) CHECK_EQ_MEM(g.text, g.text_len, want->text, want->text_len);
        if (want->closes) CHECK_EQ_INT(g.close_code, want->close_code);
    }
}

static void test_reader_messages(void)
{
    stream s = {.len = 0};
    put(&s, 0x81, "42[\"join\",\"room\"]", 17);
    put(&s, 0x82, "\x01\x02", 2);
    put(&s, 0x01, "fra", 3);    /* text start */
    put(&s, 0x89, "ping", 4);   /* control in between */
    put(&s, 0x00, "gm\xc3", 3); /* a char split over fragments */
    put(&s, 0x8a, "", 0);       /* pong, empty */
    put(&s, 0x00, "", 0);       /* empty continuation */
    put(&s, 0x80, "\xa9nt", 3); /* final */
    put(&s, 0x88,
        "\x03\xe8"
        "done",
        6); /* close 1000 */
    got want = {.msgs = 6, .texts = 2, .binaries = 1, .pings = 1, .closes = 1, .close_code = 1000};
    memcpy(want.text, "fragm\xc3\xa9nt", 9);
    want.text_len = 9;
    run_all_steps(&s, 1000, &want);
}

static void test_reader_fragmented_binary_and_memory(void)
{
    ws_reader r;
    ws_reader_init(&r, 100);
    CHECK(r.fragments.data == NULL);
    uint8_t f1[32], f2[32];
    size_t n1 = client_frame(f1, 0x02, "abc", 3), n2 = client_frame(f2, 0x80, "de", 2);
    size_t used;
    ws_message m;
    CHECK_EQ_INT(ws_reader_feed(&r, f1, n1, &used, &m), 0);
    CHECK_EQ_INT(used, n1);
    CHECK(r.in_fragmented);
    CHECK_EQ_INT(r.frag_opcode, WS_OP_BINARY);
    CHECK_EQ_INT(ws_reader_feed(&r, f2, n2, &used, &m), 1);
    CHECK_EQ_INT(m.opcode, WS_OP_BINARY);
    CHECK_EQ_MEM(m.data, m.len, "abcde", 5);
    CHECK(!r.in_fragmented);
    CHECK_EQ_INT(r.frag_opcode, 0);
    /* the next feed (nothing left to parse) frees the delivered buffer */
    CHECK_EQ_INT(ws_reader_feed(&r, f2, 0, &used, &m), 0);
    CHECK_EQ_INT(used, 0);
    CHECK(r.fragments.data == NULL);
    ws_reader_cleanup(&r);
    ws_reader_cleanup(NULL);

    /* an unfragmented message is never copied */
    ws_reader_init(&r, 100);
    n1 = client_frame(f1, 0x81, "hi", 2);
    CHECK_EQ_INT(ws_reader_feed(&r, f1, n1, &used, &m), 1);
    CHECK(m.data == f1 + 6);
    CHECK(r.fragments.data == NULL);
    ws_reader_cleanup(&r);
}

static void expect_error(stream *s, size_t max, int err)
{
    got want = {.errors = 1, .last_err = err};
    /* messages before the bad frame still count */
    got g;
    run(s, 0, max, &g);
    want.msgs = g.msgs;
    want.texts = g.texts;
    want.binaries = g.binaries;
    want.pings = g.pings;
    want.closes = g.closes;
    want.close_code = g.close_code;
    memcpy(want.text, g.text, g.text_len);
    want.text_len = g.text_len;
    run_all_steps(s, max, &want);
}

static void test_reader_errors(void)
{
    stream s;
    s.len = 0;
    put(&s, 0x80, "x", 1); /* continuation without a start */
    expect_error(&s, 100, WS_E_PROTOCOL);

    s.len = 0;
    put(&s, 0x01, "a", 1);
    put(&s, 0x81, "b", 1); /* new text while fragmented */
    expect_error(&s, 100, WS_E_PROTOCOL);

    s.len = 0;
    put(&s, 0x02, "a", 1);
    put(&s, 0x02, "b", 1); /* new binary start while fragmented */
    expect_error(&s, 100, WS_E_PROTOCOL);

    s.len = 0;
    put(&s, 0x81, "ok", 2);
    put(&s, 0x81, "\xc3\x28", 2); /* invalid UTF-8 */
    expect_error(&s, 100, WS_E_UTF8);

    s.len = 0;
    put(&s, 0x01, "\xe2\x82", 2);
    put(&s, 0x80, "", 0); /* message ends inside a character */
    expect_error(&s, 100, WS_E_UTF8);

    s.len = 0;
    put(&s, 0x82, "0123456789", 10); /* single frame over the limit */
    expect_error(&s, 9, WS_E_TOO_BIG);

    s.len = 0;
    put(&s, 0x02, "01234", 5);
    put(&s, 0x00, "56789", 5); /* fragments sum over the limit */
    expect_error(&s, 9, WS_E_TOO_BIG);

    s.len = 0;
    put(&s, 0x82, "", 0);
    s.buf[s.len - 5] &= 0x7f; /* an unmasked client frame */
    s.len -= 4;
    expect_error(&s, 9, WS_E_PROTOCOL);

    /* a ping fits although the message budget is nearly used up */
    s.len = 0;
    put(&s, 0x02, "012345678", 9);
    put(&s, 0x89, "0123456789012345678901234567890123456789", 40);
    put(&s, 0x80, "", 0);
    got want = {.msgs = 2, .binaries = 1, .pings = 1};
    run_all_steps(&s, 9, &want);
    s.len = 0;
    put(&s, 0x02, "012345678", 9);
    put(&s, 0x80, "9", 1); /* a short continuation over the budget */
    expect_error(&s, 9, WS_E_TOO_BIG);
}

static void test_reader_close(void)
{
    stream s;
    got want = {.msgs = 1, .closes = 1, .close_code = 1005};
    s.len = 0;
    put(&s, 0x88, "", 0);
    run_all_steps(&s, 100, &want);

    s.len = 0;
    put(&s, 0x88, "\x03", 1); /* 1-byte payload */
    expect_error(&s, 100, WS_E_PROTOCOL);

    s.len = 0;
    put(&s, 0x88, "\x03\xe8\xff", 3); /* bad UTF-8 reason */
    expect_error(&s, 100, WS_E_PROTOCOL);

    static const unsigned ok[] = {1000, 1001, 1002, 1003, 1007, 1008, 1009,
                                  1010, 1011, 1012, 1013, 1014, 3000, 4999};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        uint8_t p[2] = {(uint8_t)(ok[i] >> 8), (uint8_t)ok[i]};
        s.len = 0;
        put(&s, 0x88, p, 2);
        want.close_code = (uint16_t)ok[i];
        run_all_steps(&s, 100, &want);
    }
    static const unsigned bad[] = {0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        uint8_t p[2] = {(uint8_t)(bad[i] >> 8), (uint8_t)bad[i]};
        s.len = 0;
        put(&s, 0x88, p, 2);
        expect_error(&s, 100, WS_E_PROTOCOL);
    }

    /* the message carries the reason; the code comes separately */
    ws_reader r;
    ws_reader_init(&r, 100);
    uint8_t fr[32];
    size_t n = client_frame(fr, 0x88, "\x0f\xa0gone", 6), used;
    ws_message m;
    CHECK_EQ_INT(ws_reader_feed(&r, fr, n, &used, &m), 1);
    CHECK_EQ_INT(m.opcode, WS_OP_CLOSE);
    CHECK_EQ_INT(m.close_code, 4000);
    CHECK_EQ_MEM(m.data, m.len, "gone", 4);
    ws_reader_cleanup(&r);
}

static void test_reader_args_and_codes(void)
{
    ws_reader r;
    ws_reader_init(&r, 10);
    size_t used;
    ws_message m;
    CHECK_EQ_INT(ws_reader_feed(NULL, NULL, 0, &used, &m), WS_E_PROTOCOL);
    CHECK_EQ_INT(ws_reader_feed(&r, NULL, 5, &used, &m), WS_E_PROTOCOL);
    CHECK_EQ_INT(ws_reader_feed(&r, NULL, 0, &used, &m), 0);
    ws_reader_cleanup(&r);

    CHECK_EQ_INT(ws_error_close_code(WS_E_PROTOCOL), WS_CLOSE_PROTOCOL_ERROR);
    CHECK_EQ_INT(ws_error_close_code(WS_E_TOO_BIG), WS_CLOSE_TOO_BIG);
    CHECK_EQ_INT(ws_error_close_code(WS_E_UTF8), WS_CLOSE_INVALID_DATA);
    CHECK_EQ_INT(ws_error_close_code(WS_E_NOMEM), 1011);
    CHECK_EQ_STR(ws_strerror(WS_PARTIAL), "incomplete frame");
    CHECK_EQ_STR(ws_strerror(WS_E_PROTOCOL), "WebSocket protocol error");
    CHECK_EQ_STR(ws_strerror(WS_E_TOO_BIG), "message too big");
    CHECK_EQ_STR(ws_strerror(WS_E_UTF8), "invalid UTF-8 in text message");
    CHECK_EQ_STR(ws_strerror(WS_E_NOMEM), "out of memory");
    CHECK_EQ_STR(ws_strerror(-99), "unknown error");
}

/* Client frames: the masked header is the unmasked one plus the MASK bit and
 * the key, and what the server-side parser reads back is the payload. */
static void test_masked_encode(void)
{
    static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
    uint8_t out[14];
    /* RFC 6455 §5.7: masked "Hello" */
    CHECK_EQ_INT(ws_frame_header_encode_masked(out, true, WS_OP_TEXT, 5, key), 6);
    uint8_t frame[6 + 5];
    memcpy(frame, out, 6);
    memcpy(frame + 6, "Hello", 5);
    ws_mask(frame + 6, 5, key, 0);
    static const uint8_t rfc[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
    CHECK_EQ_MEM(frame, sizeof frame, rfc, sizeof rfc);
    /* header sizes at the length boundaries */
    CHECK_EQ_INT(ws_frame_header_encode_masked(out, true, WS_OP_BINARY, 125, key), 6);
    CHECK_EQ_INT(ws_frame_header_encode_masked(out, true, WS_OP_BINARY, 126, key), 8);
    CHECK_EQ_INT(out[1], 0x80 | 126);
    CHECK_EQ_MEM(out + 4, 4, key, 4);
    CHECK_EQ_INT(ws_frame_header_encode_masked(out, false, WS_OP_BINARY, 65536, key), 14);
    CHECK_EQ_INT(out[0], WS_OP_BINARY);
    CHECK_EQ_INT(out[1], 0x80 | 127);
    CHECK_EQ_MEM(out + 10, 4, key, 4);
    /* masking in pieces equals masking at once; twice is the identity */
    uint8_t a[1000], b[1000], orig[1000];
    for (int i = 0; i < 1000; i++)
        orig[i] = a[i] = b[i] = (uint8_t)(i * 7);
    ws_mask(a, 1000, key, 0);
    ws_mask(b, 3, key, 0);
    ws_mask(b + 3, 500, key, 3);
    ws_mask(b + 503, 497, key, 503);
    CHECK_EQ_MEM(a, 1000, b, 1000);
    ws_mask(a, 1000, key, 0);
    CHECK_EQ_MEM(a, 1000, orig, 1000);
    /* round trip through the server parser, 70000-byte payload */
    size_t n = 70000;
    uint8_t *f = malloc(14 + n);
    size_t h = ws_frame_header_encode_masked(f, true, WS_OP_BINARY, n, key);
    for (size_t i = 0; i < n; i++)
        f[h + i] = (uint8_t)(i % 251);
    ws_mask(f + h, n, key, 0);
    ws_frame fr;
    CHECK_EQ_INT(ws_frame_parse(f, h + n, true, n, &fr), (long)(h + n));
    CHECK_EQ_INT(fr.payload_len, n);
    bool same = true;
    for (size_t i = 0; i < n; i++)
        same &= fr.payload[i] == (uint8_t)(i % 251);
    CHECK(same);
    free(f);
}

int main(void)
{
    test_masked_encode();
    test_rfc_examples();
    test_every_prefix();
    test_frame_errors();
    test_header_encode();
    test_close_encode();
    test_accept_key();
    test_utf8();
    test_reader_messages();
    test_reader_fragmented_binary_and_memory();
    test_reader_errors();
    test_reader_close();
    test_reader_args_and_codes();
    return CHECK_DONE();
}
