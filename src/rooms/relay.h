/* relay.h: the rules for a relayed offer, answer or ice-candidate payload.
 *
 * One set of rules for the server's two ways in: the fast path hands the
 * payload's JSON text as it came; the full path (jansson, for text outside
 * the scanner's subset) hands the fields these rules read, written back
 * compactly. Both get the same verdict and the same relayed bytes. The
 * payload is scanned with src/sio/json_scan (no allocation, no tree):
 *   offer / answer   {"targetSocketId": string 1..2*PD_ID_LEN bytes,
 *                     "sdp": string 1..PD_MAX_SDP bytes, or
 *                            {"type": "offer" / "answer" (the event's),
 *                             "sdp": string 1..PD_MAX_SDP bytes, ...},
 *                     ...}
 *   ice-candidate    {"targetSocketId": ..., "candidate": null or
 *                     {"candidate": string 0..PD_MAX_CANDIDATE bytes,
 *                      "sdpMid"?: null or string <= 256,
 *                      "sdpMLineIndex"?: null or integer 0..65535,
 *                      "usernameFragment"?: null or string <= 256, ...}}
 *   all three        "lane"?: integer 0..PD_MAX_LANE (docs/signaling.md,
 *                     Lanes), relayed after "from" when present
 * Other members are ignored and not relayed. Lengths are of the decoded
 * string, in bytes. The object form of sdp is W3C WebRTC 1.0 §4.7.2's
 * RTCSessionDescriptionInit, what JSON.stringify(pc.localDescription)
 * gives; it is relayed as an object ({"type", "sdp"}), a string as a
 * string (issue 13). The RTCIceCandidateInit fields are those of W3C
 * WebRTC 1.0 §4.8.1; 256 bounds an a=mid (RFC 8843) and an ICE ufrag
 * (RFC 8839 allows 4..256 characters). */
#ifndef PD_RELAY_H
#define PD_RELAY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "../base/buf.h"
#include "../sio/json_scan.h"

#define RELAY_ERRORS(X)                                                                            \
    X(RELAY_E_UNSURE, -1, "outside the scanned JSON subset, or a member given twice")              \
    X(RELAY_E_NOT_OBJECT, -2, "payload is not an object")                                          \
    X(RELAY_E_TARGET, -3, "targetSocketId missing, not a string, or not 1..40 bytes")              \
    X(RELAY_E_SDP, -4, "sdp missing, not a string, or not 1..PD_MAX_SDP bytes")                    \
    X(RELAY_E_CANDIDATE, -5, "candidate missing, or neither null nor an object")                   \
    X(RELAY_E_CANDIDATE_TEXT, -6, "candidate.candidate missing, not a string, or too long")        \
    X(RELAY_E_SDP_MID, -7, "candidate.sdpMid neither null nor a string of <= 256 bytes")           \
    X(RELAY_E_MLINE_INDEX, -8, "candidate.sdpMLineIndex neither null nor an integer 0..65535")     \
    X(RELAY_E_UFRAG, -9, "candidate.usernameFragment neither null nor a string of <= 256 bytes")   \
    X(RELAY_E_SDP_TYPE, -10, "sdp.type missing or not the event's (offer / answer)")               \
    X(RELAY_E_LANE, -11, "lane not an integer 0..PD_MAX_LANE")

enum {
    RELAY_OK = 0,
#define RELAY_ERR_ENUM(name, value, text) name = (value),
    RELAY_ERRORS(RELAY_ERR_ENUM)
#undef RELAY_ERR_ENUM
};
const char *relay_strerror(int err);

typedef enum relay_kind { RELAY_OFFER, RELAY_ANSWER, RELAY_ICE } relay_kind;

/* The candidate's members the rules read and relay, in the order relayed:
 * candidate, sdpMid, sdpMLineIndex, usernameFragment. */
#define RELAY_CANDIDATE_FIELDS 4
extern const char *const relay_candidate_fields[RELAY_CANDIDATE_FIELDS];

typedef struct relay_msg {
    relay_kind kind;
    const char *target; /* the id as written, without its quotes */
    size_t target_len;
    bool target_plain; /* no escapes: comparable with a socket id as is */
    js_value value;    /* sdp: the string; ice: null or the candidate object */
    bool described;    /* sdp came as {type, sdp}; value is its sdp string */
    js_value fields[RELAY_CANDIDATE_FIELDS]; /* ice: as relay_candidate_fields */
    bool have[RELAY_CANDIDATE_FIELDS];
    bool have_lane; /* "lane" was given (0 included): relayed as given */
    unsigned lane;
} relay_msg;

/* Checks a payload (JSON text). Returns RELAY_OK and fills *out, whose
 * pointers point into `payload`, or the rule it breaks. RELAY_E_UNSURE
 * says the text is outside the scanner's subset (whitespace, \u escapes,
 * numbers with a fraction or over 15 digits, deeper nesting) or repeats a
 * member the rules read; the fast path then leaves it to the full path. */
int relay_check(relay_kind kind, const char *payload, size_t len, relay_msg *out);

/* The full path's way in: the members of a payload jansson decoded that
 * the rules read (targetSocketId, and sdp or candidate with its known
 * members), written as compact JSON text for relay_check; NULL when the
 * payload is not an object. Jansson has decoded escapes and kept the last
 * of a repeated member, so the scanner can read all of it; what the rules
 * do not read is not relayed, so it is left out. The caller frees it. */
char *relay_projection(relay_kind kind, const json_t *payload);

/* Appends the value relayed: the sdp string as received (in an object
 * {"type","sdp"} when it came in one), or null, or the candidate with
 * only the fields above, in that order. */
int relay_write_value(const relay_msg *m, pd_buf *out);

/* Appends ,"lane":k when the payload gave one, else nothing: the relayed
 * object's last member, after "from". */
int relay_write_lane(const relay_msg *m, pd_buf *out);

#endif
