/* confirm.h: what binds a CPace run to the WebRTC connection it protects
 * (docs/authentication.md §4-5):
 *
 *  - the canonical form of a DTLS fingerprint (an SDP a=fingerprint line),
 *    so both implementations MAC the same bytes whatever case and colons
 *    the SDP used;
 *  - the offerer's commitment to its share, sent before it sees the
 *    answerer's, so that nobody can grind the short verification code;
 *  - the key confirmation of draft's "Key confirmation" section, extended with both fingerprints:
 *      mac_key = SHA-512("CPaceMac" || sid || ISK)
 *      Ta = HMAC-SHA-512(mac_key, lv_cat(Ya, ADa, fp_offerer, fp_answerer))
 *      Tb = HMAC-SHA-512(mac_key, lv_cat(Yb, ADb, fp_offerer, fp_answerer))
 *    each side sends its own tag and checks the other's in constant time.
 *    The fingerprints are each side's view (its own certificate's and the
 *    one in the SDP it received), always offerer's first: a relay that
 *    terminates DTLS on both sides makes the views differ, and the tags. */
#ifndef PD_PAKE_CONFIRM_H
#define PD_PAKE_CONFIRM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpace.h"
#include "pake.h"

enum {
    /* "sha-512 " + 128 hex digits + NUL: the longest hash we accept */
    PAKE_FP_MAX = 8 + 128 + 1,
    PAKE_COMMIT_LEN = 64,
    PAKE_MAC_KEY_LEN = 64,
    PAKE_TAG_LEN = 64, /* HMAC-SHA-512, untruncated */
};

/* From an SDP fingerprint ("a=fingerprint:sha-256 AB:CD:…", with or without
 * the "a=fingerprint:" prefix and one trailing CRLF or LF) to
 * "sha-256 abcd…": the hash function lowercased, one space, the digest in
 * lowercase hex without colons. Only sha-256, sha-384 and sha-512 with a
 * digest of their exact length are accepted (RFC 8122 §5; a weaker hash
 * would weaken the binding); anything else is PAKE_E_FINGERPRINT. Returns
 * the canonical length (> 0) or the error; out is NUL-terminated. */
int pake_fingerprint_canonical(char out[PAKE_FP_MAX], const char *in, size_t len);

/* The one DTLS fingerprint of a whole SDP (docs/authentication.md §6; the
 * integration spec: exactly one distinct a=fingerprint, session- or
 * media-level), canonical. Each side takes its own from the SDP it set
 * locally and the peer's from the SDP it applied. The same fingerprint
 * repeated (at both levels) counts once; none, two distinct ones, or one
 * the normaliser refuses (sha-1, a bad digest) is PAKE_E_FINGERPRINT: there
 * must never be a choice of which one to MAC. Lines end in LF or CRLF.
 * Returns the canonical length (> 0) or the error; out is NUL-terminated. */
int pake_fingerprint_from_sdp(char out[PAKE_FP_MAX], const char *sdp, size_t len);

/* SHA-512(lv_cat(PAKE_LABEL_COMMIT, sid, Ya)) */
void pake_commit(uint8_t out[PAKE_COMMIT_LEN], cpace_str sid, const uint8_t ya[CPACE_POINT_LEN]);
/* Constant-time: does the revealed Ya match the commitment? */
bool pake_commit_check(const uint8_t commit[PAKE_COMMIT_LEN], cpace_str sid,
                       const uint8_t ya[CPACE_POINT_LEN]);

void pake_mac_key(uint8_t key[PAKE_MAC_KEY_LEN], cpace_str sid, const uint8_t isk[CPACE_ISK_LEN]);
/* The tag of the party whose share is y (Ya for the offerer, Yb for the
 * answerer) over the canonical fingerprints, offerer's first. */
void pake_confirm_tag(uint8_t tag[PAKE_TAG_LEN], const uint8_t key[PAKE_MAC_KEY_LEN], cpace_str y,
                      cpace_str ad, const char *fp_offerer, const char *fp_answerer);
/* Recomputes the peer's tag and compares in constant time. */
bool pake_confirm_check(const uint8_t tag[PAKE_TAG_LEN], const uint8_t key[PAKE_MAC_KEY_LEN],
                        cpace_str y, cpace_str ad, const char *fp_offerer, const char *fp_answerer);

#endif
