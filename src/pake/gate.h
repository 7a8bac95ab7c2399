/* gate.h: what stands at the opening of every data channel in protocol
 * version 2 (docs/protocol.md §5.0, docs/authentication.md §7): one CPace
 * run (session.h) under the first-message rule and the deadline, sans-I/O.
 * The caller feeds every message the channel delivers until the gate is
 * open, sends what comes out, and tells it the time:
 *
 *   - a PAKE message goes to the session;
 *   - an `error` from the peer ends the run (PAKE_GATE_PEER_ERROR, with its
 *     code and message; nothing is answered);
 *   - anything else before the run is done (a `hello` of any version, an
 *     `offer`, a binary message, malformed text), a failed run, a
 *     fingerprint that is not exactly one (gate start), or the deadline
 *     (PD_AUTH_DEADLINE_MS from the opening) after this side sent its
 *     pake-confirm fails the gate: it queues `error` AUTH_FAILED (and
 *     nothing else of the run) for the caller to send before it closes the
 *     channel;
 *   - the deadline, a closed channel or a failed connection *before* this
 *     side sent its pake-confirm is PAKE_GATE_LOST: a connection that did
 *     not carry the run, not a failed authentication. Until our tag is out,
 *     the peer holds nothing that tests a guess of the secret (the shares
 *     are uniformly random points, the offerer's commitment hides Ya), so
 *     nobody learnt anything and nothing counts as a guess; the caller
 *     closes without a word and connects again as after any drop. Seen in
 *     CI: a first message lost at a channel's opening left both sides
 *     waiting out the deadline and then warning of an interception.
 *
 * Once PAKE_GATE_OPEN, the SAS is ready and the transfer session may say
 * hello; the gate takes no more input. No sockets, no clock of its own,
 * randomness only in pake_gate_start. The caller owns the storage. */
#ifndef PD_PAKE_GATE_H
#define PD_PAKE_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "session.h"

typedef enum pake_gate_state {
    PAKE_GATE_RUNNING,    /* authenticating: feed messages, tick the clock */
    PAKE_GATE_OPEN,       /* authenticated: the SAS is ready, hello may follow */
    PAKE_GATE_FAILED,     /* send the queued `error` AUTH_FAILED, then close */
    PAKE_GATE_PEER_ERROR, /* the peer sent `error` first: close */
    PAKE_GATE_LOST,       /* ended before our tag went out: a drop, connect again */
} pake_gate_state;

/* {"t":"error","code":"AUTH_FAILED","message":"authentication failed"}:
 * canonical (docs/protocol.md §3.1), the reason stays local */
extern const char PAKE_GATE_ERROR_TEXT[];

enum {
    PAKE_GATE_CODE_MAX = 32,      /* a peer's error code, as received (capped) */
    PAKE_GATE_MESSAGE_MAX = 1024, /* a peer's error message: docs/protocol.md §2 */
};

typedef struct pake_gate {
    pake_session s;
    pake_gate_state state;
    int64_t deadline_ms;
    const char *reason; /* FAILED: why, human text, no secrets */
    /* PEER_ERROR: what the peer said, raw (escape before showing) */
    char peer_code[PAKE_GATE_CODE_MAX + 1];
    char peer_message[PAKE_GATE_MESSAGE_MAX + 1];
    bool error_pending; /* FAILED: the `error` is still to be taken */
} pake_gate;

/* Starts the run when the channel opens, with a fresh scalar and sid. The
 * config's fingerprints may be NULL (the SDP had none, or two): the gate
 * then fails at once. Returns the state (RUNNING, or FAILED). */
pake_gate_state pake_gate_start(pake_gate *g, const pake_session_config *c, int64_t now_ms);
/* The same with a given scalar and sid (tests, vectors). */
pake_gate_state pake_gate_start_with(pake_gate *g, const pake_session_config *c,
                                     const uint8_t y[CPACE_SCALAR_LEN],
                                     const uint8_t sid[PAKE_SID_LEN], int64_t now_ms);
/* One message from the channel. Returns the state after it; once the gate
 * is not RUNNING, further input is ignored (the state is returned as is). */
pake_gate_state pake_gate_feed(pake_gate *g, const uint8_t *data, size_t len, bool binary);
/* The clock: at or past the deadline a RUNNING gate fails (LOST when our
 * tag is not out yet). */
pake_gate_state pake_gate_tick(pake_gate *g, int64_t now_ms);
/* The channel closed, or the connection failed, before the run was done:
 * a RUNNING gate ends with `reason`, with nothing to send. Once our tag is
 * out, a run cut short counts as a failed one (FAILED), like the web app's:
 * whoever holds a guess of the password has tested it against our tag, so
 * a run dropped on purpose must not buy a fresh attempt. Before that it is
 * LOST (see above). */
pake_gate_state pake_gate_abort(pake_gate *g, const char *reason);
/* The next text to send (PAKE messages, or the AUTH_FAILED error), valid
 * until the next call on g. */
bool pake_gate_next_output(pake_gate *g, const char **text, size_t *len);
/* The 6-digit code once OPEN, else NULL. */
const char *pake_gate_sas(const pake_gate *g);
/* This side has sent its pake-confirm (the run could have tested a guess). */
bool pake_gate_tag_sent(const pake_gate *g);
/* Wipes everything (the session's secrets went at its end already). */
void pake_gate_cleanup(pake_gate *g);

#endif
