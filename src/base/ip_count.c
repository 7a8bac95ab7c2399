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
