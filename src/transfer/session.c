/* session.c: the transfer engine, one xfer_session per data channel
 * (docs/protocol.md §5). A line-by-line port of web/src/protocol/session.ts
 * so that, driven the same way, both produce the same messages in the same
 * order (the transcripts of test-vectors.json check it).
 *
 * Where TS throws a ProtocolError, a handler here calls fail() and returns
 * at once: the session is then dead and ignores everything but output and
 * event draining. Outputs and events are FIFO queues the caller drains.
 *
 * Block digests (§5.8): session.ts hands each 4 MiB block to WebCrypto as a
 * 'hash' event and waits in the states 'ending' (sender) and 'checking'
 * (receiver) until the results are back. Here digest.c hashes each block
 * inline, so the digest is complete whenever TS would find it settled:
 * the waits take no time and the states are left out. web/src/protocol/
 * sim.ts answers hash jobs synchronously, which is why both engines write
 * the same transcripts. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"
#include "transfer/codec.h"
#include "transfer/digest.h"
#include "transfer/incoming_internal.h"
#include "transfer/merge.h"
#include "transfer/paths.h"
#include "transfer/session.h"

/* ---------------- sender state, per session ---------------- */

typedef enum out_status {
    OUT_SKIPPED,
    OUT_QUEUED,
    OUT_PREFIX,
    OUT_SENDING,
    OUT_ENDED,
    OUT_VERIFIED,
    OUT_FAILED,
} out_status;

typedef struct out_file {
    uint32_t id;
    uint64_t size;
    const char *name;
    out_status status;
    uint64_t resume_at;
    bool has_sha;
    char resume_sha[XFER_SHA_HEX_LEN + 1];
    uint64_t prefix_pos, start, sent, acked;
    xfer_digest *d; /* created when the file starts, freed once its end is sent */
} out_file;

typedef enum out_state { O_OFFERED, O_ACTIVE, O_DONE, O_DECLINED, O_CANCELLED, O_FAILED } out_state;

typedef struct outgoing {
    char xfer[XFER_ID_LEN + 1];
    xfer_file_entry *entries;
    out_file *files;
    size_t n;
    out_state state;
    size_t cur;
    bool pending;
    xfer_read pending_req;
    uint64_t inflight; /* sent but not acknowledged, all files */
    /* Read but not sent: the tail of the last read of the file being sent,
     * shorter than a chunk; it opens the next data message (one file sends
     * at a time, so the next read starts at its sent + carry_len). */
    uint8_t *carry;
    size_t carry_len;
    uint16_t tag; /* §5.11: offers we sent on this session before this one */
} outgoing;

static void outgoing_free(outgoing *o)
{
    if (!o) return;
    if (o->files)
        for (size_t i = 0; i < o->n; i++)
            xfer_digest_destroy(o->files[i].d);
    free(o->files);
    free(o->carry);
    xfer_entries_free(o->entries, o->entries ? o->n : 0);
    free(o);
}

/* ---------------- queues ---------------- */

typedef struct out_msg {
    struct out_msg *next;
    bool binary;
    size_t len;
    uint8_t data[];
} out_msg;

typedef struct ev_node {
    struct ev_node *next;
    xfer_event ev;
    char *message;
    uint32_t *ids;
} ev_node;

typedef enum inc_state { INC_NONE, INC_OFFERED, INC_ACTIVE } inc_state;

struct xfer_session {
    uint64_t max_msg, win, pref_msg, send_limit, read_block;
    bool resume_cap, blocks_cap, text_cap;
    bool text;                         /* both hellos list XFER_CAP_TEXT (§5.9) */
    char name[XFER_MAX_PEER_NAME + 1]; /* ours, "" for none */
    bool has_peer_name;
    char peer_name[XFER_MAX_PEER_NAME + 1];
    size_t peer_name_len;
    /* ids of our texts not yet acknowledged (§5.9) */
    char text_pending[XFER_MAX_TEXT_PENDING][XFER_ID_LEN + 1];
    size_t text_pending_len;
    bool allow_hidden; /* xfer_options.allow_hidden */
    bool blocks;       /* both hellos list XFER_CAP_BLOCKS: block digests (§5.8) */
    bool have_peer;
    uint64_t peer_max_msg, peer_win;
    uint64_t msg_size;
    outgoing *out;
    xfer_incoming *inc;
    inc_state inc_state;
    xfer_msg pending_offer; /* owned while INC_OFFERED */
    bool have_pending_offer;
    char pending_xfer[XFER_ID_LEN + 1];
    int64_t in_cur;
    bool drop_data; /* after a local cancel/failure: stale data still in flight */
    int64_t drop_file;
    char (*stale)[XFER_ID_LEN + 1];
    size_t stale_len, stale_cap;
    out_msg *oq_head, *oq_tail, *oq_last;
    ev_node *eq_head, *eq_tail, *eq_last;
    bool dead;
    bool oom; /* an allocation failed: the session fails INTERNAL */
    pd_buf scratch;
    /* lanes (§5.10): ours (hello.lanes), the agreed L, the lanes opened
     * (bit k = lane k), and the merge, created when L > 0 */
    uint32_t lanes_opt, lanes;
    unsigned lanes_open;
    xfer_merge *merge;
    /* lane-resend (§5.11): ours, agreed (both hellos and L > 0); the offers
     * we sent and the peer's we handled, mod 65536 (the next tag each
     * way); the tag of the peer's offer pending or being received */
    bool resend_cap, resend;
    uint16_t offers_out, offers_in;
    uint16_t pending_tag, in_tag;
    /* something changed what held DATA may be (a file started, ended or
     * failed, a transfer ended): the merge looks at all it holds again */
    bool sweep_due;
};

#define STALE_MAX 4096 /* transfer ids remembered per session; oldest forgotten */

static void stale_add(xfer_session *s, const char *xfer)
{
    for (size_t i = 0; i < s->stale_len; i++)
        if (!strcmp(s->stale[i], xfer)) return;
    if (s->stale_len == STALE_MAX) {
        memmove(s->stale, s->stale + 1, (STALE_MAX - 1) * sizeof *s->stale);
        s->stale_len--;
    }
    if (s->stale_len == s->stale_cap) {
        size_t cap = s->stale_cap ? s->stale_cap * 2 : 8;
        void *n = realloc(s->stale, cap * sizeof *s->stale);
        if (!n) {
            s->oom = true;
            return;
        }
        s->stale = n;
        s->stale_cap = cap;
    }
    memcpy(s->stale[s->stale_len++], xfer, XFER_ID_LEN + 1);
}

static bool stale_has(const xfer_session *s, const char *xfer)
{
    for (size_t i = 0; i < s->stale_len; i++)
        if (!strcmp(s->stale[i], xfer)) return true;
    return false;
}

static void stale_delete(xfer_session *s, const char *xfer)
{
    for (size_t i = 0; i < s->stale_len; i++)
        if (!strcmp(s->stale[i], xfer)) {
            memmove(s->stale + i, s->stale + i + 1, (s->stale_len - i - 1) * sizeof *s->stale);
            s->stale_len--;
            return;
        }
}

static void push_out(xfer_session *s, bool binary, const uint8_t *hdr, size_t hdr_len,
                     const uint8_t *data, size_t len)
{
    out_msg *m = malloc(sizeof *m + hdr_len + len);
    if (!m) {
        s->oom = true;
        return;
    }
    m->next = NULL;
    m->binary = binary;
    m->len = hdr_len + len;
    if (hdr_len) memcpy(m->data, hdr, hdr_len);
    if (len) memcpy(m->data + hdr_len, data, len);
    if (s->oq_tail)
        s->oq_tail->next = m;
    else
        s->oq_head = m;
    s->oq_tail = m;
}

static void send_msg(xfer_session *s, const xfer_msg *m)
{
    s->scratch.len = 0;
    if (xfer_msg_encode(&s->scratch, m) != XFER_OK) {
        s->oom = true;
        return;
    }
    push_out(s, false, NULL, 0, s->scratch.data, s->scratch.len);
}

static ev_node *emit(xfer_session *s, xfer_event_type type, bool out, const char *xfer)
{
    ev_node *e = calloc(1, sizeof *e);
    if (!e) {
        s->oom = true;
        return NULL;
    }
    e->ev.type = type;
    e->ev.out = out;
    if (xfer) memcpy(e->ev.xfer, xfer, XFER_ID_LEN + 1);
    if (s->eq_tail)
        s->eq_tail->next = e;
    else
        s->eq_head = e;
    s->eq_tail = e;
    return e;
}

static void ev_set_message(xfer_session *s, ev_node *e, const char *msg)
{
    if (!e) return;
    e->message = xfer_dup_len(msg ? msg : "", msg ? strlen(msg) : 0);
    if (!e->message) s->oom = true;
    e->ev.message = e->message ? e->message : "";
}

static void emit_file_done(xfer_session *s, bool out, const char *xfer, uint32_t file, bool ok,
                           xfer_code code, const char *message)
{
    ev_node *e = emit(s, XFER_EV_FILE_DONE, out, xfer);
    if (!e) return;
    e->ev.file = file;
    e->ev.ok = ok;
    if (!ok) {
        e->ev.code = code;
        ev_set_message(s, e, message);
    }
}

static void emit_progress(xfer_session *s, bool out, const char *xfer, uint32_t file, uint64_t b)
{
    ev_node *e = emit(s, XFER_EV_PROGRESS, out, xfer);
    if (!e) return;
    e->ev.file = file;
    e->ev.bytes = b;
}

static void emit_close(xfer_session *s, const char *xfer, uint32_t file, bool ok)
{
    ev_node *e = emit(s, XFER_EV_CLOSE, false, xfer);
    if (!e) return;
    e->ev.file = file;
    e->ev.ok = ok;
}

static void send_simple(xfer_session *s, xfer_type t, const char *xfer)
{
    xfer_msg m = {.t = t};
    memcpy(m.xfer, xfer, XFER_ID_LEN + 1);
    send_msg(s, &m);
}

static void send_file_msg(xfer_session *s, xfer_type t, const char *xfer, uint32_t file,
                          uint64_t num, const char *sha)
{
    xfer_msg m = {.t = t, .file = file, .offset = num, .bytes = num};
    memcpy(m.xfer, xfer, XFER_ID_LEN + 1);
    if (sha) memcpy(m.sha256, sha, XFER_SHA_HEX_LEN + 1);
    send_msg(s, &m);
}

static void send_error(xfer_session *s, xfer_code code, const char *message, const char *xfer,
                       int64_t file)
{
    xfer_msg m = {.t = XFER_ERROR, .code = code};
    m.message = (char *)message;
    m.message_len = strlen(message);
    if (xfer) memcpy(m.xfer, xfer, XFER_ID_LEN + 1);
    m.has_file = file >= 0;
    m.file = file >= 0 ? (uint32_t)file : 0;
    send_msg(s, &m);
}

static void fail(xfer_session *s, xfer_code code, const char *message)
{
    if (s->dead) return;
    send_error(s, code, message, NULL, -1);
    ev_node *e = emit(s, XFER_EV_FATAL, false, NULL);
    if (e) {
        e->ev.code = code;
        ev_set_message(s, e, message);
    }
    s->dead = true;
}

static void lane_pump(xfer_session *s);   /* lanes (§5.10), below */
static void resend_pump(xfer_session *s); /* lane-resend (§5.11), below */

/* An allocation failed somewhere in a step: end the session cleanly (§8
 * INTERNAL) rather than go on with state that may be missing a piece. */
static void check_oom(xfer_session *s)
{
    if (s->oom && !s->dead) {
        s->oom = false;
        fail(s, XFER_CODE_INTERNAL, "out of memory");
    }
}

/* ---------------- create / destroy / plumbing ---------------- */

xfer_session *xfer_session_create(const xfer_options *opt)
{
    xfer_options o = opt ? *opt : (xfer_options){0};
    xfer_session *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->max_msg = o.max_msg ? o.max_msg : 262144;
    s->win = o.win ? o.win : XFER_DEFAULT_WINDOW;
    s->pref_msg = o.msg_size ? o.msg_size : XFER_DEFAULT_MSG_SIZE;
    s->send_limit = o.send_limit ? o.send_limit : UINT64_MAX;
    s->read_block = o.read_block ? o.read_block : (1u << 20);
    s->resume_cap = !o.no_resume_cap;
    s->blocks_cap = !o.no_blocks_cap;
    s->allow_hidden = o.allow_hidden;
    s->text_cap = !o.no_text_cap;
    if (o.name) xfer_peer_text_clean(o.name, strlen(o.name), s->name); /* "" for none */
    s->lanes_opt = o.lanes;
    s->resend_cap = o.lane_resend;
    s->in_cur = -1;
    s->drop_file = -1;
    /* a control message is at most the peer's maxMsg (<= 2^32-1); ours are
     * checked against it before they are sent */
    pd_buf_init(&s->scratch, (size_t)0xFFFFFFFFu);
    if (s->max_msg < XFER_MIN_MAX_MSG || s->win < s->max_msg || s->max_msg > 0xFFFFFFFFu ||
        o.lanes > XFER_MAX_LANES) {
        free(s);
        return NULL;
    }
    return s;
}

void xfer_session_destroy(xfer_session *s)
{
    if (!s) return;
    for (out_msg *m = s->oq_head, *n; m; m = n) {
        n = m->next;
        free(m);
    }
    free(s->oq_last);
    for (ev_node *e = s->eq_head, *n; e; e = n) {
        n = e->next;
        free(e->message);
        free(e->ids);
        free(e);
    }
    if (s->eq_last) {
        free(s->eq_last->message);
        free(s->eq_last->ids);
        free(s->eq_last);
    }
    outgoing_free(s->out);
    xfer_merge_destroy(s->merge);
    if (s->have_pending_offer) xfer_msg_cleanup(&s->pending_offer);
    free(s->stale);
    pd_buf_reset(&s->scratch);
    free(s);
}

bool xfer_session_next_output(xfer_session *s, const uint8_t **data, size_t *len, bool *binary)
{
    free(s->oq_last);
    s->oq_last = NULL;
    out_msg *m = s->oq_head;
    if (!m) return false;
    s->oq_head = m->next;
    if (!s->oq_head) s->oq_tail = NULL;
    s->oq_last = m;
    *data = m->data;
    *len = m->len;
    *binary = m->binary;
    return true;
}

bool xfer_session_next_event(xfer_session *s, xfer_event *ev)
{
    if (s->eq_last) {
        free(s->eq_last->message);
        free(s->eq_last->ids);
        free(s->eq_last);
        s->eq_last = NULL;
    }
    ev_node *e = s->eq_head;
    if (!e) return false;
    s->eq_head = e->next;
    if (!s->eq_head) s->eq_tail = NULL;
    s->eq_last = e;
    *ev = e->ev;
    return true;
}

bool xfer_session_ready(const xfer_session *s)
{
    return s->have_peer && !s->dead;
}
bool xfer_session_closed_state(const xfer_session *s)
{
    return s->dead;
}
uint64_t xfer_session_msg_size(const xfer_session *s)
{
    return s->msg_size;
}
bool xfer_session_block_digests(const xfer_session *s)
{
    return s->blocks;
}

void xfer_session_open(xfer_session *s)
{
    xfer_msg m = {.t = XFER_HELLO, .v = XFER_VERSION, .max_msg = s->max_msg, .win = s->win};
    /* this order, as session.ts: the hello is compared byte for byte */
    if (s->resume_cap) strcpy(m.caps[m.caps_len++], XFER_CAP_RESUME);
    if (s->blocks_cap) strcpy(m.caps[m.caps_len++], XFER_CAP_BLOCKS);
    if (s->text_cap) strcpy(m.caps[m.caps_len++], XFER_CAP_TEXT);
    if (s->resend_cap) strcpy(m.caps[m.caps_len++], XFER_CAP_LANE_RESEND);
    m.lanes = s->lanes_opt;
    if (s->name[0]) {
        m.has_name = true;
        m.name_len = strlen(s->name);
        memcpy(m.name, s->name, m.name_len + 1);
    }
    send_msg(s, &m);
    check_oom(s);
}

void xfer_session_shutdown(xfer_session *s)
{
    s->dead = true;
    if (s->inc)
        for (size_t i = 0; i < s->inc->n; i++)
            if (s->inc->files[i].status == IN_ACCEPTED || s->inc->files[i].status == IN_RECEIVING)
                s->inc->files[i].status = IN_IDLE;
}

static void peer_fatal(xfer_session *s, xfer_code code, const char *message)
{
    ev_node *e = emit(s, XFER_EV_FATAL, false, NULL);
    if (e) {
        e->ev.code = code;
        e->ev.by_peer = true;
        ev_set_message(s, e, message);
    }
    s->dead = true;
}

/* ================= sender ================= */

static outgoing *out_for(xfer_session *s, const char *xfer)
{
    outgoing *o = s->out;
    return o && !strcmp(o->xfer, xfer) && (o->state == O_OFFERED || o->state == O_ACTIVE) ? o
                                                                                          : NULL;
}

int xfer_session_offer(xfer_session *s, const char *xfer, const xfer_file_entry *files, size_t n)
{
    if (!s || !xfer || !files || n == 0 || n > XFER_MAX_FILES) return XFER_E_ARG;
    if (strlen(xfer) != XFER_ID_LEN) return XFER_E_ARG;
    for (size_t i = 0; i < XFER_ID_LEN; i++)
        if (!((xfer[i] >= '0' && xfer[i] <= '9') || (xfer[i] >= 'a' && xfer[i] <= 'f')))
            return XFER_E_ARG;
    for (size_t i = 0; i < n; i++)
        if (files[i].id != i || files[i].size > XFER_MAX_SIZE) return XFER_E_ARG;
    if (!xfer_session_ready(s)) return XFER_E_STATE;
    if (s->out && (s->out->state == O_OFFERED || s->out->state == O_ACTIVE)) return XFER_E_STATE;
    xfer_msg m = {.t = XFER_OFFER, .files = (xfer_file_entry *)files, .files_len = n};
    memcpy(m.xfer, xfer, XFER_ID_LEN + 1);
    s->scratch.len = 0;
    if (xfer_msg_encode(&s->scratch, &m) != XFER_OK) return XFER_E_NOMEM;
    if (s->scratch.len > s->peer_max_msg) return XFER_E_TOO_BIG;
    outgoing *o = calloc(1, sizeof *o);
    if (!o) return XFER_E_NOMEM;
    memcpy(o->xfer, xfer, XFER_ID_LEN + 1);
    o->n = n;
    o->state = O_OFFERED;
    o->cur = 0;
    o->entries = xfer_entries_copy(files, n);
    o->files = calloc(n, sizeof *o->files);
    if (!o->entries || !o->files) goto nomem;
    for (size_t i = 0; i < n; i++) {
        out_file *f = &o->files[i];
        f->id = (uint32_t)i;
        f->size = files[i].size;
        f->name = o->entries[i].name;
        f->status = OUT_SKIPPED;
    }
    push_out(s, false, NULL, 0, s->scratch.data, s->scratch.len);
    if (s->oom) {
        s->oom = false;
        goto nomem;
    }
    outgoing_free(s->out);
    o->tag = s->offers_out++; /* wraps at 65536 (§5.11) */
    s->out = o;
    return XFER_OK;
nomem:
    outgoing_free(o);
    return XFER_E_NOMEM;
}

static void check_out_done(xfer_session *s, outgoing *o)
{
    if (o->state != O_ACTIVE || o->cur < o->n) return;
    for (size_t i = 0; i < o->n; i++) {
        out_status st = o->files[i].status;
        if (st != OUT_SKIPPED && st != OUT_VERIFIED && st != OUT_FAILED) return;
    }
    o->state = O_DONE;
    stale_add(s, o->xfer);
    emit(s, XFER_EV_TRANSFER_DONE, true, o->xfer);
}

/* f's digest from byte 0, in the session's mode; false when out of memory
 * (the session then fails INTERNAL at the end of the step). */
static bool out_digest_fresh(xfer_session *s, out_file *f)
{
    if (f->d)
        xfer_digest_reset(f->d);
    else if (!(f->d = xfer_digest_create(s->blocks))) {
        s->oom = true;
        return false;
    }
    return true;
}

static void maybe_end(xfer_session *s, outgoing *o, out_file *f)
{
    if (f->sent == f->size) {
        f->status = OUT_ENDED;
        char hex[XFER_SHA_HEX_LEN + 1];
        xfer_digest_finish(f->d); /* the short last block (§5.8) */
        xfer_digest_peek_hex(f->d, hex);
        xfer_digest_destroy(f->d); /* nothing hashes this file again in this transfer */
        f->d = NULL;
        send_file_msg(s, XFER_END, o->xfer, f->id, 0, hex);
    }
}

static void start_file(xfer_session *s, outgoing *o, out_file *f, uint64_t offset)
{
    if (offset == 0 && !out_digest_fresh(s, f)) return;
    f->start = f->sent = f->acked = offset;
    o->carry_len = 0;
    f->status = OUT_SENDING;
    send_file_msg(s, XFER_START, o->xfer, f->id, offset, NULL);
    maybe_end(s, o, f);
}

/* Moves to the next queued file: prefix check for a resume, or start at 0. */
static void advance(xfer_session *s, outgoing *o)
{
    for (;;) {
        /* o->cur is never QUEUED here (it was just sent, failed, or is the
         * first candidate right after accept), so searching from it is the
         * TS "i > cur" with cur starting at -1 */
        size_t next = o->n;
        for (size_t i = o->cur; i < o->n; i++)
            if (o->files[i].status == OUT_QUEUED) {
                next = i;
                break;
            }
        if (next == o->n) {
            o->cur = o->n;
            check_out_done(s, o);
            return;
        }
        o->cur = next;
        out_file *f = &o->files[next];
        /* a block digest proves a prefix only at a block boundary or the end (§5.8) */
        bool provable =
            !s->blocks || f->resume_at % XFER_HASH_BLOCK == 0 || f->resume_at == f->size;
        if (f->resume_at > 0 && f->resume_at <= f->size && f->has_sha && provable) {
            if (!out_digest_fresh(s, f)) return;
            f->status = OUT_PREFIX;
            f->prefix_pos = 0;
            return;
        }
        start_file(s, o, f, 0);
        if (s->oom || f->status == OUT_SENDING) return; /* else it was empty and has ended */
    }
}

static void on_accept(xfer_session *s, const xfer_msg *m)
{
    outgoing *o = out_for(s, m->xfer);
    if (!o) {
        if (stale_has(s, m->xfer)) return;
        return fail(s, XFER_CODE_PROTOCOL, "accept for no offered transfer");
    }
    if (o->state != O_OFFERED) return fail(s, XFER_CODE_PROTOCOL, "second accept");
    for (size_t i = 0; i < m->accepts_len; i++) {
        const xfer_accept_entry *a = &m->accepts[i];
        if (a->id >= o->n) return fail(s, XFER_CODE_PROTOCOL, "accept of unknown file");
        out_file *f = &o->files[a->id];
        f->status = OUT_QUEUED;
        f->resume_at = a->offset;
        f->has_sha = a->has_sha256;
        memcpy(f->resume_sha, a->sha256, sizeof f->resume_sha);
    }
    o->state = O_ACTIVE;
    ev_node *e = emit(s, XFER_EV_ACCEPTED, true, m->xfer);
    if (e) {
        e->ids = malloc((m->accepts_len ? m->accepts_len : 1) * sizeof *e->ids);
        if (!e->ids) {
            s->oom = true;
        } else {
            for (size_t i = 0; i < m->accepts_len; i++)
                e->ids[i] = m->accepts[i].id;
            e->ev.file_ids = e->ids;
            e->ev.file_ids_len = m->accepts_len;
        }
    }
    o->cur = 0;
    advance(s, o);
}

static void on_decline(xfer_session *s, const xfer_msg *m)
{
    outgoing *o = out_for(s, m->xfer);
    if (!o) {
        if (stale_has(s, m->xfer)) return;
        return fail(s, XFER_CODE_PROTOCOL, "decline for no offered transfer");
    }
    if (o->state != O_OFFERED) return fail(s, XFER_CODE_PROTOCOL, "decline after accept");
    o->state = O_DECLINED;
    emit(s, XFER_EV_DECLINED, true, m->xfer);
}

bool xfer_session_next_read(xfer_session *s, xfer_read *req)
{
    outgoing *o = s->out;
    if (s->dead || !o || o->state != O_ACTIVE || o->pending || o->cur >= o->n) return false;
    out_file *f = &o->files[o->cur];
    uint64_t length, offset;
    if (f->status == OUT_PREFIX) {
        offset = f->prefix_pos;
        length = f->resume_at - f->prefix_pos;
        if (length > s->read_block) length = s->read_block;
    } else if (f->status == OUT_SENDING) {
        /* Reads end on read_block boundaries of the file; chunking does not
         * depend on them (a chunk may span two reads, see read_done). */
        offset = f->sent + o->carry_len;
        uint64_t payload = s->msg_size - XFER_DATA_HEADER_LEN;
        uint64_t remaining = f->size - offset;
        uint64_t to_boundary = s->read_block - offset % s->read_block;
        uint64_t busy = o->inflight + o->carry_len;
        uint64_t avail = s->peer_win > busy ? s->peer_win - busy : 0;
        length = remaining < to_boundary ? remaining : to_boundary;
        if (avail < length) length = avail;
        if (length == 0) return false;
        /* a window too full for one more chunk: wait for acks, if any are due */
        if (length < payload && length < remaining && length < to_boundary && o->inflight > 0)
            return false;
    } else {
        return false;
    }
    o->pending = true;
    memcpy(o->pending_req.xfer, o->xfer, XFER_ID_LEN + 1);
    o->pending_req.file = f->id;
    o->pending_req.offset = offset;
    o->pending_req.len = (size_t)length;
    *req = o->pending_req;
    return true;
}

static bool is_pending(const outgoing *o, const xfer_read *req)
{
    return o && o->pending && !strcmp(o->pending_req.xfer, req->xfer) &&
           o->pending_req.file == req->file && o->pending_req.offset == req->offset &&
           o->pending_req.len == req->len;
}

static void out_file_failed(xfer_session *s, outgoing *o, out_file *f, xfer_code code,
                            const char *message)
{
    o->inflight -= f->sent - f->acked; /* release its window share */
    f->acked = f->sent;
    f->status = OUT_FAILED;
    emit_file_done(s, true, o->xfer, f->id, false, code, message);
}

void xfer_session_read_failed(xfer_session *s, const xfer_read *req, const char *message)
{
    outgoing *o = s->out;
    if (!req || !is_pending(o, req)) return;
    o->pending = false;
    if (s->dead || o->state != O_ACTIVE) return;
    out_file *f = &o->files[req->file];
    const char *msg = message ? message : "read error";
    send_error(s, XFER_CODE_READ_ERROR, msg, o->xfer, f->id);
    out_file_failed(s, o, f, XFER_CODE_READ_ERROR, msg);
    advance(s, o);
    check_oom(s);
}

void xfer_session_read_done(xfer_session *s, const xfer_read *req, const uint8_t *data, size_t len)
{
    outgoing *o = s->out;
    if (!req || !is_pending(o, req)) return; /* transfer cancelled meanwhile */
    o->pending = false;
    if (s->dead || o->state != O_ACTIVE) return;
    if (len != req->len) {
        o->pending = true; /* read_failed ends only a pending read */
        return xfer_session_read_failed(s, req, "short read (file changed?)");
    }
    out_file *f = &o->files[req->file];
    if (f->status != OUT_PREFIX && f->status != OUT_SENDING) return; /* failed by the peer */
    xfer_digest_update(f->d, data, len);
    if (f->status == OUT_PREFIX) {
        f->prefix_pos += len;
        if (f->prefix_pos == f->resume_at) {
            /* the whole file as prefix: its short last block counts too */
            if (f->resume_at == f->size) xfer_digest_finish(f->d);
            char hex[XFER_SHA_HEX_LEN + 1];
            xfer_digest_peek_hex(f->d, hex);
            start_file(s, o, f, strcmp(hex, f->resume_sha) == 0 ? f->resume_at : 0);
            if (f->status == OUT_ENDED) advance(s, o);
        }
        check_oom(s);
        return;
    }
    /* Every chunk is full but a file's last: the tail of a read waits in
     * carry for the next one (session.ts does the same, so both send the
     * same messages). */
    size_t payload = (size_t)(s->msg_size - XFER_DATA_HEADER_LEN);
    uint64_t sent_before = f->sent;
    bool at_end = req->offset + len == f->size;
    size_t p = 0;
    if (o->carry_len) {
        size_t need = payload - o->carry_len;
        size_t take = len < need ? len : need;
        memcpy(o->carry + o->carry_len, data, take);
        o->carry_len += take;
        p = take;
        if (o->carry_len == payload || at_end) {
            uint8_t hdr[XFER_DATA_HEADER_LEN];
            xfer_data_header_encode(hdr, f->id, f->sent, s->resend ? o->tag : 0);
            push_out(s, true, hdr, sizeof hdr, o->carry, o->carry_len);
            f->sent += o->carry_len;
            o->carry_len = 0;
        }
    }
    for (; p + payload <= len || (at_end && p < len); p += payload) {
        size_t n = len - p < payload ? len - p : payload;
        uint8_t hdr[XFER_DATA_HEADER_LEN];
        xfer_data_header_encode(hdr, f->id, f->sent, s->resend ? o->tag : 0);
        push_out(s, true, hdr, sizeof hdr, data + p, n);
        f->sent += n;
    }
    if (p < len) {
        if (!o->carry && !(o->carry = malloc(payload))) {
            s->oom = true;
            return;
        }
        memcpy(o->carry, data + p, len - p);
        o->carry_len = len - p;
    }
    o->inflight += f->sent - sent_before;
    maybe_end(s, o, f);
    if (f->status == OUT_ENDED) advance(s, o);
    check_oom(s);
}

/* The file `file` of transfer `xfer` as a target of ack/verified. Returns
 * NULL for a message to ignore (a stale transfer, an ack for a failed
 * file), or fails the session and returns NULL. */
static out_file *out_file_for(xfer_session *s, const char *xfer, uint32_t file, const char *what,
                              outgoing **op)
{
    outgoing *o = out_for(s, xfer);
    if (!o) {
        if (!stale_has(s, xfer)) {
            char msg[64];
            snprintf(msg, sizeof msg, "%s for unknown transfer", what);
            fail(s, XFER_CODE_PROTOCOL, msg);
        }
        return NULL;
    }
    out_file *f = file < o->n ? &o->files[file] : NULL;
    /* acks the receiver sent before it saw this file fail (§5.7) */
    if (!strcmp(what, "ack") && o->state == O_ACTIVE && f && f->status == OUT_FAILED) return NULL;
    if (o->state != O_ACTIVE || !f || (f->status != OUT_SENDING && f->status != OUT_ENDED)) {
        char msg[64];
        snprintf(msg, sizeof msg, "%s for a file not being sent", what);
        fail(s, XFER_CODE_PROTOCOL, msg);
        return NULL;
    }
    *op = o;
    return f;
}

static void on_ack(xfer_session *s, const xfer_msg *m)
{
    outgoing *o;
    out_file *f = out_file_for(s, m->xfer, m->file, "ack", &o);
    if (!f) return;
    if (m->bytes < f->acked || m->bytes > f->sent)
        return fail(s, XFER_CODE_PROTOCOL, "ack out of range");
    o->inflight -= m->bytes - f->acked;
    f->acked = m->bytes;
    emit_progress(s, true, m->xfer, m->file, m->bytes);
}

static void on_verified(xfer_session *s, const xfer_msg *m)
{
    outgoing *o;
    out_file *f = out_file_for(s, m->xfer, m->file, "verified", &o);
    if (!f) return;
    if (f->status != OUT_ENDED) return fail(s, XFER_CODE_PROTOCOL, "verified before end");
    o->inflight -= f->sent - f->acked;
    f->acked = f->sent;
    f->status = OUT_VERIFIED;
    emit_progress(s, true, m->xfer, m->file, f->size);
    emit_file_done(s, true, m->xfer, m->file, true, XFER_CODE_INTERNAL, NULL);
    check_out_done(s, o);
}

/* ================= receiver ================= */

/* Why an offer of hidden names only is refused (UNSAFE_PATH): a receiver
 * that leaves them out has nothing to accept. Same words as session.ts. */
static const char XFER_ALL_HIDDEN[] = "every file has a hidden name (leading dot)";

static void on_offer(xfer_session *s, xfer_msg *m)
{
    uint16_t tag = s->offers_in++; /* every offer handled counts (§5.11) */
    if (s->inc_state != INC_NONE) {
        send_simple(s, XFER_DECLINE, m->xfer); /* one incoming transfer at a time */
        return;
    }
    char buf[128];
    const char *problem;
    if (xfer_path_manifest_check(m->files, m->files_len, buf, sizeof buf, &problem) != XFER_OK)
        return fail(s, XFER_CODE_INTERNAL, "out of memory");
    /* hidden names (a receiver's policy, §7): those files are left out of
     * accept, so an offer of nothing else has nothing to accept */
    size_t n_hidden = 0;
    for (size_t i = 0; !problem && !s->allow_hidden && i < m->files_len; i++)
        n_hidden += xfer_path_entry_hidden(&m->files[i]);
    if (!problem && n_hidden > 0 && n_hidden == m->files_len) problem = XFER_ALL_HIDDEN;
    if (problem) {
        char message[192];
        snprintf(message, sizeof message, "unsafe path: %s", problem);
        send_error(s, XFER_CODE_UNSAFE_PATH, message, m->xfer, -1);
        stale_add(s, m->xfer);
        ev_node *e = emit(s, XFER_EV_TRANSFER_ERROR, false, m->xfer);
        if (e) {
            e->ev.code = XFER_CODE_UNSAFE_PATH;
            ev_set_message(s, e, message);
        }
        return;
    }
    stale_delete(s, m->xfer);
    s->inc_state = INC_OFFERED;
    s->pending_tag = tag;
    memcpy(s->pending_xfer, m->xfer, XFER_ID_LEN + 1);
    /* take ownership of the manifest: the event points into it */
    s->pending_offer = *m;
    s->have_pending_offer = true;
    m->files = NULL;
    m->files_len = 0;
    ev_node *e = emit(s, XFER_EV_OFFER, false, s->pending_xfer);
    if (e) {
        e->ev.files = s->pending_offer.files;
        e->ev.files_len = s->pending_offer.files_len;
        if (n_hidden > 0 && !(e->ids = malloc(n_hidden * sizeof *e->ids))) {
            s->oom = true;
            return;
        }
        for (size_t i = 0; n_hidden > 0 && i < s->pending_offer.files_len; i++)
            if (xfer_path_entry_hidden(&s->pending_offer.files[i]))
                e->ids[e->ev.hidden_len++] = (uint32_t)i;
        e->ev.hidden_ids = e->ids;
    }
}

static void drop_pending_offer(xfer_session *s)
{
    if (s->have_pending_offer) xfer_msg_cleanup(&s->pending_offer);
    s->have_pending_offer = false;
}

int xfer_session_decline(xfer_session *s)
{
    if (!s || s->inc_state != INC_OFFERED) return XFER_E_STATE;
    send_simple(s, XFER_DECLINE, s->pending_xfer);
    stale_add(s, s->pending_xfer);
    s->inc_state = INC_NONE;
    drop_pending_offer(s);
    check_oom(s);
    return XFER_OK;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

int xfer_session_accept(xfer_session *s, xfer_incoming *inc, const uint32_t *ids, size_t n_ids)
{
    if (!s || !inc) return XFER_E_ARG;
    if (s->inc_state != INC_OFFERED || strcmp(inc->xfer, s->pending_xfer) ||
        !xfer_same_manifest(inc->manifest, inc->n, s->pending_offer.files,
                            s->pending_offer.files_len))
        return XFER_E_STATE;
    size_t n = ids ? n_ids : inc->n;
    uint32_t *want = malloc((n ? n : 1) * sizeof *want);
    if (!want) return XFER_E_NOMEM;
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t id = ids ? ids[i] : (uint32_t)i;
        /* never a hidden name unless allowed, whatever the caller asked */
        if (id < inc->n && inc->files[id].status != IN_VERIFIED &&
            (s->allow_hidden || !xfer_path_entry_hidden(&inc->manifest[id])))
            want[w++] = id;
    }
    qsort(want, w, sizeof *want, cmp_u32);
    /* duplicates would break "strictly increasing" */
    size_t u = 0;
    for (size_t i = 0; i < w; i++)
        if (u == 0 || want[u - 1] != want[i]) want[u++] = want[i];
    w = u;
    if (w == 0) {
        free(want);
        return xfer_session_decline(s);
    }
    xfer_accept_entry *entries = calloc(w, sizeof *entries);
    if (!entries) {
        free(want);
        return XFER_E_NOMEM;
    }
    for (size_t i = 0; i < w; i++) {
        in_file *f = &inc->files[want[i]];
        f->status = IN_ACCEPTED;
        entries[i].id = want[i];
        f->resume_at = xfer_session_resume_offset(s, inc, want[i]);
        if (f->resume_at > 0) {
            entries[i].offset = f->resume_at;
            entries[i].has_sha256 = true;
            xfer_digest_peek_hex(f->digest[s->blocks], entries[i].sha256);
        }
    }
    s->inc = inc;
    s->inc_state = INC_ACTIVE;
    s->in_tag = s->pending_tag;
    s->sweep_due = true;
    s->in_cur = -1;
    s->drop_data = false;
    s->drop_file = -1;
    drop_pending_offer(s);
    xfer_msg m = {.t = XFER_ACCEPT, .accepts = entries, .accepts_len = w};
    memcpy(m.xfer, inc->xfer, XFER_ID_LEN + 1);
    send_msg(s, &m);
    free(entries);
    free(want);
    check_oom(s);
    return XFER_OK;
}

uint64_t xfer_session_resume_offset(const xfer_session *s, const xfer_incoming *inc, size_t i)
{
    if (!s || !inc || i >= inc->n) return 0;
    /* resume only from bytes that are both hashed and stored, with a digest
     * of this session's kind */
    const in_file *f = &inc->files[i];
    const xfer_digest *d = f->digest[s->blocks];
    uint64_t covered = d ? xfer_digest_covered(d) : 0;
    return covered > 0 && covered <= f->written ? covered : 0;
}

static xfer_incoming *inc_for(xfer_session *s, const char *xfer, const char *what, bool *failed)
{
    *failed = false;
    if (s->inc_state == INC_ACTIVE && s->inc && !strcmp(s->inc->xfer, xfer)) return s->inc;
    if (stale_has(s, xfer)) return NULL;
    char msg[64];
    snprintf(msg, sizeof msg, "%s for unknown transfer", what);
    fail(s, XFER_CODE_PROTOCOL, msg);
    *failed = true;
    return NULL;
}

static void on_start(xfer_session *s, const xfer_msg *m)
{
    bool failed;
    xfer_incoming *inc = inc_for(s, m->xfer, "start", &failed);
    if (!inc) return;
    in_file *f = m->file < inc->n ? &inc->files[m->file] : NULL;
    if (!f || f->status != IN_ACCEPTED || (int64_t)m->file <= s->in_cur)
        return fail(s, XFER_CODE_PROTOCOL, "start of a file not accepted or out of order");
    if (s->in_cur >= 0 && inc->files[s->in_cur].status == IN_RECEIVING)
        return fail(s, XFER_CODE_PROTOCOL, "start before previous end");
    if (m->offset != 0 && m->offset != f->resume_at)
        return fail(s, XFER_CODE_PROTOCOL, "start offset is neither 0 nor the resume offset");
    /* this session's digest only: the other mode's (a prefix fed from disk)
     * would no longer match the bytes held */
    xfer_digest_destroy(f->digest[!s->blocks]);
    f->digest[!s->blocks] = NULL;
    xfer_digest *d = f->digest[s->blocks];
    if (m->offset == 0) {
        if (d)
            xfer_digest_reset(d);
        else if (!(f->digest[s->blocks] = xfer_digest_create(s->blocks)))
            return fail(s, XFER_CODE_INTERNAL, "out of memory");
        f->received = f->written = 0;
    } else {
        /* resuming at our digest's end (accept chose it, so d is there):
         * bytes held beyond it are rewritten (OPEN truncates there) */
        if (!d) return fail(s, XFER_CODE_INTERNAL, "resume without a digest");
        xfer_digest_rewind(d);
        f->received = f->written = m->offset;
    }
    f->last_ack = m->offset;
    f->status = IN_RECEIVING;
    s->in_cur = m->file;
    s->drop_data = false;
    s->sweep_due = true;
    ev_node *e = emit(s, XFER_EV_OPEN, false, m->xfer);
    if (e) {
        e->ev.file = m->file;
        e->ev.offset = m->offset;
    }
}

static void on_data(xfer_session *s, const uint8_t *msg, size_t len)
{
    xfer_data d;
    if (xfer_data_decode(msg, len, &d) != XFER_OK) {
        const char *why = "malformed data message";
        if (len <= XFER_DATA_HEADER_LEN) why = "data message without payload";
        return fail(s, XFER_CODE_PROTOCOL, why);
    }
    xfer_incoming *inc = s->inc;
    in_file *f = inc && s->inc_state == INC_ACTIVE && (int64_t)d.file == s->in_cur
                     ? &inc->files[d.file]
                     : NULL;
    if (!f || f->status != IN_RECEIVING) {
        if (s->drop_data || (int64_t)d.file == s->drop_file) return; /* sent before our cancel */
        return fail(s, XFER_CODE_PROTOCOL, "data for no file being received");
    }
    if (d.offset != f->received)
        return fail(s, XFER_CODE_PROTOCOL, "data offset is not the next byte");
    if (d.offset + d.payload_len > inc->manifest[d.file].size)
        return fail(s, XFER_CODE_PROTOCOL, "data beyond file size");
    f->received += d.payload_len;
    ev_node *e = emit(s, XFER_EV_WRITE, false, inc->xfer);
    if (e) {
        e->ev.file = d.file;
        e->ev.offset = d.offset;
        e->ev.data = d.payload;
        e->ev.len = d.payload_len;
    }
    xfer_digest *dg = f->digest[s->blocks];
    xfer_digest_update(dg, d.payload, d.payload_len);
    /* every byte is here: the short last block counts, so that a receiver
     * that got all bytes but no end can resume at the size (§5.8) */
    if (f->received == inc->manifest[d.file].size) xfer_digest_finish(dg);
}

static void check_in_done(xfer_session *s, xfer_incoming *inc)
{
    s->sweep_due = true;
    for (size_t i = 0; i < inc->n; i++) {
        in_status st = inc->files[i].status;
        if (st != IN_IDLE && st != IN_VERIFIED && st != IN_FAILED) return;
    }
    s->inc_state = INC_NONE;
    s->inc = NULL;
    stale_add(s, inc->xfer);
    emit(s, XFER_EV_TRANSFER_DONE, false, inc->xfer);
}

static void maybe_close(xfer_session *s, xfer_incoming *inc, uint32_t file)
{
    in_file *f = &inc->files[file];
    if (f->status == IN_ENDED && f->written == inc->manifest[file].size) {
        f->status = IN_CLOSING;
        emit_close(s, inc->xfer, file, true);
    }
}

static void on_end(xfer_session *s, const xfer_msg *m)
{
    bool failed;
    xfer_incoming *inc = inc_for(s, m->xfer, "end", &failed);
    if (!inc) return;
    if ((int64_t)m->file == s->drop_file) return;
    in_file *f = m->file < inc->n ? &inc->files[m->file] : NULL;
    if (!f || (int64_t)m->file != s->in_cur || f->status != IN_RECEIVING)
        return fail(s, XFER_CODE_PROTOCOL, "end of a file not being received");
    if (f->received != inc->manifest[m->file].size)
        return fail(s, XFER_CODE_PROTOCOL, "end before all bytes");
    char hex[XFER_SHA_HEX_LEN + 1];
    xfer_digest_peek_hex(f->digest[s->blocks], hex);
    if (strcmp(hex, m->sha256) != 0) {
        pd_buf msg;
        pd_buf_init(&msg, 4096);
        if (pd_buf_printf(&msg, "SHA-256 mismatch for %s", inc->manifest[m->file].name) ||
            pd_buf_append_byte(&msg, 0)) {
            pd_buf_reset(&msg);
            return fail(s, XFER_CODE_INTERNAL, "out of memory");
        }
        const char *message = (const char *)msg.data;
        send_error(s, XFER_CODE_HASH_MISMATCH, message, m->xfer, m->file);
        f->status = IN_FAILED;
        f->received = f->written = 0;
        xfer_in_digests_drop(f);
        emit_close(s, m->xfer, m->file, false);
        emit_file_done(s, false, m->xfer, m->file, false, XFER_CODE_HASH_MISMATCH, message);
        pd_buf_reset(&msg);
        check_in_done(s, inc);
        return;
    }
    f->status = IN_ENDED;
    s->sweep_due = true;
    maybe_close(s, inc, m->file);
}

void xfer_session_written(xfer_session *s, const char *xfer, uint32_t file, uint64_t up_to)
{
    xfer_incoming *inc = s->inc;
    if (!xfer || !inc || strcmp(inc->xfer, xfer) || file >= inc->n) return;
    in_file *f = &inc->files[file];
    /* after shutdown the storage still finishes queued writes; record them
     * so that the next session can resume from them */
    if (s->dead && f->status == IN_IDLE && up_to <= f->received) {
        f->written = up_to;
        return;
    }
    if (s->inc_state != INC_ACTIVE || (f->status != IN_RECEIVING && f->status != IN_ENDED)) return;
    f->written = up_to;
    emit_progress(s, false, xfer, file, up_to);
    uint64_t step = s->win / 4 < XFER_MAX_ACK_STEP ? s->win / 4 : XFER_MAX_ACK_STEP;
    if (!s->dead && (up_to - f->last_ack >= step || up_to == inc->manifest[file].size)) {
        f->last_ack = up_to;
        send_file_msg(s, XFER_ACK, xfer, file, up_to, NULL);
    }
    maybe_close(s, inc, file);
    check_oom(s);
}

void xfer_session_closed(xfer_session *s, const char *xfer, uint32_t file, bool ok,
                         const char *message)
{
    xfer_incoming *inc = s->inc;
    if (!xfer || !inc || strcmp(inc->xfer, xfer) || s->inc_state != INC_ACTIVE || file >= inc->n)
        return;
    in_file *f = &inc->files[file];
    if (f->status != IN_CLOSING) return;
    uint64_t size = inc->manifest[file].size;
    if (ok) {
        f->status = IN_VERIFIED;
        xfer_in_digests_drop(f); /* a verified file is never accepted or fed again */
        if (!s->dead) {
            if (f->last_ack < size) send_file_msg(s, XFER_ACK, xfer, file, size, NULL);
            f->last_ack = size;
            send_file_msg(s, XFER_VERIFIED, xfer, file, 0, NULL);
        }
        emit_file_done(s, false, xfer, file, true, XFER_CODE_INTERNAL, NULL);
    } else {
        const char *msg = message ? message : "could not store the file";
        f->status = IN_FAILED;
        if (!s->dead) send_error(s, XFER_CODE_WRITE_ERROR, msg, xfer, file);
        emit_file_done(s, false, xfer, file, false, XFER_CODE_WRITE_ERROR, msg);
    }
    check_in_done(s, inc);
    /* §5.11: held copies of a file or transfer now over go at once */
    if (s->resend && !s->dead) resend_pump(s);
    check_oom(s);
}

void xfer_session_write_failed(xfer_session *s, const char *xfer, uint32_t file,
                               const char *message)
{
    xfer_incoming *inc = s->inc;
    if (!xfer || !inc || strcmp(inc->xfer, xfer) || s->inc_state != INC_ACTIVE || file >= inc->n)
        return;
    in_file *f = &inc->files[file];
    if (f->status != IN_RECEIVING && f->status != IN_ENDED) return;
    const char *msg = message ? message : "write error";
    f->status = IN_FAILED;
    s->drop_file = file;
    if (!s->dead) send_error(s, XFER_CODE_WRITE_ERROR, msg, xfer, file);
    emit_close(s, xfer, file, false);
    emit_file_done(s, false, xfer, file, false, XFER_CODE_WRITE_ERROR, msg);
    check_in_done(s, inc);
    if (!s->dead) lane_pump(s); /* its held data goes, a held end is handled */
    check_oom(s);
}

/* ================= both ================= */

/* Stops an active transfer; returns false if `xfer` is not one. */
static bool stop_transfer(xfer_session *s, const char *xfer, bool by_peer)
{
    outgoing *o = out_for(s, xfer);
    if (o) {
        o->state = O_CANCELLED;
        o->pending = false;
        stale_add(s, xfer);
        ev_node *e = emit(s, XFER_EV_CANCELLED, true, xfer);
        if (e) e->ev.by_peer = by_peer;
        return true;
    }
    if (s->inc_state == INC_ACTIVE && s->inc && !strcmp(s->inc->xfer, xfer)) {
        xfer_incoming *inc = s->inc;
        if (s->in_cur >= 0 && (inc->files[s->in_cur].status == IN_RECEIVING ||
                               inc->files[s->in_cur].status == IN_ENDED))
            emit_close(s, xfer, (uint32_t)s->in_cur, false);
        for (size_t i = 0; i < inc->n; i++)
            if (inc->files[i].status != IN_VERIFIED) inc->files[i].status = IN_FAILED;
        s->inc = NULL;
        s->inc_state = INC_NONE;
        s->sweep_due = true;
        /* data sent before the peer's cancel may still be on a lane (§5.10) */
        s->drop_data = !by_peer || s->lanes > 0;
        stale_add(s, xfer);
        ev_node *e = emit(s, XFER_EV_CANCELLED, false, xfer);
        if (e) e->ev.by_peer = by_peer;
        return true;
    }
    return false;
}

void xfer_session_cancel(xfer_session *s, const char *xfer)
{
    if (!s || !xfer || s->dead || strlen(xfer) != XFER_ID_LEN) return;
    if (stop_transfer(s, xfer, false))
        send_simple(s, XFER_CANCEL, xfer);
    else if (s->inc_state == INC_OFFERED && !strcmp(s->pending_xfer, xfer))
        xfer_session_decline(s);
    lane_pump(s); /* held data of the cancelled transfer goes */
    check_oom(s);
}

static void on_cancel(xfer_session *s, const xfer_msg *m)
{
    if (stop_transfer(s, m->xfer, true)) return;
    if (s->inc_state == INC_OFFERED && !strcmp(s->pending_xfer, m->xfer)) {
        s->inc_state = INC_NONE;
        drop_pending_offer(s);
        stale_add(s, m->xfer);
        ev_node *e = emit(s, XFER_EV_CANCELLED, false, m->xfer);
        if (e) e->ev.by_peer = true;
        return;
    }
    if (!stale_has(s, m->xfer)) fail(s, XFER_CODE_PROTOCOL, "cancel for unknown transfer");
}

static void emit_transfer_error(xfer_session *s, bool out, const char *xfer, xfer_code code,
                                const char *message)
{
    ev_node *e = emit(s, XFER_EV_TRANSFER_ERROR, out, xfer);
    if (!e) return;
    e->ev.code = code;
    e->ev.by_peer = true;
    ev_set_message(s, e, message);
}

static void on_error(xfer_session *s, const xfer_msg *m)
{
    const char *message = m->message ? m->message : "";
    if (!m->xfer[0]) return peer_fatal(s, m->code, message);
    outgoing *o = out_for(s, m->xfer);
    if (o) {
        if (m->has_file) {
            out_file *f = m->file < o->n ? &o->files[m->file] : NULL;
            if (f && f->status == OUT_FAILED) return; /* both sides failed it at once (§5.7) */
            if (!f ||
                (f->status != OUT_PREFIX && f->status != OUT_SENDING && f->status != OUT_ENDED))
                return fail(s, XFER_CODE_PROTOCOL, "error for a file not being sent");
            bool was_current = o->cur == m->file;
            if (was_current) o->pending = false;
            out_file_failed(s, o, f, m->code, message);
            if (was_current)
                advance(s, o);
            else
                check_out_done(s, o);
            return;
        }
        o->state = O_FAILED;
        o->pending = false;
        stale_add(s, m->xfer);
        return emit_transfer_error(s, true, m->xfer, m->code, message);
    }
    if (s->inc && s->inc_state == INC_ACTIVE && !strcmp(s->inc->xfer, m->xfer)) {
        xfer_incoming *inc = s->inc;
        if (m->has_file) {
            in_file *f = m->file < inc->n ? &inc->files[m->file] : NULL;
            if (f && f->status == IN_FAILED) return; /* both sides failed it at once (§5.7) */
            if (!f || (f->status != IN_RECEIVING && f->status != IN_ACCEPTED))
                return fail(s, XFER_CODE_PROTOCOL, "error for a file not being received");
            if (f->status == IN_RECEIVING) emit_close(s, m->xfer, m->file, false);
            f->status = IN_FAILED;
            s->sweep_due = true;
            emit_file_done(s, false, m->xfer, m->file, false, m->code, message);
            check_in_done(s, inc);
            return;
        }
        if (s->in_cur >= 0 && inc->files[s->in_cur].status == IN_RECEIVING)
            emit_close(s, m->xfer, (uint32_t)s->in_cur, false);
        for (size_t i = 0; i < inc->n; i++)
            if (inc->files[i].status != IN_VERIFIED) inc->files[i].status = IN_FAILED;
        s->inc = NULL;
        s->inc_state = INC_NONE;
        s->sweep_due = true;
        if (s->lanes > 0) s->drop_data = true; /* its data may still be on a lane (§5.10) */
        stale_add(s, m->xfer);
        return emit_transfer_error(s, false, m->xfer, m->code, message);
    }
    if (s->out && !strcmp(s->out->xfer, m->xfer) && s->out->state != O_CANCELLED) {
        /* e.g. UNSAFE_PATH in answer to our offer */
        s->out->state = O_FAILED;
        return emit_transfer_error(s, true, m->xfer, m->code, message);
    }
    if (!stale_has(s, m->xfer)) fail(s, XFER_CODE_PROTOCOL, "error for unknown transfer");
}

/* ================= text snippets (§5.9) ================= */

bool xfer_session_text_supported(const xfer_session *s)
{
    return s && s->have_peer && s->text;
}

static bool is_id(const char *id)
{
    if (strlen(id) != XFER_ID_LEN) return false;
    for (size_t i = 0; i < XFER_ID_LEN; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f'))) return false;
    return true;
}

int xfer_session_send_text(xfer_session *s, const char *id, const char *text, size_t len)
{
    if (!s || !id || !text || !is_id(id) || len < 1 || len > XFER_MAX_TEXT ||
        !pd_utf8_valid((const uint8_t *)text, len))
        return XFER_E_ARG;
    if (!xfer_session_ready(s)) return XFER_E_STATE;
    if (!s->text) return XFER_E_UNSUPPORTED;
    for (size_t i = 0; i < s->text_pending_len; i++)
        if (!strcmp(s->text_pending[i], id)) return XFER_E_ARG;
    if (s->text_pending_len == XFER_MAX_TEXT_PENDING) return XFER_E_STATE;
    xfer_msg m = {.t = XFER_TEXT, .text = (char *)text, .text_len = len};
    memcpy(m.text_id, id, XFER_ID_LEN + 1);
    s->scratch.len = 0;
    if (xfer_msg_encode(&s->scratch, &m) != XFER_OK) return XFER_E_NOMEM;
    if (s->scratch.len > s->peer_max_msg) return XFER_E_TOO_BIG;
    push_out(s, false, NULL, 0, s->scratch.data, s->scratch.len);
    if (s->oom) {
        s->oom = false;
        return XFER_E_NOMEM;
    }
    memcpy(s->text_pending[s->text_pending_len++], id, XFER_ID_LEN + 1);
    return XFER_OK;
}

static void on_text(xfer_session *s, const xfer_msg *m)
{
    /* a peer that never got "text" from us has no business sending one */
    if (!s->text) return fail(s, XFER_CODE_PROTOCOL, "text without the text capability");
    ev_node *e = emit(s, XFER_EV_TEXT, false, m->text_id);
    if (!e) return;
    /* the event owns a copy: the text may hold U+0000, so not a C string */
    e->message = xfer_dup_len(m->text, m->text_len);
    if (!e->message) {
        s->oom = true;
        return;
    }
    e->ev.data = (const uint8_t *)e->message;
    e->ev.len = m->text_len;
    xfer_msg ack = {.t = XFER_TEXT_ACK};
    memcpy(ack.text_id, m->text_id, XFER_ID_LEN + 1);
    send_msg(s, &ack);
}

static void on_text_ack(xfer_session *s, const xfer_msg *m)
{
    for (size_t i = 0; i < s->text_pending_len; i++)
        if (!strcmp(s->text_pending[i], m->text_id)) {
            memmove(s->text_pending[i], s->text_pending[i + 1],
                    (s->text_pending_len - i - 1) * sizeof s->text_pending[0]);
            s->text_pending_len--;
            emit(s, XFER_EV_TEXT_ACKED, true, m->text_id);
            return;
        }
    fail(s, XFER_CODE_PROTOCOL, "text-ack for no text sent");
}

static void handle(xfer_session *s, xfer_msg *m)
{
    if (!s->have_peer) {
        if (m->t == XFER_ERROR) return peer_fatal(s, m->code, m->message ? m->message : "");
        if (m->t != XFER_HELLO) return fail(s, XFER_CODE_PROTOCOL, "first message must be hello");
        /* v2 peers authenticate first (src/pake/gate.h), so a v1 hello
         * never gets this far; the rule stays (auth-spec §B) */
        if (m->v < XFER_VERSION) return fail(s, XFER_CODE_VERSION, "no common version");
        if (m->max_msg < XFER_MIN_MAX_MSG) return fail(s, XFER_CODE_PROTOCOL, "maxMsg below 16384");
        if (m->win < m->max_msg) return fail(s, XFER_CODE_PROTOCOL, "win below maxMsg");
        s->have_peer = true;
        s->blocks = false;
        for (size_t i = 0; i < m->caps_len; i++)
            if (!strcmp(m->caps[i], XFER_CAP_BLOCKS)) s->blocks = s->blocks_cap;
        s->text = false;
        for (size_t i = 0; i < m->caps_len; i++)
            if (!strcmp(m->caps[i], XFER_CAP_TEXT)) s->text = s->text_cap;
        bool resend = false;
        for (size_t i = 0; i < m->caps_len; i++)
            if (!strcmp(m->caps[i], XFER_CAP_LANE_RESEND)) resend = s->resend_cap;
        s->has_peer_name = m->has_name;
        if (m->has_name) {
            memcpy(s->peer_name, m->name, m->name_len + 1);
            s->peer_name_len = m->name_len;
        }
        s->peer_max_msg = m->max_msg;
        /* what we put in flight, and keep until acknowledged: the peer's
         * window, bounded by our own memory (PD_MAX_PEER_WIN) */
        s->peer_win = m->win < XFER_MAX_PEER_WIN ? m->win : XFER_MAX_PEER_WIN;
        s->lanes = m->lanes < s->lanes_opt ? m->lanes : s->lanes_opt;
        s->resend = resend && s->lanes > 0;
        if (s->lanes > 0 && !(s->merge = xfer_merge_create(s->win, XFER_MAX_HELD_MSGS, s->resend)))
            return fail(s, XFER_CODE_INTERNAL, "out of memory");
        uint64_t size = s->pref_msg;
        if (m->max_msg < size) size = m->max_msg;
        if (s->send_limit < size) size = s->send_limit;
        s->msg_size = size > XFER_MIN_MAX_MSG ? size : XFER_MIN_MAX_MSG;
        ev_node *e = emit(s, XFER_EV_READY, false, NULL);
        if (e) {
            e->ev.msg_size = s->msg_size;
            e->ev.peer_max_msg = m->max_msg;
            e->ev.peer_win = m->win;
            e->ev.peer_name = s->has_peer_name ? s->peer_name : NULL;
            e->ev.peer_name_len = s->has_peer_name ? s->peer_name_len : 0;
            e->ev.lanes = s->lanes;
        }
        return;
    }
    switch (m->t) {
    case XFER_HELLO:
        return fail(s, XFER_CODE_PROTOCOL, "second hello");
    case XFER_OFFER:
        return on_offer(s, m);
    case XFER_ACCEPT:
        return on_accept(s, m);
    case XFER_DECLINE:
        return on_decline(s, m);
    case XFER_START:
        return on_start(s, m);
    case XFER_END:
        return on_end(s, m);
    case XFER_ACK:
        return on_ack(s, m);
    case XFER_VERIFIED:
        return on_verified(s, m);
    case XFER_CANCEL:
        return on_cancel(s, m);
    case XFER_ERROR:
        return on_error(s, m);
    case XFER_TEXT:
        return on_text(s, m);
    case XFER_TEXT_ACK:
        return on_text_ack(s, m);
    }
}

/* ================= lanes: the receiver's merge (§5.10) ================= */

uint32_t xfer_session_lanes(const xfer_session *s)
{
    return s && s->have_peer ? s->lanes : 0;
}

void xfer_session_lane_opened(xfer_session *s, unsigned lane)
{
    if (s && lane >= 1 && lane <= s->lanes) s->lanes_open |= 1u << lane;
}

bool xfer_session_lane_resend(const xfer_session *s)
{
    return s && s->have_peer && s->resend;
}

bool xfer_session_lane_closed(xfer_session *s, unsigned lane)
{
    if (!s || !s->resend) return false;
    if (lane >= 1 && lane <= s->lanes) s->lanes_open &= ~(1u << lane);
    return true;
}

bool xfer_session_data_done(const xfer_session *s, const uint8_t *msg, size_t len)
{
    xfer_data d;
    if (!s || xfer_data_decode(msg, len, &d) != XFER_OK) return true;
    const outgoing *o = s->out;
    if (!o || o->state != O_ACTIVE || d.tag != (s->resend ? o->tag : 0) || d.file >= o->n)
        return true;
    const out_file *f = &o->files[d.file];
    if (f->status != OUT_SENDING && f->status != OUT_ENDED) return true; /* verified, failed */
    return f->acked >= d.offset + d.payload_len;
}

unsigned xfer_session_channels(const xfer_session *s)
{
    if (!s) return 0;
    unsigned n = 1;
    for (unsigned k = 1; k <= XFER_MAX_LANES; k++)
        n += (s->lanes_open >> k) & 1u;
    return n;
}

size_t xfer_session_held(const xfer_session *s)
{
    return s ? xfer_merge_held_msgs(s->merge) : 0;
}

typedef enum lane_class { LANE_NEXT, LANE_HOLD, LANE_IGNORE, LANE_BAD } lane_class;

/* What a DATA message of `file` at `offset` is now, with lanes: the next
 * one, one to hold (later in the current file, or of an accepted file not
 * started yet), one to drop (§5.6, §5.7: a cancelled transfer, a failed
 * file), or one that can never be the next (*why says so). */
static lane_class lane_classify(const xfer_session *s, uint32_t file, uint64_t offset,
                                const char **why)
{
    *why = "data for no file being received";
    if (s->drop_data || (int64_t)file == s->drop_file) return LANE_IGNORE;
    const xfer_incoming *inc = s->inc_state == INC_ACTIVE ? s->inc : NULL;
    if (!inc || file >= inc->n) return LANE_BAD;
    const in_file *f = &inc->files[file];
    if (f->status == IN_FAILED) return LANE_IGNORE;
    if ((int64_t)file == s->in_cur) {
        if (f->status != IN_RECEIVING) return LANE_BAD;
        if (offset == f->received) return LANE_NEXT;
        if (offset > f->received) return LANE_HOLD;
        *why = "data offset is not the next byte";
        return LANE_BAD;
    }
    if ((int64_t)file > s->in_cur && f->status == IN_ACCEPTED) return LANE_HOLD;
    return LANE_BAD;
}

/* The current file still expects bytes: started, not all received. */
static bool cur_expects_bytes(const xfer_session *s)
{
    if (s->inc_state != INC_ACTIVE || !s->inc || s->in_cur < 0) return false;
    const in_file *f = &s->inc->files[s->in_cur];
    return f->status == IN_RECEIVING && f->received < s->inc->manifest[s->in_cur].size;
}

/* m is an `end` of the current file before all of its bytes were handled:
 * it waits, with every control message after it (§5.10). */
static bool early_end(const xfer_session *s, const xfer_msg *m)
{
    return m->t == XFER_END && cur_expects_bytes(s) && !strcmp(s->inc->xfer, m->xfer) &&
           (int64_t)m->file == s->in_cur;
}

static void hold_failed(xfer_session *s, int r)
{
    if (r == XFER_E_NOMEM) return fail(s, XFER_CODE_INTERNAL, "out of memory");
    char msg[96];
    snprintf(msg, sizeof msg, "held messages over the receive window or %u messages",
             XFER_MAX_HELD_MSGS);
    fail(s, XFER_CODE_PROTOCOL, msg);
}

static void handle_decoded(xfer_session *s, const uint8_t *text, size_t len);

/* lane-resend (§5.11): what a DATA message of tag `tag`, `file`, `offset`
 * and `payload` bytes is now. LANE_IGNORE is §5.11's "dropped": another
 * transfer's (or none is being received), a cancelled transfer or failed
 * file (§5.6, §5.7), or all of its bytes already handled. */
static lane_class resend_classify(const xfer_session *s, uint16_t tag, uint32_t file,
                                  uint64_t offset, size_t payload, const char **why)
{
    const xfer_incoming *inc = s->inc_state == INC_ACTIVE ? s->inc : NULL;
    if (s->drop_data || (int64_t)file == s->drop_file || !inc || tag != s->in_tag)
        return LANE_IGNORE;
    *why = "data for a file not accepted";
    if (file >= inc->n) return LANE_BAD;
    const in_file *f = &inc->files[file];
    *why = "data beyond file size";
    if (offset > inc->manifest[file].size || payload > inc->manifest[file].size - offset)
        return LANE_BAD;
    *why = "data for a file not accepted";
    switch (f->status) {
    case IN_IDLE:
        return LANE_BAD;
    case IN_ACCEPTED:
        return (int64_t)file > s->in_cur ? LANE_HOLD : LANE_BAD;
    case IN_RECEIVING:
        if ((int64_t)file != s->in_cur) return LANE_BAD;
        if (offset == f->received) return LANE_NEXT;
        if (offset > f->received) return LANE_HOLD;
        if (offset + payload <= f->received) return LANE_IGNORE; /* a copy, all handled */
        *why = "data overlaps handled bytes in part";
        return LANE_BAD;
    case IN_ENDED:
    case IN_CLOSING:
    case IN_VERIFIED:
    case IN_FAILED:
        return LANE_IGNORE; /* done, verified or failed: all of it handled */
    }
    return LANE_BAD;
}

/* lane-resend: looks at every held DATA again after a file started, ended
 * or failed or a transfer ended: drops what is now to be dropped (so that
 * it never pins the bounds), fails on what can never be the next one. */
static void resend_sweep(xfer_session *s)
{
    s->sweep_due = false;
    for (unsigned c = 0; c <= s->lanes && !s->dead; c++) {
        const xfer_held *h = xfer_merge_data_head(s->merge, c);
        while (h && !s->dead) {
            const xfer_held *next = h->next;
            const char *why;
            uint16_t tag = (uint16_t)(h->msg[2] << 8 | h->msg[3]);
            lane_class k = resend_classify(s, tag, h->file, h->offset, h->payload, &why);
            if (k == LANE_BAD) return fail(s, XFER_CODE_PROTOCOL, why);
            if (k == LANE_IGNORE) xfer_merge_take(s->merge, h);
            h = next;
        }
    }
}

/* Handles the control messages held behind an early `end` (§5.10) that
 * no longer wait, in order; true when it handled any. */
static bool pump_held_control(xfer_session *s)
{
    bool handled = false;
    const xfer_held *h;
    while (!s->dead && (h = xfer_merge_control_head(s->merge))) {
        xfer_msg m;
        xfer_code code;
        /* decoded once already when it arrived */
        if (xfer_msg_decode(h->msg, h->len, &m, &code) != XFER_OK) {
            fail(s, XFER_CODE_INTERNAL, "out of memory");
            break;
        }
        bool wait = early_end(s, &m);
        xfer_msg_cleanup(&m);
        if (wait) break;
        xfer_merge_pop_control(s->merge);
        handle_decoded(s, h->msg, h->len);
        handled = true;
    }
    return handled;
}

/* lane-resend: the merge of §5.11. The next DATA is found by its (file,
 * offset) among all that is held; control messages held behind an early
 * end go as in §5.10; no rule about the channels' heads. */
static void resend_pump(xfer_session *s)
{
    for (bool progressed = true; progressed && !s->dead;) {
        progressed = false;
        const xfer_held *h;
        while (!s->dead && s->inc_state == INC_ACTIVE && s->in_cur >= 0 &&
               s->inc->files[s->in_cur].status == IN_RECEIVING &&
               (h = xfer_merge_find(s->merge, (uint32_t)s->in_cur,
                                    s->inc->files[s->in_cur].received))) {
            xfer_merge_take(s->merge, h); /* bytes valid until collect */
            on_data(s, h->msg, h->len);
            progressed = true;
        }
        if (pump_held_control(s)) progressed = true;
        /* a sweep only drops: it never makes a new next one */
        if (!s->dead && s->sweep_due) resend_sweep(s);
    }
}

/* Handles every held message that has become the next one, in the
 * sender's order, drops the ones to ignore, then applies the rule that
 * every channel holding a DATA that is not the next one is PROTOCOL. */
static void lane_pump(xfer_session *s)
{
    if (!s->merge) return;
    if (s->resend) return resend_pump(s);
    /* each round handles or drops at least one held message: bounded */
    for (bool progressed = true; progressed && !s->dead;) {
        progressed = false;
        for (unsigned c = 0; c <= s->lanes && !s->dead; c++) {
            const xfer_held *h;
            while (!s->dead && (h = xfer_merge_data_head(s->merge, c))) {
                const char *why;
                lane_class k = lane_classify(s, h->file, h->offset, &why);
                if (k == LANE_HOLD) break;
                if (k == LANE_BAD) return fail(s, XFER_CODE_PROTOCOL, why);
                xfer_merge_pop_data(s->merge, c); /* bytes valid until collect */
                if (k == LANE_NEXT) on_data(s, h->msg, h->len);
                progressed = true;
            }
        }
        if (pump_held_control(s)) progressed = true;
    }
    if (s->dead || !cur_expects_bytes(s)) return;
    for (unsigned c = 0; c <= s->lanes; c++) {
        bool open = c == 0 || ((s->lanes_open >> c) & 1u);
        if (open && !xfer_merge_data_head(s->merge, c)) return;
    }
    fail(s, XFER_CODE_PROTOCOL, "every channel holds data that is not the next");
}

/* lane-resend: a DATA message is handled, held, dropped (§5.11) or
 * PROTOCOL; a second copy of a held one is dropped. */
static void resend_data(xfer_session *s, unsigned lane, const xfer_data *d, const uint8_t *msg,
                        size_t len)
{
    const char *why;
    switch (resend_classify(s, d->tag, d->file, d->offset, d->payload_len, &why)) {
    case LANE_NEXT:
        on_data(s, msg, len);
        return resend_pump(s);
    case LANE_IGNORE:
        return;
    case LANE_BAD:
        return fail(s, XFER_CODE_PROTOCOL, why);
    case LANE_HOLD:
        break;
    }
    const xfer_held *h = xfer_merge_find(s->merge, d->file, d->offset);
    if (h) {
        if (h->payload != d->payload_len)
            fail(s, XFER_CODE_PROTOCOL, "two copies of a data message differ in length");
        return; /* the second copy */
    }
    int r = xfer_merge_hold_data(s->merge, lane, d->file, d->offset, d->payload_len, msg, len);
    if (r != XFER_OK) return hold_failed(s, r);
}

static void lane_data(xfer_session *s, unsigned lane, const uint8_t *msg, size_t len)
{
    xfer_data d;
    if (xfer_data_decode(msg, len, &d) != XFER_OK) {
        const char *why = "malformed data message";
        if (len <= XFER_DATA_HEADER_LEN) why = "data message without payload";
        return fail(s, XFER_CODE_PROTOCOL, why);
    }
    if (s->resend) return resend_data(s, lane, &d, msg, len);
    if (!xfer_merge_data_head(s->merge, lane)) {
        const char *why;
        switch (lane_classify(s, d.file, d.offset, &why)) {
        case LANE_NEXT:
            on_data(s, msg, len);
            return lane_pump(s);
        case LANE_IGNORE:
            return;
        case LANE_BAD:
            return fail(s, XFER_CODE_PROTOCOL, why);
        case LANE_HOLD:
            break;
        }
    }
    /* behind held DATA of its channel, or not the next one: it waits */
    int r = xfer_merge_hold_data(s->merge, lane, d.file, d.offset, d.payload_len, msg, len);
    if (r != XFER_OK) return hold_failed(s, r);
    lane_pump(s);
}

/* A control message off the session's channel, decoded and handled (the
 * caller checked its size). */
static void handle_decoded(xfer_session *s, const uint8_t *text, size_t len)
{
    xfer_msg m;
    xfer_code code;
    int r = xfer_msg_decode(text, len, &m, &code);
    if (r == XFER_E_NOMEM) return fail(s, XFER_CODE_INTERNAL, "out of memory");
    if (r != XFER_OK) return fail(s, code, "malformed control message");
    handle(s, &m);
    xfer_msg_cleanup(&m);
}

void xfer_session_feed_text(xfer_session *s, const uint8_t *text, size_t len)
{
    xfer_session_feed_text_lane(s, 0, text, len);
}

void xfer_session_feed_text_lane(xfer_session *s, unsigned lane, const uint8_t *text, size_t len)
{
    if (!s || s->dead) return;
    xfer_merge_collect(s->merge);
    if (lane != 0) return fail(s, XFER_CODE_PROTOCOL, "control message on a lane");
    if (len > s->max_msg) return fail(s, XFER_CODE_TOO_BIG, "control message over maxMsg");
    xfer_msg m;
    xfer_code code;
    int r = xfer_msg_decode(text, len, &m, &code);
    if (r == XFER_E_NOMEM) return fail(s, XFER_CODE_INTERNAL, "out of memory");
    if (r != XFER_OK) return fail(s, code, "malformed control message");
    if (s->merge && (xfer_merge_control_head(s->merge) || early_end(s, &m))) {
        /* §5.10: behind an end that waits for its file's bytes */
        xfer_msg_cleanup(&m);
        r = xfer_merge_hold_control(s->merge, text, len);
        if (r != XFER_OK) hold_failed(s, r);
        check_oom(s);
        return;
    }
    handle(s, &m);
    xfer_msg_cleanup(&m);
    if (!s->dead) lane_pump(s);
    check_oom(s);
}

void xfer_session_feed_binary(xfer_session *s, const uint8_t *msg, size_t len)
{
    xfer_session_feed_binary_lane(s, 0, msg, len);
}

void xfer_session_feed_binary_lane(xfer_session *s, unsigned lane, const uint8_t *msg, size_t len)
{
    if (!s || s->dead) return;
    xfer_merge_collect(s->merge);
    if (len > s->max_msg) return fail(s, XFER_CODE_TOO_BIG, "data message over maxMsg");
    if (!s->have_peer) return fail(s, XFER_CODE_PROTOCOL, "data before hello");
    if (lane > s->lanes) return fail(s, XFER_CODE_PROTOCOL, "data on a lane not agreed");
    /* §4: the reserved field carries a tag only under lane-resend (§5.11) */
    if (!s->resend && len > XFER_DATA_HEADER_LEN && (msg[2] || msg[3]))
        return fail(s, XFER_CODE_PROTOCOL, "data with a tag, lane-resend not agreed");
    if (!s->merge) {
        on_data(s, msg, len); /* no lanes: §5.1-5.9 unchanged */
    } else {
        if (lane > 0) s->lanes_open |= 1u << lane;
        lane_data(s, lane, msg, len);
    }
    check_oom(s);
}
