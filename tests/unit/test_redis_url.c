/* test_redis_url.c: the --redis URL (issue 15): host, port, db, optional
 * user and password, IPv6 in brackets; rediss:// refused with a reason
 * (no TLS in Debian's hiredis 0.14); and every malformed form refused, with
 * a reason that never repeats the password. */
#include "check.h"

#include "rooms/redis_url.h"

static bool parse(const char *url, redis_url *u, const char **why)
{
    *why = NULL;
    return redis_url_parse(url, u, why);
}

int main(void)
{
    redis_url u;
    const char *why;

    CHECK(parse("redis://127.0.0.1:6380", &u, &why));
    CHECK(strcmp(u.host, "127.0.0.1") == 0);
    CHECK_EQ_INT(u.port, 6380);
    CHECK_EQ_INT(u.db, 0);
    CHECK(u.password[0] == '\0' && u.user[0] == '\0');

    CHECK(parse("redis://redis.internal", &u, &why));
    CHECK(strcmp(u.host, "redis.internal") == 0);
    CHECK_EQ_INT(u.port, 6379);

    CHECK(parse("redis://:s3cret@10.0.0.5:6379/3", &u, &why));
    CHECK(strcmp(u.password, "s3cret") == 0 && u.user[0] == '\0');
    CHECK(strcmp(u.host, "10.0.0.5") == 0);
    CHECK_EQ_INT(u.db, 3);

    CHECK(parse("redis://peerdrop:p@ss@host/", &u, &why)); /* the last @ ends the password */
    CHECK(strcmp(u.user, "peerdrop") == 0 && strcmp(u.password, "p@ss") == 0);
    CHECK(strcmp(u.host, "host") == 0 && u.db == 0);

    CHECK(parse("redis://[::1]:7000/1", &u, &why));
    CHECK(strcmp(u.host, "::1") == 0);
    CHECK_EQ_INT(u.port, 7000);
    CHECK_EQ_INT(u.db, 1);

    CHECK(!parse("rediss://:pw-tls-secret@host:6380", &u, &why));
    CHECK(why && strstr(why, "TLS") && !strstr(why, "pw-tls-secret"));

    static const char *const bad[] = {
        "",
        "http://host",
        "redis://",
        "redis://:6379",
        "redis://host:0",
        "redis://host:65536",
        "redis://host:12ab",
        "redis://host:6379/x",
        "redis://host:6379/99999",
        "redis://nocolon@host",
        "redis://:@host",
        "redis://[::1",
        "redis://[::1]x",
        "redis://[]:6379",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bool ok = parse(bad[i], &u, &why);
        if (ok) fprintf(stderr, "accepted: %s\n", bad[i]);
        CHECK(!ok && why != NULL);
    }
    char long_host[PD_MAX_REDIS_HOST + 16] = "redis://";
    memset(long_host + 8, 'h', PD_MAX_REDIS_HOST + 1);
    long_host[8 + PD_MAX_REDIS_HOST + 1] = '\0';
    CHECK(!parse(long_host, &u, &why));

    return CHECK_DONE();
}
