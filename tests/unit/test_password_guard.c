/* test_password_guard.c: the wrong-password budgets and hashing-job caps of
 * src/rooms/password_guard (issue 11, items 2 and 3). The clock is an
 * argument, so windows and backoff are stepped through exactly. */
#include <arpa/inet.h>

#include "../../src/rooms/password_guard.h"
#include "check.h"

#define MIN 60000u

static const pg_limits LIM = {.room_failures = 3,
                              .address_failures = 5,
                              .session_failures = 4,
                              .window_ms = MIN,
                              .backoff_max_ms = 4 * MIN,
                              .jobs_global = 3,
                              .jobs_per_address = 2,
                              .jobs_per_session = 1,
                              .max_entries = 64};

/* One join: admitted or not; if admitted, settled as a wrong password. */
static pg_verdict guess(password_guard *g, const char *addr, const char *sess, uint64_t now,
                        uint64_t *retry)
{
    pg_ticket t;
    pg_verdict v = pg_admit(g, addr, sess, "room", now, &t, retry);
    if (v == PG_OK) pg_settle(g, &t, true, now);
    return v;
}

/* One wrong password from addr (its own session) against room. */
static pg_verdict guess_room(password_guard *g, const char *addr, const char *room, uint64_t now)
{
    pg_ticket t;
    uint64_t retry;
    pg_verdict v = pg_admit(g, addr, addr, room, now, &t, &retry);
    if (v == PG_OK) pg_settle(g, &t, true, now);
    return v;
}

static void test_room_budget_and_backoff(void)
{
    password_guard g;
    pg_init(&g, &LIM);
    uint64_t retry;
    char sess[8];
    /* every guess from a new session and address: only the room's budget holds */
    for (int i = 0; i < 3; i++) {
        snprintf(sess, sizeof sess, "s%d", i);
        CHECK_EQ_INT(guess(&g, sess, sess, 1000, &retry), PG_OK);
    }
    CHECK_EQ_INT(guess(&g, "x", "x", 2000, &retry), PG_ROOM_FAILURES);
    CHECK_EQ_INT(retry, MIN - 1000); /* the window started at 1000 */
    /* the right password is refused too: the check is not admitted */
    pg_ticket t;
    CHECK_EQ_INT(pg_admit(&g, "y", "y", "room", MIN, &t, &retry), PG_ROOM_FAILURES);
    CHECK(t.address == NULL);
    /* another room is not affected */
    CHECK_EQ_INT(pg_admit(&g, "y", "y", "other", MIN, &t, &retry), PG_OK);
    pg_settle(&g, &t, false, MIN);
    /* the window is over: 3 more, then a lockout twice as long */
    uint64_t now = 1000 + MIN;
    for (int i = 0; i < 3; i++) {
        snprintf(sess, sizeof sess, "t%d", i);
        CHECK_EQ_INT(guess(&g, sess, sess, now, &retry), PG_OK);
    }
    CHECK_EQ_INT(guess(&g, "z", "z", now + 1, &retry), PG_ROOM_FAILURES);
    CHECK_EQ_INT(retry, 2 * MIN - 1);
    /* third time: 4 min (the cap), and it stays there */
    now += 2 * MIN;
    for (int i = 0; i < 3; i++) {
        snprintf(sess, sizeof sess, "u%d", i);
        CHECK_EQ_INT(guess(&g, sess, sess, now, &retry), PG_OK);
    }
    CHECK_EQ_INT(guess(&g, "z", "z", now, &retry), PG_ROOM_FAILURES);
    CHECK_EQ_INT(retry, 4 * MIN);
    now += 4 * MIN;
    for (int i = 0; i < 3; i++) {
        snprintf(sess, sizeof sess, "v%d", i);
        CHECK_EQ_INT(guess(&g, sess, sess, now, &retry), PG_OK);
    }
    CHECK_EQ_INT(guess(&g, "z", "z", now, &retry), PG_ROOM_FAILURES);
    CHECK_EQ_INT(retry, 4 * MIN);
    /* a quiet window after the lockout forgets the doubling */
    now += 4 * MIN + MIN;
    for (int i = 0; i < 3; i++) {
        snprintf(sess, sizeof sess, "w%d", i);
        CHECK_EQ_INT(guess(&g, sess, sess, now, &retry), PG_OK);
    }
    CHECK_EQ_INT(guess(&g, "z", "z", now, &retry), PG_ROOM_FAILURES);
    CHECK_EQ_INT(retry, MIN);
    pg_cleanup(&g);
}

/* Only checks that ran and failed spend a budget: right passwords in flight
 * are never refused by a budget (before: the third of three simultaneous
 * checks against a budget of two was refused, the right password too).
 * Checks in flight are capped per room instead, with their own verdict. */
static void test_checks_in_flight_do_not_spend(void)
{
    password_guard g;
    pg_init(&g, &(pg_limits){.room_failures = 2,
                             .room_checks = 3,
                             .address_failures = 2,
                             .window_ms = MIN,
                             .backoff_max_ms = MIN,
                             .max_entries = 16});
    pg_ticket t[4];
    uint64_t retry;
    CHECK_EQ_INT(pg_admit(&g, "a", "1", "room", 0, &t[0], &retry), PG_OK);
    CHECK_EQ_INT(pg_admit(&g, "b", "2", "room", 0, &t[1], &retry), PG_OK);
    CHECK_EQ_INT(pg_admit(&g, "c", "3", "room", 0, &t[2], &retry), PG_OK);
    /* the concurrency cap: busy, retry in a moment, nothing spent */
    CHECK_EQ_INT(pg_admit(&g, "d", "4", "room", 0, &t[3], &retry), PG_ROOM_CHECKS);
    CHECK(retry > 0 && retry <= 1000);
    for (int i = 0; i < 3; i++)
        pg_settle(&g, &t[i], false, 10);
    CHECK_EQ_INT(pg_admit(&g, "d", "4", "room", 10, &t[3], &retry), PG_OK);
    pg_settle(&g, &t[3], false, 10);
    /* one address, three checks at once (the budget is two): all admitted */
    CHECK_EQ_INT(pg_admit(&g, "e", "5", "r1", 20, &t[0], &retry), PG_OK);
    CHECK_EQ_INT(pg_admit(&g, "e", "6", "r2", 20, &t[1], &retry), PG_OK);
    CHECK_EQ_INT(pg_admit(&g, "e", "7", "r3", 20, &t[2], &retry), PG_OK);
    for (int i = 0; i < 3; i++)
        pg_settle(&g, &t[i], false, 30);
    /* failures spend: two wrong ones used the room's budget up */
    CHECK_EQ_INT(pg_admit(&g, "f", "8", "room", 40, &t[0], &retry), PG_OK);
    CHECK_EQ_INT(pg_admit(&g, "g", "9", "room", 40, &t[1], &retry), PG_OK);
    pg_settle(&g, &t[0], true, 50);
    pg_settle(&g, &t[1], true, 50);
    CHECK_EQ_INT(pg_admit(&g, "h", "10", "room", 60, &t[0], &retry), PG_ROOM_FAILURES);
    CHECK(retry > 1000);
    pg_cleanup(&g);
}

static void test_address_and_session_budgets(void)
{
    password_guard g;
    pg_init(&g, &(pg_limits){.address_failures = 2,
                             .session_failures = 1,
                             .window_ms = MIN,
                             .backoff_max_ms = MIN,
                             .max_entries = 16});
    uint64_t retry;
    CHECK_EQ_INT(guess(&g, "a", "s1", 0, &retry), PG_OK);
    CHECK_EQ_INT(guess(&g, "a", "s1", 0, &retry), PG_SESSION_FAILURES);
    CHECK_EQ_INT(guess(&g, "a", "s2", 0, &retry), PG_OK);
    CHECK_EQ_INT(guess(&g, "a", "s3", 0, &retry), PG_ADDRESS_FAILURES);
    CHECK_EQ_INT(guess(&g, "b", "s4", 0, &retry), PG_OK);
    pg_cleanup(&g);
}

static void test_job_caps(void)
{
    password_guard g;
    pg_init(&g, &LIM);
    pg_ticket t[4];
    uint64_t retry;
    CHECK_EQ_INT(pg_admit(&g, "a", "s1", NULL, 0, &t[0], &retry), PG_OK);
    CHECK_EQ_INT(pg_admit(&g, "a", "s1", NULL, 0, &t[1], &retry), PG_JOBS_SESSION);
    CHECK_EQ_INT(pg_admit(&g, "a", "s2", NULL, 0, &t[1], &retry), PG_OK);
    CHECK_EQ_INT(pg_admit(&g, "a", "s3", NULL, 0, &t[2], &retry), PG_JOBS_ADDRESS);
    CHECK(retry > 0);
    CHECK_EQ_INT(pg_admit(&g, "b", "s4", NULL, 0, &t[2], &retry), PG_OK);
    CHECK_EQ_INT(pg_admit(&g, "c", "s5", NULL, 0, &t[3], &retry), PG_JOBS_GLOBAL);
    CHECK_EQ_INT(g.jobs, 3);
    /* create-room jobs never count as wrong passwords */
    for (int i = 0; i < 3; i++)
        pg_settle(&g, &t[i], true, 0);
    CHECK_EQ_INT(g.jobs, 0);
    CHECK_EQ_INT(pg_admit(&g, "c", "s5", "room", 0, &t[3], &retry), PG_OK);
    pg_settle(&g, &t[3], false, 0);
    pg_cleanup(&g);
}

static void test_sweep(void)
{
    password_guard g;
    pg_init(&g, &LIM);
    uint64_t retry;
    pg_ticket t;
    char key[8];
    for (int i = 0; i < 4; i++) {
        snprintf(key, sizeof key, "a%d", i);
        CHECK_EQ_INT(guess_room(&g, key, key, 0), PG_OK);
    }
    CHECK_EQ_INT(g.addresses.map.count, 4);
    pg_sweep(&g, MIN - 1); /* not idle long enough */
    CHECK_EQ_INT(g.addresses.map.count, 4);
    pg_sweep(&g, MIN);
    CHECK_EQ_INT(g.addresses.map.count, 0);
    CHECK_EQ_INT(g.sessions.map.count, 0);
    CHECK_EQ_INT(g.rooms.map.count, 0);
    CHECK_EQ_INT(pg_admit(&g, "new", "new", NULL, MIN, &t, &retry), PG_OK);
    pg_sweep(&g, 10 * MIN); /* busy entries stay */
    CHECK_EQ_INT(g.addresses.map.count, 1);
    pg_settle(&g, &t, false, 10 * MIN);
    pg_cleanup(&g);
}

/* Many short sessions with the right password (or creating rooms) leave
 * nothing behind: entries are made for admitted jobs only and freed when
 * they hold nothing. Before, each session left an entry for a minute and a
 * full table refused everyone (guard_table_full). */
static void test_short_sessions_leave_nothing(void)
{
    password_guard g;
    pg_limits small = LIM;
    small.max_entries = 4;
    pg_init(&g, &small);
    uint64_t retry;
    pg_ticket t;
    char key[16];
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof key, "s%d", i);
        CHECK_EQ_INT(pg_admit(&g, "a", key, i % 2 ? "room" : NULL, (uint64_t)i, &t, &retry), PG_OK);
        pg_settle(&g, &t, false, (uint64_t)i);
    }
    CHECK_EQ_INT(g.addresses.map.count, 0);
    CHECK_EQ_INT(g.sessions.map.count, 0);
    CHECK_EQ_INT(g.rooms.map.count, 0);
    /* a refused request makes no entry either */
    for (int i = 0; i < 3; i++) {
        snprintf(key, sizeof key, "w%d", i);
        CHECK_EQ_INT(guess(&g, key, key, 0, &retry), PG_OK);
    }
    CHECK_EQ_INT(g.rooms.map.count, 1);
    for (int i = 0; i < 50; i++) {
        snprintf(key, sizeof key, "r%d", i);
        CHECK_EQ_INT(guess(&g, key, key, 1, &retry), PG_ROOM_FAILURES);
    }
    CHECK_EQ_INT(g.addresses.map.count, 3);
    CHECK_EQ_INT(g.sessions.map.count, 3);
    pg_cleanup(&g);
}

/* An attacker with many addresses (an IPv6 /48 is 65,536 /64s) failing once
 * from each: the table forgets the entries failed longest ago, a stranger
 * is still admitted, and the room's budget is kept while its entry is
 * newer than the flood's. */
static void test_many_addresses_cannot_fill_tables(void)
{
    password_guard g;
    pg_limits small = LIM;
    small.max_entries = 8;
    small.room_failures = 2;
    pg_init(&g, &small);
    uint64_t retry;
    pg_ticket t;
    char key[32];
    for (int i = 0; i < 40; i++) {
        snprintf(key, sizeof key, "2001:db8:1:%x::/64", i);
        pg_ticket w;
        CHECK_EQ_INT(pg_admit(&g, key, key, NULL, 0, &w, &retry), PG_OK);
        pg_settle(&g, &w, false, 0);
        snprintf(key, sizeof key, "2001:db8:1:%x::/64", i);
        char room[16];
        snprintf(room, sizeof room, "room%d", i);
        CHECK_EQ_INT(pg_admit(&g, key, key, room, 0, &w, &retry), PG_OK);
        pg_settle(&g, &w, true, 0);
    }
    CHECK_EQ_INT(g.addresses.map.count, 8);
    CHECK_EQ_INT(g.rooms.map.count, 8);
    CHECK(g.addresses.evicted == 32);
    /* a stranger gets in with the right password, and so does the next
     * attacker address: the table forgets, it does not refuse */
    CHECK_EQ_INT(pg_admit(&g, "192.0.2.1", "stranger", "victim", 1, &t, &retry), PG_OK);
    pg_settle(&g, &t, false, 1);
    /* the victim's room, used up, is the newest: the flood's next eight
     * wrong guesses on other rooms forget older rooms first */
    for (int i = 0; i < 2; i++) {
        snprintf(key, sizeof key, "x%d", i);
        CHECK_EQ_INT(guess_room(&g, key, "victim", 2), PG_OK);
    }
    for (int i = 0; i < 7; i++) {
        snprintf(key, sizeof key, "y%d", i);
        char room[16];
        snprintf(room, sizeof room, "other%d", i);
        CHECK_EQ_INT(guess_room(&g, key, room, 3), PG_OK);
    }
    CHECK_EQ_INT(pg_admit(&g, "192.0.2.2", "late", "victim", 4, &t, &retry), PG_ROOM_FAILURES);
    /* every entry busy (jobs_global 0: no global cap): then refused, and
     * nothing is left behind */
    pg_cleanup(&g);
    small.jobs_global = 0;
    small.max_entries = 2;
    pg_init(&g, &small);
    pg_ticket busy[2];
    CHECK_EQ_INT(pg_admit(&g, "a", "1", NULL, 0, &busy[0], &retry), PG_OK);
    CHECK_EQ_INT(pg_admit(&g, "b", "2", NULL, 0, &busy[1], &retry), PG_OK);
    CHECK_EQ_INT(pg_admit(&g, "c", "3", NULL, 0, &t, &retry), PG_TABLE_FULL);
    CHECK_EQ_INT(g.addresses.map.count, 2);
    CHECK_EQ_INT(g.sessions.map.count, 2);
    pg_settle(&g, &busy[0], false, 0);
    CHECK_EQ_INT(pg_admit(&g, "c", "3", NULL, 0, &t, &retry), PG_OK);
    pg_settle(&g, &t, false, 0);
    pg_settle(&g, &busy[1], false, 0);
    CHECK_EQ_INT(g.addresses.map.count, 0);
    pg_cleanup(&g);
}

int main(void)
{
    test_room_budget_and_backoff();
    test_checks_in_flight_do_not_spend();
    test_address_and_session_budgets();
    test_job_caps();
    test_sweep();
    test_short_sessions_leave_nothing();
    test_many_addresses_cannot_fill_tables();
    return CHECK_DONE();
}
