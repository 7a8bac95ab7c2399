/* session.c: see session.h.
 *
 * A session is in one of two transports: polling (held GET + POSTs) or
 * WebSocket (one connection). A polling session may carry a second, probing
 * WebSocket during an upgrade. Output for a polling session is kept encoded
 * as a polling payload and sent when a GET is (or becomes) available. */
#include "session.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "../base/base64.h"
#include "../base/log.h"
#include "eio.h"

/* A polling client that stops polling cannot make us buffer without bound. */
#define MAX_PENDING_FACTOR 4u

/* What a held GET receives when the session closes. */
typedef enum poll_answer {
    ANSWER_BAD,   /* 400: the client learns the session is gone */
    ANSWER_NOOP,  /* "6": the client closed it */
    ANSWER_CLOSE, /* what was queued, then "1" */
} poll_answer;

void eio_sess_init(eio_sess *s, const eio_sess_config *cfg, const eio_sess_io *io, bool websocket,
                   int64_t now_ms)
{
    assert(s && cfg && io);
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    s->io = *io;
    s->websocket = websocket;
    s->ping_at_ms = now_ms + cfg->ping_interval_ms;
    s->upgrade_at_ms = EIO_SESS_NEVER;
    pd_buf_init(&s->pending, (size_t)cfg->max_payload * MAX_PENDING_FACTOR);
}

void eio_sess_cleanup(eio_sess *s)
{
    if (s) pd_buf_reset(&s->pending);
}

int eio_sess_open_packet(const eio_sess *s, const char *sid, char *out, size_t cap)
{
    if (!s || !sid || !out || cap < 2) return -1;
    out[0] = '0';
    int n = eio_open_json(out + 1, cap - 1, sid, !s->websocket, s->cfg.ping_interval_ms,
                          s->cfg.ping_timeout_ms, s->cfg.max_payload);
    return n < 0 ? -1 : n + 1;
}

/* --- closing ------------------------------------------------------------ */

static void session_close(eio_sess *s, const char *reason, poll_answer answer)
{
    if (s->closed) return;
    s->closed = true;
    s->post_active = false;
    s->probing = s->upgrading = false;
    s->ping_at_ms = s->upgrade_at_ms = EIO_SESS_NEVER;
    if (s->poll_held) {
        s->poll_held = false;
        eio_packet close_packet = {.type = EIO_CLOSE};
        if (answer == ANSWER_CLOSE && s->pending.len > 0 &&
            eio_payload_append(&s->pending, &close_packet) == 0) {
            /* what was queued goes first, as the reference flushes its
             * write buffer before closing (Socket.close): a CONNECT_ERROR
             * saying why reaches the client */
            s->io.reply(s->io.ctx, EIO_SESS_REQ_HELD_POLL, EIO_SESS_REPLY_PAYLOAD, s->pending.data,
                        s->pending.len);
        } else if (answer == ANSWER_BAD) {
            s->io.reply(s->io.ctx, EIO_SESS_REQ_HELD_POLL, EIO_SESS_REPLY_BAD, NULL, 0);
        } else {
            const uint8_t *one = (const uint8_t *)(answer == ANSWER_CLOSE ? "1" : "6");
            s->io.reply(s->io.ctx, EIO_SESS_REQ_HELD_POLL, EIO_SESS_REPLY_PAYLOAD, one, 1);
        }
    }
    pd_buf_reset(&s->pending);
    s->io.on_close(s->io.ctx, reason);
}

void eio_sess_close(eio_sess *s, const char *reason)
{
    /* a held poll carries the close packet; without one the client learns
     * of it from the 400 of its next request */
    if (s) session_close(s, reason ? reason : "forced close", ANSWER_CLOSE);
}

/* --- output ------------------------------------------------------------- */

static void mark_dirty(eio_sess *s)
{
    if (s->flush_wanted) return;
    s->flush_wanted = true;
    s->io.want_flush(s->io.ctx);
}

/* Queues one packet on the session's current transport. */
static void send_packet(eio_sess *s, const eio_packet *p)
{
    if (s->closed) return;
    if (s->websocket) {
        s->io.ws_send(s->io.ctx, EIO_SESS_WS_MAIN, p->binary, p->binary ? 0 : (char)('0' + p->type),
                      p->data, p->len);
        return;
    }
    if (eio_payload_append(&s->pending, p) != 0) {
        PD_LOG_WARN("session output over limit: client is not polling");
        session_close(s, "forced close", ANSWER_CLOSE);
        return;
    }
    mark_dirty(s);
}

void eio_sess_send(eio_sess *s, const uint8_t *data, size_t len, bool binary)
{
    if (!s) return;
    eio_packet p = {.type = EIO_MESSAGE, .binary = binary, .data = data, .len = len};
    send_packet(s, &p);
}

void eio_sess_flush(eio_sess *s)
{
    if (!s) return;
    s->flush_wanted = false;
    if (s->closed || !s->poll_held || s->pending.len == 0 || s->upgrading) return;
    s->poll_held = false;
    s->io.reply(s->io.ctx, EIO_SESS_REQ_HELD_POLL, EIO_SESS_REPLY_PAYLOAD, s->pending.data,
                s->pending.len);
    pd_buf_reset(&s->pending);
}

/* Releases a held poll with a noop, so the client can go on (upgrade). */
static void release_poll(eio_sess *s)
{
    if (!s->poll_held) return;
    s->poll_held = false;
    s->io.reply(s->io.ctx, EIO_SESS_REQ_HELD_POLL, EIO_SESS_REPLY_PAYLOAD, (const uint8_t *)"6", 1);
}

/* --- incoming packets --------------------------------------------------- */

/* Handles one packet from the client on the session's current transport. */
static void on_packet(eio_sess *s, const eio_packet *p, int64_t now_ms)
{
    switch (p->type) {
    case EIO_MESSAGE:
        s->io.on_message(s->io.ctx, p->data, p->len, p->binary);
        break;
    case EIO_PONG:
        if (s->awaiting_pong) {
            s->awaiting_pong = false;
            s->ping_at_ms = now_ms + s->cfg.ping_interval_ms;
        }
        break;
    case EIO_CLOSE:
        session_close(s, "transport close", ANSWER_NOOP);
        break;
    default:
        /* v4: the server pings, so a client ping is a protocol error; so are
         * open, upgrade and noop from a client on an established transport */
        session_close(s, "parse error", ANSWER_CLOSE);
        break;
    }
}

/* --- polling ------------------------------------------------------------ */

bool eio_sess_poll_get(eio_sess *s)
{
    if (!s || s->closed) return false;
    if (s->websocket) {
        /* the caller answers a transport mismatch itself (code 3); this
         * only keeps the session from holding a poll it will never answer */
        s->io.reply(s->io.ctx, EIO_SESS_REQ_CURRENT, EIO_SESS_REPLY_BAD, NULL, 0);
        return false;
    }
    if (s->poll_held) {
        /* overlapping GETs: the reference closes the session; the first GET
         * gets a close packet, this one a 400 */
        session_close(s, "transport error", ANSWER_CLOSE);
        s->io.reply(s->io.ctx, EIO_SESS_REQ_CURRENT, EIO_SESS_REPLY_BAD, NULL, 0);
        return false;
    }
    if (s->upgrading) {
        /* every poll during an upgrade gets a noop so the client can finish
         * it (socketioxide #479/#497, python-engineio #160) */
        s->io.reply(s->io.ctx, EIO_SESS_REQ_CURRENT, EIO_SESS_REPLY_PAYLOAD, (const uint8_t *)"6",
                    1);
        return false;
    }
    if (s->pending.len > 0) {
        s->io.reply(s->io.ctx, EIO_SESS_REQ_CURRENT, EIO_SESS_REPLY_PAYLOAD, s->pending.data,
                    s->pending.len);
        pd_buf_reset(&s->pending);
        return false;
    }
    s->poll_held = true;
    return true;
}

void eio_sess_poll_aborted(eio_sess *s, int64_t now_ms)
{
    (void)now_ms;
    if (!s || s->closed || !s->poll_held) return;
    s->poll_held = false;
    /* the reference closes a session whose pending poll was cancelled */
    session_close(s, "transport close", ANSWER_BAD);
}

bool eio_sess_post_begin(eio_sess *s)
{
    if (!s || s->closed || s->websocket) return false;
    if (s->post_active) {
        session_close(s, "transport error", ANSWER_CLOSE); /* its 400 comes with the body */
        return false;
    }
    s->post_active = true;
    return true;
}

void eio_sess_post_aborted(eio_sess *s)
{
    if (s) s->post_active = false;
}

/* The whole payload is valid: no empty record, every text record parses
 * ("b" records are checked as they are decoded). */
static bool payload_valid(const uint8_t *body, size_t len)
{
    size_t pos = 0;
    const uint8_t *rec;
    size_t rec_len;
    bool ok = len > 0;
    while (ok && eio_payload_next(body, len, &pos, &rec, &rec_len)) {
        eio_packet p;
        if (rec_len == 0)
            ok = false;
        else if (rec[0] != 'b')
            ok = eio_packet_parse_text(rec, rec_len, &p) == 0;
    }
    return ok;
}

void eio_sess_post(eio_sess *s, const uint8_t *body, size_t len, bool announced, bool octet_stream,
                   int64_t now_ms)
{
    if (!s || s->closed) return;
    if (s->websocket) { /* as in eio_sess_poll_get */
        s->io.reply(s->io.ctx, EIO_SESS_REQ_CURRENT, EIO_SESS_REPLY_BAD, NULL, 0);
        return;
    }
    if (announced) {
        s->post_active = false;
    } else if (s->post_active) {
        /* overlapping POSTs: the reference closes the session */
        s->io.reply(s->io.ctx, EIO_SESS_REQ_CURRENT, EIO_SESS_REPLY_BAD, NULL, 0);
        session_close(s, "transport error", ANSWER_CLOSE);
        return;
    }
    /* Engine.IO v4 polling is text only; the whole payload is checked
     * before acting on any packet, so a bad record does not leave half a
     * payload applied */
    if (octet_stream || !payload_valid(body, len)) {
        s->io.reply(s->io.ctx, EIO_SESS_REQ_CURRENT, EIO_SESS_REPLY_BAD, NULL, 0);
        session_close(s, "parse error", ANSWER_CLOSE);
        return;
    }
    /* answer first: packets may make the upper layer write to this session */
    s->io.reply(s->io.ctx, EIO_SESS_REQ_CURRENT, EIO_SESS_REPLY_OK, NULL, 0);
    size_t pos = 0;
    const uint8_t *rec;
    size_t rec_len;
    while (!s->closed && eio_payload_next(body, len, &pos, &rec, &rec_len)) {
        eio_packet p;
        uint8_t *scratch = NULL;
        if (rec[0] == 'b') {
            scratch = malloc(PD_BASE64_DECODED_MAX(rec_len));
            if (!scratch || eio_record_parse(rec, rec_len, scratch, &p) != 0) {
                free(scratch);
                session_close(s, "parse error", ANSWER_CLOSE);
                break;
            }
        } else {
            eio_packet_parse_text(rec, rec_len, &p);
        }
        on_packet(s, &p, now_ms);
        free(scratch);
    }
}

/* --- WebSocket ---------------------------------------------------------- */

void eio_sess_ws_frame(eio_sess *s, bool binary, const uint8_t *data, size_t len, int64_t now_ms)
{
    if (!s || s->closed || !s->websocket) return;
    eio_packet p;
    if (binary) {
        p = (eio_packet){.type = EIO_MESSAGE, .binary = true, .data = data, .len = len};
    } else if (eio_packet_parse_text(data, len, &p) != 0) {
        session_close(s, "parse error", ANSWER_BAD);
        return;
    }
    on_packet(s, &p, now_ms);
}

void eio_sess_ws_closed(eio_sess *s)
{
    if (s && !s->closed && s->websocket) session_close(s, "transport close", ANSWER_BAD);
}

bool eio_sess_probe_open(eio_sess *s, int64_t now_ms)
{
    if (!s || s->closed || s->websocket || s->probing) return false;
    s->probing = true;
    s->upgrade_at_ms = now_ms + s->cfg.upgrade_timeout_ms;
    return true;
}

static void probe_ended(eio_sess *s)
{
    s->probing = s->upgrading = false;
    s->upgrade_at_ms = EIO_SESS_NEVER;
    mark_dirty(s); /* output held back during the probe can go to polling again */
}

static void abort_probe(eio_sess *s)
{
    probe_ended(s);
    s->io.probe_close(s->io.ctx);
}

static void finish_upgrade(eio_sess *s)
{
    s->probing = s->upgrading = false;
    s->upgrade_at_ms = EIO_SESS_NEVER;
    s->websocket = true;
    s->io.upgraded(s->io.ctx);
    release_poll(s);
    /* packets buffered for polling now go over the WebSocket, in order */
    if (s->pending.len > 0) {
        size_t len;
        uint8_t *payload = pd_buf_steal(&s->pending, &len);
        size_t pos = 0;
        const uint8_t *rec;
        size_t rec_len;
        while (eio_payload_next(payload, len, &pos, &rec, &rec_len)) {
            eio_packet p;
            uint8_t *scratch =
                rec_len && rec[0] == 'b' ? malloc(PD_BASE64_DECODED_MAX(rec_len)) : NULL;
            if (eio_record_parse(rec, rec_len, scratch, &p) == 0) send_packet(s, &p);
            free(scratch);
        }
        free(payload);
    }
}

void eio_sess_probe_frame(eio_sess *s, bool binary, const uint8_t *data, size_t len)
{
    if (!s || s->closed || !s->probing) return;
    eio_packet p;
    bool text = !binary && eio_packet_parse_text(data, len, &p) == 0;
    if (text && p.type == EIO_PING && p.len == 5 && memcmp(p.data, "probe", 5) == 0 &&
        !s->upgrading) {
        s->io.ws_send(s->io.ctx, EIO_SESS_WS_PROBE, false, '3', (const uint8_t *)"probe", 5);
        s->upgrading = true;
        release_poll(s); /* the paused poller goes on */
    } else if (text && p.type == EIO_UPGRADE && p.len == 0 && s->upgrading) {
        finish_upgrade(s);
    } else {
        abort_probe(s);
    }
}

void eio_sess_probe_closed(eio_sess *s)
{
    if (s && !s->closed && s->probing) probe_ended(s);
}

/* --- time --------------------------------------------------------------- */

void eio_sess_tick(eio_sess *s, int64_t now_ms)
{
    if (!s || s->closed) return;
    if (s->upgrade_at_ms <= now_ms) {
        PD_LOG_DEBUG("upgrade timeout");
        abort_probe(s);
    }
    if (s->ping_at_ms > now_ms) return;
    if (s->awaiting_pong) {
        session_close(s, "ping timeout", ANSWER_BAD);
        return;
    }
    s->awaiting_pong = true;
    s->ping_at_ms = now_ms + s->cfg.ping_timeout_ms;
    eio_packet ping = {.type = EIO_PING};
    send_packet(s, &ping);
}

int64_t eio_sess_deadline(const eio_sess *s)
{
    if (!s || s->closed) return EIO_SESS_NEVER;
    return s->ping_at_ms < s->upgrade_at_ms ? s->ping_at_ms : s->upgrade_at_ms;
}

bool eio_sess_is_websocket(const eio_sess *s)
{
    return s && s->websocket;
}

bool eio_sess_is_closed(const eio_sess *s)
{
    return !s || s->closed;
}
