/* json_scan.c: see json_scan.h. */
#include "json_scan.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "../base/utf8.h"

static size_t scan(const char *in, size_t len, int depth, js_value *out);

/* Four hex digits at in[0..4) into *cp. */
static bool hex4(const char *in, size_t len, unsigned *cp)
{
    if (len < 4) return false;
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        char h = in[k];
        unsigned d;
        if (h >= '0' && h <= '9')
            d = (unsigned)(h - '0');
        else if (h >= 'a' && h <= 'f')
            d = (unsigned)(h - 'a' + 10);
        else if (h >= 'A' && h <= 'F')
            d = (unsigned)(h - 'A' + 10);
        else
            return false;
        v = v << 4 | d;
    }
    *cp = v;
    return true;
}

/* A \u escape at in[0] (the backslash): returns its length (6, or 12 for a
 * surrogate pair) and adds its UTF-8 length to *decoded; 0 if jansson would
 * refuse it (a bad digit, a lone surrogate). \u0000 is read, as jansson
 * reads it with JSON_ALLOW_NUL (the codec's flag), except in a member name. */
static size_t scan_u_escape(const char *in, size_t len, bool key, size_t *decoded)
{
    unsigned cp, lo;
    if (!hex4(in + 2, len - 2, &cp)) return 0;
    if (cp == 0 && key) return 0; /* jansson refuses NUL in a member name */
    if (cp >= 0xDC00 && cp <= 0xDFFF) return 0;
    if (cp < 0xD800 || cp > 0xDBFF) {
        *decoded += cp < 0x80 ? 1 : cp < 0x800 ? 2 : 3;
        return 6;
    }
    if (len < 12 || in[6] != '\\' || in[7] != 'u' || !hex4(in + 8, len - 8, &lo) || lo < 0xDC00 ||
        lo > 0xDFFF)
        return 0;
    *decoded += 4;
    return 12;
}

/* key: a member name, where jansson refuses \u0000 even with
 * JSON_ALLOW_NUL */
static size_t scan_string(const char *in, size_t len, bool key, js_value *out)
{
    size_t i = 1, decoded = 0;
    while (i < len) {
        unsigned char c = (unsigned char)in[i];
        if (c == '"') {
            out->kind = JS_STRING;
            out->str_len = decoded;
            return i + 1;
        }
        if (c < 0x20) return 0; /* control characters must be escaped */
        if (c == '\\' && i + 1 < len && in[i + 1] == 'u') {
            size_t n = scan_u_escape(in + i, len - i, key, &decoded);
            if (n == 0) return 0;
            i += n;
            continue;
        }
        if (c == '\\') {
            if (i + 1 >= len || !strchr("\"\\/bfnrt", in[i + 1]) || in[i + 1] == '\0') return 0;
            i += 2;
        } else if (c >= 0x80) {
            size_t n = pd_utf8_seq((const uint8_t *)in + i, len - i);
            if (n == 0) return 0;
            i += n;
            decoded += n - 1;
        } else {
            i++;
        }
        decoded++;
    }
    return 0;
}

static size_t scan_integer(const char *in, size_t len, js_value *out)
{
    size_t i = in[0] == '-' ? 1 : 0;
    size_t digits_start = i;
    while (i < len && in[i] >= '0' && in[i] <= '9')
        i++;
    size_t digits = i - digits_start;
    /* 15 digits stay exact in a double and in json_int_t alike */
    if (digits == 0 || digits > 15 || (digits > 1 && in[digits_start] == '0')) return 0;
    if (i < len && (in[i] == '.' || in[i] == 'e' || in[i] == 'E')) return 0;
    out->kind = JS_INTEGER;
    return i;
}

static size_t scan_literal(const char *in, size_t len, const char *word, js_kind kind,
                           js_value *out)
{
    size_t n = strlen(word);
    if (len < n || memcmp(in, word, n) != 0) return 0;
    out->kind = kind;
    return n;
}

/* Objects and arrays: members separated by ',' with no whitespace; object
 * keys are strings followed by ':'. */
static size_t scan_container(const char *in, size_t len, int depth, js_value *out)
{
    bool object = in[0] == '{';
    char close = object ? '}' : ']';
    if (depth >= JS_MAX_DEPTH) return 0;
    size_t i = 1;
    if (i < len && in[i] == close) {
        out->kind = object ? JS_OBJECT : JS_ARRAY;
        return 2;
    }
    for (;;) {
        js_value v;
        if (object) {
            if (i >= len || in[i] != '"') return 0;
            size_t k = scan_string(in + i, len - i, true, &v);
            if (k == 0) return 0;
            i += k;
            if (i >= len || in[i] != ':') return 0;
            i++;
        }
        size_t n = scan(in + i, len - i, depth + 1, &v);
        if (n == 0) return 0;
        i += n;
        if (i >= len) return 0;
        if (in[i] == close) {
            out->kind = object ? JS_OBJECT : JS_ARRAY;
            return i + 1;
        }
        if (in[i] != ',') return 0;
        i++;
    }
}

static size_t scan(const char *in, size_t len, int depth, js_value *out)
{
    if (len == 0) return 0;
    size_t n;
    switch (in[0]) {
    case '"':
        n = scan_string(in, len, false, out);
        break;
    case '{':
    case '[':
        n = scan_container(in, len, depth, out);
        break;
    case 't':
        n = scan_literal(in, len, "true", JS_TRUE, out);
        break;
    case 'f':
        n = scan_literal(in, len, "false", JS_FALSE, out);
        break;
    case 'n':
        n = scan_literal(in, len, "null", JS_NULL, out);
        break;
    default:
        n = (in[0] == '-' || (in[0] >= '0' && in[0] <= '9')) ? scan_integer(in, len, out) : 0;
        break;
    }
    if (n) {
        out->raw = in;
        out->raw_len = n;
    }
    return n;
}

size_t js_scan_value(const char *in, size_t len, js_value *out)
{
    if (!in || !out) return 0;
    return scan(in, len, 0, out);
}

void js_iter_init(js_iter *it, const js_value *container)
{
    it->object = container->kind == JS_OBJECT;
    /* inside the brackets; an empty container leaves p == end */
    it->p = container->raw + 1;
    it->end = container->raw + container->raw_len - 1;
}

bool js_iter_next(js_iter *it, js_value *key, js_value *val)
{
    if (it->p >= it->end) return false;
    size_t len = (size_t)(it->end - it->p);
    js_value k;
    if (it->object) {
        /* the container was validated: these cannot fail */
        size_t n = scan(it->p, len, 0, &k);
        if (key) *key = k;
        it->p += n + 1; /* the ':' */
        len = (size_t)(it->end - it->p);
    }
    size_t n = scan(it->p, len, 1, val);
    it->p += n;
    if (it->p < it->end) it->p++; /* the ',' */
    return n > 0;
}

bool js_string_equals(const js_value *v, const char *s)
{
    size_t n = strlen(s);
    return v->kind == JS_STRING && v->raw_len == n + 2 && memcmp(v->raw + 1, s, n) == 0;
}
