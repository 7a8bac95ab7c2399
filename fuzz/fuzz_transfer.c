/* fuzz_transfer.c: the transfer codec and engine on arbitrary bytes.
 * Byte 0 picks what the rest is: even, a control message (whatever decodes
 * must re-encode canonically and decode back to the same bytes); odd, a data
 * message. Either way the message is then fed to a receiving session that
 * has seen a hello, and to one that has not, which must never crash or
 * leak, whatever the input. An input that opens with "LANES" is instead a
 * sequence of lane-tagged messages (docs/protocol.md §5.10) fed to a
 * receiver with 7 lanes that has accepted an offer of two files: each
 * record is a tag byte (bits 0-2 the lane, bit 3 set for a control
 * message, bit 4 set to mark the lane opened first), a 16-bit big-endian
 * length and the message; the merge must never crash, leak or hold more
 * than its bounds. An input that opens with "LANER" is the same with
 * lane-resend (§5.11) agreed: both hellos list it, DATA carries tags, copies
 * are dropped or taken wherever they are, and a record's bit 5 closes its
 * lane (xfer_session_lane_closed) before its message. No state outlives
 * one run. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transfer/codec.h"
#include "transfer/incoming.h"
#include "transfer/paths.h"
#include "transfer/session.h"

#define FUZZ_ASSERT(c)                                                                             \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #c);              \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void drain(xfer_session *s)
{
    const uint8_t *d;
    size_t len;
    bool bin;
    xfer_event ev;
    while (xfer_session_next_output(s, &d, &len, &bin)) {
    }
    while (xfer_session_next_event(s, &ev)) {
        if (ev.type == XFER_EV_OFFER) {
            xfer_incoming *inc = xfer_incoming_create(ev.xfer, ev.files, ev.files_len);
            if (inc) {
                FUZZ_ASSERT(xfer_session_accept(s, inc, NULL, 0) == XFER_OK);
                /* the session points at inc: end it before inc goes */
                xfer_session_shutdown(s);
                while (xfer_session_next_event(s, &ev)) {
                }
                xfer_incoming_destroy(inc);
                return;
            }
        }
    }
}

static void feed(const uint8_t *msg, size_t len, bool binary, bool hello)
{
    xfer_session *s = xfer_session_create(NULL);
    FUZZ_ASSERT(s);
    if (hello) {
        /* "text": a snippet reaches the session's text path (§5.9) */
        static const char h[] =
            "{\"t\":\"hello\",\"v\":2,\"maxMsg\":65536,\"win\":65536,\"caps\":[\"text\"]}";
        xfer_session_feed_text(s, (const uint8_t *)h, sizeof h - 1);
        drain(s);
    }
    if (binary)
        xfer_session_feed_binary(s, msg, len);
    else
        xfer_session_feed_text(s, msg, len);
    drain(s);
    xfer_session_destroy(s);
}

static void feed_lanes(const uint8_t *p, size_t n, bool resend)
{
    xfer_options o = {
        .lanes = XFER_MAX_LANES, .max_msg = 65536, .win = 131072, .lane_resend = resend};
    xfer_session *s = xfer_session_create(&o);
    FUZZ_ASSERT(s);
    static const char h[] = "{\"t\":\"hello\",\"v\":2,\"maxMsg\":65536,\"win\":65536,"
                            "\"caps\":[\"lane-resend\"],\"lanes\":7}";
    static const char offer[] =
        "{\"t\":\"offer\",\"xfer\":\"0123456789abcdef0123456789abcdef\",\"files\":["
        "{\"id\":0,\"name\":\"a\",\"dir\":\"\",\"size\":4096,\"mime\":\"x/y\"},"
        "{\"id\":1,\"name\":\"b\",\"dir\":\"\",\"size\":100,\"mime\":\"x/y\"}]}";
    xfer_session_feed_text(s, (const uint8_t *)h, sizeof h - 1);
    xfer_session_feed_text(s, (const uint8_t *)offer, sizeof offer - 1);
    xfer_incoming *inc = NULL;
    xfer_event ev;
    const uint8_t *d;
    size_t len;
    bool bin;
    while (xfer_session_next_event(s, &ev))
        if (ev.type == XFER_EV_OFFER && !inc) {
            inc = xfer_incoming_create(ev.xfer, ev.files, ev.files_len);
            FUZZ_ASSERT(inc && xfer_session_accept(s, inc, NULL, 0) == XFER_OK);
        }
    FUZZ_ASSERT(xfer_session_lane_resend(s) == resend);
    while (n >= 3) {
        uint8_t tag = p[0];
        size_t m = (size_t)p[1] << 8 | p[2];
        p += 3;
        n -= 3;
        if (m > n) m = n;
        unsigned lane = tag & 7u;
        if (tag & 16u) xfer_session_lane_opened(s, lane);
        if (resend && (tag & 32u)) FUZZ_ASSERT(xfer_session_lane_closed(s, lane));
        if (tag & 8u)
            xfer_session_feed_text_lane(s, lane, p, m);
        else
            xfer_session_feed_binary_lane(s, lane, p, m);
        FUZZ_ASSERT(xfer_session_held(s) <= XFER_MAX_HELD_MSGS);
        while (xfer_session_next_output(s, &d, &len, &bin)) {
        }
        while (xfer_session_next_event(s, &ev)) {
            if (ev.type == XFER_EV_WRITE)
                xfer_session_written(s, ev.xfer, ev.file, ev.offset + ev.len);
            else if (ev.type == XFER_EV_CLOSE && ev.ok)
                xfer_session_closed(s, ev.xfer, ev.file, true, NULL);
        }
        p += m;
        n -= m;
    }
    xfer_session_destroy(s);
    xfer_incoming_destroy(inc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536) return 0;
    if (size >= 5 && (!memcmp(data, "LANES", 5) || !memcmp(data, "LANER", 5))) {
        feed_lanes(data + 5, size - 5, data[4] == 'R');
        return 0;
    }
    bool binary = data[0] & 1;
    const uint8_t *msg = data + 1;
    size_t len = size - 1;
    if (binary) {
        xfer_data d;
        if (xfer_data_decode(msg, len, &d) == XFER_OK) {
            uint8_t hdr[XFER_DATA_HEADER_LEN];
            xfer_data_header_encode(hdr, d.file, d.offset, d.tag);
            FUZZ_ASSERT(memcmp(hdr, msg, sizeof hdr) == 0);
            FUZZ_ASSERT(d.payload_len == len - XFER_DATA_HEADER_LEN);
        }
    } else {
        xfer_msg m;
        xfer_code code;
        if (xfer_msg_decode(msg, len, &m, &code) == XFER_OK) {
            pd_buf once, twice;
            pd_buf_init(&once, 1u << 24);
            pd_buf_init(&twice, 1u << 24);
            FUZZ_ASSERT(xfer_msg_encode(&once, &m) == XFER_OK);
            xfer_msg n;
            FUZZ_ASSERT(xfer_msg_decode(once.data, once.len, &n, &code) == XFER_OK);
            FUZZ_ASSERT(n.t == m.t);
            FUZZ_ASSERT(xfer_msg_encode(&twice, &n) == XFER_OK);
            FUZZ_ASSERT(once.len == twice.len && memcmp(once.data, twice.data, once.len) == 0);
            if (m.t == XFER_OFFER) {
                char buf[128];
                const char *problem;
                (void)xfer_path_manifest_check(m.files, m.files_len, buf, sizeof buf, &problem);
            }
            xfer_msg_cleanup(&n);
            xfer_msg_cleanup(&m);
            pd_buf_reset(&once);
            pd_buf_reset(&twice);
        }
    }
    feed(msg, len, binary, true);
    feed(msg, len, binary, false);
    return 0;
}
