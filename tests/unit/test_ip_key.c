/* test_ip_key.c: the one module that turns a client address into the key
 * per-address limits count it by (src/base/ip_key): IPv4 whole (also when
 * IPv4-mapped), IPv6 by its /64; the same key from text, a sockaddr or raw
 * bytes (a PROXY header's); its text form (the password guard's keys, which
 * pg_address_key made before); and the address ranges of src/base/cidr
 * (--metrics-allow, --trust-proxy), which read addresses through it. */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "../../src/base/cidr.h"
#include "../../src/base/ip_key.h"
#include "check.h"

static void key_text(const char *ip, char *out)
{
    pd_ip_key_text_of(ip, out);
}

/* The vectors pg_address_key had, unchanged. */
static void test_key_text(void)
{
    char k[PD_IP_TEXT_LEN], k2[PD_IP_TEXT_LEN];
    key_text("127.0.0.2", k);
    CHECK(strcmp(k, "127.0.0.2") == 0);
    key_text("::ffff:10.1.2.3", k);
    CHECK(strcmp(k, "10.1.2.3") == 0);
    key_text("2001:db8:1:2:aaaa:bbbb:cccc:dddd", k);
    CHECK(strcmp(k, "2001:db8:1:2::/64") == 0);
    key_text("2001:db8:1:2::1", k2);
    CHECK(strcmp(k, k2) == 0);
    key_text("2001:db8:1:3::1", k2);
    CHECK(strcmp(k, k2) != 0);
    key_text("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", k);
    CHECK(strcmp(k, "ffff:ffff:ffff:ffff::/64") == 0);
    key_text("", k);
    CHECK(strcmp(k, "") == 0);
    key_text("not an address", k);
    CHECK(strcmp(k, "not an address") == 0);
}

/* Text, sockaddr and raw bytes give one key (the connection caps count by
 * sockaddr, the password guard by text, PROXY headers carry bytes). */
static void test_one_key_from_every_form(void)
{
    static const char *const addrs[] = {"127.0.0.1",       "::ffff:127.0.0.1",     "192.0.2.200",
                                        "2001:db8:1:2::1", "2001:db8:1:2:ffff::9", "::1"};
    for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
        pd_ip a;
        CHECK(pd_ip_from_text(addrs[i], &a));
        pd_ip_key from_text, from_sa, from_bytes;
        pd_ip_key_of(&a, &from_text);
        struct sockaddr_storage ss = {0};
        pd_ip b;
        if (pd_ip_is_v4(&a) && !strchr(addrs[i], ':')) {
            struct sockaddr_in *in = (struct sockaddr_in *)&ss;
            in->sin_family = AF_INET;
            inet_pton(AF_INET, addrs[i], &in->sin_addr);
            pd_ip_from_v4_bytes((const uint8_t *)&in->sin_addr, &b);
        } else {
            struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
            in6->sin6_family = AF_INET6;
            inet_pton(AF_INET6, addrs[i], &in6->sin6_addr);
            pd_ip_from_v6_bytes((const uint8_t *)&in6->sin6_addr, &b);
        }
        pd_ip_key_from_sockaddr((struct sockaddr *)&ss, &from_sa);
        pd_ip_key_of(&b, &from_bytes);
        CHECK(memcmp(&from_text, &from_sa, sizeof from_sa) == 0);
        CHECK(memcmp(&from_text, &from_bytes, sizeof from_sa) == 0);
        /* and its text is what the guard keys by */
        char t1[PD_IP_TEXT_LEN], t2[PD_IP_TEXT_LEN];
        pd_ip_key_text(&from_sa, t1);
        pd_ip_key_text_of(addrs[i], t2);
        CHECK(strcmp(t1, t2) == 0);
    }
    pd_ip a;
    CHECK(pd_ip_from_text("::ffff:127.0.0.1", &a) && pd_ip_is_v4(&a));
    char t[PD_IP_TEXT_LEN];
    pd_ip_to_text(&a, t);
    CHECK(strcmp(t, "127.0.0.1") == 0);
    CHECK(pd_ip_from_text("2001:DB8::1", &a) && !pd_ip_is_v4(&a));
    pd_ip_to_text(&a, t);
    CHECK(strcmp(t, "2001:db8::1") == 0);
    CHECK(!pd_ip_from_text("1.2.3", &a));
    CHECK(!pd_ip_from_text("localhost", &a));
    struct sockaddr unknown = {.sa_family = AF_UNIX};
    CHECK(!pd_ip_from_sockaddr(&unknown, &a));
}

static void test_prefix(void)
{
    pd_ip a, p;
    pd_ip_from_text("10.1.2.3", &a);
    pd_ip_from_text("10.0.0.0", &p);
    CHECK(pd_ip_in_prefix(&a, &p, 8));
    CHECK(!pd_ip_in_prefix(&a, &p, 16));
    CHECK(pd_ip_in_prefix(&a, &p, 0));
    CHECK(!pd_ip_in_prefix(&a, &p, 33));
    /* families never match each other, not even ::/0 */
    pd_ip_from_text("::", &p);
    CHECK(!pd_ip_in_prefix(&a, &p, 0));
    pd_ip_from_text("2001:db8::1", &a);
    CHECK(pd_ip_in_prefix(&a, &p, 0));
    pd_ip_from_text("0.0.0.0", &p);
    CHECK(!pd_ip_in_prefix(&a, &p, 0));
}

static void test_cidr(void)
{
    /* a mapped range is the IPv4 range, as a mapped address is the IPv4 address */
    cidr_list m;
    CHECK(cidr_list_parse("::ffff:10.0.0.0/104", &m));
    CHECK(cidr_list_match(&m, "10.9.9.9"));
    CHECK(!cidr_list_match(&m, "11.0.0.1"));
    CHECK(!cidr_list_parse("::ffff:10.0.0.0/95", &m));
    CHECK(cidr_list_parse("::/0", &m));
    CHECK(!cidr_list_match(&m, "10.0.0.1"));
    CHECK(cidr_list_match(&m, "2001:db8::1"));
    cidr_list l;
    CHECK(cidr_list_parse("127.0.0.0/8,::1", &l));
    CHECK_EQ_INT(l.count, 2);
    CHECK(cidr_list_match(&l, "127.0.0.1"));
    CHECK(cidr_list_match(&l, "127.255.0.9"));
    CHECK(cidr_list_match(&l, "::ffff:127.0.0.1"));
    CHECK(cidr_list_match(&l, "::1"));
    CHECK(!cidr_list_match(&l, "128.0.0.1"));
    CHECK(!cidr_list_match(&l, "::2"));
    CHECK(!cidr_list_match(&l, "not an address"));
    CHECK(cidr_list_parse("10.0.0.0/13, 2001:db8::/33", &l));
    CHECK(cidr_list_match(&l, "10.7.255.255"));
    CHECK(!cidr_list_match(&l, "10.8.0.0"));
    CHECK(cidr_list_match(&l, "2001:db8:7fff::1"));
    CHECK(!cidr_list_match(&l, "2001:db8:8000::1"));
    CHECK(cidr_list_parse("", &l) && l.count == 0);
    CHECK(!cidr_list_match(&l, "127.0.0.1"));
    CHECK(!cidr_list_parse("127.0.0.1/33", &l));
    CHECK(!cidr_list_parse("127.0.0.1/", &l));
    CHECK(!cidr_list_parse("127.0.0.1/-1", &l));
    CHECK(!cidr_list_parse("::1/129", &l));
    CHECK(!cidr_list_parse("example.com", &l));
    CHECK(
        !cidr_list_parse("1.2.3.4,1.2.3.4,1.2.3.4,1.2.3.4,1.2.3.4,1.2.3.4,1.2.3.4,1.2.3.4,"
                         "1.2.3.4,1.2.3.4,1.2.3.4,1.2.3.4,1.2.3.4,1.2.3.4,1.2.3.4,1.2.3.4,1.2.3.4",
                         &l));
}

int main(void)
{
    test_key_text();
    test_one_key_from_every_form();
    test_prefix();
    test_cidr();
    return CHECK_DONE();
}
