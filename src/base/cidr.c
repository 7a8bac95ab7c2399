/* cidr.c: see cidr.h. */
#include "cidr.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

static bool parse_one(const char *s, size_t len, cidr *out)
{
    char text[64];
    if (len == 0 || len >= sizeof text) return false;
    memcpy(text, s, len);
    text[len] = '\0';
    char *slash = strchr(text, '/');
    if (slash) *slash = '\0';
    memset(out, 0, sizeof *out);
    if (!pd_ip_from_text(text, &out->prefix)) return false;
    /* an IPv4-mapped IPv6 range is read as the IPv4 range (as addresses are) */
    unsigned max = pd_ip_is_v4(&out->prefix) && !strchr(text, ':') ? 32 : 128;
    out->bits = max;
    if (slash) {
        char *end;
        const char *num = slash + 1;
        if (*num < '0' || *num > '9') return false;
        unsigned long b = strtoul(num, &end, 10);
        if (*end || b > max) return false;
        out->bits = (unsigned)b;
    }
    if (max == 128 && pd_ip_is_v4(&out->prefix)) {
        /* ::ffff:a.b.c.d/N: N counts the 96 mapping bits */
        if (out->bits < 96) return false;
        out->bits -= 96;
    }
    return true;
}

bool cidr_list_parse(const char *text, cidr_list *out)
{
    out->count = 0;
    const char *p = text;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p) break;
        size_t len = strcspn(p, ", ");
        if (out->count >= CIDR_MAX || !parse_one(p, len, &out->items[out->count])) return false;
        out->count++;
        p += len;
    }
    return true;
}

bool cidr_list_match_ip(const cidr_list *l, const pd_ip *ip)
{
    for (size_t i = 0; i < l->count; i++)
        if (pd_ip_in_prefix(ip, &l->items[i].prefix, l->items[i].bits)) return true;
    return false;
}

bool cidr_list_match(const cidr_list *l, const char *ip)
{
    pd_ip a;
    return pd_ip_from_text(ip, &a) && cidr_list_match_ip(l, &a);
}
