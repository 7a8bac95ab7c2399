/* password_guard.c: see password_guard.h.
 *
 * A failure budget works in fixed windows: a check is admitted while fewer
 * than `max` wrong passwords were counted in the window. Checks in flight
 * do not count (a right password must not be refused because others are
 * being checked), so a burst can overshoot by the checks in flight: at most
 * room_checks per room, jobs_per_address per address, jobs_per_session per
 * session. The check that uses a budget up locks the entry until
 * its window ends; each further window that is used up doubles the lockout
 * (up to backoff_max_ms), and a whole quiet window forgets the doubling.
 * With the defaults (10 per room per minute, 5 min at most) a room sees at
 * most 10 guesses in the first minute and then at most 10 per 5 minutes. */
#include "password_guard.h"

#include <stdlib.h>
#include <string.h>

struct pg_entry {
    pd_map_entry link;
    pg_entry *older, *newer; /* the table's use order */
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
    pd_map_init(&g->rooms.map);
    pd_map_init(&g->addresses.map);
    pd_map_init(&g->sessions.map);
}

static void unlink_entry(pg_table *t, pg_entry *e)
{
    if (e->older)
        e->older->newer = e->newer;
    else
        t->oldest = e->newer;
    if (e->newer)
        e->newer->older = e->older;
    else
        t->newest = e->older;
    e->older = e->newer = NULL;
}

static void append_entry(pg_table *t, pg_entry *e)
{
    e->older = t->newest;
    e->newer = NULL;
    if (t->newest)
        t->newest->newer = e;
    else
        t->oldest = e;
    t->newest = e;
}

/* Marks e as the most recently used of its table. */
static void touch(pg_table *t, pg_entry *e)
{
    if (t->newest == e) return;
    unlink_entry(t, e);
    append_entry(t, e);
}

static void free_entry(pg_table *t, pg_entry *e)
{
    unlink_entry(t, e);
    pd_map_remove(&t->map, &e->link);
    free(e);
}

void pg_cleanup(password_guard *g)
{
    pg_table *tables[] = {&g->rooms, &g->addresses, &g->sessions};
    for (int i = 0; i < 3; i++) {
        while (tables[i]->oldest)
            free_entry(tables[i], tables[i]->oldest);
        pd_map_cleanup(&tables[i]->map);
    }
}

static pg_entry *entry_find(pg_table *t, const char *key)
{
    pd_map_entry *found = pd_map_find(&t->map, key, strlen(key));
    return found ? PD_CONTAINER_OF(found, pg_entry, link) : NULL;
}

/* Forgets the least recently used entry that holds no job, to make room.
 * Only entries with failures outlive their jobs (empty ones are freed at
 * once), so what is forgotten is the budget used longest ago; at most
 * jobs_global entries are busy, so the walk is short. */
static bool evict_one(pg_table *t)
{
    for (pg_entry *e = t->oldest; e; e = e->newer) {
        if (e->jobs || e->checks) continue;
        free_entry(t, e);
        t->evicted++;
        return true;
    }
    return false;
}

/* Finds or creates the entry for key; NULL when out of memory or when the
 * table is full of entries that hold jobs. */
static pg_entry *entry_get(password_guard *g, pg_table *t, const char *key, uint64_t now)
{
    pg_entry *e = entry_find(t, key);
    if (e) return e;
    if (t->map.count >= g->lim.max_entries && !evict_one(t)) return NULL;
    size_t len = strlen(key);
    e = calloc(1, sizeof *e + len + 1);
    if (!e) return NULL;
    memcpy(e->key, key, len + 1);
    e->window_start_ms = now;
    e->link.key = e->key;
    e->link.key_len = (uint32_t)len;
    if (!pd_map_insert(&t->map, &e->link)) {
        free(e);
        return NULL;
    }
    append_entry(t, e);
    return e;
}

/* True if e remembers nothing a later request needs. */
static bool entry_empty(const pg_entry *e, uint64_t now)
{
    return !e->jobs && !e->checks && !e->failures && !e->strikes && e->locked_until_ms <= now;
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
    if (e->failures < max) return 0;
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

/* The wait before one more check fits the budget of e (0: now); a client
 * without an entry has its whole budget. */
static uint64_t entry_wait(pg_entry *e, unsigned max, const pg_limits *lim, uint64_t now)
{
    return e ? failure_wait(e, max, lim, now) : 0;
}

pg_verdict pg_admit(password_guard *g, const char *address, const char *session,
                    const char *room_id, uint64_t now, pg_ticket *t, uint64_t *retry_ms)
{
    const pg_limits *lim = &g->lim;
    memset(t, 0, sizeof *t);
    *retry_ms = JOBS_RETRY_MS;
    /* entries are looked up, not made: a refused request leaves nothing */
    pg_entry *a = entry_find(&g->addresses, address);
    pg_entry *s = entry_find(&g->sessions, session);
    pg_entry *r = room_id ? entry_find(&g->rooms, room_id) : NULL;
    if (room_id) {
        /* every budget that is used up is reported by the longest wait */
        uint64_t wr = entry_wait(r, lim->room_failures, lim, now);
        uint64_t wa = entry_wait(a, lim->address_failures, lim, now);
        uint64_t ws = entry_wait(s, lim->session_failures, lim, now);
        uint64_t w = max_u64(wr, max_u64(wa, ws));
        if (w) {
            *retry_ms = w;
            return w == wr ? PG_ROOM_FAILURES : w == wa ? PG_ADDRESS_FAILURES : PG_SESSION_FAILURES;
        }
    }
    /* concurrency caps: busy now, not used up; retry in a moment */
    if (r && lim->room_checks && r->checks >= lim->room_checks) return PG_ROOM_CHECKS;
    if (lim->jobs_global && g->jobs >= lim->jobs_global) return PG_JOBS_GLOBAL;
    if (lim->jobs_per_address && a && a->jobs >= lim->jobs_per_address) return PG_JOBS_ADDRESS;
    if (lim->jobs_per_session && s && s->jobs >= lim->jobs_per_session) return PG_JOBS_SESSION;
    /* admitted: now the entries are made (or the oldest idle one forgotten) */
    if (!a) a = entry_get(g, &g->addresses, address, now);
    if (a && !s) s = entry_get(g, &g->sessions, session, now);
    if (a && s && room_id && !r) r = entry_get(g, &g->rooms, room_id, now);
    if (!a || !s || (room_id && !r)) {
        /* give back what this call made */
        if (a && entry_empty(a, now)) free_entry(&g->addresses, a);
        if (s && entry_empty(s, now)) free_entry(&g->sessions, s);
        return PG_TABLE_FULL;
    }
    touch(&g->addresses, a);
    touch(&g->sessions, s);
    g->jobs++;
    a->jobs++;
    s->jobs++;
    if (r) {
        touch(&g->rooms, r);
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
    /* an entry that remembers nothing goes now, not at the next sweep:
     * many short sessions must not fill the tables */
    if (t->room && entry_empty(t->room, now)) free_entry(&g->rooms, t->room);
    if (entry_empty(t->address, now)) free_entry(&g->addresses, t->address);
    if (entry_empty(t->session, now)) free_entry(&g->sessions, t->session);
    memset(t, 0, sizeof *t);
}

static bool entry_idle(const pg_entry *e, const pg_limits *lim, uint64_t now)
{
    if (e->checks || e->jobs) return false;
    uint64_t end = window_end(e, lim);
    /* strikes are remembered for one quiet window after the last one */
    uint64_t forget = e->strikes ? end + lim->window_ms : end;
    return now >= forget;
}

void pg_sweep(password_guard *g, uint64_t now)
{
    pg_table *tables[] = {&g->rooms, &g->addresses, &g->sessions};
    for (int i = 0; i < 3; i++) {
        pg_entry *next;
        for (pg_entry *e = tables[i]->oldest; e; e = next) {
            next = e->newer;
            if (entry_idle(e, &g->lim, now)) free_entry(tables[i], e);
        }
    }
}
