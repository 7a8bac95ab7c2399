/* cpace.h: CPace, the balanced PAKE of draft-irtf-cfrg-cpace, cipher suite
 * CPACE-RISTR255-SHA512 (group G_Ristretto255 of RFC 9496, H = SHA-512),
 * written from the draft's text on libsodium's ristretto255 primitives.
 *
 * Sans-I/O and deterministic: every function is pure except
 * cpace_sample_scalar(), so the draft's test vectors replay exactly
 * (tests/unit/test_pake.c, docs/vectors/cpace-ristretto255.json). What
 * PRS, CI, sid, ADa and ADb are in Peerdrop, and who is A, is the
 * application's choice: see keys.h and docs/authentication.md.
 *
 * The point K of the exchange never leaves this module (draft, "Key derivation": "MUST
 * NOT expose K"), except through cpace_scalar_mult_vfy(), the draft's own
 * building block, which callers other than the tests do not need. */
#ifndef PD_CPACE_H
#define PD_CPACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    CPACE_POINT_LEN = 32,  /* an encoded ristretto255 element */
    CPACE_SCALAR_LEN = 32, /* little-endian, below 2^252 when sampled here */
    CPACE_ISK_LEN = 64,    /* H.b_in_bytes of SHA-512 */
    CPACE_S_IN_BYTES = 128 /* SHA-512's input block: the generator string's zero padding */
};

#define CPACE_DSI "CPaceRistretto255" /* G_Ristretto255.DSI */

#define CPACE_ERRORS(X)                                                                            \
    X(CPACE_OK, 0, "ok")                                                                           \
    X(CPACE_E_ARG, -1, "invalid argument")                                                         \
    X(CPACE_E_POINT, -2, "invalid point or the identity element")

enum cpace_err {
#define CPACE_ERR_ENUM(name, value, text) name = (value),
    CPACE_ERRORS(CPACE_ERR_ENUM)
#undef CPACE_ERR_ENUM
};
const char *cpace_strerror(int err);

/* An octet string that the caller owns; len 0 is the empty string b"". */
typedef struct cpace_str {
    const uint8_t *p;
    size_t len;
} cpace_str;

/* The two ways of ordering the transcript (draft, "Notation for string operations": transcript). */
typedef enum cpace_mode {
    CPACE_IR, /* initiator-responder: lv_cat(Ya,ADa) || lv_cat(Yb,ADb) */
    CPACE_OC, /* symmetric: o_cat(lv_cat(Ya,ADa), lv_cat(Yb,ADb)) */
} cpace_mode;

/* ---- string utilities of the draft's appendix ----
 * Each writer returns the length of its whole result and writes it only
 * when it fits in cap (so a first call with cap 0 sizes the buffer). */
size_t cpace_prepend_len(uint8_t *out, size_t cap, cpace_str s);
/* The length header alone (LEB128 of len), for callers that stream
 * prepend_len(s) into a hash: returns its 1..10 bytes. */
size_t cpace_len_header(uint8_t out[10], uint64_t len);
size_t cpace_lv_cat(uint8_t *out, size_t cap, const cpace_str *parts, size_t n);
bool cpace_lexiographically_larger(cpace_str a, cpace_str b);
size_t cpace_o_cat(uint8_t *out, size_t cap, cpace_str a, cpace_str b);
size_t cpace_transcript(uint8_t *out, size_t cap, cpace_mode mode, cpace_str ya, cpace_str ada,
                        cpace_str yb, cpace_str adb);
/* lv_cat(DSI, PRS, zero_bytes(len_zpad), CI, sid), padded to fill SHA-512's
 * first block (draft, "Common function for computing generators"). Holds PRS: wipe it after use. */
size_t cpace_generator_string(uint8_t *out, size_t cap, cpace_str prs, cpace_str ci, cpace_str sid);

/* ---- the group environment G_Ristretto255 ---- */

/* g = element_derivation(SHA-512(generator_string)), encoded. Secret: it
 * is derived from the password. */
int cpace_calculate_generator(uint8_t g[CPACE_POINT_LEN], cpace_str prs, cpace_str ci,
                              cpace_str sid);
/* 32 random bytes with the bits above 252 cleared (the draft's recommended G.sample_scalar for
 * ristretto255). */
void cpace_sample_scalar(uint8_t y[CPACE_SCALAR_LEN]);
/* Y = encode(y * g) for our own generator. CPACE_E_POINT when the result
 * is the identity (y = 0 mod l: never for a sampled scalar in practice). */
int cpace_scalar_mult(uint8_t out[CPACE_POINT_LEN], const uint8_t y[CPACE_SCALAR_LEN],
                      const uint8_t g[CPACE_POINT_LEN]);
/* encode(y * decode(X)) for a point from the peer; when X does not decode
 * or the result is the identity, out = G.I (32 zero bytes) and the result
 * is CPACE_E_POINT: the caller MUST abort (draft, "CPace protocol instructions"). */
int cpace_scalar_mult_vfy(uint8_t out[CPACE_POINT_LEN], const uint8_t y[CPACE_SCALAR_LEN],
                          const uint8_t x[CPACE_POINT_LEN]);

/* ISK = SHA-512(lv_cat(DSI || "_ISK", sid, K) || transcript(Ya,ADa,Yb,ADb)) */
void cpace_isk(uint8_t isk[CPACE_ISK_LEN], cpace_mode mode, cpace_str sid,
               const uint8_t k[CPACE_POINT_LEN], cpace_str ya, cpace_str ada, cpace_str yb,
               cpace_str adb);
/* sid_output = SHA-512("CPaceSidOutput" || transcript(...)) (draft, "Calculating a session
 * identifier") */
void cpace_sid_output(uint8_t out[64], cpace_mode mode, cpace_str ya, cpace_str ada, cpace_str yb,
                      cpace_str adb);

/* ---- one party's two steps ---- */

/* Our public share: Y = scalar_mult(y, calculate_generator(PRS, CI, sid)).
 * The scalar y is the caller's (cpace_sample_scalar, or a vector's). */
int cpace_share(uint8_t out[CPACE_POINT_LEN], const uint8_t y[CPACE_SCALAR_LEN], cpace_str prs,
                cpace_str ci, cpace_str sid);
/* After the peer's share: K = scalar_mult_vfy(y, the other party's Y);
 * abort (CPACE_E_POINT, isk zeroed) when K = G.I, else the ISK over the
 * transcript (Ya,ADa,Yb,ADb). `self` says which of Ya / Yb is ours, so the
 * other one is the peer's (it must be CPACE_POINT_LEN bytes, else
 * CPACE_E_POINT). K is wiped before return. */
typedef enum cpace_party { CPACE_A, CPACE_B } cpace_party;
int cpace_finish(uint8_t isk[CPACE_ISK_LEN], cpace_mode mode, cpace_party self,
                 const uint8_t y[CPACE_SCALAR_LEN], cpace_str sid, cpace_str ya, cpace_str ada,
                 cpace_str yb, cpace_str adb);

#endif
