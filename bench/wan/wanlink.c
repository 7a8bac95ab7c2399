/* wanlink.c: a user-space WAN link between two network namespaces.
 *
 * This kernel has no netem (../../../shared/notes/wan-emulation.md), so delay
 * and loss cannot come from tc. wanlink opens a TUN device in each of two
 * network namespaces (entered with setns() on /proc/PID/ns/net) and moves
 * every IP packet from one to the other. Per direction, in this order:
 *
 *   random loss p  ->  bottleneck at rate R with a tail-drop FIFO queue
 *                  ->  fixed one-way delay D
 *
 * The bottleneck is a token bucket one packet deep: a packet leaves the
 * queue at max(now, previous departure) + its size / R, and is dropped at
 * the tail if it would wait longer than the queue limit (default 100 ms of
 * R, the note's choice). It then reaches the other TUN at departure + D.
 * Departures are monotonic, so one ring per direction holds the queue and
 * the packets "on the wire" in delivery order.
 *
 * --freeze-flow N --freeze-after B blackholes one UDP flow: the N-th
 * UDP flow (IPv4 or IPv6; an unordered address:port pair, either way) to
 * carry FLOW_RANK_BYTES is dropped in both directions once it has carried
 * B bytes, until the end or SIGUSR1, which forgets every flow (the next
 * transfer's are numbered from 1 again) and prints "frozen <drops so far>"
 * on stdout. A peer connection is one such flow (ICE tries a few more
 * pairs, which carry only checks, hence the threshold), and a session's
 * own connection carries its handshake, authentication and first data
 * before it opens any lane: flow 1 is the session's, 2.. its lanes. This
 * freezes one lane as a path that stops or an association stuck in
 * back-off would; it tests docs/protocol.md §5.11. The drops are counted
 * apart; with WANLINK_DEBUG_FLOWS set, SIGUSR1 also lists every flow, its
 * rank and bytes on stderr.
 *
 * It runs until SIGTERM/SIGINT, then prints its counters on stderr as one
 * key=value line per direction. It prints "ready" on stdout once both TUNs
 * exist. Configure the addresses from outside (ip addr/ip link in each
 * namespace): wanlink only opens the devices.
 *
 *   wanlink --ns-a /proc/PA/ns/net --ns-b /proc/PB/ns/net [--dev wan0]
 *           [--delay-ms D] [--rate-mbit R] [--loss-pct P] [--queue-ms Q]
 *           [--seed S] [--freeze-flow N --freeze-after B]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

/* The TUN MTU is 1500 (Linux default); a slot holds one packet. */
#define SLOT_BYTES 1536
/* Packets per direction between arrival and delivery: 500 Mbit/s x
 * (100 ms queue + 75 ms one-way) = ~7,300 full packets; 32,768 leaves room
 * for small packets (SACKs, ACKs). A full ring drops and counts it apart. */
#define RING_SLOTS 32768
/* Packets read per TUN per loop turn, so one busy direction cannot starve
 * the other's deliveries. */
#define READ_BATCH 64

typedef struct {
    uint64_t due_ns; /* delivery time */
    uint16_t len;
    uint8_t data[SLOT_BYTES];
} slot;

typedef struct {
    const char *name; /* "a2b" or "b2a" */
    int in_fd, out_fd;
    slot *ring;
    size_t head, count;
    uint64_t last_depart_ns;
    uint64_t pkts_in, bytes_in, lost, queue_drops, ring_drops, delivered, bytes_out, write_errs;
    uint64_t frozen; /* dropped by --freeze-flow */
    uint64_t max_queue_ns;
} direction;

static volatile sig_atomic_t stop, reset_flows;
static void on_signal(int sig)
{
    if (sig == SIGUSR1)
        reset_flows = 1;
    else
        stop = 1;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: enough for a loss decision, reproducible with --seed. */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static double rng_unit(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 0x2545f4914f6cdd1du) >> 11) / (double)(1ull << 53);
}

static int open_tun_in(const char *ns_path, const char *dev)
{
    int ns = open(ns_path, O_RDONLY | O_CLOEXEC);
    if (ns < 0 || setns(ns, CLONE_NEWNET) != 0) {
        fprintf(stderr, "wanlink: cannot enter %s: %s\n", ns_path, strerror(errno));
        exit(1);
    }
    close(ns);
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", dev);
    if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) != 0) {
        fprintf(stderr, "wanlink: cannot create TUN %s in %s: %s\n", dev, ns_path, strerror(errno));
        exit(1);
    }
    return fd;
}

/* --freeze-flow: the UDP flows seen so far, in order (at most FLOWS_MAX are
 * told apart; later ones are never frozen). */
#define FLOWS_MAX 64
/* More than ICE's checks and DTLS's handshake (~5 KB) carry. */
#define FLOW_RANK_BYTES 16384
typedef struct {
    uint8_t ip[2][16]; /* IPv4 in the first 4 bytes */
    uint16_t port[2];
    uint64_t bytes;
    unsigned rank; /* 1-based order of reaching FLOW_RANK_BYTES; 0: not yet */
} flow;
static flow flows[FLOWS_MAX];
static unsigned flows_seen, flows_ranked;
static unsigned freeze_flow; /* 1-based; 0: none */
static uint64_t freeze_after;

/* The packet is IPv4 UDP of the flow --freeze-flow names, past its byte
 * allowance: drop it. Counts the flow's bytes otherwise. */
static bool frozen(const uint8_t *pkt, size_t n)
{
    if (!freeze_flow || n < 1) return false;
    size_t alen, src_at, udp_at;
    if (pkt[0] >> 4 == 4 && n >= 28 && pkt[9] == 17) {
        alen = 4, src_at = 12, udp_at = (size_t)(pkt[0] & 15) * 4;
        if (udp_at < 20) return false;
    } else if (pkt[0] >> 4 == 6 && n >= 48 && pkt[6] == 17) { /* no extension headers */
        alen = 16, src_at = 8, udp_at = 40;
    } else {
        return false;
    }
    if (n < udp_at + 8) return false;
    uint8_t a[2][16] = {{0}};
    memcpy(a[0], pkt + src_at, alen);
    memcpy(a[1], pkt + src_at + alen, alen);
    uint16_t port[2] = {(uint16_t)(pkt[udp_at] << 8 | pkt[udp_at + 1]),
                        (uint16_t)(pkt[udp_at + 2] << 8 | pkt[udp_at + 3])};
    /* unordered: the lower endpoint first, so both directions match */
    int c = memcmp(a[0], a[1], 16);
    int lo = c > 0 || (c == 0 && port[0] > port[1]) ? 1 : 0;
    unsigned i = 0;
    while (i < flows_seen &&
           !(memcmp(flows[i].ip[0], a[lo], 16) == 0 && memcmp(flows[i].ip[1], a[1 - lo], 16) == 0 &&
             flows[i].port[0] == port[lo] && flows[i].port[1] == port[1 - lo]))
        i++;
    if (i == flows_seen) {
        if (flows_seen == FLOWS_MAX) return false;
        memset(&flows[i], 0, sizeof flows[i]);
        memcpy(flows[i].ip[0], a[lo], 16);
        memcpy(flows[i].ip[1], a[1 - lo], 16);
        flows[i].port[0] = port[lo];
        flows[i].port[1] = port[1 - lo];
        flows_seen++;
    }
    flow *f = &flows[i];
    if (f->rank == freeze_flow && f->bytes >= freeze_after) return true;
    f->bytes += n;
    if (!f->rank && f->bytes >= FLOW_RANK_BYTES) f->rank = ++flows_ranked;
    return false;
}

static double rate_bytes_per_ns; /* 0: no bottleneck */
static uint64_t delay_ns, queue_limit_ns;
static double loss;

static void take(direction *d, uint64_t t)
{
    for (int i = 0; i < READ_BATCH; i++) {
        size_t tail = (d->head + d->count) % RING_SLOTS;
        slot *s = &d->ring[tail];
        uint8_t scratch[SLOT_BYTES];
        bool full = d->count == RING_SLOTS;
        ssize_t n = read(d->in_fd, full ? scratch : s->data, SLOT_BYTES);
        if (n <= 0) return; /* EAGAIN: drained */
        d->pkts_in++;
        d->bytes_in += (uint64_t)n;
        if (full) {
            d->ring_drops++;
            continue;
        }
        if (frozen(s->data, (size_t)n)) {
            d->frozen++;
            continue;
        }
        if (loss > 0 && rng_unit() < loss) {
            d->lost++;
            continue;
        }
        uint64_t depart = t;
        if (rate_bytes_per_ns > 0) {
            uint64_t start = d->last_depart_ns > t ? d->last_depart_ns : t;
            if (start - t > queue_limit_ns) {
                d->queue_drops++;
                continue;
            }
            if (start - t > d->max_queue_ns) d->max_queue_ns = start - t;
            depart = start + (uint64_t)((double)n / rate_bytes_per_ns);
            d->last_depart_ns = depart;
        }
        s->len = (uint16_t)n;
        s->due_ns = depart + delay_ns;
        d->count++;
    }
}

static void deliver(direction *d, uint64_t t)
{
    while (d->count > 0 && d->ring[d->head].due_ns <= t) {
        slot *s = &d->ring[d->head];
        if (write(d->out_fd, s->data, s->len) == (ssize_t)s->len) {
            d->delivered++;
            d->bytes_out += s->len;
        } else {
            d->write_errs++;
        }
        d->head = (d->head + 1) % RING_SLOTS;
        d->count--;
    }
}

static void report(const direction *d)
{
    fprintf(stderr,
            "wanlink %s pkts_in=%llu bytes_in=%llu lost=%llu queue_drops=%llu ring_drops=%llu "
            "delivered=%llu bytes_out=%llu write_errs=%llu max_queue_ms=%.1f frozen=%llu\n",
            d->name, (unsigned long long)d->pkts_in, (unsigned long long)d->bytes_in,
            (unsigned long long)d->lost, (unsigned long long)d->queue_drops,
            (unsigned long long)d->ring_drops, (unsigned long long)d->delivered,
            (unsigned long long)d->bytes_out, (unsigned long long)d->write_errs,
            (double)d->max_queue_ns / 1e6, (unsigned long long)d->frozen);
}

static double num_arg(const char *flag, const char *v, double lo, double hi)
{
    char *end;
    double x = v ? strtod(v, &end) : 0;
    if (!v || *end || x < lo || x > hi) {
        fprintf(stderr, "wanlink: %s wants a number in [%g, %g]\n", flag, lo, hi);
        exit(2);
    }
    return x;
}

int main(int argc, char **argv)
{
    const char *ns_a = NULL, *ns_b = NULL, *dev = "wan0";
    double delay_ms = 0, rate_mbit = 0, loss_pct = 0, queue_ms = 100;
    for (int i = 1; i < argc; i++) {
        const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(f, "--ns-a") && v)
            ns_a = v;
        else if (!strcmp(f, "--ns-b") && v)
            ns_b = v;
        else if (!strcmp(f, "--dev") && v)
            dev = v;
        else if (!strcmp(f, "--delay-ms"))
            delay_ms = num_arg(f, v, 0, 10000);
        else if (!strcmp(f, "--rate-mbit"))
            rate_mbit = num_arg(f, v, 0, 100000);
        else if (!strcmp(f, "--loss-pct"))
            loss_pct = num_arg(f, v, 0, 100);
        else if (!strcmp(f, "--queue-ms"))
            queue_ms = num_arg(f, v, 0, 10000);
        else if (!strcmp(f, "--seed"))
            rng_state = (uint64_t)num_arg(f, v, 1, 1e15);
        else if (!strcmp(f, "--freeze-flow"))
            freeze_flow = (unsigned)num_arg(f, v, 1, FLOWS_MAX);
        else if (!strcmp(f, "--freeze-after"))
            freeze_after = (uint64_t)num_arg(f, v, 0, 1e15);
        else {
            fprintf(stderr, "usage: wanlink --ns-a /proc/PA/ns/net --ns-b /proc/PB/ns/net [--dev "
                            "wan0] [--delay-ms D] [--rate-mbit R] [--loss-pct P] [--queue-ms Q] "
                            "[--seed S] [--freeze-flow N --freeze-after B]\n");
            return 2;
        }
        i++;
    }
    if (!ns_a || !ns_b) {
        fprintf(stderr, "wanlink: --ns-a and --ns-b are required\n");
        return 2;
    }
    rate_bytes_per_ns = rate_mbit * 1e6 / 8 / 1e9;
    delay_ns = (uint64_t)(delay_ms * 1e6);
    queue_limit_ns = (uint64_t)(queue_ms * 1e6);
    loss = loss_pct / 100;

    direction d[2] = {{.name = "a2b"}, {.name = "b2a"}};
    int fa = open_tun_in(ns_a, dev), fb = open_tun_in(ns_b, dev);
    d[0].in_fd = fa, d[0].out_fd = fb;
    d[1].in_fd = fb, d[1].out_fd = fa;
    for (int i = 0; i < 2; i++) {
        d[i].ring = malloc(sizeof(slot) * RING_SLOTS);
        if (!d[i].ring) {
            fprintf(stderr, "wanlink: out of memory\n");
            return 1;
        }
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    printf("ready\n");
    fflush(stdout);

    struct pollfd p[2] = {{.fd = fa, .events = POLLIN}, {.fd = fb, .events = POLLIN}};
    while (!stop) {
        if (reset_flows) {
            reset_flows = 0;
            if (getenv("WANLINK_DEBUG_FLOWS"))
                for (unsigned i = 0; i < flows_seen; i++)
                    fprintf(stderr, "wanlink: flow :%u :%u rank %u, %llu bytes\n", flows[i].port[0],
                            flows[i].port[1], flows[i].rank, (unsigned long long)flows[i].bytes);
            flows_seen = flows_ranked = 0;
            printf("frozen %llu\n", (unsigned long long)(d[0].frozen + d[1].frozen));
            fflush(stdout);
        }
        uint64_t t = now_ns(), next = UINT64_MAX;
        for (int i = 0; i < 2; i++) {
            deliver(&d[i], t);
            if (d[i].count && d[i].ring[d[i].head].due_ns < next)
                next = d[i].ring[d[i].head].due_ns;
        }
        struct timespec ts, *tsp = NULL;
        if (next != UINT64_MAX) {
            uint64_t wait = next > t ? next - t : 0;
            ts.tv_sec = (time_t)(wait / 1000000000u);
            ts.tv_nsec = (long)(wait % 1000000000u);
            tsp = &ts;
        }
        int r = ppoll(p, 2, tsp, NULL);
        if (r < 0 && errno != EINTR) {
            perror("wanlink: ppoll");
            break;
        }
        t = now_ns();
        if (r > 0) {
            if (p[0].revents & POLLIN) take(&d[0], t);
            if (p[1].revents & POLLIN) take(&d[1], t);
        }
    }
    report(&d[0]);
    report(&d[1]);
    return 0;
}
