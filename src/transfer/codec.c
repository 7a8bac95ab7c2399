/* codec.c: transfer protocol messages (docs/protocol.md §3, §4).
 *
 * Encoding writes the canonical form byte for byte as the TS side's
 * JSON.stringify does (member order of §3.2, no whitespace, ECMAScript
 * string escapes), so both produce the stored test vectors. Decoding uses
 * jansson and then applies the same checks as web/src/protocol/codec.ts, in
 * particular string limits counted in UTF-16 code units as JS counts them.
 * Known difference: JSON with a lone-surrogate escape ("\ud800") is refused
 * here as PROTOCOL (jansson refuses it), where the TS side refuses the same
 * manifest as UNSAFE_PATH; either way nothing is written. */
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"
#include "transfer/codec.h"

const char *xfer_strerror(int err)
{
    switch (err) {
#define XFER_ERR_CASE(name, value, text)                                                           \
    case value:                                                                                    \
        return text;
        XFER_ERRORS(XFER_ERR_CASE)
#undef XFER_ERR_CASE
    }
    return "unknown error";
}

static const char *const code_names[] = {"PROTOCOL",    "VERSION",       "TOO_BIG",
                                         "UNSAFE_PATH", "HASH_MISMATCH", "READ_ERROR",
                                         "WRITE_ERROR", "INTERNAL",      "AUTH_FAILED"};

const char *xfer_code_name(xfer_code c)
{
    if ((unsigned)c >= sizeof code_names / sizeof code_names[0]) return "INTERNAL";
    return code_names[c];
}

xfer_code xfer_code_parse(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof code_names / sizeof code_names[0]; i++)
        if (strlen(code_names[i]) == len && memcmp(code_names[i], name, len) == 0)
            return (xfer_code)i;
    return XFER_CODE_INTERNAL;
}

/* ---------------- encoding ---------------- */

int xfer_json_string(pd_buf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    if (pd_buf_append_byte(out, '"')) return XFER_E_NOMEM;
    size_t run = 0; /* bytes copied verbatim since the last escape */
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        char esc[7];
        size_t esc_len = 0;
        switch (ch) {
        case '"':
            esc_len = 2, esc[0] = '\\', esc[1] = '"';
            break;
        case '\\':
            esc_len = 2, esc[0] = '\\', esc[1] = '\\';
            break;
        case '\b':
            esc_len = 2, esc[0] = '\\', esc[1] = 'b';
            break;
        case '\t':
            esc_len = 2, esc[0] = '\\', esc[1] = 't';
            break;
        case '\n':
            esc_len = 2, esc[0] = '\\', esc[1] = 'n';
            break;
        case '\f':
            esc_len = 2, esc[0] = '\\', esc[1] = 'f';
            break;
        case '\r':
            esc_len = 2, esc[0] = '\\', esc[1] = 'r';
            break;
        default:
            if (ch < 0x20) {
                memcpy(esc, "\\u00", 4);
                esc[4] = hex[ch >> 4];
                esc[5] = hex[ch & 15];
                esc_len = 6;
            }
        }
        if (esc_len == 0) {
            run++;
            continue;
        }
        if (pd_buf_append(out, s + i - run, run) || pd_buf_append(out, esc, esc_len))
            return XFER_E_NOMEM;
        run = 0;
    }
    if (pd_buf_append(out, s + len - run, run) || pd_buf_append_byte(out, '"')) return XFER_E_NOMEM;
    return XFER_OK;
}

/* peerText's removal set (codec.ts) */
static bool peer_text_dropped(unsigned cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x061C ||
           (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202E) ||
           (cp >= 0x2060 && cp <= 0x206F) || cp == 0xFEFF;
}

/* ECMAScript's \s, less what peer_text_dropped removes first */
static bool peer_text_space(unsigned cp)
{
    return cp == 0x20 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
           cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

size_t xfer_peer_text_clean(const char *in, size_t len, char out[XFER_MAX_PEER_NAME + 1])
{
    const uint8_t *u = (const uint8_t *)in;
    size_t o = 0;
    bool space = false; /* a run of white space is pending */
    for (size_t i = 0; in && i < len;) {
        unsigned cp;
        size_t n = pd_utf8_next(u, len, i, &cp);
        if (n == 0) { /* not UTF-8 (only from our own options): dropped */
            i++;
            continue;
        }
        if (peer_text_space(cp)) {
            space = o > 0; /* leading white space is trimmed */
        } else if (!peer_text_dropped(cp)) {
            /* cut on a character boundary, the pending space included */
            if (o + (space ? 1 : 0) + n > XFER_MAX_PEER_NAME) break;
            if (space) out[o++] = ' ';
            space = false;
            memcpy(out + o, in + i, n);
            o += n;
        }
        i += n;
    }
    out[o] = 0; /* trailing white space was never written */
    return o;
}

static int put(pd_buf *out, const char *s)
{
    return pd_buf_append_str(out, s) ? XFER_E_NOMEM : XFER_OK;
}
static int put_u64(pd_buf *out, uint64_t v)
{
    return pd_buf_printf(out, "%" PRIu64, v) ? XFER_E_NOMEM : XFER_OK;
}
static int put_str(pd_buf *out, const char *s)
{
    return xfer_json_string(out, s, strlen(s));
}

#define TRY(x)                                                                                     \
    do {                                                                                           \
        int try_r = (x);                                                                           \
        if (try_r) return try_r;                                                                   \
    } while (0)

static const char *const type_names[] = {"hello",  "offer", "accept", "decline",
                                         "start",  "end",   "ack",    "verified",
                                         "cancel", "error", "text",   "text-ack"};

int xfer_msg_encode(pd_buf *out, const xfer_msg *m)
{
    if (!out || !m || (unsigned)m->t > XFER_TEXT_ACK) return XFER_E_ARG;
    TRY(put(out, "{\"t\":\""));
    TRY(put(out, type_names[m->t]));
    TRY(put(out, "\""));
    switch (m->t) {
    case XFER_HELLO:
        TRY(put(out, ",\"v\":"));
        TRY(put_u64(out, m->v));
        TRY(put(out, ",\"maxMsg\":"));
        TRY(put_u64(out, m->max_msg));
        TRY(put(out, ",\"win\":"));
        TRY(put_u64(out, m->win));
        TRY(put(out, ",\"caps\":["));
        for (size_t i = 0; i < m->caps_len; i++) {
            if (i) TRY(put(out, ","));
            TRY(put_str(out, m->caps[i]));
        }
        TRY(put(out, "]"));
        /* canonical order: ..., caps, lanes, moreLanes, name, device (§3,
         * §5.10); above 7, lanes 7 for older peers and moreLanes the count */
        if (m->lanes > 0) {
            if (m->lanes > XFER_MAX_LANES) return XFER_E_ARG;
            TRY(put(out, ",\"lanes\":"));
            TRY(put_u64(out, m->lanes > XFER_MAX_WIRE_LANES ? XFER_MAX_WIRE_LANES : m->lanes));
            if (m->lanes > XFER_MAX_WIRE_LANES) {
                TRY(put(out, ",\"moreLanes\":"));
                TRY(put_u64(out, m->lanes));
            }
        }
        for (int k = 0; k < 2; k++) {
            if (!(k ? m->has_device : m->has_name)) continue;
            char clean[XFER_MAX_PEER_NAME + 1];
            size_t n = k ? xfer_peer_text_clean(m->device, m->device_len, clean)
                         : xfer_peer_text_clean(m->name, m->name_len, clean);
            TRY(put(out, k ? ",\"device\":" : ",\"name\":"));
            TRY(xfer_json_string(out, clean, n));
        }
        break;
    case XFER_TEXT:
    case XFER_TEXT_ACK:
        TRY(put(out, ",\"id\":"));
        TRY(put_str(out, m->text_id));
        if (m->t == XFER_TEXT) {
            TRY(put(out, ",\"text\":"));
            TRY(xfer_json_string(out, m->text ? m->text : "", m->text ? m->text_len : 0));
        }
        break;
    case XFER_OFFER:
        TRY(put(out, ",\"xfer\":"));
        TRY(put_str(out, m->xfer));
        TRY(put(out, ",\"files\":["));
        for (size_t i = 0; i < m->files_len; i++) {
            const xfer_file_entry *f = &m->files[i];
            TRY(put(out, i ? ",{\"id\":" : "{\"id\":"));
            TRY(put_u64(out, f->id));
            TRY(put(out, ",\"name\":"));
            TRY(xfer_json_string(out, f->name, f->name_len));
            TRY(put(out, ",\"dir\":"));
            TRY(xfer_json_string(out, f->dir, f->dir_len));
            TRY(put(out, ",\"size\":"));
            TRY(put_u64(out, f->size));
            TRY(put(out, ",\"mime\":"));
            TRY(xfer_json_string(out, f->mime, f->mime_len));
            TRY(put(out, "}"));
        }
        TRY(put(out, "]"));
        break;
    case XFER_ACCEPT:
        TRY(put(out, ",\"xfer\":"));
        TRY(put_str(out, m->xfer));
        TRY(put(out, ",\"files\":["));
        for (size_t i = 0; i < m->accepts_len; i++) {
            const xfer_accept_entry *a = &m->accepts[i];
            TRY(put(out, i ? ",{\"id\":" : "{\"id\":"));
            TRY(put_u64(out, a->id));
            TRY(put(out, ",\"offset\":"));
            TRY(put_u64(out, a->offset));
            if (a->offset > 0) {
                TRY(put(out, ",\"sha256\":"));
                TRY(put_str(out, a->sha256));
            }
            TRY(put(out, "}"));
        }
        TRY(put(out, "]"));
        break;
    case XFER_DECLINE:
    case XFER_CANCEL:
        TRY(put(out, ",\"xfer\":"));
        TRY(put_str(out, m->xfer));
        break;
    case XFER_START:
    case XFER_END:
    case XFER_ACK:
    case XFER_VERIFIED:
        TRY(put(out, ",\"xfer\":"));
        TRY(put_str(out, m->xfer));
        TRY(put(out, ",\"file\":"));
        TRY(put_u64(out, m->file));
        if (m->t == XFER_START) {
            TRY(put(out, ",\"offset\":"));
            TRY(put_u64(out, m->offset));
        } else if (m->t == XFER_END) {
            TRY(put(out, ",\"sha256\":"));
            TRY(put_str(out, m->sha256));
        } else if (m->t == XFER_ACK) {
            TRY(put(out, ",\"bytes\":"));
            TRY(put_u64(out, m->bytes));
        }
        break;
    case XFER_ERROR:
        TRY(put(out, ",\"code\":"));
        TRY(put_str(out, xfer_code_name(m->code)));
        TRY(put(out, ",\"message\":"));
        TRY(xfer_json_string(out, m->message ? m->message : "", m->message ? m->message_len : 0));
        if (m->xfer[0]) {
            TRY(put(out, ",\"xfer\":"));
            TRY(put_str(out, m->xfer));
            if (m->has_file) {
                TRY(put(out, ",\"file\":"));
                TRY(put_u64(out, m->file));
            }
        }
        break;
    }
    return put(out, "}");
}

void xfer_data_header_encode(uint8_t out[XFER_DATA_HEADER_LEN], uint32_t file, uint64_t offset,
                             uint16_t tag)
{
    out[0] = XFER_DATA_TYPE;
    out[1] = 0;
    out[2] = (uint8_t)(tag >> 8);
    out[3] = (uint8_t)tag;
    for (int i = 0; i < 4; i++)
        out[4 + i] = (uint8_t)(file >> (24 - 8 * i));
    for (int i = 0; i < 8; i++)
        out[8 + i] = (uint8_t)(offset >> (56 - 8 * i));
}

/* ---------------- decoding ---------------- */

int xfer_data_decode(const uint8_t *msg, size_t len, xfer_data *out)
{
    if (!msg || !out || len <= XFER_DATA_HEADER_LEN) return XFER_E_DECODE; /* empty payload */
    if (msg[0] != XFER_DATA_TYPE || msg[1]) return XFER_E_DECODE;
    uint32_t file = 0;
    uint64_t off = 0;
    for (int i = 0; i < 4; i++)
        file = file << 8 | msg[4 + i];
    for (int i = 0; i < 8; i++)
        off = off << 8 | msg[8 + i];
    if (file >= XFER_MAX_FILES || off > XFER_MAX_SIZE) return XFER_E_DECODE;
    out->file = file;
    out->offset = off;
    /* the reserved field: a transfer's tag under lane-resend (§5.11); the
     * session says whether a nonzero one is allowed */
    out->tag = (uint16_t)(msg[2] << 8 | msg[3]);
    out->payload = msg + XFER_DATA_HEADER_LEN;
    out->payload_len = len - XFER_DATA_HEADER_LEN;
    return XFER_OK;
}

/* Length in UTF-16 code units of valid UTF-8 (jansson validated it): the TS
 * decoder bounds strings by String.length. */
static size_t utf16_len(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c & 0xC0) == 0x80) continue;
        n += c >= 0xF0 ? 2 : 1;
    }
    return n;
}

/* A JSON number that is an integer 0 <= v <= max. JS JSON.parse turns
 * "1.0" and "1e3" into integers too, so integral reals pass as in TS. */
static bool get_uint(json_t *o, const char *k, uint64_t max, uint64_t *out)
{
    json_t *v = json_object_get(o, k);
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < 0 || (uint64_t)i > max) return false;
        *out = (uint64_t)i;
        return true;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (!(d >= 0) || d != floor(d) || d > (double)max) return false;
        *out = (uint64_t)d;
        return *out <= max;
    }
    return false;
}

static bool is_hex_lower(const char *s, size_t len, size_t want)
{
    if (len != want) return false;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
    return true;
}

/* A string member; max_units in UTF-16 code units. */
static bool get_str(json_t *o, const char *k, size_t max_units, const char **s, size_t *len)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_string(v)) return false;
    *s = json_string_value(v);
    *len = json_string_length(v);
    return utf16_len(*s, *len) <= max_units;
}

static bool get_hex(json_t *o, const char *k, size_t want, char *out)
{
    const char *s;
    size_t len;
    if (!get_str(o, k, want, &s, &len) || !is_hex_lower(s, len, want)) return false;
    memcpy(out, s, len);
    out[len] = 0;
    return true;
}

static char *dup_len(const char *s, size_t len)
{
    char *d = malloc(len + 1);
    if (!d) return NULL;
    memcpy(d, s, len);
    d[len] = 0;
    return d;
}

void xfer_msg_cleanup(xfer_msg *m)
{
    if (!m) return;
    if (m->files) {
        for (size_t i = 0; i < m->files_len; i++) {
            free(m->files[i].name);
            free(m->files[i].dir);
            free(m->files[i].mime);
        }
        free(m->files);
    }
    free(m->accepts);
    free(m->message);
    free(m->text);
    m->text = NULL;
    m->files = NULL;
    m->accepts = NULL;
    m->message = NULL;
    m->files_len = m->accepts_len = 0;
}

#define FILE_ID_MAX (XFER_MAX_FILES - 1)

static int decode_obj(json_t *o, xfer_msg *m)
{
    const char *t;
    size_t tlen;
    if (!get_str(o, "t", 16, &t, &tlen)) return XFER_E_DECODE;
    int type = -1;
    for (int i = 0; i <= XFER_TEXT_ACK; i++)
        if (strlen(type_names[i]) == tlen && memcmp(type_names[i], t, tlen) == 0) type = i;
    if (type < 0) return XFER_E_DECODE;
    m->t = (xfer_type)type;
    m->has_file = true;
    uint64_t u;
    switch (m->t) {
    case XFER_HELLO: {
        json_t *caps = json_object_get(o, "caps");
        if (!json_is_array(caps) || json_array_size(caps) > XFER_MAX_CAPS) return XFER_E_DECODE;
        for (size_t i = 0; i < json_array_size(caps); i++) {
            json_t *c = json_array_get(caps, i);
            if (!json_is_string(c)) return XFER_E_DECODE;
            const char *s = json_string_value(c);
            size_t len = json_string_length(c);
            if (len < 1 || len > 32) return XFER_E_DECODE;
            for (size_t j = 0; j < len; j++)
                if (!((s[j] >= 'a' && s[j] <= 'z') || (s[j] >= '0' && s[j] <= '9') || s[j] == '-'))
                    return XFER_E_DECODE;
            memcpy(m->caps[i], s, len);
            m->caps[i][len] = 0;
        }
        m->caps_len = json_array_size(caps);
        if (!get_uint(o, "v", 65535, &u)) return XFER_E_DECODE;
        m->v = (uint32_t)u;
        if (!get_uint(o, "maxMsg", 0xFFFFFFFFull, &m->max_msg)) return XFER_E_DECODE;
        if (!get_uint(o, "win", XFER_MAX_SIZE, &m->win)) return XFER_E_DECODE;
        /* §5.10: optional; present, it is a uint <= 7 or the hello is PROTOCOL */
        if (json_object_get(o, "lanes")) {
            if (!get_uint(o, "lanes", XFER_MAX_WIRE_LANES, &u)) return XFER_E_DECODE;
            m->lanes = (uint32_t)u;
        }
        /* §5.10: moreLanes 8..15, only with lanes 7; it is the count */
        if (json_object_get(o, "moreLanes")) {
            if (!get_uint(o, "moreLanes", XFER_MAX_LANES, &u)) return XFER_E_DECODE;
            if (u <= XFER_MAX_WIRE_LANES || m->lanes != XFER_MAX_WIRE_LANES) return XFER_E_DECODE;
            m->lanes = (uint32_t)u;
        }
        /* optional and only shown (§5.1): a value that is not a string, or
         * nothing once cleaned, is left out, as codec.ts does */
        json_t *name = json_object_get(o, "name"), *device = json_object_get(o, "device");
        if (json_is_string(name))
            m->has_name = (m->name_len = xfer_peer_text_clean(
                               json_string_value(name), json_string_length(name), m->name)) > 0;
        if (json_is_string(device))
            m->has_device =
                (m->device_len = xfer_peer_text_clean(json_string_value(device),
                                                      json_string_length(device), m->device)) > 0;
        return XFER_OK;
    }
    case XFER_OFFER: {
        json_t *files = json_object_get(o, "files");
        size_t n = json_array_size(files);
        if (!json_is_array(files) || n < 1 || n > XFER_MAX_FILES) return XFER_E_DECODE;
        m->files = calloc(n, sizeof *m->files);
        if (!m->files) return XFER_E_NOMEM;
        m->files_len = n;
        for (size_t i = 0; i < n; i++) {
            json_t *f = json_array_get(files, i);
            xfer_file_entry *e = &m->files[i];
            const char *name, *dir, *mime;
            size_t name_len, dir_len, mime_len;
            if (!json_is_object(f) || !get_uint(f, "id", FILE_ID_MAX, &u) || u != i)
                return XFER_E_DECODE;
            e->id = (uint32_t)u;
            if (!get_str(f, "name", 1024, &name, &name_len) ||
                !get_str(f, "dir", 8192, &dir, &dir_len) ||
                !get_uint(f, "size", XFER_MAX_SIZE, &e->size) ||
                !get_str(f, "mime", XFER_MAX_MIME, &mime, &mime_len))
                return XFER_E_DECODE;
            for (size_t j = 0; j < mime_len; j++)
                if (mime[j] < 0x20 || mime[j] > 0x7e) return XFER_E_DECODE;
            e->name = dup_len(name, name_len);
            e->dir = dup_len(dir, dir_len);
            e->mime = dup_len(mime, mime_len);
            if (!e->name || !e->dir || !e->mime) return XFER_E_NOMEM;
            e->name_len = name_len;
            e->dir_len = dir_len;
            e->mime_len = mime_len;
        }
        if (!get_hex(o, "xfer", XFER_ID_LEN, m->xfer)) return XFER_E_DECODE;
        return XFER_OK;
    }
    case XFER_ACCEPT: {
        json_t *files = json_object_get(o, "files");
        size_t n = json_array_size(files);
        if (!json_is_array(files) || n < 1 || n > XFER_MAX_FILES) return XFER_E_DECODE;
        m->accepts = calloc(n, sizeof *m->accepts);
        if (!m->accepts) return XFER_E_NOMEM;
        m->accepts_len = n;
        int64_t prev = -1;
        for (size_t i = 0; i < n; i++) {
            json_t *f = json_array_get(files, i);
            xfer_accept_entry *a = &m->accepts[i];
            if (!json_is_object(f) || !get_uint(f, "id", FILE_ID_MAX, &u) || (int64_t)u <= prev)
                return XFER_E_DECODE;
            prev = (int64_t)u;
            a->id = (uint32_t)u;
            if (!get_uint(f, "offset", XFER_MAX_SIZE, &a->offset)) return XFER_E_DECODE;
            if (a->offset == 0) {
                if (json_object_get(f, "sha256")) return XFER_E_DECODE;
            } else {
                if (!get_hex(f, "sha256", XFER_SHA_HEX_LEN, a->sha256)) return XFER_E_DECODE;
                a->has_sha256 = true;
            }
        }
        if (!get_hex(o, "xfer", XFER_ID_LEN, m->xfer)) return XFER_E_DECODE;
        return XFER_OK;
    }
    case XFER_DECLINE:
    case XFER_CANCEL:
        return get_hex(o, "xfer", XFER_ID_LEN, m->xfer) ? XFER_OK : XFER_E_DECODE;
    case XFER_START:
    case XFER_END:
    case XFER_ACK:
    case XFER_VERIFIED:
        if (!get_hex(o, "xfer", XFER_ID_LEN, m->xfer) || !get_uint(o, "file", FILE_ID_MAX, &u))
            return XFER_E_DECODE;
        m->file = (uint32_t)u;
        if (m->t == XFER_START && !get_uint(o, "offset", XFER_MAX_SIZE, &m->offset))
            return XFER_E_DECODE;
        if (m->t == XFER_END && !get_hex(o, "sha256", XFER_SHA_HEX_LEN, m->sha256))
            return XFER_E_DECODE;
        if (m->t == XFER_ACK && !get_uint(o, "bytes", XFER_MAX_SIZE, &m->bytes))
            return XFER_E_DECODE;
        return XFER_OK;
    case XFER_TEXT:
    case XFER_TEXT_ACK: {
        if (!get_hex(o, "id", XFER_ID_LEN, m->text_id)) return XFER_E_DECODE;
        if (m->t == XFER_TEXT_ACK) return XFER_OK;
        /* jansson has checked the UTF-8 and refused lone surrogates; the
         * bound is in UTF-8 bytes, as the TS side counts it (§5.9) */
        json_t *v = json_object_get(o, "text");
        if (!json_is_string(v)) return XFER_E_DECODE;
        size_t len = json_string_length(v);
        if (len < 1 || len > XFER_MAX_TEXT) return XFER_E_DECODE;
        m->text = dup_len(json_string_value(v), len);
        if (!m->text) return XFER_E_NOMEM;
        m->text_len = len;
        return XFER_OK;
    }
    case XFER_ERROR: {
        const char *code, *msg;
        size_t code_len, msg_len;
        if (!get_str(o, "code", 32, &code, &code_len) || code_len < 1) return XFER_E_DECODE;
        for (size_t j = 0; j < code_len; j++)
            if (!((code[j] >= 'A' && code[j] <= 'Z') || code[j] == '_')) return XFER_E_DECODE;
        m->code = xfer_code_parse(code, code_len);
        if (!get_str(o, "message", XFER_MAX_ERROR_MESSAGE, &msg, &msg_len)) return XFER_E_DECODE;
        m->has_file = false;
        if (json_object_get(o, "xfer") && !get_hex(o, "xfer", XFER_ID_LEN, m->xfer))
            return XFER_E_DECODE;
        if (json_object_get(o, "file")) {
            if (!m->xfer[0] || !get_uint(o, "file", FILE_ID_MAX, &u)) return XFER_E_DECODE;
            m->file = (uint32_t)u;
            m->has_file = true;
        }
        m->message = dup_len(msg, msg_len);
        if (!m->message) return XFER_E_NOMEM;
        m->message_len = msg_len;
        return XFER_OK;
    }
    }
    return XFER_E_DECODE;
}

int xfer_msg_decode(const uint8_t *text, size_t len, xfer_msg *out, xfer_code *code)
{
    if (!out || !code) return XFER_E_ARG;
    memset(out, 0, sizeof *out);
    *code = XFER_CODE_PROTOCOL;
    if (!text) return XFER_E_DECODE;
    /* ALLOW_NUL: "\u0000" is valid JSON; the path rules refuse it in names.
     * Duplicate members: the last wins, as with JSON.parse. */
    json_error_t jerr;
    json_t *root = json_loadb((const char *)text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!root) return XFER_E_DECODE;
    int r = json_is_object(root) ? decode_obj(root, out) : XFER_E_DECODE;
    json_decref(root);
    if (r != XFER_OK) {
        xfer_msg_cleanup(out);
        if (r == XFER_E_NOMEM) *code = XFER_CODE_INTERNAL;
    }
    return r;
}
