/* cluster.h: the link of one node to Redis when the server runs as one of
 * many nodes (--redis, docs/scale.md).
 *
 * Redis holds the authoritative room records (admission hash, members with
 * their node, capacity) and carries messages between nodes, each on its
 * node's own pub/sub channel. Every call is asynchronous on the server's
 * libuv loop (hiredis' async API and libuv adapter): nothing here blocks.
 * The module knows Redis commands and Lua scripts; what a room means is
 * signaling.c's business. Two connections: one for commands, one
 * subscribed to this node's channel (a subscribed connection takes no
 * other commands). Both reconnect with backoff. */
#ifndef PD_CLUSTER_H
#define PD_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/id.h"
#include "rooms/redis_url.h"

/* A member as Redis stores it: "<node id>|<socket id>". */
#define CLUSTER_MEMBER_LEN (PD_ID_LEN * 2 + 1)

typedef enum cluster_status {
    CLUSTER_OK = 0,
    CLUSTER_E_UNAVAILABLE = -1, /* Redis unreachable, or it answered an error */
    CLUSTER_E_EXISTS = -2,
    CLUSTER_E_NOT_FOUND = -3, /* no such room, or a newer room with its id */
    CLUSTER_E_FULL = -4,
    CLUSTER_E_LIMITED = -5, /* the room's wrong-password budget is used up */
    CLUSTER_E_KIND = -6,    /* a room of the other kind (password / short code) */
    CLUSTER_E_JOINS = -7,   /* a code room's joins are used up (PD_CODE_ROOM_JOINS) */
} cluster_status;

typedef struct cluster_member {
    char node[PD_ID_LEN + 1];
    char socket[PD_ID_LEN + 1];
} cluster_member;

typedef struct cluster_callbacks {
    /* a message published to this node's channel (bytes from Redis: the
     * receiver validates them) */
    void (*on_message)(const char *msg, size_t len);
    /* a node whose heartbeat expired (asked by cluster_check_nodes) */
    void (*on_node_dead)(const char *node);
    /* every PD_CLUSTER_TICK_MS while the link is up. refresh: the room
     * records want their expiry renewed (cluster_room_touch), every
     * PD_CLUSTER_ROOM_REFRESH_TICKS and right after a reconnection;
     * reconcile: what Redis answers can be believed (not right after a
     * reconnection, when other nodes may not have written theirs back) */
    void (*on_tick)(bool refresh, bool reconcile);
} cluster_callbacks;

typedef struct cluster_stats {
    bool up;
    uint64_t reconnects;
    uint64_t published;
    uint64_t received;
} cluster_stats;

/* Starts connecting (never blocks); false only on out-of-memory. */
bool cluster_start(uv_loop_t *loop, const redis_url *url, const cluster_callbacks *cb);
/* Closes both connections; pending callbacks get CLUSTER_E_UNAVAILABLE. */
void cluster_stop(void);
bool cluster_enabled(void);
bool cluster_up(void); /* both connections ready */
const char *cluster_node_id(void);
void cluster_get_stats(cluster_stats *out);

/* Room record: hash (Argon2id string), generation, capacity. */
typedef void (*cluster_lookup_fn)(void *ctx, cluster_status st, const char *hash,
                                  uint64_t generation, unsigned members, unsigned capacity);
typedef void (*cluster_members_fn)(void *ctx, cluster_status st, const cluster_member *m,
                                   size_t count);

/* A code room's join: generation of the room, joins counted so far (with
 * this one), or for LIMITED the wait in ms; m: the members before it. */
typedef void (*cluster_code_join_fn)(void *ctx, cluster_status st, uint64_t generation,
                                     unsigned joins, const cluster_member *m, size_t count);

/* Each returns false (and never calls fn) if the request could not be sent:
 * the link is down. Otherwise fn is called exactly once, with ctx. */
/* Reads the record to check a password against (members of dead nodes are
 * dropped first): FULL, NOT_FOUND, or LIMITED when room_guesses (0: no
 * budget) checks are reserved or failed in the room's window on all nodes
 * together (the wait in ms in the capacity argument); else one check is
 * reserved, which the caller gives back with cluster_room_guess_release
 * unless the password was wrong. A code room answers KIND. */
bool cluster_room_lookup(const char *room_id, unsigned room_guesses, uint64_t window_ms,
                         cluster_lookup_fn fn, void *ctx);
void cluster_room_guess_release(const char *room_id);
/* Creates the room with the socket as its first member: EXISTS if the id is
 * taken by a room with a live member. code: a short-code room (hash "",
 * its joins counted in the record). */
bool cluster_room_create(const char *room_id, const char *hash, uint64_t generation,
                         unsigned capacity, bool code, const char *socket_id, cluster_members_fn fn,
                         void *ctx);
/* Joins a short-code room in one atomic step: NOT_FOUND, KIND (a password
 * room), JOINS (max_joins used up), FULL, LIMITED (room_guesses of the
 * room's window used up, on all nodes; 0: no budget); else the join is
 * counted, as a join and as a wrong password of the room, and made. */
bool cluster_room_code_join(const char *room_id, const char *socket_id, unsigned max_joins,
                            unsigned room_guesses, uint64_t window_ms, cluster_code_join_fn fn,
                            void *ctx);
/* Adds the socket if the room still has this generation and a free slot
 * (members of dead nodes are dropped first); fn gets the members before the
 * join, oldest first. */
bool cluster_room_join(const char *room_id, uint64_t generation, const char *socket_id,
                       cluster_members_fn fn, void *ctx);
/* Fire and forget: removes the member; the last one out deletes the room. */
void cluster_room_leave(const char *room_id, const char *node, const char *socket_id);
/* Renews the record's expiry and writes this node's members (members:
 * this node's only) back if Redis lost them; fn gets the members Redis
 * holds now, or CLUSTER_E_NOT_FOUND when the record was written anew or
 * belongs to another room (always called, once). */
void cluster_room_touch(const char *room_id, const char *hash, uint64_t generation,
                        unsigned capacity, bool code, unsigned joins, const cluster_member *members,
                        size_t count, cluster_members_fn fn, void *ctx);
/* Asks whether each node's heartbeat is alive: on_node_dead for each not. */
void cluster_check_nodes(const char *const *nodes, size_t count);
/* Publishes msg on a node's channel; false if the link is down. */
bool cluster_publish(const char *node, const char *msg, size_t len);

#endif
