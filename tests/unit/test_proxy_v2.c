/* test_proxy_v2.c: the PROXY protocol v2 header (src/base/proxy_v2, for
 * --trust-proxy): the spec's layouts (haproxy doc/proxy-protocol.txt 2.2),
 * a header arriving a byte at a time, the bytes after it, LOCAL, and every
 * kind of refusal. The first vector is what HAProxy sent for a client
 * 172.19.0.1:42578 to 172.19.0.3:80 (captured with netcat). */
#include <arpa/inet.h>

#include "../../src/base/proxy_v2.h"
#include "check.h"

#define SIG 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A
#define MAX 1024

static const uint8_t haproxy_v4[] = {SIG,  0x21, 0x11, 0x00, 0x0c, 0xac, 0x13, 0x00, 0x01, 0xac,
                                     0x13, 0x00, 0x03, 0xa6, 0x52, 0x00, 0x50, 'G',  'E',  'T'};

static void text_of(const pd_ip *a, char *out)
{
    pd_ip_to_text(a, out);
}

static void test_ipv4(void)
{
    proxy_v2_header h;
    const char *why;
    CHECK_EQ_INT(proxy_v2_parse(haproxy_v4, sizeof haproxy_v4, MAX, &h, &why), PROXY_V2_OK);
    CHECK_EQ_INT(h.len, 28);
    CHECK(!h.local);
    char t[PD_IP_TEXT_LEN];
    text_of(&h.src, t);
    CHECK(strcmp(t, "172.19.0.1") == 0);
    text_of(&h.dst, t);
    CHECK(strcmp(t, "172.19.0.3") == 0);
    CHECK_EQ_INT(h.src_port, 42578);
    CHECK_EQ_INT(h.dst_port, 80);
    CHECK(memcmp(haproxy_v4 + h.len, "GET", 3) == 0);
    /* a byte at a time: NEED_MORE until the last byte of the header */
    for (size_t n = 0; n < 28; n++)
        CHECK_EQ_INT(proxy_v2_parse(haproxy_v4, n, MAX, &h, &why), PROXY_V2_NEED_MORE);
    CHECK_EQ_INT(proxy_v2_parse(haproxy_v4, 28, MAX, &h, &why), PROXY_V2_OK);
}

static void test_ipv6_and_tlvs(void)
{
    uint8_t b[16 + 36 + 7] = {SIG, 0x21, 0x21, 0x00, 36 + 7};
    inet_pton(AF_INET6, "2001:db8:1:2::99", b + 16);
    inet_pton(AF_INET6, "2001:db8::1", b + 32);
    b[48] = 0x30, b[49] = 0x39; /* 12345 */
    b[50] = 0x01, b[51] = 0xbb; /* 443 */
    /* one TLV (PP2_TYPE_ALPN "h2"), skipped */
    b[52] = 0x01, b[53] = 0x00, b[54] = 0x02, b[55] = 'h', b[56] = '2';
    b[57] = 0x04, b[58] = 0x00; /* PP2_TYPE_NOOP, cut: still inside the length */
    proxy_v2_header h;
    CHECK_EQ_INT(proxy_v2_parse(b, sizeof b, MAX, &h, NULL), PROXY_V2_OK);
    CHECK_EQ_INT(h.len, sizeof b);
    char t[PD_IP_TEXT_LEN];
    text_of(&h.src, t);
    CHECK(strcmp(t, "2001:db8:1:2::99") == 0);
    CHECK_EQ_INT(h.src_port, 12345);
    CHECK_EQ_INT(h.dst_port, 443);
    /* over the cap */
    CHECK_EQ_INT(proxy_v2_parse(b, sizeof b, sizeof b - 1, &h, NULL), PROXY_V2_INVALID);
    /* an IPv4-mapped source is its IPv4 address */
    inet_pton(AF_INET6, "::ffff:198.51.100.7", b + 16);
    CHECK_EQ_INT(proxy_v2_parse(b, sizeof b, MAX, &h, NULL), PROXY_V2_OK);
    CHECK(pd_ip_is_v4(&h.src));
}

static void test_local(void)
{
    /* HAProxy's health checks with check-send-proxy: LOCAL, UNSPEC */
    const uint8_t local[] = {SIG, 0x20, 0x00, 0x00, 0x00};
    proxy_v2_header h;
    CHECK_EQ_INT(proxy_v2_parse(local, sizeof local, MAX, &h, NULL), PROXY_V2_OK);
    CHECK(h.local);
    CHECK_EQ_INT(h.len, 16);
    /* LOCAL with addresses: taken, addresses ignored */
    uint8_t local4[28];
    memcpy(local4, haproxy_v4, 28);
    local4[12] = 0x20;
    CHECK_EQ_INT(proxy_v2_parse(local4, sizeof local4, MAX, &h, NULL), PROXY_V2_OK);
    CHECK(h.local);
}

static void test_refused(void)
{
    proxy_v2_header h;
    const char *why = NULL;
    /* no header at all: refused at the first byte */
    CHECK_EQ_INT(proxy_v2_parse((const uint8_t *)"G", 1, MAX, &h, &why), PROXY_V2_INVALID);
    CHECK(why != NULL);
    CHECK_EQ_INT(proxy_v2_parse((const uint8_t *)"GET / HTTP/1.1\r\n", 16, MAX, &h, &why),
                 PROXY_V2_INVALID);
    /* version 1 */
    const char *v1 = "PROXY TCP4 192.0.2.1 192.0.2.2 1234 80\r\n";
    CHECK_EQ_INT(proxy_v2_parse((const uint8_t *)v1, strlen(v1), MAX, &h, &why), PROXY_V2_INVALID);
    CHECK(strstr(why, "version 1") != NULL);
    uint8_t b[28];
#define MUTATED(at, value)                                                                         \
    (memcpy(b, haproxy_v4, 28), b[at] = (value), proxy_v2_parse(b, 28, MAX, &h, &why))
    CHECK_EQ_INT(MUTATED(11, 0x0B), PROXY_V2_INVALID); /* signature */
    CHECK_EQ_INT(MUTATED(12, 0x11), PROXY_V2_INVALID); /* version 1 binary */
    CHECK_EQ_INT(MUTATED(12, 0x31), PROXY_V2_INVALID); /* version 3 */
    CHECK_EQ_INT(MUTATED(12, 0x22), PROXY_V2_INVALID); /* command 2 */
    CHECK_EQ_INT(MUTATED(13, 0x12), PROXY_V2_INVALID); /* UDP */
    CHECK_EQ_INT(MUTATED(13, 0x10), PROXY_V2_INVALID); /* PROXY, transport UNSPEC */
    CHECK_EQ_INT(MUTATED(13, 0x01), PROXY_V2_INVALID); /* PROXY, family UNSPEC */
    CHECK_EQ_INT(MUTATED(13, 0x41), PROXY_V2_INVALID); /* family 4 */
    CHECK_EQ_INT(MUTATED(13, 0x13), PROXY_V2_INVALID); /* transport 3 */
    CHECK_EQ_INT(MUTATED(15, 11), PROXY_V2_INVALID);   /* too short for IPv4 addresses */
    CHECK_EQ_INT(MUTATED(13, 0x21), PROXY_V2_INVALID); /* IPv6 in 12 bytes */
    CHECK_EQ_INT(MUTATED(13, 0x31), PROXY_V2_INVALID); /* UNIX with PROXY */
    /* a bad version is seen at byte 13, before the length */
    memcpy(b, haproxy_v4, 13);
    b[12] = 0x11;
    CHECK_EQ_INT(proxy_v2_parse(b, 13, MAX, &h, &why), PROXY_V2_INVALID);
    /* the biggest length: refused by the cap as soon as it is read */
    memcpy(b, haproxy_v4, 16);
    b[14] = 0xff, b[15] = 0xff;
    CHECK_EQ_INT(proxy_v2_parse(b, 16, MAX, &h, &why), PROXY_V2_INVALID);
    CHECK_EQ_INT(proxy_v2_parse(b, 16, 16 + 65535, &h, &why), PROXY_V2_NEED_MORE);
}

int main(void)
{
    test_ipv4();
    test_ipv6_and_tlvs();
    test_local();
    test_refused();
    return CHECK_DONE();
}
