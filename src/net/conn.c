/* conn.c: see conn.h. libuv TCP handles, OpenSSL memory BIOs for TLS. */
#include "conn.h"

#include <arpa/inet.h>
#include <assert.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "base/buf.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/proxy_v2.h"
#include "base/refused.h"

/* One read buffer for the whole loop: connections copy only what they keep. */
#define READ_BUF_SIZE (64u * 1024u)
/* How often output deadlines (stall, soft cap, close drain) are checked. */
#define SWEEP_INTERVAL_MS 1000u

struct pd_conn {
    uv_tcp_t tcp; /* first: the handle's address is the connection's */
    const pd_conn_handler *handler;
    void *user;
    pd_buf out;          /* coalesced output not yet handed to the kernel */
    size_t in_flight;    /* bytes in uv_write requests not yet completed */
    SSL *ssl;            /* NULL for plain TCP */
    pd_conn *next_dirty; /* link in the flush list */
    pd_conn *prev_all, *next_all;
    bool dirty;
    bool closing;       /* close requested: no more reads or writes accepted */
    bool close_started; /* uv_close issued */
    bool reading;
    bool output_paused; /* output went above PD_CONN_OUTPUT_PAUSE: on_drain owed */
    bool ip_counted;    /* counted in g_ips */
    pd_ip_key ip;
    char peer[PD_IP_TEXT_LEN]; /* the client's address as text */
    /* --trust-proxy: waiting for the PROXY header (deadline not 0); the
     * listener to hand the connection to once it came, and its first bytes
     * when they came in pieces (at most PD_PROXY_HEADER_MAX) */
    uint64_t proxy_deadline_ms;
    pd_listener *listener;
    uint8_t *proxy_in;
    size_t proxy_in_len;
    size_t out_hard, out_soft; /* output caps, 0 = none */
    unsigned out_soft_ms;
    uint64_t over_soft_since_ms; /* 0: not above the soft cap */
    uint64_t out_total;          /* bytes ever queued */
    uint64_t written_seen;       /* bytes taken by the kernel at the last sweep */
    uint64_t stalled_since_ms;   /* 0: no output waiting, or it moved */
    uint64_t close_deadline_ms;  /* 0: no close asked for */
};

struct pd_listener {
    uv_tcp_t tcp;
    SSL_CTX *tls;
    void (*on_accept)(pd_conn *c);
    const pd_conn_handler *handler;
    int port;
};

typedef struct write_req {
    uv_write_t req;
    pd_conn *conn;
    size_t len;
    uint8_t *data;
} write_req;

static uint8_t read_buf[READ_BUF_SIZE];
static bool read_buf_busy;
static pd_conn *dirty_head;
static pd_conn *all_head;
static size_t conn_count;
static uv_prepare_t flush_prepare;
static uv_check_t flush_check;
static uv_timer_t sweep_timer;
static uv_loop_t *g_loop;
static bool flush_hooks_started;
static pd_conn_limits g_limits;
static pd_ip_count *g_ips;
static size_t g_fd_limit; /* RLIMIT_NOFILE when listening began; 0 = unknown */
static size_t g_fd_base;  /* descriptors open before any connection */

static void conn_start_close(pd_conn *c);
static void flush_all(void);

static void on_flush_prepare(uv_prepare_t *h)
{
    (void)h;
    flush_all();
}

static void on_flush_check(uv_check_t *h)
{
    (void)h;
    flush_all();
}

static void sweep_cb(uv_timer_t *t);

static void start_flush_hooks(uv_loop_t *loop)
{
    if (flush_hooks_started) return;
    flush_hooks_started = true;
    g_loop = loop;
    uv_timer_init(loop, &sweep_timer);
    uv_timer_start(&sweep_timer, sweep_cb, SWEEP_INTERVAL_MS, SWEEP_INTERVAL_MS);
    uv_unref((uv_handle_t *)&sweep_timer);
    uv_prepare_init(loop, &flush_prepare);
    uv_prepare_start(&flush_prepare, on_flush_prepare);
    uv_unref((uv_handle_t *)&flush_prepare);
    uv_check_init(loop, &flush_check);
    uv_check_start(&flush_check, on_flush_check);
    uv_unref((uv_handle_t *)&flush_check);
}

static void mark_dirty(pd_conn *c)
{
    if (c->dirty) return;
    c->dirty = true;
    c->next_dirty = dirty_head;
    dirty_head = c;
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    /* Single-threaded loop: the buffer is free again once read_cb returns. */
    if (read_buf_busy) {
        buf->base = NULL;
        buf->len = 0;
        return;
    }
    read_buf_busy = true;
    buf->base = (char *)read_buf;
    buf->len = sizeof read_buf;
}

static void update_reading(pd_conn *c);

static uint64_t now_ms(void)
{
    return g_loop ? uv_now(g_loop) : 0;
}

/* Drops a connection at once: queued output discarded, and a reset instead
 * of a FIN (SO_LINGER 0), so the kernel frees its buffers too. */
static void conn_abort(pd_conn *c, pd_refusal why)
{
    if (c->close_started) return;
    pd_refused(why);
    PD_LOG_INFO("dropping connection: %s (%zu bytes of output waiting)", pd_refusal_name(why),
                pd_conn_output_pending(c));
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    pd_buf_reset(&c->out);
    c->closing = true;
    conn_start_close(c);
}

/* Output caps, checked whenever output grows (and by the sweep, for time). */
static void check_output_caps(pd_conn *c)
{
    size_t pending = pd_conn_output_pending(c);
    if (c->out_hard && pending > c->out_hard) {
        conn_abort(c, PD_REFUSED_OUTPUT_LIMIT);
        return;
    }
    if (c->out_soft && pending > c->out_soft) {
        if (!c->over_soft_since_ms) c->over_soft_since_ms = now_ms() | 1;
    } else {
        c->over_soft_since_ms = 0;
    }
}

/* Tells the upper layer it may answer again once output fell below the
 * pause level. Only from loop callbacks (write completion, flush). */
static void check_drained(pd_conn *c)
{
    if (!c->output_paused || c->closing || c->close_started) return;
    if (pd_conn_output_pending(c) >= PD_CONN_OUTPUT_PAUSE) return;
    c->output_paused = false;
    if (c->handler->on_drain) c->handler->on_drain(c);
}

static void write_cb(uv_write_t *req, int status)
{
    write_req *wr = (write_req *)req;
    pd_conn *c = wr->conn;
    c->in_flight -= wr->len;
    free(wr->data);
    free(wr);
    if (status < 0 && !c->closing) {
        PD_LOG_DEBUG("write failed: %s", uv_strerror(status));
        c->closing = true;
    }
    if (c->closing && c->in_flight == 0 && c->out.len == 0) {
        conn_start_close(c);
        return;
    }
    update_reading(c);
    check_drained(c);
}

/* Hands the coalesced output to the kernel: try_write first (no allocation
 * when the socket has room), the remainder through a uv_write request. */
static void conn_flush(pd_conn *c)
{
    if (c->close_started) return;
    if (c->out.len == 0) {
        if (c->closing && c->in_flight == 0) conn_start_close(c);
        return;
    }
    if (c->in_flight == 0) {
        uv_buf_t b = uv_buf_init((char *)c->out.data, (unsigned)c->out.len);
        int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
        if (n > 0)
            pd_buf_consume(&c->out, (size_t)n);
        else if (n < 0 && n != UV_EAGAIN) {
            pd_buf_reset(&c->out);
            c->closing = true;
            conn_start_close(c);
            return;
        }
    }
    if (c->out.len > 0) {
        write_req *wr = malloc(sizeof *wr);
        if (!wr) {
            c->closing = true;
            conn_start_close(c);
            return;
        }
        wr->conn = c;
        wr->data = pd_buf_steal(&c->out, &wr->len);
        c->in_flight += wr->len;
        uv_buf_t b = uv_buf_init((char *)wr->data, (unsigned)wr->len);
        int rc = uv_write(&wr->req, (uv_stream_t *)&c->tcp, &b, 1, write_cb);
        if (rc < 0) {
            c->in_flight -= wr->len;
            free(wr->data);
            free(wr);
            c->closing = true;
            conn_start_close(c);
            return;
        }
    }
    if (c->closing && c->in_flight == 0 && c->out.len == 0) {
        conn_start_close(c);
        return;
    }
    update_reading(c);
    check_drained(c);
}

static void (*flush_hooks[4])(void);
static size_t flush_hook_count;

void pd_conn_add_flush_hook(void (*fn)(void))
{
    assert(flush_hook_count < 4);
    flush_hooks[flush_hook_count++] = fn;
}

static void flush_all(void)
{
    for (size_t i = 0; i < flush_hook_count; i++)
        flush_hooks[i]();
    while (dirty_head) {
        pd_conn *c = dirty_head;
        dirty_head = c->next_dirty;
        c->dirty = false;
        conn_flush(c);
    }
}

static void tls_pump_output(pd_conn *c)
{
    char tmp[16384];
    BIO *wbio = SSL_get_wbio(c->ssl);
    int n;
    while ((n = BIO_read(wbio, tmp, sizeof tmp)) > 0) {
        if (pd_buf_append(&c->out, tmp, (size_t)n) != PD_BUF_OK) {
            c->closing = true;
            break;
        }
        c->out_total += (size_t)n;
        mark_dirty(c);
    }
}

static void deliver(pd_conn *c, uint8_t *data, size_t len)
{
    if (!c->ssl) {
        c->handler->on_data(c, data, len);
        return;
    }
    BIO_write(SSL_get_rbio(c->ssl), data, (int)len);
    uint8_t plain[16384];
    for (;;) {
        if (c->closing) break;
        int n = SSL_read(c->ssl, plain, sizeof plain);
        if (n > 0) {
            c->handler->on_data(c, plain, (size_t)n);
            continue;
        }
        int e = SSL_get_error(c->ssl, n);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            unsigned long oe = ERR_peek_error();
            if (e != SSL_ERROR_ZERO_RETURN)
                PD_LOG_DEBUG("tls error peer=%s: %s", pd_conn_peer(c),
                             oe ? ERR_reason_error_string(oe) : "closed");
            ERR_clear_error();
            c->closing = true;
        }
        break;
    }
    tls_pump_output(c); /* handshake records and alerts */
    if (c->closing) mark_dirty(c);
}

static void proxy_feed(pd_conn *c, uint8_t *data, size_t len);

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    pd_conn *c = (pd_conn *)s;
    if (buf->base == (char *)read_buf) read_buf_busy = false;
    if (nread > 0 && !c->closing) {
        if (c->proxy_deadline_ms)
            proxy_feed(c, (uint8_t *)buf->base, (size_t)nread);
        else
            deliver(c, (uint8_t *)buf->base, (size_t)nread);
    } else if (nread < 0) {
        /* EOF or error: the peer is gone, nothing more can be delivered */
        pd_buf_reset(&c->out);
        c->closing = true;
        conn_start_close(c);
    }
}

static void update_reading(pd_conn *c)
{
    if (c->close_started || c->closing) return;
    bool want = pd_conn_output_pending(c) < PD_CONN_OUTPUT_PAUSE;
    if (!want) c->output_paused = true;
    if (want && !c->reading) {
        if (uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb) == 0) c->reading = true;
    } else if (!want && c->reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = false;
    }
}

static void close_cb(uv_handle_t *h)
{
    pd_conn *c = (pd_conn *)h;
    if (c->prev_all)
        c->prev_all->next_all = c->next_all;
    else
        all_head = c->next_all;
    if (c->next_all) c->next_all->prev_all = c->prev_all;
    conn_count--;
    if (c->ip_counted) pd_ip_count_remove(g_ips, &c->ip);
    c->handler->on_close(c);
    free(c->proxy_in);
    if (c->ssl) SSL_free(c->ssl);
    pd_buf_reset(&c->out);
    free(c);
}

static void conn_start_close(pd_conn *c)
{
    if (c->close_started) return;
    c->close_started = true;
    c->closing = true;
    /* unlink from the dirty list lazily: conn_flush ignores closed conns, but
     * the memory must outlive the list, so drop it from the list now */
    if (c->dirty) {
        pd_conn **pp = &dirty_head;
        while (*pp && *pp != c)
            pp = &(*pp)->next_dirty;
        if (*pp) *pp = c->next_dirty;
        c->dirty = false;
    }
    uv_close((uv_handle_t *)&c->tcp, close_cb);
}

/* Whether a new connection from an address holding `held` may be taken. */
static bool admit(unsigned held, pd_refusal *why)
{
    if (g_limits.max_per_ip && held >= g_limits.max_per_ip) {
        *why = PD_REFUSED_CONNS_PER_IP;
        return false;
    }
    if (g_fd_limit) {
        size_t used = g_fd_base + conn_count + 1; /* +1: the one being admitted */
        bool in_reserve = used + PD_FD_RESERVE > g_fd_limit;
        bool in_hard_reserve = used + PD_FD_RESERVE_HARD > g_fd_limit;
        if (in_hard_reserve || (in_reserve && held >= PD_FD_RESERVE_PER_IP)) {
            *why = PD_REFUSED_FD_RESERVE;
            return false;
        }
    }
    return true;
}

/* Answers a refused connection with a plain 503 (one write the kernel takes
 * whole) and closes it; nothing is read and nothing kept. */
static void refuse(pd_conn *c, bool tls, pd_refusal why)
{
    static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
                               "Content-Length: 22\r\nRetry-After: 10\r\nConnection: close\r\n\r\n"
                               "too many connections\r\n";
    pd_refused(why);
    PD_LOG_DEBUG("refused a connection: %s", pd_refusal_name(why));
    if (!tls) {
        uv_buf_t b = uv_buf_init((char *)busy, sizeof busy - 1);
        (void)uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    }
    uv_close((uv_handle_t *)&c->tcp, (uv_close_cb)free);
}

/* Socket options, output buffer, the list of connections. */
static void conn_link(pd_conn *c)
{
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0) {
        unsigned timeout = PD_TCP_USER_TIMEOUT_MS;
        setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &timeout, sizeof timeout);
    }
    uv_tcp_nodelay(&c->tcp, 1);
    pd_buf_init(&c->out, SIZE_MAX / 2);
    c->next_all = all_head;
    if (all_head) all_head->prev_all = c;
    all_head = c;
    conn_count++;
}

/* Hands an admitted connection to its listener's upper layer. */
static void conn_begin(pd_conn *c, pd_listener *l)
{
    c->handler = l->handler;
    if (l->tls) {
        c->ssl = SSL_new(l->tls);
        if (!c->ssl) {
            conn_start_close(c);
            return;
        }
        SSL_set_bio(c->ssl, BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
        SSL_set_accept_state(c->ssl);
    }
    l->on_accept(c);
    update_reading(c);
}

/* What a connection waiting for its PROXY header has as handler: nothing
 * above it knows it yet. */
static void proxy_wait_data(pd_conn *c, uint8_t *data, size_t len)
{
    (void)c;
    (void)data;
    (void)len;
}

static void proxy_wait_close(pd_conn *c)
{
    (void)c;
}

static const pd_conn_handler proxy_wait_handler = {.on_data = proxy_wait_data,
                                                   .on_close = proxy_wait_close};

/* Bytes from a trusted balancer before its PROXY header has come whole. */
static void proxy_feed(pd_conn *c, uint8_t *data, size_t len)
{
    uint8_t *head = data, *extra = NULL;
    size_t head_len = len, extra_len = 0;
    if (c->proxy_in) { /* the header came in pieces: gather it */
        size_t room = PD_PROXY_HEADER_MAX - c->proxy_in_len;
        size_t take = len < room ? len : room;
        memcpy(c->proxy_in + c->proxy_in_len, data, take);
        c->proxy_in_len += take;
        head = c->proxy_in;
        head_len = c->proxy_in_len;
        /* past the cap: the client's bytes (the parser refuses a header
         * that does not fit) */
        extra = data + take;
        extra_len = len - take;
    }
    proxy_v2_header h;
    const char *why;
    switch (proxy_v2_parse(head, head_len, PD_PROXY_HEADER_MAX, &h, &why)) {
    case PROXY_V2_NEED_MORE:
        /* head_len < the header's length <= PD_PROXY_HEADER_MAX here */
        if (!c->proxy_in) {
            c->proxy_in = malloc(PD_PROXY_HEADER_MAX);
            if (!c->proxy_in) {
                conn_abort(c, PD_REFUSED_PROXY_HEADER);
                return;
            }
            memcpy(c->proxy_in, data, len);
            c->proxy_in_len = len;
        }
        return;
    case PROXY_V2_INVALID:
        PD_LOG_INFO("refused a connection from proxy %s: %s", c->peer, why);
        conn_abort(c, PD_REFUSED_PROXY_HEADER);
        return;
    case PROXY_V2_OK:
        break;
    }
    c->proxy_deadline_ms = 0;
    if (!h.local) { /* LOCAL: the balancer's own check, its own address */
        pd_ip_key_of(&h.src, &c->ip);
        pd_ip_to_text(&h.src, c->peer);
    }
    pd_refusal refusal;
    if (!admit(pd_ip_count_get(g_ips, &c->ip), &refusal)) {
        static const char busy[] =
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
            "Content-Length: 22\r\nRetry-After: 10\r\n"
            "Connection: close\r\n\r\ntoo many connections\r\n";
        pd_refused(refusal);
        PD_LOG_DEBUG("refused a connection from %s: %s", c->peer, pd_refusal_name(refusal));
        if (!c->listener->tls) {
            uv_buf_t b = uv_buf_init((char *)busy, sizeof busy - 1);
            (void)uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
        }
        c->closing = true;
        conn_start_close(c);
        return;
    }
    c->ip_counted = pd_ip_count_add(g_ips, &c->ip);
    uint8_t *held = c->proxy_in;
    c->proxy_in = NULL;
    c->proxy_in_len = 0;
    conn_begin(c, c->listener);
    /* what followed the header is the client's first bytes */
    if (head_len > h.len && !c->closing) deliver(c, head + h.len, head_len - h.len);
    if (extra_len && !c->closing) deliver(c, extra, extra_len);
    free(held);
}

static void on_connection(uv_stream_t *server, int status)
{
    pd_listener *l = (pd_listener *)server;
    if (status < 0) {
        /* at the descriptor limit libuv drops the pending connections itself
         * (its EMFILE trick); say so at most once a minute */
        static uint64_t warned_ms;
        uint64_t now = now_ms();
        if (!warned_ms || now - warned_ms > 60000) {
            warned_ms = now | 1;
            PD_LOG_WARN("accept failed: %s", uv_strerror(status));
        }
        if (status == UV_EMFILE || status == UV_ENFILE) pd_refused(PD_REFUSED_FD_RESERVE);
        return;
    }
    pd_conn *c = calloc(1, sizeof *c);
    if (!c) return;
    uv_tcp_init(server->loop, &c->tcp);
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        uv_close((uv_handle_t *)&c->tcp, (uv_close_cb)free);
        return;
    }
    struct sockaddr_storage sa;
    int salen = sizeof sa;
    memset(&sa, 0, sizeof sa);
    uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&sa, &salen);
    pd_ip_key_from_sockaddr((struct sockaddr *)&sa, &c->ip);
    if (sa.ss_family == AF_INET6)
        uv_ip6_name((struct sockaddr_in6 *)&sa, c->peer, sizeof c->peer);
    else if (sa.ss_family == AF_INET)
        uv_ip4_name((struct sockaddr_in *)&sa, c->peer, sizeof c->peer);
    if (!g_ips) g_ips = pd_ip_count_create();
    pd_refusal why;
    if (g_limits.trust_proxy && g_limits.trust_proxy->count) {
        /* behind a balancer: only it may connect, and who the client is
         * comes first, in the PROXY header; admitted per address then */
        pd_ip peer;
        if (!pd_ip_from_sockaddr((struct sockaddr *)&sa, &peer) ||
            !cidr_list_match_ip(g_limits.trust_proxy, &peer)) {
            pd_refused(PD_REFUSED_PROXY_UNTRUSTED);
            PD_LOG_DEBUG("refused a connection from %s: not a --trust-proxy address", c->peer);
            uv_close((uv_handle_t *)&c->tcp, (uv_close_cb)free);
            return;
        }
        if (!g_ips || !admit(0, &why)) {
            refuse(c, l->tls != NULL, g_ips ? why : PD_REFUSED_FD_RESERVE);
            return;
        }
        conn_link(c);
        c->handler = &proxy_wait_handler;
        c->listener = l;
        c->proxy_deadline_ms = now_ms() + PD_PROXY_HEADER_TIMEOUT_MS;
        update_reading(c);
        return;
    }
    if (!g_ips || !admit(pd_ip_count_get(g_ips, &c->ip), &why)) {
        refuse(c, l->tls != NULL, g_ips ? why : PD_REFUSED_FD_RESERVE);
        return;
    }
    c->ip_counted = pd_ip_count_add(g_ips, &c->ip);
    conn_link(c);
    conn_begin(c, l);
}

/* The descriptor budget: RLIMIT_NOFILE, less what is open before the first
 * connection (std streams, epoll, the listener, libuv's spare). */
static void measure_fds(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return;
    g_fd_limit = (size_t)rl.rlim_cur;
    size_t open_fds = 0;
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        while (readdir(d))
            open_fds++;
        closedir(d);
        open_fds = open_fds > 3 ? open_fds - 3 : 0; /* ".", ".." and the DIR's own fd */
    } else {
        open_fds = 16;
    }
    g_fd_base = open_fds;
}

pd_listener *pd_listener_create(uv_loop_t *loop, const char *host, int port, void *tls_ctx,
                                void (*on_accept)(pd_conn *c), const pd_conn_handler *handler,
                                int *err)
{
    struct sockaddr_storage addr;
    int rc;
    if (strchr(host, ':'))
        rc = uv_ip6_addr(host, port, (struct sockaddr_in6 *)&addr);
    else
        rc = uv_ip4_addr(host, port, (struct sockaddr_in *)&addr);
    if (rc < 0) {
        *err = rc;
        return NULL;
    }
    pd_listener *l = calloc(1, sizeof *l);
    if (!l) {
        *err = UV_ENOMEM;
        return NULL;
    }
    l->tls = tls_ctx;
    l->on_accept = on_accept;
    l->handler = handler;
    uv_tcp_init(loop, &l->tcp);
    rc = uv_tcp_bind(&l->tcp, (struct sockaddr *)&addr, 0);
    if (rc == 0) rc = uv_listen((uv_stream_t *)&l->tcp, 4096, on_connection);
    if (rc < 0) {
        *err = rc;
        uv_close((uv_handle_t *)&l->tcp, (uv_close_cb)free);
        return NULL;
    }
    struct sockaddr_storage bound;
    int blen = sizeof bound;
    uv_tcp_getsockname(&l->tcp, (struct sockaddr *)&bound, &blen);
    l->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                : ((struct sockaddr_in *)&bound)->sin_port);
    start_flush_hooks(loop);
    measure_fds();
    *err = 0;
    return l;
}

int pd_listener_port(const pd_listener *l)
{
    return l->port;
}

void pd_listener_destroy(pd_listener *l)
{
    if (l) uv_close((uv_handle_t *)&l->tcp, (uv_close_cb)free);
    if (flush_hooks_started) {
        flush_all();
        uv_close((uv_handle_t *)&flush_prepare, NULL);
        uv_close((uv_handle_t *)&flush_check, NULL);
        uv_close((uv_handle_t *)&sweep_timer, NULL);
        flush_hooks_started = false;
    }
}

int pd_conn_write(pd_conn *c, const void *data, size_t len)
{
    if (c->closing) return -1;
    if (len == 0) return 0;
    if (c->ssl) {
        int n = SSL_write(c->ssl, data, (int)len);
        if (n <= 0) {
            /* before the handshake completes SSL_write wants reads; a server
             * never writes first, so this is a failure */
            ERR_clear_error();
            pd_conn_close(c);
            return -1;
        }
        tls_pump_output(c);
    } else if (pd_buf_append(&c->out, data, len) != PD_BUF_OK) {
        pd_conn_close(c);
        return -1;
    } else {
        c->out_total += len;
    }
    mark_dirty(c);
    update_reading(c);
    check_output_caps(c);
    return c->close_started ? -1 : 0;
}

void pd_conn_close(pd_conn *c)
{
    if (c->closing) return;
    c->closing = true;
    if (c->ssl) {
        SSL_shutdown(c->ssl);
        tls_pump_output(c);
    }
    if (c->reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = false;
    }
    /* close once the queued output is gone (conn_flush / write_cb), or at
     * the drain deadline (sweep_cb) */
    c->close_deadline_ms = now_ms() + PD_CONN_CLOSE_DRAIN_MS;
    mark_dirty(c);
}

bool pd_conn_output_paused(const pd_conn *c)
{
    return pd_conn_output_pending(c) >= PD_CONN_OUTPUT_PAUSE;
}

void pd_conn_set_output_limits(pd_conn *c, size_t hard, size_t soft, unsigned soft_ms)
{
    c->out_hard = hard;
    c->out_soft = soft;
    c->out_soft_ms = soft_ms;
    c->over_soft_since_ms = 0;
    check_output_caps(c);
}

void pd_conn_configure(const pd_conn_limits *lim)
{
    g_limits = *lim;
}

const pd_ip_key *pd_conn_ip(const pd_conn *c)
{
    return &c->ip;
}

/* Once a second: output deadlines. The kernel taking no byte of waiting
 * output for PD_CONN_STALL_MS, output above the soft cap for its period, a
 * close not drained by its deadline: the connection is dropped. */
static void sweep_cb(uv_timer_t *t)
{
    uint64_t now = uv_now(t->loop);
    for (pd_conn *c = all_head; c; c = c->next_all) {
        if (c->close_started) continue;
        size_t queued = c->out.len + uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp);
        uint64_t written = c->out_total - queued;
        if (queued == 0 || written != c->written_seen)
            c->stalled_since_ms = queued ? now : 0;
        else if (!c->stalled_since_ms)
            c->stalled_since_ms = now;
        c->written_seen = written;
        if (c->out_soft && pd_conn_output_pending(c) <= c->out_soft) c->over_soft_since_ms = 0;
        if (c->closing && c->close_deadline_ms && now >= c->close_deadline_ms)
            conn_abort(c, PD_REFUSED_CLOSE_DRAIN);
        else if (c->proxy_deadline_ms && now >= c->proxy_deadline_ms)
            conn_abort(c, PD_REFUSED_PROXY_HEADER);
        else if (c->stalled_since_ms && now - c->stalled_since_ms >= PD_CONN_STALL_MS)
            conn_abort(c, PD_REFUSED_OUTPUT_STALLED);
        else if (c->over_soft_since_ms && now - c->over_soft_since_ms >= c->out_soft_ms)
            conn_abort(c, PD_REFUSED_OUTPUT_LIMIT);
    }
}

size_t pd_conn_output_pending(const pd_conn *c)
{
    return c->out.len + c->in_flight;
}

void pd_conn_set_user(pd_conn *c, void *user)
{
    c->user = user;
}

void *pd_conn_user(const pd_conn *c)
{
    return c->user;
}

bool pd_conn_is_tls(const pd_conn *c)
{
    return c->ssl != NULL;
}

bool pd_conn_is_closing(const pd_conn *c)
{
    return c->closing;
}

const char *pd_conn_peer(const pd_conn *c)
{
    return c->peer;
}

void pd_conn_close_all(void)
{
    for (pd_conn *c = all_head; c; c = c->next_all)
        pd_conn_close(c);
}

size_t pd_conn_count(void)
{
    return conn_count;
}
