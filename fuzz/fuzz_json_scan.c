/* fuzz_json_scan.c: differential target. Whatever the relay fast path's
 * scanner accepts, jansson (the full path) must accept too, with the same
 * kind of value, the same string length, and the same number of members;
 * otherwise the two paths could relay different things. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sio/json_scan.h"

static js_kind kind_of(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_STRING:
        return JS_STRING;
    case JSON_INTEGER:
        return JS_INTEGER;
    case JSON_TRUE:
        return JS_TRUE;
    case JSON_FALSE:
        return JS_FALSE;
    case JSON_NULL:
        return JS_NULL;
    case JSON_OBJECT:
        return JS_OBJECT;
    default:
        return JS_ARRAY;
    }
}

static void compare(const js_value *v, const json_t *j)
{
    if (json_is_real(j) || kind_of(j) != v->kind) abort();
    if (v->kind == JS_STRING && json_string_length(j) != v->str_len) abort();
    if (v->kind == JS_ARRAY || v->kind == JS_OBJECT) {
        js_iter it;
        js_value key, elem;
        size_t n = 0;
        js_iter_init(&it, v);
        while (js_iter_next(&it, &key, &elem)) {
            if (v->kind == JS_ARRAY) compare(&elem, json_array_get(j, n));
            n++;
        }
        /* duplicate keys collapse in jansson: it keeps the last one */
        size_t size = v->kind == JS_ARRAY ? json_array_size(j) : json_object_size(j);
        if (v->kind == JS_ARRAY ? n != size : n < size) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096) return 0;
    char *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    js_value v;
    size_t n = js_scan_value(copy, size, &v);
    if (n > 0) {
        json_error_t err;
        json_t *j = json_loadb(copy, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
        if (!j) abort(); /* the scanner accepted what the full parser refuses */
        compare(&v, j);
        json_decref(j);
    }
    free(copy);
    return 0;
}
