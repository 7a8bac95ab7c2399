/* fuzz_relay.c: differential target for the relay rules (src/rooms/relay).
 * The first byte picks offer/answer/ice-candidate; the rest is a payload's
 * JSON text. The fast path checks the text as it came; the full path checks
 * what relay_projection writes from jansson's tree. Whatever the fast path
 * accepts, the full path accepts with the same target and relays the same
 * JSON; whatever rule the fast path names, the full path names too. So the
 * two ways in cannot disagree. No state outlives one run. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/rooms/relay.h"

#define FUZZ_ASSERT(c)                                                                             \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #c);              \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The relayed value and the target, decoded, as jansson reads them. */
static json_t *relayed(const relay_msg *m)
{
    pd_buf b;
    pd_buf_init(&b, 1u << 20);
    FUZZ_ASSERT(relay_write_value(m, &b) == PD_BUF_OK);
    json_t *v = json_loadb((const char *)b.data, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    FUZZ_ASSERT(v != NULL);
    pd_buf_reset(&b);
    char *quoted = malloc(m->target_len + 2);
    FUZZ_ASSERT(quoted != NULL);
    quoted[0] = '"';
    memcpy(quoted + 1, m->target, m->target_len);
    quoted[m->target_len + 1] = '"';
    json_t *t = json_loadb(quoted, m->target_len + 2, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    free(quoted);
    FUZZ_ASSERT(t != NULL);
    json_t *pair = json_pack("[oo]", t, v);
    FUZZ_ASSERT(pair != NULL);
    return pair;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 8192) return 0;
    relay_kind kind = (relay_kind)(data[0] % 3);
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    char *copy = malloc(len ? len : 1); /* exact size: ASan sees overreads */
    FUZZ_ASSERT(copy != NULL);
    memcpy(copy, text, len);
    relay_msg fast;
    int r1 = relay_check(kind, copy, len, &fast);
    if (r1 != RELAY_E_UNSURE) {
        json_t *j = json_loadb(copy, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        FUZZ_ASSERT(j != NULL); /* the scanner read it all: jansson reads it too */
        char *proj = relay_projection(kind, j);
        relay_msg full;
        int r2 = proj ? relay_check(kind, proj, strlen(proj), &full)
                      : relay_check(kind, "null", 4, &full);
        /* one exception: sdpMLineIndex -0, which the fast path refuses and
         * jansson reads as 0 (the fast path then leaves it to the full path) */
        bool minus_zero = r1 == RELAY_E_MLINE_INDEX && full.have[2] && r2 == RELAY_OK;
        /* the same for a lane of -0, read after the target and before the
         * value: the full path then goes on to the value's rules */
        bool minus_zero_lane =
            r1 == RELAY_E_LANE && r2 != RELAY_E_LANE && full.have_lane && full.lane == 0;
        FUZZ_ASSERT(r1 == r2 || minus_zero || minus_zero_lane);
        if (r1 == RELAY_OK) {
            json_t *a = relayed(&fast), *b = relayed(&full);
            FUZZ_ASSERT(json_equal(a, b));
            FUZZ_ASSERT(fast.have_lane == full.have_lane && fast.lane == full.lane);
            FUZZ_ASSERT(fast.target_plain == full.target_plain || !fast.target_plain);
            json_decref(a);
            json_decref(b);
        }
        free(proj);
        json_decref(j);
    }
    free(copy);
    return 0;
}
