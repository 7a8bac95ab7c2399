/* ip_key.c: see ip_key.h. */
#include "ip_key.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

void pd_ip_from_v4_bytes(const uint8_t b[4], pd_ip *out)
{
    memcpy(out->bytes, v4_mapped, 12);
    memcpy(out->bytes + 12, b, 4);
}

void pd_ip_from_v6_bytes(const uint8_t b[16], pd_ip *out)
{
    memcpy(out->bytes, b, 16);
}

bool pd_ip_from_text(const char *text, pd_ip *out)
{
    uint8_t b[16];
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, text, b) == 1) {
        pd_ip_from_v4_bytes(b, out);
        return true;
    }
    if (inet_pton(AF_INET6, text, b) == 1) {
        pd_ip_from_v6_bytes(b, out);
        return true;
    }
    return false;
}

bool pd_ip_from_sockaddr(const struct sockaddr *sa, pd_ip *out)
{
    memset(out, 0, sizeof *out);
    if (sa->sa_family == AF_INET) {
        pd_ip_from_v4_bytes((const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr, out);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        pd_ip_from_v6_bytes((const uint8_t *)&((const struct sockaddr_in6 *)sa)->sin6_addr, out);
        return true;
    }
    return false;
}

bool pd_ip_is_v4(const pd_ip *a)
{
    return memcmp(a->bytes, v4_mapped, 12) == 0;
}

void pd_ip_to_text(const pd_ip *a, char out[PD_IP_TEXT_LEN])
{
    if (pd_ip_is_v4(a))
        inet_ntop(AF_INET, a->bytes + 12, out, PD_IP_TEXT_LEN);
    else
        inet_ntop(AF_INET6, a->bytes, out, PD_IP_TEXT_LEN);
}

static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
    unsigned bytes = bits / 8, rest = bits % 8;
    if (memcmp(a, b, bytes) != 0) return false;
    if (!rest) return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[bytes] & mask) == (b[bytes] & mask);
}

bool pd_ip_in_prefix(const pd_ip *a, const pd_ip *prefix, unsigned bits)
{
    bool v4 = pd_ip_is_v4(a);
    if (v4 != pd_ip_is_v4(prefix)) return false;
    if (v4) return bits <= 32 && prefix_equal(a->bytes + 12, prefix->bytes + 12, bits);
    return bits <= 128 && prefix_equal(a->bytes, prefix->bytes, bits);
}

void pd_ip_key_of(const pd_ip *a, pd_ip_key *out)
{
    memcpy(out->bytes, a->bytes, 16);
    /* an IPv4 address is kept whole; IPv6 by its /64 */
    if (!pd_ip_is_v4(a)) memset(out->bytes + 8, 0, 8);
}

void pd_ip_key_from_sockaddr(const struct sockaddr *sa, pd_ip_key *out)
{
    pd_ip a;
    if (!pd_ip_from_sockaddr(sa, &a)) {
        memset(out, 0, sizeof *out);
        return;
    }
    pd_ip_key_of(&a, out);
}

void pd_ip_key_text(const pd_ip_key *k, char out[PD_IP_TEXT_LEN])
{
    pd_ip a;
    memcpy(a.bytes, k->bytes, 16);
    if (pd_ip_is_v4(&a)) {
        pd_ip_to_text(&a, out);
        return;
    }
    char text[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, a.bytes, text, sizeof text);
    snprintf(out, PD_IP_TEXT_LEN, "%s/64", text);
}

void pd_ip_key_text_of(const char *ip_text, char out[PD_IP_TEXT_LEN])
{
    pd_ip a;
    if (!pd_ip_from_text(ip_text, &a)) {
        snprintf(out, PD_IP_TEXT_LEN, "%s", ip_text);
        return;
    }
    pd_ip_key k;
    pd_ip_key_of(&a, &k);
    pd_ip_key_text(&k, out);
}
