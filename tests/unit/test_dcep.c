/* test_dcep.c: DCEP (RFC 8832) byte vectors: the OPEN Chromium sends for
 * createDataChannel("chat") (reliable, ordered, priority 256 = "low"), the
 * one-byte ACK, unordered and partial-reliability types, and length fields
 * that point past the buffer. */
#include <stdint.h>

#include "../../src/rtc/dcep.h"
#include "check.h"

static void test_open_vectors(void)
{
    /* 03 | 00 | 0100 | 00000000 | 0004 | 0000 | "chat" */
    static const uint8_t chat[] = {0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
                                   0x00, 0x04, 0x00, 0x00, 'c',  'h',  'a',  't'};
    dcep_msg m;
    CHECK_EQ_INT(dcep_decode(chat, sizeof chat, &m), DCEP_OK);
    CHECK_EQ_INT(m.type, DCEP_MSG_OPEN);
    CHECK_EQ_INT(m.channel_type, DCEP_RELIABLE);
    CHECK_EQ_INT(m.priority, 256);
    CHECK_EQ_INT(m.reliability, 0);
    CHECK_EQ_MEM(m.label, m.label_len, "chat", 4);
    CHECK_EQ_INT(m.protocol_len, 0);

    uint8_t out[64];
    CHECK_EQ_INT(dcep_open_encode(&m, out, sizeof out), sizeof chat);
    CHECK(memcmp(out, chat, sizeof chat) == 0);
    CHECK_EQ_INT(dcep_open_encode(&m, out, sizeof chat - 1), DCEP_E_NOSPACE);

    /* unordered with rexmit 3, label "a", protocol "x-proto" */
    static const uint8_t rexmit[] = {0x03, 0x81, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x01,
                                     0x00, 0x07, 'a',  'x',  '-',  'p',  'r',  'o',  't',  'o'};
    CHECK_EQ_INT(dcep_decode(rexmit, sizeof rexmit, &m), DCEP_OK);
    CHECK_EQ_INT(m.channel_type, DCEP_UNORDERED | DCEP_PARTIAL_RELIABLE_REXMIT);
    CHECK_EQ_INT(m.reliability, 3);
    CHECK_EQ_MEM(m.protocol, m.protocol_len, "x-proto", 7);
    CHECK_EQ_INT(dcep_open_encode(&m, out, sizeof out), sizeof rexmit);
    CHECK(memcmp(out, rexmit, sizeof rexmit) == 0);
}

static void test_ack(void)
{
    uint8_t b[1];
    CHECK_EQ_INT(dcep_ack_encode(b, 1), 1);
    CHECK_EQ_INT(b[0], 0x02);
    CHECK_EQ_INT(dcep_ack_encode(b, 0), DCEP_E_NOSPACE);
    dcep_msg m;
    CHECK_EQ_INT(dcep_decode(b, 1, &m), DCEP_OK);
    CHECK_EQ_INT(m.type, DCEP_MSG_ACK);
}

static void test_bad(void)
{
    dcep_msg m;
    static const uint8_t empty[1] = {0};
    CHECK_EQ_INT(dcep_decode(empty, 0, &m), DCEP_E_SHORT);
    static const uint8_t unknown[] = {0x04};
    CHECK_EQ_INT(dcep_decode(unknown, 1, &m), DCEP_E_TYPE);
    /* header cut short */
    static const uint8_t shorthdr[] = {0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    CHECK_EQ_INT(dcep_decode(shorthdr, sizeof shorthdr, &m), DCEP_E_SHORT);
    /* label length 0xffff past the end: each byte is its own allocation so
     * ASan sees any overread */
    static const uint8_t lie[] = {0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                  0x00, 0xff, 0xff, 0x00, 0x00, 'a'};
    uint8_t *heap = malloc(sizeof lie);
    memcpy(heap, lie, sizeof lie);
    CHECK_EQ_INT(dcep_decode(heap, sizeof lie, &m), DCEP_E_SHORT);
    free(heap);
    /* trailing garbage after the protocol */
    static const uint8_t extra[] = {0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                    0x00, 0x00, 0x00, 0x00, 0x00, 'z'};
    CHECK_EQ_INT(dcep_decode(extra, sizeof extra, &m), DCEP_E_SHORT);
    /* channel type 0x03 is not defined */
    static const uint8_t badtype[] = {0x03, 0x03, 0x00, 0x00, 0x00, 0x00,
                                      0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    CHECK_EQ_INT(dcep_decode(badtype, sizeof badtype, &m), DCEP_E_CHANNEL_TYPE);
    dcep_msg bad = {.channel_type = 0x7f};
    uint8_t out[32];
    CHECK_EQ_INT(dcep_open_encode(&bad, out, sizeof out), DCEP_E_CHANNEL_TYPE);
    CHECK(strcmp(dcep_strerror(DCEP_E_SHORT), "DCEP message truncated") == 0);
}

int main(void)
{
    test_open_vectors();
    test_ack();
    test_bad();
    return CHECK_DONE();
}
