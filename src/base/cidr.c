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
    if (inet_pton(AF_INET, text, out->addr) == 1)
        out->family = AF_INET, out->bits = 32;
    else if (inet_pton(AF_INET6, text, out->addr) == 1)
        out->family = AF_INET6, out->bits = 128;
    else
        return false;
    if (slash) {
        char *end;
        const char *num = slash + 1;
        if (*num < '0' || *num > '9') return false;
        unsigned long b = strtoul(num, &end, 10);
        if (*end || b > out->bits) return false;
        out->bits = (unsigned)b;
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

static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
    unsigned bytes = bits / 8, rest = bits % 8;
    if (memcmp(a, b, bytes) != 0) return false;
    if (!rest) return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[bytes] & mask) == (b[bytes] & mask);
}

bool cidr_list_match(const cidr_list *l, const char *ip)
{
    uint8_t a[16];
    int family;
    if (inet_pton(AF_INET, ip, a) == 1) {
        family = AF_INET;
    } else if (inet_pton(AF_INET6, ip, a) == 1) {
        static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        family = AF_INET6;
        if (memcmp(a, v4_mapped, 12) == 0) {
            memmove(a, a + 12, 4);
            family = AF_INET;
        }
    } else {
        return false;
    }
    for (size_t i = 0; i < l->count; i++)
        if (l->items[i].family == family && prefix_equal(a, l->items[i].addr, l->items[i].bits))
            return true;
    return false;
}
