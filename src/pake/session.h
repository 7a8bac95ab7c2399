/* session.h: one peer's side of the authentication that opens a data
 * channel (docs/authentication.md §7), sans-I/O: the caller feeds the
 * peer's text messages and sends what comes out; no sockets, no clock
 * (the caller owns the deadline), randomness only in
 * pake_session_init_random. The wire's `hello` may follow only once the
 * state is PAKE_DONE.
 *
 *   offerer (CPace A):  (sends pake-start) WAIT_SHARE -> WAIT_CONFIRM -> DONE
 *   answerer (CPace B): WAIT_START -> WAIT_SHARE -> WAIT_CONFIRM -> DONE
 *
 * The offerer opened the channel and speaks first; the answerer only ever
 * answers (docs/protocol.md §5.1: Chromium loses about one message in ten
 * that the accepting side sends first; auth-spec §A).
 *
 * Anything unexpected moves to PAKE_FAILED for good, with a reason, and
 * wipes the secrets; the caller then sends `error` AUTH_FAILED and closes.
 * The caller owns the storage (init/cleanup). */
#ifndef PD_PAKE_SESSION_H
#define PD_PAKE_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "confirm.h"
#include "cpace.h"
#include "keys.h"
#include "pake.h"
#include "pake_msg.h"
#include "sas.h"

/* lv_cat of the CI label, a room id and two socket ids at their limits */
#define PAKE_CI_MAX (1 + 64 + 2 + PAKE_ROOM_MAX + 2 * (2 + PAKE_PEER_ID_MAX))

typedef enum pake_role { PAKE_OFFERER, PAKE_ANSWERER } pake_role;

typedef enum pake_state {
    PAKE_WAIT_START,   /* answerer: for pake-start */
    PAKE_WAIT_SHARE,   /* for the peer's pake-share */
    PAKE_WAIT_CONFIRM, /* for the peer's pake-confirm */
    PAKE_DONE,         /* authenticated: the SAS is ready, hello may follow */
    PAKE_FAILED,
} pake_state;

typedef struct pake_session_config {
    pake_role role;
    const uint8_t *prs; /* PAKE_PRS_LEN bytes: pake_keys.prs */
    cpace_str room, offerer_id, answerer_id;
    /* canonical (pake_fingerprint_canonical), each side's own view */
    const char *fp_offerer, *fp_answerer;
} pake_session_config;

typedef struct pake_session {
    pake_role role;
    pake_state state;
    const char *reason; /* why PAKE_FAILED: human text, no secrets */
    uint8_t prs[PAKE_PRS_LEN];
    uint8_t ci[PAKE_CI_MAX];
    size_t ci_len;
    char fp_offerer[PAKE_FP_MAX], fp_answerer[PAKE_FP_MAX];
    uint8_t y[CPACE_SCALAR_LEN]; /* our scalar, used once */
    uint8_t sid[PAKE_SID_LEN];
    uint8_t ya[CPACE_POINT_LEN], yb[CPACE_POINT_LEN];
    uint8_t commit[PAKE_COMMIT_LEN];
    uint8_t mac_key[PAKE_MAC_KEY_LEN];
    char sas[PAKE_SAS_DIGITS + 1];
    /* at most two messages wait to be sent (pake-share and pake-confirm) */
    char out[2][PAKE_MSG_MAX_LEN];
    size_t out_len[2];
    unsigned out_head, out_count;
    /* our pake-confirm was queued: from then on the peer holds something
     * that tests a guess of the secret (docs/authentication.md §7) */
    bool tag_sent;
} pake_session;

/* Checks the config (PAKE_E_ARG: lengths over their limits, a
 * non-canonical fingerprint) and starts: the offerer computes its share
 * and queues pake-start with its commitment to it. y is our scalar
 * (cpace_sample_scalar); sid the offerer's 16 random bytes (ignored for
 * the answerer, which learns it from pake-start). */
int pake_session_init(pake_session *s, const pake_session_config *c,
                      const uint8_t y[CPACE_SCALAR_LEN], const uint8_t sid[PAKE_SID_LEN]);
/* The same with a fresh scalar and sid from libsodium's CSPRNG. */
int pake_session_init_random(pake_session *s, const pake_session_config *c);
void pake_session_cleanup(pake_session *s); /* wipes everything */

/* One text message from the peer. PAKE_OK (go on, or PAKE_DONE); then
 * PAKE_E_AUTH with the state PAKE_FAILED and s->reason, or PAKE_E_NOT_PAKE
 * (also failed) when the text is another protocol message, which the
 * caller may decode as an `error` to show the peer's own message.
 * PAKE_E_ARG when fed after the end. */
int pake_session_feed(pake_session *s, const uint8_t *text, size_t len);
/* The next message to send, valid until the next call on s. */
bool pake_session_next_output(pake_session *s, const char **text, size_t *len);
/* The 6-digit code once PAKE_DONE, else NULL. */
const char *pake_session_sas(const pake_session *s);

#endif
