/* http.h: sans-I/O HTTP/1.1 request-head parser and response-head writer.
 *
 * The parser reads one request head (request line + headers + CRLF CRLF) from
 * the caller's bytes and hands out pointers into them; it never allocates,
 * reads or writes. Bodies are framed by Content-Length only: signaling
 * clients (socket.io-client, browsers) never send chunked uploads, so a
 * chunked request is refused with HTTP_E_CHUNKED (the server answers 411).
 *
 * The caller owns the connection: it calls http_request_parse() with all
 * bytes received so far, and re-calls with more bytes on HTTP_PARTIAL. */
#ifndef PD_HTTP_H
#define PD_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/limits.h"

#define HTTP_ERRORS(X)                                                                             \
    X(HTTP_PARTIAL, -1, "incomplete request head")                                                 \
    X(HTTP_E_SYNTAX, -2, "malformed request")                                                      \
    X(HTTP_E_TOO_BIG, -3, "request head too large")                                                \
    X(HTTP_E_TOO_MANY_HEADERS, -4, "too many headers")                                             \
    X(HTTP_E_VERSION, -5, "unsupported HTTP version")                                              \
    X(HTTP_E_CHUNKED, -6, "chunked request bodies are not supported")                              \
    X(HTTP_E_LENGTH, -7, "bad Content-Length")

enum {
#define HTTP_ERR_ENUM(name, value, text) name = (value),
    HTTP_ERRORS(HTTP_ERR_ENUM)
#undef HTTP_ERR_ENUM
};
const char *http_strerror(int err);

typedef struct http_header {
    const char *name;
    size_t name_len;
    const char *value; /* leading/trailing spaces and tabs trimmed */
    size_t value_len;
} http_header;

typedef struct http_request {
    const char *method;
    size_t method_len;
    const char *target; /* origin-form: path and optional ?query, as sent */
    size_t target_len;
    const char *path; /* target up to '?' (not percent-decoded) */
    size_t path_len;
    const char *query; /* after '?', or NULL */
    size_t query_len;
    int minor_version; /* HTTP/1.x */
    http_header headers[PD_MAX_HTTP_HEADERS];
    size_t num_headers;
    uint64_t content_length; /* 0 when absent */
    bool keep_alive;         /* 1.1 default true; "Connection: close" false; 1.0 needs keep-alive */
    bool upgrade_websocket;  /* Connection has token "upgrade" and Upgrade has token "websocket" */
} http_request;

/* Parses one request head from in[0..len), at most max_head bytes long.
 * Returns the head's length in bytes (> 0) when complete; HTTP_PARTIAL when
 * more bytes are needed; another HTTP_E_* on bad input. Pointers in *out
 * point into `in`. Duplicate or conflicting Content-Length is HTTP_E_LENGTH;
 * any Transfer-Encoding is HTTP_E_CHUNKED. */
int http_request_parse(const uint8_t *in, size_t len, size_t max_head, http_request *out);

/* Case-insensitive header lookup; returns the first match or NULL. */
const http_header *http_request_header(const http_request *req, const char *name);

/* True if a comma-separated header value contains `token` (case-insensitive). */
bool http_value_has_token(const char *value, size_t value_len, const char *token);

/* Finds `key` in a query string "a=1&b=2". On success sets *val and *val_len to
 * the raw (still percent-encoded) value and returns true. */
bool http_query_get(const char *query, size_t query_len, const char *key, const char **val,
                    size_t *val_len);

/* Percent-decodes in[0..len) into out (which may equal in); '+' stays '+'.
 * Returns the decoded length, or -1 on a malformed %-escape or a decoded NUL. */
long http_percent_decode(const char *in, size_t len, char *out);

/* Standard reason phrase for a status code ("OK", "Bad Request", ...). */
const char *http_reason(int status);

#endif
