/* fuzz_pake.c: the authentication cores on arbitrary bytes. Byte 0 picks
 * what the rest is:
 *   0 mod 4: a PAKE message (pake_msg_decode); whatever decodes must
 *            re-encode canonically and decode back to the same message;
 *   1 mod 4: an SDP fingerprint (pake_fingerprint_canonical), and the same
 *            bytes as a whole SDP (pake_fingerprint_from_sdp); an accepted
 *            one is "<hash> <2n lowercase hex>" of the right length;
 *   2 mod 4: a peer's CPace share (the first 32 bytes, zero-padded) run
 *            through both parties' cpace_finish: success or CPACE_E_POINT
 *            with a zeroed key, never anything else;
 *   3 mod 4: up to four messages separated by '\n', fed in order to a
 *            fresh offerer session and to a fresh answerer session: an
 *            accepted message moves exactly one state on, a failed session sends nothing and takes
 *            nothing more.
 * No state outlives one run. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/pake/confirm.h"
#include "../src/pake/cpace.h"
#include "../src/pake/pake_msg.h"
#include "../src/pake/session.h"

#define FUZZ_ASSERT(c)                                                                             \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #c);              \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void fuzz_msg(const uint8_t *in, size_t len)
{
    pake_msg m, n;
    int r = pake_msg_decode(in, len, &m);
    FUZZ_ASSERT(r == PAKE_OK || r == PAKE_E_MSG || r == PAKE_E_NOT_PAKE || r == PAKE_E_SUITE ||
                r == PAKE_E_TOO_BIG || r == PAKE_E_NOMEM);
    if (r != PAKE_OK) return;
    char once[PAKE_MSG_MAX_LEN], twice[PAKE_MSG_MAX_LEN];
    int a = pake_msg_encode(once, sizeof once, &m);
    FUZZ_ASSERT(a > 0);
    FUZZ_ASSERT(pake_msg_decode((const uint8_t *)once, (size_t)a, &n) == PAKE_OK);
    FUZZ_ASSERT(memcmp(&m, &n, sizeof m) == 0);
    int b = pake_msg_encode(twice, sizeof twice, &n);
    FUZZ_ASSERT(a == b && memcmp(once, twice, (size_t)a) == 0);
}

/* An accepted fingerprint is canonical: "<hash> <2n lowercase hex>". */
static void check_canonical(int n, const char *out)
{
    if (n == PAKE_E_FINGERPRINT) {
        FUZZ_ASSERT(out[0] == 0);
        return;
    }
    FUZZ_ASSERT(n == 8 + 64 || n == 8 + 96 || n == 8 + 128);
    FUZZ_ASSERT((size_t)n == strlen(out));
    FUZZ_ASSERT(!memcmp(out, "sha-256 ", 8) || !memcmp(out, "sha-384 ", 8) ||
                !memcmp(out, "sha-512 ", 8));
    for (int i = 8; i < n; i++)
        FUZZ_ASSERT((out[i] >= '0' && out[i] <= '9') || (out[i] >= 'a' && out[i] <= 'f'));
}

static void fuzz_fingerprint(const uint8_t *in, size_t len)
{
    char out[PAKE_FP_MAX];
    check_canonical(pake_fingerprint_canonical(out, (const char *)in, len), out);
    /* the same bytes as a whole SDP: one distinct fingerprint or none */
    check_canonical(pake_fingerprint_from_sdp(out, (const char *)in, len), out);
}

static void fuzz_share(const uint8_t *in, size_t len)
{
    static const uint8_t prs[] = "password", sid[16] = {1};
    uint8_t peer[CPACE_POINT_LEN] = {0}, mine[CPACE_POINT_LEN], y[CPACE_SCALAR_LEN], isk[64];
    memcpy(peer, in, len < sizeof peer ? len : sizeof peer);
    memset(y, 0x5a, sizeof y);
    y[31] &= 0x0f;
    cpace_str s = {sid, sizeof sid}, empty = {NULL, 0}, p = {prs, sizeof prs - 1};
    FUZZ_ASSERT(cpace_share(mine, y, p, empty, s) == CPACE_OK);
    cpace_str sp = {peer, sizeof peer}, sm = {mine, sizeof mine};
    for (int self = 0; self < 2; self++) {
        int r = self == 0 ? cpace_finish(isk, CPACE_IR, CPACE_A, y, s, sm, empty, sp, empty)
                          : cpace_finish(isk, CPACE_IR, CPACE_B, y, s, sp, empty, sm, empty);
        FUZZ_ASSERT(r == CPACE_OK || r == CPACE_E_POINT);
        if (r == CPACE_E_POINT) {
            for (size_t i = 0; i < sizeof isk; i++)
                FUZZ_ASSERT(isk[i] == 0);
        }
    }
}

static void drain(pake_session *p)
{
    const char *text;
    size_t len;
    while (pake_session_next_output(p, &text, &len))
        FUZZ_ASSERT(len > 0 && len < PAKE_MSG_MAX_LEN);
}

static void fuzz_session(const uint8_t *in, size_t len)
{
    static const uint8_t prs[PAKE_PRS_LEN] = {7};
    static const char fp[] =
        "sha-256 6b8bf0655f78e2513bac6ff33f461b35dcb85f641a24c243f0a158d0a12c1908";
    pake_session_config c = {.prs = prs,
                             .room = {(const uint8_t *)"room", 4},
                             .offerer_id = {(const uint8_t *)"a", 1},
                             .answerer_id = {(const uint8_t *)"b", 1},
                             .fp_offerer = fp,
                             .fp_answerer = fp};
    uint8_t y[CPACE_SCALAR_LEN] = {3}, sid[PAKE_SID_LEN] = {9};
    for (int role = 0; role < 2; role++) {
        pake_session p;
        c.role = role ? PAKE_ANSWERER : PAKE_OFFERER;
        FUZZ_ASSERT(pake_session_init(&p, &c, y, sid) == PAKE_OK);
        drain(&p);
        const uint8_t *at = in, *end = in + len;
        for (int i = 0; i < 4 && at <= end; i++) {
            const uint8_t *nl = memchr(at, '\n', (size_t)(end - at));
            size_t n = nl ? (size_t)(nl - at) : (size_t)(end - at);
            pake_state before = p.state;
            int r = pake_session_feed(&p, at, n);
            if (before == PAKE_DONE || before == PAKE_FAILED) {
                FUZZ_ASSERT(r == PAKE_E_ARG && p.state == before);
            } else {
                FUZZ_ASSERT(r == PAKE_OK || r == PAKE_E_AUTH || r == PAKE_E_NOT_PAKE ||
                            r == PAKE_E_NOMEM);
                FUZZ_ASSERT((r == PAKE_OK) == (p.state != PAKE_FAILED));
                /* every accepted message moves exactly one state on */
                FUZZ_ASSERT(p.state == PAKE_FAILED || (int)p.state == (int)before + 1);
                if (p.state == PAKE_FAILED) {
                    const char *t;
                    size_t tl;
                    FUZZ_ASSERT(!pake_session_next_output(&p, &t, &tl));
                    FUZZ_ASSERT(p.reason && !pake_session_sas(&p));
                }
            }
            drain(&p);
            if (!nl) break;
            at = nl + 1;
        }
        pake_session_cleanup(&p);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096) return 0;
    switch (data[0] % 4) {
    case 0:
        fuzz_msg(data + 1, size - 1);
        break;
    case 1:
        fuzz_fingerprint(data + 1, size - 1);
        break;
    case 2:
        fuzz_share(data + 1, size - 1);
        break;
    default:
        fuzz_session(data + 1, size - 1);
    }
    return 0;
}
