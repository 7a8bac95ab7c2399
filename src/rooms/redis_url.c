/* redis_url.c: see redis_url.h. */
#include "redis_url.h"

#include <stdlib.h>
#include <string.h>

static bool parse_number(const char *s, size_t len, unsigned max, unsigned *out)
{
    if (len == 0 || len > 5) return false;
    unsigned v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > max) return false;
    *out = v;
    return true;
}

bool redis_url_parse(const char *url, redis_url *out, const char **err)
{
    memset(out, 0, sizeof *out);
    out->port = 6379;
    if (strncmp(url, "rediss://", 9) == 0) {
        *err =
            "rediss:// (TLS) is not supported: this build's hiredis (Debian libhiredis-dev 0.14) "
            "has no TLS; reach Redis over loopback or a private network, or a TLS tunnel";
        return false;
    }
    if (strncmp(url, "redis://", 8) != 0) {
        *err = "the URL must start with redis://";
        return false;
    }
    const char *p = url + 8;
    const char *end = p + strlen(p);
    const char *at = strrchr(p, '@');
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (!colon) {
            *err = "credentials must be [user]:password@";
            return false;
        }
        size_t ulen = (size_t)(colon - p), plen = (size_t)(at - colon - 1);
        if (ulen >= sizeof out->user || plen > PD_MAX_REDIS_PASSWORD || plen == 0) {
            *err = "user or password too long, or empty password";
            return false;
        }
        memcpy(out->user, p, ulen);
        memcpy(out->password, colon + 1, plen);
        p = at + 1;
    }
    const char *slash = memchr(p, '/', (size_t)(end - p));
    const char *host_end = slash ? slash : end;
    const char *colon = NULL;
    if (*p == '[') { /* [IPv6]:port */
        const char *close = memchr(p, ']', (size_t)(host_end - p));
        if (!close) {
            *err = "unclosed [ in the host";
            return false;
        }
        if (close + 1 < host_end) {
            if (close[1] != ':') {
                *err = "bad host";
                return false;
            }
            colon = close + 1;
        }
        size_t hlen = (size_t)(close - p - 1);
        if (hlen == 0 || hlen > PD_MAX_REDIS_HOST) {
            *err = "bad host";
            return false;
        }
        memcpy(out->host, p + 1, hlen);
    } else {
        colon = memchr(p, ':', (size_t)(host_end - p));
        const char *h_end = colon ? colon : host_end;
        size_t hlen = (size_t)(h_end - p);
        if (hlen == 0 || hlen > PD_MAX_REDIS_HOST) {
            *err = "missing or too long host";
            return false;
        }
        memcpy(out->host, p, hlen);
    }
    if (colon) {
        unsigned port;
        if (!parse_number(colon + 1, (size_t)(host_end - colon - 1), 65535, &port) || port == 0) {
            *err = "bad port";
            return false;
        }
        out->port = (int)port;
    }
    if (slash && slash + 1 < end) {
        if (!parse_number(slash + 1, (size_t)(end - slash - 1), 65535, &out->db)) {
            *err = "bad database number";
            return false;
        }
    }
    return true;
}
