/* test_cli_link.c: the share link (src/cli/link.h): what the CLI builds
 * reads back the same; values decoded as the web app's URLSearchParams
 * does ('+' a space, %2B a '+'); malformed escapes, a decoded NUL and
 * values longer than their buffer refused instead of cut; random room ids
 * and passwords of the web app's shape. Links sit at the end of exact-size
 * mallocs, so a read past them is caught by ASan. */
#include <math.h>

#include "check.h"

#include "cli/link.h"

typedef struct parsed {
    bool ok, damaged;
    char server[256], room[130], password[64];
} parsed;

static parsed parse(const char *link, const char *password_given)
{
    size_t n = strlen(link) + 1;
    char *t = malloc(n);
    memcpy(t, link, n);
    parsed r = {0};
    snprintf(r.password, sizeof r.password, "%s", password_given ? password_given : "");
    r.ok = cli_link_parse(t, r.server, sizeof r.server, r.room, sizeof r.room, r.password,
                          sizeof r.password, &r.damaged);
    free(t);
    return r;
}

static void round_trip(const char *server, const char *room, const char *password,
                       const char *want_link, const char *want_server)
{
    char link[1024];
    cli_link_build(server, room, password, link, sizeof link);
    if (want_link) CHECK_EQ_STR(link, want_link);
    parsed r = parse(link, NULL);
    CHECK(r.ok);
    CHECK_EQ_STR(r.room, room);
    CHECK_EQ_STR(r.password, password);
    CHECK_EQ_STR(r.server, want_server);
}

int main(void)
{
    /* the page is the server's origin, with a path */
    round_trip("http://127.0.0.1:8080", "r1", "pw", "http://127.0.0.1:8080/#room=r1&key=pw",
               "http://127.0.0.1:8080/");
    round_trip("wss://example.org/", "r1", "pw", "https://example.org/#room=r1&key=pw",
               "https://example.org/");
    round_trip("https://example.org/app/?x=1#old", "r-1_2", "pw",
               "https://example.org/app/#room=r-1_2&key=pw", "https://example.org/app/");
    /* encodeURIComponent on the way out, URLSearchParams on the way in */
    round_trip("http://h/", "room", "a b+c&d=e%f\xc3\xa9!~*'()",
               "http://h/#room=room&key=a%20b%2Bc%26d%3De%25f%C3%A9!~*'()", "http://h/");

    /* URLSearchParams: a raw '+' is a space, %2B a '+' */
    parsed r = parse("http://h/#room=abc&key=x+y%2Bz", NULL);
    CHECK(r.ok);
    CHECK_EQ_STR(r.password, "x y+z");
    /* order and unknown keys do not matter; the first room= and key= count,
     * as URLSearchParams.get in the web app (web/src/lib/link.ts) */
    r = parse("http://h/#key=k&v=1&room=a&room=b&key=later", NULL);
    CHECK(r.ok);
    CHECK_EQ_STR(r.room, "a");
    CHECK_EQ_STR(r.password, "k");
    r = parse("http://h/#room=a&key=&key=later", NULL);
    CHECK_EQ_STR(r.password, ""); /* an empty first key= is the key, as in the web app */
    /* --password wins over the link's key */
    r = parse("http://h/#room=a&key=fromlink", "given");
    CHECK(r.ok);
    CHECK_EQ_STR(r.password, "given");
    /* a bare room id */
    r = parse("Room_1-x", NULL);
    CHECK(r.ok);
    CHECK_EQ_STR(r.room, "Room_1-x");
    CHECK_EQ_STR(r.server, "");

    /* refused, not cut or passed on */
    CHECK(!parse("http://h/#room=a&key=%zz", NULL).ok);   /* malformed escape */
    CHECK(!parse("http://h/#room=a&key=%4", NULL).ok);    /* cut escape */
    CHECK(!parse("http://h/#room=a&key=a%00b", NULL).ok); /* decoded NUL */
    /* one rule with the web app (web/src/lib/link.test.ts, the same cases):
     * a damaged room or key is refused as damaged, never kept as text or
     * decoded to other bytes (another key, another PRS) */
    static const char *const damaged[] = {
        "http://h/#room=a&key=%zz",    "http://h/#room=a&key=ab%",
        "http://h/#room=a&key=%4",     "http://h/#room=a&key=x%g1y",
        "http://h/#room=a&key=a%00b",  "http://h/#room=a&key=%FF",
        "http://h/#room=a&key=%C3%28", "http://h/#room=a&key=%ED%A0%80",
        "http://h/#room=%zz&key=k",    "http://h/#key=%E9t%E9&room=a",
    };
    for (size_t i = 0; i < sizeof damaged / sizeof *damaged; i++) {
        r = parse(damaged[i], NULL);
        CHECK(!r.ok);
        CHECK(r.damaged);
        CHECK_EQ_STR(r.password, ""); /* nothing of a damaged key is kept */
    }
    /* well-formed escapes of UTF-8 text are a key like any other */
    r = parse("http://h/#room=a&key=%C3%A9t%C3%A9", NULL);
    CHECK(r.ok && !r.damaged);
    CHECK_EQ_STR(r.password, "\xc3\xa9t\xc3\xa9");
    /* not a link at all is not "damaged": the usage message */
    r = parse("room with space", NULL);
    CHECK(!r.ok && !r.damaged);
    /* a later key= is never read: damage there does not matter, as in the web app */
    r = parse("http://h/#room=a&key=k&key=%zz", NULL);
    CHECK(r.ok && !r.damaged);
    CHECK(!parse("http://h/#room=a%2Fb&key=k", NULL).ok); /* '/' in a room id */
    CHECK(!parse("http://h/#key=k", NULL).ok);            /* no room */
    CHECK(!parse("room with space", NULL).ok);
    char longkey[200] = "http://h/#room=a&key=";
    memset(longkey + strlen(longkey), 'k', 100); /* 100 > the 63 the buffer holds */
    CHECK(!parse(longkey, NULL).ok);
    char longroom[300] = "http://h/#key=k&room=";
    memset(longroom + strlen(longroom), 'r', 129); /* room ids: 1-128 */
    CHECK(!parse(longroom, NULL).ok);
    longroom[strlen(longroom) - 1] = 0;
    CHECK(parse(longroom, NULL).ok);

    /* the web app's shapes: UUID v4 room, 23 characters without 0/O/1/l/I:
     * a generated key has at least 128 bits (issue 14, auth-spec §B) */
    char room[37], pw[CLI_LINK_KEY_LEN + 1];
    CHECK(CLI_LINK_KEY_LEN * log2(CLI_LINK_ALPHABET_LEN) >= 128.0);
    CHECK_EQ_INT(CLI_LINK_KEY_LEN, 23); /* as web/src/lib/link.ts GENERATED_KEY_LEN */
    CHECK(cli_link_random_room(room));
    CHECK_EQ_INT(strlen(room), 36);
    CHECK(room[8] == '-' && room[13] == '-' && room[14] == '4' && room[18] == '-');
    CHECK(strchr("89ab", room[19]) != NULL);
    CHECK(parse(room, NULL).ok);
    CHECK(cli_link_random_password(pw, CLI_LINK_KEY_LEN));
    CHECK_EQ_INT(strlen(pw), 23);
    CHECK(strpbrk(pw, "0O1lI") == NULL);
    return CHECK_DONE();
}
