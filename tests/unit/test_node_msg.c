/* test_node_msg.c: the messages between nodes (issue 15, docs/scale.md):
 * each kind encodes and decodes back; every malformed form is refused (a
 * field too long or short, an id outside base64url, a missing tab, a
 * timestamp that overflows, args that are not an array, an unknown kind);
 * input ends at a guard page, so a read past it crashes. */
#include "check.h"
#include "guard.h"

#include "rooms/node_msg.h"

static const char ROOM[] = "room-1_A";
static const char N1[] = "nnnnnnnnnnnnnnnnnnn1";
static const char S1[] = "sssssssssssssssssss1";
static const char S2[] = "Sss-sss_sssssssssss2";

static bool decode_guarded(const char *text, node_msg *m)
{
    size_t len = strlen(text);
    guarded g = guard_copy(text, len);
    const char *in = g.data;
    bool ok = node_msg_decode(in, len, m);
    /* pointers into the input stay inside it */
    if (ok) CHECK(m->room >= in && m->room + m->room_len <= in + len);
    if (ok && m->kind == NODE_MSG_RELAY) CHECK(m->args >= in && m->args + m->args_len == in + len);
    guard_free(&g);
    return ok;
}

static void test_round_trips(void)
{
    pd_buf b;
    pd_buf_init(&b, 1 << 16);
    node_msg m;
    char text[4096];

    CHECK(node_msg_joined(&b, ROOM, N1, S1));
    CHECK(node_msg_decode((const char *)b.data, b.len, &m));
    CHECK(m.kind == NODE_MSG_JOINED && m.room_len == strlen(ROOM) &&
          memcmp(m.room, ROOM, m.room_len) == 0);
    CHECK(strcmp(m.node, N1) == 0 && strcmp(m.socket, S1) == 0);

    CHECK(node_msg_left(&b, ROOM, S2));
    CHECK(node_msg_decode((const char *)b.data, b.len, &m));
    CHECK(m.kind == NODE_MSG_LEFT && strcmp(m.socket, S2) == 0);

    static const char args[] = "[\"offer\",{\"sdp\":\"v=0\\r\\n\\t\",\"from\":\"x\"}]";
    CHECK(node_msg_relay_begin(&b, ROOM, S1, S2, 1767225600123456u));
    CHECK(pd_buf_append(&b, args, sizeof args - 1) == PD_BUF_OK);
    CHECK(node_msg_decode((const char *)b.data, b.len, &m));
    CHECK(m.kind == NODE_MSG_RELAY && strcmp(m.socket, S1) == 0 && strcmp(m.from, S2) == 0);
    CHECK(m.sent_us == 1767225600123456u);
    CHECK_EQ_MEM(m.args, m.args_len, args, sizeof args - 1);

    /* the same through a guard page */
    snprintf(text, sizeof text, "R\t%s\t%s\t%s\t0\t[1]", ROOM, S1, S2);
    CHECK(decode_guarded(text, &m) && m.sent_us == 0 && m.args_len == 3);
    snprintf(text, sizeof text, "J\t%s\t%s\t%s", ROOM, N1, S1);
    CHECK(decode_guarded(text, &m));
    snprintf(text, sizeof text, "L\t%s\t%s", ROOM, S1);
    CHECK(decode_guarded(text, &m));
    pd_buf_reset(&b);
}

static void test_refused(void)
{
    char long_room[300];
    memset(long_room, 'r', sizeof long_room - 1);
    long_room[sizeof long_room - 1] = '\0';
    char text[8192];
    const char *bad[] = {
        "",
        "J",
        "J\t",
        "X\troom\tsssssssssssssssssss1",
        "L\troom",
        "L\troom\t",
        "L\troom\tsssssssssssssssssss",
        "L\troom\tsssssssssssssssssss12",
        "L\troom\tsssssssssssssssssss!",
        "L\tro om\tsssssssssssssssssss1",
        "L\t\tsssssssssssssssssss1",
        "Lxroom\tsssssssssssssssssss1",
        "J\troom\tnnnnnnnnnnnnnnnnnnn1",
        "J\troom\tnnnnnnnnnnnnnnnnnnn1\t",
        "J\troom\tnnnn\tsssssssssssssssssss1",
        "R\troom\tsssssssssssssssssss1\tsssssssssssssssssss2\t5\t",
        "R\troom\tsssssssssssssssssss1\tsssssssssssssssssss2\t5\t{}",
        "R\troom\tsssssssssssssssssss1\tsssssssssssssssssss2\t\t[1]",
        "R\troom\tsssssssssssssssssss1\tsssssssssssssssssss2\t-5\t[1]",
        "R\troom\tsssssssssssssssssss1\tsssssssssssssssssss2\t99999999999999999999\t[1]",
        "R\troom\tsssssssssssssssssss1\tsssssssssssssssssss2\t1[1]",
        "R\troom\tsssssssssssssssssss1\t[1]",
    };
    node_msg m;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bool ok = decode_guarded(bad[i], &m);
        if (ok) fprintf(stderr, "accepted: %s\n", bad[i]);
        CHECK(!ok);
    }
    snprintf(text, sizeof text, "L\t%s\t%s", long_room, S1); /* a room id over PD_MAX_ROOM_ID */
    CHECK(!decode_guarded(text, &m));
}

int main(void)
{
    test_round_trips();
    test_refused();
    return CHECK_DONE();
}
