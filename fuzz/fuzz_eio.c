/* fuzz_eio.c: the Engine.IO codec on arbitrary bytes, read as a WebSocket
 * text frame, a polling payload, a polling record, a query string and a sid.
 * Whatever a payload parses into must survive eio_payload_append and parse
 * back to the same packets. No state outlives one run. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/base/base64.h"
#include "../src/eio/eio.h"

#define FUZZ_ASSERT(c)                                                                             \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #c);              \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Splits `in`, parses each record, and re-encodes the packets into `out`.
 * Returns the number of records, or -1 at the first bad one. */
static int payload_reencode(const uint8_t *in, size_t len, uint8_t *scratch, pd_buf *out)
{
    size_t pos = 0;
    const uint8_t *rec;
    size_t rec_len;
    int n = 0;
    while (eio_payload_next(in, len, &pos, &rec, &rec_len)) {
        FUZZ_ASSERT(rec >= in && rec + rec_len <= in + len);
        eio_packet p;
        if (eio_record_parse(rec, rec_len, scratch, &p) != 0) return -1;
        FUZZ_ASSERT(p.len <= rec_len);
        if (out) FUZZ_ASSERT(eio_payload_append(out, &p) == 0);
        n++;
    }
    return n;
}

static void check_payload(const uint8_t *data, size_t size)
{
    uint8_t *scratch = malloc(PD_BASE64_DECODED_MAX(size));
    if (!scratch) return;
    pd_buf once, twice;
    /* re-encoding adds base64 padding to unpadded "b" records: < 2x */
    pd_buf_init(&once, 2 * size + 16);
    pd_buf_init(&twice, 2 * size + 16);
    int n = payload_reencode(data, size, scratch, &once);
    if (n > 0) {
        /* parse what we wrote: same count, and writing it again is stable */
        uint8_t *scratch2 = malloc(PD_BASE64_DECODED_MAX(once.len));
        FUZZ_ASSERT(scratch2 != NULL);
        FUZZ_ASSERT(payload_reencode(once.data, once.len, scratch2, &twice) == n);
        FUZZ_ASSERT(twice.len == once.len && memcmp(twice.data, once.data, once.len) == 0);
        free(scratch2);
    }
    pd_buf_reset(&once);
    pd_buf_reset(&twice);
    free(scratch);
}

static void check_query(const uint8_t *data, size_t size)
{
    eio_query q;
    eio_http_error e = eio_query_parse((const char *)data, size, &q);
    FUZZ_ASSERT(e == EIO_HTTP_OK || e == EIO_HTTP_UNKNOWN_TRANSPORT ||
                e == EIO_HTTP_UNSUPPORTED_PROTOCOL_VERSION);
    if (e != EIO_HTTP_UNKNOWN_TRANSPORT)
        FUZZ_ASSERT(q.transport == EIO_TRANSPORT_POLLING || q.transport == EIO_TRANSPORT_WEBSOCKET);
    if (q.sid)
        FUZZ_ASSERT(q.sid >= (const char *)data && q.sid + q.sid_len <= (const char *)data + size);
    char body[128];
    FUZZ_ASSERT(
        eio_http_error_json(body, sizeof body, e == EIO_HTTP_OK ? EIO_HTTP_BAD_REQUEST : e) > 0);
}

static void check_open_json(const uint8_t *data, size_t size)
{
    char *sid = malloc(size + 1);
    if (!sid) return;
    memcpy(sid, data, size);
    sid[size] = '\0';
    size_t cap = size * 6 + 128; /* every byte may become \u00xx */
    char *out = malloc(cap);
    if (out) {
        int n = eio_open_json(out, cap, sid, size & 1, 25000, 20000, 1000000);
        FUZZ_ASSERT(n > 0 && (size_t)n < cap && out[n] == '\0');
    }
    free(out);
    free(sid);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    eio_packet p;
    if (eio_packet_parse_text(data, size, &p) == 0)
        FUZZ_ASSERT(p.data == data + 1 && p.len == size - 1 && p.type <= EIO_NOOP);
    check_payload(data, size);
    check_query(data, size);
    check_open_json(data, size);
    return 0;
}
