/* eio.c: Engine.IO v4 packet, payload, handshake and query codec.
 *
 * Behaviour follows the reference engine.io-parser 5.x and engine.io 6.6
 * (Server.verify / Server.handshake). Where the reference is lenient in a way
 * no real client relies on, this codec is strict and says so below:
 *  - base64 in "b" records must be well formed (Node's Buffer.from skips bad
 *    characters instead);
 *  - a text packet we format may not contain 0x1e, because the reference
 *    would split it into two records on the other side.
 * Sessions, timers and sockets are not here (src/server/engine.c). */
#include "eio.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "../base/base64.h"
#include "../http/http.h"

#define EIO_SEPARATOR 0x1e /* ASCII record separator between polling records */

const char *eio_strerror(int err)
{
    switch (err) {
#define EIO_ERR_CASE(name, value, text)                                                            \
    case name:                                                                                     \
        return text;
        EIO_ERRORS(EIO_ERR_CASE)
#undef EIO_ERR_CASE
    case 0:
        return "ok";
    default:
        return "unknown error";
    }
}

int eio_packet_parse_text(const uint8_t *in, size_t len, eio_packet *out)
{
    if (!out) return EIO_E_SYNTAX;
    memset(out, 0, sizeof *out);
    /* the reference's decodePacket: an empty string or an unknown type
     * character is the "parser error" packet */
    if (!in || len == 0 || in[0] < '0' || in[0] > '6') return EIO_E_SYNTAX;
    out->type = (eio_type)(in[0] - '0');
    out->binary = false;
    out->data = in + 1;
    out->len = len - 1;
    return 0;
}

/* Records are what String.split(0x1e) gives, so n separators always yield
 * n + 1 records, empty ones included ("" is one empty record, "4a\x1e" ends
 * with one). *pos == len + 1 marks "no more records". */
int eio_payload_next(const uint8_t *in, size_t len, size_t *pos, const uint8_t **rec,
                     size_t *rec_len)
{
    if (!pos || !rec || !rec_len || (!in && len > 0)) return 0;
    if (*pos > len) return 0;
    size_t start = *pos;
    const uint8_t *sep = len > start ? memchr(in + start, EIO_SEPARATOR, len - start) : NULL;
    size_t end = sep ? (size_t)(sep - in) : len;
    *rec = in ? in + start : (const uint8_t *)"";
    *rec_len = end - start;
    *pos = end + 1;
    return 1;
}

int eio_record_parse(const uint8_t *rec, size_t rec_len, uint8_t *scratch, eio_packet *out)
{
    if (!out) return EIO_E_SYNTAX;
    if (!rec || rec_len == 0 || rec[0] != 'b') return eio_packet_parse_text(rec, rec_len, out);
    memset(out, 0, sizeof *out);
    if (!scratch) return EIO_E_SYNTAX;
    long n = pd_base64_decode((const char *)rec + 1, rec_len - 1, scratch);
    if (n < 0) return EIO_E_SYNTAX;
    out->type = EIO_MESSAGE;
    out->binary = true;
    out->data = scratch;
    out->len = (size_t)n;
    return 0;
}

/* Bytes eio_payload_append will add, or 0 when the packet cannot be framed. */
static size_t payload_record_len(const pd_buf *out, const eio_packet *p)
{
    size_t sep = out->len > 0 ? 1 : 0;
    if (p->binary) {
        if (p->len > (SIZE_MAX - 2) / 4 * 3 - 3) return 0;
        return sep + 1 + PD_BASE64_ENCODED_LEN(p->len);
    }
    if (p->len > SIZE_MAX - 2) return 0;
    return sep + 1 + p->len;
}

int eio_payload_append(pd_buf *out, const eio_packet *p)
{
    if (!out || !p || (p->len > 0 && !p->data)) return EIO_E_SYNTAX;
    if ((unsigned)p->type > EIO_NOOP) return EIO_E_SYNTAX;
    /* over polling only message packets carry binary (as "b" + base64) */
    if (p->binary && p->type != EIO_MESSAGE) return EIO_E_SYNTAX;
    if (!p->binary && p->len > 0 && memchr(p->data, EIO_SEPARATOR, p->len)) return EIO_E_SYNTAX;
    size_t need = payload_record_len(out, p);
    if (need == 0 || need > out->max || out->len > out->max - need) return EIO_E_TOO_BIG;
    uint8_t *dst = pd_buf_reserve(out, need);
    if (!dst) return EIO_E_NOMEM;
    size_t o = 0;
    if (out->len > 0) dst[o++] = EIO_SEPARATOR;
    if (p->binary) {
        dst[o++] = 'b';
        o += pd_base64_encode(p->data, p->len, (char *)dst + o);
    } else {
        dst[o++] = (uint8_t)('0' + p->type);
        if (p->len > 0) memcpy(dst + o, p->data, p->len);
        o += p->len;
    }
    pd_buf_commit(out, o);
    return 0;
}

/* A bounded string writer: every put keeps going after overflow so callers
 * check once at the end. */
typedef struct json_out {
    char *p;
    size_t cap, len;
} json_out;

static void out_bytes(json_out *o, const char *s, size_t n)
{
    if (o->len < o->cap) {
        size_t room = o->cap - o->len;
        memcpy(o->p + o->len, s, n < room ? n : room);
    }
    o->len += n;
}

static void out_str(json_out *o, const char *s)
{
    out_bytes(o, s, strlen(s));
}

static void out_uint(json_out *o, unsigned v)
{
    char tmp[16];
    int n = snprintf(tmp, sizeof tmp, "%u", v);
    out_bytes(o, tmp, (size_t)n);
}

/* A JSON string as JSON.stringify writes it: only '"', '\' and control
 * characters are escaped. */
static void out_json_string(json_out *o, const char *s)
{
    out_bytes(o, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            out_bytes(o, esc, 2);
        } else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            out_bytes(o, esc, 6);
        } else {
            out_bytes(o, (const char *)&c, 1);
        }
    }
    out_bytes(o, "\"", 1);
}

/* Finishes a json_out: NUL-terminates and returns the length, or -1 when
 * the text plus its NUL did not fit. */
static int out_finish(json_out *o)
{
    if (o->len >= o->cap || o->len > (size_t)INT32_MAX) return -1;
    o->p[o->len] = '\0';
    return (int)o->len;
}

int eio_open_json(char *out, size_t cap, const char *sid, bool upgrades_websocket,
                  unsigned ping_interval_ms, unsigned ping_timeout_ms, unsigned max_payload)
{
    if (!out || !sid) return -1;
    json_out o = {out, cap, 0};
    /* key order is the reference's (Socket.onOpen), so the bytes match */
    out_str(&o, "{\"sid\":");
    out_json_string(&o, sid);
    out_str(&o, upgrades_websocket ? ",\"upgrades\":[\"websocket\"]" : ",\"upgrades\":[]");
    out_str(&o, ",\"pingInterval\":");
    out_uint(&o, ping_interval_ms);
    out_str(&o, ",\"pingTimeout\":");
    out_uint(&o, ping_timeout_ms);
    out_str(&o, ",\"maxPayload\":");
    out_uint(&o, max_payload);
    out_str(&o, "}");
    return out_finish(&o);
}

/* The reference reads the query through URLSearchParams and
 * Object.fromEntries, so a repeated key's last value wins. */
static bool query_last(const char *query, size_t query_len, const char *key, const char **val,
                       size_t *val_len)
{
    bool found = false;
    const char *q = query;
    size_t q_len = query_len;
    const char *v;
    size_t v_len;
    while (q_len > 0 && http_query_get(q, q_len, key, &v, &v_len)) {
        found = true;
        *val = v;
        *val_len = v_len;
        size_t used = (size_t)(v + v_len - q);
        q += used;
        q_len -= used;
    }
    return found;
}

/* True if the query has `key` and its percent-decoded value is `want`
 * (the reference compares decoded values, so "pol%6Cing" is "polling"). */
static bool query_value_is(const char *query, size_t query_len, const char *key, const char *want)
{
    const char *v;
    size_t v_len;
    char dec[32];
    size_t want_len = strlen(want);
    assert(want_len * 3 <= sizeof dec);
    if (!query_last(query, query_len, key, &v, &v_len)) return false;
    /* one decoded byte comes from at most 3 encoded ones ("%xx") */
    if (v_len > want_len * 3) return false;
    long n = http_percent_decode(v, v_len, dec);
    return n >= 0 && (size_t)n == want_len && memcmp(dec, want, want_len) == 0;
}

eio_http_error eio_query_parse(const char *query, size_t query_len, eio_query *out)
{
    if (!out) return EIO_HTTP_BAD_REQUEST;
    memset(out, 0, sizeof *out);
    if (!query) query_len = 0;
    /* Server.verify checks the transport before anything else */
    if (query_value_is(query, query_len, "transport", "polling"))
        out->transport = EIO_TRANSPORT_POLLING;
    else if (query_value_is(query, query_len, "transport", "websocket"))
        out->transport = EIO_TRANSPORT_WEBSOCKET;
    else
        return EIO_HTTP_UNKNOWN_TRANSPORT;
    const char *sid = NULL;
    size_t sid_len = 0;
    /* `if (sid)` in the reference: an empty sid means a handshake */
    if (query_last(query, query_len, "sid", &sid, &sid_len) && sid_len > 0) {
        out->sid = sid;
        out->sid_len = sid_len;
        /* requests inside a session never look at EIO (only handshake does) */
        return EIO_HTTP_OK;
    }
    if (!query_value_is(query, query_len, "EIO", "4")) return EIO_HTTP_UNSUPPORTED_PROTOCOL_VERSION;
    return EIO_HTTP_OK;
}

const char *eio_http_error_message(eio_http_error code)
{
    switch (code) {
    case EIO_HTTP_UNKNOWN_TRANSPORT:
        return "Transport unknown";
    case EIO_HTTP_UNKNOWN_SID:
        return "Session ID unknown";
    case EIO_HTTP_BAD_HANDSHAKE_METHOD:
        return "Bad handshake method";
    case EIO_HTTP_BAD_REQUEST:
        return "Bad request";
    case EIO_HTTP_FORBIDDEN:
        return "Forbidden";
    case EIO_HTTP_UNSUPPORTED_PROTOCOL_VERSION:
        return "Unsupported protocol version";
    default:
        return NULL;
    }
}

int eio_http_error_json(char *out, size_t cap, eio_http_error code)
{
    const char *msg = eio_http_error_message(code);
    if (!out || !msg) return -1;
    json_out o = {out, cap, 0};
    out_str(&o, "{\"code\":");
    out_uint(&o, (unsigned)code);
    out_str(&o, ",\"message\":");
    out_json_string(&o, msg);
    out_str(&o, "}");
    return out_finish(&o);
}
