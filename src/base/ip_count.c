/* ip_count.c: see ip_count.h. One small heap entry per address in a pd_map. */
#include "ip_count.h"

#include <assert.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "base/map.h"

typedef struct ip_entry {
    pd_map_entry entry;
    pd_ip_key key;
    unsigned count;
} ip_entry;

struct pd_ip_count {
    pd_map map;
};

void pd_ip_key_from_sockaddr(const struct sockaddr *sa, pd_ip_key *out)
{
    memset(out, 0, sizeof *out);
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        out->bytes[10] = 0xff;
        out->bytes[11] = 0xff;
        memcpy(out->bytes + 12, &in->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        memcpy(out->bytes, &in6->sin6_addr, 16);
        /* an IPv4-mapped address is that IPv4 address: keep all of it */
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(out->bytes, mapped, 12) != 0) memset(out->bytes + 8, 0, 8);
    }
}

pd_ip_count *pd_ip_count_create(void)
{
    pd_ip_count *t = calloc(1, sizeof *t);
    if (t) pd_map_init(&t->map);
    return t;
}

static void free_entry(pd_map_entry *e, void *ctx)
{
    pd_ip_count *t = ctx;
    pd_map_remove(&t->map, e);
    free(PD_CONTAINER_OF(e, ip_entry, entry));
}

void pd_ip_count_destroy(pd_ip_count *t)
{
    if (!t) return;
    pd_map_each(&t->map, free_entry, t);
    pd_map_cleanup(&t->map);
    free(t);
}

static ip_entry *find(const pd_ip_count *t, const pd_ip_key *k)
{
    pd_map_entry *e = pd_map_find(&t->map, (const char *)k->bytes, sizeof k->bytes);
    return e ? PD_CONTAINER_OF(e, ip_entry, entry) : NULL;
}

unsigned pd_ip_count_get(const pd_ip_count *t, const pd_ip_key *k)
{
    ip_entry *e = find(t, k);
    return e ? e->count : 0;
}

bool pd_ip_count_add(pd_ip_count *t, const pd_ip_key *k)
{
    ip_entry *e = find(t, k);
    if (e) {
        e->count++;
        return true;
    }
    e = calloc(1, sizeof *e);
    if (!e) return false;
    e->key = *k;
    e->count = 1;
    e->entry.key = (const char *)e->key.bytes;
    e->entry.key_len = sizeof e->key.bytes;
    if (!pd_map_insert(&t->map, &e->entry)) {
        free(e);
        return false;
    }
    return true;
}

void pd_ip_count_remove(pd_ip_count *t, const pd_ip_key *k)
{
    ip_entry *e = find(t, k);
    assert(e && e->count > 0);
    if (!e) return;
    if (--e->count == 0) {
        pd_map_remove(&t->map, &e->entry);
        free(e);
    }
}

unsigned long pd_ip_count_addresses(const pd_ip_count *t)
{
    return (unsigned long)t->map.count;
}
