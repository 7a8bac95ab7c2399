/* signal_client.c: Socket.IO over a client WebSocket on a GMainContext.
 * See signal_client.h for what it does; this file is the I/O around the
 * project's codecs and client cores: TCP + optional TLS (net_connect), the
 * HTTP upgrade, frames, a timer for the Engine.IO core's deadline, and
 * reconnection. */
#include "signal_client.h"

#include <errno.h>
#include <glib-unix.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/base64.h"
#include "base/buf.h"
#include "base/limits.h"
#include "base/log.h"
#include "cli/net_connect.h"
#include "eio/client.h"
#include "sio/client.h"
#include "ws/ws.h"

/* The server's Engine.IO maxPayload is 1e6 (src/base/limits.h); nothing it
 * sends us is larger. Output: a few SDPs at most, 4 MiB is far above. */
#define SIG_MAX_IN (2u << 20)
#define SIG_MAX_OUT (4u << 20)
#define SIG_BACKOFF_MIN_MS 500u
#define SIG_BACKOFF_MAX_MS 10000u
#define SIG_CONNECT_TIMEOUT_MS 10000u

typedef enum sig_state {
    ST_IDLE,      /* waiting to reconnect */
    ST_TCP,       /* non-blocking connect in progress */
    ST_TLS,       /* TLS handshake */
    ST_HTTP,      /* upgrade request sent, waiting for 101 */
    ST_WS,        /* frames flow; Engine.IO open not yet seen */
    ST_EIO,       /* Engine.IO open, Socket.IO CONNECT sent */
    ST_CONNECTED, /* Socket.IO connected */
} sig_state;

/* What cli_signal_emit asked to be called with the server's ack. */
typedef struct ack_closure {
    cli_signal_ack_fn fn;
    void *user;
} ack_closure;

struct cli_signal {
    GMainContext *ctx;
    cli_signal_callbacks cb;
    void *user;
    char host[256], port[16];
    bool tls;
    sig_state state;
    int fd;
    SSL_CTX *ssl_ctx;
    SSL *ssl;
    GSource *io;
    GIOCondition io_cond;
    GSource *timer; /* reconnect backoff, or connect timeout */
    GSource *hb;    /* the Engine.IO core's deadline: a silent server */
    unsigned failures;
    char ws_key[25];
    pd_buf in, out, frag;
    ws_opcode frag_op;
    eio_client eio;             /* the protocol: heartbeat (src/eio/client.h) */
    sio_client sio;             /* CONNECT, events, acks (src/sio/client.h) */
    bool in_callback_destroyed; /* destroy() called from inside a callback */
    int depth;
};

static void connection_lost(cli_signal *c, const char *reason);
static void start_connect(cli_signal *c);

/* ---------------- URL ---------------- */

bool cli_signal_parse_url(const char *url, char *host, size_t host_cap, char *port, size_t port_cap,
                          bool *tls)
{
    const char *p;
    if (!url) return false;
    if (!strncmp(url, "https://", 8))
        p = url + 8, *tls = true;
    else if (!strncmp(url, "wss://", 6))
        p = url + 6, *tls = true;
    else if (!strncmp(url, "http://", 7))
        p = url + 7, *tls = false;
    else if (!strncmp(url, "ws://", 5))
        p = url + 5, *tls = false;
    else
        return false;
    const char *end = p + strcspn(p, "/?#");
    const char *h = p, *h_end, *colon = NULL;
    if (*p == '[') {
        h = p + 1;
        h_end = memchr(h, ']', (size_t)(end - h));
        if (!h_end) return false;
        if (h_end + 1 < end) {
            if (h_end[1] != ':') return false;
            colon = h_end + 1;
        }
    } else {
        colon = memchr(p, ':', (size_t)(end - p));
        h_end = colon ? colon : end;
    }
    size_t hl = (size_t)(h_end - h);
    if (hl == 0 || hl >= host_cap) return false;
    memcpy(host, h, hl);
    host[hl] = 0;
    if (colon) {
        size_t pl = (size_t)(end - colon - 1);
        if (pl == 0 || pl >= port_cap || pl > 5) return false;
        for (size_t i = 0; i < pl; i++)
            if (colon[1 + i] < '0' || colon[1 + i] > '9') return false;
        memcpy(port, colon + 1, pl);
        port[pl] = 0;
    } else {
        snprintf(port, port_cap, "%s", *tls ? "443" : "80");
    }
    return true;
}

/* ---------------- sources on the caller's context ---------------- */

static void source_drop(GSource **s)
{
    if (*s) {
        g_source_destroy(*s);
        g_source_unref(*s);
        *s = NULL;
    }
}

static GSource *timeout_add(cli_signal *c, unsigned ms, GSourceFunc fn)
{
    GSource *s = g_timeout_source_new(ms);
    g_source_set_callback(s, fn, c, NULL);
    g_source_attach(s, c->ctx);
    return s;
}

static gboolean on_io(gint fd, GIOCondition cond, gpointer data);

static void watch(cli_signal *c, GIOCondition cond)
{
    if (c->io && c->io_cond == cond) return;
    source_drop(&c->io);
    if (c->fd < 0) return;
    c->io = g_unix_fd_source_new(c->fd, cond);
    g_source_set_callback(c->io, G_SOURCE_FUNC(on_io), c, NULL);
    g_source_attach(c->io, c->ctx);
    c->io_cond = cond;
}

/* ---------------- raw I/O (TCP or TLS): src/cli/net_connect ---------------- */

/* Writes what it can of c->out; returns false on a broken connection. */
static bool flush_out(cli_signal *c)
{
    while (c->out.len) {
        long n = cli_net_write(c->ssl, c->fd, c->out.data, c->out.len);
        if (n == CLI_NET_AGAIN) break;
        if (n <= 0) return false;
        pd_buf_consume(&c->out, (size_t)n);
    }
    return true;
}

static void update_watch(cli_signal *c)
{
    GIOCondition cond = G_IO_IN | G_IO_HUP | G_IO_ERR;
    if (c->state == ST_TCP || c->out.len || (c->ssl && SSL_want_write(c->ssl))) cond |= G_IO_OUT;
    watch(c, cond);
}

/* ---------------- frames out ---------------- */

/* Queues one masked frame whose payload is `prefix` (when not 0) then data. */
static bool queue_frame_prefixed(cli_signal *c, ws_opcode op, char prefix, const uint8_t *data,
                                 size_t len)
{
    uint8_t key[4], hdr[14];
    if (RAND_bytes(key, sizeof key) != 1) return false; /* §5.3: unpredictable key */
    size_t payload_len = len + (prefix ? 1 : 0);
    size_t h = ws_frame_header_encode_masked(hdr, true, op, payload_len, key);
    size_t start = c->out.len;
    if (pd_buf_append(&c->out, hdr, h) ||
        (prefix && pd_buf_append_byte(&c->out, (uint8_t)prefix)) ||
        (len && pd_buf_append(&c->out, data, len))) {
        c->out.len = start;
        return false;
    }
    ws_mask(c->out.data + start + h, payload_len, key, 0);
    return true;
}

static bool queue_frame(cli_signal *c, ws_opcode op, const uint8_t *data, size_t len)
{
    return queue_frame_prefixed(c, op, 0, data, len);
}

/* ---------------- teardown and reconnect ---------------- */

static void close_transport(cli_signal *c)
{
    source_drop(&c->io);
    source_drop(&c->hb);
    source_drop(&c->timer);
    if (c->ssl) {
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
    pd_buf_reset(&c->in);
    pd_buf_reset(&c->out);
    pd_buf_reset(&c->frag);
    c->state = ST_IDLE;
}

static gboolean on_reconnect_timer(gpointer data)
{
    cli_signal *c = data;
    g_source_unref(c->timer);
    c->timer = NULL;
    start_connect(c);
    return G_SOURCE_REMOVE;
}

static void connection_lost(cli_signal *c, const char *reason)
{
    bool was_connected = c->state == ST_CONNECTED;
    close_transport(c);
    c->failures++;
    unsigned shift = c->failures > 6 ? 6 : c->failures - 1;
    unsigned ms = SIG_BACKOFF_MIN_MS << shift;
    if (ms > SIG_BACKOFF_MAX_MS) ms = SIG_BACKOFF_MAX_MS;
    ms = ms / 2 + (unsigned)g_random_int_range(0, (gint32)(ms / 2 + 1)); /* jitter */
    if (was_connected)
        PD_LOG_WARN("signaling connection lost: %s; reconnecting in %u ms", reason, ms);
    else
        PD_LOG_INFO("signaling connection failed: %s; retrying in %u ms", reason, ms);
    c->timer = timeout_add(c, ms, on_reconnect_timer);
    c->depth++;
    sio_client_reset(&c->sio); /* every ack still waited for gets NULL */
    if (c->cb.on_disconnected) c->cb.on_disconnected(c, reason, c->user);
    c->depth--;
}

/* ---------------- Engine.IO / Socket.IO: the client cores ---------------- */

static int64_t now_ms(void)
{
    return g_get_monotonic_time() / 1000;
}

static gboolean on_heartbeat_timeout(gpointer data)
{
    cli_signal *c = data;
    g_source_unref(c->hb);
    c->hb = NULL;
    eio_client_tick(&c->eio, now_ms()); /* a silent server: connection_lost */
    return G_SOURCE_REMOVE;
}

/* Arms the heartbeat timer for the Engine.IO core's next deadline. */
static void heartbeat_arm(cli_signal *c)
{
    source_drop(&c->hb);
    int64_t due = eio_client_deadline(&c->eio);
    if (c->state < ST_WS || due == EIO_CLIENT_NEVER) return;
    int64_t ms = due - now_ms();
    c->hb = timeout_add(c, ms > 0 ? (unsigned)ms : 0, on_heartbeat_timeout);
}

static bool eio_send_text(void *ctx, char type, const uint8_t *data, size_t len)
{
    return queue_frame_prefixed(ctx, WS_OP_TEXT, type, data, len);
}

static void eio_on_open(void *ctx)
{
    cli_signal *c = ctx;
    c->state = ST_EIO;
    sio_client_open(&c->sio); /* Socket.IO CONNECT to "/" */
}

static void eio_on_message(void *ctx, const uint8_t *data, size_t len)
{
    cli_signal *c = ctx;
    sio_client_feed(&c->sio, data, len);
}

static void eio_on_close(void *ctx, const char *reason)
{
    connection_lost(ctx, reason);
}

static const eio_client_io eio_io = {.send_text = eio_send_text,
                                     .on_open = eio_on_open,
                                     .on_message = eio_on_message,
                                     .on_close = eio_on_close};

static bool sio_send(void *ctx, const uint8_t *data, size_t len)
{
    cli_signal *c = ctx;
    return eio_client_send(&c->eio, data, len);
}

static void sio_on_connected(void *ctx, const char *sid)
{
    cli_signal *c = ctx;
    c->state = ST_CONNECTED;
    c->failures = 0;
    source_drop(&c->timer); /* the connect timeout */
    if (c->cb.on_connected) c->cb.on_connected(c, sid, c->user);
}

static void sio_on_event(void *ctx, const char *name, json_t *arg)
{
    cli_signal *c = ctx;
    if (c->cb.on_event) c->cb.on_event(c, name, arg, c->user);
}

static void sio_on_ack(void *ctx, void *token, json_t *arg)
{
    cli_signal *c = ctx;
    ack_closure closure = *(ack_closure *)token;
    free(token);
    if (closure.fn) closure.fn(c, arg, closure.user);
}

static void sio_on_lost(void *ctx, const char *reason)
{
    connection_lost(ctx, reason);
}

static const sio_client_io sio_io = {.send = sio_send,
                                     .on_connected = sio_on_connected,
                                     .on_event = sio_on_event,
                                     .on_ack = sio_on_ack,
                                     .on_lost = sio_on_lost};

static void on_text_message(cli_signal *c, const uint8_t *data, size_t len)
{
    eio_client_feed_text(&c->eio, data, len, now_ms());
    if (c->state != ST_IDLE) heartbeat_arm(c);
}

/* ---------------- incoming bytes ---------------- */

/* Parses the 101 response; returns bytes used, 0 if incomplete, -1 if bad. */
static long parse_upgrade(cli_signal *c)
{
    const uint8_t *d = c->in.data;
    size_t n = c->in.len;
    const uint8_t *end = memmem(d, n, "\r\n\r\n", 4);
    if (!end) return n > 16384 ? -1 : 0;
    size_t head = (size_t)(end - d) + 4;
    if (head < 12 || memcmp(d, "HTTP/1.1 101", 12) != 0) return -1;
    char want[29];
    if (!ws_accept_key(c->ws_key, 24, want)) return -1;
    /* find the Sec-WebSocket-Accept header, case-insensitively */
    const char *line = memchr(d, '\n', head);
    while (line && (size_t)((const uint8_t *)line - d) < head - 2) {
        line++;
        const char *eol = memchr(line, '\r', head - (size_t)((const uint8_t *)line - d));
        if (!eol) break;
        size_t ll = (size_t)(eol - line);
        if (ll > 21 && !strncasecmp(line, "sec-websocket-accept:", 21)) {
            const char *v = line + 21;
            while (*v == ' ' || *v == '\t')
                v++;
            size_t vl = (size_t)(eol - v);
            while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
                vl--;
            return vl == 28 && !memcmp(v, want, 28) ? (long)head : -1;
        }
        line = memchr(eol, '\n', head - (size_t)((const uint8_t *)eol - d));
    }
    return -1;
}

/* Handles whole frames in c->in; returns false if the connection is gone. */
static bool process_frames(cli_signal *c)
{
    size_t pos = 0;
    while (pos < c->in.len && c->state >= ST_WS) {
        ws_frame f;
        long n = ws_frame_parse(c->in.data + pos, c->in.len - pos, false, SIG_MAX_IN, &f);
        if (n == WS_PARTIAL) break;
        if (n < 0) {
            connection_lost(c, ws_strerror((int)n));
            return false;
        }
        pos += (size_t)n;
        switch (f.opcode) {
        case WS_OP_PING:
            queue_frame(c, WS_OP_PONG, f.payload, f.payload_len);
            break;
        case WS_OP_PONG:
            break;
        case WS_OP_CLOSE:
            connection_lost(c, "WebSocket closed by the server");
            return false;
        case WS_OP_TEXT:
        case WS_OP_BINARY:
        case WS_OP_CONTINUATION: {
            const uint8_t *msg = f.payload;
            size_t len = f.payload_len;
            ws_opcode op = f.opcode;
            if (op == WS_OP_CONTINUATION || !f.fin) {
                if (op != WS_OP_CONTINUATION) c->frag_op = op;
                if (pd_buf_append(&c->frag, f.payload, f.payload_len)) {
                    connection_lost(c, "message too big");
                    return false;
                }
                if (!f.fin) break;
                msg = c->frag.data;
                len = c->frag.len;
                op = c->frag_op;
            }
            if (op == WS_OP_TEXT) {
                sig_state before = c->state;
                on_text_message(c, msg, len);
                if (c->state == ST_IDLE || before == ST_IDLE) return false;
            }
            if (msg == c->frag.data) pd_buf_reset(&c->frag);
            break;
        }
        }
    }
    pd_buf_consume(&c->in, pos);
    return true;
}

static bool read_some(cli_signal *c)
{
    for (;;) {
        uint8_t *p = pd_buf_reserve(&c->in, 16384);
        if (!p) {
            connection_lost(c, "input over limit");
            return false;
        }
        long n = cli_net_read(c->ssl, c->fd, p, 16384);
        if (n == CLI_NET_AGAIN) return true;
        if (n == 0) {
            connection_lost(c, "connection closed");
            return false;
        }
        if (n < 0) {
            connection_lost(c, "read error");
            return false;
        }
        pd_buf_commit(&c->in, (size_t)n);
        if (c->state == ST_HTTP) {
            long used = parse_upgrade(c);
            if (used < 0) {
                connection_lost(c, "WebSocket upgrade refused");
                return false;
            }
            if (used == 0) continue;
            pd_buf_consume(&c->in, (size_t)used);
            c->state = ST_WS;
        }
        if (!process_frames(c)) return false;
    }
}

static void send_upgrade(cli_signal *c)
{
    uint8_t raw[16];
    RAND_bytes(raw, sizeof raw);
    pd_base64_encode(raw, sizeof raw, c->ws_key);
    c->ws_key[24] = 0;
    bool default_port = !strcmp(c->port, c->tls ? "443" : "80");
    bool v6 = strchr(c->host, ':') != NULL;
    pd_buf_printf(&c->out,
                  "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                  "Host: %s%s%s%s%s\r\n"
                  "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
                  "User-Agent: peerdrop-cli\r\n\r\n",
                  v6 ? "[" : "", c->host, v6 ? "]" : "", default_port ? "" : ":",
                  default_port ? "" : c->port, c->ws_key);
    c->state = ST_HTTP;
}

static bool tls_step(cli_signal *c)
{
    int r = SSL_connect(c->ssl);
    if (r == 1) {
        send_upgrade(c);
        return true;
    }
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return true;
    char buf[256];
    ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
    long v = SSL_get_verify_result(c->ssl);
    char reason[400];
    snprintf(reason, sizeof reason, "TLS handshake failed: %s%s%s", buf, v != X509_V_OK ? ": " : "",
             v != X509_V_OK ? X509_verify_cert_error_string(v) : "");
    connection_lost(c, reason);
    return false;
}

static gboolean on_io(gint fd, GIOCondition cond, gpointer data)
{
    cli_signal *c = data;
    c->depth++;
    if (c->state == ST_TCP) {
        int err = 0;
        socklen_t el = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0) err = errno;
        if (err) {
            connection_lost(c, strerror(err));
            goto out;
        }
        if (!(cond & (G_IO_OUT | G_IO_IN))) goto out;
        if (c->tls) {
            c->ssl = cli_net_tls_attach(c->ssl_ctx, fd, c->host);
            if (!c->ssl) {
                connection_lost(c, "out of memory");
                goto out;
            }
            c->state = ST_TLS;
        } else {
            send_upgrade(c);
        }
    }
    if (c->state == ST_TLS && !tls_step(c)) goto out;
    if (c->state >= ST_HTTP) {
        if (!flush_out(c)) {
            connection_lost(c, "write error");
            goto out;
        }
        if (!read_some(c)) goto out;
        if (c->state >= ST_HTTP && !flush_out(c)) {
            connection_lost(c, "write error");
            goto out;
        }
    } else if (c->state != ST_TLS && (cond & (G_IO_HUP | G_IO_ERR))) {
        connection_lost(c, "connection closed");
        goto out;
    }
    if (c->state != ST_IDLE) update_watch(c);
out:
    c->depth--;
    if (c->depth == 0 && c->in_callback_destroyed) {
        c->in_callback_destroyed = false;
        cli_signal_destroy(c);
    }
    return G_SOURCE_CONTINUE; /* watch() replaces or drops the source itself */
}

static gboolean on_connect_timeout(gpointer data)
{
    cli_signal *c = data;
    g_source_unref(c->timer);
    c->timer = NULL;
    connection_lost(c, "connect timeout");
    return G_SOURCE_REMOVE;
}

static void start_connect(cli_signal *c)
{
    const char *why = NULL;
    int fd = cli_net_connect(c->host, c->port, true, 0, &why);
    if (fd < 0) {
        connection_lost(c, why);
        return;
    }
    c->fd = fd;
    c->state = ST_TCP;
    pd_buf_init(&c->in, SIG_MAX_IN);
    pd_buf_init(&c->out, SIG_MAX_OUT);
    pd_buf_init(&c->frag, SIG_MAX_IN);
    /* a fresh Engine.IO session for every connection; the Socket.IO side
     * keeps its ack counter and waits for the open */
    eio_client_init(&c->eio, &eio_io);
    c->eio.io.ctx = c;
    update_watch(c);
    source_drop(&c->timer);
    c->timer = timeout_add(c, SIG_CONNECT_TIMEOUT_MS, on_connect_timeout);
}

/* ---------------- public ---------------- */

cli_signal *cli_signal_create(GMainContext *ctx, const char *url, const cli_signal_callbacks *cb,
                              void *user)
{
    if (!ctx || !url || !cb) return NULL;
    cli_signal *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->ctx = ctx;
    c->cb = *cb;
    c->user = user;
    c->fd = -1;
    if (!cli_signal_parse_url(url, c->host, sizeof c->host, c->port, sizeof c->port, &c->tls))
        goto fail;
    if (c->tls) {
        c->ssl_ctx = cli_net_tls_context();
        if (!c->ssl_ctx) goto fail;
    }
    sio_client_init(&c->sio, &sio_io, SIG_MAX_OUT);
    c->sio.io.ctx = c;
    start_connect(c);
    return c;
fail:
    cli_signal_destroy(c);
    return NULL;
}

void cli_signal_destroy(cli_signal *c)
{
    if (!c) return;
    if (c->depth > 0) {
        /* called from one of our callbacks: finish when it returns */
        c->in_callback_destroyed = true;
        c->cb = (cli_signal_callbacks){0};
        return;
    }
    close_transport(c);
    sio_client_cleanup(&c->sio, free); /* acks still waited for: unreported */
    if (c->ssl_ctx) SSL_CTX_free(c->ssl_ctx);
    free(c);
}

bool cli_signal_connected(const cli_signal *c)
{
    return c && c->state == ST_CONNECTED;
}

unsigned cli_signal_failures(const cli_signal *c)
{
    return c ? c->failures : 0;
}

int cli_signal_emit(cli_signal *c, const char *name, json_t *arg, cli_signal_ack_fn ack,
                    void *ack_user)
{
    if (!c || !name || c->state != ST_CONNECTED) return -1;
    ack_closure *closure = NULL;
    if (ack) {
        closure = malloc(sizeof *closure);
        if (!closure) return -1;
        *closure = (ack_closure){.fn = ack, .user = ack_user};
    }
    if (sio_client_emit(&c->sio, name, arg, closure) < 0) {
        free(closure);
        return -1;
    }
    if (!flush_out(c)) {
        connection_lost(c, "write error");
        return 0; /* the ack callback already reported the loss */
    }
    update_watch(c);
    return 0;
}
