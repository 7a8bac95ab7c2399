/* conformance.c: see conformance.h. */
#include "conformance.h"

#include <string.h>

#include "sio/sio.h"

/* --- Engine.IO echo ----------------------------------------------------- */

static void eio_open(eio_session *s)
{
    (void)s;
}

static void eio_message(eio_session *s, const uint8_t *data, size_t len, bool binary)
{
    engine_send(s, data, len, binary);
}

static void eio_close(eio_session *s, const char *reason)
{
    (void)s;
    (void)reason;
}

const engine_callbacks conformance_eio_callbacks = {
    .on_open = eio_open, .on_message = eio_message, .on_close = eio_close};

/* --- Socket.IO fixture -------------------------------------------------- */

static void emit_auth(sio_socket *sock, json_t *auth)
{
    sio_emit_simple(sock, "auth", auth);
}

/* Replaces args[0] with `name` in a copy of args. */
static json_t *renamed(const json_t *args, const char *name)
{
    json_t *copy = json_deep_copy(args);
    if (copy) json_array_set_new(copy, 0, json_string(name));
    return copy;
}

static void on_ack_result(sio_socket *sock, void *ctx, json_t *args, const sio_attachment *att,
                          unsigned att_count)
{
    (void)ctx;
    json_t *out = json_array();
    json_array_append_new(out, json_string("server-ack-result"));
    json_array_extend(out, args);
    sio_emit(sock, out, att, att_count, NULL, NULL);
    json_decref(out);
}

static void main_event(sio_socket *sock, json_t *args, int64_t ack_id, const sio_attachment *att,
                       unsigned att_count)
{
    const char *name = sio_event_name(args);
    if (!name) return;
    if (strcmp(name, "message") == 0) {
        json_t *out = renamed(args, "message-back");
        sio_emit(sock, out, att, att_count, NULL, NULL);
        json_decref(out);
    } else if (strcmp(name, "message-with-ack") == 0 && ack_id >= 0) {
        json_t *out = json_deep_copy(args);
        json_array_remove(out, 0);
        sio_ack(sock, ack_id, out, att, att_count);
        json_decref(out);
    } else if (strcmp(name, "server-ack-request") == 0) {
        sio_emit(sock, args, att, att_count, on_ack_result, NULL);
    }
}

const sio_namespace_def conformance_sio_namespaces[] = {
    /* the official suites send binary events on both */
    {.name = "/", .on_connect = emit_auth, .on_event = main_event, .binary = true},
    {.name = "/custom", .on_connect = emit_auth, .binary = true},
};
const size_t conformance_sio_namespace_count = 2;
