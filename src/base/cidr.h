/* cidr.h: lists of address ranges ("127.0.0.0/8,::1/128") and whether a
 * client address is in one; for --metrics-allow and --trust-proxy. Pure, no
 * I/O; addresses are read by base/ip_key. */
#ifndef PD_CIDR_H
#define PD_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ip_key.h"

#define CIDR_MAX 16

typedef struct cidr {
    pd_ip prefix;
    unsigned bits; /* within the prefix's family: 0-32 for IPv4, 0-128 for IPv6 */
} cidr;

typedef struct cidr_list {
    cidr items[CIDR_MAX];
    size_t count;
} cidr_list;

/* Parses comma-separated ranges; a bare address is one host. Returns false
 * (out unspecified) on a malformed entry or more than CIDR_MAX. An empty
 * string is an empty list: nothing matches. */
bool cidr_list_parse(const char *text, cidr_list *out);

/* True if the address (text, as pd_conn_peer gives it; an IPv4-mapped IPv6
 * address counts as IPv4) is in one of the ranges. */
bool cidr_list_match(const cidr_list *l, const char *ip);
/* The same for an address already read. */
bool cidr_list_match_ip(const cidr_list *l, const pd_ip *ip);

#endif
