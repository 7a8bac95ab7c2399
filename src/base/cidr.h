/* cidr.h: lists of address ranges ("127.0.0.0/8,::1/128") and whether a
 * client address is in one; for --metrics-allow. Pure, no I/O. */
#ifndef PD_CIDR_H
#define PD_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CIDR_MAX 16

typedef struct cidr {
    int family; /* AF_INET or AF_INET6 */
    uint8_t addr[16];
    unsigned bits;
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

#endif
