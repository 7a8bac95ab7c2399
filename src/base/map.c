/* map.c: see map.h. FNV-1a hashing: keys are short, and ids are random. */
#include "map.h"

#include <stdlib.h>
#include <string.h>

static uint32_t hash_key(const char *key, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)key[i]) * 16777619u;
    return h;
}

void pd_map_init(pd_map *m)
{
    m->buckets = NULL;
    m->cap = 0;
    m->count = 0;
}

void pd_map_cleanup(pd_map *m)
{
    free(m->buckets);
    pd_map_init(m);
}

static bool grow(pd_map *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    // NOLINTNEXTLINE(bugprone-sizeof-expression): the buckets hold pointers
    pd_map_entry **b = calloc(cap, sizeof *b);
    if (!b) return false;
    for (size_t i = 0; i < m->cap; i++) {
        pd_map_entry *e = m->buckets[i];
        while (e) {
            pd_map_entry *next = e->next;
            e->next = b[e->hash & (cap - 1)];
            b[e->hash & (cap - 1)] = e;
            e = next;
        }
    }
    free(m->buckets);
    m->buckets = b;
    m->cap = cap;
    return true;
}

bool pd_map_insert(pd_map *m, pd_map_entry *e)
{
    if (m->count + 1 > m->cap && !grow(m)) return false;
    e->hash = hash_key(e->key, e->key_len);
    pd_map_entry **head = &m->buckets[e->hash & (m->cap - 1)];
    e->next = *head;
    *head = e;
    m->count++;
    return true;
}

pd_map_entry *pd_map_find(const pd_map *m, const char *key, size_t key_len)
{
    if (m->cap == 0) return NULL;
    uint32_t h = hash_key(key, key_len);
    for (pd_map_entry *e = m->buckets[h & (m->cap - 1)]; e; e = e->next)
        if (e->hash == h && e->key_len == key_len && memcmp(e->key, key, key_len) == 0) return e;
    return NULL;
}

void pd_map_remove(pd_map *m, pd_map_entry *e)
{
    if (m->cap == 0) return;
    pd_map_entry **pp = &m->buckets[e->hash & (m->cap - 1)];
    while (*pp && *pp != e)
        pp = &(*pp)->next;
    if (*pp) {
        *pp = e->next;
        m->count--;
    }
}

void pd_map_each(pd_map *m, void (*fn)(pd_map_entry *e, void *ctx), void *ctx)
{
    for (size_t i = 0; i < m->cap; i++) {
        pd_map_entry *e = m->buckets[i];
        while (e) {
            pd_map_entry *next = e->next;
            fn(e, ctx);
            e = next;
        }
    }
}
