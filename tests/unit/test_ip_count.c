/* test_ip_count.c: per-address counting for the connection and session
 * caps (issue 11): IPv4 counts per address, IPv6 per /64 (RFC 7934), an
 * IPv4-mapped IPv6 address is its IPv4 address, entries go when they reach
 * zero; and the refusal counters' names as /metrics shows them. */
#include "check.h"

#include "base/ip_count.h"
#include "base/refused.h"

#include <arpa/inet.h>
#include <netinet/in.h>

static pd_ip_key v4(const char *text)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    inet_pton(AF_INET, text, &sa.sin_addr);
    pd_ip_key k;
    pd_ip_key_from_sockaddr((struct sockaddr *)&sa, &k);
    return k;
}

static pd_ip_key v6(const char *text)
{
    struct sockaddr_in6 sa = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, text, &sa.sin6_addr);
    pd_ip_key k;
    pd_ip_key_from_sockaddr((struct sockaddr *)&sa, &k);
    return k;
}

static void test_keys(void)
{
    pd_ip_key a = v4("127.0.0.1"), b = v4("127.0.0.2");
    CHECK(memcmp(&a, &b, sizeof a) != 0);
    pd_ip_key m = v6("::ffff:127.0.0.1");
    CHECK(memcmp(&a, &m, sizeof a) == 0); /* mapped = the IPv4 address */
    pd_ip_key m2 = v6("::ffff:127.0.0.2");
    CHECK(memcmp(&m, &m2, sizeof m) != 0); /* not masked to /64 */
    pd_ip_key h1 = v6("2001:db8:1:2::1"), h2 = v6("2001:db8:1:2:ffff:ffff:ffff:ffff");
    CHECK(memcmp(&h1, &h2, sizeof h1) == 0); /* one /64 */
    pd_ip_key other = v6("2001:db8:1:3::1");
    CHECK(memcmp(&h1, &other, sizeof h1) != 0);
    struct sockaddr unknown = {.sa_family = AF_UNIX};
    pd_ip_key z, zero;
    memset(&zero, 0, sizeof zero);
    pd_ip_key_from_sockaddr(&unknown, &z);
    CHECK(memcmp(&z, &zero, sizeof z) == 0);
}

static void test_counts(void)
{
    pd_ip_count *t = pd_ip_count_create();
    CHECK(t != NULL);
    pd_ip_key a = v4("10.0.0.1"), b = v6("2001:db8::1"), b2 = v6("2001:db8::2");
    CHECK_EQ_INT(pd_ip_count_get(t, &a), 0);
    for (int i = 0; i < 300; i++)
        CHECK(pd_ip_count_add(t, &a));
    CHECK(pd_ip_count_add(t, &b));
    CHECK(pd_ip_count_add(t, &b2));
    CHECK_EQ_INT(pd_ip_count_get(t, &a), 300);
    CHECK_EQ_INT(pd_ip_count_get(t, &b), 2);
    CHECK_EQ_INT(pd_ip_count_addresses(t), 2);
    for (int i = 0; i < 300; i++)
        pd_ip_count_remove(t, &a);
    CHECK_EQ_INT(pd_ip_count_get(t, &a), 0);
    CHECK_EQ_INT(pd_ip_count_addresses(t), 1); /* gone at zero */
    /* many addresses: the map grows, every count stays right */
    for (unsigned i = 0; i < 5000; i++) {
        char text[32];
        snprintf(text, sizeof text, "10.%u.%u.%u", i >> 16 & 255, i >> 8 & 255, i & 255);
        pd_ip_key k = v4(text);
        CHECK(pd_ip_count_add(t, &k));
    }
    CHECK_EQ_INT(pd_ip_count_addresses(t), 5001);
    pd_ip_key k = v4("10.0.19.135");
    CHECK_EQ_INT(pd_ip_count_get(t, &k), 1);
    pd_ip_count_destroy(t); /* frees what is left */
    pd_ip_count_destroy(NULL);
}

static void test_refusal_names(void)
{
    CHECK(strcmp(pd_refusal_name(PD_REFUSED_CONNS_PER_IP), "conns_per_ip") == 0);
    CHECK(strcmp(pd_refusal_name(PD_REFUSED_ATTACHMENTS), "attachments") == 0);
    CHECK(strcmp(pd_refusal_name(PD_REFUSAL_COUNT), "unknown") == 0);
    uint64_t before = pd_refused_count(PD_REFUSED_HEAD_TIMEOUT);
    pd_refused(PD_REFUSED_HEAD_TIMEOUT);
    pd_refused(PD_REFUSAL_COUNT); /* out of range: ignored */
    CHECK_EQ_INT(pd_refused_count(PD_REFUSED_HEAD_TIMEOUT), before + 1);
}

int main(void)
{
    test_keys();
    test_counts();
    test_refusal_names();
    return CHECK_DONE();
}
