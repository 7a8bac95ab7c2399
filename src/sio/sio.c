/* sio.c: Socket.IO v5 packet decoder and encoder.
 *
 * The decoder follows socket.io-parser 4.2 (Decoder.decodeString and
 * isPayloadValid) but is strict where the reference leans on JavaScript's
 * Number() coercion, which no real client relies on:
 *  - the attachment count and the ack id are plain ASCII digits; the
 *    reference also takes "", " ", "0x5", "1e1" ("5-[..]" is 0 attachments,
 *    "2 [..]" is ack id 0 there);
 *  - so JSON may not start with whitespace (the reference would have read
 *    that whitespace as an ack id);
 *  - EVENT, ACK and CONNECT_ERROR need a payload (the reference only checks a
 *    payload that is present; "2" decodes there and is then ignored);
 *  - ack ids stop at 2^53-1, where a JavaScript number stops being exact.
 * JSON goes through jansson, with these gaps from JSON.parse: invalid UTF-8
 * and lone surrogate escapes are rejected (Node substitutes U+FFFD or keeps
 * the surrogate), "\u0000" inside an object key is rejected (jansson keys are
 * C strings), and numbers beyond double range are rejected (Node makes them
 * Infinity). A payload with an integer beyond int64 is read with every
 * number as a real, which is how JavaScript sees all numbers anyway; callers
 * should read numbers with json_number_value().
 *
 * The encoder writes JSON itself rather than with json_dumpb, because the
 * bytes must match JSON.stringify: numbers in JavaScript's shortest form
 * (0.1, 1, 1e+21; jansson writes 0.10000000000000001 and 1.0), control
 * characters as lowercase \u00xx, '/' and non-ASCII unescaped, and object
 * keys that are array indices ("0", "17") first in numeric order, as
 * JavaScript orders an object's own keys. */
#include "sio.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/limits.h"

/* 2^53 - 1: JavaScript's Number.MAX_SAFE_INTEGER. */
#define SIO_MAX_SAFE_INT 9007199254740991LL

/* Nesting the encoder follows before giving up. jansson's parser stops at
 * JSON_PARSER_MAX_DEPTH (2048), so a decoded tree always fits; the bound
 * only stops a hand-built cyclic tree from recursing forever. */
#define SIO_ENCODE_MAX_DEPTH 4096

const char *sio_strerror(int err)
{
    switch (err) {
#define SIO_ERR_CASE(name, value, text)                                                            \
    case name:                                                                                     \
        return text;
        SIO_ERRORS(SIO_ERR_CASE)
#undef SIO_ERR_CASE
    case 0:
        return "ok";
    default:
        return "unknown error";
    }
}

/* ---------------------------------------------------------------- decode */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Event names the reference refuses because they mean something to the
 * socket itself (RESERVED_EVENTS in socket.io-parser). */
static bool is_reserved_event(const char *s, size_t len)
{
    static const char *const reserved[] = {
        "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener",
    };
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++) {
        size_t n = strlen(reserved[i]);
        if (len == n && memcmp(s, reserved[i], n) == 0) return true;
    }
    return false;
}

static bool is_valid_event_args(const json_t *data)
{
    if (!json_is_array(data) || json_array_size(data) == 0) return false;
    const json_t *name = json_array_get(data, 0);
    if (json_is_number(name)) return true;
    if (!json_is_string(name)) return false;
    return !is_reserved_event(json_string_value(name), json_string_length(name));
}

/* isPayloadValid; data == NULL means the packet had no payload. */
static bool is_payload_valid(sio_type type, const json_t *data)
{
    switch (type) {
    case SIO_CONNECT:
        return data == NULL || json_is_object(data);
    case SIO_DISCONNECT:
        return data == NULL;
    case SIO_CONNECT_ERROR:
        return json_is_string(data) || json_is_object(data);
    case SIO_EVENT:
    case SIO_BINARY_EVENT:
        return is_valid_event_args(data);
    case SIO_ACK:
    case SIO_BINARY_ACK:
        return json_is_array(data);
    }
    return false;
}

/* "<digits>-" after a BINARY_* type digit. */
static int parse_attachments(const char *in, size_t len, size_t *i, unsigned max,
                             unsigned *attachments)
{
    size_t j = *i;
    unsigned long n = 0;
    while (j < len && is_digit(in[j])) {
        n = n * 10 + (unsigned long)(in[j] - '0');
        if (n > max) return SIO_E_ATTACHMENTS; /* also keeps n from overflowing */
        j++;
    }
    if (j == *i || j == len || in[j] != '-') return SIO_E_ATTACHMENTS;
    *attachments = (unsigned)n;
    *i = j + 1;
    return 0;
}

/* "/name" up to a ',' (consumed) or the end of the packet. */
static int parse_nsp(const char *in, size_t len, size_t *i, sio_packet *out)
{
    size_t start = *i;
    const char *comma = memchr(in + start, ',', len - start);
    size_t end = comma ? (size_t)(comma - in) : len;
    if (end - start > PD_MAX_SIO_NSP) return SIO_E_NSP;
    out->nsp = in + start;
    out->nsp_len = end - start;
    *i = comma ? end + 1 : len;
    return 0;
}

static int parse_ack_id(const char *in, size_t len, size_t *i, int64_t *ack_id)
{
    size_t j = *i;
    int64_t v = 0;
    while (j < len && is_digit(in[j])) {
        int d = in[j] - '0';
        if (v > (SIO_MAX_SAFE_INT - d) / 10) return SIO_E_SYNTAX;
        v = v * 10 + d;
        j++;
    }
    *ack_id = v;
    *i = j;
    return 0;
}

static int parse_json(const char *in, size_t len, json_t **data)
{
    /* whitespace here is where the reference would still be reading an
     * ack id, so the two parsers would disagree: refuse it */
    if (in[0] == ' ' || in[0] == '\t' || in[0] == '\n' || in[0] == '\r') return SIO_E_SYNTAX;
    json_error_t err;
    /* DECODE_ANY: CONNECT_ERROR may be a bare string; ALLOW_NUL: JSON.parse
     * accepts "\u0000" in strings */
    const size_t flags = JSON_DECODE_ANY | JSON_ALLOW_NUL;
    *data = json_loadb(in, len, flags, &err);
    /* an integer past int64 is fine for JavaScript, where every number is a
     * double: read the whole payload that way then (real overflow, 1e400,
     * still fails: JSON.parse would make it Infinity) */
    if (!*data && json_error_code(&err) == json_error_numeric_overflow)
        *data = json_loadb(in, len, flags | JSON_DECODE_INT_AS_REAL, &err);
    if (*data) return 0;
    return json_error_code(&err) == json_error_out_of_memory ? SIO_E_NOMEM : SIO_E_JSON;
}

static void packet_reset(sio_packet *p)
{
    p->type = SIO_CONNECT;
    p->nsp = "/";
    p->nsp_len = 1;
    p->ack_id = -1;
    p->attachments = 0;
    p->data = NULL;
}

/* The decode steps in wire order; stops at the first error. */
static int decode_fields(const char *in, size_t len, unsigned max_attachments, sio_packet *out)
{
    if (len == 0 || in[0] < '0' || in[0] > '6') return SIO_E_TYPE;
    out->type = (sio_type)(in[0] - '0');
    size_t i = 1;
    int r;
    if (out->type == SIO_BINARY_EVENT || out->type == SIO_BINARY_ACK) {
        if ((r = parse_attachments(in, len, &i, max_attachments, &out->attachments))) return r;
    }
    if (i < len && in[i] == '/' && (r = parse_nsp(in, len, &i, out))) return r;
    if (i < len && is_digit(in[i]) && (r = parse_ack_id(in, len, &i, &out->ack_id))) return r;
    if (i < len && (r = parse_json(in + i, len - i, &out->data))) return r;
    return is_payload_valid(out->type, out->data) ? 0 : SIO_E_PAYLOAD;
}

int sio_packet_decode_header(const char *in, size_t len, unsigned max_attachments, sio_packet *out,
                             size_t *payload_offset)
{
    if (!in || !out || !payload_offset) return SIO_E_SYNTAX;
    packet_reset(out);
    if (len == 0 || in[0] < '0' || in[0] > '6') return SIO_E_TYPE;
    out->type = (sio_type)(in[0] - '0');
    size_t i = 1;
    int r = 0;
    if (out->type == SIO_BINARY_EVENT || out->type == SIO_BINARY_ACK)
        r = parse_attachments(in, len, &i, max_attachments, &out->attachments);
    if (!r && i < len && in[i] == '/') r = parse_nsp(in, len, &i, out);
    if (!r && i < len && is_digit(in[i])) r = parse_ack_id(in, len, &i, &out->ack_id);
    if (r) {
        packet_reset(out);
        return r;
    }
    *payload_offset = i;
    return 0;
}

int sio_packet_decode(const char *in, size_t len, unsigned max_attachments, sio_packet *out)
{
    if (!out) return SIO_E_SYNTAX;
    packet_reset(out);
    if (!in) return SIO_E_TYPE;
    int r = decode_fields(in, len, max_attachments, out);
    if (r) {
        json_decref(out->data);
        packet_reset(out);
    }
    return r;
}

void sio_packet_cleanup(sio_packet *p)
{
    if (!p) return;
    json_decref(p->data);
    packet_reset(p);
}

const char *sio_event_name(const json_t *data)
{
    if (!json_is_array(data) || json_array_size(data) == 0) return NULL;
    return json_string_value(json_array_get(data, 0));
}

/* ---------------------------------------------------------------- encode */

/* Output with a sticky error, so the writers below need no checks. */
typedef struct enc {
    pd_buf *b;
    int err;
} enc;

static void put(enc *e, const void *s, size_t n)
{
    if (e->err || n == 0) return;
    int r = pd_buf_append(e->b, s, n);
    if (r == PD_BUF_E_FULL)
        e->err = SIO_E_TOO_BIG;
    else if (r)
        e->err = SIO_E_NOMEM;
}

static void put_str(enc *e, const char *s)
{
    put(e, s, strlen(s));
}

/* JSON.stringify's string form: '"', '\' and control characters escaped,
 * everything else (including '/' and UTF-8) as is. */
static void put_json_string(enc *e, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    put(e, "\"", 1);
    size_t run = 0; /* start of the pending unescaped bytes */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        put(e, s + run, i - run);
        run = i + 1;
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t n = 2;
        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
        }
        put(e, esc, n);
    }
    put(e, s + run, len - run);
    put(e, "\"", 1);
}

/* Shortest decimal digits that read back as d (> 0): the digits go to
 * `digits` (no dot, no trailing zeros) and the result is the decimal
 * exponent n such that d = 0.digits * 10^n, ECMAScript's "n". */
static int shortest_digits(double d, char digits[20], int *k)
{
    char tmp[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(tmp, sizeof tmp, "%.*e", p - 1, d);
        if (strtod(tmp, NULL) == d) break;
    }
    /* tmp is "D.DDDe+XX" or "De+XX" */
    const char *s = tmp;
    int n = 0;
    for (; *s && *s != 'e'; s++)
        if (is_digit(*s)) digits[n++] = *s;
    if (n == 0) digits[n++] = '0'; /* "%e" always writes one; digits[0] stays defined */
    while (n > 1 && digits[n - 1] == '0')
        n--;
    *k = n;
    return (int)strtol(s + 1, NULL, 10) + 1;
}

/* Number::toString (ECMA-262 6.1.6.1.20) for a finite double. */
static void put_js_number(enc *e, double d)
{
    char out[48], digits[20];
    size_t o = 0;
    int k;
    if (d == 0) { /* covers -0, which JSON.stringify writes as 0 */
        put(e, "0", 1);
        return;
    }
    if (d < 0) {
        out[o++] = '-';
        d = -d;
    }
    int n = shortest_digits(d, digits, &k);
    if (k <= n && n <= 21) { /* integer: digits then zeros */
        memcpy(out + o, digits, (size_t)k);
        o += (size_t)k;
        for (int z = 0; z < n - k; z++)
            out[o++] = '0';
    } else if (0 < n && n <= 21) { /* dot inside the digits */
        memcpy(out + o, digits, (size_t)n);
        o += (size_t)n;
        out[o++] = '.';
        memcpy(out + o, digits + n, (size_t)(k - n));
        o += (size_t)(k - n);
    } else if (-6 < n && n <= 0) { /* 0.000ddd */
        out[o++] = '0';
        out[o++] = '.';
        for (int z = 0; z < -n; z++)
            out[o++] = '0';
        memcpy(out + o, digits, (size_t)k);
        o += (size_t)k;
    } else { /* exponent form: d[.ddd]e+X */
        out[o++] = digits[0];
        if (k > 1) {
            out[o++] = '.';
            memcpy(out + o, digits + 1, (size_t)(k - 1));
            o += (size_t)(k - 1);
        }
        o += (size_t)snprintf(out + o, sizeof out - o, "e%c%d", n - 1 >= 0 ? '+' : '-', abs(n - 1));
    }
    put(e, out, o);
}

static void put_integer(enc *e, json_int_t v)
{
    /* past 2^53 JavaScript has already rounded the value to a double */
    if (v > SIO_MAX_SAFE_INT + 1 || v < -SIO_MAX_SAFE_INT - 1) {
        put_js_number(e, (double)v);
        return;
    }
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%" JSON_INTEGER_FORMAT, v);
    put(e, tmp, (size_t)n);
}

/* A key JavaScript treats as an array index: canonical decimal < 2^32 - 1. */
static bool key_index(const char *key, size_t len, unsigned long long *index)
{
    if (len == 0 || len > 10 || (len > 1 && key[0] == '0')) return false;
    unsigned long long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!is_digit(key[i])) return false;
        v = v * 10 + (unsigned long long)(key[i] - '0');
    }
    if (v > 4294967294ULL) return false;
    *index = v;
    return true;
}

typedef struct key_entry {
    unsigned long long index;
    void *iter;
} key_entry;

static int cmp_index(const void *a, const void *b)
{
    const key_entry *x = a, *y = b;
    return x->index < y->index ? -1 : x->index > y->index;
}

static void put_value(enc *e, const json_t *v, int depth);

static void put_member(enc *e, void *iter, bool *first, int depth)
{
    if (!*first) put(e, ",", 1);
    *first = false;
    put_json_string(e, json_object_iter_key(iter), json_object_iter_key_len(iter));
    put(e, ":", 1);
    put_value(e, json_object_iter_value(iter), depth);
}

/* Index-like keys first in numeric order, then the rest in insertion order
 * (jansson iterates in insertion order, as JavaScript lists string keys). */
static void put_object(enc *e, const json_t *obj, int depth)
{
    json_t *o = (json_t *)obj; /* jansson's iterator API is not const */
    size_t n_index = 0, size = json_object_size(o);
    if (size == 0) {
        put(e, "{}", 2);
        return;
    }
    key_entry *idx = malloc(size * sizeof *idx);
    if (!idx) {
        e->err = SIO_E_NOMEM;
        return;
    }
    for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it)) {
        unsigned long long index;
        if (key_index(json_object_iter_key(it), json_object_iter_key_len(it), &index))
            idx[n_index++] = (key_entry){index, it};
    }
    if (n_index > 1) qsort(idx, n_index, sizeof *idx, cmp_index);
    bool first = true;
    put(e, "{", 1);
    for (size_t i = 0; i < n_index; i++)
        put_member(e, idx[i].iter, &first, depth);
    for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it)) {
        unsigned long long index;
        if (!key_index(json_object_iter_key(it), json_object_iter_key_len(it), &index))
            put_member(e, it, &first, depth);
    }
    put(e, "}", 1);
    free(idx);
}

static void put_value(enc *e, const json_t *v, int depth)
{
    if (e->err) return;
    if (depth > SIO_ENCODE_MAX_DEPTH) {
        e->err = SIO_E_JSON;
        return;
    }
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        put_object(e, v, depth + 1);
        break;
    case JSON_ARRAY:
        put(e, "[", 1);
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i) put(e, ",", 1);
            put_value(e, json_array_get(v, i), depth + 1);
        }
        put(e, "]", 1);
        break;
    case JSON_STRING:
        put_json_string(e, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        put_integer(e, json_integer_value(v));
        break;
    case JSON_REAL:
        put_js_number(e, json_real_value(v));
        break;
    case JSON_TRUE:
        put_str(e, "true");
        break;
    case JSON_FALSE:
        put_str(e, "false");
        break;
    case JSON_NULL:
        put_str(e, "null");
        break;
    }
}

static bool nsp_is_root(const char *nsp, size_t nsp_len)
{
    return !nsp || nsp_len == 0 || (nsp_len == 1 && nsp[0] == '/');
}

/* A namespace we write must decode back to itself. */
static bool nsp_is_encodable(const char *nsp, size_t nsp_len)
{
    return nsp[0] == '/' && nsp_len <= PD_MAX_SIO_NSP && !memchr(nsp, ',', nsp_len);
}

static void put_header(enc *e, sio_type type, const char *nsp, size_t nsp_len, int64_t ack_id,
                       unsigned attachments)
{
    char tmp[32];
    tmp[0] = (char)('0' + type);
    put(e, tmp, 1);
    if (type == SIO_BINARY_EVENT || type == SIO_BINARY_ACK)
        put(e, tmp, (size_t)snprintf(tmp, sizeof tmp, "%u-", attachments));
    if (!nsp_is_root(nsp, nsp_len)) {
        put(e, nsp, nsp_len);
        put(e, ",", 1);
    }
    if (ack_id >= 0) put(e, tmp, (size_t)snprintf(tmp, sizeof tmp, "%lld", (long long)ack_id));
}

static int check_header(const pd_buf *out, sio_type type, const char *nsp, size_t nsp_len,
                        int64_t ack_id)
{
    if (!out) return SIO_E_SYNTAX;
    if ((unsigned)type > SIO_BINARY_ACK) return SIO_E_TYPE;
    if (!nsp_is_root(nsp, nsp_len) && !nsp_is_encodable(nsp, nsp_len)) return SIO_E_NSP;
    if (ack_id > SIO_MAX_SAFE_INT) return SIO_E_SYNTAX;
    return 0;
}

int sio_packet_encode_header(pd_buf *out, sio_type type, const char *nsp, size_t nsp_len,
                             int64_t ack_id, unsigned attachments)
{
    int rc = check_header(out, type, nsp, nsp_len, ack_id);
    if (rc) return rc;
    enc e = {out, 0};
    size_t start = out->len;
    put_header(&e, type, nsp, nsp_len, ack_id, attachments);
    if (e.err) out->len = start;
    return e.err;
}

int sio_json_string_append(pd_buf *out, const char *s, size_t len)
{
    enc e = {out, 0};
    size_t start = out->len;
    put_json_string(&e, s, len);
    if (e.err) out->len = start;
    return e.err;
}

int sio_packet_encode(pd_buf *out, sio_type type, const char *nsp, size_t nsp_len, int64_t ack_id,
                      unsigned attachments, const json_t *data)
{
    int rc = check_header(out, type, nsp, nsp_len, ack_id);
    if (rc) return rc;
    enc e = {out, 0};
    size_t start = out->len;
    put_header(&e, type, nsp, nsp_len, ack_id, attachments);
    /* JSON.stringify is skipped for null and undefined data alike */
    if (data && !json_is_null(data)) put_value(&e, data, 0);
    if (e.err) out->len = start; /* all or nothing */
    return e.err;
}
