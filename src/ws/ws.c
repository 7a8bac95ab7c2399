/* ws.c: RFC 6455 server-side codec (see ws.h).
 *
 * Frames are parsed in the caller's buffer and unmasked there; only a
 * fragmented message is copied, into the reader's pd_buf, whose ceiling is
 * the message limit. Sending (framing our own payloads, flushing) and the
 * handshake's HTTP part are left to the caller. */
#include "ws.h"

#include "../base/utf8.h"

#include <assert.h>
#include <limits.h>
#include <string.h>

#include <openssl/sha.h>

#include "../base/base64.h"

/* RFC 6455 §5.5: "All control frames MUST have a payload length of 125 bytes
 * or less and MUST NOT be fragmented." */
#define WS_MAX_CONTROL 125u

/* RFC 6455 §7.4.1 1011: "encountered an unexpected condition"; used for OOM. */
#define WS_CLOSE_INTERNAL_ERROR 1011

const char *ws_strerror(int err)
{
    switch (err) {
#define WS_ERR_TEXT(name, value, text)                                                             \
    case name:                                                                                     \
        return text;
        WS_ERRORS(WS_ERR_TEXT)
#undef WS_ERR_TEXT
    }
    return err >= 0 ? "ok" : "unknown error";
}

uint16_t ws_error_close_code(int err)
{
    switch (err) {
    case WS_E_TOO_BIG:
        return WS_CLOSE_TOO_BIG;
    case WS_E_UTF8:
        return WS_CLOSE_INVALID_DATA;
    case WS_E_NOMEM:
        return WS_CLOSE_INTERNAL_ERROR;
    default:
        return WS_CLOSE_PROTOCOL_ERROR;
    }
}

/* ---- handshake ---------------------------------------------------------- */

bool ws_accept_key(const char *key, size_t key_len, char out[29])
{
    /* RFC 6455 §4.2.1 item 5: the key is base64 of 16 random bytes, always
     * 24 chars with "==" padding. */
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    if (!key || !out || key_len != 24) return false;
    uint8_t raw[PD_BASE64_DECODED_MAX(24)];
    if (pd_base64_decode(key, key_len, raw) != 16) return false;
    /* §4.2.2: SHA-1 over the key as sent (not decoded) plus the GUID */
    uint8_t concat[24 + sizeof guid - 1];
    memcpy(concat, key, 24);
    memcpy(concat + 24, guid, sizeof guid - 1);
    uint8_t digest[SHA_DIGEST_LENGTH];
    SHA1(concat, sizeof concat, digest);
    size_t n = pd_base64_encode(digest, sizeof digest, out);
    assert(n == 28);
    out[n] = '\0';
    return true;
}

/* ---- frames ------------------------------------------------------------- */

static bool opcode_known(unsigned op)
{
    return op == WS_OP_CONTINUATION || op == WS_OP_TEXT || op == WS_OP_BINARY ||
           op == WS_OP_CLOSE || op == WS_OP_PING || op == WS_OP_PONG;
}

static bool opcode_is_control(unsigned op)
{
    return (op & 0x8) != 0;
}

/* Reads the 7/16/64-bit payload length (RFC 6455 §5.2). Sets *hdr_len to the
 * bytes used so far (without the mask key). The minimal encoding is not
 * required: the RFC says MUST for senders only, and rejecting it buys nothing. */
static long read_length(const uint8_t *in, size_t len, size_t *hdr_len, uint64_t *payload_len)
{
    unsigned len7 = in[1] & 0x7f;
    if (len7 < 126) {
        *hdr_len = 2;
        *payload_len = len7;
        return 0;
    }
    size_t n = len7 == 126 ? 2 : 8;
    if (len < 2 + n) return WS_PARTIAL;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | in[2 + i];
    if (n == 8 && (v >> 63)) return WS_E_PROTOCOL; /* §5.2: "the most significant bit MUST be 0" */
    *hdr_len = 2 + n;
    *payload_len = v;
    return 0;
}

/* Checks the first two bytes: reserved bits, opcode, control-frame rules and
 * masking. Errors show up as soon as their bytes are in. */
static long check_first_bytes(const uint8_t *in, bool require_mask)
{
    unsigned op = in[0] & 0x0f;
    if (in[0] & 0x70) return WS_E_PROTOCOL; /* RSV1-3: no extension negotiated */
    if (!opcode_known(op)) return WS_E_PROTOCOL;
    if (opcode_is_control(op) && (!(in[0] & 0x80) || (in[1] & 0x7f) > WS_MAX_CONTROL))
        return WS_E_PROTOCOL;
    /* §5.1: "The server MUST close the connection upon receiving a frame
     * that is not masked." */
    if (require_mask && !(in[1] & 0x80)) return WS_E_PROTOCOL;
    return 0;
}

static void unmask(uint8_t *p, size_t len, const uint8_t key[4])
{
    for (size_t i = 0; i < len; i++)
        p[i] ^= key[i & 3];
}

long ws_frame_parse(uint8_t *in, size_t len, bool require_mask, size_t max_payload, ws_frame *out)
{
    if (!out || (!in && len > 0)) return WS_E_PROTOCOL;
    if (len < 2) return WS_PARTIAL;
    long rc = check_first_bytes(in, require_mask);
    if (rc < 0) return rc;
    size_t hdr_len;
    uint64_t payload_len;
    rc = read_length(in, len, &hdr_len, &payload_len);
    if (rc < 0) return rc;
    if (payload_len > max_payload) return WS_E_TOO_BIG;
    bool masked = in[1] & 0x80;
    size_t mask_len = masked ? 4 : 0;
    /* the whole frame's length must fit in the long we return */
    if (payload_len > (uint64_t)LONG_MAX - hdr_len - mask_len) return WS_E_TOO_BIG;
    size_t total = hdr_len + mask_len + (size_t)payload_len;
    if (len < total) return WS_PARTIAL;
    out->fin = in[0] & 0x80;
    out->opcode = (ws_opcode)(in[0] & 0x0f);
    out->payload = in + hdr_len + mask_len;
    out->payload_len = (size_t)payload_len;
    if (masked) unmask(out->payload, out->payload_len, in + hdr_len);
    return (long)total;
}

size_t ws_frame_header_encode(uint8_t out[10], bool fin, ws_opcode opcode, uint64_t payload_len)
{
    out[0] = (uint8_t)((fin ? 0x80 : 0) | (opcode & 0x0f));
    if (payload_len < 126) {
        out[1] = (uint8_t)payload_len;
        return 2;
    }
    if (payload_len <= 0xffff) {
        out[1] = 126;
        out[2] = (uint8_t)(payload_len >> 8);
        out[3] = (uint8_t)payload_len;
        return 4;
    }
    out[1] = 127;
    for (int i = 0; i < 8; i++)
        out[2 + i] = (uint8_t)(payload_len >> (56 - 8 * i));
    return 10;
}

size_t ws_frame_header_encode_masked(uint8_t out[14], bool fin, ws_opcode opcode,
                                     uint64_t payload_len, const uint8_t key[4])
{
    size_t h = ws_frame_header_encode(out, fin, opcode, payload_len);
    out[1] |= 0x80;
    memcpy(out + h, key, 4);
    return h + 4;
}

void ws_mask(uint8_t *data, size_t len, const uint8_t key[4], uint64_t offset)
{
    for (size_t i = 0; i < len; i++)
        data[i] ^= key[(offset + i) & 3];
}

size_t ws_close_payload_encode(uint8_t out[125], uint16_t code, const char *reason)
{
    out[0] = (uint8_t)(code >> 8);
    out[1] = (uint8_t)code;
    size_t n = reason ? strnlen(reason, WS_MAX_CONTROL - 1) : 0;
    if (n > WS_MAX_CONTROL - 2) {
        /* cut to 123 bytes, but not inside a UTF-8 sequence: browsers fail
         * the connection on an invalid close reason (RFC 6455 §5.5.1) */
        n = WS_MAX_CONTROL - 2;
        while (n > 0 && ((unsigned char)reason[n] & 0xc0) == 0x80)
            n--;
    }
    memcpy(out + 2, reason ? reason : "", n);
    return 2 + n;
}

/* ---- UTF-8 -------------------------------------------------------------- */

bool ws_utf8_valid(const uint8_t *s, size_t len)
{
    return pd_utf8_valid(s, len);
}

/* ---- reader ------------------------------------------------------------- */

void ws_reader_init(ws_reader *r, size_t max_message)
{
    pd_buf_init(&r->fragments, max_message);
    r->frag_opcode = 0;
    r->in_fragmented = false;
    r->max_message = max_message;
}

static void reader_idle(ws_reader *r)
{
    pd_buf_reset(&r->fragments);
    r->frag_opcode = 0;
    r->in_fragmented = false;
}

void ws_reader_cleanup(ws_reader *r)
{
    if (r) reader_idle(r);
}

/* RFC 6455 §7.4: codes a peer may send. 1004-1006 and 1015 are reserved for
 * local use, other codes below 3000 are unassigned, 5000+ are invalid.
 * 1012-1014 come from the IANA registry (restart, try again, bad gateway). */
static bool close_code_valid(unsigned code)
{
    if (code >= 1000 && code <= 1003) return true;
    if (code >= 1007 && code <= 1014) return true;
    return code >= 3000 && code <= 4999;
}

/* msg->data is the reason text; the code goes in msg->close_code. */
static int deliver_close(const ws_frame *f, ws_message *msg)
{
    msg->opcode = WS_OP_CLOSE;
    if (f->payload_len == 0) {
        msg->close_code = 1005; /* §7.1.5: "no status code was actually present" */
        msg->data = f->payload;
        msg->len = 0;
        return 1;
    }
    if (f->payload_len == 1) return WS_E_PROTOCOL;
    unsigned code = (unsigned)f->payload[0] << 8 | f->payload[1];
    if (!close_code_valid(code)) return WS_E_PROTOCOL;
    if (!ws_utf8_valid(f->payload + 2, f->payload_len - 2)) return WS_E_PROTOCOL;
    msg->close_code = (uint16_t)code;
    msg->data = f->payload + 2;
    msg->len = f->payload_len - 2;
    return 1;
}

static int deliver(ws_opcode op, const uint8_t *data, size_t len, ws_message *msg)
{
    if (op == WS_OP_TEXT && !ws_utf8_valid(data, len)) return WS_E_UTF8;
    msg->opcode = op;
    msg->data = data;
    msg->len = len;
    msg->close_code = 0;
    return 1;
}

static int append_fragment(ws_reader *r, const ws_frame *f)
{
    int rc = pd_buf_append(&r->fragments, f->payload, f->payload_len);
    if (rc == PD_BUF_E_FULL) return WS_E_TOO_BIG;
    if (rc < 0) return WS_E_NOMEM;
    return 0;
}

static int on_data_frame(ws_reader *r, const ws_frame *f, ws_message *msg)
{
    /* a short frame may pass the parse-time limit (raised to fit control
     * frames), so the message budget is checked here once more */
    if (f->payload_len > r->max_message - r->fragments.len) return WS_E_TOO_BIG;
    if (f->opcode != WS_OP_CONTINUATION) {
        /* §5.4: a new message may not start inside a fragmented one */
        if (r->in_fragmented) return WS_E_PROTOCOL;
        if (f->fin) return deliver(f->opcode, f->payload, f->payload_len, msg); /* no copy */
        r->in_fragmented = true;
        r->frag_opcode = f->opcode;
        int rc = append_fragment(r, f);
        return rc < 0 ? rc : 0;
    }
    if (!r->in_fragmented) return WS_E_PROTOCOL; /* continuation of nothing */
    int rc = append_fragment(r, f);
    if (rc < 0) return rc;
    if (!f->fin) return 0;
    /* The buffer stays allocated until the next feed so msg->data remains
     * valid as ws.h promises; that feed frees it first thing. */
    ws_opcode op = r->frag_opcode;
    r->in_fragmented = false;
    r->frag_opcode = 0;
    return deliver(op, r->fragments.data, r->fragments.len, msg);
}

int ws_reader_feed(ws_reader *r, uint8_t *in, size_t len, size_t *consumed, ws_message *msg)
{
    if (!r || !consumed || !msg || (!in && len > 0)) return WS_E_PROTOCOL;
    *consumed = 0;
    /* a message delivered by the last call is no longer referenced: give its
     * storage back so an idle reader holds no heap memory */
    if (!r->in_fragmented && r->fragments.data) pd_buf_reset(&r->fragments);
    size_t budget = r->max_message - r->fragments.len;
    if (budget < WS_MAX_CONTROL) budget = WS_MAX_CONTROL; /* control frames fit always */
    ws_frame f;
    long n = ws_frame_parse(in, len, true, budget, &f);
    if (n == WS_PARTIAL) return 0;
    if (n < 0) {
        reader_idle(r);
        return (int)n;
    }
    *consumed = (size_t)n;
    int rc = f.opcode == WS_OP_CLOSE       ? deliver_close(&f, msg)
             : opcode_is_control(f.opcode) ? deliver(f.opcode, f.payload, f.payload_len, msg)
                                           : on_data_frame(r, &f, msg);
    if (rc < 0) reader_idle(r);
    return rc;
}
