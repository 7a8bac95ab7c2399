/* router.h: which handler answers an HTTP request. */
#ifndef PD_ROUTER_H
#define PD_ROUTER_H

#include "base/cidr.h"
#include "http_conn.h"
#include "ice_config.h"

typedef struct router_config {
    const char *engine_path; /* "/socket.io/" or, for the eio fixture, "/engine.io/" */
    const char *web_root;    /* NULL: no static files (conformance mode) */
    const ice_config *ice;
    const cidr_list *metrics_allow; /* who may read /metrics */
} router_config;

void router_init(const router_config *cfg);
void router_handle(http_conn *hc, const http_request *req, const uint8_t *body, size_t body_len);
/* True for the web app's share target, POST /share-target, which is
 * answered from its head (see http_server_config.answers_from_head). */
bool router_answers_from_head(const http_request *req);
/* A request whose body is still arriving (see http_server_config). */
void router_request_start(http_conn *hc, const http_request *req, const uint8_t *body,
                          size_t body_len);

#endif
