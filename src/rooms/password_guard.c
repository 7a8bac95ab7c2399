/* password_guard.c: see password_guard.h.
 *
 * A failure budget works in fixed windows: at most `max` wrong passwords per
 * window, counting checks still in flight, so a burst of queued checks
 * cannot overshoot it. The check that uses a budget up locks the entry until
 * its window ends; each further window that is used up doubles the lockout
 * (up to backoff_max_ms), and a whole quiet window forgets the doubling.
 * With the defaults (10 per room per minute, 5 min at most) a room sees at
 * most 10 guesses in the first minute and then at most 10 per 5 minutes. */
#include "password_guard.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

struct pg_entry {
    pd_map_entry link;
    uint64_t window_start_ms;
    uint64_t locked_until_ms;
    uint32_t failures; /* wrong passwords in this window */
    uint32_t checks;   /* password checks in flight */
    uint32_t jobs;     /* hashing jobs in flight */
    uint32_t strikes;  /* windows used up in a row */
    char key[];
};

static const char *const verdict_names[] = {
#define PG_NAME(name, label) label,
    PG_VERDICTS(PG_NAME)
#undef PG_NAME
};

const char *pg_verdict_name(pg_verdict v)
{
    return v < PG_VERDICT_COUNT ? verdict_names[v] : "unknown";
}

void pg_init(password_guard *g, const pg_limits *lim)
{
    memset(g, 0, sizeof *g);
    g->lim = *lim;
    pd_map_init(&g->rooms);
    pd_map_init(&g->addresses);
    pd_map_init(&g->sessions);
}

static void free_entry(pd_map_entry *e, void *ctx)
{
    pd_map_remove(ctx, e);
    free(PD_CONTAINER_OF(e, pg_entry, link));
}

void pg_cleanup(password_guard *g)
{
    pd_map *maps[] = {&g->rooms, &g->addresses, &g->sessions};
    for (int i = 0; i < 3; i++) {
        pd_map_each(maps[i], free_entry, maps[i]);
        pd_map_cleanup(maps[i]);
    }
}

/* Finds or creates the entry for key; NULL when the table is full. */
static pg_entry *entry_get(password_guard *g, pd_map *m, const char *key, uint64_t now)
{
    size_t len = strlen(key);
    pd_map_entry *found = pd_map_find(m, key, len);
    if (found) return PD_CONTAINER_OF(found, pg_entry, link);
    if (m->count >= g->lim.max_entries) return NULL;
    pg_entry *e = calloc(1, sizeof *e + len + 1);
    if (!e) return NULL;
    memcpy(e->key, key, len + 1);
    e->window_start_ms = now;
    e->link.key = e->key;
    e->link.key_len = (uint32_t)len;
    if (!pd_map_insert(m, &e->link)) {
        free(e);
        return NULL;
    }
    return e;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

/* When the entry's current window (or lockout) is over. */
static uint64_t window_end(const pg_entry *e, const pg_limits *lim)
{
    return max_u64(e->locked_until_ms, e->window_start_ms + lim->window_ms);
}

/* Starts a new window if the current one is over. */
static void roll_window(pg_entry *e, unsigned max, const pg_limits *lim, uint64_t now)
{
    uint64_t end = window_end(e, lim);
    if (now < end) return;
    if (e->failures < max || now - end >= lim->window_ms) e->strikes = 0;
    e->window_start_ms = now;
    e->failures = 0;
}

/* 0 if one more check fits in the budget, else the time until it may. */
static uint64_t failure_wait(pg_entry *e, unsigned max, const pg_limits *lim, uint64_t now)
{
    if (max == 0) return 0; /* no limit */
    roll_window(e, max, lim, now);
    if (e->failures + e->checks < max) return 0;
    uint64_t end = window_end(e, lim);
    return end > now ? end - now : 1;
}

static void record_result(pg_entry *e, unsigned max, const pg_limits *lim, bool wrong)
{
    if (e->checks) e->checks--;
    if (!wrong || max == 0) return;
    e->failures++;
    if (e->failures != max) return;
    /* used up: locked until the window ends, longer for each window in a row */
    unsigned shift = e->strikes < 16 ? e->strikes : 16;
    e->strikes++;
    uint64_t lock = lim->window_ms << shift;
    if (lock > lim->backoff_max_ms) lock = max_u64(lim->backoff_max_ms, lim->window_ms);
    e->locked_until_ms = e->window_start_ms + lock;
}

/* A retry hint for a full queue: jobs take tens of milliseconds each. */
#define JOBS_RETRY_MS 1000

pg_verdict pg_admit(password_guard *g, const char *address, const char *session,
                    const char *room_id, uint64_t now, pg_ticket *t, uint64_t *retry_ms)
{
    const pg_limits *lim = &g->lim;
    memset(t, 0, sizeof *t);
    *retry_ms = JOBS_RETRY_MS;
    pg_entry *a = entry_get(g, &g->addresses, address, now);
    pg_entry *s = a ? entry_get(g, &g->sessions, session, now) : NULL;
    pg_entry *r = s && room_id ? entry_get(g, &g->rooms, room_id, now) : NULL;
    if (!a || !s || (room_id && !r)) return PG_TABLE_FULL;
    if (r) {
        /* every budget that is used up is reported by the longest wait */
        uint64_t wr = failure_wait(r, lim->room_failures, lim, now);
        uint64_t wa = failure_wait(a, lim->address_failures, lim, now);
        uint64_t ws = failure_wait(s, lim->session_failures, lim, now);
        uint64_t w = max_u64(wr, max_u64(wa, ws));
        if (w) {
            *retry_ms = w;
            return w == wr ? PG_ROOM_FAILURES : w == wa ? PG_ADDRESS_FAILURES : PG_SESSION_FAILURES;
        }
    }
    if (lim->jobs_global && g->jobs >= lim->jobs_global) return PG_JOBS_GLOBAL;
    if (lim->jobs_per_address && a->jobs >= lim->jobs_per_address) return PG_JOBS_ADDRESS;
    if (lim->jobs_per_session && s->jobs >= lim->jobs_per_session) return PG_JOBS_SESSION;
    g->jobs++;
    a->jobs++;
    s->jobs++;
    if (r) {
        r->checks++;
        a->checks++;
        s->checks++;
    }
    *t = (pg_ticket){.room = r, .address = a, .session = s};
    *retry_ms = 0;
    return PG_OK;
}

void pg_settle(password_guard *g, pg_ticket *t, bool wrong_password, uint64_t now)
{
    (void)now;
    if (!t->address) return;
    const pg_limits *lim = &g->lim;
    if (g->jobs) g->jobs--;
    if (t->address->jobs) t->address->jobs--;
    if (t->session->jobs) t->session->jobs--;
    if (t->room) {
        record_result(t->room, lim->room_failures, lim, wrong_password);
        record_result(t->address, lim->address_failures, lim, wrong_password);
        record_result(t->session, lim->session_failures, lim, wrong_password);
    }
    memset(t, 0, sizeof *t);
}

typedef struct sweep_ctx {
    pd_map *map;
    const pg_limits *lim;
    uint64_t now;
} sweep_ctx;

static void sweep_entry(pd_map_entry *me, void *arg)
{
    sweep_ctx *c = arg;
    pg_entry *e = PD_CONTAINER_OF(me, pg_entry, link);
    if (e->checks || e->jobs) return;
    uint64_t end = window_end(e, c->lim);
    /* strikes are remembered for one quiet window after the last one */
    uint64_t forget = e->strikes ? end + c->lim->window_ms : end;
    if (c->now < forget) return;
    pd_map_remove(c->map, me);
    free(e);
}

void pg_sweep(password_guard *g, uint64_t now)
{
    pd_map *maps[] = {&g->rooms, &g->addresses, &g->sessions};
    for (int i = 0; i < 3; i++) {
        sweep_ctx c = {.map = maps[i], .lim = &g->lim, .now = now};
        pd_map_each(maps[i], sweep_entry, &c);
    }
}

void pg_address_key(const char *ip, char *out)
{
    unsigned char a[16];
    out[0] = '\0';
    if (inet_pton(AF_INET, ip, a) == 1) {
        inet_ntop(AF_INET, a, out, PG_ADDRESS_KEY_LEN);
        return;
    }
    if (inet_pton(AF_INET6, ip, a) != 1) {
        strncpy(out, ip, PG_ADDRESS_KEY_LEN - 1);
        out[PG_ADDRESS_KEY_LEN - 1] = '\0';
        return;
    }
    static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(a, v4_mapped, 12) == 0) {
        inet_ntop(AF_INET, a + 12, out, PG_ADDRESS_KEY_LEN);
        return;
    }
    memset(a + 8, 0, 8);
    inet_ntop(AF_INET6, a, out, PG_ADDRESS_KEY_LEN - 4);
    strcat(out, "/64");
}
