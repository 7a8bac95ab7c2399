/* rooms.c: see rooms.h. */
#include "rooms.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "../base/limits.h"

struct room {
    pd_map_entry entry;
    char id[PD_MAX_ROOM_ID + 1];
    char *password_hash; /* NULL while pending; wiped before it is freed */
    uint64_t generation;
    unsigned capacity;
    unsigned member_count;
    bool code;           /* a short-code room: no password, two members */
    unsigned code_joins; /* joins over a code room's life */
    void *members[];     /* capacity slots, oldest first */
};

void rooms_init(room_registry *reg, unsigned capacity)
{
    pd_map_init(&reg->map);
    reg->capacity = capacity;
    reg->next_generation = 1;
}

static void destroy_each(pd_map_entry *e, void *ctx)
{
    rooms_destroy(ctx, PD_CONTAINER_OF(e, room, entry));
}

void rooms_cleanup(room_registry *reg)
{
    pd_map_each(&reg->map, destroy_each, reg);
    pd_map_cleanup(&reg->map);
}

bool rooms_valid_id(const char *id, size_t len)
{
    if (len == 0 || len > PD_MAX_ROOM_ID) return false;
    for (size_t i = 0; i < len; i++) {
        char c = id[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
        if (!ok) return false;
    }
    return true;
}

room *rooms_find(const room_registry *reg, const char *id, size_t len)
{
    pd_map_entry *e = pd_map_find(&reg->map, id, len);
    return e ? PD_CONTAINER_OF(e, room, entry) : NULL;
}

int rooms_reserve(room_registry *reg, const char *id, size_t len, room **out)
{
    if (rooms_find(reg, id, len)) return ROOM_E_EXISTS;
    room *r = calloc(1, sizeof *r + reg->capacity * sizeof(void *));
    if (!r) return ROOM_E_NOMEM;
    memcpy(r->id, id, len);
    r->id[len] = '\0';
    r->capacity = reg->capacity;
    r->generation = reg->next_generation++;
    r->entry.key = r->id;
    r->entry.key_len = (uint32_t)len;
    if (!pd_map_insert(&reg->map, &r->entry)) {
        free(r);
        return ROOM_E_NOMEM;
    }
    *out = r;
    return ROOM_OK;
}

int room_activate(room *r, const char *password_hash, void *creator)
{
    r->password_hash = strdup(password_hash);
    if (!r->password_hash) return ROOM_E_NOMEM;
    return room_add_member(r, creator);
}

void rooms_destroy(room_registry *reg, room *r)
{
    pd_map_remove(&reg->map, &r->entry);
    if (r->password_hash) {
        sodium_memzero(r->password_hash, strlen(r->password_hash));
        free(r->password_hash);
    }
    free(r);
}

int room_activate_code(room *r, void *creator)
{
    /* not pending, and no hash: nothing password-derived reaches the server */
    r->password_hash = strdup("");
    if (!r->password_hash) return ROOM_E_NOMEM;
    r->code = true;
    if (r->capacity > PD_CODE_ROOM_CAPACITY) r->capacity = PD_CODE_ROOM_CAPACITY;
    return room_add_member(r, creator);
}

bool room_is_code(const room *r)
{
    return r->code;
}

unsigned room_code_join(room *r)
{
    return ++r->code_joins;
}

unsigned room_code_joins(const room *r)
{
    return r->code_joins;
}

bool room_is_pending(const room *r)
{
    return r->password_hash == NULL;
}

const char *room_id(const room *r)
{
    return r->id;
}

const char *room_password_hash(const room *r)
{
    return r->password_hash;
}

uint64_t room_generation(const room *r)
{
    return r->generation;
}

void room_set_generation(room *r, uint64_t generation)
{
    r->generation = generation;
}

int room_add_member(room *r, void *member)
{
    if (r->member_count >= r->capacity) return ROOM_E_FULL;
    r->members[r->member_count++] = member;
    return ROOM_OK;
}

bool room_remove_member(room *r, void *member)
{
    for (unsigned i = 0; i < r->member_count; i++) {
        if (r->members[i] != member) continue;
        memmove(&r->members[i], &r->members[i + 1], (r->member_count - i - 1) * sizeof(void *));
        r->member_count--;
        return true;
    }
    return false;
}

bool room_has_member(const room *r, const void *member)
{
    for (unsigned i = 0; i < r->member_count; i++)
        if (r->members[i] == member) return true;
    return false;
}

size_t room_member_count(const room *r)
{
    return r->member_count;
}

void *room_member(const room *r, size_t i)
{
    return i < r->member_count ? r->members[i] : NULL;
}

bool room_is_full(const room *r)
{
    return r->member_count >= r->capacity;
}

typedef struct each_ctx {
    void (*fn)(room *r, void *ctx);
    void *ctx;
} each_ctx;

static void each_room(pd_map_entry *e, void *ctx)
{
    each_ctx *c = ctx;
    c->fn(PD_CONTAINER_OF(e, room, entry), c->ctx);
}

void rooms_each(room_registry *reg, void (*fn)(room *r, void *ctx), void *ctx)
{
    each_ctx c = {fn, ctx};
    pd_map_each(&reg->map, each_room, &c);
}

size_t rooms_count(const room_registry *reg)
{
    return reg->map.count;
}
