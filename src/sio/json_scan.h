/* json_scan.h: a validating JSON scanner with no allocation and no tree, for
 * the relay fast path (docs/architecture.md, "The path of one message").
 *
 * It accepts only a strict subset of JSON, the shape JSON.stringify gives
 * signaling payloads: no whitespace outside strings, integers of at most 15
 * digits (no fraction, no exponent), nesting at most JS_MAX_DEPTH. Strings
 * may hold any escape; \u escapes are read for the string's length, and a
 * lone surrogate is refused, as jansson refuses it. For anything else it answers "not sure" (0),
 * and the caller uses the full parser (jansson). It never accepts input that jansson rejects:
 * fuzz/fuzz_json_scan.c checks that, and that both agree on what they read. */
#ifndef PD_JSON_SCAN_H
#define PD_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>

#define JS_MAX_DEPTH 4

typedef enum js_kind {
    JS_STRING,
    JS_INTEGER,
    JS_TRUE,
    JS_FALSE,
    JS_NULL,
    JS_OBJECT,
    JS_ARRAY
} js_kind;

typedef struct js_value {
    js_kind kind;
    const char *raw; /* the value's JSON text (strings: with their quotes) */
    size_t raw_len;
    size_t str_len; /* strings: length once unescaped, in bytes */
} js_value;

/* Scans one value at the start of in[0..len). Returns its length (> 0), or
 * 0 when the input is invalid or outside the subset. */
size_t js_scan_value(const char *in, size_t len, js_value *out);

/* Walks the members of an object or the elements of an array that
 * js_scan_value accepted. */
typedef struct js_iter {
    const char *p, *end;
    bool object;
} js_iter;

void js_iter_init(js_iter *it, const js_value *container);
/* Next member: for objects *key gets the member name (a JS_STRING); for
 * arrays key may be NULL. Returns false after the last one. */
bool js_iter_next(js_iter *it, js_value *key, js_value *val);

/* True if a JS_STRING value is written exactly `s`: compared on the raw
 * text, so a string holding escapes never equals a plain `s`, even when it
 * decodes to it ("\u0073dp" is not "sdp" here). A caller that must not be
 * fooled by such a member name treats any name with escapes (raw_len !=
 * str_len + 2) as unsure. */
bool js_string_equals(const js_value *v, const char *s);

#endif
