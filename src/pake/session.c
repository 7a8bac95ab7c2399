/* session.c: the authentication state machine of session.h. */
#include "session.h"

#include <sodium.h>
#include <string.h>

static const cpace_str NO_AD = {NULL, 0};

static void wipe_secrets(pake_session *s)
{
    sodium_memzero(s->prs, sizeof s->prs);
    sodium_memzero(s->y, sizeof s->y);
    sodium_memzero(s->mac_key, sizeof s->mac_key);
}

static int fail(pake_session *s, int err, const char *reason)
{
    s->state = PAKE_FAILED;
    s->reason = reason;
    wipe_secrets(s);
    sodium_memzero(s->sas, sizeof s->sas);
    s->out_head = s->out_count = 0; /* nothing of a failed run is sent */
    return err;
}

static int queue(pake_session *s, const pake_msg *m)
{
    if (s->out_count == 2) return fail(s, PAKE_E_ARG, "internal error");
    unsigned slot = (s->out_head + s->out_count) % 2;
    int n = pake_msg_encode(s->out[slot], sizeof s->out[slot], m);
    if (n < 0) return fail(s, PAKE_E_ARG, "internal error");
    s->out_len[slot] = (size_t)n;
    s->out_count++;
    return PAKE_OK;
}

static bool canonical(const char *fp)
{
    char again[PAKE_FP_MAX];
    /* a canonical fingerprint has no colons, so it is checked by shape */
    if (!fp) return false;
    size_t len = strnlen(fp, PAKE_FP_MAX);
    if (len == PAKE_FP_MAX || len < 9) return false;
    size_t hex_len = len - 8;
    if (memcmp(fp, "sha-256 ", 8) && memcmp(fp, "sha-384 ", 8) && memcmp(fp, "sha-512 ", 8))
        return false;
    if (hex_len != 64 && hex_len != 96 && hex_len != 128)
        return false; /* the normaliser pairs it with the name */
    /* rebuild "name AB:CD:…" and normalise it: the result must be fp */
    char line[8 + 3 * 64];
    memcpy(line, fp, 8);
    size_t at = 8;
    for (size_t i = 0; i < hex_len; i += 2) {
        if (i) line[at++] = ':';
        line[at++] = fp[8 + i], line[at++] = fp[8 + i + 1];
    }
    int n = pake_fingerprint_canonical(again, line, at);
    return n > 0 && (size_t)n == len && memcmp(again, fp, len) == 0;
}

int pake_session_init(pake_session *s, const pake_session_config *c,
                      const uint8_t y[CPACE_SCALAR_LEN], const uint8_t sid[PAKE_SID_LEN])
{
    if (!s) return PAKE_E_ARG;
    memset(s, 0, sizeof *s);
    s->state = PAKE_FAILED;
    s->reason = "invalid configuration";
    if (!c || !c->prs || !y || (c->role != PAKE_OFFERER && c->role != PAKE_ANSWERER) ||
        (c->role == PAKE_OFFERER && !sid) || c->room.len < 1 || c->room.len > PAKE_ROOM_MAX ||
        c->offerer_id.len < 1 || c->offerer_id.len > PAKE_PEER_ID_MAX || c->answerer_id.len < 1 ||
        c->answerer_id.len > PAKE_PEER_ID_MAX || !canonical(c->fp_offerer) ||
        !canonical(c->fp_answerer))
        return PAKE_E_ARG;
    s->role = c->role;
    memcpy(s->prs, c->prs, PAKE_PRS_LEN);
    s->ci_len = pake_ci(s->ci, sizeof s->ci, c->room, c->offerer_id, c->answerer_id);
    if (s->ci_len > sizeof s->ci) return fail(s, PAKE_E_ARG, "invalid configuration");
    /* canonical() measured both: shorter than PAKE_FP_MAX, the fields' size */
    memcpy(s->fp_offerer, c->fp_offerer, strlen(c->fp_offerer) + 1);
    memcpy(s->fp_answerer, c->fp_answerer, strlen(c->fp_answerer) + 1);
    memcpy(s->y, y, CPACE_SCALAR_LEN);
    s->reason = NULL;
    if (s->role == PAKE_ANSWERER) {
        s->state = PAKE_WAIT_START; /* it only answers (docs/protocol.md §5.1) */
        return PAKE_OK;
    }
    /* the opener speaks first: pake-start with its commitment to Ya, bound
     * before it sees Yb (docs/authentication.md §5) */
    memcpy(s->sid, sid, PAKE_SID_LEN);
    cpace_str ssid = {s->sid, PAKE_SID_LEN}, ci = {s->ci, s->ci_len}, prs = {s->prs, PAKE_PRS_LEN};
    if (cpace_share(s->ya, s->y, prs, ci, ssid) != CPACE_OK)
        return fail(s, PAKE_E_ARG, "could not compute a share");
    pake_commit(s->commit, ssid, s->ya);
    pake_msg m = {.t = PAKE_MSG_START};
    memcpy(m.sid, s->sid, PAKE_SID_LEN);
    memcpy(m.commit, s->commit, PAKE_COMMIT_LEN);
    s->state = PAKE_WAIT_SHARE;
    return queue(s, &m);
}

int pake_session_init_random(pake_session *s, const pake_session_config *c)
{
    uint8_t y[CPACE_SCALAR_LEN], sid[PAKE_SID_LEN];
    cpace_sample_scalar(y);
    randombytes_buf(sid, sizeof sid);
    int r = pake_session_init(s, c, y, sid);
    sodium_memzero(y, sizeof y);
    return r;
}

void pake_session_cleanup(pake_session *s)
{
    if (s) sodium_memzero(s, sizeof *s);
}

/* Both shares are known: K, ISK, then mac_key and the SAS; ISK is wiped. */
static int derive(pake_session *s)
{
    uint8_t isk[CPACE_ISK_LEN];
    cpace_str sid = {s->sid, PAKE_SID_LEN}, ya = {s->ya, CPACE_POINT_LEN},
              yb = {s->yb, CPACE_POINT_LEN};
    int r = cpace_finish(isk, CPACE_IR, s->role == PAKE_OFFERER ? CPACE_A : CPACE_B, s->y, sid, ya,
                         NO_AD, yb, NO_AD);
    sodium_memzero(s->y, sizeof s->y);     /* a scalar serves one run */
    sodium_memzero(s->prs, sizeof s->prs); /* and the PRS is not needed after K */
    if (r != CPACE_OK) return fail(s, PAKE_E_AUTH, "the peer's share is invalid");
    pake_mac_key(s->mac_key, sid, isk);
    r = pake_sas_digits(s->sas, isk);
    sodium_memzero(isk, sizeof isk);
    if (r != PAKE_OK) return fail(s, PAKE_E_AUTH, "internal error");
    return PAKE_OK;
}

static int own_tag(pake_session *s)
{
    pake_msg m = {.t = PAKE_MSG_CONFIRM};
    const uint8_t *mine = s->role == PAKE_OFFERER ? s->ya : s->yb;
    pake_confirm_tag(m.mac, s->mac_key, (cpace_str){mine, CPACE_POINT_LEN}, NO_AD, s->fp_offerer,
                     s->fp_answerer);
    s->tag_sent = true;
    return queue(s, &m);
}

int pake_session_feed(pake_session *s, const uint8_t *text, size_t len)
{
    if (!s || !text || s->state == PAKE_DONE || s->state == PAKE_FAILED) return PAKE_E_ARG;
    pake_msg m;
    int r = pake_msg_decode(text, len, &m);
    switch (r) {
    case PAKE_OK:
        break;
    case PAKE_E_NOT_PAKE:
    case PAKE_E_TOO_BIG:
        return fail(s, PAKE_E_NOT_PAKE, "the peer did not authenticate");
    case PAKE_E_SUITE:
        return fail(s, PAKE_E_AUTH, "the peer uses another authentication suite");
    case PAKE_E_NOMEM:
        return fail(s, PAKE_E_NOMEM, "out of memory");
    default:
        return fail(s, PAKE_E_AUTH, "malformed authentication message");
    }
    cpace_str ci = {s->ci, s->ci_len}, prs = {s->prs, PAKE_PRS_LEN};
    if (s->role == PAKE_ANSWERER && s->state == PAKE_WAIT_START && m.t == PAKE_MSG_START) {
        memcpy(s->sid, m.sid, PAKE_SID_LEN);
        memcpy(s->commit, m.commit, PAKE_COMMIT_LEN);
        if (cpace_share(s->yb, s->y, prs, ci, (cpace_str){s->sid, PAKE_SID_LEN}) != CPACE_OK)
            return fail(s, PAKE_E_AUTH, "could not compute a share");
        pake_msg out = {.t = PAKE_MSG_SHARE};
        memcpy(out.y, s->yb, CPACE_POINT_LEN);
        s->state = PAKE_WAIT_SHARE;
        return queue(s, &out);
    }
    if (s->role == PAKE_OFFERER && s->state == PAKE_WAIT_SHARE && m.t == PAKE_MSG_SHARE) {
        memcpy(s->yb, m.y, CPACE_POINT_LEN);
        if ((r = derive(s)) != PAKE_OK) return r;
        pake_msg out = {.t = PAKE_MSG_SHARE};
        memcpy(out.y, s->ya, CPACE_POINT_LEN);
        if ((r = queue(s, &out)) != PAKE_OK || (r = own_tag(s)) != PAKE_OK) return r;
        s->state = PAKE_WAIT_CONFIRM;
        return PAKE_OK;
    }
    if (s->role == PAKE_ANSWERER && s->state == PAKE_WAIT_SHARE && m.t == PAKE_MSG_SHARE) {
        memcpy(s->ya, m.y, CPACE_POINT_LEN);
        if (!pake_commit_check(s->commit, (cpace_str){s->sid, PAKE_SID_LEN}, s->ya))
            return fail(s, PAKE_E_AUTH, "the peer's share does not match its commitment");
        if ((r = derive(s)) != PAKE_OK) return r;
        s->state = PAKE_WAIT_CONFIRM;
        return PAKE_OK;
    }
    if (s->state == PAKE_WAIT_CONFIRM && m.t == PAKE_MSG_CONFIRM) {
        const uint8_t *theirs = s->role == PAKE_OFFERER ? s->yb : s->ya;
        if (!pake_confirm_check(m.mac, s->mac_key, (cpace_str){theirs, CPACE_POINT_LEN}, NO_AD,
                                s->fp_offerer, s->fp_answerer))
            return fail(s, PAKE_E_AUTH,
                        "key confirmation failed: the connection may be intercepted, or the "
                        "other side used a different password");
        if (s->role == PAKE_ANSWERER && (r = own_tag(s)) != PAKE_OK) return r;
        s->state = PAKE_DONE;
        sodium_memzero(s->mac_key, sizeof s->mac_key);
        sodium_memzero(s->prs, sizeof s->prs);
        return PAKE_OK;
    }
    return fail(s, PAKE_E_AUTH, "unexpected authentication message");
}

bool pake_session_next_output(pake_session *s, const char **text, size_t *len)
{
    if (!s || !s->out_count) return false;
    *text = s->out[s->out_head];
    *len = s->out_len[s->out_head];
    s->out_head = (s->out_head + 1) % 2;
    s->out_count--;
    return true;
}

const char *pake_session_sas(const pake_session *s)
{
    return s && s->state == PAKE_DONE ? s->sas : NULL;
}
