/* http.c: HTTP/1.1 request-head parser (see http.h).
 *
 * Strict on purpose: the server sits on the public Internet, maybe behind a
 * proxy, and every leniency is a place where we and the proxy could disagree
 * about where a request ends (request smuggling, RFC 9112 §11.2). So:
 *  - lines end in CRLF only. RFC 9112 §2.2 lets a recipient accept a bare LF,
 *    but browsers and socket.io-client always send CRLF, and llhttp treats
 *    bare LF as lenient-only too;
 *  - no obs-fold (§5.2 allows a server to reject it), no whitespace before the
 *    colon (§5.1: MUST reject), no control characters in the target or values;
 *  - the target must be origin-form ("/..."): we are not a proxy;
 *  - any Transfer-Encoding is refused (clients never send chunked uploads);
 *  - Content-Length must be plain digits, appear once, and fit in 64 bits;
 *  - more than one Host line is refused (§3.2: MUST respond 400). A missing
 *    Host is accepted: we serve one site and never route on it.
 * The parser re-scans from the start on every call; heads are capped at
 * max_head (8 KiB by default), so that stays cheap. */
#include "http.h"

#include <limits.h>
#include <string.h>

const char *http_strerror(int err)
{
    switch (err) {
#define HTTP_ERR_TEXT(name, value, text)                                                           \
    case name:                                                                                     \
        return text;
        HTTP_ERRORS(HTTP_ERR_TEXT)
#undef HTTP_ERR_TEXT
    }
    return err >= 0 ? "ok" : "unknown error";
}

/* tchar from RFC 9110 §5.6.2: the characters allowed in methods and names. */
static bool is_tchar(uint8_t c)
{
    /* not isalnum(): that depends on the locale */
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* RFC 3986 characters plus a few browsers send unescaped; no controls,
 * no space, nothing beyond ASCII. */
static bool is_target_char(uint8_t c)
{
    return c > 0x20 && c < 0x7f;
}

/* field-vchar / SP / HTAB (RFC 9110 §5.5); obs-text (>= 0x80) is allowed. */
static bool is_value_char(uint8_t c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static bool eq_nocase(const char *a, size_t a_len, const char *b, size_t b_len)
{
    if (a_len != b_len) return false;
    for (size_t i = 0; i < a_len; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i])) return false;
    return true;
}

/* A cursor over the bytes we may look at. Running off its end means the
 * head is not complete yet (HTTP_PARTIAL); the caller turns that into
 * HTTP_E_TOO_BIG when the window was cut at max_head. */
typedef struct cursor {
    const uint8_t *p;
    const uint8_t *end;
} cursor;

/* Expects CRLF at the cursor. */
static int expect_crlf(cursor *c)
{
    if (c->p == c->end) return HTTP_PARTIAL;
    if (*c->p != '\r') return HTTP_E_SYNTAX;
    if (c->p + 1 == c->end) return HTTP_PARTIAL;
    if (c->p[1] != '\n') return HTTP_E_SYNTAX;
    c->p += 2;
    return 0;
}

/* Skips the empty lines RFC 9112 §2.2 says a server SHOULD ignore before the
 * request line (some clients send a stray CRLF after a POST body). */
static int skip_leading_crlf(cursor *c)
{
    while (c->p < c->end && *c->p == '\r') {
        int rc = expect_crlf(c);
        if (rc < 0) return rc;
    }
    return 0;
}

static int parse_method(cursor *c, http_request *out)
{
    const uint8_t *start = c->p;
    while (c->p < c->end && is_tchar(*c->p))
        c->p++;
    if (c->p == c->end) return HTTP_PARTIAL;
    if (c->p == start || *c->p != ' ') return HTTP_E_SYNTAX;
    out->method = (const char *)start;
    out->method_len = (size_t)(c->p - start);
    c->p++;
    return 0;
}

static int parse_target(cursor *c, http_request *out)
{
    const uint8_t *start = c->p;
    if (c->p == c->end) return HTTP_PARTIAL;
    if (*c->p != '/') return HTTP_E_SYNTAX; /* origin-form only */
    while (c->p < c->end && is_target_char(*c->p))
        c->p++;
    if (c->p == c->end) return HTTP_PARTIAL;
    if (*c->p != ' ') return HTTP_E_SYNTAX;
    out->target = (const char *)start;
    out->target_len = (size_t)(c->p - start);
    const char *q = memchr(out->target, '?', out->target_len);
    out->path = out->target;
    out->path_len = q ? (size_t)(q - out->target) : out->target_len;
    out->query = q ? q + 1 : NULL;
    out->query_len = q ? out->target_len - out->path_len - 1 : 0;
    c->p++;
    return 0;
}

/* "HTTP/" DIGIT "." DIGIT CRLF. A well-formed version other than 1.0 or 1.1
 * is HTTP_E_VERSION (the server answers 505); anything else is a syntax error.
 * Bytes are checked as they arrive so garbage fails before the head ends. */
static int parse_version(cursor *c, http_request *out)
{
    static const char shape[] = "HTTP/d.d";
    size_t n = 0;
    for (; n < 8 && c->p + n < c->end; n++) {
        uint8_t ch = c->p[n];
        bool ok = shape[n] == 'd' ? (ch >= '0' && ch <= '9') : ch == (uint8_t)shape[n];
        if (!ok) return HTTP_E_SYNTAX;
    }
    if (n < 8) return HTTP_PARTIAL;
    if (c->p[5] != '1' || (c->p[7] != '0' && c->p[7] != '1')) return HTTP_E_VERSION;
    out->minor_version = c->p[7] - '0';
    c->p += 8;
    return expect_crlf(c);
}

/* One "name: value CRLF" line. The name must be a token directly followed by
 * ':'; the value has its surrounding spaces and tabs trimmed. */
static int parse_header_line(cursor *c, http_header *h)
{
    const uint8_t *name = c->p;
    while (c->p < c->end && is_tchar(*c->p))
        c->p++;
    if (c->p == c->end) return HTTP_PARTIAL;
    if (c->p == name || *c->p != ':') return HTTP_E_SYNTAX; /* also catches obs-fold */
    h->name = (const char *)name;
    h->name_len = (size_t)(c->p - name);
    c->p++;
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
        c->p++;
    const uint8_t *value = c->p;
    while (c->p < c->end && is_value_char(*c->p))
        c->p++;
    const uint8_t *value_end = c->p;
    int rc = expect_crlf(c); /* any control char other than CR lands here too */
    if (rc < 0) return rc;
    while (value_end > value && (value_end[-1] == ' ' || value_end[-1] == '\t'))
        value_end--;
    h->value = (const char *)value;
    h->value_len = (size_t)(value_end - value);
    return 0;
}

static int parse_headers(cursor *c, http_request *out)
{
    for (;;) {
        if (c->p == c->end) return HTTP_PARTIAL;
        if (*c->p == '\r') return expect_crlf(c); /* the empty line ends the head */
        if (out->num_headers == PD_MAX_HTTP_HEADERS) return HTTP_E_TOO_MANY_HEADERS;
        int rc = parse_header_line(c, &out->headers[out->num_headers]);
        if (rc < 0) return rc;
        out->num_headers++;
    }
}

/* 1*DIGIT that fits in uint64_t. "5, 5" (a list) and "+5" are refused:
 * RFC 9110 §8.6 lets us reject anything but a single valid number. */
static int parse_content_length(const http_header *h, uint64_t *out)
{
    if (h->value_len == 0) return HTTP_E_LENGTH;
    uint64_t v = 0;
    for (size_t i = 0; i < h->value_len; i++) {
        unsigned char ch = (unsigned char)h->value[i];
        if (ch < '0' || ch > '9') return HTTP_E_LENGTH;
        unsigned d = ch - '0';
        if (v > (UINT64_MAX - d) / 10) return HTTP_E_LENGTH;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* Works out body framing and connection flags once all headers are in. */
static int apply_headers(http_request *out)
{
    bool has_length = false, has_host = false;
    bool conn_close = false, conn_keep_alive = false, conn_upgrade = false, up_ws = false;
    for (size_t i = 0; i < out->num_headers; i++) {
        const http_header *h = &out->headers[i];
        if (eq_nocase(h->name, h->name_len, "transfer-encoding", 17)) return HTTP_E_CHUNKED;
        if (eq_nocase(h->name, h->name_len, "content-length", 14)) {
            if (has_length) return HTTP_E_LENGTH;
            has_length = true;
            int rc = parse_content_length(h, &out->content_length);
            if (rc < 0) return rc;
        } else if (eq_nocase(h->name, h->name_len, "host", 4)) {
            if (has_host) return HTTP_E_SYNTAX;
            has_host = true;
        } else if (eq_nocase(h->name, h->name_len, "connection", 10)) {
            conn_close |= http_value_has_token(h->value, h->value_len, "close");
            conn_keep_alive |= http_value_has_token(h->value, h->value_len, "keep-alive");
            conn_upgrade |= http_value_has_token(h->value, h->value_len, "upgrade");
        } else if (eq_nocase(h->name, h->name_len, "upgrade", 7)) {
            up_ws |= http_value_has_token(h->value, h->value_len, "websocket");
        }
    }
    out->keep_alive = !conn_close && (out->minor_version == 1 || conn_keep_alive);
    out->upgrade_websocket = conn_upgrade && up_ws;
    return 0;
}

static void request_clear(http_request *out)
{
    out->method = out->target = out->path = out->query = NULL;
    out->method_len = out->target_len = out->path_len = out->query_len = 0;
    out->minor_version = 0;
    out->num_headers = 0;
    out->content_length = 0;
    out->keep_alive = false;
    out->upgrade_websocket = false;
}

static int parse_head(cursor *c, http_request *out)
{
    int rc;
    if ((rc = skip_leading_crlf(c)) < 0) return rc;
    if ((rc = parse_method(c, out)) < 0) return rc;
    if ((rc = parse_target(c, out)) < 0) return rc;
    if ((rc = parse_version(c, out)) < 0) return rc;
    if ((rc = parse_headers(c, out)) < 0) return rc;
    return apply_headers(out);
}

int http_request_parse(const uint8_t *in, size_t len, size_t max_head, http_request *out)
{
    if (!out || (!in && len > 0)) return HTTP_E_SYNTAX;
    request_clear(out);
    static const uint8_t empty[1];
    if (!in) in = empty;                        /* NULL + 0 is undefined behaviour in C */
    if (max_head > INT_MAX) max_head = INT_MAX; /* the length is returned as int */
    size_t window = len < max_head ? len : max_head;
    cursor c = {in, in + window};
    int rc = parse_head(&c, out);
    if (rc == HTTP_PARTIAL && len >= max_head) return HTTP_E_TOO_BIG;
    if (rc < 0) return rc;
    return (int)(c.p - in);
}

const http_header *http_request_header(const http_request *req, const char *name)
{
    if (!req || !name) return NULL;
    size_t name_len = strlen(name);
    for (size_t i = 0; i < req->num_headers; i++) {
        const http_header *h = &req->headers[i];
        if (eq_nocase(h->name, h->name_len, name, name_len)) return h;
    }
    return NULL;
}

bool http_value_has_token(const char *value, size_t value_len, const char *token)
{
    if (!value || !token || !*token) return false;
    size_t token_len = strlen(token);
    size_t i = 0;
    while (i < value_len) {
        size_t start = i;
        while (i < value_len && value[i] != ',')
            i++;
        size_t end = i;
        while (start < end && (value[start] == ' ' || value[start] == '\t'))
            start++;
        while (end > start && (value[end - 1] == ' ' || value[end - 1] == '\t'))
            end--;
        if (eq_nocase(value + start, end - start, token, token_len)) return true;
        i++; /* skip the comma */
    }
    return false;
}

bool http_query_get(const char *query, size_t query_len, const char *key, const char **val,
                    size_t *val_len)
{
    if (!query || !key || !val || !val_len) return false;
    size_t key_len = strlen(key);
    size_t i = 0;
    while (i < query_len) {
        size_t start = i;
        while (i < query_len && query[i] != '&')
            i++;
        const char *pair = query + start;
        size_t pair_len = i - start;
        const char *eq = memchr(pair, '=', pair_len);
        size_t name_len = eq ? (size_t)(eq - pair) : pair_len;
        if (name_len == key_len && memcmp(pair, key, key_len) == 0) {
            /* "k" alone counts as present with an empty value */
            *val = eq ? eq + 1 : pair + pair_len;
            *val_len = eq ? pair_len - name_len - 1 : 0;
            return true;
        }
        i++; /* skip the '&' */
    }
    return false;
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

long http_percent_decode(const char *in, size_t len, char *out)
{
    if ((!in || !out) && len > 0) return -1;
    if (len > LONG_MAX) return -1;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)in[i];
        if (ch == '%') {
            if (len - i < 3) return -1;
            int hi = hex_value((unsigned char)in[i + 1]), lo = hex_value((unsigned char)in[i + 2]);
            if (hi < 0 || lo < 0) return -1;
            ch = (unsigned char)(hi << 4 | lo);
            i += 2;
        }
        /* a NUL would silently cut C strings built from the result */
        if (ch == 0) return -1;
        out[o++] = (char)ch; /* o <= i, so decoding in place is safe */
    }
    return (long)o;
}

const char *http_reason(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 206:
        return "Partial Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 303:
        return "See Other";
    case 304:
        return "Not Modified";
    case 307:
        return "Temporary Redirect";
    case 308:
        return "Permanent Redirect";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 406:
        return "Not Acceptable";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 416:
        return "Range Not Satisfiable";
    case 426:
        return "Upgrade Required";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    }
    return "Unknown";
}
