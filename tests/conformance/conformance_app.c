/* conformance_app.c: the app (src/server/app.h) of
 * peerdrop-conformance-server, a test binary: the fixtures the official
 * Engine.IO v4 and Socket.IO v5 test suites expect (docs/server-cli.md,
 * "Conformance fixtures"), over the real server's engine and Socket.IO
 * layer. The product, peerdrop-server, does not contain them.
 *
 *   peerdrop-conformance-server eio|sio [peerdrop-server flags]
 */
#include <stdio.h>
#include <string.h>

#include "server/app.h"
#include "server/socketio.h"
#include "sio/sio.h"

typedef enum suite { SUITE_EIO, SUITE_SIO } suite;
static suite g_suite;

/* --- Engine.IO echo ----------------------------------------------------- */

static void eio_open(srv_eio_session *s)
{
    (void)s;
}

static void eio_message(srv_eio_session *s, const uint8_t *data, size_t len, bool binary)
{
    engine_send(s, data, len, binary);
}

static void eio_close(srv_eio_session *s, const char *reason)
{
    (void)s;
    (void)reason;
}

static const engine_callbacks eio_echo_callbacks = {
    .on_open = eio_open, .on_message = eio_message, .on_close = eio_close};

/* --- Socket.IO fixture -------------------------------------------------- */

static void emit_auth(srv_sio_socket *sock, json_t *auth)
{
    srv_sio_emit_simple(sock, "auth", auth);
}

/* Replaces args[0] with `name` in a copy of args. */
static json_t *renamed(const json_t *args, const char *name)
{
    json_t *copy = json_deep_copy(args);
    if (copy) json_array_set_new(copy, 0, json_string(name));
    return copy;
}

static void on_ack_result(srv_sio_socket *sock, void *ctx, json_t *args, const sio_attachment *att,
                          unsigned att_count)
{
    (void)ctx;
    json_t *out = json_array();
    json_array_append_new(out, json_string("server-ack-result"));
    json_array_extend(out, args);
    srv_sio_emit(sock, out, att, att_count, NULL, NULL);
    json_decref(out);
}

static void main_event(srv_sio_socket *sock, json_t *args, int64_t ack_id,
                       const sio_attachment *att, unsigned att_count)
{
    const char *name = sio_event_name(args);
    if (!name) return;
    if (strcmp(name, "message") == 0) {
        json_t *out = renamed(args, "message-back");
        srv_sio_emit(sock, out, att, att_count, NULL, NULL);
        json_decref(out);
    } else if (strcmp(name, "message-with-ack") == 0 && ack_id >= 0) {
        json_t *out = json_deep_copy(args);
        json_array_remove(out, 0);
        srv_sio_ack(sock, ack_id, out, att, att_count);
        json_decref(out);
    } else if (strcmp(name, "server-ack-request") == 0) {
        srv_sio_emit(sock, args, att, att_count, on_ack_result, NULL);
    }
}

static const srv_sio_namespace_def sio_namespaces[] = {
    /* the official suites send binary events on both */
    {.name = "/", .on_connect = emit_auth, .on_event = main_event, .binary = true},
    {.name = "/custom", .on_connect = emit_auth, .binary = true},
};

/* --- app.h ---------------------------------------------------------------- */

int server_app_args(server_config *cfg, int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "eio") == 0)
        g_suite = SUITE_EIO;
    else if (argc >= 2 && strcmp(argv[1], "sio") == 0)
        g_suite = SUITE_SIO;
    else {
        fprintf(stderr, "usage: peerdrop-conformance-server eio|sio [peerdrop-server flags]\n");
        return -1;
    }
    /* what the official suites expect (docs/server-cli.md); flags and the
     * environment may still change them */
    cfg->ping_interval_ms = 300;
    cfg->ping_timeout_ms = 200;
    cfg->connect_timeout_ms = 1000;
    cfg->max_payload = 1000000;
    cfg->port = 3000;
    return 1;
}

bool server_app_start(uv_loop_t *loop, const server_config *cfg, engine_config *ecfg,
                      router_config *rcfg)
{
    rcfg->web_root = NULL; /* no static files */
    if (g_suite == SUITE_EIO) {
        ecfg->cb = eio_echo_callbacks;
        rcfg->engine_path = "/engine.io/";
    } else {
        ecfg->cb = srv_sio_engine_callbacks;
        srv_sio_init(loop, sio_namespaces, sizeof sio_namespaces / sizeof sio_namespaces[0],
                     cfg->connect_timeout_ms, cfg->max_payload);
    }
    return true;
}

void server_app_stop(void) {}

const char *server_app_mode(void)
{
    return g_suite == SUITE_EIO ? "conformance-eio" : "conformance-sio";
}
