/* proxy_v2.h: the PROXY protocol version 2 header (HAProxy's
 * `send-proxy-v2`; spec: haproxy doc/proxy-protocol.txt, section 2.2), which
 * a load balancer sends first on each connection to say whose connection it
 * is. Sans-I/O: give it the bytes received so far.
 *
 *   12 bytes signature  \r\n\r\n\0\r\nQUIT\n
 *   1 byte  version (high nibble, 2) and command (low: 0 LOCAL, 1 PROXY)
 *   1 byte  family (high: 0 UNSPEC, 1 INET, 2 INET6, 3 UNIX) and
 *           transport (low: 0 UNSPEC, 1 STREAM, 2 DGRAM)
 *   2 bytes length of what follows, network order
 *   then    source and destination address and port (INET 12 bytes, INET6
 *           36, UNIX 216), then TLVs up to the length, which are skipped.
 *
 * Taken: PROXY over TCP (INET or INET6, STREAM): the source is the client;
 * LOCAL (the balancer's own health checks): the connection's own address
 * counts. Anything else is refused: version 1 (text), other commands,
 * UNIX/UDP/UNSPEC with PROXY, a length too short for its addresses or over
 * the cap. */
#ifndef PD_PROXY_V2_H
#define PD_PROXY_V2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ip_key.h"

#define PROXY_V2_SIG_LEN 12
#define PROXY_V2_FIXED_LEN 16 /* signature, version/command, family, length */

typedef enum proxy_v2_status {
    PROXY_V2_NEED_MORE, /* a valid beginning: wait for more bytes */
    PROXY_V2_OK,        /* a whole header: see out */
    PROXY_V2_INVALID,   /* not a header we take: refuse the connection */
} proxy_v2_status;

typedef struct proxy_v2_header {
    size_t len; /* bytes of the header: what follows belongs to the client */
    bool local; /* LOCAL command: no addresses; use the connection's own */
    pd_ip src;  /* the client (PROXY only) */
    pd_ip dst;  /* the address the client connected to */
    uint16_t src_port, dst_port;
} proxy_v2_header;

/* Parses the start of a connection's bytes. max_len caps the whole header
 * (PROXY_V2_FIXED_LEN + its length field); a longer one is INVALID, and so
 * is a beginning that cannot become a header, as soon as one byte shows it.
 * On INVALID *why (if not NULL) says why, in a few words (no input bytes). */
proxy_v2_status proxy_v2_parse(const uint8_t *data, size_t len, size_t max_len,
                               proxy_v2_header *out, const char **why);

#endif
