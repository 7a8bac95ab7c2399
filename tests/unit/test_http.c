/* test_http.c: the request-head parser against well-formed requests of the
 * kind socket.io clients send, every error code, every prefix of a request
 * (partial input), and the head-size and header-count limits. Each input
 * sits at the end of an exact-size malloc so ASan reports any overread. */
#include "check.h"

#include "http/http.h"

#include <stdint.h>

static uint8_t *exact_copy(const void *s, size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    if (len) memcpy(p, s, len);
    return p;
}

/* Parses s[0..len) from an exact-size copy; the copy is freed, so only the
 * return code is used. */
static int parse_len(const char *s, size_t len, size_t max_head)
{
    uint8_t *p = exact_copy(s, len);
    http_request req;
    int rc = http_request_parse(p, len, max_head, &req);
    free(p);
    return rc;
}

static int parse_str(const char *s)
{
    return parse_len(s, strlen(s), PD_MAX_HTTP_HEAD);
}

static const char polling_get[] = "GET /socket.io/?EIO=4&transport=polling&t=N8hyd6s HTTP/1.1\r\n"
                                  "Host: localhost:3000\r\n"
                                  "User-Agent: node-XMLHttpRequest\r\n"
                                  "Accept: */*\r\n"
                                  "X-Empty:\r\n"
                                  "X-Trim: \t a b \t \r\n"
                                  "\r\n";

static void test_polling_get(void)
{
    size_t len = strlen(polling_get);
    uint8_t *p = exact_copy(polling_get, len);
    http_request req;
    CHECK_EQ_INT(http_request_parse(p, len, PD_MAX_HTTP_HEAD, &req), len);
    CHECK_EQ_MEM(req.method, req.method_len, "GET", 3);
    CHECK_EQ_MEM(req.path, req.path_len, "/socket.io/", 11);
    CHECK_EQ_MEM(req.query, req.query_len, "EIO=4&transport=polling&t=N8hyd6s", 33);
    CHECK_EQ_MEM(req.target, req.target_len, "/socket.io/?EIO=4&transport=polling&t=N8hyd6s", 45);
    CHECK_EQ_INT(req.minor_version, 1);
    CHECK_EQ_INT(req.num_headers, 5);
    CHECK_EQ_MEM(req.headers[0].name, req.headers[0].name_len, "Host", 4);
    CHECK_EQ_MEM(req.headers[0].value, req.headers[0].value_len, "localhost:3000", 14);
    CHECK_EQ_INT(req.headers[3].value_len, 0);
    CHECK_EQ_MEM(req.headers[4].value, req.headers[4].value_len, "a b", 3);
    CHECK_EQ_INT(req.content_length, 0);
    CHECK(req.keep_alive);
    CHECK(!req.upgrade_websocket);

    const http_header *h = http_request_header(&req, "user-agent");
    CHECK(h != NULL);
    if (h) CHECK_EQ_MEM(h->value, h->value_len, "node-XMLHttpRequest", 19);
    CHECK(http_request_header(&req, "Cookie") == NULL);
    CHECK(http_request_header(&req, "Hos") == NULL);
    CHECK(http_request_header(NULL, "Host") == NULL);

    const char *v;
    size_t vl;
    CHECK(http_query_get(req.query, req.query_len, "transport", &v, &vl));
    CHECK_EQ_MEM(v, vl, "polling", 7);
    CHECK(http_query_get(req.query, req.query_len, "EIO", &v, &vl));
    CHECK_EQ_MEM(v, vl, "4", 1);
    CHECK(!http_query_get(req.query, req.query_len, "sid", &v, &vl));
    free(p);
}

static void test_no_query_and_body_after_head(void)
{
    static const char s[] = "POST /socket.io/?EIO=4&transport=polling&sid=abc HTTP/1.1\r\n"
                            "Host: x\r\nContent-Type: text/plain;charset=UTF-8\r\n"
                            "Content-Length: 11\r\n\r\n40{\"a\":\"b\"}";
    size_t len = strlen(s);
    uint8_t *p = exact_copy(s, len);
    http_request req;
    CHECK_EQ_INT(http_request_parse(p, len, PD_MAX_HTTP_HEAD, &req), len - 11);
    CHECK_EQ_INT(req.content_length, 11);
    CHECK_EQ_MEM(req.method, req.method_len, "POST", 4);
    free(p);

    static const char t[] = "GET / HTTP/1.0\r\n\r\n";
    p = exact_copy(t, strlen(t));
    CHECK_EQ_INT(http_request_parse(p, strlen(t), PD_MAX_HTTP_HEAD, &req), strlen(t));
    CHECK(req.query == NULL);
    CHECK_EQ_INT(req.query_len, 0);
    CHECK_EQ_MEM(req.path, req.path_len, "/", 1);
    CHECK_EQ_INT(req.minor_version, 0);
    CHECK(!req.keep_alive);
    free(p);

    static const char u[] = "GET /? HTTP/1.1\r\n\r\n"; /* empty query is not NULL */
    p = exact_copy(u, strlen(u));
    CHECK_EQ_INT(http_request_parse(p, strlen(u), PD_MAX_HTTP_HEAD, &req), strlen(u));
    CHECK(req.query != NULL);
    CHECK_EQ_INT(req.query_len, 0);
    CHECK_EQ_INT(req.path_len, 1);
    free(p);
}

/* Every proper prefix must be PARTIAL, and must not read past its end. */
static void test_every_prefix(void)
{
    static const char *const reqs[] = {
        polling_get,
        "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Origin: http://example.com\r\nSec-WebSocket-Version: 13\r\n\r\n",
        "\r\n\r\nPOST /x HTTP/1.0\r\nContent-Length: 0\r\n\r\n",
    };
    for (size_t r = 0; r < sizeof reqs / sizeof *reqs; r++) {
        size_t len = strlen(reqs[r]);
        int bad = 0;
        for (size_t i = 0; i < len; i++)
            if (parse_len(reqs[r], i, PD_MAX_HTTP_HEAD) != HTTP_PARTIAL) bad++;
        CHECK_EQ_INT(bad, 0);
        CHECK_EQ_INT(parse_len(reqs[r], len, PD_MAX_HTTP_HEAD), len);
    }
}

static void test_websocket_upgrade(void)
{
    static const char s[] = "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                            "Host: localhost\r\nConnection: keep-alive, Upgrade\r\n"
                            "Upgrade: WebSocket\r\nSec-WebSocket-Version: 13\r\n"
                            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    size_t len = strlen(s);
    uint8_t *p = exact_copy(s, len);
    http_request req;
    CHECK_EQ_INT(http_request_parse(p, len, PD_MAX_HTTP_HEAD, &req), len);
    CHECK(req.upgrade_websocket);
    CHECK(req.keep_alive);
    free(p);

    static const char t[] = "GET / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n";
    p = exact_copy(t, strlen(t));
    CHECK_EQ_INT(http_request_parse(p, strlen(t), PD_MAX_HTTP_HEAD, &req), strlen(t));
    CHECK(!req.upgrade_websocket);
    free(p);

    static const char u[] = "GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n";
    p = exact_copy(u, strlen(u));
    CHECK_EQ_INT(http_request_parse(p, strlen(u), PD_MAX_HTTP_HEAD, &req), strlen(u));
    CHECK(!req.upgrade_websocket);
    free(p);
}

static bool keep_alive_of(const char *s)
{
    size_t len = strlen(s);
    uint8_t *p = exact_copy(s, len);
    http_request req;
    int rc = http_request_parse(p, len, PD_MAX_HTTP_HEAD, &req);
    free(p);
    CHECK_EQ_INT(rc, len);
    return req.keep_alive;
}

static void test_keep_alive(void)
{
    CHECK(keep_alive_of("GET / HTTP/1.1\r\n\r\n"));
    CHECK(!keep_alive_of("GET / HTTP/1.1\r\nConnection: close\r\n\r\n"));
    CHECK(!keep_alive_of("GET / HTTP/1.1\r\nConnection: Upgrade, Close\r\n\r\n"));
    CHECK(!keep_alive_of("GET / HTTP/1.0\r\n\r\n"));
    CHECK(keep_alive_of("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
    CHECK(!keep_alive_of("GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n"));
}

static void test_syntax_errors(void)
{
    static const char *const bad[] = {
        "GET / HTTP/1.1\n\n",                           /* bare LF */
        "GET / HTTP/1.1\r\nHost: x\n\r\n",              /* bare LF after a header */
        "GET / HTTP/1.1\r\nHost: x\r\n\n",              /* bare LF as the end */
        "GET / HTTP/1.1\r\r\n\r\n",                     /* CR not followed by LF */
        "GET /a\x01 HTTP/1.1\r\n\r\n",                  /* control char in target */
        "GET /a\tb HTTP/1.1\r\n\r\n",                   /* tab in target */
        "GET /\x80 HTTP/1.1\r\n\r\n",                   /* non-ASCII in target */
        "GET /a\x7f HTTP/1.1\r\n\r\n",                  /* DEL in target */
        "GET http://x/ HTTP/1.1\r\n\r\n",               /* absolute-form */
        "OPTIONS * HTTP/1.1\r\n\r\n",                   /* asterisk-form */
        "GET  / HTTP/1.1\r\n\r\n",                      /* double space */
        "GET / HTTP/1.1 \r\n\r\n",                      /* trailing space */
        "GET /\r\n\r\n",                                /* HTTP/0.9 style */
        " GET / HTTP/1.1\r\n\r\n",                      /* leading space */
        "G(T / HTTP/1.1\r\n\r\n",                       /* non-token method */
        "GET / http/1.1\r\n\r\n",                       /* version is case-sensitive */
        "GET / HTTP/1.11\r\n\r\n",                      /* extra digit */
        "GET / HTTP/x.1\r\n\r\n",                       /* not a digit */
        "GET / HTTP/1.1\r\nHost : x\r\n\r\n",           /* space before colon */
        "GET / HTTP/1.1\r\nHo(st: x\r\n\r\n",           /* non-token name */
        "GET / HTTP/1.1\r\n: x\r\n\r\n",                /* empty name */
        "GET / HTTP/1.1\r\nHost x\r\n\r\n",             /* no colon */
        "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n",         /* obs-fold */
        "GET / HTTP/1.1\r\nA: b\r\n\tc\r\n\r\n",        /* obs-fold with tab */
        "GET / HTTP/1.1\r\nA: b\x01\r\n\r\n",           /* control char in value */
        "GET / HTTP/1.1\r\nA: b\x7f\r\n\r\n",           /* DEL in value */
        "GET / HTTP/1.1\r\nA: b\rc\r\n\r\n",            /* lone CR in value */
        "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", /* two Host lines */
        "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", /* a TLS ClientHello */
        "\r\n\n",                                       /* bare LF among leading CRLFs */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int rc = parse_str(bad[i]);
        if (rc != HTTP_E_SYNTAX) fprintf(stderr, "input %zu: rc %d\n", i, rc);
        CHECK_EQ_INT(rc, HTTP_E_SYNTAX);
    }
    /* a NUL in a value (strlen would stop there) */
    static const char nul[] = "GET / HTTP/1.1\r\nA: b\0c\r\n\r\n";
    CHECK_EQ_INT(parse_len(nul, sizeof nul - 1, PD_MAX_HTTP_HEAD), HTTP_E_SYNTAX);
    /* errors are found before the head is complete */
    CHECK_EQ_INT(parse_str("GET /\x01"), HTTP_E_SYNTAX);
    CHECK_EQ_INT(parse_str("GET / HTTQ"), HTTP_E_SYNTAX);
    CHECK_EQ_INT(parse_str("GET / HTTP/1.1\r\nA b"), HTTP_E_SYNTAX);
    /* obs-text in values is allowed (RFC 9110 §5.5) */
    CHECK(parse_str("GET / HTTP/1.1\r\nA: caf\xc3\xa9\r\n\r\n") > 0);
    /* NULL arguments */
    http_request req;
    CHECK_EQ_INT(http_request_parse(NULL, 3, 100, &req), HTTP_E_SYNTAX);
    CHECK_EQ_INT(http_request_parse((const uint8_t *)"GET", 3, 100, NULL), HTTP_E_SYNTAX);
    CHECK_EQ_INT(http_request_parse(NULL, 0, 100, &req), HTTP_PARTIAL);
}

static void test_version(void)
{
    CHECK_EQ_INT(parse_str("GET / HTTP/2.0\r\n\r\n"), HTTP_E_VERSION);
    CHECK_EQ_INT(parse_str("GET / HTTP/1.2\r\n\r\n"), HTTP_E_VERSION);
    CHECK_EQ_INT(parse_str("GET / HTTP/0.9\r\n\r\n"), HTTP_E_VERSION);
    CHECK_EQ_INT(parse_str("GET / HTTP/3.0"), HTTP_E_VERSION); /* known before CRLF */
    CHECK(parse_str("GET / HTTP/1.0\r\n\r\n") > 0);
}

static void test_too_big(void)
{
    static const char s[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"; /* 27 bytes */
    size_t len = strlen(s);
    CHECK_EQ_INT(parse_len(s, len, len), len);                /* exactly at the limit */
    CHECK_EQ_INT(parse_len(s, len, len - 1), HTTP_E_TOO_BIG); /* one over */
    CHECK_EQ_INT(parse_len(s, 10, 10), HTTP_E_TOO_BIG);       /* partial but at the limit */
    CHECK_EQ_INT(parse_len(s, 10, 11), HTTP_PARTIAL);
    CHECK_EQ_INT(parse_len(s, 0, 0), HTTP_E_TOO_BIG);
    /* body bytes past max_head do not matter once the head fits */
    char big[64];
    memcpy(big, s, len);
    memset(big + len, 'x', sizeof big - len);
    CHECK_EQ_INT(parse_len(big, sizeof big, len), len);
    /* a syntax error inside the window wins over size */
    CHECK_EQ_INT(parse_len("GET /\x01 HTTP/1.1", 16, 8), HTTP_E_SYNTAX);
    /* a long header line that never ends */
    size_t n = PD_MAX_HTTP_HEAD + 100;
    char *line = malloc(n);
    memcpy(line, "GET / HTTP/1.1\r\nX: ", 19);
    memset(line + 19, 'a', n - 19);
    CHECK_EQ_INT(parse_len(line, n, PD_MAX_HTTP_HEAD), HTTP_E_TOO_BIG);
    free(line);
}

static void test_too_many_headers(void)
{
    char buf[2048];
    for (unsigned count = PD_MAX_HTTP_HEADERS; count <= PD_MAX_HTTP_HEADERS + 1; count++) {
        size_t o = (size_t)snprintf(buf, sizeof buf, "GET / HTTP/1.1\r\n");
        for (unsigned i = 0; i < count; i++)
            o += (size_t)snprintf(buf + o, sizeof buf - o, "X-%u: %u\r\n", i, i);
        o += (size_t)snprintf(buf + o, sizeof buf - o, "\r\n");
        int rc = parse_len(buf, o, PD_MAX_HTTP_HEAD);
        if (count == PD_MAX_HTTP_HEADERS)
            CHECK_EQ_INT(rc, o);
        else
            CHECK_EQ_INT(rc, HTTP_E_TOO_MANY_HEADERS);
    }
}

static void test_chunked_and_length(void)
{
    CHECK_EQ_INT(parse_str("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
                 HTTP_E_CHUNKED);
    CHECK_EQ_INT(parse_str("POST / HTTP/1.1\r\ntransfer-encoding: identity\r\n\r\n"),
                 HTTP_E_CHUNKED);
    CHECK_EQ_INT(parse_str("POST / HTTP/1.1\r\nContent-Length: 3\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n"),
                 HTTP_E_CHUNKED);
    static const char *const bad_len[] = {
        "1\r\nContent-Length: 1",
        "1\r\nContent-Length: 2",
        "5, 5",
        "",
        "-1",
        "+1",
        "0x10",
        "1 2",
        "18446744073709551616",
        "99999999999999999999999",
        "1\r\ncontent-length: 1",
    };
    char buf[256];
    for (size_t i = 0; i < sizeof bad_len / sizeof *bad_len; i++) {
        snprintf(buf, sizeof buf, "POST / HTTP/1.1\r\nContent-Length: %s\r\n\r\n", bad_len[i]);
        CHECK_EQ_INT(parse_str(buf), HTTP_E_LENGTH);
    }
    static const char max[] = "POST / HTTP/1.1\r\nContent-Length: 18446744073709551615\r\n\r\n";
    uint8_t *p = exact_copy(max, strlen(max));
    http_request req;
    CHECK_EQ_INT(http_request_parse(p, strlen(max), PD_MAX_HTTP_HEAD, &req), strlen(max));
    CHECK(req.content_length == UINT64_MAX);
    free(p);
    CHECK(parse_str("POST / HTTP/1.1\r\nContent-Length: 007\r\n\r\n") > 0);
}

static void test_has_token(void)
{
    static const char v[] = "keep-alive, Upgrade";
    CHECK(http_value_has_token(v, strlen(v), "upgrade"));
    CHECK(http_value_has_token(v, strlen(v), "KEEP-ALIVE"));
    CHECK(!http_value_has_token(v, strlen(v), "keep"));
    CHECK(!http_value_has_token(v, strlen(v), "alive"));
    CHECK(!http_value_has_token(v, strlen(v), ""));
    CHECK(!http_value_has_token("upgrade2", 8, "upgrade"));
    CHECK(http_value_has_token(" , ,\tclose\t,", 12, "close"));
    CHECK(!http_value_has_token("", 0, "close"));
    CHECK(!http_value_has_token(NULL, 0, "close"));
    CHECK(!http_value_has_token("close", 4, "close")); /* value_len is respected */
}

static void test_query_get(void)
{
    static const char q[] = "EIO=4&transport=polling&sid=ab%3D&flag&&empty=&t=N8h";
    size_t ql = strlen(q);
    const char *v = NULL;
    size_t vl = 99;
    CHECK(http_query_get(q, ql, "sid", &v, &vl));
    CHECK_EQ_MEM(v, vl, "ab%3D", 5);
    CHECK(http_query_get(q, ql, "flag", &v, &vl));
    CHECK_EQ_INT(vl, 0);
    CHECK(http_query_get(q, ql, "empty", &v, &vl));
    CHECK_EQ_INT(vl, 0);
    CHECK(http_query_get(q, ql, "t", &v, &vl));
    CHECK_EQ_MEM(v, vl, "N8h", 3);
    CHECK(!http_query_get(q, ql, "trans", &v, &vl));
    CHECK(!http_query_get(q, ql, "EIO=4", &v, &vl));
    CHECK(!http_query_get(q, ql, "", &v, &vl) || vl == 0);
    CHECK(!http_query_get("", 0, "a", &v, &vl));
    CHECK(!http_query_get(NULL, 0, "a", &v, &vl));
    CHECK(!http_query_get("a=1", 1, "b", &v, &vl));
    CHECK(http_query_get("a=1", 1, "a", &v, &vl)); /* query_len is respected */
    CHECK_EQ_INT(vl, 0);
    /* exact-size buffer: a key at the very end */
    uint8_t *p = exact_copy("x=1&key", 7);
    CHECK(http_query_get((const char *)p, 7, "key", &v, &vl));
    CHECK_EQ_INT(vl, 0);
    CHECK(v == (const char *)p + 7);
    free(p);
}

static void test_percent_decode(void)
{
    char out[64];
    CHECK_EQ_INT(http_percent_decode("a%20b+c", 7, out), 5);
    CHECK_EQ_MEM(out, 5, "a b+c", 5);
    CHECK_EQ_INT(http_percent_decode("%e2%82%AC", 9, out), 3);
    CHECK_EQ_MEM(out, 3, "\xe2\x82\xac", 3);
    CHECK_EQ_INT(http_percent_decode("", 0, out), 0);
    CHECK_EQ_INT(http_percent_decode("%zz", 3, out), -1);
    CHECK_EQ_INT(http_percent_decode("%2", 2, out), -1);
    CHECK_EQ_INT(http_percent_decode("ab%", 3, out), -1);
    CHECK_EQ_INT(http_percent_decode("%00", 3, out), -1);
    CHECK_EQ_INT(http_percent_decode("a\0b", 3, out), -1);
    CHECK_EQ_INT(http_percent_decode("%2g", 3, out), -1);
    /* in place, in an exact-size buffer: "%4" at the end must not overread */
    char *p = (char *)exact_copy("ro%6Fm%2", 8);
    CHECK_EQ_INT(http_percent_decode(p, 8, p), -1);
    free(p);
    p = (char *)exact_copy("ro%6Fm%2F", 9);
    CHECK_EQ_INT(http_percent_decode(p, 9, p), 5);
    CHECK_EQ_MEM(p, 5, "room/", 5);
    free(p);
}

static void test_reason_and_strerror(void)
{
    CHECK_EQ_STR(http_reason(200), "OK");
    CHECK_EQ_STR(http_reason(101), "Switching Protocols");
    CHECK_EQ_STR(http_reason(400), "Bad Request");
    CHECK_EQ_STR(http_reason(404), "Not Found");
    CHECK_EQ_STR(http_reason(411), "Length Required");
    CHECK_EQ_STR(http_reason(431), "Request Header Fields Too Large");
    CHECK_EQ_STR(http_reason(505), "HTTP Version Not Supported");
    CHECK_EQ_STR(http_reason(799), "Unknown");
    CHECK_EQ_STR(http_strerror(HTTP_PARTIAL), "incomplete request head");
    CHECK_EQ_STR(http_strerror(HTTP_E_SYNTAX), "malformed request");
    CHECK_EQ_STR(http_strerror(HTTP_E_TOO_BIG), "request head too large");
    CHECK_EQ_STR(http_strerror(HTTP_E_TOO_MANY_HEADERS), "too many headers");
    CHECK_EQ_STR(http_strerror(HTTP_E_VERSION), "unsupported HTTP version");
    CHECK_EQ_STR(http_strerror(HTTP_E_CHUNKED), "chunked request bodies are not supported");
    CHECK_EQ_STR(http_strerror(HTTP_E_LENGTH), "bad Content-Length");
    CHECK_EQ_STR(http_strerror(-100), "unknown error");
    CHECK_EQ_STR(http_strerror(0), "ok");
}

int main(void)
{
    test_polling_get();
    test_no_query_and_body_after_head();
    test_every_prefix();
    test_websocket_upgrade();
    test_keep_alive();
    test_syntax_errors();
    test_version();
    test_too_big();
    test_too_many_headers();
    test_chunked_and_length();
    test_has_token();
    test_query_get();
    test_percent_decode();
    test_reason_and_strerror();
    return CHECK_DONE();
}
