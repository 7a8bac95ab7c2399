/* signaling.c: see signaling.h and docs/signaling.md.
 *
 * Every handler validates its payload completely before acting, answers
 * through the ack when one was asked (else with a `signaling-error` event to
 * the sender only), and never tells anyone else about a refusal. */
#include "signaling.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/id.h"
#include "base/ip_key.h"
#include "base/limits.h"
#include "base/log.h"
#include "cluster.h"
#include "rooms/node_msg.h"
#include "rooms/relay.h"
#include "rooms/rooms.h"
#include "sio/json_scan.h"
#include "sio/sio.h"

/* How often idle password-guard entries are forgotten. */
#define GUARD_SWEEP_MS 10000

typedef struct hash_job hash_job;

/* A member of a room: a local socket, or (many nodes, sock NULL) a socket
 * on another node, known by its id and node (docs/scale.md). */
typedef struct peer {
    srv_sio_socket *sock;
    room *room;
    hash_job *job;        /* a create/join waiting for the hashing pool */
    bool cluster_pending; /* a create/join waiting for Redis */
    double tokens;
    uint64_t tokens_at_ms;
    char remote_id[PD_ID_LEN + 1];
    char node[PD_ID_LEN + 1];
} peer;

typedef enum job_kind { JOB_CREATE, JOB_JOIN } job_kind;

struct hash_job {
    uv_work_t work;
    pg_ticket ticket;
    job_kind kind;
    char socket_id[PD_ID_LEN + 1];
    char room_id[PD_MAX_ROOM_ID + 1];
    uint64_t generation;
    int64_t ack_id;
    char *password;
    size_t password_len;
    password_cost cost;
    char hash[PD_PASSWORD_HASH_MAX];
    bool ok;
};

static struct {
    uv_loop_t *loop;
    signaling_config cfg;
    room_registry rooms;
    signaling_stats stats;
    password_guard guard;
    uv_timer_t sweep;
    bool closed;  /* signaling_cleanup ran: late job callbacks only free */
    bool cluster; /* rooms and relay through Redis (--redis) */
} g;

static pd_buf g_msg; /* a message to another node (src/rooms/node_msg.h) */

static const struct {
    const char *code;
    const char *message;
} errors[] = {
#define SIG_ROW(name, code, text) {code, text},
    SIG_ERRORS(SIG_ROW)
#undef SIG_ROW
};

const char *sig_error_code(sig_error e)
{
    return e < SIG_ERROR_COUNT ? errors[e].code : "INTERNAL";
}

/* --- replies ------------------------------------------------------------ */

static void ack_json(srv_sio_socket *sock, int64_t ack_id, json_t *obj)
{
    json_t *args = json_array();
    json_array_append_new(args, obj);
    srv_sio_ack(sock, ack_id, args, NULL, 0);
    json_decref(args);
}

static void reply_ok(srv_sio_socket *sock, int64_t ack_id, json_t *extra)
{
    static const char plain_ok[] = "[{\"ok\":true}]";
    if (ack_id < 0) {
        json_decref(extra);
        return;
    }
    if (!extra) {
        srv_sio_ack_json(sock, ack_id, plain_ok, sizeof plain_ok - 1);
        return;
    }
    json_t *obj = extra ? extra : json_object();
    json_object_set_new(obj, "ok", json_true());
    ack_json(sock, ack_id, obj);
}

/* What a client is told when the password guard refuses (docs/signaling.md):
 * a budget used up (wait retryAfterMs) or a concurrency cap (busy now). */
static const char *const guard_messages[PG_VERDICT_COUNT] = {
    [PG_OK] = "ok",
    [PG_ROOM_FAILURES] = "too many wrong passwords for this room",
    [PG_ADDRESS_FAILURES] = "too many wrong passwords from this address",
    [PG_SESSION_FAILURES] = "too many wrong passwords in this session",
    [PG_JOBS_GLOBAL] = "too many password checks in progress, retry shortly",
    [PG_JOBS_ADDRESS] = "too many password checks in progress from this address, retry shortly",
    [PG_JOBS_SESSION] = "a room request of this session is in progress",
    [PG_ROOM_CHECKS] = "too many password checks in progress for this room, retry shortly",
    [PG_TABLE_FULL] = "too many requests",
};

/* retry_ms > 0 adds the hint `retryAfterMs` (RATE_LIMITED by a budget);
 * v, when not PG_OK, says which limit refused (`reason`, and its message). */
static void refuse_why(srv_sio_socket *sock, const char *event, int64_t ack_id, sig_error e,
                       uint64_t retry_ms, const char *message, const char *reason);

static void refuse_guarded(srv_sio_socket *sock, const char *event, int64_t ack_id, sig_error e,
                           uint64_t retry_ms, pg_verdict v)
{
    refuse_why(sock, event, ack_id, e, retry_ms, v != PG_OK ? guard_messages[v] : NULL,
               v != PG_OK ? pg_verdict_name(v) : NULL);
}

/* message NULL: the code's own; reason: which limit refused, or NULL */
static void refuse_why(srv_sio_socket *sock, const char *event, int64_t ack_id, sig_error e,
                       uint64_t retry_ms, const char *message, const char *reason)
{
    g.stats.refusals[e]++;
    /* the event name is the client's: escaped, so it cannot forge a log line */
    char shown[80];
    pd_log_escape(event, strlen(event), shown, sizeof shown);
    PD_LOG_DEBUG("refused event=\"%s\" code=%s socket=%.6s..", shown, errors[e].code,
                 srv_sio_socket_id(sock));
    json_t *err = json_pack("{s:s,s:s}", "code", errors[e].code, "message",
                            message ? message : errors[e].message);
    if (reason) json_object_set_new(err, "reason", json_string(reason));
    if (retry_ms > 0) json_object_set_new(err, "retryAfterMs", json_integer((json_int_t)retry_ms));
    if (ack_id >= 0) {
        ack_json(sock, ack_id, json_pack("{s:b,s:o}", "ok", 0, "error", err));
        return;
    }
    json_object_set_new(err, "event", json_string(event));
    srv_sio_emit_simple(sock, "signaling-error", err);
    json_decref(err);
}

static void refuse(srv_sio_socket *sock, const char *event, int64_t ack_id, sig_error e)
{
    refuse_guarded(sock, event, ack_id, e, 0, PG_OK);
}

/* --- ICE servers --------------------------------------------------------- */

/* Adds this member's iceServers (its own TURN credential) and their lifetime
 * in seconds to an ack; nothing when the server has no STUN/TURN servers. */
static json_t *with_ice(json_t *obj, const peer *p)
{
    const ice_config *ice = g.cfg.ice;
    if (!ice || ice->stun_count + ice->turn_count == 0) return obj;
    json_object_set_new(obj, "iceServers",
                        ice_servers_for(ice, (int64_t)time(NULL), srv_sio_socket_id(p->sock)));
    json_object_set_new(obj, "iceServersTtl", json_integer(ice->turn_ttl_s));
    return obj;
}

/* --- rate limiting ------------------------------------------------------ */

static bool take_token(peer *p)
{
    if (g.cfg.rate_limit == 0) return true;
    uint64_t now = uv_now(g.loop);
    double burst = 2.0 * g.cfg.rate_limit;
    p->tokens += (double)(now - p->tokens_at_ms) * g.cfg.rate_limit / 1000.0;
    if (p->tokens > burst) p->tokens = burst;
    p->tokens_at_ms = now;
    if (p->tokens < 1.0) return false;
    p->tokens -= 1.0;
    return true;
}

/* Admits a hashing job (and for a join, a password check against room_id)
 * under the password guard's budgets, or answers RATE_LIMITED. */
static bool guard_admit(peer *p, const char *event, const char *room_id, int64_t ack_id,
                        pg_ticket *t)
{
    char address[PD_IP_TEXT_LEN];
    pd_ip_key_text_of(srv_sio_socket_peer(p->sock), address);
    uint64_t retry_ms;
    pg_verdict v = pg_admit(&g.guard, address, srv_sio_socket_session_id(p->sock), room_id,
                            uv_now(g.loop), t, &retry_ms);
    if (v == PG_OK) return true;
    g.stats.guard_refusals[v]++;
    PD_LOG_DEBUG("%s refused by %s socket=%.6s.. retry=%llums", event, pg_verdict_name(v),
                 srv_sio_socket_id(p->sock), (unsigned long long)retry_ms);
    refuse_guarded(p->sock, event, ack_id, SIG_RATE_LIMITED, retry_ms, v);
    return false;
}

/* --- payload validation ------------------------------------------------- */

static bool get_string(const json_t *obj, const char *key, size_t min, size_t max, const char **out,
                       size_t *out_len)
{
    const json_t *v = json_object_get(obj, key);
    if (!json_is_string(v)) return false;
    size_t len = json_string_length(v);
    if (len < min || len > max) return false;
    *out = json_string_value(v);
    *out_len = len;
    return true;
}

/* { roomId, password } asks for a password room, { roomId, code: true }
 * for a short-code room (docs/signaling.md), which has no password: one
 * sent with it is refused, so a client that leaks a code-derived value
 * here learns it at once. `code: false` is a password room. */
static bool room_request_valid(const json_t *payload, const char **id, size_t *id_len,
                               const char **pw, size_t *pw_len, bool *code)
{
    if (!json_is_object(payload) || !get_string(payload, "roomId", 1, PD_MAX_ROOM_ID, id, id_len) ||
        !rooms_valid_id(*id, *id_len))
        return false;
    const json_t *c = json_object_get(payload, "code");
    if (c && !json_is_boolean(c)) return false;
    *code = json_is_true(c);
    if (*code) {
        *pw = NULL;
        *pw_len = 0;
        return json_object_get(payload, "password") == NULL;
    }
    return get_string(payload, "password", 1, PD_MAX_PASSWORD, pw, pw_len);
}

/* --- room membership ---------------------------------------------------- */

static const char *peer_id(const peer *m)
{
    return m->sock ? srv_sio_socket_id(m->sock) : m->remote_id;
}

static json_t *member_ids(const room *r, const peer *except)
{
    json_t *ids = json_array();
    for (size_t i = 0; i < room_member_count(r); i++) {
        peer *m = room_member(r, i);
        if (m != except) json_array_append_new(ids, json_string(peer_id(m)));
    }
    return ids;
}

/* To this node's members only: the others' nodes tell theirs. */
static void broadcast_others(const room *r, const peer *except, const char *event,
                             const json_t *payload)
{
    for (size_t i = 0; i < room_member_count(r); i++) {
        peer *m = room_member(r, i);
        if (m != except && m->sock) srv_sio_emit_simple(m->sock, event, payload);
    }
}

static size_t local_member_count(const room *r)
{
    size_t n = 0;
    for (size_t i = 0; i < room_member_count(r); i++)
        n += ((peer *)room_member(r, i))->sock != NULL;
    return n;
}

static peer *remote_member(const room *r, const char *id, size_t len)
{
    if (len != PD_ID_LEN) return NULL;
    for (size_t i = 0; i < room_member_count(r); i++) {
        peer *m = room_member(r, i);
        if (!m->sock && memcmp(m->remote_id, id, PD_ID_LEN) == 0) return m;
    }
    return NULL;
}

/* Sends one message to each other node that holds a member of the room. */
static void publish_to_nodes(const room *r, const char *msg, size_t len)
{
    const char *sent[PD_MAX_ROOM_CAPACITY];
    size_t n = 0;
    for (size_t i = 0; i < room_member_count(r); i++) {
        peer *m = room_member(r, i);
        if (m->sock) continue;
        bool dup = false;
        for (size_t k = 0; k < n && !dup; k++)
            dup = strcmp(sent[k], m->node) == 0;
        if (dup) continue;
        sent[n++] = m->node;
        if (cluster_publish(m->node, msg, len)) g.stats.cluster_out++;
    }
}

/* The room leaves this node's memory with its last local member; its
 * remote members are only this node's copy of them. */
static void destroy_local_room(room *r)
{
    for (size_t i = room_member_count(r); i-- > 0;) {
        peer *m = room_member(r, i);
        if (m->sock) continue;
        room_remove_member(r, m);
        free(m);
    }
    rooms_destroy(&g.rooms, r);
}

static void leave_room(peer *p)
{
    room *r = p->room;
    if (!r) return;
    p->room = NULL;
    room_remove_member(r, p);
    if (g.cluster) {
        cluster_room_leave(room_id(r), cluster_node_id(), srv_sio_socket_id(p->sock));
        if (node_msg_left(&g_msg, room_id(r), srv_sio_socket_id(p->sock)))
            publish_to_nodes(r, (const char *)g_msg.data, g_msg.len);
    }
    if (local_member_count(r) == 0) {
        PD_LOG_DEBUG("room destroyed (empty)");
        destroy_local_room(r);
        return;
    }
    json_t *ev = json_pack("{s:s}", "socketId", srv_sio_socket_id(p->sock));
    broadcast_others(r, p, "user-left", ev);
    json_decref(ev);
}

/* --- hashing jobs ------------------------------------------------------- */

static void job_work(uv_work_t *w)
{
    hash_job *job = w->data;
    if (job->kind == JOB_CREATE)
        job->ok = password_hash(job->password, job->password_len, job->cost, job->hash) == 0;
    else
        job->ok = password_verify(job->hash, job->password, job->password_len);
}

static void job_free(hash_job *job)
{
    sodium_memzero(job->password, job->password_len);
    free(job->password);
    sodium_memzero(job->hash, sizeof job->hash);
    free(job);
}

static room *job_room(const hash_job *job)
{
    room *r = rooms_find(&g.rooms, job->room_id, strlen(job->room_id));
    return r && room_generation(r) == job->generation ? r : NULL;
}

static void cluster_finish_create(hash_job *job, peer *p);
static void cluster_finish_join(hash_job *job, peer *p);

static void created_reply(peer *p, room *r, int64_t ack_id)
{
    p->room = r;
    g.stats.rooms_created++;
    PD_LOG_DEBUG("room created socket=%.6s..", srv_sio_socket_id(p->sock));
    reply_ok(p->sock, ack_id, with_ice(json_pack("{s:s}", "roomId", room_id(r)), p));
    json_t *ev = json_pack("{s:s}", "roomId", room_id(r));
    srv_sio_emit_simple(p->sock, "room-created", ev);
    json_decref(ev);
}

/* peers: the other members, oldest first (taken) */
static void joined_reply(peer *p, room *r, json_t *peers, int64_t ack_id)
{
    p->room = r;
    g.stats.joins++;
    reply_ok(p->sock, ack_id,
             with_ice(json_pack("{s:s,s:O}", "roomId", room_id(r), "peers", peers), p));
    json_t *ev = json_pack("{s:s,s:o}", "roomId", room_id(r), "peers", peers);
    srv_sio_emit_simple(p->sock, "join-success", ev);
    json_decref(ev);
    ev = json_pack("{s:s}", "socketId", srv_sio_socket_id(p->sock));
    broadcast_others(r, p, "user-joined", ev);
    json_decref(ev);
}

static void finish_create(hash_job *job, peer *p)
{
    if (g.cluster) {
        cluster_finish_create(job, p);
        return;
    }
    room *r = job_room(job);
    if (!p) { /* the creator left while we hashed */
        if (r) rooms_destroy(&g.rooms, r);
        return;
    }
    if (!r || !job->ok || room_activate(r, job->hash, p) != ROOM_OK) {
        if (r) rooms_destroy(&g.rooms, r);
        refuse(p->sock, "create-room", job->ack_id, SIG_INTERNAL);
        return;
    }
    created_reply(p, r, job->ack_id);
}

static void finish_join(hash_job *job, peer *p)
{
    if (!p) return;
    if (g.cluster) {
        cluster_finish_join(job, p);
        return;
    }
    room *r = job_room(job);
    if (!r) {
        refuse(p->sock, "join-room", job->ack_id, SIG_ROOM_NOT_FOUND);
        return;
    }
    if (!job->ok) {
        refuse(p->sock, "join-room", job->ack_id, SIG_BAD_PASSWORD);
        return;
    }
    if (room_add_member(r, p) != ROOM_OK) {
        refuse(p->sock, "join-room", job->ack_id, SIG_ROOM_FULL);
        return;
    }
    joined_reply(p, r, member_ids(r, p), job->ack_id);
}

static void job_done(uv_work_t *w, int status)
{
    hash_job *job = w->data;
    if (g.closed) {
        job_free(job);
        return;
    }
    srv_sio_socket *sock = srv_sio_socket_find(job->socket_id, PD_ID_LEN);
    peer *p = sock ? srv_sio_socket_user(sock) : NULL;
    if (p && p->job == job)
        p->job = NULL;
    else
        p = NULL; /* the socket that asked is gone (a new one may have its id) */
    if (status != 0) job->ok = false;
    if (status == UV_ECANCELED) g.stats.jobs_cancelled++;
    /* a check that ran and failed counts against every budget; one that
     * was cancelled before it ran does not */
    bool wrong = status == 0 && job->kind == JOB_JOIN && !job->ok;
    pg_settle(&g.guard, &job->ticket, wrong, uv_now(g.loop));
    /* many nodes: the room's check reserved in Redis stays only if wrong */
    if (g.cluster && job->kind == JOB_JOIN && !wrong && g.cfg.guard.room_failures > 0)
        cluster_room_guess_release(job->room_id);
    if (job->kind == JOB_CREATE)
        finish_create(job, p);
    else
        finish_join(job, p);
    job_free(job);
}

static bool queue_job(peer *p, job_kind kind, const char *rid, size_t rid_len, uint64_t generation,
                      const char *pw, size_t pw_len, const char *hash, int64_t ack_id,
                      pg_ticket *ticket)
{
    hash_job *job = calloc(1, sizeof *job);
    if (!job) return false;
    job->password = malloc(pw_len + 1);
    if (!job->password) {
        free(job);
        return false;
    }
    job->ticket = *ticket;
    memcpy(job->password, pw, pw_len);
    job->password[pw_len] = '\0';
    job->password_len = pw_len;
    job->kind = kind;
    memcpy(job->socket_id, srv_sio_socket_id(p->sock), PD_ID_LEN + 1);
    memcpy(job->room_id, rid, rid_len);
    job->room_id[rid_len] = '\0';
    job->generation = generation;
    job->ack_id = ack_id;
    job->cost = g.cfg.argon2;
    if (hash) strncpy(job->hash, hash, sizeof job->hash - 1);
    job->work.data = job;
    if (uv_queue_work(g.loop, &job->work, job_work, job_done) != 0) {
        job->ticket = (pg_ticket){0}; /* the caller still holds it */
        job_free(job);
        return false;
    }
    p->job = job;
    return true;
}

/* --- many nodes: rooms in Redis (docs/scale.md) --------------------------
 *
 * Redis holds the authoritative record of every room; this node's registry
 * holds the rooms that have a member here, with every member (the remote
 * ones as peers without a socket), so relay and PEER_NOT_FOUND need no
 * Redis round trip. A create hashes first, then creates atomically (the
 * Lua script refuses a taken id); a join reads the record, verifies on the
 * pool, then joins atomically (the script refuses a full room or a newer
 * room with the same id). */

typedef struct cluster_req {
    char socket_id[PD_ID_LEN + 1];
    char room_id[PD_MAX_ROOM_ID + 1];
    int64_t ack_id;
    uint64_t generation;
    char hash[PD_PASSWORD_HASH_MAX];
    char *password; /* a join waiting for the room's record */
    size_t password_len;
    bool code;        /* a short-code room */
    pg_ticket ticket; /* a code join: its guess, settled when Redis answers */
} cluster_req;

static cluster_req *cluster_req_new(const peer *p, const char *rid, size_t rid_len, int64_t ack_id)
{
    cluster_req *q = calloc(1, sizeof *q);
    if (!q) return NULL;
    memcpy(q->socket_id, srv_sio_socket_id(p->sock), PD_ID_LEN + 1);
    memcpy(q->room_id, rid, rid_len);
    q->room_id[rid_len] = '\0';
    q->ack_id = ack_id;
    return q;
}

static void cluster_req_free(cluster_req *q)
{
    if (q->password) {
        sodium_memzero(q->password, q->password_len);
        free(q->password);
    }
    sodium_memzero(q->hash, sizeof q->hash);
    free(q);
}

/* The peer that asked, if it is still here and still waiting for Redis. */
static peer *cluster_req_peer(const cluster_req *q)
{
    if (g.closed) return NULL;
    srv_sio_socket *sock = srv_sio_socket_find(q->socket_id, PD_ID_LEN);
    peer *p = sock ? srv_sio_socket_user(sock) : NULL;
    if (!p || !p->cluster_pending) return NULL;
    p->cluster_pending = false;
    return p;
}

static sig_error cluster_error(cluster_status st)
{
    switch (st) {
    case CLUSTER_E_EXISTS:
        return SIG_ROOM_EXISTS;
    case CLUSTER_E_NOT_FOUND:
        return SIG_ROOM_NOT_FOUND;
    case CLUSTER_E_FULL:
        return SIG_ROOM_FULL;
    case CLUSTER_E_UNAVAILABLE:
        return SIG_UNAVAILABLE;
    case CLUSTER_E_KIND: /* the other kind: as a wrong secret, as on one node */
        return SIG_BAD_PASSWORD;
    default:
        return SIG_INTERNAL;
    }
}

static peer *remote_peer_new(room *r, const cluster_member *m)
{
    peer *rp = calloc(1, sizeof *rp);
    if (!rp) return NULL;
    memcpy(rp->remote_id, m->socket, PD_ID_LEN + 1);
    memcpy(rp->node, m->node, PD_ID_LEN + 1);
    rp->room = r;
    if (room_add_member(r, rp) != ROOM_OK) {
        free(rp);
        return NULL;
    }
    return rp;
}

static void on_cluster_created(void *ctx, cluster_status st, const cluster_member *m, size_t n)
{
    (void)m;
    (void)n;
    cluster_req *q = ctx;
    peer *p = cluster_req_peer(q);
    if (!p) { /* the creator left meanwhile: take it out again */
        if (st == CLUSTER_OK) cluster_room_leave(q->room_id, cluster_node_id(), q->socket_id);
        cluster_req_free(q);
        return;
    }
    room *r = NULL;
    bool in_redis = st == CLUSTER_OK; /* undone below if this node cannot follow */
    if (st == CLUSTER_OK &&
        (p->room || rooms_reserve(&g.rooms, q->room_id, strlen(q->room_id), &r) != ROOM_OK))
        st = CLUSTER_E_EXISTS; /* this node still holds a room of that id Redis forgot */
    if (st == CLUSTER_OK &&
        (q->code ? room_activate_code(r, p) : room_activate(r, q->hash, p)) != ROOM_OK) {
        rooms_destroy(&g.rooms, r);
        st = CLUSTER_E_UNAVAILABLE;
    }
    if (st != CLUSTER_OK) {
        if (in_redis) cluster_room_leave(q->room_id, cluster_node_id(), q->socket_id);
        refuse(p->sock, "create-room", q->ack_id, cluster_error(st));
        cluster_req_free(q);
        return;
    }
    room_set_generation(r, q->generation);
    created_reply(p, r, q->ack_id);
    cluster_req_free(q);
}

static void cluster_finish_create(hash_job *job, peer *p)
{
    if (!p) return;
    if (!job->ok) {
        refuse(p->sock, "create-room", job->ack_id, SIG_INTERNAL);
        return;
    }
    cluster_req *q = cluster_req_new(p, job->room_id, strlen(job->room_id), job->ack_id);
    if (!q) {
        refuse(p->sock, "create-room", job->ack_id, SIG_INTERNAL);
        return;
    }
    memcpy(q->hash, job->hash, sizeof q->hash);
    randombytes_buf(&q->generation, sizeof q->generation);
    p->cluster_pending = true;
    if (!cluster_room_create(q->room_id, q->hash, q->generation, g.cfg.room_capacity, false,
                             q->socket_id, on_cluster_created, q)) {
        p->cluster_pending = false;
        refuse(p->sock, "create-room", job->ack_id, SIG_UNAVAILABLE);
        cluster_req_free(q);
    }
}

/* Redis answered a join (st, m: the members before it) for p; q->code: a
 * code room, joins: its joins counted in Redis so far. */
static void cluster_joined(cluster_req *q, peer *p, cluster_status st, unsigned joins,
                           const cluster_member *m, size_t n)
{
    bool in_redis = st == CLUSTER_OK; /* undone below if this node cannot follow */
    room *r = st == CLUSTER_OK ? rooms_find(&g.rooms, q->room_id, strlen(q->room_id)) : NULL;
    if (r && room_generation(r) != q->generation) st = CLUSTER_E_NOT_FOUND;
    if (st == CLUSTER_OK && !r) {
        if (rooms_reserve(&g.rooms, q->room_id, strlen(q->room_id), &r) != ROOM_OK) {
            st = CLUSTER_E_UNAVAILABLE;
        } else if ((q->code ? room_activate_code(r, p) : room_activate(r, q->hash, p)) != ROOM_OK) {
            rooms_destroy(&g.rooms, r);
            st = CLUSTER_E_UNAVAILABLE;
        } else {
            room_set_generation(r, q->generation);
        }
    } else if (st == CLUSTER_OK && room_add_member(r, p) != ROOM_OK) {
        st = CLUSTER_E_FULL;
    }
    if (st != CLUSTER_OK) {
        if (in_redis) cluster_room_leave(q->room_id, cluster_node_id(), q->socket_id);
        refuse(p->sock, "join-room", q->ack_id, cluster_error(st));
        cluster_req_free(q);
        return;
    }
    /* this node learns of the members elsewhere that it did not know yet */
    json_t *peers = json_array();
    const char *me = cluster_node_id();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(peers, json_string(m[i].socket));
        if (strcmp(m[i].node, me) != 0 && !remote_member(r, m[i].socket, PD_ID_LEN))
            remote_peer_new(r, &m[i]);
    }
    if (node_msg_joined(&g_msg, q->room_id, me, q->socket_id))
        publish_to_nodes(r, (const char *)g_msg.data, g_msg.len);
    /* this node's copy follows Redis' count (written back if Redis loses
     * the record); bounded by PD_CODE_ROOM_JOINS */
    while (q->code && room_code_joins(r) < joins && room_code_joins(r) < PD_CODE_ROOM_JOINS)
        room_code_join(r);
    joined_reply(p, r, peers, q->ack_id);
    cluster_req_free(q);
}

static void on_cluster_joined(void *ctx, cluster_status st, const cluster_member *m, size_t n)
{
    cluster_req *q = ctx;
    peer *p = cluster_req_peer(q);
    if (!p) {
        if (st == CLUSTER_OK) cluster_room_leave(q->room_id, cluster_node_id(), q->socket_id);
        cluster_req_free(q);
        return;
    }
    cluster_joined(q, p, st, 0, m, n);
}

static void cluster_finish_join(hash_job *job, peer *p)
{
    if (!job->ok) {
        refuse(p->sock, "join-room", job->ack_id, SIG_BAD_PASSWORD);
        return;
    }
    cluster_req *q = cluster_req_new(p, job->room_id, strlen(job->room_id), job->ack_id);
    if (!q) {
        refuse(p->sock, "join-room", job->ack_id, SIG_INTERNAL);
        return;
    }
    memcpy(q->hash, job->hash, sizeof q->hash);
    q->generation = job->generation;
    p->cluster_pending = true;
    if (!cluster_room_join(q->room_id, q->generation, q->socket_id, on_cluster_joined, q)) {
        p->cluster_pending = false;
        refuse(p->sock, "join-room", job->ack_id, SIG_UNAVAILABLE);
        cluster_req_free(q);
    }
}

static void on_cluster_record(void *ctx, cluster_status st, const char *hash, uint64_t generation,
                              unsigned members, unsigned capacity)
{
    cluster_req *q = ctx;
    peer *p = cluster_req_peer(q);
    if (!p) { /* left meanwhile: give the reserved check back */
        if (st == CLUSTER_OK && g.cfg.guard.room_failures > 0)
            cluster_room_guess_release(q->room_id);
        cluster_req_free(q);
        return;
    }
    if (st == CLUSTER_E_LIMITED) { /* the room's budget, counted by all nodes */
        g.stats.guard_refusals[PG_ROOM_FAILURES]++;
        refuse_guarded(p->sock, "join-room", q->ack_id, SIG_RATE_LIMITED, capacity,
                       PG_ROOM_FAILURES);
        cluster_req_free(q);
        return;
    }
    bool reserved = st == CLUSTER_OK && g.cfg.guard.room_failures > 0;
    if (st == CLUSTER_OK && (members >= capacity || strlen(hash) >= PD_PASSWORD_HASH_MAX))
        st = CLUSTER_E_UNAVAILABLE; /* not a record this node wrote */
    if (st != CLUSTER_OK) {
        if (reserved) cluster_room_guess_release(q->room_id);
        refuse(p->sock, "join-room", q->ack_id, cluster_error(st));
        cluster_req_free(q);
        return;
    }
    pg_ticket ticket;
    if (!guard_admit(p, "join-room", q->room_id, q->ack_id, &ticket)) {
        if (reserved) cluster_room_guess_release(q->room_id);
    } else if (!queue_job(p, JOB_JOIN, q->room_id, strlen(q->room_id), generation, q->password,
                          q->password_len, hash, q->ack_id, &ticket)) {
        pg_settle(&g.guard, &ticket, false, uv_now(g.loop));
        if (reserved) cluster_room_guess_release(q->room_id);
        refuse(p->sock, "join-room", q->ack_id, SIG_INTERNAL);
    }
    cluster_req_free(q);
}

static void cluster_join_room(peer *p, const char *id, size_t id_len, const char *pw, size_t pw_len,
                              int64_t ack_id)
{
    cluster_req *q = cluster_req_new(p, id, id_len, ack_id);
    if (q) q->password = malloc(pw_len ? pw_len : 1); /* malloc(0) may return NULL */
    if (!q || !q->password) {
        if (q) cluster_req_free(q);
        refuse(p->sock, "join-room", ack_id, SIG_INTERNAL);
        return;
    }
    if (pw_len) memcpy(q->password, pw, pw_len); /* a code room has none: pw is NULL */
    q->password_len = pw_len;
    p->cluster_pending = true;
    if (!cluster_room_lookup(q->room_id, g.cfg.guard.room_failures, g.cfg.guard.window_ms,
                             on_cluster_record, q)) {
        p->cluster_pending = false;
        refuse(p->sock, "join-room", ack_id, SIG_UNAVAILABLE);
        cluster_req_free(q);
    }
}

/* Many nodes: a code room is created at once (nothing to hash), its kind,
 * capacity and join count in its Redis record. */
static void cluster_create_code_room(peer *p, const char *id, size_t id_len, int64_t ack_id)
{
    cluster_req *q = cluster_up() ? cluster_req_new(p, id, id_len, ack_id) : NULL;
    if (!q) {
        refuse(p->sock, "create-room", ack_id, cluster_up() ? SIG_INTERNAL : SIG_UNAVAILABLE);
        return;
    }
    q->code = true;
    randombytes_buf(&q->generation, sizeof q->generation);
    p->cluster_pending = true;
    if (!cluster_room_create(q->room_id, "", q->generation, PD_CODE_ROOM_CAPACITY, true,
                             q->socket_id, on_cluster_created, q)) {
        p->cluster_pending = false;
        refuse(p->sock, "create-room", ack_id, SIG_UNAVAILABLE);
        cluster_req_free(q);
    }
}

static void on_cluster_code_joined(void *ctx, cluster_status st, uint64_t generation,
                                   unsigned joins, const cluster_member *m, size_t n)
{
    cluster_req *q = ctx;
    /* a join Redis made counts as a guess, as on one node (join_code_room) */
    if (!g.closed) pg_settle(&g.guard, &q->ticket, st == CLUSTER_OK, uv_now(g.loop));
    peer *p = cluster_req_peer(q);
    if (!p) {
        if (st == CLUSTER_OK) cluster_room_leave(q->room_id, cluster_node_id(), q->socket_id);
        cluster_req_free(q);
        return;
    }
    if (st == CLUSTER_E_LIMITED) { /* the room's budget, counted by all nodes */
        g.stats.guard_refusals[PG_ROOM_FAILURES]++;
        refuse_guarded(p->sock, "join-room", q->ack_id, SIG_RATE_LIMITED, joins, PG_ROOM_FAILURES);
    } else if (st == CLUSTER_E_JOINS) {
        g.stats.code_room_join_refusals++;
        refuse_why(p->sock, "join-room", q->ack_id, SIG_RATE_LIMITED, 0,
                   "too many joins of this code room: start again with a new code",
                   "code_room_joins");
    } else {
        q->generation = generation;
        cluster_joined(q, p, st, joins, m, n);
        return; /* it frees q */
    }
    cluster_req_free(q);
}

/* Many nodes: a code join is decided whole by one script (cluster.h), the
 * join counted against the room's life and its shared wrong-password
 * budget; this node's guard (address, session, its own room budget) admits
 * it first and counts it once Redis has made it. */
static void cluster_join_code_room(peer *p, const char *id, size_t id_len, int64_t ack_id)
{
    cluster_req *q = cluster_req_new(p, id, id_len, ack_id);
    if (!q) {
        refuse(p->sock, "join-room", ack_id, SIG_INTERNAL);
        return;
    }
    if (!guard_admit(p, "join-room", q->room_id, ack_id, &q->ticket)) {
        cluster_req_free(q);
        return;
    }
    q->code = true;
    p->cluster_pending = true;
    if (!cluster_room_code_join(q->room_id, q->socket_id, PD_CODE_ROOM_JOINS,
                                g.cfg.guard.room_failures, g.cfg.guard.window_ms,
                                on_cluster_code_joined, q)) {
        p->cluster_pending = false;
        pg_settle(&g.guard, &q->ticket, false, uv_now(g.loop));
        refuse(p->sock, "join-room", ack_id, SIG_UNAVAILABLE);
        cluster_req_free(q);
    }
}

/* --- many nodes: messages from other nodes (src/rooms/node_msg.h) ------- */

static uint64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void cluster_member_joined(room *r, const char *node, const char *sock)
{
    if (remote_member(r, sock, PD_ID_LEN)) return;
    cluster_member m;
    memcpy(m.node, node, PD_ID_LEN + 1);
    memcpy(m.socket, sock, PD_ID_LEN + 1);
    if (!remote_peer_new(r, &m)) return;
    /* counted here too, so that a record Redis lost is written back by any
     * node with every join (cluster_room_touch) */
    if (room_is_code(r) && room_code_joins(r) < PD_CODE_ROOM_JOINS) room_code_join(r);
    json_t *ev = json_pack("{s:s}", "socketId", sock);
    broadcast_others(r, NULL, "user-joined", ev);
    json_decref(ev);
}

static void cluster_member_left(room *r, peer *m)
{
    room_remove_member(r, m);
    json_t *ev = json_pack("{s:s}", "socketId", m->remote_id);
    broadcast_others(r, NULL, "user-left", ev);
    json_decref(ev);
    free(m);
}

static void count_latency(uint64_t sent_us)
{
    uint64_t now = wall_us();
    if (sent_us == 0 || now < sent_us) return; /* clocks apart: not counted */
    uint64_t us = now - sent_us;
    static const unsigned bounds[SIG_LATENCY_BUCKETS] = SIG_LATENCY_BOUNDS_US;
    for (int i = 0; i < SIG_LATENCY_BUCKETS; i++)
        if (us <= bounds[i]) g.stats.cluster_latency[i]++;
    g.stats.cluster_latency_sum_us += us;
    g.stats.cluster_latency_count++;
}

static void on_cluster_message(const char *msg, size_t len)
{
    node_msg m;
    if (!node_msg_decode(msg, len, &m)) {
        g.stats.cluster_dropped++;
        return;
    }
    room *r = rooms_find(&g.rooms, m.room, m.room_len);
    if (!r) return;
    g.stats.cluster_in++;
    if (m.kind == NODE_MSG_LEFT) {
        peer *mp = remote_member(r, m.socket, PD_ID_LEN);
        if (mp) cluster_member_left(r, mp);
    } else if (m.kind == NODE_MSG_JOINED) {
        cluster_member_joined(r, m.node, m.socket);
    } else {
        srv_sio_socket *ts = srv_sio_socket_find(m.socket, PD_ID_LEN);
        peer *tp = ts ? srv_sio_socket_user(ts) : NULL;
        /* the target is here and in that room, the sender a member of it */
        if (!tp || tp->room != r || !remote_member(r, m.from, PD_ID_LEN)) {
            g.stats.cluster_dropped++;
            return;
        }
        count_latency(m.sent_us);
        srv_sio_emit_json(ts, m.args, m.args_len);
    }
}

static void sweep_dead_node(room *r, void *ctx)
{
    const char *node = ctx;
    for (size_t i = room_member_count(r); i-- > 0;) {
        peer *m = room_member(r, i);
        if (m->sock || strcmp(m->node, node) != 0) continue;
        PD_LOG_DEBUG("member of a dead node left socket=%.6s..", m->remote_id);
        cluster_room_leave(room_id(r), m->node, m->remote_id);
        cluster_member_left(r, m);
    }
}

static void on_cluster_node_dead(const char *node)
{
    PD_LOG_INFO("redis: node %.6s.. is gone: its members leave their rooms", node);
    rooms_each(&g.rooms, sweep_dead_node, (void *)node);
}

/* A refresh answers with the members Redis holds: a remote member this
 * node listed when it asked but Redis does not hold has left, and its leave
 * message was lost (pub/sub delivers at most once; Redis was away). Only
 * those listed when it asked: one that joined meanwhile may be announced
 * (on the subscriber connection) before this answer is read. */
typedef struct touch_req {
    char room_id[PD_MAX_ROOM_ID + 1];
    uint64_t generation;
    bool reconcile;
    size_t count;
    char remote[][PD_ID_LEN + 1];
} touch_req;

static void on_cluster_touched(void *ctx, cluster_status st, const cluster_member *m, size_t n)
{
    touch_req *q = ctx;
    room *r = st == CLUSTER_OK && q->reconcile && !g.closed
                  ? rooms_find(&g.rooms, q->room_id, strlen(q->room_id))
                  : NULL;
    if (!r || room_generation(r) != q->generation) {
        free(q);
        return;
    }
    for (size_t i = 0; i < q->count; i++) {
        bool held = false;
        for (size_t k = 0; k < n && !held; k++)
            held = strcmp(m[k].socket, q->remote[i]) == 0;
        peer *mp = held ? NULL : remote_member(r, q->remote[i], PD_ID_LEN);
        if (mp) cluster_member_left(r, mp);
    }
    /* and one this node missed (a join message lost): as if announced now */
    const char *me = cluster_node_id();
    for (size_t k = 0; k < n; k++)
        if (strcmp(m[k].node, me) != 0) cluster_member_joined(r, m[k].node, m[k].socket);
    free(q);
}

typedef struct node_set {
    const char *nodes[256];
    size_t count;
    bool refresh, reconcile;
} node_set;

static void tick_room(room *r, void *ctx)
{
    node_set *set = ctx;
    static cluster_member members[PD_MAX_ROOM_CAPACITY];
    size_t n = 0;
    size_t remote = 0;
    for (size_t i = 0; i < room_member_count(r); i++) {
        peer *m = room_member(r, i);
        if (m->sock) {
            memcpy(members[n].node, cluster_node_id(), PD_ID_LEN + 1);
            memcpy(members[n].socket, srv_sio_socket_id(m->sock), PD_ID_LEN + 1);
            n++;
            continue;
        }
        remote++;
        bool seen = false;
        for (size_t k = 0; k < set->count && !seen; k++)
            seen = strcmp(set->nodes[k], m->node) == 0;
        if (!seen && set->count < sizeof set->nodes / sizeof set->nodes[0])
            set->nodes[set->count++] = m->node;
    }
    if (!set->refresh || room_is_pending(r)) return;
    touch_req *q = calloc(1, sizeof *q + remote * sizeof q->remote[0]);
    if (!q) return;
    snprintf(q->room_id, sizeof q->room_id, "%s", room_id(r));
    q->generation = room_generation(r);
    q->reconcile = set->reconcile;
    for (size_t i = 0; i < room_member_count(r); i++) {
        peer *m = room_member(r, i);
        if (!m->sock) memcpy(q->remote[q->count++], m->remote_id, PD_ID_LEN + 1);
    }
    bool code = room_is_code(r);
    cluster_room_touch(room_id(r), room_password_hash(r), room_generation(r),
                       code ? PD_CODE_ROOM_CAPACITY : g.cfg.room_capacity, code, room_code_joins(r),
                       members, n, on_cluster_touched, q);
}

/* Every tick: ask whether the nodes of remote members live; now and then,
 * renew the records of this node's rooms. */
static void on_cluster_tick(bool refresh, bool reconcile)
{
    node_set set = {.count = 0, .refresh = refresh, .reconcile = reconcile};
    rooms_each(&g.rooms, tick_room, &set);
    cluster_check_nodes(set.nodes, set.count);
}

/* --- event handlers ----------------------------------------------------- */

/* A code room is made at once: nothing to hash. With --redis, in Redis
 * (cluster_create_code_room). */
static void create_code_room(peer *p, const char *id, size_t id_len, int64_t ack_id)
{
    if (g.cluster) {
        cluster_create_code_room(p, id, id_len, ack_id);
        return;
    }
    room *r;
    int rc = rooms_reserve(&g.rooms, id, id_len, &r);
    if (rc == ROOM_OK && room_activate_code(r, p) != ROOM_OK) {
        rooms_destroy(&g.rooms, r);
        rc = ROOM_E_NOMEM;
    }
    if (rc != ROOM_OK) {
        refuse(p->sock, "create-room", ack_id,
               rc == ROOM_E_EXISTS ? SIG_ROOM_EXISTS : SIG_INTERNAL);
        return;
    }
    created_reply(p, r, ack_id);
}

/* A join of a code room: the server cannot tell a right code from a wrong
 * one (the PAKE between the peers does), so every join counts as a guess:
 * against the room's life (PD_CODE_ROOM_JOINS) and, as a failed password
 * check, against the password guard's budgets of the room, the address
 * and the session, which reconnecting does not reset. */
static void join_code_room(peer *p, room *r, int64_t ack_id)
{
    if (room_code_joins(r) >= PD_CODE_ROOM_JOINS) {
        g.stats.code_room_join_refusals++;
        refuse_why(p->sock, "join-room", ack_id, SIG_RATE_LIMITED, 0,
                   "too many joins of this code room: start again with a new code",
                   "code_room_joins");
        return;
    }
    if (room_is_full(r)) {
        refuse(p->sock, "join-room", ack_id, SIG_ROOM_FULL);
        return;
    }
    pg_ticket ticket;
    if (!guard_admit(p, "join-room", room_id(r), ack_id, &ticket)) return;
    pg_settle(&g.guard, &ticket, true, uv_now(g.loop));
    room_code_join(r);
    if (room_add_member(r, p) != ROOM_OK) {
        refuse(p->sock, "join-room", ack_id, SIG_ROOM_FULL);
        return;
    }
    joined_reply(p, r, member_ids(r, p), ack_id);
}

static void on_create_room(peer *p, const json_t *payload, int64_t ack_id)
{
    const char *id, *pw;
    size_t id_len, pw_len;
    bool code;
    if (!room_request_valid(payload, &id, &id_len, &pw, &pw_len, &code)) {
        refuse(p->sock, "create-room", ack_id, SIG_INVALID_PAYLOAD);
        return;
    }
    if (p->room) {
        refuse(p->sock, "create-room", ack_id, SIG_ALREADY_IN_ROOM);
        return;
    }
    if (rooms_find(&g.rooms, id, id_len)) {
        refuse(p->sock, "create-room", ack_id, SIG_ROOM_EXISTS);
        return;
    }
    if (code) {
        create_code_room(p, id, id_len, ack_id);
        return;
    }
    if (g.cluster && !cluster_up()) {
        refuse(p->sock, "create-room", ack_id, SIG_UNAVAILABLE);
        return;
    }
    pg_ticket ticket;
    if (!guard_admit(p, "create-room", NULL, ack_id, &ticket)) return;
    if (g.cluster) { /* hashed first, then created atomically in Redis */
        if (!queue_job(p, JOB_CREATE, id, id_len, 0, pw, pw_len, NULL, ack_id, &ticket)) {
            pg_settle(&g.guard, &ticket, false, uv_now(g.loop));
            refuse(p->sock, "create-room", ack_id, SIG_INTERNAL);
        }
        return;
    }
    room *r;
    int rc = rooms_reserve(&g.rooms, id, id_len, &r);
    if (rc != ROOM_OK) {
        pg_settle(&g.guard, &ticket, false, uv_now(g.loop));
        refuse(p->sock, "create-room", ack_id,
               rc == ROOM_E_EXISTS ? SIG_ROOM_EXISTS : SIG_INTERNAL);
        return;
    }
    if (!queue_job(p, JOB_CREATE, id, id_len, room_generation(r), pw, pw_len, NULL, ack_id,
                   &ticket)) {
        pg_settle(&g.guard, &ticket, false, uv_now(g.loop));
        rooms_destroy(&g.rooms, r);
        refuse(p->sock, "create-room", ack_id, SIG_INTERNAL);
    }
}

static void on_join_room(peer *p, const json_t *payload, int64_t ack_id)
{
    const char *id, *pw;
    size_t id_len, pw_len;
    bool code;
    if (!room_request_valid(payload, &id, &id_len, &pw, &pw_len, &code)) {
        refuse(p->sock, "join-room", ack_id, SIG_INVALID_PAYLOAD);
        return;
    }
    if (p->room) {
        refuse(p->sock, "join-room", ack_id, SIG_ALREADY_IN_ROOM);
        return;
    }
    if (g.cluster) {
        if (cluster_up() && code)
            cluster_join_code_room(p, id, id_len, ack_id);
        else if (cluster_up())
            cluster_join_room(p, id, id_len, pw, pw_len, ack_id);
        else
            refuse(p->sock, "join-room", ack_id, SIG_UNAVAILABLE);
        return;
    }
    room *r = rooms_find(&g.rooms, id, id_len);
    if (!r || room_is_pending(r)) {
        refuse(p->sock, "join-room", ack_id, SIG_ROOM_NOT_FOUND);
        return;
    }
    if (code != room_is_code(r)) { /* the other kind: as a wrong secret */
        refuse(p->sock, "join-room", ack_id, SIG_BAD_PASSWORD);
        return;
    }
    if (code) {
        join_code_room(p, r, ack_id);
        return;
    }
    if (room_is_full(r)) { /* checked again after hashing: it may fill meanwhile */
        refuse(p->sock, "join-room", ack_id, SIG_ROOM_FULL);
        return;
    }
    /* a room under attack refuses every check until its budget allows,
     * the right password too (docs/signaling.md) */
    pg_ticket ticket;
    if (!guard_admit(p, "join-room", room_id(r), ack_id, &ticket)) return;
    if (!queue_job(p, JOB_JOIN, id, id_len, room_generation(r), pw, pw_len, room_password_hash(r),
                   ack_id, &ticket)) {
        pg_settle(&g.guard, &ticket, false, uv_now(g.loop));
        refuse(p->sock, "join-room", ack_id, SIG_INTERNAL);
    }
}

/* --- relay: offer / answer / ice-candidate ------------------------------ *
 * One set of rules, src/rooms/relay.h, read from JSON text by the scanner.
 * The fast path hands it the payload as it came; the full path (jansson,
 * for a packet the fast path left alone) hands it the members the rules
 * read, written back compactly. Both relay the same bytes, and a refusal
 * says which rule. */

/* Relayed messages are written straight to JSON text, without building a
 * tree: the relay is the server's hot path (bench/RESULTS.md). */
static pd_buf g_out;

static relay_kind relay_kind_of(sig_relay_kind kind)
{
    return kind == SIG_RELAY_ICE      ? RELAY_ICE
           : kind == SIG_RELAY_ANSWER ? RELAY_ANSWER
                                      : RELAY_OFFER;
}

/* ["offer",{"sdp":<value>,"from":"<sender>"[,"lane":k]}]: the caller
 * writes <value> between these two. */
static void relay_begin(const char *event, sig_relay_kind kind)
{
    g_out.len = 0;
    pd_buf_printf(&g_out, "[\"%s\",{\"%s\":", event, kind == SIG_RELAY_ICE ? "candidate" : "sdp");
}

static void relay_finish(peer *p, peer *target, const relay_msg *m, sig_relay_kind kind,
                         const char *event, int64_t ack_id)
{
    pd_buf_printf(&g_out, ",\"from\":\"%s\"", srv_sio_socket_id(p->sock));
    relay_write_lane(m, &g_out);
    pd_buf_append(&g_out, "}]", 2);
    if (target->sock) {
        srv_sio_emit_json(target->sock, (const char *)g_out.data, g_out.len);
    } else {
        if (!node_msg_relay_begin(&g_msg, room_id(p->room), target->remote_id,
                                  srv_sio_socket_id(p->sock), wall_us()) ||
            pd_buf_append(&g_msg, g_out.data, g_out.len) != PD_BUF_OK ||
            !cluster_publish(target->node, (const char *)g_msg.data, g_msg.len)) {
            refuse(p->sock, event, ack_id, SIG_UNAVAILABLE);
            return;
        }
        g.stats.cluster_out++;
    }
    g.stats.relayed[kind]++;
    reply_ok(p->sock, ack_id, NULL);
}

static void on_relay(peer *p, sig_relay_kind kind, const char *event, const json_t *payload,
                     int64_t ack_id)
{
    char *text = relay_projection(relay_kind_of(kind), payload);
    relay_msg m;
    int rule = text ? relay_check(relay_kind_of(kind), text, strlen(text), &m)
                    : relay_check(relay_kind_of(kind), "null", 4, &m);
    if (rule != RELAY_OK) {
        PD_LOG_DEBUG("%s refused: %s", event, relay_strerror(rule));
        refuse(p->sock, event, ack_id, SIG_INVALID_PAYLOAD);
        free(text);
        return;
    }
    if (!p->room) {
        refuse(p->sock, event, ack_id, SIG_NOT_IN_ROOM);
        free(text);
        return;
    }
    /* an id written with escapes is no socket id (ids are base64url) */
    srv_sio_socket *target = m.target_plain ? srv_sio_socket_find(m.target, m.target_len) : NULL;
    peer *tp = target ? srv_sio_socket_user(target) : NULL;
    if (!tp && g.cluster && m.target_plain) tp = remote_member(p->room, m.target, m.target_len);
    if (!tp || tp == p || tp->room != p->room) {
        refuse(p->sock, event, ack_id, SIG_PEER_NOT_FOUND);
        free(text);
        return;
    }
    relay_begin(event, kind);
    relay_write_value(&m, &g_out);
    free(text);
    relay_finish(p, tp, &m, kind, event, ack_id);
}

/* The fast path: offer / answer / ice-candidate relayed from the JSON text
 * as it came. Anything else, and any payload the rules refuse or are
 * unsure of, returns false and takes the full path, which answers every
 * refusal with its code in the contract's order (RATE_LIMITED first). */
static bool on_event_raw(srv_sio_socket *sock, const char *json, size_t len, int64_t ack_id)
{
    peer *p = srv_sio_socket_user(sock);
    js_value args, name, payload;
    js_iter it;
    if (!p || !p->room || js_scan_value(json, len, &args) != len || args.kind != JS_ARRAY)
        return false;
    js_iter_init(&it, &args);
    if (!js_iter_next(&it, NULL, &name) || !js_iter_next(&it, NULL, &payload)) return false;
    sig_relay_kind kind;
    const char *event;
    if (js_string_equals(&name, "offer"))
        kind = SIG_RELAY_OFFER, event = "offer";
    else if (js_string_equals(&name, "answer"))
        kind = SIG_RELAY_ANSWER, event = "answer";
    else if (js_string_equals(&name, "ice-candidate"))
        kind = SIG_RELAY_ICE, event = "ice-candidate";
    else
        return false;
    relay_msg m;
    if (relay_check(relay_kind_of(kind), payload.raw, payload.raw_len, &m) != RELAY_OK ||
        !m.target_plain)
        return false;
    srv_sio_socket *ts = srv_sio_socket_find(m.target, m.target_len);
    peer *tp = ts ? srv_sio_socket_user(ts) : NULL;
    /* a member on another node takes the fast path too (bench/cluster: the
     * jansson fallback was 43% of the sending node's CPU) */
    if (!tp && g.cluster) tp = remote_member(p->room, m.target, m.target_len);
    if (!tp || tp == p || tp->room != p->room) return false;
    if (!take_token(p)) return false; /* the full path answers RATE_LIMITED */
    relay_begin(event, kind);
    relay_write_value(&m, &g_out);
    relay_finish(p, tp, &m, kind, event, ack_id);
    return true;
}

static void on_leave_room(peer *p, const json_t *payload, int64_t ack_id)
{
    if (payload && !json_is_object(payload) && !json_is_null(payload)) {
        refuse(p->sock, "leave-room", ack_id, SIG_INVALID_PAYLOAD);
        return;
    }
    if (!p->room) {
        refuse(p->sock, "leave-room", ack_id, SIG_NOT_IN_ROOM);
        return;
    }
    leave_room(p);
    reply_ok(p->sock, ack_id, NULL);
}

/* A member's fresh TURN credential, before its old one expires. */
static void on_ice_servers(peer *p, const json_t *payload, int64_t ack_id)
{
    if (payload && !json_is_object(payload) && !json_is_null(payload)) {
        refuse(p->sock, "ice-servers", ack_id, SIG_INVALID_PAYLOAD);
        return;
    }
    if (!p->room) {
        refuse(p->sock, "ice-servers", ack_id, SIG_NOT_IN_ROOM);
        return;
    }
    json_t *obj = with_ice(json_object(), p);
    if (!json_object_get(obj, "iceServers")) json_object_set_new(obj, "iceServers", json_array());
    reply_ok(p->sock, ack_id, obj);
}

static void on_event(srv_sio_socket *sock, json_t *args, int64_t ack_id, const sio_attachment *att,
                     unsigned att_count)
{
    peer *p = srv_sio_socket_user(sock);
    const char *name = sio_event_name(args);
    char shown[65];
    if (name) {
        strncpy(shown, name, sizeof shown - 1);
        shown[sizeof shown - 1] = '\0';
    } else {
        strcpy(shown, "?");
    }
    if (!take_token(p)) {
        refuse(sock, shown, ack_id, SIG_RATE_LIMITED);
        return;
    }
    const json_t *payload = json_array_get(args, 1);
    if (!name) {
        refuse(sock, shown, ack_id, SIG_UNKNOWN_EVENT);
        return;
    }
    bool known = true;
    if (att_count > 0) {
        refuse(sock, shown, ack_id, SIG_INVALID_PAYLOAD); /* signaling is JSON only */
    } else if (strcmp(name, "offer") == 0) {
        on_relay(p, SIG_RELAY_OFFER, "offer", payload, ack_id);
    } else if (strcmp(name, "answer") == 0) {
        on_relay(p, SIG_RELAY_ANSWER, "answer", payload, ack_id);
    } else if (strcmp(name, "ice-candidate") == 0) {
        on_relay(p, SIG_RELAY_ICE, "ice-candidate", payload, ack_id);
    } else if ((p->job || p->cluster_pending) &&
               (strcmp(name, "create-room") == 0 || strcmp(name, "join-room") == 0)) {
        refuse(sock, name, ack_id, SIG_RATE_LIMITED); /* one room request at a time */
    } else if (strcmp(name, "create-room") == 0) {
        on_create_room(p, payload, ack_id);
    } else if (strcmp(name, "join-room") == 0) {
        on_join_room(p, payload, ack_id);
    } else if (strcmp(name, "leave-room") == 0) {
        on_leave_room(p, payload, ack_id);
    } else if (strcmp(name, "ice-servers") == 0) {
        on_ice_servers(p, payload, ack_id);
    } else {
        known = false;
    }
    if (!known) refuse(sock, shown, ack_id, SIG_UNKNOWN_EVENT);
}

static void on_connect(srv_sio_socket *sock, json_t *auth)
{
    (void)auth;
    peer *p = calloc(1, sizeof *p);
    if (!p) {
        srv_sio_socket_disconnect(sock, true);
        return;
    }
    p->sock = sock;
    p->tokens = 2.0 * g.cfg.rate_limit;
    p->tokens_at_ms = uv_now(g.loop);
    srv_sio_socket_set_user(sock, p);
}

static void on_disconnect(srv_sio_socket *sock, const char *reason)
{
    peer *p = srv_sio_socket_user(sock);
    if (!p) return;
    (void)reason;
    /* a job not started yet is dropped (its done callback still runs, with
     * UV_ECANCELED): a client that leaves frees its place in the queue */
    if (p->job) uv_cancel((uv_req_t *)&p->job->work);
    leave_room(p);
    srv_sio_socket_set_user(sock, NULL);
    free(p);
}

const srv_sio_namespace_def signaling_namespace = {.name = "/",
                                                   .on_connect = on_connect,
                                                   .on_event = on_event,
                                                   .on_event_raw = on_event_raw,
                                                   .on_disconnect = on_disconnect};

static void sweep_cb(uv_timer_t *t)
{
    pg_sweep(&g.guard, uv_now(t->loop));
}

void signaling_init(uv_loop_t *loop, const signaling_config *cfg)
{
    g.loop = loop;
    g.cfg = *cfg;
    rooms_init(&g.rooms, cfg->room_capacity);
    if (cfg->redis) {
        g.cluster = true;
        cluster_start(loop, cfg->redis,
                      &(cluster_callbacks){.on_message = on_cluster_message,
                                           .on_node_dead = on_cluster_node_dead,
                                           .on_tick = on_cluster_tick});
    }
    pg_init(&g.guard, &cfg->guard);
    uv_timer_init(loop, &g.sweep);
    uv_timer_start(&g.sweep, sweep_cb, GUARD_SWEEP_MS, GUARD_SWEEP_MS);
    uv_unref((uv_handle_t *)&g.sweep);
    /* worst case: an SDP of control characters, each escaped to 6 bytes */
    pd_buf_init(&g_out, PD_MAX_SDP * 6 + 1024);
    pd_buf_init(&g_msg, PD_MAX_CLUSTER_MSG);
}

static void free_remote_members(room *r, void *ctx)
{
    (void)ctx;
    for (size_t i = room_member_count(r); i-- > 0;) {
        peer *m = room_member(r, i);
        if (m->sock) continue;
        room_remove_member(r, m);
        free(m);
    }
}

void signaling_cleanup(void)
{
    g.closed = true;
    uv_close((uv_handle_t *)&g.sweep, NULL);
    pg_cleanup(&g.guard);
    rooms_each(&g.rooms, free_remote_members, NULL);
    rooms_cleanup(&g.rooms);
    pd_buf_reset(&g_out);
    pd_buf_reset(&g_msg);
}

void signaling_get_stats(signaling_stats *out)
{
    *out = g.stats;
    out->rooms = rooms_count(&g.rooms);
    out->jobs_pending = g.guard.jobs;
    out->guard_evicted =
        g.guard.rooms.evicted + g.guard.addresses.evicted + g.guard.sessions.evicted;
}
