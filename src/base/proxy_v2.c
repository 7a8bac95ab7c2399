/* proxy_v2.c: see proxy_v2.h. */
#include "proxy_v2.h"

#include <string.h>

static const uint8_t signature[PROXY_V2_SIG_LEN] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                                    0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

enum { CMD_LOCAL = 0x0, CMD_PROXY = 0x1 };
enum { FAM_UNSPEC = 0x0, FAM_INET = 0x1, FAM_INET6 = 0x2, FAM_UNIX = 0x3 };
enum { PROTO_UNSPEC = 0x0, PROTO_STREAM = 0x1 };

static proxy_v2_status invalid(const char **why, const char *reason)
{
    if (why) *why = reason;
    return PROXY_V2_INVALID;
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

proxy_v2_status proxy_v2_parse(const uint8_t *data, size_t len, size_t max_len,
                               proxy_v2_header *out, const char **why)
{
    memset(out, 0, sizeof *out);
    if (why) *why = NULL;
    /* the signature, byte by byte: a client that is no proxy is refused at
     * its first byte that differs, not after waiting for 16 */
    size_t sig = len < PROXY_V2_SIG_LEN ? len : PROXY_V2_SIG_LEN;
    if (memcmp(data, signature, sig) != 0) {
        if (len >= 5 && memcmp(data, "PROXY", 5) == 0)
            return invalid(why, "PROXY protocol version 1 (text) is not taken");
        return invalid(why, "no PROXY protocol v2 signature");
    }
    if (len < 13) return PROXY_V2_NEED_MORE;
    uint8_t ver_cmd = data[12];
    if ((ver_cmd >> 4) != 2) return invalid(why, "not version 2");
    uint8_t cmd = ver_cmd & 0x0F;
    if (cmd != CMD_LOCAL && cmd != CMD_PROXY) return invalid(why, "unknown command");
    if (len < PROXY_V2_FIXED_LEN) return PROXY_V2_NEED_MORE;
    uint8_t fam = data[13] >> 4, proto = data[13] & 0x0F;
    size_t body = be16(data + 14);
    size_t total = PROXY_V2_FIXED_LEN + body;
    if (total > max_len) return invalid(why, "header longer than allowed");
    size_t addr_len = 0;
    switch (fam) {
    case FAM_UNSPEC:
        addr_len = 0;
        break;
    case FAM_INET:
        addr_len = 12;
        break;
    case FAM_INET6:
        addr_len = 36;
        break;
    case FAM_UNIX:
        addr_len = 216;
        break;
    default:
        return invalid(why, "unknown address family");
    }
    if (proto > 2) return invalid(why, "unknown transport");
    if (body < addr_len) return invalid(why, "length too short for the addresses");
    if (cmd == CMD_PROXY && (proto != PROTO_STREAM || (fam != FAM_INET && fam != FAM_INET6)))
        return invalid(why, "PROXY for other than TCP over IPv4 or IPv6");
    if (len < total) return PROXY_V2_NEED_MORE;
    out->len = total;
    if (cmd == CMD_LOCAL) {
        /* health checks of the balancer itself: addresses, if any, are
         * ignored (the spec says so) */
        out->local = true;
        return PROXY_V2_OK;
    }
    const uint8_t *a = data + PROXY_V2_FIXED_LEN;
    if (fam == FAM_INET) {
        pd_ip_from_v4_bytes(a, &out->src);
        pd_ip_from_v4_bytes(a + 4, &out->dst);
        out->src_port = be16(a + 8);
        out->dst_port = be16(a + 10);
    } else {
        pd_ip_from_v6_bytes(a, &out->src);
        pd_ip_from_v6_bytes(a + 16, &out->dst);
        out->src_port = be16(a + 32);
        out->dst_port = be16(a + 34);
    }
    return PROXY_V2_OK;
}
