/* loadgen: a Socket.IO v5 / Engine.IO v4 load generator for peerdrop-server
 * and the Node reference (bench/reference/server.mjs).
 *
 * One thread, one epoll set, non-blocking sockets, level-triggered. It speaks
 * just enough of each layer itself (HTTP/1.1 upgrade, RFC 6455 client frames
 * with masking, Engine.IO v4 over WebSocket only, Socket.IO v5 on "/") so
 * that it depends on nothing in src/ and costs little per message: outgoing
 * frames are queued per connection and written once per loop iteration.
 *
 * Modes (every loop is bounded in count and time; the target is 127.0.0.1):
 *   idle          open N connections, wait until quiet, report the server's
 *                 VmRSS growth per connection
 *   connect-rate  N full Socket.IO handshakes, K in flight: handshakes/s
 *   relay         P pairs each create/join a room, then A sends `offer` to B
 *                 with a window of W unreceived messages per pair: relayed
 *                 messages/s and server CPU time per message
 *   latency       the same relay at a fixed total rate: one-way A->server->B
 *                 latency percentiles from timestamps in the SDP
 *
 * Many nodes (bench/cluster): with --port-b, each pair's B connects to that
 * port (another node), so A's room is made on one node and joined from the
 * other and every offer crosses between nodes. --pid may be given several
 * times (the nodes and Redis): server CPU is their sum. A pair starts
 * sending once B's join is acknowledged and A has heard user-joined, as a
 * real client offers to a peer it heard join.
 *
 * Output: one `key=value ...` line on stdout per run; diagnostics on stderr.
 * Exit status is non-zero if any connection failed or a phase timed out.
 * This is a benchmark tool, not product code: it exits on fatal errors.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_BUF_CAP (256u * 1024)  /* shared read buffer; frames must fit */
#define WBUF_MAX (8u * 1024 * 1024) /* per-connection output ceiling */
#define MAX_ERRORS_SHOWN 10
#define SID_CAP 64
#define MAX_PIDS 4

enum { ST_FREE, ST_TCP, ST_HTTP, ST_EIO_OPEN, ST_SIO_CONNECT, ST_READY, ST_CLOSED };
enum { P_IDLE, P_CREATING, P_JOINING, P_READY, P_FAILED };

typedef struct pair pair;
typedef struct conn {
    int fd;
    uint8_t state;
    uint8_t role; /* 0: room creator / sender (A), 1: joiner / receiver (B) */
    bool epollout;
    bool dirty;
    uint32_t idx;
    uint32_t next_ack;
    char sid[SID_CAP];
    uint8_t sid_len;
    uint8_t *rest; /* a partial frame kept between reads */
    uint32_t rest_len;
    uint8_t *wbuf;
    uint32_t wlen, wcap;
    int64_t t_start_ns, t_ready_ns;
    pair *pair;
} conn;

struct pair {
    conn *a, *b;
    int state;
    uint32_t create_ack, join_ack;
    uint64_t sent, recv, acked;
    uint64_t next_seq_expected;
    bool joined, heard_join; /* B's join acked; A got user-joined */
};

static struct {
    int epfd;
    struct sockaddr_in addr, addr_b; /* B connects to addr_b (--port-b) */
    char host_hdr[64], host_hdr_b[64];
    int server_pid;            /* the first --pid: RSS in idle mode */
    int pids[MAX_PIDS], npids; /* every --pid: their CPU is summed */
    const char *mode;
    int conns, inflight, pairs, window, ack, rate, sdp_bytes;
    double duration_s, warmup_s, timeout_s, settle_s;
    conn *cs;
    int ncs;
    int started, ready, closed, failed;
    conn **dirty;
    int ndirty;
    uint8_t *rbuf;
    int64_t now;
    uint64_t errors;
    uint64_t rng;
    /* relay */
    pair *ps;
    char *sdp_tmpl; /* JSON-escaped SDP with fixed-width ts/seq digits */
    size_t sdp_tmpl_len, sdp_ts_off, sdp_seq_off;
    bool sending, measuring;
    uint64_t m_recv, m_acked, m_sent;
    uint64_t *lat; /* latencies in ns, measured window only */
    size_t nlat, lat_cap;
    uint64_t stale;                  /* latency mode: sends skipped because a pair was backed up */
    int port_lo, port_hi, next_port; /* source ports, see bind_source_port */
} g;

/* ---- small utilities ---------------------------------------------------- */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "loadgen: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(2);
}

static uint32_t rnd32(void)
{
    /* xorshift64*: WebSocket mask keys only need to vary, not be secret here */
    g.rng ^= g.rng >> 12;
    g.rng ^= g.rng << 25;
    g.rng ^= g.rng >> 27;
    return (uint32_t)((g.rng * 2685821657736338717ull) >> 32);
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q) die("out of memory");
    return q;
}

static double cpu_self_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

/* utime+stime of one server process (all threads), in seconds */
static double cpu_pid_s(int pid)
{
    if (pid <= 0) return 0;
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* comm may contain spaces */
    if (!p) return -1;
    p += 2; /* field 3 (state) */
    unsigned long long ut = 0, st = 0;
    for (int field = 3; field <= 15 && *p; field++) {
        if (field == 14) ut = strtoull(p, NULL, 10);
        if (field == 15) st = strtoull(p, NULL, 10);
        p = strchr(p, ' ');
        if (!p) break;
        p++;
    }
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* the sum over every --pid (the nodes and Redis) */
static double cpu_server_s(void)
{
    double sum = 0;
    for (int i = 0; i < g.npids; i++) {
        double s = cpu_pid_s(g.pids[i]);
        if (s < 0) return -1;
        sum += s;
    }
    return sum;
}

/* busy CPU seconds of the whole machine (all cores), from /proc/stat: with
 * the server's and our own, it tells how much else ran during a window */
static double cpu_machine_s(void)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f) return 0;
    unsigned long long v[8] = {0};
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                   &v[4], &v[5], &v[6], &v[7]);
    fclose(f);
    if (n < 5) return 0;
    unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7]; /* all but idle, iowait */
    return (double)busy / (double)sysconf(_SC_CLK_TCK);
}

static long rss_server_kb(void)
{
    if (g.server_pid <= 0) return -1;
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", g.server_pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = strtol(line + 6, NULL, 10);
            break;
        }
    fclose(f);
    return kb;
}

/* ---- connections and output --------------------------------------------- */

static void conn_fail(conn *c, const char *fmt, ...);

static void ep_set(conn *c, bool out)
{
    struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c};
    if (epoll_ctl(g.epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) die("epoll_ctl: %s", strerror(errno));
    c->epollout = out;
}

static void conn_close(conn *c)
{
    if (c->state == ST_CLOSED || c->state == ST_FREE) return;
    close(c->fd); /* also removes it from the epoll set */
    c->fd = -1;
    c->state = ST_CLOSED;
    free(c->rest);
    free(c->wbuf);
    c->rest = c->wbuf = NULL;
    c->rest_len = c->wlen = c->wcap = 0;
    g.closed++;
}

static void conn_fail(conn *c, const char *fmt, ...)
{
    if (c->state == ST_CLOSED) return;
    g.errors++;
    g.failed++;
    if (g.errors <= MAX_ERRORS_SHOWN) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "loadgen: conn %u (state %d): ", c->idx, c->state);
        vfprintf(stderr, fmt, ap);
        fprintf(stderr, "\n");
        va_end(ap);
    }
    if (c->pair) c->pair->state = P_FAILED;
    conn_close(c);
}

static uint8_t *wbuf_reserve(conn *c, size_t n)
{
    if (c->wlen + n > c->wcap) {
        size_t cap = c->wcap ? c->wcap : 512;
        while (cap < c->wlen + n)
            cap *= 2;
        if (cap > WBUF_MAX) return NULL;
        c->wbuf = xrealloc(c->wbuf, cap);
        c->wcap = (uint32_t)cap;
    }
    if (!c->dirty) {
        c->dirty = true;
        g.dirty[g.ndirty++] = c;
    }
    return c->wbuf + c->wlen;
}

static void send_raw(conn *c, const void *p, size_t n)
{
    uint8_t *w = wbuf_reserve(c, n);
    if (!w) {
        conn_fail(c, "output over %u bytes (server not reading)", WBUF_MAX);
        return;
    }
    memcpy(w, p, n);
    c->wlen += (uint32_t)n;
}

/* RFC 6455 5.2/5.3: client frames are masked with a 4-byte key */
static void send_frame(conn *c, int opcode, const void *payload, size_t n)
{
    if (c->state == ST_CLOSED) return;
    uint8_t *w = wbuf_reserve(c, n + 14);
    if (!w) {
        conn_fail(c, "output over %u bytes (server not reading)", WBUF_MAX);
        return;
    }
    size_t h = 0;
    w[h++] = (uint8_t)(0x80 | opcode);
    if (n < 126) {
        w[h++] = (uint8_t)(0x80 | n);
    } else if (n < 65536) {
        w[h++] = 0x80 | 126;
        w[h++] = (uint8_t)(n >> 8);
        w[h++] = (uint8_t)n;
    } else {
        w[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            w[h++] = (uint8_t)((uint64_t)n >> (8 * i));
    }
    uint32_t key = rnd32();
    uint8_t k[4];
    memcpy(k, &key, 4);
    memcpy(w + h, k, 4);
    h += 4;
    const uint8_t *in = payload;
    uint8_t *out = w + h;
    size_t i = 0;
    uint64_t k8;
    uint8_t kk[8] = {k[0], k[1], k[2], k[3], k[0], k[1], k[2], k[3]};
    memcpy(&k8, kk, 8);
    for (; i + 8 <= n; i += 8) {
        uint64_t v;
        memcpy(&v, in + i, 8);
        v ^= k8;
        memcpy(out + i, &v, 8);
    }
    for (; i < n; i++)
        out[i] = in[i] ^ k[i & 3];
    c->wlen += (uint32_t)(h + n);
}

static void send_text(conn *c, const char *s, size_t n)
{
    send_frame(c, 1, s, n);
}

static void conn_flush(conn *c)
{
    size_t off = 0;
    while (off < c->wlen) {
        ssize_t w = write(c->fd, c->wbuf + off, c->wlen - off);
        if (w > 0) {
            off += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        conn_fail(c, "write: %s", w < 0 ? strerror(errno) : "0");
        return;
    }
    if (off > 0) {
        memmove(c->wbuf, c->wbuf + off, c->wlen - off);
        c->wlen -= (uint32_t)off;
    }
    bool want = c->wlen > 0;
    if (want != c->epollout && c->state != ST_TCP) ep_set(c, want);
}

static void flush_dirty(void)
{
    for (int i = 0; i < g.ndirty; i++) {
        conn *c = g.dirty[i];
        c->dirty = false;
        if (c->state != ST_CLOSED && c->state != ST_TCP && c->wlen) conn_flush(c);
    }
    g.ndirty = 0;
}

static void send_upgrade(conn *c)
{
    char req[512];
    uint8_t key[16];
    for (int i = 0; i < 16; i += 4) {
        uint32_t r = rnd32();
        memcpy(key + i, &r, 4);
    }
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char k64[25];
    int j = 0;
    for (int i = 0; i < 15; i += 3) {
        uint32_t v = (uint32_t)key[i] << 16 | (uint32_t)key[i + 1] << 8 | key[i + 2];
        k64[j++] = b64[v >> 18 & 63];
        k64[j++] = b64[v >> 12 & 63];
        k64[j++] = b64[v >> 6 & 63];
        k64[j++] = b64[v & 63];
    }
    k64[j++] = b64[key[15] >> 2];
    k64[j++] = b64[(key[15] & 3) << 4];
    k64[j++] = '=';
    k64[j++] = '=';
    k64[j] = 0;
    int n = snprintf(req, sizeof req,
                     "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                     "Host: %s\r\n"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\n"
                     "\r\n",
                     c->role == 1 && g.addr_b.sin_port ? g.host_hdr_b : g.host_hdr, k64);
    c->state = ST_HTTP;
    send_raw(c, req, (size_t)n);
}

/* Choose the source address and port ourselves. Left to connect(), Linux
 * (since 4.6) tries even ports first and then scans the whole range, and on a
 * shared machine 127.0.0.1's range is full of other runs' TIME_WAIT sockets:
 * each connect cost hundreds of microseconds of kernel time and the 19,000
 * connection idle test took 35 s. So: a source address of our own,
 * 127.0.1.1 (any 127/8 address is loopback), ports walked in order through
 * the ephemeral range (where no fixed-port service listens), SO_REUSEADDR so
 * our own earlier TIME_WAIT ports can be bound again (the server's port
 * differs per run, so the 4-tuple stays unique). */
#define SOURCE_ADDR 0x7f000101u /* 127.0.1.1 */

static void bind_source_port(int fd)
{
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    for (int tries = 0; tries < 4000; tries++) {
        if (g.next_port < g.port_lo || g.next_port > g.port_hi) g.next_port = g.port_lo;
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)g.next_port++),
                                .sin_addr.s_addr = htonl(SOURCE_ADDR)};
        if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0) return;
        if (errno != EADDRINUSE) break;
    }
    /* fall back to the kernel's choice at connect() */
}

static void conn_start(conn *c)
{
    c->t_start_ns = now_ns();
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) die("socket: %s (raise ulimit -n?)", strerror(errno));
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    bind_source_port(c->fd);
    g.started++;
    c->state = ST_TCP;
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.ptr = c};
    if (epoll_ctl(g.epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) die("epoll_ctl add: %s", strerror(errno));
    c->epollout = true;
    const struct sockaddr_in *to = c->role == 1 && g.addr_b.sin_port ? &g.addr_b : &g.addr;
    int r = connect(c->fd, (const struct sockaddr *)to, sizeof *to);
    if (r < 0 && errno != EINPROGRESS) {
        conn_fail(c, "connect: %s", strerror(errno));
        return;
    }
    /* completion (or refusal) is reported as EPOLLOUT */
}

/* ---- mode hooks --------------------------------------------------------- */

static void on_ready(conn *c);
static void on_event(conn *c, const char *p, size_t n);
static void on_ack(conn *c, uint32_t id, const char *p, size_t n);

/* ---- protocol parsing --------------------------------------------------- */

static const char *find(const char *p, size_t n, const char *needle)
{
    return memmem(p, n, needle, strlen(needle));
}

/* true if the JSON text has "ok":true (whitespace allowed around ':') */
static bool json_ok_true(const char *p, size_t n)
{
    const char *q = find(p, n, "\"ok\"");
    if (!q) return false;
    const char *e = p + n;
    q += 4;
    while (q < e && (*q == ' ' || *q == ':'))
        q++;
    return e - q >= 4 && memcmp(q, "true", 4) == 0;
}

static void on_sio(conn *c, const char *p, size_t n)
{
    if (n == 0) {
        conn_fail(c, "empty socket.io packet");
        return;
    }
    switch (p[0]) {
    case '0': { /* CONNECT reply: 0{"sid":"..."} */
        if (c->state != ST_SIO_CONNECT) {
            conn_fail(c, "unexpected CONNECT");
            return;
        }
        const char *s = find(p, n, "\"sid\"");
        if (!s) {
            conn_fail(c, "CONNECT reply without sid: %.*s", (int)(n > 100 ? 100 : n), p);
            return;
        }
        s += 5;
        const char *e = p + n;
        while (s < e && (*s == ' ' || *s == ':'))
            s++;
        if (s >= e || *s != '"') {
            conn_fail(c, "bad sid");
            return;
        }
        s++;
        const char *q = memchr(s, '"', (size_t)(e - s));
        if (!q || q - s >= SID_CAP || q == s) {
            conn_fail(c, "bad sid");
            return;
        }
        c->sid_len = (uint8_t)(q - s);
        memcpy(c->sid, s, c->sid_len);
        c->sid[c->sid_len] = 0;
        c->state = ST_READY;
        c->t_ready_ns = now_ns();
        g.ready++;
        on_ready(c);
        return;
    }
    case '2': /* EVENT */
        if (c->state == ST_READY) on_event(c, p + 1, n - 1);
        return;
    case '3': { /* ACK: 3<id>[...] */
        size_t i = 1;
        uint32_t id = 0;
        while (i < n && p[i] >= '0' && p[i] <= '9')
            id = id * 10 + (uint32_t)(p[i++] - '0');
        if (i == 1) {
            conn_fail(c, "ACK without id");
            return;
        }
        on_ack(c, id, p + i, n - i);
        return;
    }
    case '4':
        conn_fail(c, "CONNECT_ERROR %.*s", (int)(n > 100 ? 100 : n), p);
        return;
    case '1':
        conn_fail(c, "server DISCONNECT");
        return;
    default:
        conn_fail(c, "unexpected socket.io packet type %c", p[0]);
        return;
    }
}

static void on_eio(conn *c, const char *p, size_t n)
{
    if (n == 0) {
        conn_fail(c, "empty engine.io packet");
        return;
    }
    switch (p[0]) {
    case '0': /* open */
        if (c->state != ST_EIO_OPEN) {
            conn_fail(c, "unexpected open");
            return;
        }
        c->state = ST_SIO_CONNECT;
        send_text(c, "40", 2);
        return;
    case '2': /* v4: the server pings, the client pongs with the same data */
        if (n > 64) {
            conn_fail(c, "ping with %zu bytes of data", n);
            return;
        }
        {
            char pong[64];
            memcpy(pong, p, n);
            pong[0] = '3';
            send_text(c, pong, n);
        }
        return;
    case '4':
        on_sio(c, p + 1, n - 1);
        return;
    case '6': /* noop */
        return;
    case '1':
        conn_fail(c, "engine.io close from server");
        return;
    default:
        conn_fail(c, "unexpected engine.io packet %c", p[0]);
        return;
    }
}

/* Parse as many whole frames as `buf` holds; return bytes consumed or -1. */
static long parse_frames(conn *c, const uint8_t *buf, size_t len)
{
    size_t off = 0;
    while (len - off >= 2) {
        const uint8_t *f = buf + off;
        size_t avail = len - off;
        int fin = f[0] & 0x80, opcode = f[0] & 0x0f;
        bool masked = f[1] & 0x80;
        uint64_t plen = f[1] & 0x7f;
        size_t h = 2;
        if (plen == 126) {
            if (avail < 4) break;
            plen = (uint64_t)f[2] << 8 | f[3];
            h = 4;
        } else if (plen == 127) {
            if (avail < 10) break;
            plen = 0;
            for (int i = 0; i < 8; i++)
                plen = plen << 8 | f[2 + i];
            h = 10;
        }
        if (masked) {
            conn_fail(c, "masked frame from server (RFC 6455 5.1)");
            return -1;
        }
        if (plen > READ_BUF_CAP / 2) {
            conn_fail(c, "frame of %llu bytes is over the loadgen's limit",
                      (unsigned long long)plen);
            return -1;
        }
        if (avail - h < plen) break;
        const char *pl = (const char *)f + h;
        if (!fin || opcode == 0) {
            conn_fail(c, "fragmented frame (not expected for small messages)");
            return -1;
        }
        switch (opcode) {
        case 1:
            on_eio(c, pl, (size_t)plen);
            break;
        case 2:
            conn_fail(c, "unexpected binary frame");
            break;
        case 8:
            conn_fail(c, "close frame from server (%u)",
                      plen >= 2 ? (unsigned)((uint8_t)pl[0] << 8 | (uint8_t)pl[1]) : 0);
            break;
        case 9:
            send_frame(c, 10, pl, (size_t)plen);
            break;
        case 10:
            break;
        default:
            conn_fail(c, "bad opcode %d", opcode);
            break;
        }
        if (c->state == ST_CLOSED) return -1;
        off += h + (size_t)plen;
    }
    return (long)off;
}

static void on_readable(conn *c)
{
    uint8_t *buf = g.rbuf;
    size_t len = c->rest_len;
    if (len) memcpy(buf, c->rest, len);
    ssize_t r = read(c->fd, buf + len, READ_BUF_CAP - len);
    if (r < 0) {
        if (errno == EAGAIN || errno == EINTR) return;
        conn_fail(c, "read: %s", strerror(errno));
        return;
    }
    if (r == 0) {
        conn_fail(c, "server closed the connection");
        return;
    }
    len += (size_t)r;
    size_t off = 0;
    if (c->state == ST_HTTP) {
        const uint8_t *e = memmem(buf, len, "\r\n\r\n", 4);
        if (!e) {
            if (len > 8192) {
                conn_fail(c, "HTTP response head too long");
                return;
            }
            goto keep;
        }
        if (len < 12 || memcmp(buf, "HTTP/1.1 101", 12) != 0) {
            size_t l = 0;
            while (l < len && buf[l] != '\r')
                l++;
            conn_fail(c, "upgrade refused: %.*s", (int)l, buf);
            return;
        }
        off = (size_t)(e - buf) + 4;
        c->state = ST_EIO_OPEN;
    }
    {
        long used = parse_frames(c, buf + off, len - off);
        if (used < 0) return;
        off += (size_t)used;
    }
keep:
    c->rest_len = (uint32_t)(len - off);
    if (c->rest_len) {
        c->rest = xrealloc(c->rest, c->rest_len);
        memcpy(c->rest, buf + off, c->rest_len);
    }
}

static void on_connected(conn *c)
{
    int err = 0;
    socklen_t l = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
    if (err) {
        conn_fail(c, "connect: %s", strerror(err));
        return;
    }
    send_upgrade(c);
    conn_flush(c);
}

/* One epoll round: handle events, then write everything queued. */
static void loop_once(int timeout_ms)
{
    struct epoll_event evs[1024];
    int n = epoll_wait(g.epfd, evs, 1024, timeout_ms);
    if (n < 0 && errno != EINTR) die("epoll_wait: %s", strerror(errno));
    g.now = now_ns();
    for (int i = 0; i < n; i++) {
        conn *c = evs[i].data.ptr;
        uint32_t e = evs[i].events;
        if (c->state == ST_CLOSED) continue;
        if (c->state == ST_TCP) {
            if (e & (EPOLLOUT | EPOLLERR | EPOLLHUP)) on_connected(c);
            continue;
        }
        if (e & EPOLLOUT) conn_flush(c);
        if (c->state != ST_CLOSED && (e & (EPOLLIN | EPOLLERR | EPOLLHUP))) on_readable(c);
    }
    flush_dirty();
}

/* ---- connection sets ---------------------------------------------------- */

static void conns_alloc(int n)
{
    g.cs = calloc((size_t)n, sizeof *g.cs);
    g.dirty = calloc((size_t)n, sizeof *g.dirty);
    if (!g.cs || !g.dirty) die("out of memory");
    g.ncs = n;
    for (int i = 0; i < n; i++) {
        g.cs[i].idx = (uint32_t)i;
        g.cs[i].fd = -1;
    }
}

/* Open all connections, at most g.inflight handshaking at once. Returns the
 * elapsed seconds, or a negative value on timeout. */
static double conns_open_all(double timeout_s)
{
    int64_t t0 = now_ns(), deadline = t0 + (int64_t)(timeout_s * 1e9);
    int next = 0;
    while (g.ready + g.failed < g.ncs) {
        while (next < g.ncs && (g.started - g.ready - g.failed) < g.inflight)
            conn_start(&g.cs[next++]);
        flush_dirty();
        loop_once(10);
        if (g.now > deadline) {
            fprintf(stderr, "loadgen: timeout opening connections: %d ready, %d failed of %d\n",
                    g.ready, g.failed, g.ncs);
            return -1;
        }
    }
    return (double)(now_ns() - t0) / 1e9;
}

/* Keep serving the connections (pings) for `secs`. */
static void serve_for(double secs)
{
    int64_t end = now_ns() + (int64_t)(secs * 1e9);
    while (now_ns() < end)
        loop_once(50);
}

static void conns_close_all(void)
{
    for (int i = 0; i < g.ncs; i++)
        conn_close(&g.cs[i]);
}

/* ---- relay: rooms and offers --------------------------------------------- */

static uint32_t emit(conn *c, bool want_ack, const char *json_args, size_t n)
{
    /* 42[<id>]["event",...] */
    char head[24];
    uint32_t id = 0;
    size_t h;
    if (want_ack) {
        id = c->next_ack++;
        h = (size_t)snprintf(head, sizeof head, "42%u", id);
    } else {
        memcpy(head, "42", 2);
        h = 2;
    }
    char stackbuf[4096];
    char *buf = h + n <= sizeof stackbuf ? stackbuf : xrealloc(NULL, h + n);
    memcpy(buf, head, h);
    memcpy(buf + h, json_args, n);
    send_text(c, buf, h + n);
    if (buf != stackbuf) free(buf);
    return id;
}

static void room_request(conn *c, const char *event, uint32_t *ack_out)
{
    char js[256];
    int n =
        snprintf(js, sizeof js, "[\"%s\",{\"roomId\":\"bench-%d-%u\",\"password\":\"bench-pw\"}]",
                 event, (int)getpid(), (unsigned)(c->pair - g.ps));
    *ack_out = emit(c, true, js, (size_t)n);
}

/* Build the SDP template once: an SDP-shaped string of exactly sdp_bytes
 * (before JSON escaping) whose o= line carries a send timestamp and sequence
 * number in fixed-width digits that each send overwrites. */
static void sdp_template_init(void)
{
    static const char *lines[] = {
        "v=0\r\n",
        "o=- 00000000000000000000 0000000000 IN IP4 127.0.0.1\r\n",
        "s=-\r\n",
        "t=0 0\r\n",
        "a=group:BUNDLE 0\r\n",
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n",
        "c=IN IP4 0.0.0.0\r\n",
        "a=ice-ufrag:Xk3q\r\n",
        "a=ice-pwd:5Wq9yL0mH2vR8tB4nC6dF1gJ\r\n",
        "a=fingerprint:sha-256 "
        "3C:4A:7E:90:12:AB:CD:EF:01:23:45:67:89:AB:CD:EF:10:32:54:76:98:BA:DC:FE:"
        "0F:1E:2D:3C:4B:5A:69:78\r\n",
        "a=setup:actpass\r\n",
        "a=mid:0\r\n",
        "a=sctp-port:5000\r\n",
        "a=max-message-size:262144\r\n",
    };
    size_t want = (size_t)g.sdp_bytes;
    char *raw = xrealloc(NULL, want + 1);
    size_t len = 0;
    for (size_t i = 0; i < sizeof lines / sizeof *lines && len < want; i++) {
        size_t l = strlen(lines[i]);
        if (l > want - len) l = want - len;
        memcpy(raw + len, lines[i], l);
        len += l;
    }
    while (len < want)
        raw[len++] = 'a';
    if (want < 60) die("--sdp-bytes must be at least 60");
    raw[len] = 0;
    /* JSON-escape: only \r and \n occur */
    g.sdp_tmpl = xrealloc(NULL, 2 * len + 1);
    size_t j = 0;
    for (size_t i = 0; i < len; i++) {
        if (raw[i] == '\r') {
            g.sdp_tmpl[j++] = '\\';
            g.sdp_tmpl[j++] = 'r';
        } else if (raw[i] == '\n') {
            g.sdp_tmpl[j++] = '\\';
            g.sdp_tmpl[j++] = 'n';
        } else {
            g.sdp_tmpl[j++] = raw[i];
        }
    }
    g.sdp_tmpl_len = j;
    char *o = strstr(g.sdp_tmpl, "o=- ");
    g.sdp_ts_off = (size_t)(o - g.sdp_tmpl) + 4;
    g.sdp_seq_off = g.sdp_ts_off + 21;
    free(raw);
}

static void put_digits(char *p, int width, uint64_t v)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

static void send_offer(pair *p)
{
    conn *a = p->a;
    char buf[8192];
    size_t n = 0;
    static const char pre[] = "[\"offer\",{\"sdp\":\"";
    static const char mid[] = "\",\"targetSocketId\":\"";
    memcpy(buf, pre, sizeof pre - 1);
    n = sizeof pre - 1;
    char *sdp = buf + n;
    memcpy(sdp, g.sdp_tmpl, g.sdp_tmpl_len);
    put_digits(sdp + g.sdp_ts_off, 20, (uint64_t)now_ns());
    put_digits(sdp + g.sdp_seq_off, 10, p->sent);
    n += g.sdp_tmpl_len;
    memcpy(buf + n, mid, sizeof mid - 1);
    n += sizeof mid - 1;
    memcpy(buf + n, p->b->sid, p->b->sid_len);
    n += p->b->sid_len;
    memcpy(buf + n, "\"}]", 3);
    n += 3;
    emit(a, g.ack != 0, buf, n);
    p->sent++;
    if (g.measuring) g.m_sent++;
}

static void relay_top_up(pair *p)
{
    if (!g.sending || p->state != P_READY || g.rate > 0) return;
    while (p->sent - p->recv < (uint64_t)g.window)
        send_offer(p);
}

static int pairs_ready;

static void on_ready(conn *c)
{
    pair *p = c->pair;
    if (!p) return;
    if (p->a->state == ST_READY && p->b->state == ST_READY && p->state == P_IDLE) {
        p->state = P_CREATING;
        room_request(p->a, "create-room", &p->create_ack);
    }
}

static void pair_maybe_ready(pair *p)
{
    if (p->state == P_JOINING && p->joined && p->heard_join) {
        p->state = P_READY;
        pairs_ready++;
    }
}

static void on_ack(conn *c, uint32_t id, const char *js, size_t n)
{
    pair *p = c->pair;
    if (!p) return;
    bool ok = json_ok_true(js, n);
    if (p->state == P_CREATING && c == p->a && id == p->create_ack) {
        if (!ok) {
            conn_fail(c, "create-room refused: %.*s", (int)(n > 160 ? 160 : n), js);
            return;
        }
        p->state = P_JOINING;
        room_request(p->b, "join-room", &p->join_ack);
        return;
    }
    if (p->state == P_JOINING && c == p->b && id == p->join_ack) {
        if (!ok) {
            conn_fail(c, "join-room refused: %.*s", (int)(n > 160 ? 160 : n), js);
            return;
        }
        p->joined = true;
        pair_maybe_ready(p);
        return;
    }
    if (c == p->a && p->state == P_READY) {
        if (!ok) {
            conn_fail(c, "offer refused: %.*s", (int)(n > 160 ? 160 : n), js);
            return;
        }
        p->acked++;
        if (g.measuring) g.m_acked++;
        return;
    }
    conn_fail(c, "unexpected ack %u: %.*s", id, (int)(n > 160 ? 160 : n), js);
}

static void on_event(conn *c, const char *js, size_t n)
{
    pair *p = c->pair;
    if (n > 9 && memcmp(js, "[\"offer\",", 9) == 0) {
        if (!p || c != p->b) {
            conn_fail(c, "offer to the wrong client");
            return;
        }
        const char *o = find(js, n, "o=- ");
        if (!o || (size_t)(js + n - o) < 4 + 31) {
            conn_fail(c, "offer without timestamp");
            return;
        }
        uint64_t ts = strtoull(o + 4, NULL, 10);
        uint64_t seq = strtoull(o + 4 + 21, NULL, 10);
        if (seq != p->next_seq_expected) {
            conn_fail(c, "offer %llu out of order (expected %llu)", (unsigned long long)seq,
                      (unsigned long long)p->next_seq_expected);
            return;
        }
        p->next_seq_expected++;
        if (!find(js, n, p->a->sid)) {
            conn_fail(c, "offer without the sender's id in from");
            return;
        }
        p->recv++;
        if (g.measuring) {
            g.m_recv++;
            if (g.nlat < g.lat_cap) g.lat[g.nlat++] = (uint64_t)(g.now - (int64_t)ts);
        }
        relay_top_up(p);
        return;
    }
    if (p && c == p->a && n > 14 && memcmp(js, "[\"user-joined\"", 14) == 0) {
        p->heard_join = true;
        pair_maybe_ready(p);
        return;
    }
    if (n > 19 && memcmp(js, "[\"signaling-error\"", 18) == 0) {
        conn_fail(c, "signaling-error %.*s", (int)(n > 160 ? 160 : n), js);
        return;
    }
    /* room-created, join-success, user-joined, user-left: nothing to do */
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(double q)
{
    if (g.nlat == 0) return 0;
    size_t i = (size_t)(q * (double)(g.nlat - 1) + 0.5);
    return (double)g.lat[i] / 1000.0;
}

static int run_relay(bool fixed_rate)
{
    int np = g.pairs;
    conns_alloc(2 * np);
    g.ps = calloc((size_t)np, sizeof *g.ps);
    if (!g.ps) die("out of memory");
    for (int i = 0; i < np; i++) {
        g.ps[i].a = &g.cs[2 * i];
        g.ps[i].b = &g.cs[2 * i + 1];
        g.cs[2 * i].pair = g.cs[2 * i + 1].pair = &g.ps[i];
        g.cs[2 * i + 1].role = 1;
    }
    sdp_template_init();
    if (conns_open_all(g.timeout_s) < 0 || g.failed) return 1;
    int64_t deadline = now_ns() + (int64_t)(g.timeout_s * 1e9);
    while (pairs_ready < np && g.failed == 0 && now_ns() < deadline)
        loop_once(10);
    if (pairs_ready < np) {
        fprintf(stderr, "loadgen: only %d of %d pairs reached their room\n", pairs_ready, np);
        return 1;
    }

    g.lat_cap = fixed_rate ? (size_t)(g.rate * g.duration_s * 1.2) + 1024 : 2000000;
    g.lat = xrealloc(NULL, g.lat_cap * sizeof *g.lat);
    g.sending = true;
    for (int i = 0; i < np; i++)
        relay_top_up(&g.ps[i]);
    flush_dirty();

    int64_t t0 = now_ns();
    int64_t t_measure = t0 + (int64_t)(g.warmup_s * 1e9);
    int64_t t_end = t_measure + (int64_t)(g.duration_s * 1e9);
    double srv0 = 0, self0 = 0, mach0 = 0, each0[MAX_PIDS] = {0};
    int64_t tm0 = 0;
    uint64_t total_sent = 0;
    int rr = 0;
    while (g.failed == 0) {
        int64_t now = now_ns();
        if (!g.measuring && now >= t_measure) {
            g.measuring = true;
            srv0 = cpu_server_s();
            for (int i = 0; i < g.npids; i++)
                each0[i] = cpu_pid_s(g.pids[i]);
            self0 = cpu_self_s();
            mach0 = cpu_machine_s();
            tm0 = now;
        }
        if (now >= t_end) break;
        if (fixed_rate) {
            uint64_t due = (uint64_t)((double)(now - t0) * g.rate / 1e9);
            /* per-pair backlog cap: a server that can't keep up shows as
             * skipped sends rather than an unbounded queue here */
            while (total_sent < due) {
                pair *p = &g.ps[rr];
                rr = (rr + 1) % np;
                if (p->sent - p->recv < (uint64_t)g.window)
                    send_offer(p);
                else if (g.measuring)
                    g.stale++;
                total_sent++;
            }
            flush_dirty();
        }
        loop_once(fixed_rate ? 1 : 100);
    }
    int64_t tm1 = now_ns();
    double srv1 = cpu_server_s(), self1 = cpu_self_s(), mach1 = cpu_machine_s(),
           each1[MAX_PIDS] = {0};
    for (int i = 0; i < g.npids; i++)
        each1[i] = cpu_pid_s(g.pids[i]);
    uint64_t m_recv = g.m_recv, m_acked = g.m_acked, m_sent = g.m_sent;
    g.measuring = false;
    g.sending = false;

    /* drain: everything sent must arrive (bounded wait) */
    int64_t drain_end = now_ns() + 5000000000ll;
    uint64_t missing = 0;
    for (;;) {
        missing = 0;
        for (int i = 0; i < np; i++)
            missing += g.ps[i].sent - g.ps[i].recv + (g.ack ? g.ps[i].sent - g.ps[i].acked : 0);
        if (missing == 0 || g.failed || now_ns() > drain_end) break;
        loop_once(10);
    }
    double secs = (double)(tm1 - tm0) / 1e9;
    double srv_cpu = srv1 - srv0;
    qsort(g.lat, g.nlat, sizeof *g.lat, cmp_u64);
    printf("mode=%s pairs=%d window=%d ack=%d sdp_bytes=%d", g.mode, np, g.window, g.ack,
           g.sdp_bytes);
    if (fixed_rate) printf(" rate_target=%d", g.rate);
    printf(
        " secs=%.3f sent=%llu relayed=%llu acked=%llu msgs_per_s=%.0f server_cpu_s=%.3f"
        " server_cpu_pct=%.1f server_cpu_us_per_msg=%.2f loadgen_cpu_pct=%.1f other_cpu_pct=%.1f",
        secs, (unsigned long long)m_sent, (unsigned long long)m_recv, (unsigned long long)m_acked,
        (double)m_recv / secs, srv_cpu, 100.0 * srv_cpu / secs,
        m_recv ? srv_cpu * 1e6 / (double)m_recv : 0, 100.0 * (self1 - self0) / secs,
        100.0 * ((mach1 - mach0) - srv_cpu - (self1 - self0)) / secs);
    printf(" lat_p50_us=%.0f lat_p90_us=%.0f lat_p99_us=%.0f lat_p999_us=%.0f lat_max_us=%.0f",
           pct(0.50), pct(0.90), pct(0.99), pct(0.999), pct(1.0));
    if (fixed_rate) printf(" skipped=%llu", (unsigned long long)g.stale);
    if (g.npids > 1) { /* each process's share, in --pid order */
        printf(" server_cpu_pct_each=");
        for (int i = 0; i < g.npids; i++)
            printf("%s%.1f", i ? "," : "", 100.0 * (each1[i] - each0[i]) / secs);
    }
    printf(" undelivered=%llu errors=%llu\n", (unsigned long long)missing,
           (unsigned long long)g.errors);
    fflush(stdout);
    conns_close_all();
    return g.errors || missing ? 1 : 0;
}

/* ---- idle and connect-rate ---------------------------------------------- */

static int run_idle(void)
{
    long before = rss_server_kb();
    if (before < 0) die("cannot read /proc/%d/status (need --pid)", g.server_pid);
    conns_alloc(g.conns);
    double t = conns_open_all(g.timeout_s);
    if (t < 0) return 1;
    /* quiet: no handshakes left; let the server settle (GC, lazy frees),
     * then take the largest of a few samples so a sample taken mid-free
     * does not flatter anyone */
    serve_for(g.settle_s);
    long after = 0;
    for (int i = 0; i < 3; i++) {
        long r = rss_server_kb();
        if (r > after) after = r;
        serve_for(0.5);
    }
    int n = g.ready;
    double per = n ? (double)(after - before) * 1024.0 / n : 0;
    printf("mode=idle conns=%d ready=%d failed=%d open_secs=%.2f rss_before_kb=%ld rss_after_kb=%ld"
           " rss_per_conn_bytes=%.0f errors=%llu\n",
           g.conns, n, g.failed, t, before, after, per, (unsigned long long)g.errors);
    fflush(stdout);
    conns_close_all();
    return g.failed ? 1 : 0;
}

static int run_connect_rate(void)
{
    conns_alloc(g.conns);
    double cpu0 = cpu_server_s(), self0 = cpu_self_s(), mach0 = cpu_machine_s();
    double t = conns_open_all(g.timeout_s);
    double cpu1 = cpu_server_s(), self1 = cpu_self_s(), mach1 = cpu_machine_s();
    if (t < 0) return 1;
    g.lat_cap = (size_t)g.ncs;
    g.lat = xrealloc(NULL, g.lat_cap * sizeof *g.lat);
    for (int i = 0; i < g.ncs; i++)
        if (g.cs[i].t_ready_ns)
            g.lat[g.nlat++] = (uint64_t)(g.cs[i].t_ready_ns - g.cs[i].t_start_ns);
    qsort(g.lat, g.nlat, sizeof *g.lat, cmp_u64);
    printf("mode=connect-rate conns=%d inflight=%d ready=%d failed=%d secs=%.3f conns_per_s=%.0f"
           " handshake_p50_us=%.0f handshake_p99_us=%.0f server_cpu_us_per_conn=%.1f "
           "server_cpu_pct=%.1f"
           " loadgen_cpu_pct=%.1f other_cpu_pct=%.1f errors=%llu\n",
           g.conns, g.inflight, g.ready, g.failed, t, g.ready / t, pct(0.5), pct(0.99),
           g.ready ? (cpu1 - cpu0) * 1e6 / g.ready : 0, 100.0 * (cpu1 - cpu0) / t,
           100.0 * (self1 - self0) / t,
           100.0 * ((mach1 - mach0) - (cpu1 - cpu0) - (self1 - self0)) / t,
           (unsigned long long)g.errors);
    fflush(stdout);
    conns_close_all();
    return g.failed ? 1 : 0;
}

/* ---- main ----------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr,
            "usage: loadgen MODE --port P [--pid SERVER_PID]... [options]\n"
            "modes: idle | connect-rate | relay | latency\n"
            "  --conns N       idle/connect-rate: connections (default 10000 / 5000)\n"
            "  --inflight K    handshakes in flight (default 128)\n"
            "  --pairs P       relay/latency: client pairs (default 32)\n"
            "  --port-b P      relay/latency: B of each pair connects to this port (another node)\n"
            "  --pid PID       a server process whose CPU counts (up to 4: nodes, Redis)\n"
            "  --window W      relay: unreceived offers per pair (default 32);\n"
            "                  latency: backlog cap per pair (default 64)\n"
            "  --ack 0|1       request an ack for each offer (default 1)\n"
            "  --rate R        latency: total offers per second (default 5000)\n"
            "  --sdp-bytes B   SDP size (default 200)\n"
            "  --warmup S      seconds before measuring (default 2)\n"
            "  --duration S    measured seconds (default 5)\n"
            "  --settle S      idle: seconds of quiet before sampling RSS (default 3)\n"
            "  --timeout S     bound on each setup phase (default 60)\n");
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc < 2) usage();
    g.mode = argv[1];
    int port = 0, port_b = 0;
    g.inflight = 128;
    g.pairs = 32;
    g.window = -1;
    g.ack = 1;
    g.rate = 0;
    g.sdp_bytes = 200;
    g.warmup_s = 2;
    g.duration_s = 5;
    g.settle_s = 3;
    g.timeout_s = 60;
    g.conns = -1;
    for (int i = 2; i < argc; i++) {
        const char *k = argv[i];
        if (i + 1 >= argc) usage();
        const char *v = argv[++i];
        if (!strcmp(k, "--port"))
            port = atoi(v);
        else if (!strcmp(k, "--pid")) {
            if (g.npids == MAX_PIDS) usage();
            g.pids[g.npids++] = atoi(v);
            if (g.npids == 1) g.server_pid = atoi(v);
        } else if (!strcmp(k, "--port-b"))
            port_b = atoi(v);
        else if (!strcmp(k, "--conns"))
            g.conns = atoi(v);
        else if (!strcmp(k, "--inflight"))
            g.inflight = atoi(v);
        else if (!strcmp(k, "--pairs"))
            g.pairs = atoi(v);
        else if (!strcmp(k, "--window"))
            g.window = atoi(v);
        else if (!strcmp(k, "--ack"))
            g.ack = atoi(v);
        else if (!strcmp(k, "--rate"))
            g.rate = atoi(v);
        else if (!strcmp(k, "--sdp-bytes"))
            g.sdp_bytes = atoi(v);
        else if (!strcmp(k, "--warmup"))
            g.warmup_s = atof(v);
        else if (!strcmp(k, "--duration"))
            g.duration_s = atof(v);
        else if (!strcmp(k, "--settle"))
            g.settle_s = atof(v);
        else if (!strcmp(k, "--timeout"))
            g.timeout_s = atof(v);
        else
            usage();
    }
    if (port <= 0 || port > 65535 || g.inflight < 1 || g.pairs < 1 || g.sdp_bytes > 4000 ||
        g.duration_s <= 0 || g.duration_s > 600 || g.timeout_s <= 0 || g.timeout_s > 900)
        usage();

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    g.rng = (uint64_t)now_ns() ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ull;
    g.epfd = epoll_create1(EPOLL_CLOEXEC);
    g.rbuf = malloc(READ_BUF_CAP);
    if (g.epfd < 0 || !g.rbuf) die("setup failed");
    g.addr.sin_family = AF_INET;
    g.addr.sin_port = htons((uint16_t)port);
    g.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    snprintf(g.host_hdr, sizeof g.host_hdr, "127.0.0.1:%d", port);
    if (port_b > 0 && port_b <= 65535) {
        g.addr_b = g.addr;
        g.addr_b.sin_port = htons((uint16_t)port_b);
        snprintf(g.host_hdr_b, sizeof g.host_hdr_b, "127.0.0.1:%d", port_b);
    }
    g.port_lo = 32768;
    g.port_hi = 60999;
    FILE *pr = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (pr) {
        if (fscanf(pr, "%d %d", &g.port_lo, &g.port_hi) != 2 || g.port_lo < 1024 ||
            g.port_hi <= g.port_lo) {
            g.port_lo = 32768;
            g.port_hi = 60999;
        }
        fclose(pr);
    }
    g.next_port = g.port_lo + (int)(rnd32() % (uint32_t)(g.port_hi - g.port_lo + 1));

    if (!strcmp(g.mode, "idle")) {
        if (g.conns < 0) g.conns = 10000;
        if (g.conns < 1 || (rlim_t)g.conns + 16 > rl.rlim_max)
            die("--conns %d does not fit RLIMIT_NOFILE %llu", g.conns,
                (unsigned long long)rl.rlim_max);
        return run_idle();
    }
    if (!strcmp(g.mode, "connect-rate")) {
        if (g.conns < 0) g.conns = 5000;
        if (g.conns < 1 || (rlim_t)g.conns + 16 > rl.rlim_max)
            die("--conns %d does not fit RLIMIT_NOFILE", g.conns);
        return run_connect_rate();
    }
    if (!strcmp(g.mode, "relay")) {
        if (g.window < 0) g.window = 32;
        return run_relay(false);
    }
    if (!strcmp(g.mode, "latency")) {
        if (g.window < 0) g.window = 64;
        if (g.rate <= 0) g.rate = 5000;
        return run_relay(true);
    }
    usage();
    return 2;
}
