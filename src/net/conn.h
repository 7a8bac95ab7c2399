/* conn.h: one TCP connection (optionally TLS) on the libuv loop.
 *
 * The only module that touches sockets for the server. Upper layers see a
 * plaintext byte stream: on_data() with bytes received, pd_conn_write() to
 * queue bytes. Writes made during one loop iteration are coalesced and
 * flushed once per iteration (before the loop sleeps), so a burst of relayed
 * messages to one peer costs one syscall.
 *
 * Memory: an idle connection holds no buffers. Received bytes are read into
 * one loop-wide buffer; whatever the upper layer cannot consume yet it copies
 * itself. Output is held only while the kernel will not take it; past
 * PD_CONN_OUTPUT_PAUSE the connection stops reading (backpressure) until it
 * drains, and on_drain() tells the upper layer to go on. A connection may
 * get output caps (pd_conn_set_output_limits); output that the kernel takes
 * nothing of for PD_CONN_STALL_MS ends any connection (limits.h).
 *
 * Behind a load balancer (--trust-proxy) the client's address comes from
 * the PROXY protocol v2 header the balancer sends first; the connection is
 * admitted (per address) and handed to the upper layer only once that
 * header has come whole.
 *
 * Admission: connections per client address are capped (pd_conn_configure),
 * and the last PD_FD_RESERVE descriptors below RLIMIT_NOFILE go only to
 * addresses that hold few, so one client cannot take every descriptor.
 * Refusals count in base/refused.h.
 *
 * Lifetime: pd_conn_close() flushes queued output then closes, dropping
 * what is left after PD_CONN_CLOSE_DRAIN_MS; the on_close() callback runs
 * later, from the loop, never inside the caller's stack, and is the last
 * callback for that connection. */
#ifndef PD_CONN_H
#define PD_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/cidr.h"
#include "base/ip_count.h"

typedef struct pd_conn pd_conn;
typedef struct pd_listener pd_listener;

typedef struct pd_conn_handler {
    /* Plaintext bytes arrived. The callee may modify them in place (WebSocket
     * unmasking); they are valid only during the call. */
    void (*on_data)(pd_conn *c, uint8_t *data, size_t len);
    /* The peer closed, an error occurred, or pd_conn_close() finished:
     * the connection is gone; free what the upper layer attached to it. */
    void (*on_close)(pd_conn *c);
    /* Optional: queued output fell below PD_CONN_OUTPUT_PAUSE again after
     * being above it; called from the loop, not from pd_conn_write. */
    void (*on_drain)(pd_conn *c);
} pd_conn_handler;

typedef struct pd_conn_limits {
    unsigned max_per_ip; /* open connections per client address; 0 = no cap */
    /* --trust-proxy: when not NULL (and not empty), every connection must come
     * from one of these addresses and start with a PROXY protocol v2 header
     * (base/proxy_v2.h), whose source address is then the client's, for
     * per-address limits and logs; others are refused. Kept by the caller. */
    const cidr_list *trust_proxy;
} pd_conn_limits;

/* Sets the admission limits for connections accepted from now on. */
void pd_conn_configure(const pd_conn_limits *lim);

/* Creates a listener on host:port (port 0 = any). tls_ctx (an SSL_CTX*) may be
 * NULL for plain TCP. Each accepted connection gets `handler`, and
 * on_accept(c) is called so the upper layer can attach its state. */
pd_listener *pd_listener_create(uv_loop_t *loop, const char *host, int port, void *tls_ctx,
                                void (*on_accept)(pd_conn *c), const pd_conn_handler *handler,
                                int *err);
int pd_listener_port(const pd_listener *l);
void pd_listener_destroy(pd_listener *l);

/* Queues bytes (copied). Returns 0, or -1 if the connection is closing or out
 * of memory (then it is being closed). */
int pd_conn_write(pd_conn *c, const void *data, size_t len);

/* Flush queued output, then close. Safe to call more than once. */
void pd_conn_close(pd_conn *c);

/* Bytes queued but not yet taken by the kernel. */
size_t pd_conn_output_pending(const pd_conn *c);
/* True while queued output is above PD_CONN_OUTPUT_PAUSE: the upper layer
 * stops producing answers until on_drain(). */
bool pd_conn_output_paused(const pd_conn *c);
/* Caps this connection's queued output: past `hard` bytes, or above `soft`
 * bytes for `soft_ms`, it is dropped at once (output discarded, reset sent)
 * and on_close() follows. 0 turns a cap off. */
void pd_conn_set_output_limits(pd_conn *c, size_t hard, size_t soft, unsigned soft_ms);

void pd_conn_set_user(pd_conn *c, void *user);
void *pd_conn_user(const pd_conn *c);
bool pd_conn_is_tls(const pd_conn *c);
bool pd_conn_is_closing(const pd_conn *c);
/* Client address as text ("127.0.0.1"), for logs and rate limits: the TCP
 * peer's, or behind a trusted proxy the one its PROXY header gave. */
const char *pd_conn_peer(const pd_conn *c);
/* The client address as counted for per-address limits. */
const pd_ip_key *pd_conn_ip(const pd_conn *c);

/* Runs fn at the end of every loop iteration, before queued output is
 * flushed: upper layers batch their own work there (at most 4 hooks). */
void pd_conn_add_flush_hook(void (*fn)(void));

/* Stops every connection of the loop: used at shutdown. */
void pd_conn_close_all(void);
size_t pd_conn_count(void);

#endif
