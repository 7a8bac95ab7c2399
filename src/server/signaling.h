/* signaling.h: the Peerdrop signaling contract (docs/signaling.md) on the
 * main Socket.IO namespace: password rooms, and relay of offer / answer /
 * ice-candidate between members of one room. Password hashing runs on the
 * libuv worker pool. */
#ifndef PD_SIGNALING_H
#define PD_SIGNALING_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "ice_config.h"
#include "rooms/password.h"
#include "rooms/password_guard.h"
#include "rooms/redis_url.h"
#include "socketio.h"

#define SIG_ERRORS(X)                                                                              \
    X(SIG_INVALID_PAYLOAD, "INVALID_PAYLOAD", "invalid payload")                                   \
    X(SIG_UNKNOWN_EVENT, "UNKNOWN_EVENT", "unknown event")                                         \
    X(SIG_ROOM_EXISTS, "ROOM_EXISTS", "a room with this id exists")                                \
    X(SIG_ROOM_NOT_FOUND, "ROOM_NOT_FOUND", "no such room")                                        \
    X(SIG_BAD_PASSWORD, "BAD_PASSWORD", "wrong password")                                          \
    X(SIG_ROOM_FULL, "ROOM_FULL", "the room is full")                                              \
    X(SIG_ALREADY_IN_ROOM, "ALREADY_IN_ROOM", "already in a room")                                 \
    X(SIG_NOT_IN_ROOM, "NOT_IN_ROOM", "not in a room")                                             \
    X(SIG_PEER_NOT_FOUND, "PEER_NOT_FOUND", "no such peer in this room")                           \
    X(SIG_RATE_LIMITED, "RATE_LIMITED", "too many requests")                                       \
    X(SIG_UNAVAILABLE, "UNAVAILABLE", "room store unreachable, try again")                         \
    X(SIG_INTERNAL, "INTERNAL", "internal error")

typedef enum sig_error {
#define SIG_ENUM(name, code, text) name,
    SIG_ERRORS(SIG_ENUM)
#undef SIG_ENUM
        SIG_ERROR_COUNT
} sig_error;

const char *sig_error_code(sig_error e);

typedef enum sig_relay_kind {
    SIG_RELAY_OFFER,
    SIG_RELAY_ANSWER,
    SIG_RELAY_ICE,
    SIG_RELAY_COUNT
} sig_relay_kind;

typedef struct signaling_config {
    unsigned room_capacity;
    unsigned rate_limit; /* events per second per socket; 0 = unlimited */
    password_cost argon2;
    pg_limits guard;        /* password checks and hashing jobs (password_guard.h) */
    const ice_config *ice;  /* a member's iceServers, with its TURN credential */
    const redis_url *redis; /* many nodes: rooms and relay through Redis; NULL: this process only */
} signaling_config;

/* Buckets of the cross-node relay latency in /metrics (microseconds): one
 * node to another on one machine took 60-200 us in the cluster test; a
 * LAN adds 100-500 us. */
#define SIG_LATENCY_BUCKETS 10
#define SIG_LATENCY_BOUNDS_US                                                                      \
    {                                                                                              \
        100, 250, 500, 1000, 2500, 5000, 10000, 25000, 100000, 1000000                             \
    }

typedef struct signaling_stats {
    size_t rooms;
    uint64_t rooms_created;
    uint64_t joins;
    uint64_t relayed[SIG_RELAY_COUNT];
    uint64_t refusals[SIG_ERROR_COUNT];
    uint64_t guard_refusals[PG_VERDICT_COUNT]; /* RATE_LIMITED, by the limit that said no */
    uint64_t code_room_join_refusals;          /* RATE_LIMITED: a code room's joins used up */
    uint64_t jobs_cancelled;                   /* queued hashing jobs of clients that left */
    unsigned jobs_pending;
    uint64_t guard_evicted;   /* password-guard entries forgotten because a table was full */
    uint64_t cluster_out;     /* messages published to other nodes */
    uint64_t cluster_in;      /* messages from other nodes, for a room here */
    uint64_t cluster_dropped; /* malformed, or a relay to no member here */
    /* relay latency between nodes (the sender's wall clock to ours),
     * cumulative buckets as Prometheus counts them */
    uint64_t cluster_latency[SIG_LATENCY_BUCKETS];
    uint64_t cluster_latency_sum_us;
    uint64_t cluster_latency_count;
} signaling_stats;

void signaling_init(uv_loop_t *loop, const signaling_config *cfg);
void signaling_cleanup(void);
extern const srv_sio_namespace_def signaling_namespace;
void signaling_get_stats(signaling_stats *out);

#endif
