/* sdp.h: sans-I/O SDP codec for one data-channel m-section (RFC 8866,
 * JSEP RFC 8829, RFC 8841 for SCTP over DTLS, RFC 8839 for ICE).
 *
 * sdp_parse() reads a remote offer or answer: exactly one
 * `m=application <port> UDP/DTLS/SCTP webrtc-datachannel` section, its ICE
 * credentials, sha-256 fingerprint, setup role, mid, sctp-port,
 * max-message-size and candidates. Strings it returns point into the
 * caller's buffer; nothing is allocated. Unknown attributes are ignored.
 * sdp_write() produces our own description into a caller buffer.
 * sdp_candidate_parse() splits one candidate attribute into fields (the
 * ICE agent still does the real parsing; we need the address to spot mDNS
 * names). Nothing here logs: SDP bodies carry ICE passwords. */
#ifndef PD_RTC_SDP_H
#define PD_RTC_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SDP_ERRORS(X)                                                                              \
    X(SDP_OK, 0, "ok")                                                                             \
    X(SDP_E_SYNTAX, -1, "malformed SDP")                                                           \
    X(SDP_E_TOO_BIG, -2, "SDP over size limit")                                                    \
    X(SDP_E_NO_MEDIA, -3, "no data-channel m-section")                                             \
    X(SDP_E_UNSUPPORTED, -4, "unsupported m-section or protocol")                                  \
    X(SDP_E_ICE, -5, "missing or invalid ICE credentials")                                         \
    X(SDP_E_FINGERPRINT, -6, "missing or invalid sha-256 fingerprint")                             \
    X(SDP_E_SETUP, -7, "invalid a=setup")                                                          \
    X(SDP_E_NOSPACE, -8, "output buffer too small")                                                \
    X(SDP_E_CANDIDATE, -9, "malformed candidate")

enum {
#define SDP_ERR_ENUM(name, value, text) name = (value),
    SDP_ERRORS(SDP_ERR_ENUM)
#undef SDP_ERR_ENUM
};
const char *sdp_strerror(int err);

/* A view into the caller's buffer (not NUL-terminated). */
typedef struct sdp_str {
    const char *p;
    size_t len;
} sdp_str;

typedef enum sdp_setup {
    SDP_SETUP_NONE, /* absent: RFC 4145 default is active for an answer */
    SDP_SETUP_ACTPASS,
    SDP_SETUP_ACTIVE,
    SDP_SETUP_PASSIVE,
} sdp_setup;

/* RFC 8839 §5.4: ufrag 4..256 ice-chars, pwd 22..256 ice-chars. */
#define SDP_ICE_UFRAG_MIN 4
#define SDP_ICE_PWD_MIN 22
#define SDP_ICE_MAX 256
/* RFC 8843 §7: a mid is a short token; Chromium uses "0". */
#define SDP_MID_MAX 32
/* Candidates kept per description. Chromium sends one per interface and
 * transport (a few); trickled ones come separately. */
#define SDP_MAX_CANDIDATES 32
/* RFC 8841 §6: absent a=max-message-size means 64 KiB. */
#define SDP_DEFAULT_MAX_MESSAGE 65536u
/* RFC 8841 §5: the default SCTP port in WebRTC. */
#define SDP_DEFAULT_SCTP_PORT 5000u

typedef struct sdp_desc {
    sdp_str ice_ufrag, ice_pwd;
    uint8_t fingerprint[32]; /* sha-256 of the peer's DTLS certificate */
    sdp_setup setup;
    sdp_str mid;
    uint16_t sctp_port;        /* SDP_DEFAULT_SCTP_PORT if absent */
    uint64_t max_message_size; /* SDP_DEFAULT_MAX_MESSAGE if absent; 0 = unlimited (RFC 8841) */
    bool ice_lite, ice_trickle, end_of_candidates;
    size_t candidate_count; /* media-level a=candidate lines, up to SDP_MAX_CANDIDATES */
    sdp_str candidates[SDP_MAX_CANDIDATES]; /* each "candidate:...", no "a=", no CR */
} sdp_desc;

/* Parses len bytes (no NUL needed). Returns SDP_OK or an SDP_E_*. */
int sdp_parse(const char *sdp, size_t len, sdp_desc *out);

typedef struct sdp_local {
    uint64_t session_id;
    const char *ice_ufrag, *ice_pwd; /* checked with the same rules as parse */
    uint8_t fingerprint[32];
    sdp_setup setup; /* ACTPASS in offers, ACTIVE or PASSIVE in answers */
    const char *mid;
    uint16_t sctp_port;
    uint64_t max_message_size;
    const char *const *candidates; /* "candidate:..." strings, may be NULL */
    size_t candidate_count;
    bool end_of_candidates;
} sdp_local;

/* Writes a NUL-terminated description with CRLF line ends. Returns its
 * length (> 0) or SDP_E_NOSPACE / SDP_E_ICE / SDP_E_SYNTAX. */
int sdp_write(const sdp_local *in, char *out, size_t cap);

typedef struct sdp_candidate {
    sdp_str foundation;
    unsigned component;
    sdp_str transport; /* "udp", "tcp" */
    uint32_t priority;
    sdp_str address; /* IPv4, IPv6 or an mDNS name ("<uuid>.local") */
    uint16_t port;
    sdp_str type; /* host, srflx, prflx, relay */
} sdp_candidate;

/* Parses "candidate:..." with or without "a=" (RFC 8839 §5.1). */
int sdp_candidate_parse(const char *s, size_t len, sdp_candidate *out);
/* True for an mDNS host name (RFC 8828 / draft-ietf-mmusic-mdns-ice-candidates). */
bool sdp_candidate_is_mdns(const sdp_candidate *c);

/* "sha-256" fingerprint text: 32 colon-separated hex pairs. */
bool sdp_fingerprint_parse(const char *s, size_t len, uint8_t out[32]);
void sdp_fingerprint_format(const uint8_t fp[32], char out[96]);

#endif
