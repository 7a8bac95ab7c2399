/* map.h: an intrusive hash map keyed by byte strings.
 *
 * The structs that live in a map embed a pd_map_entry and keep their own
 * key storage (a session id, a room id); the map only links them, so an
 * entry costs two words and lookups allocate nothing. Grows by doubling,
 * never shrinks below its first size. */
#ifndef PD_MAP_H
#define PD_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pd_map_entry {
    struct pd_map_entry *next;
    const char *key; /* points into the containing struct */
    uint32_t key_len;
    uint32_t hash;
} pd_map_entry;

typedef struct pd_map {
    pd_map_entry **buckets;
    size_t cap;
    size_t count;
} pd_map;

#define PD_CONTAINER_OF(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

void pd_map_init(pd_map *m);
void pd_map_cleanup(pd_map *m); /* frees the buckets, not the entries */
/* Links e (whose key/key_len are set) into m. Returns false on OOM. The
 * caller makes sure the key is not present yet. */
bool pd_map_insert(pd_map *m, pd_map_entry *e);
pd_map_entry *pd_map_find(const pd_map *m, const char *key, size_t key_len);
void pd_map_remove(pd_map *m, pd_map_entry *e);

/* Calls fn on every entry; fn may remove the entry it is given. */
void pd_map_each(pd_map *m, void (*fn)(pd_map_entry *e, void *ctx), void *ctx);

#endif
