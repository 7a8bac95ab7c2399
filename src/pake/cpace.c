/* cpace.c: CPACE-RISTR255-SHA512 (draft-irtf-cfrg-cpace), see cpace.h.
 *
 * Hash inputs are streamed into SHA-512 (crypto_hash_sha512_update) in
 * the draft's lv_cat layout instead of being built in a buffer, so the
 * generator string (which holds PRS) and K never sit in heap memory; the
 * stack copies are wiped with sodium_memzero. */
#include "cpace.h"

#include <sodium.h>
#include <string.h>

const char *cpace_strerror(int err)
{
    switch (err) {
#define CPACE_ERR_CASE(name, value, text)                                                          \
    case value:                                                                                    \
        return text;
        CPACE_ERRORS(CPACE_ERR_CASE)
#undef CPACE_ERR_CASE
    }
    return "unknown error";
}

/* ---------------- string utilities ---------------- */

/* LEB128 of n (draft, "Notation for string operations"): 7 bits per byte, least significant first,
 * bit 7 set while more follow. At most 10 bytes for 64 bits. */
static size_t leb128(uint8_t out[10], uint64_t n)
{
    size_t i = 0;
    do {
        uint8_t b = n & 0x7f;
        n >>= 7;
        out[i++] = n ? (uint8_t)(b | 0x80) : b;
    } while (n);
    return i;
}

/* Appends src to out at *at when it fits; always advances *at. */
static void put(uint8_t *out, size_t cap, size_t *at, const void *src, size_t len)
{
    if (*at <= cap && len <= cap - *at && len) memcpy(out + *at, src, len);
    *at += len;
}

static void put_lv(uint8_t *out, size_t cap, size_t *at, cpace_str s)
{
    uint8_t len[10];
    put(out, cap, at, len, leb128(len, s.len));
    put(out, cap, at, s.p, s.len);
}

size_t cpace_len_header(uint8_t out[10], uint64_t len)
{
    return leb128(out, len);
}

size_t cpace_prepend_len(uint8_t *out, size_t cap, cpace_str s)
{
    size_t at = 0;
    put_lv(out, cap, &at, s);
    return at;
}

size_t cpace_lv_cat(uint8_t *out, size_t cap, const cpace_str *parts, size_t n)
{
    size_t at = 0;
    for (size_t i = 0; i < n; i++)
        put_lv(out, cap, &at, parts[i]);
    return at;
}

bool cpace_lexiographically_larger(cpace_str a, cpace_str b)
{
    size_t min = a.len < b.len ? a.len : b.len;
    for (size_t i = 0; i < min; i++) {
        if (a.p[i] > b.p[i]) return true;
        if (a.p[i] < b.p[i]) return false;
    }
    return a.len > b.len;
}

size_t cpace_o_cat(uint8_t *out, size_t cap, cpace_str a, cpace_str b)
{
    size_t at = 0;
    bool a_first = cpace_lexiographically_larger(a, b);
    put(out, cap, &at, "oc", 2);
    put(out, cap, &at, a_first ? a.p : b.p, a_first ? a.len : b.len);
    put(out, cap, &at, a_first ? b.p : a.p, a_first ? b.len : a.len);
    return at;
}

/* The i-th byte of lv_cat(x, y), without building it. */
static uint8_t lv2_byte(cpace_str x, cpace_str y, size_t i)
{
    uint8_t len[10];
    size_t n = leb128(len, x.len);
    if (i < n) return len[i];
    i -= n;
    if (i < x.len) return x.p[i];
    i -= x.len;
    n = leb128(len, y.len);
    if (i < n) return len[i];
    return y.p[i - n];
}

static size_t lv2_len(cpace_str x, cpace_str y)
{
    uint8_t len[10];
    return leb128(len, x.len) + x.len + leb128(len, y.len) + y.len;
}

/* o_cat's order of lv_cat(Ya,ADa) and lv_cat(Yb,ADb): true when the
 * first half is lexiographically larger and so goes first. */
static bool a_half_first(cpace_str ya, cpace_str ada, cpace_str yb, cpace_str adb)
{
    size_t a_len = lv2_len(ya, ada), b_len = lv2_len(yb, adb);
    size_t min = a_len < b_len ? a_len : b_len;
    for (size_t i = 0; i < min; i++) {
        uint8_t x = lv2_byte(ya, ada, i), y = lv2_byte(yb, adb, i);
        if (x != y) return x > y;
    }
    return a_len > b_len;
}

size_t cpace_transcript(uint8_t *out, size_t cap, cpace_mode mode, cpace_str ya, cpace_str ada,
                        cpace_str yb, cpace_str adb)
{
    size_t at = 0;
    bool swap = false;
    if (mode == CPACE_OC) {
        put(out, cap, &at, "oc", 2);
        swap = !a_half_first(ya, ada, yb, adb);
    }
    cpace_str parts[4] = {ya, ada, yb, adb};
    if (swap) parts[0] = yb, parts[1] = adb, parts[2] = ya, parts[3] = ada;
    for (int i = 0; i < 4; i++)
        put_lv(out, cap, &at, parts[i]);
    return at;
}

/* len_zpad = max(0, s_in_bytes - 1 - len(prepend_len(PRS)) - len(prepend_len(DSI))) */
static size_t zpad_len(cpace_str prs)
{
    uint8_t tmp[10];
    size_t used = 1 + leb128(tmp, prs.len) + prs.len + leb128(tmp, sizeof CPACE_DSI - 1) +
                  (sizeof CPACE_DSI - 1);
    return used < CPACE_S_IN_BYTES ? CPACE_S_IN_BYTES - used : 0;
}

size_t cpace_generator_string(uint8_t *out, size_t cap, cpace_str prs, cpace_str ci, cpace_str sid)
{
    static const uint8_t zeros[CPACE_S_IN_BYTES];
    cpace_str parts[5] = {
        {(const uint8_t *)CPACE_DSI, sizeof CPACE_DSI - 1}, prs, {zeros, zpad_len(prs)}, ci, sid};
    return cpace_lv_cat(out, cap, parts, 5);
}

/* ---------------- hashing in lv_cat layout ---------------- */

static void hash_lv(crypto_hash_sha512_state *st, cpace_str s)
{
    uint8_t len[10];
    crypto_hash_sha512_update(st, len, leb128(len, s.len));
    if (s.len) crypto_hash_sha512_update(st, s.p, s.len);
}

static void hash_transcript(crypto_hash_sha512_state *st, cpace_mode mode, cpace_str ya,
                            cpace_str ada, cpace_str yb, cpace_str adb)
{
    bool swap = false;
    if (mode == CPACE_OC) {
        crypto_hash_sha512_update(st, (const uint8_t *)"oc", 2);
        swap = !a_half_first(ya, ada, yb, adb);
    }
    if (swap) {
        hash_lv(st, yb), hash_lv(st, adb), hash_lv(st, ya), hash_lv(st, ada);
    } else {
        hash_lv(st, ya), hash_lv(st, ada), hash_lv(st, yb), hash_lv(st, adb);
    }
}

/* ---------------- the group ---------------- */

int cpace_calculate_generator(uint8_t g[CPACE_POINT_LEN], cpace_str prs, cpace_str ci,
                              cpace_str sid)
{
    static const uint8_t zeros[CPACE_S_IN_BYTES];
    if (!g || (prs.len && !prs.p) || (ci.len && !ci.p) || (sid.len && !sid.p)) return CPACE_E_ARG;
    crypto_hash_sha512_state st;
    uint8_t h[crypto_hash_sha512_BYTES];
    crypto_hash_sha512_init(&st);
    hash_lv(&st, (cpace_str){(const uint8_t *)CPACE_DSI, sizeof CPACE_DSI - 1});
    hash_lv(&st, prs);
    hash_lv(&st, (cpace_str){zeros, zpad_len(prs)});
    hash_lv(&st, ci);
    hash_lv(&st, sid);
    crypto_hash_sha512_final(&st, h);
    /* RFC 9496 §4.3.4 element derivation from 64 uniform bytes */
    crypto_core_ristretto255_from_hash(g, h);
    sodium_memzero(h, sizeof h);
    sodium_memzero(&st, sizeof st);
    return CPACE_OK;
}

void cpace_sample_scalar(uint8_t y[CPACE_SCALAR_LEN])
{
    randombytes_buf(y, CPACE_SCALAR_LEN);
    y[31] &= 0x0f; /* group_size_bits = 252: clear bits 252..255 */
}

int cpace_scalar_mult(uint8_t out[CPACE_POINT_LEN], const uint8_t y[CPACE_SCALAR_LEN],
                      const uint8_t g[CPACE_POINT_LEN])
{
    if (!out || !y || !g) return CPACE_E_ARG;
    /* libsodium refuses an invalid encoding and an identity result (-1) */
    if (crypto_scalarmult_ristretto255(out, y, g) != 0) {
        memset(out, 0, CPACE_POINT_LEN);
        return CPACE_E_POINT;
    }
    return CPACE_OK;
}

int cpace_scalar_mult_vfy(uint8_t out[CPACE_POINT_LEN], const uint8_t y[CPACE_SCALAR_LEN],
                          const uint8_t x[CPACE_POINT_LEN])
{
    /* decode(X) fails or y * X = I: both give G.I, the all-zero encoding */
    return cpace_scalar_mult(out, y, x);
}

void cpace_isk(uint8_t isk[CPACE_ISK_LEN], cpace_mode mode, cpace_str sid,
               const uint8_t k[CPACE_POINT_LEN], cpace_str ya, cpace_str ada, cpace_str yb,
               cpace_str adb)
{
    static const char dsi_isk[] = CPACE_DSI "_ISK";
    crypto_hash_sha512_state st;
    crypto_hash_sha512_init(&st);
    hash_lv(&st, (cpace_str){(const uint8_t *)dsi_isk, sizeof dsi_isk - 1});
    hash_lv(&st, sid);
    hash_lv(&st, (cpace_str){k, CPACE_POINT_LEN});
    hash_transcript(&st, mode, ya, ada, yb, adb);
    crypto_hash_sha512_final(&st, isk);
    sodium_memzero(&st, sizeof st);
}

void cpace_sid_output(uint8_t out[64], cpace_mode mode, cpace_str ya, cpace_str ada, cpace_str yb,
                      cpace_str adb)
{
    crypto_hash_sha512_state st;
    crypto_hash_sha512_init(&st);
    crypto_hash_sha512_update(&st, (const uint8_t *)"CPaceSidOutput", 14);
    hash_transcript(&st, mode, ya, ada, yb, adb);
    crypto_hash_sha512_final(&st, out);
}

/* ---------------- the protocol steps ---------------- */

int cpace_share(uint8_t out[CPACE_POINT_LEN], const uint8_t y[CPACE_SCALAR_LEN], cpace_str prs,
                cpace_str ci, cpace_str sid)
{
    uint8_t g[CPACE_POINT_LEN];
    if (!out || !y) return CPACE_E_ARG;
    int r = cpace_calculate_generator(g, prs, ci, sid);
    if (r == CPACE_OK) r = cpace_scalar_mult(out, y, g);
    sodium_memzero(g, sizeof g);
    return r;
}

int cpace_finish(uint8_t isk[CPACE_ISK_LEN], cpace_mode mode, cpace_party self,
                 const uint8_t y[CPACE_SCALAR_LEN], cpace_str sid, cpace_str ya, cpace_str ada,
                 cpace_str yb, cpace_str adb)
{
    if (!isk || !y || (mode != CPACE_IR && mode != CPACE_OC) ||
        (self != CPACE_A && self != CPACE_B))
        return CPACE_E_ARG;
    memset(isk, 0, CPACE_ISK_LEN);
    cpace_str peer = self == CPACE_A ? yb : ya;
    if (peer.len != CPACE_POINT_LEN || !peer.p) return CPACE_E_POINT;
    uint8_t k[CPACE_POINT_LEN];
    int r = cpace_scalar_mult_vfy(k, y, peer.p);
    if (r == CPACE_OK) cpace_isk(isk, mode, sid, k, ya, ada, yb, adb);
    sodium_memzero(k, sizeof k);
    return r;
}
