/* test_json_scan.c: the relay fast path's JSON scanner (src/sio/json_scan). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sio/json_scan.h"

/* Scans a copy placed in an exact-size allocation, so ASan sees overreads. */
static size_t scan(const char *text, js_value *v)
{
    size_t len = strlen(text);
    char *copy = malloc(len ? len : 1);
    memcpy(copy, text, len);
    size_t n = js_scan_value(copy, len, v);
    /* keep raw pointers meaningful for the caller: compare offsets only */
    free(copy);
    return n;
}

static void accepts(const char *text, js_kind kind)
{
    js_value v;
    size_t n = scan(text, &v);
    CHECK_EQ_INT(n, strlen(text));
    if (n) CHECK_EQ_INT(v.kind, kind);
    /* whatever the scanner accepts, jansson accepts */
    json_error_t err;
    json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    CHECK(j != NULL);
    /* and reads a string to the same length, escapes decoded */
    if (j && json_is_string(j)) CHECK_EQ_INT(v.str_len, json_string_length(j));
    json_decref(j);
}

static void unsure(const char *text)
{
    js_value v;
    size_t n = scan(text, &v);
    CHECK(n == 0 || n != strlen(text));
}

static void test_subset(void)
{
    accepts("\"\"", JS_STRING);
    accepts("\"v=0\\r\\na=x\"", JS_STRING);
    accepts("\"caf\xc3\xa9 \xf0\x9f\x98\x80\"", JS_STRING);
    /* \u escapes: what JSON.stringify writes for control characters and
     * lone surrogates, and what other encoders write for non-ASCII */
    accepts("\"\\u0041\\u0001\\u0000\"", JS_STRING);
    accepts("{\"a\":\"\\u0000\"}", JS_OBJECT); /* but not in a value, with JSON_ALLOW_NUL */
    accepts("\"\\u00e9\\u20AC\\ud83d\\ude00\"", JS_STRING);
    accepts("0", JS_INTEGER);
    accepts("-12", JS_INTEGER);
    accepts("123456789012345", JS_INTEGER);
    accepts("true", JS_TRUE);
    accepts("false", JS_FALSE);
    accepts("null", JS_NULL);
    accepts("[]", JS_ARRAY);
    accepts("{}", JS_OBJECT);
    accepts("[\"offer\",{\"sdp\":\"x\",\"targetSocketId\":\"abc\"}]", JS_ARRAY);
    accepts("{\"a\":{\"b\":[1,null,true]}}", JS_OBJECT);
}

static void test_outside_subset(void)
{
    unsure("");
    unsure(" 1");
    unsure("[1, 2]");
    unsure("{\"a\" :1}");
    unsure("1.5");
    unsure("1e3");
    unsure("01");
    unsure("-");
    unsure("1234567890123456");   /* 16 digits */
    unsure("{\"\\u0000\":1}");    /* jansson refuses NUL in a member name (fuzz_json_scan) */
    unsure("\"\\u00\"");          /* short */
    unsure("\"\\u00g1\"");        /* not hex */
    unsure("\"\\ud800\"");        /* a lone high surrogate */
    unsure("\"\\udc00\"");        /* a lone low surrogate */
    unsure("\"\\ud83d\\u0041\""); /* a high surrogate, then no low one */
    unsure("\"\\x\"");
    unsure("\"a\x01\"");
    unsure("\"\xc3\"");         /* truncated UTF-8 */
    unsure("\"\xed\xa0\x80\""); /* a surrogate */
    unsure("\"\xc0\xaf\"");     /* overlong */
    unsure("\"open");
    unsure("[1,]");
    unsure("[,1]");
    unsure("{\"a\"}");
    unsure("{1:2}");
    unsure("[[[[[1]]]]]"); /* deeper than JS_MAX_DEPTH */
    unsure("tru");
    unsure("nul");
    /* a prefix is accepted, the whole is not */
    js_value v;
    CHECK_EQ_INT(scan("[1]x", &v), 3);
}

static void test_strings(void)
{
    js_value v;
    CHECK_EQ_INT(scan("\"a\\nb\\\\\"", &v), 8);
    CHECK_EQ_INT(v.str_len, 4); /* a, \n, b, \ */
    CHECK_EQ_INT(scan("\"\xf0\x9f\x98\x80\"", &v), 6);
    CHECK_EQ_INT(v.str_len, 4);
    const char *text = "\"offer\"";
    CHECK(js_scan_value(text, strlen(text), &v) == 7);
    CHECK(js_string_equals(&v, "offer"));
    CHECK(!js_string_equals(&v, "offe"));
    text = "\"off\\/er\"";
    CHECK(js_scan_value(text, strlen(text), &v) == strlen(text));
    CHECK(!js_string_equals(&v, "off/er")); /* escapes never compare equal */
}

static void test_iteration(void)
{
    const char *text = "[\"offer\",{\"sdp\":\"v=0\",\"targetSocketId\":\"T\",\"n\":[1,2]},3]";
    js_value arr, k, v;
    CHECK_EQ_INT(js_scan_value(text, strlen(text), &arr), strlen(text));
    js_iter it;
    js_iter_init(&it, &arr);
    CHECK(js_iter_next(&it, NULL, &v) && js_string_equals(&v, "offer"));
    js_value obj;
    CHECK(js_iter_next(&it, NULL, &obj) && obj.kind == JS_OBJECT);
    CHECK(js_iter_next(&it, NULL, &v) && v.kind == JS_INTEGER && v.raw_len == 1 && v.raw[0] == '3');
    CHECK(!js_iter_next(&it, NULL, &v));

    js_iter_init(&it, &obj);
    CHECK(js_iter_next(&it, &k, &v) && js_string_equals(&k, "sdp") && js_string_equals(&v, "v=0"));
    CHECK(js_iter_next(&it, &k, &v) && js_string_equals(&k, "targetSocketId"));
    CHECK(js_iter_next(&it, &k, &v) && js_string_equals(&k, "n") && v.kind == JS_ARRAY);
    CHECK(!js_iter_next(&it, &k, &v));

    const char *empty = "{}";
    CHECK(js_scan_value(empty, 2, &obj) == 2);
    js_iter_init(&it, &obj);
    CHECK(!js_iter_next(&it, &k, &v));
}

int main(void)
{
    test_subset();
    test_outside_subset();
    test_strings();
    test_iteration();
    return CHECK_DONE();
}
