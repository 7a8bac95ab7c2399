/* refused.h: counters of what the server refused to hold, by reason.
 *
 * Every resource limit (connections per address, output per connection,
 * sessions, request-head deadline, binary attachments) counts here when it
 * refuses or cuts something off, so an operator sees in /metrics which limit
 * is being hit (peerdrop_refused_total{reason="..."}). The modules that
 * enforce the limits count; metrics only reads. Single-threaded: the loop
 * is the only writer. */
#ifndef PD_REFUSED_H
#define PD_REFUSED_H

#include <stdint.h>

#define PD_REFUSALS(X)                                                                             \
    X(PD_REFUSED_CONNS_PER_IP, "conns_per_ip")                                                     \
    X(PD_REFUSED_FD_RESERVE, "fd_reserve")                                                         \
    X(PD_REFUSED_OUTPUT_LIMIT, "output_limit")                                                     \
    X(PD_REFUSED_OUTPUT_STALLED, "output_stalled")                                                 \
    X(PD_REFUSED_CLOSE_DRAIN, "close_drain")                                                       \
    X(PD_REFUSED_HEAD_TIMEOUT, "head_timeout")                                                     \
    X(PD_REFUSED_SESSIONS_PER_IP, "sessions_per_ip")                                               \
    X(PD_REFUSED_SESSIONS_TOTAL, "sessions_total")                                                 \
    X(PD_REFUSED_BINARY_EVENT, "binary_event")                                                     \
    X(PD_REFUSED_ATTACHMENTS, "attachments")                                                       \
    X(PD_REFUSED_PROXY_UNTRUSTED, "proxy_untrusted")                                               \
    X(PD_REFUSED_PROXY_HEADER, "proxy_header")

typedef enum pd_refusal {
#define PD_REFUSAL_ENUM(name, text) name,
    PD_REFUSALS(PD_REFUSAL_ENUM)
#undef PD_REFUSAL_ENUM
        PD_REFUSAL_COUNT
} pd_refusal;

void pd_refused(pd_refusal r);
uint64_t pd_refused_count(pd_refusal r);
/* The label value shown in /metrics ("conns_per_ip", ...). */
const char *pd_refusal_name(pd_refusal r);

#endif
