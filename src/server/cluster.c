/* cluster.c: see cluster.h and docs/scale.md (key layout, scripts, message
 * format). */
#include "cluster.h"
#include "redis_uv.h"

#include <arpa/inet.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <netdb.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "base/log.h"

#define KEY_MAX (PD_MAX_ROOM_ID + 32)

/* Members of nodes whose heartbeat key is gone are dropped before a room is
 * created over or joined, so a SIGKILLed node's slots free as soon as its
 * heartbeat expires, whoever comes first. KEYS[1] room hash, KEYS[2] member
 * list, ARGV[1] the node key prefix. Sets `ms` to the live members. A room
 * left with none is deleted. */
#define LUA_PURGE                                                                                  \
    "local ms = redis.call('LRANGE', KEYS[2], 0, -1)\n"                                            \
    "local live = {}\n"                                                                            \
    "for _, m in ipairs(ms) do\n"                                                                  \
    "  local node = string.match(m, '^([^|]+)|')\n"                                                \
    "  if node and redis.call('EXISTS', ARGV[1] .. node) == 1 then table.insert(live, m)\n"        \
    "  else redis.call('LREM', KEYS[2], 0, m) end\n"                                               \
    "end\n"                                                                                        \
    "ms = live\n"                                                                                  \
    "if #ms == 0 then redis.call('DEL', KEYS[1], KEYS[2]) end\n"

/* ARGV: prefix, hash, generation, capacity, created, member, ttl, kind
 * ("p" a password room, "c" a short-code room: hash ""). The join count
 * `j` (code rooms, PD_CODE_ROOM_JOINS) lives in the record, so it lives as
 * long as the room. */
static const char lua_create[] = LUA_PURGE
    "if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end\n"
    "redis.call('HSET', KEYS[1], 'h', ARGV[2], 'g', ARGV[3], 'cap', ARGV[4], 'created', ARGV[5], "
    "'k', ARGV[8], 'j', 0)\n"
    "redis.call('RPUSH', KEYS[2], ARGV[6])\n"
    "redis.call('PEXPIRE', KEYS[1], ARGV[7])\n"
    "redis.call('PEXPIRE', KEYS[2], ARGV[7])\n"
    "return 1\n";

/* ARGV: prefix, generation, member, ttl. -1: no such room (or another
 * generation), -2: full, else the members before the join. */
static const char lua_join[] =
    "if redis.call('HGET', KEYS[1], 'g') ~= ARGV[2] then return -1 end\n" LUA_PURGE
    "if #ms == 0 then return -1 end\n"
    "if #ms >= tonumber(redis.call('HGET', KEYS[1], 'cap')) then return -2 end\n"
    "redis.call('RPUSH', KEYS[2], ARGV[3])\n"
    "redis.call('PEXPIRE', KEYS[1], ARGV[4])\n"
    "redis.call('PEXPIRE', KEYS[2], ARGV[4])\n"
    "return ms\n";

/* ARGV: member. The last one out deletes the room. */
static const char lua_leave[] =
    "redis.call('LREM', KEYS[2], 0, ARGV[1])\n"
    "if redis.call('LLEN', KEYS[2]) == 0 then redis.call('DEL', KEYS[1]) end\n"
    "return 0\n";

/* ARGV: prefix, wrong-password budget (0: none), window. nil: no room; -3:
 * a code room (the other kind: BAD_PASSWORD, before any check); -2: full; {-1, ms}: the room's
 * budget of password checks is used up for ms; else {hash, generation, capacity, live members}, and
 * one check of the room's budget is reserved (released by cluster_room_guess_release unless the
 * password was wrong), so checks in flight on every node count. */
static const char lua_lookup[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return nil end\n" LUA_PURGE
    "if #ms == 0 then return nil end\n"
    "local r = redis.call('HMGET', KEYS[1], 'h', 'g', 'cap', 'k')\n"
    "if r[4] == 'c' then return -3 end\n"
    "if #ms >= tonumber(r[3]) then return -2 end\n"
    "local limit = tonumber(ARGV[2])\n"
    "if limit > 0 then\n"
    "  local gk = KEYS[1] .. ':guess'\n"
    "  if tonumber(redis.call('GET', gk) or '0') >= limit then return {-1, redis.call('PTTL', gk)} "
    "end\n"
    "  if redis.call('INCR', gk) == 1 then redis.call('PEXPIRE', gk, ARGV[3]) end\n"
    "end\n"
    "return {r[1], r[2], tonumber(r[3]), #ms}\n";

/* A join of a short-code room, decided whole here: the server cannot tell
 * a right code from a wrong one, so every join counts, against the room's
 * life (ARGV max joins) and as a wrong password against the room's shared
 * budget. ARGV: prefix, member, ttl, max joins, wrong-password budget (0:
 * none), window. -1: no room; -3: a password room (the other kind); -4:
 * the joins are used up; -2: full; {-1, ms}: the budget is used up; else
 * {generation, joins now, the members before the join...}. The checks run
 * in the single-node order (signaling.c join_code_room). */
static const char lua_code_join[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end\n" LUA_PURGE
    "if #ms == 0 then return -1 end\n"
    "local r = redis.call('HMGET', KEYS[1], 'g', 'cap', 'k', 'j')\n"
    "if r[3] ~= 'c' then return -3 end\n"
    "if tonumber(r[4] or '0') >= tonumber(ARGV[4]) then return -4 end\n"
    "if #ms >= tonumber(r[2]) then return -2 end\n"
    "local limit = tonumber(ARGV[5])\n"
    "if limit > 0 then\n"
    "  local gk = KEYS[1] .. ':guess'\n"
    "  if tonumber(redis.call('GET', gk) or '0') >= limit then return {-1, redis.call('PTTL', gk)} "
    "end\n"
    "  if redis.call('INCR', gk) == 1 then redis.call('PEXPIRE', gk, ARGV[6]) end\n"
    "end\n"
    "local j = redis.call('HINCRBY', KEYS[1], 'j', 1)\n"
    "redis.call('RPUSH', KEYS[2], ARGV[2])\n"
    "redis.call('PEXPIRE', KEYS[1], ARGV[3])\n"
    "redis.call('PEXPIRE', KEYS[2], ARGV[3])\n"
    "local out = {r[1], j}\n"
    "for _, m in ipairs(ms) do table.insert(out, m) end\n"
    "return out\n";

static const char lua_guess_release[] =
    "local gk = KEYS[1] .. ':guess'\n"
    "if tonumber(redis.call('GET', gk) or '0') > 0 then redis.call('DECR', gk) end\n"
    "return 0\n";

/* ARGV: ttl, hash, generation, capacity, created, this node, kind, join
 * count (the joins this node made or heard of: the record's count only
 * grows), this node's members... Renews the expiry and makes the record hold exactly this
 * node's members among its own: a leave lost while Redis was away is
 * dropped, a member Redis lost (a restart without persistence) is added
 * back, a record Redis lost is written again. Answers the members, or 2
 * when it wrote the record (the other nodes have not added theirs yet), or
 * 0 when another room has the id. */
static const char lua_touch[] =
    "local mine = {}\n"
    "for i = 9, #ARGV do mine[ARGV[i]] = true end\n"
    "local wrote = 0\n"
    "if redis.call('EXISTS', KEYS[1]) == 1 then\n"
    "  if redis.call('HGET', KEYS[1], 'g') ~= ARGV[3] then return 0 end\n"
    "  if tonumber(redis.call('HGET', KEYS[1], 'j') or '0') < tonumber(ARGV[8]) then\n"
    "    redis.call('HSET', KEYS[1], 'j', ARGV[8]) end\n"
    "  local prefix = ARGV[6] .. '|'\n"
    "  for _, m in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do\n"
    "    if string.sub(m, 1, #prefix) == prefix then\n"
    "      if mine[m] then mine[m] = false else redis.call('LREM', KEYS[2], 0, m) end\n"
    "    end\n"
    "  end\n"
    "else\n"
    "  redis.call('HSET', KEYS[1], 'h', ARGV[2], 'g', ARGV[3], 'cap', ARGV[4], 'created', "
    "ARGV[5], 'k', ARGV[7], 'j', ARGV[8])\n"
    "  wrote = 1\n"
    "end\n"
    "for i = 9, #ARGV do if mine[ARGV[i]] then redis.call('RPUSH', KEYS[2], ARGV[i]) end end\n"
    "redis.call('PEXPIRE', KEYS[1], ARGV[1])\n"
    "redis.call('PEXPIRE', KEYS[2], ARGV[1])\n"
    "if wrote == 1 then return 2 end\n"
    "return redis.call('LRANGE', KEYS[2], 0, -1)\n";

typedef struct redis_link {
    redisAsyncContext *ac;
    bool ready;
    uv_timer_t retry;
    unsigned backoff_ms;
    bool subscriber;
    /* The host name is resolved off the loop (uv_getaddrinfo on the thread
     * pool) at each (re)connect, and hiredis is given the numeric address:
     * given a name, hiredis 0.14 calls getaddrinfo itself, on the loop, and
     * a slow or dead DNS server froze every client for its timeout. */
    uv_getaddrinfo_t resolve;
    bool resolving;
    unsigned attempt; /* failed connects in a row: which resolved address next */
    char address[INET6_ADDRSTRLEN];
} redis_link;

static struct {
    bool enabled, stopping;
    uv_loop_t *loop;
    redis_url url;
    cluster_callbacks cb;
    char node[PD_ID_LEN + 1];
    char node_key[PD_ID_LEN + 16]; /* pd:node:<id>: heartbeat key and channel */
    redis_link cmd, sub;
    uv_timer_t tick;
    unsigned ticks;
    unsigned up_ticks; /* ticks since both links came up */
    cluster_stats stats;
} g;

static void link_connect(redis_link *l);
static void resend_lost_leaves(void);
static void load_scripts(redisAsyncContext *ac);
static bool noscript(const redisReply *r);
static void lost_leaves_free(void);

static void retry_cb(uv_timer_t *t)
{
    redis_link *l = t == &g.cmd.retry ? &g.cmd : &g.sub;
    g.stats.reconnects++;
    link_connect(l);
}

static void schedule_retry(redis_link *l)
{
    l->ready = false;
    l->ac = NULL;
    if (g.stopping) return;
    unsigned delay = l->backoff_ms ? l->backoff_ms : PD_CLUSTER_BACKOFF_MIN_MS;
    l->backoff_ms = delay * 2 > PD_CLUSTER_BACKOFF_MAX_MS ? PD_CLUSTER_BACKOFF_MAX_MS : delay * 2;
    uv_timer_start(&l->retry, retry_cb, delay, 0);
}

static redis_link *link_of(const redisAsyncContext *ac)
{
    return ac->data;
}

static void on_message(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    (void)priv;
    redisReply *r = reply;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 3) return;
    redisReply *kind = r->element[0], *payload = r->element[2];
    if (kind->type != REDIS_REPLY_STRING) return;
    if (strcmp(kind->str, "subscribe") == 0) {
        g.sub.ready = true;
        g.sub.backoff_ms = 0;
        PD_LOG_INFO("redis: subscribed to this node's channel node=%.6s..", g.node);
        return;
    }
    if (strcmp(kind->str, "message") != 0 || payload->type != REDIS_REPLY_STRING) return;
    if (payload->len > PD_MAX_CLUSTER_MSG) {
        PD_LOG_WARN("redis: dropped a message of %zu bytes", payload->len);
        return;
    }
    g.stats.received++;
    g.cb.on_message(payload->str, payload->len);
}

static char what_auth[] = "AUTH", what_select[] = "SELECT";

static void on_auth(redisAsyncContext *ac, void *reply, void *priv)
{
    redisReply *r = reply;
    if (r && r->type == REDIS_REPLY_ERROR) {
        /* the reply names no secret; the password is never logged */
        PD_LOG_ERROR("redis: %s refused: %.120s", (const char *)priv, r->str);
        redisAsyncDisconnect(ac);
    }
}

static void on_connect(const redisAsyncContext *cac, int status)
{
    redis_link *l = link_of(cac);
    if (status != REDIS_OK) {
        PD_LOG_WARN("redis: cannot connect to %s:%d (%s): %s (retrying)", g.url.host, g.url.port,
                    l->address, cac->errstr);
        l->attempt++;
        schedule_retry(l); /* hiredis frees the context */
        return;
    }
    redisAsyncContext *ac = (redisAsyncContext *)cac;
    l->attempt = 0;
    if (g.url.password[0]) {
        if (g.url.user[0])
            redisAsyncCommand(ac, on_auth, what_auth, "AUTH %s %s", g.url.user, g.url.password);
        else
            redisAsyncCommand(ac, on_auth, what_auth, "AUTH %s", g.url.password);
    }
    if (l->subscriber) {
        redisAsyncCommand(ac, on_message, NULL, "SUBSCRIBE %s", g.node_key);
    } else {
        if (g.url.db) redisAsyncCommand(ac, on_auth, what_select, "SELECT %u", g.url.db);
        load_scripts(ac);
        redisAsyncCommand(ac, NULL, NULL, "SET %s 1 PX %u", g.node_key, PD_CLUSTER_NODE_TTL_MS);
        l->ready = true;
        l->backoff_ms = 0;
        resend_lost_leaves();
        PD_LOG_INFO("redis: connected to %s:%d node=%.6s.. address=%s", g.url.host, g.url.port,
                    g.node, l->address);
    }
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    redis_link *l = link_of(ac);
    if (!g.stopping)
        PD_LOG_WARN("redis: %s link lost: %s (reconnecting)",
                    l->subscriber ? "subscriber" : "command",
                    status == REDIS_OK ? "closed" : ac->errstr);
    schedule_retry(l);
}

/* Connects hiredis to l->address, a numeric address (no lookup on the loop). */
static void link_connect_address(redis_link *l)
{
    redisAsyncContext *ac = redisAsyncConnect(l->address, g.url.port);
    if (!ac) {
        schedule_retry(l);
        return;
    }
    if (ac->err) {
        PD_LOG_WARN("redis: cannot connect to %s:%d (%s): %s (retrying)", g.url.host, g.url.port,
                    l->address, ac->errstr);
        redisAsyncFree(ac);
        schedule_retry(l);
        return;
    }
    if (redis_uv_attach(ac, g.loop) != REDIS_OK) {
        PD_LOG_WARN("redis: cannot watch the connection to %s:%d (retrying)", g.url.host,
                    g.url.port);
        redisAsyncFree(ac);
        schedule_retry(l);
        return;
    }
    ac->data = l;
    l->ac = ac;
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    redis_link *l = req->data;
    l->resolving = false;
    if (g.stopping) {
        uv_freeaddrinfo(res);
        return;
    }
    if (status != 0 || !res) {
        PD_LOG_WARN("redis: cannot resolve %s: %s (retrying)", g.url.host, uv_strerror(status));
        uv_freeaddrinfo(res);
        schedule_retry(l);
        return;
    }
    /* a name with several addresses (localhost: ::1 and 127.0.0.1): each
     * failed connect moves on to the next one */
    unsigned n = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
        n++;
    struct addrinfo *ai = res;
    for (unsigned i = l->attempt % n; i > 0; i--)
        ai = ai->ai_next;
    int rc =
        ai->ai_family == AF_INET6
            ? uv_ip6_name((const struct sockaddr_in6 *)ai->ai_addr, l->address, sizeof l->address)
            : uv_ip4_name((const struct sockaddr_in *)ai->ai_addr, l->address, sizeof l->address);
    uv_freeaddrinfo(res);
    if (rc != 0) {
        schedule_retry(l);
        return;
    }
    link_connect_address(l);
}

static void link_connect(redis_link *l)
{
    /* a numeric address needs no lookup: connect at once, without waiting
     * for a worker of the pool the password hashing shares */
    unsigned char numeric[16];
    if (inet_pton(AF_INET, g.url.host, numeric) == 1) {
        inet_ntop(AF_INET, numeric, l->address, sizeof l->address);
        link_connect_address(l);
        return;
    }
    if (inet_pton(AF_INET6, g.url.host, numeric) == 1) {
        inet_ntop(AF_INET6, numeric, l->address, sizeof l->address);
        link_connect_address(l);
        return;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    l->resolve.data = l;
    int rc = uv_getaddrinfo(g.loop, &l->resolve, on_resolved, g.url.host, NULL, &hints);
    if (rc != 0) {
        PD_LOG_WARN("redis: cannot resolve %s: %s (retrying)", g.url.host, uv_strerror(rc));
        schedule_retry(l);
        return;
    }
    l->resolving = true;
}

static void tick_cb(uv_timer_t *t)
{
    (void)t;
    if (!g.cmd.ready) return;
    redisAsyncCommand(g.cmd.ac, NULL, NULL, "SET %s 1 PX %u", g.node_key, PD_CLUSTER_NODE_TTL_MS);
    if (!cluster_up()) {
        g.up_ticks = 0;
        return;
    }
    g.ticks++;
    g.up_ticks++;
    /* right after (re)connecting: write this node's members back (Redis may
     * have restarted empty); a full refresh period later, when every node
     * that reconnected with it has done the same, believe what Redis holds */
    bool refresh = g.up_ticks == 1 || g.ticks % PD_CLUSTER_ROOM_REFRESH_TICKS == 0;
    g.cb.on_tick(refresh, refresh && g.up_ticks > PD_CLUSTER_ROOM_REFRESH_TICKS);
}

bool cluster_start(uv_loop_t *loop, const redis_url *url, const cluster_callbacks *cb)
{
    g.enabled = true;
    g.loop = loop;
    g.url = *url;
    g.cb = *cb;
    pd_random_id(g.node);
    snprintf(g.node_key, sizeof g.node_key, "pd:node:%s", g.node);
    g.sub.subscriber = true;
    uv_timer_init(loop, &g.cmd.retry);
    uv_timer_init(loop, &g.sub.retry);
    uv_timer_init(loop, &g.tick);
    uv_timer_start(&g.tick, tick_cb, PD_CLUSTER_TICK_MS, PD_CLUSTER_TICK_MS);
    link_connect(&g.cmd);
    link_connect(&g.sub);
    return true;
}

void cluster_stop(void)
{
    if (!g.enabled || g.stopping) return;
    g.stopping = true;
    uv_close((uv_handle_t *)&g.tick, NULL);
    uv_close((uv_handle_t *)&g.cmd.retry, NULL);
    uv_close((uv_handle_t *)&g.sub.retry, NULL);
    /* a lookup still queued is dropped; one running ends in on_resolved */
    if (g.cmd.resolving) uv_cancel((uv_req_t *)&g.cmd.resolve);
    if (g.sub.resolving) uv_cancel((uv_req_t *)&g.sub.resolve);
    if (g.cmd.ac) {
        /* this node is gone now, not in 6 s: others announce its peers */
        redisAsyncCommand(g.cmd.ac, NULL, NULL, "DEL %s", g.node_key);
        redisAsyncDisconnect(g.cmd.ac);
    }
    if (g.sub.ac) redisAsyncDisconnect(g.sub.ac);
    lost_leaves_free();
}

bool cluster_enabled(void)
{
    return g.enabled;
}

bool cluster_up(void)
{
    return g.enabled && g.cmd.ready && g.sub.ready;
}

const char *cluster_node_id(void)
{
    return g.node;
}

void cluster_get_stats(cluster_stats *out)
{
    *out = g.stats;
    out->up = cluster_up();
}

/* --- requests ------------------------------------------------------------ */

typedef enum req_kind { REQ_LOOKUP, REQ_CREATE, REQ_JOIN, REQ_TOUCH, REQ_CODE_JOIN } req_kind;

typedef struct request {
    req_kind kind;
    void *fn;
    void *ctx;
} request;

static void room_keys(const char *room_id, char *room_key, char *members_key)
{
    snprintf(room_key, KEY_MAX, "pd:room:%s", room_id);
    snprintf(members_key, KEY_MAX, "pd:room:%s:m", room_id);
}

static bool parse_member(const redisReply *r, cluster_member *m)
{
    if (r->type != REDIS_REPLY_STRING || r->len != CLUSTER_MEMBER_LEN || r->str[PD_ID_LEN] != '|')
        return false;
    memcpy(m->node, r->str, PD_ID_LEN);
    m->node[PD_ID_LEN] = '\0';
    memcpy(m->socket, r->str + PD_ID_LEN + 1, PD_ID_LEN);
    m->socket[PD_ID_LEN] = '\0';
    return true;
}

static bool is_int(const redisReply *r, long long v)
{
    return r->type == REDIS_REPLY_INTEGER && r->integer == v;
}

static void code_join_reply(const request *q, const redisReply *r, bool ok)
{
    cluster_code_join_fn fn = (cluster_code_join_fn)q->fn;
    if (!ok) {
        fn(q->ctx, CLUSTER_E_UNAVAILABLE, 0, 0, NULL, 0);
    } else if (r->type == REDIS_REPLY_INTEGER) {
        cluster_status st = r->integer == -2   ? CLUSTER_E_FULL
                            : r->integer == -3 ? CLUSTER_E_KIND
                            : r->integer == -4 ? CLUSTER_E_JOINS
                                               : CLUSTER_E_NOT_FOUND;
        fn(q->ctx, st, 0, 0, NULL, 0);
    } else if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 && is_int(r->element[0], -1) &&
               r->element[1]->type == REDIS_REPLY_INTEGER) {
        /* a used-up budget of wrong passwords: the wait in ms */
        fn(q->ctx, CLUSTER_E_LIMITED, 0,
           r->element[1]->integer > 0 ? (unsigned)r->element[1]->integer : 1000, NULL, 0);
    } else if (r->type == REDIS_REPLY_ARRAY && r->elements >= 2 &&
               r->elements <= 2 + PD_MAX_ROOM_CAPACITY &&
               r->element[0]->type == REDIS_REPLY_STRING &&
               r->element[1]->type == REDIS_REPLY_INTEGER && r->element[1]->integer >= 0) {
        cluster_member members[PD_MAX_ROOM_CAPACITY];
        size_t n = 0;
        for (size_t i = 2; i < r->elements && n < sizeof members / sizeof members[0]; i++)
            if (parse_member(r->element[i], &members[n])) n++;
        fn(q->ctx, CLUSTER_OK, strtoull(r->element[0]->str, NULL, 10),
           (unsigned)r->element[1]->integer, members, n);
    } else {
        fn(q->ctx, CLUSTER_E_UNAVAILABLE, 0, 0, NULL, 0);
    }
}

static void on_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    request *q = priv;
    redisReply *r = reply;
    if (!noscript(r) && r && r->type == REDIS_REPLY_ERROR)
        PD_LOG_WARN("redis: script error: %.200s", r->str);
    bool ok = r && r->type != REDIS_REPLY_ERROR;
    if (q->kind == REQ_CODE_JOIN) {
        code_join_reply(q, r, ok);
    } else if (q->kind == REQ_LOOKUP) {
        cluster_lookup_fn fn = (cluster_lookup_fn)q->fn;
        if (!ok)
            fn(q->ctx, CLUSTER_E_UNAVAILABLE, NULL, 0, 0, 0);
        else if (r->type == REDIS_REPLY_INTEGER && r->integer == -2)
            fn(q->ctx, CLUSTER_E_FULL, NULL, 0, 0, 0);
        else if (r->type == REDIS_REPLY_INTEGER && r->integer == -3)
            fn(q->ctx, CLUSTER_E_KIND, NULL, 0, 0, 0);
        else if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
                 r->element[0]->type == REDIS_REPLY_INTEGER &&
                 r->element[1]->type == REDIS_REPLY_INTEGER)
            /* a used-up budget: the wait rides in the capacity field */
            fn(q->ctx, CLUSTER_E_LIMITED, NULL, 0, 0,
               r->element[1]->integer > 0 ? (unsigned)r->element[1]->integer : 1000);
        else if (r->type != REDIS_REPLY_ARRAY || r->elements != 4 ||
                 r->element[0]->type != REDIS_REPLY_STRING ||
                 r->element[1]->type != REDIS_REPLY_STRING ||
                 r->element[2]->type != REDIS_REPLY_INTEGER ||
                 r->element[3]->type != REDIS_REPLY_INTEGER)
            fn(q->ctx, CLUSTER_E_NOT_FOUND, NULL, 0, 0, 0);
        else
            fn(q->ctx, CLUSTER_OK, r->element[0]->str, strtoull(r->element[1]->str, NULL, 10),
               (unsigned)r->element[3]->integer, (unsigned)r->element[2]->integer);
    } else {
        cluster_members_fn fn = (cluster_members_fn)q->fn;
        if (!ok) {
            fn(q->ctx, CLUSTER_E_UNAVAILABLE, NULL, 0);
        } else if (r->type == REDIS_REPLY_INTEGER) {
            cluster_status st = CLUSTER_OK;
            if (q->kind == REQ_CREATE && r->integer == 0)
                st = CLUSTER_E_EXISTS;
            else if (q->kind == REQ_TOUCH)
                st = CLUSTER_E_NOT_FOUND; /* another room has the id */
            else if (r->integer == -1)
                st = CLUSTER_E_NOT_FOUND;
            else if (r->integer == -2)
                st = CLUSTER_E_FULL;
            fn(q->ctx, st, NULL, 0);
        } else if (r->type == REDIS_REPLY_ARRAY && r->elements <= PD_MAX_ROOM_CAPACITY) {
            cluster_member members[PD_MAX_ROOM_CAPACITY];
            size_t n = 0;
            for (size_t i = 0; i < r->elements && n < sizeof members / sizeof members[0]; i++)
                if (parse_member(r->element[i], &members[n])) n++;
            fn(q->ctx, CLUSTER_OK, members, n);
        } else {
            fn(q->ctx, CLUSTER_E_UNAVAILABLE, NULL, 0);
        }
    }
    free(q);
}

/* Scripts are loaded once per connection (SCRIPT LOAD, sent before any
 * other command) and run by their SHA-1 (EVALSHA): a create or join sends
 * 40 bytes instead of the script's 0.3-1 KB. */
static const char *const scripts[] = {lua_create,        lua_join,  lua_leave,    lua_lookup,
                                      lua_guess_release, lua_touch, lua_code_join};
#define SCRIPT_COUNT (sizeof scripts / sizeof scripts[0])
static char script_sha[SCRIPT_COUNT][SHA_DIGEST_LENGTH * 2 + 1];

static const char *sha_of(const char *script)
{
    for (size_t i = 0; i < SCRIPT_COUNT; i++) {
        if (scripts[i] != script) continue;
        if (!script_sha[i][0]) {
            unsigned char d[SHA_DIGEST_LENGTH];
            SHA1((const unsigned char *)script, strlen(script), d);
            for (int k = 0; k < SHA_DIGEST_LENGTH; k++)
                snprintf(&script_sha[i][2 * k], 3, "%02x", d[k]);
        }
        return script_sha[i];
    }
    return NULL;
}

static void load_scripts(redisAsyncContext *ac)
{
    for (size_t i = 0; i < SCRIPT_COUNT; i++)
        redisAsyncCommand(ac, NULL, NULL, "SCRIPT LOAD %s", scripts[i]);
}

/* The scripts vanish if an operator runs SCRIPT FLUSH: load them again;
 * the request that met NOSCRIPT failed (UNAVAILABLE, the client retries). */
static bool noscript(const redisReply *r)
{
    if (!r || r->type != REDIS_REPLY_ERROR || strncmp(r->str, "NOSCRIPT", 8) != 0) return false;
    PD_LOG_WARN("redis: the scripts were flushed: loading them again");
    if (g.cmd.ready) load_scripts(g.cmd.ac);
    return true;
}

static void on_noreply(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    (void)priv;
    redisReply *r = reply;
    if (!noscript(r) && r && r->type == REDIS_REPLY_ERROR)
        PD_LOG_WARN("redis: script error: %.200s", r->str);
}

static bool send_script(const char *script, const char *room_id, const char **args, size_t nargs,
                        request *q)
{
    if (!g.cmd.ready) {
        free(q);
        return false;
    }
    char room_key[KEY_MAX], members_key[KEY_MAX];
    room_keys(room_id, room_key, members_key);
    const char *argv[16 + PD_MAX_ROOM_CAPACITY];
    size_t argc = 0;
    argv[argc++] = "EVALSHA";
    argv[argc++] = sha_of(script);
    argv[argc++] = "2";
    argv[argc++] = room_key;
    argv[argc++] = members_key;
    for (size_t i = 0; i < nargs; i++)
        argv[argc++] = args[i];
    int rc = redisAsyncCommandArgv(g.cmd.ac, q ? on_reply : on_noreply, q, (int)argc, argv, NULL);
    if (rc != REDIS_OK) {
        free(q);
        return false;
    }
    return true;
}

static request *new_request(req_kind kind, void *fn, void *ctx)
{
    request *q = malloc(sizeof *q);
    if (q) *q = (request){kind, fn, ctx};
    return q;
}

static const char *node_prefix(void)
{
    return "pd:node:";
}

bool cluster_room_lookup(const char *room_id, unsigned room_guesses, uint64_t window_ms,
                         cluster_lookup_fn fn, void *ctx)
{
    char limit[16], window[24];
    snprintf(limit, sizeof limit, "%u", room_guesses);
    snprintf(window, sizeof window, "%" PRIu64, window_ms);
    const char *args[] = {node_prefix(), limit, window};
    request *q = new_request(REQ_LOOKUP, (void *)fn, ctx);
    return q && send_script(lua_lookup, room_id, args, 3, q);
}

void cluster_room_guess_release(const char *room_id)
{
    send_script(lua_guess_release, room_id, NULL, 0, NULL);
}

bool cluster_room_create(const char *room_id, const char *hash, uint64_t generation,
                         unsigned capacity, bool code, const char *socket_id, cluster_members_fn fn,
                         void *ctx)
{
    char gen[24], cap[16], created[24], ttl[16], member[CLUSTER_MEMBER_LEN + 1];
    snprintf(gen, sizeof gen, "%" PRIu64, generation);
    snprintf(cap, sizeof cap, "%u", capacity);
    snprintf(created, sizeof created, "%" PRIu64, uv_now(g.loop));
    snprintf(ttl, sizeof ttl, "%u", PD_CLUSTER_ROOM_TTL_MS);
    snprintf(member, sizeof member, "%s|%s", g.node, socket_id);
    const char *args[] = {node_prefix(), hash, gen, cap, created, member, ttl, code ? "c" : "p"};
    request *q = new_request(REQ_CREATE, (void *)fn, ctx);
    return q && send_script(lua_create, room_id, args, 8, q);
}

bool cluster_room_code_join(const char *room_id, const char *socket_id, unsigned max_joins,
                            unsigned room_guesses, uint64_t window_ms, cluster_code_join_fn fn,
                            void *ctx)
{
    char ttl[16], joins[16], limit[16], window[24], member[CLUSTER_MEMBER_LEN + 1];
    snprintf(ttl, sizeof ttl, "%u", PD_CLUSTER_ROOM_TTL_MS);
    snprintf(joins, sizeof joins, "%u", max_joins);
    snprintf(limit, sizeof limit, "%u", room_guesses);
    snprintf(window, sizeof window, "%" PRIu64, window_ms);
    snprintf(member, sizeof member, "%s|%s", g.node, socket_id);
    const char *args[] = {node_prefix(), member, ttl, joins, limit, window};
    request *q = new_request(REQ_CODE_JOIN, (void *)fn, ctx);
    return q && send_script(lua_code_join, room_id, args, 6, q);
}

bool cluster_room_join(const char *room_id, uint64_t generation, const char *socket_id,
                       cluster_members_fn fn, void *ctx)
{
    char gen[24], ttl[16], member[CLUSTER_MEMBER_LEN + 1];
    snprintf(gen, sizeof gen, "%" PRIu64, generation);
    snprintf(ttl, sizeof ttl, "%u", PD_CLUSTER_ROOM_TTL_MS);
    snprintf(member, sizeof member, "%s|%s", g.node, socket_id);
    const char *args[] = {node_prefix(), gen, member, ttl};
    request *q = new_request(REQ_JOIN, (void *)fn, ctx);
    return q && send_script(lua_join, room_id, args, 4, q);
}

/* Leaves that could not be sent while the link was down, sent when it is
 * back: else the member would hold its slot until the room expires. */
typedef struct lost_leave {
    char room_id[PD_MAX_ROOM_ID + 1];
    char member[CLUSTER_MEMBER_LEN + 1];
} lost_leave;
static lost_leave *g_lost;
static size_t g_lost_count;

void cluster_room_leave(const char *room_id, const char *node, const char *socket_id)
{
    char member[CLUSTER_MEMBER_LEN + 1];
    snprintf(member, sizeof member, "%s|%s", node, socket_id);
    const char *args[] = {member};
    if (send_script(lua_leave, room_id, args, 1, NULL) || g.stopping) return;
    if (!g_lost) g_lost = calloc(PD_CLUSTER_MAX_LOST_LEAVES, sizeof *g_lost);
    if (!g_lost || g_lost_count >= PD_CLUSTER_MAX_LOST_LEAVES) return; /* touch repairs the rest */
    snprintf(g_lost[g_lost_count].room_id, sizeof g_lost->room_id, "%s", room_id);
    memcpy(g_lost[g_lost_count].member, member, sizeof member);
    g_lost_count++;
}

static void lost_leaves_free(void)
{
    free(g_lost);
    g_lost = NULL;
    g_lost_count = 0;
}

static void resend_lost_leaves(void)
{
    size_t n = g_lost_count;
    g_lost_count = 0;
    for (size_t i = 0; i < n; i++) {
        const char *args[] = {g_lost[i].member};
        send_script(lua_leave, g_lost[i].room_id, args, 1, NULL);
    }
}

void cluster_room_touch(const char *room_id, const char *hash, uint64_t generation,
                        unsigned capacity, bool code, unsigned joins, const cluster_member *members,
                        size_t count, cluster_members_fn fn, void *ctx)
{
    if (count > PD_MAX_ROOM_CAPACITY) count = PD_MAX_ROOM_CAPACITY;
    char gen[24], cap[16], created[24], ttl[16], joined[16];
    snprintf(joined, sizeof joined, "%u", joins);
    static char member[PD_MAX_ROOM_CAPACITY][CLUSTER_MEMBER_LEN + 1];
    snprintf(gen, sizeof gen, "%" PRIu64, generation);
    snprintf(cap, sizeof cap, "%u", capacity);
    snprintf(created, sizeof created, "%" PRIu64, uv_now(g.loop));
    snprintf(ttl, sizeof ttl, "%u", PD_CLUSTER_ROOM_TTL_MS);
    const char *args[8 + PD_MAX_ROOM_CAPACITY] = {
        ttl, hash, gen, cap, created, g.node, code ? "c" : "p", joined};
    for (size_t i = 0; i < count; i++) {
        snprintf(member[i], sizeof member[i], "%s|%s", members[i].node, members[i].socket);
        args[8 + i] = member[i];
    }
    request *q = new_request(REQ_TOUCH, (void *)fn, ctx);
    if (!q || !send_script(lua_touch, room_id, args, 8 + count, q))
        fn(ctx, CLUSTER_E_UNAVAILABLE, NULL, 0);
}

static void on_exists(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    redisReply *r = reply;
    char *node = priv;
    if (r && r->type == REDIS_REPLY_INTEGER && r->integer == 0 && !g.stopping)
        g.cb.on_node_dead(node);
    free(node);
}

void cluster_check_nodes(const char *const *nodes, size_t count)
{
    if (!g.cmd.ready) return;
    for (size_t i = 0; i < count; i++) {
        char *node = strdup(nodes[i]);
        if (!node) return;
        if (redisAsyncCommand(g.cmd.ac, on_exists, node, "EXISTS pd:node:%s", node) != REDIS_OK)
            free(node);
    }
}

bool cluster_publish(const char *node, const char *msg, size_t len)
{
    if (!g.cmd.ready) return false;
    char channel[PD_ID_LEN + 16];
    snprintf(channel, sizeof channel, "pd:node:%s", node);
    const char *argv[] = {"PUBLISH", channel, msg};
    size_t lens[] = {7, strlen(channel), len};
    if (redisAsyncCommandArgv(g.cmd.ac, NULL, NULL, 3, argv, lens) != REDIS_OK) return false;
    g.stats.published++;
    return true;
}
