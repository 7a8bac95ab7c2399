/* signal_client.h: a Socket.IO v5 client for the CLI (docs/signaling.md).
 *
 * WebSocket transport only (GET /socket.io/?EIO=4&transport=websocket, no
 * long-polling), over ws:// or wss:// (src/cli/net_connect: OpenSSL, peer
 * and host name verified). The protocol is the project's sans-I/O client
 * cores (src/eio/client: the heartbeat; src/sio/client: CONNECT, events,
 * acks) over src/ws's masked client frames; this module adds the I/O: a
 * non-blocking TCP socket watched with g_unix_fd_add on the caller's
 * GMainContext, the same single-threaded model as src/rtc, and a timer for
 * the Engine.IO core's deadline. It answers Engine.IO pings, notices a
 * silent server (no ping for pingInterval + pingTimeout), and reconnects
 * with exponential backoff (0.5 s doubling to 10 s, with jitter) after any
 * loss; the caller re-creates or re-joins its room in on_connected, since
 * the server forgets a socket that went away.
 *
 * Name resolution uses getaddrinfo() and blocks the loop for the lookup;
 * fine for a CLI that does nothing else before it is connected. */
#ifndef PD_CLI_SIGNAL_CLIENT_H
#define PD_CLI_SIGNAL_CLIENT_H

#include <glib.h>
#include <jansson.h>
#include <stdbool.h>

typedef struct cli_signal cli_signal;

typedef struct cli_signal_callbacks {
    /* Socket.IO CONNECT accepted; sid is our socket id. Fires again after
     * every reconnection. */
    void (*on_connected)(cli_signal *c, const char *sid, void *user);
    /* The connection was lost (a reconnection is scheduled) or failed. */
    void (*on_disconnected)(cli_signal *c, const char *reason, void *user);
    /* A server event: name and its first argument (borrowed; may be NULL). */
    void (*on_event)(cli_signal *c, const char *name, json_t *arg, void *user);
} cli_signal_callbacks;

/* Ack callback: `arg` is the ack's first argument (borrowed), or NULL when
 * the connection was lost before the ack came. */
typedef void (*cli_signal_ack_fn)(cli_signal *c, json_t *arg, void *user);

/* url: http(s)://host[:port][/] or ws(s)://...; starts connecting at once. */
cli_signal *cli_signal_create(GMainContext *ctx, const char *url, const cli_signal_callbacks *cb,
                              void *user);
void cli_signal_destroy(cli_signal *c);

/* Emits event `name` with one argument (not stolen). With an ack callback
 * the packet carries an ack id. Returns 0, or -1 when not connected. */
int cli_signal_emit(cli_signal *c, const char *name, json_t *arg, cli_signal_ack_fn ack,
                    void *ack_user);
bool cli_signal_connected(const cli_signal *c);
/* Consecutive failed attempts since the last successful connection. */
unsigned cli_signal_failures(const cli_signal *c);

/* Splits http(s)/ws(s) URLs: host (brackets removed for IPv6), port
 * (default 80/443), tls. Returns false for anything else. Pure: unit-testable. */
bool cli_signal_parse_url(const char *url, char *host, size_t host_cap, char *port, size_t port_cap,
                          bool *tls);

#endif
