/* rooms.h: the room registry, pure data and rules, no I/O.
 *
 * A room has an id, the Argon2id hash of its password, and an ordered list
 * of members (opaque pointers: the signaling layer's sockets), oldest first.
 * A room is PENDING from the moment its id is reserved until its password
 * hash is ready, so two creators cannot race for one id and nobody can join
 * a room whose hash does not exist yet. The registry forgets a room the
 * moment its last member leaves. A short-code room has no password at all
 * (issue 14): its secret never reaches the server. */
#ifndef PD_ROOMS_H
#define PD_ROOMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/map.h"

typedef struct room room;

typedef struct room_registry {
    pd_map map;
    unsigned capacity; /* members per room */
    uint64_t next_generation;
} room_registry;

enum { ROOM_OK = 0, ROOM_E_FULL = -1, ROOM_E_NOMEM = -2, ROOM_E_EXISTS = -3 };

void rooms_init(room_registry *reg, unsigned capacity);
void rooms_cleanup(room_registry *reg); /* destroys every room */

/* Room ids: 1..PD_MAX_ROOM_ID characters of [A-Za-z0-9_-]. */
bool rooms_valid_id(const char *id, size_t len);

room *rooms_find(const room_registry *reg, const char *id, size_t len);
/* Reserves a new PENDING room; ROOM_E_EXISTS if the id is taken. */
int rooms_reserve(room_registry *reg, const char *id, size_t len, room **out);
/* Makes a pending room usable: stores the hash (copied) and adds the creator. */
int room_activate(room *r, const char *password_hash, void *creator);
/* Makes a pending room a short-code room (docs/signaling.md, "Code
 * rooms"): no password hash, at most PD_CODE_ROOM_CAPACITY members (the
 * sender and one receiver), and a count of joins over its life. */
int room_activate_code(room *r, void *creator);
void rooms_destroy(room_registry *reg, room *r);

bool room_is_pending(const room *r);
const char *room_id(const room *r);
const char *room_password_hash(const room *r); /* "" for a code room */
bool room_is_code(const room *r);
/* Counts one more join of a code room; returns the count. */
unsigned room_code_join(room *r);
unsigned room_code_joins(const room *r);
/* Distinguishes a room from a later one with the same id (async checks). */
uint64_t room_generation(const room *r);
/* Many nodes: the generation is the cluster-wide one from the room's Redis
 * record (docs/scale.md), so every node names one room the same way. */
void room_set_generation(room *r, uint64_t generation);

int room_add_member(room *r, void *member);
/* Removes member; returns true if it was a member. */
bool room_remove_member(room *r, void *member);
bool room_has_member(const room *r, const void *member);
size_t room_member_count(const room *r);
void *room_member(const room *r, size_t i);
bool room_is_full(const room *r);

size_t rooms_count(const room_registry *reg);
/* Calls fn for every room; fn may change members, not add or destroy rooms. */
void rooms_each(room_registry *reg, void (*fn)(room *r, void *ctx), void *ctx);

#endif
