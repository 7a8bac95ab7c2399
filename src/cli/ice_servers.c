/* ice_servers.c: see ice_servers.h. */
#include "ice_servers.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/log.h"
#include "cli/net_connect.h"
#include "cli/signal_client.h"

/* The server's answer is a few hundred bytes (src/server/ice_config.c);
 * anything near this is not our server. */
#define CONFIG_MAX_RESPONSE (64u << 10)

void cli_ice_servers_cleanup(cli_ice_servers *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->count; i++) {
        free((char *)s->list[i].url);
        free((char *)s->list[i].username);
        free((char *)s->list[i].credential);
    }
    free(s->list);
    s->list = NULL;
    s->count = 0;
}

static char *dup_or_null(json_t *v)
{
    const char *s = json_string_value(v);
    return s ? strdup(s) : NULL;
}

static void add_url(cli_ice_servers *out, const char *url, json_t *entry)
{
    if (!url || !*url || out->count >= CLI_ICE_MAX_SERVERS) return;
    rtc_ice_server *s = &out->list[out->count];
    s->url = strdup(url);
    s->username = dup_or_null(json_object_get(entry, "username"));
    s->credential = dup_or_null(json_object_get(entry, "credential"));
    if (s->url) out->count++;
}

int cli_ice_servers_parse(const char *json, size_t len, cli_ice_servers *out)
{
    *out = (cli_ice_servers){0};
    json_t *root = json_loadb(json, len, 0, NULL);
    json_t *arr = json_object_get(root, "iceServers");
    if (!json_is_array(arr)) {
        json_decref(root);
        return -1;
    }
    out->list = calloc(CLI_ICE_MAX_SERVERS, sizeof *out->list);
    if (!out->list) {
        json_decref(root);
        return -1;
    }
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        json_t *urls = json_object_get(e, "urls");
        if (json_is_string(urls)) add_url(out, json_string_value(urls), e);
        size_t j;
        json_t *u;
        if (json_is_array(urls))
            json_array_foreach(urls, j, u) add_url(out, json_string_value(u), e);
    }
    json_decref(root);
    return 0;
}

/* ---------------- one blocking GET ---------------- */

typedef struct conn {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
} conn;

static void conn_close(conn *c)
{
    if (c->ssl) SSL_free(c->ssl);
    if (c->ctx) SSL_CTX_free(c->ctx);
    if (c->fd >= 0) close(c->fd);
}

static bool conn_write(conn *c, const char *d, size_t n)
{
    while (n) {
        long w = cli_net_write(c->ssl, c->fd, d, n);
        if (w <= 0) {
            if (!c->ssl && w == CLI_NET_AGAIN && errno == EINTR) continue;
            return false; /* an error, or SO_SNDTIMEO passed */
        }
        d += w, n -= (size_t)w;
    }
    return true;
}

/* Reads to EOF (Connection: close) or the cap; returns bytes or -1. */
static long conn_read_all(conn *c, char *buf, size_t cap)
{
    size_t len = 0;
    while (len < cap) {
        long r = cli_net_read(c->ssl, c->fd, buf + len, cap - len);
        if (r == 0) break;
        if (r < 0) {
            if (!c->ssl && r == CLI_NET_AGAIN && errno == EINTR) continue;
            /* a TLS server may close without close_notify after the body */
            if (c->ssl && len) break;
            return -1; /* an error, or SO_RCVTIMEO passed */
        }
        len += (size_t)r;
    }
    return len >= cap ? -1 : (long)len;
}

/* Returns the body of a 200 response with a Content-Length (or read to
 * EOF), or NULL. Chunked bodies are refused: our server never sends one. */
static const char *http_body(char *resp, size_t len, size_t *body_len, const char **why)
{
    resp[len] = 0;
    char *end = strstr(resp, "\r\n\r\n");
    if (!end) return *why = "truncated response", NULL;
    if (strncmp(resp, "HTTP/1.1 200", 12) && strncmp(resp, "HTTP/1.0 200", 12))
        return *why = "status is not 200", NULL;
    *end = 0;
    const char *body = end + 4;
    *body_len = len - (size_t)(body - resp);
    for (char *line = strstr(resp, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
        const char *h = line + 2;
        if (!strncasecmp(h, "transfer-encoding:", 18) && strcasestr(h, "chunked"))
            return *why = "chunked response", NULL;
        if (!strncasecmp(h, "content-length:", 15)) {
            unsigned long long cl = strtoull(h + 15, NULL, 10);
            if (cl > *body_len) return *why = "truncated body", NULL;
            *body_len = (size_t)cl;
        }
    }
    return body;
}

int cli_ice_servers_fetch(const char *server_url, unsigned timeout_ms, cli_ice_servers *out)
{
    *out = (cli_ice_servers){0};
    char host[256], port[16];
    bool tls;
    if (!cli_signal_parse_url(server_url, host, sizeof host, port, sizeof port, &tls)) return -1;
    conn c = {.fd = -1};
    const char *why = "cannot connect";
    char *resp = NULL;
    int rc = -1;
    const char *unused;
    c.fd = cli_net_connect(host, port, false, timeout_ms, &unused);
    if (c.fd < 0) goto done;
    if (tls) {
        why = "TLS handshake failed";
        c.ctx = cli_net_tls_context();
        c.ssl = cli_net_tls_attach(c.ctx, c.fd, host);
        if (!c.ssl) goto done;
        if (SSL_connect(c.ssl) != 1) {
            ERR_clear_error();
            goto done;
        }
    }
    /* IPv6 literals need their brackets back in Host */
    char req[512];
    bool v6 = strchr(host, ':') != NULL;
    snprintf(req, sizeof req,
             "GET /config HTTP/1.1\r\nHost: %s%s%s:%s\r\nAccept: application/json\r\n"
             "Connection: close\r\nUser-Agent: peerdrop-cli\r\n\r\n",
             v6 ? "[" : "", host, v6 ? "]" : "", port);
    why = "cannot send the request";
    if (!conn_write(&c, req, strlen(req))) goto done;
    resp = malloc(CONFIG_MAX_RESPONSE + 1);
    why = "no response";
    long n = resp ? conn_read_all(&c, resp, CONFIG_MAX_RESPONSE) : -1;
    if (n <= 0) goto done;
    size_t blen = 0;
    const char *body = http_body(resp, (size_t)n, &blen, &why);
    if (!body) goto done;
    why = "not an ICE server list";
    if (cli_ice_servers_parse(body, blen, out) < 0) goto done;
    rc = 0;
done:
    if (rc < 0) PD_LOG_WARN("cannot get the ICE servers from %s/config: %s", host, why);
    free(resp);
    conn_close(&c);
    return rc;
}
