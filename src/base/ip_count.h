/* ip_count.h: how many of something (connections, sessions) each client
 * address holds, for per-address caps (nginx limit_conn).
 *
 * Counted by pd_ip_key (base/ip_key.h: an IPv4 address, or an IPv6 /64). An
 * entry exists only while its count is > 0. */
#ifndef PD_IP_COUNT_H
#define PD_IP_COUNT_H

#include <stdbool.h>
#include <stdint.h>

#include "ip_key.h"

typedef struct pd_ip_count pd_ip_count;

pd_ip_count *pd_ip_count_create(void);
void pd_ip_count_destroy(pd_ip_count *t); /* NULL is fine */
unsigned pd_ip_count_get(const pd_ip_count *t, const pd_ip_key *k);
/* Adds one for k; false when out of memory (nothing counted). */
bool pd_ip_count_add(pd_ip_count *t, const pd_ip_key *k);
/* Takes one off k (which must have been added). */
void pd_ip_count_remove(pd_ip_count *t, const pd_ip_key *k);
/* Addresses that hold at least one. */
unsigned long pd_ip_count_addresses(const pd_ip_count *t);

#endif
