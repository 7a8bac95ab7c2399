/* test_base.c: base64 against the RFC 4648 §10 vectors (padded and, as
 * Node's Buffer accepts, unpadded), and pd_buf's ceiling, growth, consume
 * and steal. Inputs sit at the end of exact-size mallocs. */
#include "check.h"

#include "base/base64.h"
#include "base/buf.h"
#include "base/utf8.h"

#include <stdint.h>

static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
static const char *const coded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};

static long decode_exact(const char *s, size_t len, uint8_t *out)
{
    char *p = malloc(len ? len : 1);
    if (len) memcpy(p, s, len);
    long n = pd_base64_decode(p, len, out);
    free(p);
    return n;
}

static void test_base64_vectors(void)
{
    for (size_t i = 0; i < sizeof plain / sizeof *plain; i++) {
        char enc[16];
        size_t n = pd_base64_encode((const uint8_t *)plain[i], strlen(plain[i]), enc);
        CHECK_EQ_INT(n, PD_BASE64_ENCODED_LEN(strlen(plain[i])));
        CHECK_EQ_MEM(enc, n, coded[i], strlen(coded[i]));

        uint8_t dec[16];
        long d = decode_exact(coded[i], strlen(coded[i]), dec);
        CHECK_EQ_INT(d, strlen(plain[i]));
        CHECK(d >= 0 && d <= (long)PD_BASE64_DECODED_MAX(strlen(coded[i])));
        if (d >= 0) CHECK_EQ_MEM(dec, (size_t)d, plain[i], strlen(plain[i]));

        /* the same without padding */
        size_t unpadded = strlen(coded[i]);
        while (unpadded && coded[i][unpadded - 1] == '=')
            unpadded--;
        d = decode_exact(coded[i], unpadded, dec);
        CHECK_EQ_INT(d, strlen(plain[i]));
        if (d >= 0) CHECK_EQ_MEM(dec, (size_t)d, plain[i], strlen(plain[i]));
    }
}

static void test_base64_bad_and_binary(void)
{
    uint8_t dec[16];
    static const char *const bad[] = {
        "Z", "Zm9vY", "Zm9v!A==", "Zm=v", "Z===", "Zg===", "Zm9v\n", "Zm 9", "=", "==Zg"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK_EQ_INT(decode_exact(bad[i], strlen(bad[i]), dec), -1);

    uint8_t all[256], back[PD_BASE64_DECODED_MAX(PD_BASE64_ENCODED_LEN(256))];
    char enc[PD_BASE64_ENCODED_LEN(256)];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    for (size_t len = 0; len <= 256; len += 37) {
        size_t n = pd_base64_encode(all, len, enc);
        CHECK_EQ_INT(decode_exact(enc, n, back), len);
        CHECK(memcmp(all, back, len) == 0);
    }
    /* "+/" are the standard alphabet's last two digits */
    static const uint8_t ff[3] = {0xfb, 0xff, 0xbf};
    CHECK_EQ_INT(pd_base64_encode(ff, 3, enc), 4);
    CHECK_EQ_MEM(enc, 4, "+/+/", 4);
}

static void test_buf_basics(void)
{
    pd_buf b;
    pd_buf_init(&b, 1000);
    CHECK(b.data == NULL);
    CHECK_EQ_INT(b.len, 0);
    CHECK_EQ_INT(b.cap, 0);
    CHECK_EQ_INT(b.max, 1000);
    CHECK_EQ_INT(pd_buf_append(&b, "x", 0), PD_BUF_OK);
    CHECK(b.data == NULL); /* empty appends allocate nothing */
    CHECK_EQ_INT(pd_buf_append(&b, "abc", 3), PD_BUF_OK);
    CHECK_EQ_INT(b.cap, 256);
    CHECK_EQ_INT(pd_buf_append_byte(&b, 'd'), PD_BUF_OK);
    CHECK_EQ_INT(pd_buf_append_str(&b, "ef"), PD_BUF_OK);
    CHECK_EQ_INT(pd_buf_printf(&b, "-%d-", 42), PD_BUF_OK);
    CHECK_EQ_MEM(b.data, b.len, "abcdef-42-", 10);
    /* growth doubles */
    uint8_t block[300];
    memset(block, 'z', sizeof block);
    CHECK_EQ_INT(pd_buf_append(&b, block, 300), PD_BUF_OK);
    CHECK_EQ_INT(b.len, 310);
    CHECK_EQ_INT(b.cap, 512);
    /* reserve + commit */
    uint8_t *w = pd_buf_reserve(&b, 5);
    CHECK(w != NULL);
    if (w) memcpy(w, "12345", 5);
    pd_buf_commit(&b, 5);
    CHECK_EQ_INT(b.len, 315);
    CHECK_EQ_MEM(b.data + 310, 5, "12345", 5);
    /* consume part, then all: storage goes back */
    pd_buf_consume(&b, 3);
    CHECK_EQ_INT(b.len, 312);
    CHECK_EQ_MEM(b.data, 3, "def", 3);
    pd_buf_consume(&b, 312);
    CHECK(b.data == NULL);
    CHECK_EQ_INT(b.len, 0);
    CHECK_EQ_INT(b.cap, 0);
    CHECK_EQ_INT(b.max, 1000);
    pd_buf_consume(&b, 5); /* more than there is */
    CHECK(b.data == NULL);
    pd_buf_reset(&b);
}

static void test_buf_ceiling(void)
{
    pd_buf b;
    pd_buf_init(&b, 600);
    uint8_t block[700];
    memset(block, 'a', sizeof block);
    CHECK_EQ_INT(pd_buf_append(&b, block, 601), PD_BUF_E_FULL);
    CHECK(b.data == NULL);
    CHECK_EQ_INT(pd_buf_append(&b, block, 599), PD_BUF_OK);
    CHECK_EQ_INT(pd_buf_append(&b, block, 2), PD_BUF_E_FULL);
    CHECK_EQ_INT(b.len, 599); /* a failed append changes nothing */
    CHECK_EQ_INT(pd_buf_append_byte(&b, 'b'), PD_BUF_OK);
    CHECK_EQ_INT(b.len, 600);
    CHECK(b.cap <= 601); /* growth clamps to max (+1 for a NUL) */
    CHECK_EQ_INT(pd_buf_append_byte(&b, 'c'), PD_BUF_E_FULL);
    CHECK_EQ_INT(pd_buf_append_str(&b, "c"), PD_BUF_E_FULL);
    CHECK_EQ_INT(pd_buf_printf(&b, "%s", "c"), PD_BUF_E_FULL);
    CHECK(pd_buf_reserve(&b, 1) != NULL); /* the one byte of slack for a NUL */
    CHECK(pd_buf_reserve(&b, 2) == NULL);
    CHECK_EQ_INT(pd_buf_append(&b, block, SIZE_MAX), PD_BUF_E_FULL); /* no overflow */
    pd_buf_reset(&b);
    CHECK(b.data == NULL);
    CHECK_EQ_INT(b.max, 600);

    /* printf that exactly fills */
    pd_buf_init(&b, 4);
    CHECK_EQ_INT(pd_buf_printf(&b, "%04d", 7), PD_BUF_OK);
    CHECK_EQ_MEM(b.data, b.len, "0007", 4);
    CHECK_EQ_INT(b.data[4], '\0');
    pd_buf_reset(&b);
}

static void test_buf_steal(void)
{
    pd_buf b;
    pd_buf_init(&b, 100);
    pd_buf_append_str(&b, "hello");
    size_t len = 0;
    uint8_t *d = pd_buf_steal(&b, &len);
    CHECK(d != NULL);
    CHECK_EQ_INT(len, 5);
    if (d) CHECK_EQ_MEM(d, len, "hello", 5);
    CHECK(b.data == NULL);
    CHECK_EQ_INT(b.len, 0);
    CHECK_EQ_INT(b.cap, 0);
    CHECK_EQ_INT(b.max, 100);
    free(d);
    /* the buffer is reusable; stealing an empty one gives NULL */
    CHECK_EQ_INT(pd_buf_append_str(&b, "x"), PD_BUF_OK);
    pd_buf_reset(&b);
    d = pd_buf_steal(&b, NULL);
    CHECK(d == NULL);
}

/* RFC 3629 section 3 and the Unicode table of well-formed sequences: each
 * valid form at its edges, and each kind of ill-formed input. */
static void test_utf8_next(void)
{
    static const struct {
        const char *bytes;
        size_t len;
        size_t want_len; /* 0: invalid */
        unsigned want_cp;
    } cases[] = {
        {"A", 1, 1, 0x41},
        {"\x7f", 1, 1, 0x7F},
        {"\xc2\x80", 2, 2, 0x80},
        {"\xdf\xbf", 2, 2, 0x7FF},
        {"\xe0\xa0\x80", 3, 3, 0x800},
        {"\xe2\x80\xae", 3, 3, 0x202E}, /* RIGHT-TO-LEFT OVERRIDE */
        {"\xef\xbb\xbf", 3, 3, 0xFEFF},
        {"\xf0\x90\x80\x80", 4, 4, 0x10000},
        {"\xf4\x8f\xbf\xbf", 4, 4, 0x10FFFF},
        {"\x80", 1, 0, 0},                 /* stray continuation byte */
        {"\xc0\xaf", 2, 0, 0},             /* overlong '/' */
        {"\xe0\x80\xaf", 3, 0, 0},         /* overlong '/' */
        {"\xed\xa0\x80", 3, 0, 0},         /* surrogate U+D800 */
        {"\xf4\x90\x80\x80", 4, 0, 0},     /* U+110000 */
        {"\xe2\x80", 2, 0, 0},             /* truncated */
        {"\xe2\x28\xae", 3, 0, 0},         /* bad continuation */
        {"\xf8\x88\x80\x80\x80", 5, 0, 0}, /* 5-byte form */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned cp = 0xFFFFFFFFu;
        size_t n = pd_utf8_next((const unsigned char *)cases[i].bytes, cases[i].len, 0, &cp);
        CHECK_EQ_INT(n, cases[i].want_len);
        if (cases[i].want_len) CHECK_EQ_INT(cp, cases[i].want_cp);
    }
    /* decoding starts at i and never reads past len */
    const unsigned char two[] = {'a', 0xc3, 0xa9};
    unsigned cp = 0;
    CHECK_EQ_INT(pd_utf8_next(two, 3, 1, &cp), 2);
    CHECK_EQ_INT(cp, 0xE9);
    CHECK_EQ_INT(pd_utf8_next(two, 2, 1, &cp), 0);
}

int main(void)
{
    test_base64_vectors();
    test_base64_bad_and_binary();
    test_buf_basics();
    test_buf_ceiling();
    test_buf_steal();
    test_utf8_next();
    return CHECK_DONE();
}
