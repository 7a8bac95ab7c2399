/* gate.c: the first-message rule and the deadline around one PAKE run
 * (gate.h). */
#include "gate.h"

#include <sodium.h>
#include <string.h>

#include "base/limits.h"
#include "transfer/codec.h"

const char PAKE_GATE_ERROR_TEXT[] =
    "{\"t\":\"error\",\"code\":\"AUTH_FAILED\",\"message\":\"authentication failed\"}";

static pake_gate_state gate_fail(pake_gate *g, const char *reason)
{
    if (g->s.state != PAKE_FAILED) {
        /* a run cut short (deadline, a binary message) ends as a failed one:
         * its secrets are wiped and nothing it queued is sent */
        pake_session_cleanup(&g->s);
        g->s.state = PAKE_FAILED;
    }
    g->state = PAKE_GATE_FAILED;
    g->reason = reason;
    g->error_pending = true;
    return g->state;
}

pake_gate_state pake_gate_start_with(pake_gate *g, const pake_session_config *c,
                                     const uint8_t y[CPACE_SCALAR_LEN],
                                     const uint8_t sid[PAKE_SID_LEN], int64_t now_ms)
{
    memset(g, 0, sizeof *g);
    g->state = PAKE_GATE_RUNNING;
    g->deadline_ms = now_ms + PD_AUTH_DEADLINE_MS;
    if (!c || !c->fp_offerer || !c->fp_answerer) {
        pake_session_cleanup(&g->s);
        g->s.state = PAKE_FAILED;
        return gate_fail(g, "no single usable DTLS fingerprint in the SDP");
    }
    int r = y ? pake_session_init(&g->s, c, y, sid) : pake_session_init_random(&g->s, c);
    if (r != PAKE_OK) return gate_fail(g, g->s.reason ? g->s.reason : "invalid configuration");
    return g->state;
}

pake_gate_state pake_gate_start(pake_gate *g, const pake_session_config *c, int64_t now_ms)
{
    return pake_gate_start_with(g, c, NULL, NULL, now_ms);
}

static void copy_capped(char *out, size_t cap, const char *in, size_t len)
{
    if (len > cap) {
        len = cap;
        /* not in the middle of a UTF-8 sequence: back to a lead byte */
        while (len > 0 && ((unsigned char)in[len] & 0xC0) == 0x80)
            len--;
    }
    memcpy(out, in, len);
    out[len] = 0;
}

/* Not a PAKE message: the peer's `error` ends the run with its message;
 * anything else (hello, offer, ...) is a peer that did not authenticate. */
static pake_gate_state not_pake(pake_gate *g, const uint8_t *text, size_t len)
{
    xfer_msg m;
    xfer_code code;
    /* 16 KiB: what every endpoint accepts (docs/protocol.md §2); an error
     * is at most 1024 characters of text */
    if (len > 16384 || xfer_msg_decode(text, len, &m, &code) != XFER_OK)
        return gate_fail(g, "the peer did not authenticate");
    if (m.t != XFER_ERROR) {
        xfer_msg_cleanup(&m);
        return gate_fail(g, "the peer did not authenticate (it sent another message first)");
    }
    const char *name = xfer_code_name(m.code);
    copy_capped(g->peer_code, PAKE_GATE_CODE_MAX, name, strlen(name));
    copy_capped(g->peer_message, PAKE_GATE_MESSAGE_MAX, m.message ? m.message : "",
                m.message ? m.message_len : 0);
    xfer_msg_cleanup(&m);
    g->state = PAKE_GATE_PEER_ERROR;
    g->reason = "the peer ended the authentication";
    return g->state;
}

pake_gate_state pake_gate_feed(pake_gate *g, const uint8_t *data, size_t len, bool binary)
{
    if (!g || g->state != PAKE_GATE_RUNNING) return g ? g->state : PAKE_GATE_FAILED;
    if (binary || !data) return gate_fail(g, "the peer sent data before authenticating");
    int r = pake_session_feed(&g->s, data, len);
    if (r == PAKE_E_NOT_PAKE) return not_pake(g, data, len);
    if (r != PAKE_OK) return gate_fail(g, g->s.reason ? g->s.reason : "authentication failed");
    if (g->s.state == PAKE_DONE) g->state = PAKE_GATE_OPEN;
    return g->state;
}

/* The run ended without a result before our tag went out (gate.h). */
static pake_gate_state gate_lost(pake_gate *g, const char *reason)
{
    gate_fail(g, reason);
    g->state = PAKE_GATE_LOST;
    g->error_pending = false; /* a drop: nothing to say, the next connection runs anew */
    return g->state;
}

pake_gate_state pake_gate_tick(pake_gate *g, int64_t now_ms)
{
    if (!g) return PAKE_GATE_FAILED;
    if (g->state == PAKE_GATE_RUNNING && now_ms >= g->deadline_ms) {
        if (!g->s.tag_sent) return gate_lost(g, "the peer's messages did not arrive in time");
        return gate_fail(g, "no authentication within the deadline");
    }
    return g->state;
}

pake_gate_state pake_gate_abort(pake_gate *g, const char *reason)
{
    if (!g) return PAKE_GATE_FAILED;
    if (g->state != PAKE_GATE_RUNNING) return g->state;
    reason = reason ? reason : "the connection ended before authentication";
    if (!g->s.tag_sent) return gate_lost(g, reason);
    gate_fail(g, reason);
    g->error_pending = false; /* no channel to say it on */
    return g->state;
}

bool pake_gate_tag_sent(const pake_gate *g)
{
    return g && g->s.tag_sent;
}

bool pake_gate_next_output(pake_gate *g, const char **text, size_t *len)
{
    if (!g || !text || !len) return false;
    if (g->state == PAKE_GATE_FAILED) {
        if (!g->error_pending) return false;
        g->error_pending = false;
        *text = PAKE_GATE_ERROR_TEXT;
        *len = sizeof PAKE_GATE_ERROR_TEXT - 1;
        return true;
    }
    if (g->state == PAKE_GATE_PEER_ERROR) return false;
    return pake_session_next_output(&g->s, text, len);
}

const char *pake_gate_sas(const pake_gate *g)
{
    return g && g->state == PAKE_GATE_OPEN ? pake_session_sas(&g->s) : NULL;
}

void pake_gate_cleanup(pake_gate *g)
{
    if (g) sodium_memzero(g, sizeof *g);
}
