/* password_guard.h: what clients may make the server spend on passwords.
 *
 * Two budgets, no I/O (the caller passes the clock):
 * - wrong-password checks, counted per room, per client address and per
 *   Engine.IO session in fixed windows, with a lockout that doubles each
 *   time a budget is used up again (issue 11, item 2: one client checked 227
 *   wrong passwords against one room in 8 s by renewing its namespace, since
 *   the old budget lived on the Socket.IO socket). Only checks that ran and
 *   failed spend a budget: a right password never does, even while other
 *   checks are in flight (31 simultaneous right joins from one address were
 *   refused when checks in flight counted). What checks in flight can
 *   overshoot is bounded by concurrency caps instead: per room
 *   (room_checks), per address and session (the job caps below);
 * - pending Argon2 jobs, globally, per client address and per session
 *   (issue 11, item 3: 300 queued jobs made a stranger's create-room wait
 *   9.5 s).
 * Entries are keyed by text (room id, address key as pd_ip_key_text_of
 * gives it, session id). One is made
 * only for an admitted job and freed as soon as it holds nothing (no job in
 * flight, no failure, no lockout), so a table holds the clients that have
 * failed lately plus the jobs in flight. A full table forgets the entry that
 * was used longest ago and holds no job (docs/security.md, "Password guard
 * tables"), so filling it never refuses anyone. signaling.c owns the state
 * and decides what to refuse. */
#ifndef PD_PASSWORD_GUARD_H
#define PD_PASSWORD_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/map.h"

typedef struct pg_limits {
    unsigned room_failures;    /* wrong passwords per room per window */
    unsigned room_checks;      /* checks in flight per room (0: no cap) */
    unsigned address_failures; /* ... per client address */
    unsigned session_failures; /* ... per Engine.IO session */
    uint64_t window_ms;
    uint64_t backoff_max_ms; /* longest lockout */
    unsigned jobs_global;
    unsigned jobs_per_address;
    unsigned jobs_per_session;
    size_t max_entries; /* per table */
} pg_limits;

/* Why a request was refused; PG_OK if it was not. */
#define PG_VERDICTS(X)                                                                             \
    X(PG_OK, "ok")                                                                                 \
    X(PG_ROOM_FAILURES, "room_password_failures")                                                  \
    X(PG_ADDRESS_FAILURES, "address_password_failures")                                            \
    X(PG_SESSION_FAILURES, "session_password_failures")                                            \
    X(PG_JOBS_GLOBAL, "hash_queue")                                                                \
    X(PG_JOBS_ADDRESS, "hash_queue_address")                                                       \
    X(PG_JOBS_SESSION, "hash_queue_session")                                                       \
    X(PG_ROOM_CHECKS, "room_checks_in_flight")                                                     \
    X(PG_TABLE_FULL, "guard_table_full") /* out of memory, or every entry busy */

typedef enum pg_verdict {
#define PG_ENUM(name, label) name,
    PG_VERDICTS(PG_ENUM)
#undef PG_ENUM
        PG_VERDICT_COUNT
} pg_verdict;

/* The metrics label of a verdict. */
const char *pg_verdict_name(pg_verdict v);

typedef struct pg_entry pg_entry;

/* One budget table: a map for lookups and a list from least to most
 * recently used, for forgetting the oldest entry when it is full. */
typedef struct pg_table {
    pd_map map;
    pg_entry *oldest, *newest;
    uint64_t evicted; /* entries forgotten because the table was full */
} pg_table;

typedef struct password_guard {
    pg_limits lim;
    pg_table rooms, addresses, sessions;
    unsigned jobs; /* pending, all clients */
} password_guard;

/* What one admitted job holds; released by pg_settle. */
typedef struct pg_ticket {
    pg_entry *room; /* NULL: not a password check (create-room) */
    pg_entry *address;
    pg_entry *session;
} pg_ticket;

void pg_init(password_guard *g, const pg_limits *lim);
void pg_cleanup(password_guard *g);

/* Admits one hashing job for a client (address key, session id) and, when
 * room_id is not NULL, one password check against that room. On PG_OK the
 * ticket holds the reservations; otherwise nothing is held and *retry_ms
 * says when asking again may succeed. */
pg_verdict pg_admit(password_guard *g, const char *address, const char *session,
                    const char *room_id, uint64_t now_ms, pg_ticket *t, uint64_t *retry_ms);

/* Ends an admitted job. wrong_password: the check ran and failed. */
void pg_settle(password_guard *g, pg_ticket *t, bool wrong_password, uint64_t now_ms);

/* Forgets idle entries; call every few seconds. */
void pg_sweep(password_guard *g, uint64_t now_ms);

#endif
