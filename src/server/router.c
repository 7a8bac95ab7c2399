/* router.c: see router.h. */
#include "router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "cluster.h"
#include "eio/eio.h"
#include "engine.h"
#include "metrics.h"
#include "static_files.h"

static router_config g_cfg;

void router_init(const router_config *cfg)
{
    g_cfg = *cfg;
}

static bool method_is(const http_request *req, const char *m)
{
    return req->method_len == strlen(m) && memcmp(req->method, m, req->method_len) == 0;
}

static bool path_is(const http_request *req, const char *p)
{
    return req->path_len == strlen(p) && memcmp(req->path, p, req->path_len) == 0;
}

static bool is_engine_path(const http_request *req)
{
    /* "/socket.io/" and "/socket.io" both reach Engine.IO, as in the reference */
    size_t n = strlen(g_cfg.engine_path);
    return path_is(req, g_cfg.engine_path) ||
           (req->path_len == n - 1 && memcmp(req->path, g_cfg.engine_path, n - 1) == 0);
}

static void preflight(http_conn *hc, const http_request *req)
{
    char headers[1024];
    const http_header *asked = http_request_header(req, "access-control-request-headers");
    int n = snprintf(headers, sizeof headers,
                     "Access-Control-Allow-Methods: GET,HEAD,PUT,PATCH,POST,DELETE\r\n"
                     "Vary: Access-Control-Request-Headers\r\n");
    if (asked && asked->value_len < 512)
        snprintf(headers + n, sizeof headers - (size_t)n, "Access-Control-Allow-Headers: %.*s\r\n",
                 (int)asked->value_len, asked->value);
    http_conn_respond(hc, 204, NULL, headers, NULL, 0);
}

/* The web app's share target (web/public/manifest.webmanifest): a phone's
 * share sheet POSTs the shared files here, and the app's service worker
 * takes them. Should the worker not be running (evicted, or the app's data
 * cleared), this answer sends the browser to the app, which says that
 * nothing arrived; the body is dropped unread (docs/security.md). */
#define SHARE_TARGET_PATH "/share-target"

bool router_answers_from_head(const http_request *req)
{
    return g_cfg.web_root && method_is(req, "POST") && path_is(req, SHARE_TARGET_PATH);
}

void router_handle(http_conn *hc, const http_request *req, const uint8_t *body, size_t body_len)
{
    if (method_is(req, "OPTIONS")) {
        if (http_conn_cors_allowed(hc)) {
            preflight(hc, req);
        } else if (is_engine_path(req)) {
            char json[96];
            eio_http_error_json(json, sizeof json, EIO_HTTP_BAD_HANDSHAKE_METHOD);
            http_conn_respond_json(hc, 400, json);
        } else {
            http_conn_respond(hc, 405, "text/plain", "Allow: GET, HEAD\r\n", "method not allowed",
                              18);
        }
        return;
    }
    if (is_engine_path(req)) {
        engine_handle_request(hc, req, body, body_len);
        return;
    }
    bool get = method_is(req, "GET") || method_is(req, "HEAD");
    if (router_answers_from_head(req)) {
        http_conn_respond(hc, 303, "text/plain",
                          "Location: ./?share-target=1\r\nCache-Control: no-store\r\n", "see other",
                          9);
    } else if (!g_cfg.web_root) {
        http_conn_respond(hc, 404, "text/plain", NULL, "not found", 9);
    } else if (!get) {
        http_conn_respond(hc, 405, "text/plain", "Allow: GET, HEAD\r\n", "method not allowed", 18);
    } else if (path_is(req, "/healthz") && cluster_enabled() && !cluster_up()) {
        /* a load balancer takes a node that lost Redis out: it can create
         * and join nothing (docs/scale.md) */
        static const char lost[] = "redis unreachable";
        http_conn_respond(hc, 503, "text/plain", "Cache-Control: no-store\r\n", lost,
                          sizeof lost - 1);
    } else if (path_is(req, "/healthz")) {
        http_conn_respond(hc, 200, "text/plain", "Cache-Control: no-store\r\n", "ok", 2);
    } else if (path_is(req, "/metrics") &&
               !(g_cfg.metrics_allow && cidr_list_match(g_cfg.metrics_allow, http_conn_peer(hc)))) {
        /* --metrics-allow: the counters say who is busy and what is refused */
        http_conn_respond(hc, 403, "text/plain", NULL, "forbidden", 9);
    } else if (path_is(req, "/metrics")) {
        pd_buf out;
        pd_buf_init(&out, 1u << 20);
        metrics_render(&out);
        http_conn_respond(hc, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, out.data,
                          out.len);
        pd_buf_reset(&out);
    } else if (path_is(req, "/config")) {
        char *json = ice_config_json(g_cfg.ice);
        if (json)
            http_conn_respond(hc, 200, "application/json", "Cache-Control: no-store\r\n", json,
                              strlen(json));
        else
            http_conn_respond(hc, 500, "text/plain", NULL, "out of memory", 13);
        free(json);
    } else {
        static_serve(hc, g_cfg.web_root, req->path, req->path_len);
    }
}

void router_request_start(http_conn *hc, const http_request *req, const uint8_t *body,
                          size_t body_len)
{
    (void)body;
    (void)body_len;
    if (is_engine_path(req)) engine_request_start(hc, req);
}
