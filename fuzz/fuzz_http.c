/* fuzz_http.c: libFuzzer target for the HTTP request-head parser. Parses the
 * input once, then runs header lookup, token search, query lookup and
 * percent-decoding on whatever the parser handed out, so pointers into the
 * input are exercised too. No state survives between runs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

/* Cheap invariants: a bug here aborts so libFuzzer records the input. */
#define FUZZ_ASSERT(c)                                                                             \
    do {                                                                                           \
        if (!(c)) abort();                                                                         \
    } while (0)

static void exercise_query(const http_request *req)
{
    static const char *const keys[] = {"EIO", "transport", "sid", "t", "b64", ""};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        const char *v;
        size_t vl;
        if (!http_query_get(req->query, req->query_len, keys[i], &v, &vl)) continue;
        FUZZ_ASSERT(v >= req->query && v + vl <= req->query + req->query_len);
        char *out = malloc(vl ? vl : 1);
        if (!out) return;
        long n = http_percent_decode(v, vl, out);
        FUZZ_ASSERT(n <= (long)vl);
        free(out);
    }
}

static void exercise_headers(const http_request *req)
{
    static const char *const names[] = {
        "host", "connection", "upgrade", "sec-websocket-key", "content-type", "origin", "cookie"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        const http_header *h = http_request_header(req, names[i]);
        if (!h) continue;
        http_value_has_token(h->value, h->value_len, "upgrade");
        http_value_has_token(h->value, h->value_len, "websocket");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    http_request req;
    int rc = http_request_parse(data, size, PD_MAX_HTTP_HEAD, &req);
    FUZZ_ASSERT(http_strerror(rc) != NULL);
    if (rc < 0) return 0;
    FUZZ_ASSERT((size_t)rc <= size && (size_t)rc <= PD_MAX_HTTP_HEAD);
    FUZZ_ASSERT(req.num_headers <= PD_MAX_HTTP_HEADERS);
    FUZZ_ASSERT(req.minor_version == 0 || req.minor_version == 1);
    FUZZ_ASSERT(req.target_len >= 1 && req.target[0] == '/');
    exercise_headers(&req);
    exercise_query(&req);
    /* decode the path in place in a copy, as a router would */
    char *path = malloc(req.path_len ? req.path_len : 1);
    if (!path) return 0;
    memcpy(path, req.path, req.path_len);
    long n = http_percent_decode(path, req.path_len, path);
    FUZZ_ASSERT(n <= (long)req.path_len);
    free(path);
    /* the same bytes cut short must never complete */
    if (rc > 1) FUZZ_ASSERT(http_request_parse(data, (size_t)rc - 1, PD_MAX_HTTP_HEAD, &req) < 0);
    return 0;
}
