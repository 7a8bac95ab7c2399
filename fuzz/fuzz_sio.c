/* fuzz_sio.c: the Socket.IO decoder on arbitrary bytes. Whatever decodes
 * must encode, decode back to the same type, namespace, ack id and
 * attachment count, and encode to the same bytes again. No state outlives
 * one run. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/base/limits.h"
#include "../src/sio/sio.h"

#define FUZZ_ASSERT(c)                                                                             \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #c);              \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void check_same_header(const sio_packet *a, const sio_packet *b)
{
    FUZZ_ASSERT(a->type == b->type);
    FUZZ_ASSERT(a->nsp_len == b->nsp_len && memcmp(a->nsp, b->nsp, a->nsp_len) == 0);
    FUZZ_ASSERT(a->ack_id == b->ack_id);
    FUZZ_ASSERT(a->attachments == b->attachments);
    FUZZ_ASSERT((a->data == NULL) == (b->data == NULL));
}

static void encode_ok(const sio_packet *p, pd_buf *out)
{
    int r = sio_packet_encode(out, p->type, p->nsp, p->nsp_len, p->ack_id, p->attachments, p->data);
    FUZZ_ASSERT(r == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sio_packet p;
    int r = sio_packet_decode((const char *)data, size, PD_MAX_SIO_ATTACHMENTS, &p);
    if (r != 0) {
        FUZZ_ASSERT(r < 0 && p.data == NULL);
        return 0;
    }
    if (p.nsp_len > 1)
        FUZZ_ASSERT(p.nsp >= (const char *)data && p.nsp + p.nsp_len <= (const char *)data + size);
    (void)sio_event_name(p.data);
    /* JSON can grow when re-encoded ("1e20" is 21 digits), never 32-fold */
    pd_buf once, twice;
    pd_buf_init(&once, size * 32 + 64);
    pd_buf_init(&twice, size * 32 + 64);
    encode_ok(&p, &once);
    sio_packet q;
    r = sio_packet_decode((const char *)once.data, once.len, PD_MAX_SIO_ATTACHMENTS, &q);
    FUZZ_ASSERT(r == 0);
    check_same_header(&p, &q);
    encode_ok(&q, &twice);
    FUZZ_ASSERT(twice.len == once.len && memcmp(twice.data, once.data, once.len) == 0);
    sio_packet_cleanup(&q);
    sio_packet_cleanup(&p);
    pd_buf_reset(&once);
    pd_buf_reset(&twice);
    return 0;
}
