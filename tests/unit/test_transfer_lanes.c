/* test_transfer_lanes.c: lanes (docs/protocol.md §5.10) in the session
 * core: hello.lanes in the codec, the agreed L, and the receiver's merge.
 * A sender session stripes its DATA over the session's channel and its
 * lanes (each an ordered FIFO here); the test delivers the channels in
 * hostile orders (lanes before the session's channel, random with seeds)
 * and checks that every file arrives whole and verified. A fake sender
 * (hand-made messages) drives the bounds and the rules that make an
 * impossible order PROTOCOL.
 *
 * lane-resend (§5.11): the link can stall one channel (its messages come
 * late, after the next transfer started, or never: a lost lane) and send
 * a copy of each DATA message it carried on another channel, later, as the
 * CLI does; the receiver must take copies wherever they are and drop what
 * it already has. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "transfer/codec.h"
#include "transfer/incoming.h"
#include "transfer/session.h"
#include "transfer/sha256.h"

#define NF 4
#define NCH (XFER_MAX_LANES + 1)

static const char *XID = "0123456789abcdef0123456789abcdef";

/* ---------------- channels: ordered FIFOs of messages ---------------- */

typedef struct qmsg {
    struct qmsg *next;
    bool binary;
    size_t len;
    uint8_t d[];
} qmsg;

typedef struct chan {
    qmsg *head, *tail;
    size_t n;
} chan;

static void chan_push(chan *c, bool binary, const uint8_t *d, size_t len)
{
    qmsg *m = malloc(sizeof *m + len);
    if (!m) abort();
    m->next = NULL;
    m->binary = binary;
    m->len = len;
    memcpy(m->d, d, len);
    if (c->tail)
        c->tail->next = m;
    else
        c->head = m;
    c->tail = m;
    c->n++;
}

static qmsg *chan_pop(chan *c)
{
    qmsg *m = c->head;
    if (!m) return NULL;
    c->head = m->next;
    if (!c->head) c->tail = NULL;
    c->n--;
    return m;
}

static void chan_clear(chan *c)
{
    qmsg *m;
    while ((m = chan_pop(c)))
        free(m);
}

/* ---------------- a peer: its session, files and what happened ---------------- */

typedef struct peer {
    xfer_session *s;
    xfer_incoming *inc;
    const uint8_t *src[NF];
    size_t src_len[NF];
    uint8_t *stored[NF];
    size_t stored_len[NF];
    int ok_files, failed_files, done, cancelled, fatal, ready;
    xfer_code fatal_code;
    char fatal_msg[128];
    int fail_write_file; /* receiver: write_failed at the first WRITE of it; -1 none */
    int failed_file;     /* the one failed: its WRITEs already queued are not stored */
} peer;

static void peer_init(peer *p, const xfer_options *o)
{
    memset(p, 0, sizeof *p);
    p->s = xfer_session_create(o);
    p->fail_write_file = p->failed_file = -1;
    CHECK(p->s != NULL);
}

static void peer_free(peer *p)
{
    xfer_session_destroy(p->s);
    xfer_incoming_destroy(p->inc);
    for (int i = 0; i < NF; i++)
        free(p->stored[i]);
}

static bool peer_events(peer *p)
{
    bool any = false;
    xfer_event e;
    while (xfer_session_next_event(p->s, &e)) {
        any = true;
        switch (e.type) {
        case XFER_EV_READY:
            p->ready++;
            break;
        case XFER_EV_OFFER:
            xfer_incoming_destroy(p->inc);
            p->inc = xfer_incoming_create(e.xfer, e.files, e.files_len);
            CHECK_EQ_INT(xfer_session_accept(p->s, p->inc, NULL, 0), XFER_OK);
            break;
        case XFER_EV_OPEN:
            CHECK(e.file < NF);
            p->stored_len[e.file] = e.offset;
            break;
        case XFER_EV_WRITE: {
            if ((int)e.file == p->failed_file) break;
            if ((int)e.file == p->fail_write_file) {
                p->fail_write_file = -1;
                p->failed_file = (int)e.file;
                xfer_session_write_failed(p->s, e.xfer, e.file, "disk full");
                break;
            }
            CHECK_EQ_INT(e.offset, p->stored_len[e.file]);
            size_t n = p->stored_len[e.file] + e.len;
            uint8_t *b = realloc(p->stored[e.file], n ? n : 1);
            if (!b) abort();
            memcpy(b + p->stored_len[e.file], e.data, e.len);
            p->stored[e.file] = b;
            p->stored_len[e.file] = n;
            xfer_session_written(p->s, e.xfer, e.file, n);
            break;
        }
        case XFER_EV_CLOSE:
            if (e.ok) xfer_session_closed(p->s, e.xfer, e.file, true, NULL);
            break;
        case XFER_EV_FILE_DONE:
            if (e.ok)
                p->ok_files++;
            else
                p->failed_files++;
            break;
        case XFER_EV_TRANSFER_DONE:
            p->done++;
            break;
        case XFER_EV_CANCELLED:
            p->cancelled++;
            break;
        case XFER_EV_FATAL:
            p->fatal++;
            p->fatal_code = e.code;
            snprintf(p->fatal_msg, sizeof p->fatal_msg, "%s", e.message ? e.message : "");
            break;
        default:
            break;
        }
    }
    return any;
}

static bool peer_reads(peer *p)
{
    bool any = false;
    xfer_read r;
    while (xfer_session_next_read(p->s, &r)) {
        any = true;
        CHECK(r.file < NF && r.offset + r.len <= p->src_len[r.file]);
        xfer_session_read_done(p->s, &r, p->src[r.file] + r.offset, r.len);
    }
    return any;
}

/* ---------------- the link: a -> b striped, b -> a direct ---------------- */

typedef enum order {
    ORDER_LANES_FIRST,   /* every lane before the session's channel */
    ORDER_SESSION_FIRST, /* the session's channel (its ends) before the lanes */
    ORDER_RANDOM,        /* a random non-empty channel each time (seeded) */
} order;

typedef struct link {
    peer a, b;
    chan ch[NCH];
    unsigned lanes; /* channels a stripes over: 0..lanes */
    unsigned next;  /* round robin */
    unsigned seed;
    order ord;
    int hold_back; /* channel delivered only when all others are empty; -1 none */
    /* lane-resend: a's DATA on `stalled` is copied onto another channel
     * `delay` rounds later (if a still keeps it: xfer_session_data_done);
     * the stalled channel delivers nothing until `release` (never if
     * `lost`: its lane closed) */
    int stalled;
    bool release, lost;
    struct copy {
        struct copy *next;
        unsigned due, to;
        qmsg *m;
    } * copies;
    unsigned round, copies_sent, copies_skipped;
    uint32_t tags_seen; /* bit t: a DATA with tag t (< 32) left a */
} link;

static unsigned rnd(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return (*s >> 16) & 0x7fff;
}

/* a's outputs onto the channels (DATA round robin over the agreed ones,
 * control on the session's), b's straight back to a. */
static bool link_collect(link *l)
{
    bool any = false;
    const uint8_t *d;
    size_t len;
    bool bin;
    while (xfer_session_next_output(l->a.s, &d, &len, &bin)) {
        any = true;
        unsigned c = 0;
        if (bin) {
            c = l->next;
            l->next = (l->next + 1) % (l->lanes + 1);
            unsigned tag = (unsigned)d[2] << 8 | d[3];
            if (tag < 32) l->tags_seen |= 1u << tag;
        }
        chan_push(&l->ch[c], bin, d, len);
        if (bin && (int)c == l->stalled) {
            struct copy *k = malloc(sizeof *k);
            if (!k) abort();
            k->due = l->round + rnd(&l->seed) % 40;
            do
                k->to = rnd(&l->seed) % (l->lanes + 1);
            while ((int)k->to == l->stalled);
            qmsg *m = malloc(sizeof *m + len);
            if (!m) abort();
            m->next = NULL;
            m->binary = true;
            m->len = len;
            memcpy(m->d, d, len);
            k->m = m;
            k->next = l->copies;
            l->copies = k;
        }
    }
    /* copies due: sent behind what their new channel holds */
    for (struct copy **kp = &l->copies; *kp;) {
        struct copy *k = *kp;
        if (k->due > l->round) {
            kp = &k->next;
            continue;
        }
        *kp = k->next;
        if (xfer_session_data_done(l->a.s, k->m->d, k->m->len)) {
            l->copies_skipped++;
        } else {
            chan_push(&l->ch[k->to], true, k->m->d, k->m->len);
            l->copies_sent++;
        }
        free(k->m);
        free(k);
        any = true;
    }
    while (xfer_session_next_output(l->b.s, &d, &len, &bin)) {
        any = true;
        if (bin)
            xfer_session_feed_binary(l->a.s, d, len);
        else
            xfer_session_feed_text(l->a.s, d, len);
    }
    return any;
}

static void deliver(link *l, unsigned c)
{
    if ((int)c == l->stalled && (l->lost || !l->release)) return;
    qmsg *m = chan_pop(&l->ch[c]);
    if (!m) return;
    if (m->binary)
        xfer_session_feed_binary_lane(l->b.s, c, m->d, m->len);
    else
        xfer_session_feed_text_lane(l->b.s, c, m->d, m->len);
    peer_events(&l->b); /* WRITE events point into m */
    free(m);
}

/* channel c has a message it may deliver now */
static bool can_deliver(const link *l, int c)
{
    return l->ch[c].n && (c != l->stalled || (l->release && !l->lost));
}

static bool link_deliver_some(link *l)
{
    size_t total = 0;
    for (unsigned c = 0; c < NCH; c++)
        total += can_deliver(l, (int)c) ? l->ch[c].n : 0;
    if (!total) return false;
    /* the held-back channel waits only while another has something */
    int held = l->hold_back;
    if (held < 0 || total <= l->ch[held].n) held = -1;
    switch (l->ord) {
    case ORDER_LANES_FIRST:
        for (int c = NCH - 1; c >= 0; c--)
            while (can_deliver(l, c) && c != held)
                deliver(l, (unsigned)c);
        break;
    case ORDER_SESSION_FIRST:
        for (unsigned c = 0; c < NCH; c++)
            while (can_deliver(l, (int)c) && (int)c != held)
                deliver(l, c);
        break;
    case ORDER_RANDOM: {
        /* a few messages from random channels */
        for (int k = 0; k < 8; k++) {
            unsigned c = rnd(&l->seed) % NCH;
            if ((int)c != held) deliver(l, c);
        }
        break;
    }
    }
    if (held >= 0 && l->ch[held].n && !l->ch[(held + 1) % NCH].n) deliver(l, (unsigned)held);
    return true;
}

static void link_run(link *l)
{
    for (int round = 0; round < 200000; round++) {
        l->round++;
        bool busy = link_collect(l);
        busy |= peer_reads(&l->a);
        busy |= peer_events(&l->a);
        busy |= peer_events(&l->b);
        busy |= link_deliver_some(l);
        if (!busy) {
            /* the held-back channel goes last */
            bool left = l->copies != NULL;
            for (unsigned c = 0; c < NCH; c++)
                while (l->ch[c].n && ((int)c != l->stalled || (l->release && !l->lost))) {
                    deliver(l, c);
                    left = true;
                }
            if (!left) return;
        }
    }
    CHECK(!"link did not settle");
}

static void link_init_resend(link *l, uint32_t lanes_a, uint32_t lanes_b, order ord, unsigned seed,
                             bool resend_a, bool resend_b)
{
    memset(l, 0, sizeof *l);
    xfer_options oa = {
        .lanes = lanes_a, .msg_size = 16384, .read_block = 65536, .lane_resend = resend_a};
    xfer_options ob = {.lanes = lanes_b, .lane_resend = resend_b};
    peer_init(&l->a, &oa);
    peer_init(&l->b, &ob);
    l->ord = ord;
    l->seed = seed;
    l->hold_back = -1;
    l->stalled = -1;
    xfer_session_open(l->a.s);
    xfer_session_open(l->b.s);
    link_run(l);
    l->lanes = xfer_session_lanes(l->a.s);
    CHECK_EQ_INT(xfer_session_lanes(l->b.s), l->lanes);
    for (unsigned k = 1; k <= l->lanes; k++)
        xfer_session_lane_opened(l->b.s, k);
}

static void link_init(link *l, uint32_t lanes_a, uint32_t lanes_b, order ord, unsigned seed)
{
    link_init_resend(l, lanes_a, lanes_b, ord, seed, false, false);
}

static void link_free(link *l)
{
    while (l->copies) {
        struct copy *k = l->copies;
        l->copies = k->next;
        free(k->m);
        free(k);
    }
    for (unsigned c = 0; c < NCH; c++)
        chan_clear(&l->ch[c]);
    peer_free(&l->a);
    peer_free(&l->b);
}

static uint8_t *pattern(size_t n, unsigned salt)
{
    uint8_t *b = malloc(n ? n : 1);
    if (!b) abort();
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(i * 31u + salt + (i >> 9));
    return b;
}

/* ---------------- the whole path ---------------- */

static const size_t SIZES[NF] = {300000, 0, 1, 70000};

static xfer_file_entry *entries(void)
{
    static char names[NF][8];
    static xfer_file_entry e[NF];
    for (int i = 0; i < NF; i++) {
        snprintf(names[i], sizeof names[i], "f%d.bin", i);
        e[i] = (xfer_file_entry){.id = (uint32_t)i,
                                 .name = names[i],
                                 .name_len = strlen(names[i]),
                                 .dir = "",
                                 .size = SIZES[i],
                                 .mime = "application/octet-stream",
                                 .mime_len = 24};
    }
    return e;
}

/* Sends the four files from a to b over the link; returns the link
 * afterwards for checks (caller frees). */
static void run_transfer_id(link *l, uint8_t *src[NF], const char *xid, unsigned salt)
{
    for (int i = 0; i < NF; i++) {
        src[i] = pattern(SIZES[i], (unsigned)i * 7u + salt);
        l->a.src[i] = src[i];
        l->a.src_len[i] = SIZES[i];
    }
    CHECK_EQ_INT(xfer_session_offer(l->a.s, xid, entries(), NF), XFER_OK);
    link_run(l);
}

static void run_transfer(link *l, uint8_t *src[NF])
{
    run_transfer_id(l, src, XID, 0);
}

static void check_all_arrived(link *l, uint8_t *src[NF], const char *what)
{
    bool ok = l->b.ok_files == NF && l->b.done == 1 && l->a.done == 1 && !l->a.fatal && !l->b.fatal;
    for (int i = 0; i < NF; i++)
        ok = ok && l->b.stored_len[i] == SIZES[i] &&
             (!SIZES[i] || !memcmp(l->b.stored[i], src[i], SIZES[i])) &&
             xfer_incoming_verified(l->b.inc, (size_t)i);
    for (int i = 0; !ok && i < NF; i++)
        fprintf(stderr, "  file %d: %zu/%zu same %d verified %d\n", i, l->b.stored_len[i], SIZES[i],
                SIZES[i] && l->b.stored[i] ? !memcmp(l->b.stored[i], src[i], SIZES[i]) : -1,
                xfer_incoming_verified(l->b.inc, (size_t)i));
    if (!ok)
        fprintf(stderr, "%s: ok_files %d done %d/%d fatal %d/%d (%s)\n", what, l->b.ok_files,
                l->a.done, l->b.done, l->a.fatal, l->b.fatal, l->b.fatal_msg);
    CHECK(ok);
    CHECK_EQ_INT(xfer_session_held(l->b.s), 0);
}

static void test_orders(void)
{
    /* lanes first: DATA of a file before its start, DATA of the next file
     * before the end of this one; session first: every end before the data
     * of its file on the lanes (held with everything after it) */
    order orders[] = {ORDER_LANES_FIRST, ORDER_SESSION_FIRST};
    for (size_t k = 0; k < 2; k++) {
        link l;
        link_init(&l, 3, 5, orders[k], 1);
        CHECK_EQ_INT(l.lanes, 3);
        uint8_t *src[NF];
        run_transfer(&l, src);
        check_all_arrived(&l, src, k ? "session first" : "lanes first");
        link_free(&l);
        for (int i = 0; i < NF; i++)
            free(src[i]);
    }
    /* random interleavings, every lane count */
    for (unsigned seed = 1; seed <= 60; seed++) {
        link l;
        link_init(&l, 1 + seed % XFER_MAX_LANES, XFER_MAX_LANES, ORDER_RANDOM, seed);
        uint8_t *src[NF];
        run_transfer(&l, src);
        char what[32];
        snprintf(what, sizeof what, "random seed %u", seed);
        check_all_arrived(&l, src, what);
        link_free(&l);
        for (int i = 0; i < NF; i++)
            free(src[i]);
    }
}

/* One lane delivered only when nothing else is left: the others hold up to
 * the whole window behind it; everything still arrives. */
static void test_slow_lane(void)
{
    link l;
    link_init(&l, 2, 2, ORDER_SESSION_FIRST, 3);
    l.hold_back = 1;
    uint8_t *src[NF];
    run_transfer(&l, src);
    check_all_arrived(&l, src, "slow lane");
    link_free(&l);
    for (int i = 0; i < NF; i++)
        free(src[i]);
}

/* ---------------- negotiation and the codec ---------------- */

static void test_negotiation(void)
{
    struct {
        uint32_t a, b, want;
    } cases[] = {{0, 0, 0},  {3, 0, 0},    {0, 7, 0},    {2, 7, 2},  {7, 7, 7},
                 {15, 7, 7}, {15, 12, 12}, {15, 15, 15}, {9, 15, 9}, {15, 0, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        link l;
        link_init(&l, cases[i].a, cases[i].b, ORDER_SESSION_FIRST, 1);
        CHECK_EQ_INT(xfer_session_lanes(l.a.s), cases[i].want);
        CHECK_EQ_INT(l.a.ready, 1);
        link_free(&l);
    }
    xfer_options bad = {.lanes = XFER_MAX_LANES + 1};
    CHECK(xfer_session_create(&bad) == NULL);

    /* canonical order: caps, lanes, name; absent when 0 */
    xfer_options o = {.lanes = 3, .name = "laptop"};
    xfer_session *s = xfer_session_create(&o);
    xfer_session_open(s);
    const uint8_t *d;
    size_t len;
    bool bin;
    CHECK(xfer_session_next_output(s, &d, &len, &bin));
    static const char want[] = "{\"t\":\"hello\",\"v\":2,\"maxMsg\":262144,\"win\":16777216,"
                               "\"caps\":[\"resume\",\"sha256-blocks\",\"text\"],\"lanes\":3,"
                               "\"name\":\"laptop\"}";
    CHECK_EQ_MEM(d, len, want, strlen(want));
    xfer_session_destroy(s);
    o.lanes = 0;
    s = xfer_session_create(&o);
    xfer_session_open(s);
    CHECK(xfer_session_next_output(s, &d, &len, &bin));
    CHECK(!memmem(d, len, "lanes", 5));
    xfer_session_destroy(s);
    /* above 7 (§5.10): lanes 7 for older peers, then moreLanes the count */
    o.lanes = 15;
    s = xfer_session_create(&o);
    xfer_session_open(s);
    CHECK(xfer_session_next_output(s, &d, &len, &bin));
    static const char want15[] = "\"caps\":[\"resume\",\"sha256-blocks\",\"text\"],\"lanes\":7,"
                                 "\"moreLanes\":15,\"name\":\"laptop\"}";
    CHECK(len > strlen(want15) && !memcmp(d + len - strlen(want15), want15, strlen(want15)));
    xfer_session_destroy(s);

    /* decode: 0..7 taken, anything else PROTOCOL */
    const char *good[] = {"{\"t\":\"hello\",\"v\":2,\"maxMsg\":16384,\"win\":16384,\"caps\":[],"
                          "\"lanes\":7}",
                          "{\"t\":\"hello\",\"v\":2,\"maxMsg\":16384,\"win\":16384,\"caps\":[],"
                          "\"lanes\":0}"};
    const char *bad_hellos[] = {
        "{\"t\":\"hello\",\"v\":2,\"maxMsg\":16384,\"win\":16384,\"caps\":[],\"lanes\":8}",
        "{\"t\":\"hello\",\"v\":2,\"maxMsg\":16384,\"win\":16384,\"caps\":[],\"lanes\":-1}",
        "{\"t\":\"hello\",\"v\":2,\"maxMsg\":16384,\"win\":16384,\"caps\":[],\"lanes\":\"3\"}",
        "{\"t\":\"hello\",\"v\":2,\"maxMsg\":16384,\"win\":16384,\"caps\":[],\"lanes\":2.5}",
        "{\"t\":\"hello\",\"v\":2,\"maxMsg\":16384,\"win\":16384,\"caps\":[],\"lanes\":null}",
    };
    for (size_t i = 0; i < 2; i++) {
        xfer_msg m;
        xfer_code code;
        CHECK_EQ_INT(xfer_msg_decode((const uint8_t *)good[i], strlen(good[i]), &m, &code),
                     XFER_OK);
        CHECK_EQ_INT(m.lanes, i ? 0 : 7);
        xfer_msg_cleanup(&m);
    }
    for (size_t i = 0; i < sizeof bad_hellos / sizeof bad_hellos[0]; i++) {
        xfer_msg m;
        xfer_code code = XFER_CODE_INTERNAL;
        CHECK(xfer_msg_decode((const uint8_t *)bad_hellos[i], strlen(bad_hellos[i]), &m, &code) !=
              XFER_OK);
        CHECK_EQ_INT(code, XFER_CODE_PROTOCOL);
        xfer_msg_cleanup(&m);
    }
}

/* ---------------- a fake sender: hand-made messages ---------------- */

static void feed_json(xfer_session *s, const char *json)
{
    xfer_session_feed_text(s, (const uint8_t *)json, strlen(json));
}

static void drain_outputs(xfer_session *s)
{
    const uint8_t *d;
    size_t len;
    bool bin;
    while (xfer_session_next_output(s, &d, &len, &bin)) {
    }
}

/* b: a receiver with lanes `lanes` (opened: `open`), one file of `size`
 * accepted and started at 0, after a peer hello with lanes 7. */
static void fake_setup_r(peer *b, uint32_t lanes, unsigned open, uint64_t win, uint64_t size,
                         int nfiles, bool resend)
{
    xfer_options o = {.lanes = lanes, .win = win, .max_msg = win, .lane_resend = resend};
    peer_init(b, &o);
    xfer_session_open(b->s);
    drain_outputs(b->s);
    /* the peer lists lane-resend: in force when we do too */
    feed_json(b->s, "{\"t\":\"hello\",\"v\":2,\"maxMsg\":262144,\"win\":16777216,"
                    "\"caps\":[\"resume\",\"lane-resend\"],\"lanes\":7}");
    CHECK(xfer_session_lane_resend(b->s) == (resend && lanes > 0));
    char offer[1024];
    int n = snprintf(offer, sizeof offer, "{\"t\":\"offer\",\"xfer\":\"%s\",\"files\":[", XID);
    for (int i = 0; i < nfiles; i++)
        n += snprintf(offer + n, sizeof offer - (size_t)n,
                      "%s{\"id\":%d,\"name\":\"f%d\",\"dir\":\"\",\"size\":%llu,"
                      "\"mime\":\"application/octet-stream\"}",
                      i ? "," : "", i, i, (unsigned long long)size);
    snprintf(offer + n, sizeof offer - (size_t)n, "]}");
    feed_json(b->s, offer);
    peer_events(b);
    for (unsigned k = 1; k <= lanes; k++)
        if ((open >> k) & 1u) xfer_session_lane_opened(b->s, k);
    CHECK_EQ_INT(xfer_session_channels(b->s), 1 + __builtin_popcount(open & 0xfeu));
    char start[160];
    snprintf(start, sizeof start, "{\"t\":\"start\",\"xfer\":\"%s\",\"file\":0,\"offset\":0}", XID);
    feed_json(b->s, start);
    peer_events(b);
    drain_outputs(b->s);
    CHECK(!b->fatal);
}

static void fake_setup(peer *b, uint32_t lanes, unsigned open, uint64_t win, uint64_t size,
                       int nfiles)
{
    fake_setup_r(b, lanes, open, win, size, nfiles, false);
}

static void feed_data_tag(peer *b, unsigned lane, uint16_t tag, uint32_t file, uint64_t offset,
                          size_t len)
{
    uint8_t *m = malloc(XFER_DATA_HEADER_LEN + len);
    if (!m) abort();
    xfer_data_header_encode(m, file, offset, tag);
    memset(m + XFER_DATA_HEADER_LEN, 0x5a, len);
    xfer_session_feed_binary_lane(b->s, lane, m, XFER_DATA_HEADER_LEN + len);
    peer_events(b); /* WRITE events point into m */
    free(m);
}

static void feed_data(peer *b, unsigned lane, uint32_t file, uint64_t offset, size_t len)
{
    feed_data_tag(b, lane, 0, file, offset, len);
}

static void expect_protocol(peer *b, const char *msg, const char *what)
{
    bool ok = b->fatal == 1 && b->fatal_code == XFER_CODE_PROTOCOL && strstr(b->fatal_msg, msg);
    if (!ok)
        fprintf(stderr, "%s: fatal %d code %d \"%s\"\n", what, b->fatal, b->fatal_code,
                b->fatal_msg);
    CHECK(ok);
}

static void test_rules(void)
{
    peer b;
    /* every open channel holds a DATA that is not the next one: it cannot come */
    fake_setup(&b, 2, 1u << 1, 0, 100000, 1);
    feed_data(&b, 1, 0, 1000, 1000);
    CHECK(!b.fatal);
    CHECK_EQ_INT(xfer_session_held(b.s), 1);
    feed_data(&b, 0, 0, 3000, 1000);
    expect_protocol(&b, "every channel holds", "deadlock, 2 channels");
    peer_free(&b);

    /* ... but not while an open lane is still empty */
    fake_setup(&b, 2, (1u << 1) | (1u << 2), 0, 100000, 1);
    feed_data(&b, 1, 0, 1000, 1000);
    feed_data(&b, 0, 0, 3000, 1000);
    CHECK(!b.fatal);
    feed_data(&b, 2, 0, 0, 1000); /* the next one: everything flows */
    CHECK(!b.fatal);
    CHECK_EQ_INT(xfer_session_held(b.s), 1); /* 3000 waits for 2000 */
    feed_data(&b, 2, 0, 2000, 1000);
    CHECK_EQ_INT(xfer_session_held(b.s), 0);
    CHECK_EQ_INT(b.stored_len[0], 4000);
    CHECK(!b.fatal);
    peer_free(&b);

    /* bytes already had: never the next one */
    fake_setup(&b, 1, 1u << 1, 0, 100000, 1);
    feed_data(&b, 0, 0, 0, 1000);
    feed_data(&b, 1, 0, 500, 1000);
    expect_protocol(&b, "not the next byte", "behind");
    peer_free(&b);

    /* DATA of a file not offered, a control message on a lane, a lane
     * above L, DATA on a lane before hello */
    fake_setup(&b, 2, 1u << 1, 0, 100000, 1);
    feed_data(&b, 1, 5, 0, 10);
    expect_protocol(&b, "no file being received", "unknown file");
    peer_free(&b);
    fake_setup(&b, 2, 1u << 1, 0, 100000, 1);
    xfer_session_feed_text_lane(b.s, 1, (const uint8_t *)"{\"t\":\"cancel\"}", 14);
    peer_events(&b);
    expect_protocol(&b, "control message on a lane", "control on a lane");
    peer_free(&b);
    fake_setup(&b, 2, 1u << 1, 0, 100000, 1);
    feed_data(&b, 3, 0, 0, 10);
    expect_protocol(&b, "lane not agreed", "lane above L");
    peer_free(&b);
    xfer_options o = {.lanes = 2};
    peer_init(&b, &o);
    xfer_session_open(b.s);
    feed_data(&b, 1, 0, 0, 10);
    expect_protocol(&b, "data before hello", "before hello");
    peer_free(&b);

    /* no lanes (L = 0): §5.1-5.9 unchanged, a gap is PROTOCOL at once */
    fake_setup(&b, 0, 0, 0, 100000, 1);
    feed_data(&b, 0, 0, 1000, 10);
    expect_protocol(&b, "not the next byte", "no lanes");
    peer_free(&b);
}

static void test_bounds(void)
{
    peer b;
    /* held payload: up to our own win, one byte more is PROTOCOL */
    fake_setup(&b, 2, (1u << 1) | (1u << 2), 65536, 1000000, 1);
    feed_data(&b, 1, 0, 100, 32768);
    feed_data(&b, 1, 0, 100 + 32768, 32768);
    CHECK(!b.fatal);
    CHECK_EQ_INT(xfer_session_held(b.s), 2);
    feed_data(&b, 1, 0, 100 + 65536, 1);
    expect_protocol(&b, "over the receive window", "window bound");
    peer_free(&b);

    /* held messages: 16384, one more is PROTOCOL */
    fake_setup(&b, 2, (1u << 1) | (1u << 2), 0, 1000000, 1);
    for (uint64_t k = 1; k <= XFER_MAX_HELD_MSGS && !b.fatal; k++)
        feed_data(&b, 1, 0, k, 1);
    CHECK(!b.fatal);
    CHECK_EQ_INT(xfer_session_held(b.s), XFER_MAX_HELD_MSGS);
    feed_data(&b, 1, 0, XFER_MAX_HELD_MSGS + 1, 1);
    expect_protocol(&b, "16384 messages", "message bound");
    peer_free(&b);
    /* and the 16384 go once the next one comes */
    fake_setup(&b, 2, (1u << 1) | (1u << 2), 0, 1000000, 1);
    for (uint64_t k = 1; k <= 1000; k++)
        feed_data(&b, 1, 0, k, 1);
    feed_data(&b, 2, 0, 0, 1);
    CHECK(!b.fatal);
    CHECK_EQ_INT(xfer_session_held(b.s), 0);
    CHECK_EQ_INT(b.stored_len[0], 1001);
    peer_free(&b);
}

/* An end before its data, a start and DATA of the next file before it. */
static void test_held_end(void)
{
    peer b;
    fake_setup(&b, 1, 1u << 1, 0, 2000, 2);
    /* file 0: 2000 bytes; its second half is on lane 1, late */
    feed_data(&b, 0, 0, 0, 1000);
    char end[200], start1[160];
    /* the digest is checked when the end is handled: the real one */
    uint8_t all[2000];
    memset(all, 0x5a, sizeof all);
    char sha[XFER_SHA_HEX_LEN + 1];
    xfer_hasher *h = xfer_hasher_create();
    xfer_hasher_update(h, all, sizeof all);
    xfer_hasher_peek_hex(h, sha);
    xfer_hasher_destroy(h);
    snprintf(end, sizeof end, "{\"t\":\"end\",\"xfer\":\"%s\",\"file\":0,\"sha256\":\"%s\"}", XID,
             sha);
    feed_json(b.s, end);
    snprintf(start1, sizeof start1, "{\"t\":\"start\",\"xfer\":\"%s\",\"file\":1,\"offset\":0}",
             XID);
    feed_json(b.s, start1);
    peer_events(&b);
    CHECK(!b.fatal);
    CHECK_EQ_INT(xfer_session_held(b.s), 2); /* the end and the start */
    feed_data(&b, 0, 1, 0, 2000);            /* file 1's data: waits for its start */
    CHECK_EQ_INT(xfer_session_held(b.s), 3);
    feed_data(&b, 1, 0, 1000, 1000); /* the missing half: all goes */
    CHECK(!b.fatal);
    CHECK_EQ_INT(xfer_session_held(b.s), 0);
    CHECK_EQ_INT(b.ok_files, 1);
    CHECK_EQ_INT(b.stored_len[1], 2000);
    peer_free(&b);
}

/* Cancel with held data: ours drops what is held and what still comes;
 * the peer's too (its data may still be on a lane). A failed file's data
 * is dropped and the next file goes on. */
static void test_cancel_and_failure(void)
{
    for (int by_peer = 0; by_peer < 2; by_peer++) {
        peer b;
        fake_setup(&b, 2, (1u << 1) | (1u << 2), 0, 100000, 1);
        feed_data(&b, 1, 0, 1000, 1000);
        feed_data(&b, 2, 0, 5000, 1000);
        CHECK_EQ_INT(xfer_session_held(b.s), 2);
        if (by_peer) {
            char c[120];
            snprintf(c, sizeof c, "{\"t\":\"cancel\",\"xfer\":\"%s\"}", XID);
            feed_json(b.s, c);
        } else {
            xfer_session_cancel(b.s, XID);
        }
        peer_events(&b);
        CHECK_EQ_INT(b.cancelled, 1);
        CHECK_EQ_INT(xfer_session_held(b.s), 0);
        feed_data(&b, 1, 0, 2000, 1000); /* still in flight: dropped */
        feed_data(&b, 0, 0, 0, 1000);
        CHECK(!b.fatal);
        CHECK_EQ_INT(xfer_session_held(b.s), 0);
        peer_free(&b);
    }

    link l;
    link_init(&l, 3, 3, ORDER_RANDOM, 7);
    l.b.fail_write_file = 0;
    uint8_t *src[NF];
    run_transfer(&l, src);
    CHECK(!l.a.fatal && !l.b.fatal);
    CHECK_EQ_INT(l.b.failed_files, 1);
    CHECK_EQ_INT(l.b.ok_files, NF - 1);
    CHECK_EQ_INT(l.b.done, 1);
    CHECK_EQ_INT(xfer_session_held(l.b.s), 0);
    for (int i = 1; i < NF; i++)
        CHECK(l.b.stored_len[i] == SIZES[i] &&
              (!SIZES[i] || !memcmp(l.b.stored[i], src[i], SIZES[i])));
    link_free(&l);
    for (int i = 0; i < NF; i++)
        free(src[i]);
}

/* ---------------- lane-resend (§5.11) ---------------- */

static const char *XID2 = "fedcba9876543210fedcba9876543210";

/* The cap: listed after "text", in force only when both hellos list it
 * and L > 0; DATA carries the offer ordinal of its transfer. */
static void test_resend_negotiation(void)
{
    struct {
        uint32_t la, lb;
        bool ra, rb, want;
    } cases[] = {{2, 2, true, true, true},
                 {2, 2, true, false, false},
                 {2, 2, false, true, false},
                 {0, 2, true, true, false},
                 {2, 0, true, true, false}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        link l;
        link_init_resend(&l, cases[i].la, cases[i].lb, ORDER_RANDOM, 5, cases[i].ra, cases[i].rb);
        CHECK(xfer_session_lane_resend(l.a.s) == cases[i].want);
        CHECK(xfer_session_lane_resend(l.b.s) == cases[i].want);
        link_free(&l);
    }
    /* our hello: "lane-resend" after "text" */
    xfer_options o = {.lane_resend = true, .lanes = 1};
    xfer_session *s = xfer_session_create(&o);
    xfer_session_open(s);
    const uint8_t *d;
    size_t len;
    bool bin;
    CHECK(xfer_session_next_output(s, &d, &len, &bin));
    char hello[512];
    snprintf(hello, sizeof hello, "%.*s", (int)len, (const char *)d);
    CHECK(strstr(hello, "\"text\",\"lane-resend\"]") != NULL);
    xfer_session_destroy(s);

    /* the sender's tag: 0 for the first transfer, 1 for the next */
    link l;
    link_init_resend(&l, 3, 3, ORDER_RANDOM, 9, true, true);
    uint8_t *src[NF], *src2[NF];
    run_transfer_id(&l, src, XID, 0);
    CHECK_EQ_INT(l.tags_seen, 1u);
    run_transfer_id(&l, src2, XID2, 3);
    CHECK_EQ_INT(l.tags_seen, 3u);
    CHECK_EQ_INT(l.b.ok_files, 2 * NF);
    CHECK(!l.a.fatal && !l.b.fatal);
    link_free(&l);
    for (int i = 0; i < NF; i++) {
        free(src[i]);
        free(src2[i]);
    }
    /* without the cap the tag stays 0 */
    link_init_resend(&l, 3, 3, ORDER_RANDOM, 9, true, false);
    run_transfer_id(&l, src, XID, 0);
    run_transfer_id(&l, src2, XID2, 3);
    CHECK_EQ_INT(l.tags_seen, 1u);
    link_free(&l);
    for (int i = 0; i < NF; i++) {
        free(src[i]);
        free(src2[i]);
    }
}

static void feed_offer(peer *b, const char *xid, uint64_t size)
{
    char offer[400];
    snprintf(offer, sizeof offer,
             "{\"t\":\"offer\",\"xfer\":\"%s\",\"files\":[{\"id\":0,\"name\":\"g\",\"dir\":\"\","
             "\"size\":%llu,\"mime\":\"application/octet-stream\"}]}",
             xid, (unsigned long long)size);
    feed_json(b->s, offer);
}

static void feed_start(peer *b, const char *xid, uint32_t file, uint64_t offset)
{
    char start[200];
    snprintf(start, sizeof start, "{\"t\":\"start\",\"xfer\":\"%s\",\"file\":%u,\"offset\":%llu}",
             xid, file, (unsigned long long)offset);
    feed_json(b->s, start);
    peer_events(b);
}

/* The receiver counts the peer's offers (a declined one too) and drops
 * DATA whose tag is not the current transfer's: a late copy of an earlier
 * transfer after the next one started. */
static void test_resend_tags(void)
{
    peer b;
    fake_setup_r(&b, 2, 1u << 1, 0, 100000, 1, true); /* offer 0 (XID), file 0 started */
    feed_data_tag(&b, 1, 0, 0, 0, 1000);
    CHECK_EQ_INT(b.stored_len[0], 1000);
    feed_data_tag(&b, 1, 1, 0, 1000, 1000); /* tag of no transfer yet: dropped */
    CHECK(!b.fatal);
    CHECK_EQ_INT(b.stored_len[0], 1000);
    CHECK_EQ_INT(xfer_session_held(b.s), 0);
    feed_data_tag(&b, 1, 0, 0, 5000, 1000); /* held */
    CHECK_EQ_INT(xfer_session_held(b.s), 1);
    char c[120];
    snprintf(c, sizeof c, "{\"t\":\"cancel\",\"xfer\":\"%s\"}", XID);
    feed_json(b.s, c);
    peer_events(&b);
    CHECK_EQ_INT(b.cancelled, 1);
    CHECK_EQ_INT(xfer_session_held(b.s), 0); /* purged with its transfer */
    /* none being received: dropped */
    feed_data_tag(&b, 0, 0, 0, 1000, 1000);
    feed_data_tag(&b, 0, 1, 0, 0, 1000);
    CHECK(!b.fatal);
    peer_free(&b);

    /* offers 0 and 1 cancelled, offer 2 received: its tag is 2 */
    const char *XID3 = "00000000000000000000000000000003";

    fake_setup_r(&b, 2, 1u << 1, 0, 100000, 1, true);
    snprintf(c, sizeof c, "{\"t\":\"cancel\",\"xfer\":\"%s\"}", XID);
    feed_json(b.s, c);
    peer_events(&b);
    feed_offer(&b, XID2, 3000); /* offer 1: accepted by peer_events, then cancelled */
    peer_events(&b);
    xfer_session_cancel(b.s, XID2);
    peer_events(&b);
    feed_offer(&b, XID3, 3000); /* offer 2 */
    peer_events(&b);
    feed_start(&b, XID3, 0, 0);
    CHECK(!b.fatal);
    feed_data_tag(&b, 1, 0, 0, 0, 1000); /* the first transfer's, late: dropped */
    feed_data_tag(&b, 2, 1, 0, 0, 1000); /* the second's: dropped */
    CHECK(!b.fatal);
    CHECK_EQ_INT(b.stored_len[0], 0);
    CHECK_EQ_INT(xfer_session_held(b.s), 0);
    feed_data_tag(&b, 1, 2, 0, 1000, 1000); /* the current one's: held */
    CHECK_EQ_INT(xfer_session_held(b.s), 1);
    feed_data_tag(&b, 0, 2, 0, 0, 1000);
    CHECK(!b.fatal);
    CHECK_EQ_INT(b.stored_len[0], 2000);
    CHECK_EQ_INT(xfer_session_held(b.s), 0);
    peer_free(&b);
}

static void test_resend_rules(void)
{
    peer b;
    /* all bytes handled: dropped; some handled, some not: PROTOCOL */
    fake_setup_r(&b, 2, 1u << 1, 0, 100000, 1, true);
    feed_data(&b, 0, 0, 0, 1000);
    feed_data(&b, 1, 0, 0, 1000);  /* the second copy */
    feed_data(&b, 1, 0, 500, 500); /* inside what was handled */
    CHECK(!b.fatal);
    CHECK_EQ_INT(b.stored_len[0], 1000);
    feed_data(&b, 1, 0, 500, 1000);
    expect_protocol(&b, "in part", "partial overlap");
    peer_free(&b);

    /* a second copy of a held message: dropped, PROTOCOL if its length differs */
    fake_setup_r(&b, 2, (1u << 1) | (1u << 2), 0, 100000, 1, true);
    feed_data(&b, 1, 0, 2000, 1000);
    feed_data(&b, 2, 0, 2000, 1000);
    CHECK(!b.fatal);
    CHECK_EQ_INT(xfer_session_held(b.s), 1);
    feed_data(&b, 0, 0, 2000, 500);
    expect_protocol(&b, "differ in length", "copies differ");
    peer_free(&b);

    /* still PROTOCOL: beyond the size, a file not accepted */
    fake_setup_r(&b, 2, 1u << 1, 0, 100000, 1, true);
    feed_data(&b, 1, 0, 99500, 1000);
    expect_protocol(&b, "beyond file size", "beyond size");
    peer_free(&b);
    fake_setup_r(&b, 2, 1u << 1, 0, 100000, 1, true);
    feed_data(&b, 1, 5, 0, 10);
    expect_protocol(&b, "not accepted", "unknown file");
    peer_free(&b);

    /* keyed merge: a copy that arrives behind newer data on its channel
     * is taken, and what waited behind it follows */
    fake_setup_r(&b, 2, (1u << 1) | (1u << 2), 0, 100000, 1, true);
    feed_data(&b, 2, 0, 1000, 1000);
    feed_data(&b, 2, 0, 3000, 1000);
    feed_data(&b, 0, 0, 2000, 1000);
    feed_data(&b, 2, 0, 0, 1000); /* the copy of lane 1's first message */
    CHECK(!b.fatal);
    CHECK_EQ_INT(b.stored_len[0], 4000);
    CHECK_EQ_INT(xfer_session_held(b.s), 0);
    peer_free(&b);

    /* no "every channel holds data that is not the next" under the cap */
    fake_setup_r(&b, 2, 1u << 1, 0, 100000, 1, true);
    feed_data(&b, 1, 0, 1000, 1000);
    feed_data(&b, 0, 0, 3000, 1000);
    CHECK(!b.fatal);
    feed_data(&b, 0, 0, 0, 1000);
    feed_data(&b, 0, 0, 2000, 1000);
    CHECK(!b.fatal);
    CHECK_EQ_INT(b.stored_len[0], 4000);
    peer_free(&b);

    /* bounds unchanged: the window, and the held messages */
    fake_setup_r(&b, 2, (1u << 1) | (1u << 2), 65536, 1000000, 1, true);
    feed_data(&b, 1, 0, 100, 32768);
    feed_data(&b, 2, 0, 100, 32768); /* a copy: not held, not counted */
    feed_data(&b, 1, 0, 100 + 32768, 32768);
    CHECK(!b.fatal);
    CHECK_EQ_INT(xfer_session_held(b.s), 2);
    feed_data(&b, 1, 0, 100 + 65536, 1);
    expect_protocol(&b, "over the receive window", "window bound, resend");
    peer_free(&b);
    fake_setup_r(&b, 2, (1u << 1) | (1u << 2), 0, 1000000, 1, true);
    for (uint64_t k = 1; k <= XFER_MAX_HELD_MSGS && !b.fatal; k++)
        feed_data(&b, 1 + (unsigned)(k % 2), 0, k, 1);
    CHECK(!b.fatal);
    CHECK_EQ_INT(xfer_session_held(b.s), XFER_MAX_HELD_MSGS);
    feed_data(&b, 1, 0, XFER_MAX_HELD_MSGS, 1); /* a copy of a held one: dropped */
    CHECK(!b.fatal);
    feed_data(&b, 1, 0, XFER_MAX_HELD_MSGS + 1, 1);
    expect_protocol(&b, "16384 messages", "message bound, resend");
    peer_free(&b);

    /* a failed file's held data goes at once: it never pins the bounds */
    fake_setup_r(&b, 2, (1u << 1) | (1u << 2), 0, 100000, 2, true);
    feed_data(&b, 1, 0, 5000, 1000);
    feed_data(&b, 1, 1, 0, 1000); /* the next file's, before its start */
    CHECK_EQ_INT(xfer_session_held(b.s), 2);
    xfer_session_write_failed(b.s, XID, 0, "disk full");
    peer_events(&b);
    CHECK_EQ_INT(xfer_session_held(b.s), 1);
    feed_data(&b, 2, 0, 6000, 1000); /* still in flight: dropped */
    CHECK_EQ_INT(xfer_session_held(b.s), 1);
    feed_start(&b, XID, 1, 0);
    CHECK(!b.fatal);
    CHECK_EQ_INT(b.stored_len[1], 1000);
    CHECK_EQ_INT(xfer_session_held(b.s), 0);
    peer_free(&b);

    /* a lane that closes: the session goes on with what it held from it */
    fake_setup_r(&b, 2, (1u << 1) | (1u << 2), 0, 100000, 1, true);
    feed_data(&b, 1, 0, 1000, 1000);
    CHECK(xfer_session_lane_closed(b.s, 1));
    CHECK_EQ_INT(xfer_session_channels(b.s), 2);
    CHECK_EQ_INT(xfer_session_held(b.s), 1);
    feed_data(&b, 2, 0, 0, 1000);
    CHECK(!b.fatal);
    CHECK_EQ_INT(b.stored_len[0], 2000);
    peer_free(&b);
}

/* Without the cap nothing changes: a nonzero tag is PROTOCOL, a copy of
 * handled bytes too, and a closed lane ends the session. */
static void test_resend_off(void)
{
    peer b;
    fake_setup_r(&b, 2, 1u << 1, 0, 100000, 1, false);
    feed_data_tag(&b, 1, 1, 0, 0, 10);
    expect_protocol(&b, "lane-resend not agreed", "tag without the cap");
    peer_free(&b);
    fake_setup_r(&b, 2, 1u << 1, 0, 100000, 1, false);
    feed_data(&b, 0, 0, 0, 1000);
    feed_data(&b, 1, 0, 0, 1000);
    expect_protocol(&b, "not the next byte", "copy without the cap");
    peer_free(&b);
    fake_setup_r(&b, 2, 1u << 1, 0, 100000, 1, false);
    CHECK(!xfer_session_lane_closed(b.s, 1));
    peer_free(&b);
    /* the cap on our side, lanes 0: no tags */
    fake_setup_r(&b, 0, 0, 0, 100000, 1, true);
    feed_data_tag(&b, 0, 1, 0, 0, 10);
    expect_protocol(&b, "lane-resend not agreed", "tag, no lanes");
    peer_free(&b);
}

/* Randomized: one channel stalls (its DATA comes only after the next
 * transfer started, or never: its lane was lost) and the link sends each
 * of its DATA messages again on another channel, some rounds later, while
 * the sender still keeps it. Two transfers, every file byte-exact, no
 * PROTOCOL, nothing left held. */
static void test_resend_random(void)
{
    for (unsigned seed = 1; seed <= 40; seed++) {
        link l;
        unsigned lanes = 1 + seed % XFER_MAX_LANES;
        link_init_resend(&l, lanes, XFER_MAX_LANES, ORDER_RANDOM, seed, true, true);
        CHECK(xfer_session_lane_resend(l.b.s));
        l.stalled = (int)(seed % (lanes + 1));
        if (l.stalled == 0) l.stalled = 1; /* a lane, not the session's channel */
        l.lost = seed % 3 == 0;
        if (l.lost) CHECK(xfer_session_lane_closed(l.b.s, (unsigned)l.stalled));
        uint8_t *src[NF], *src2[NF];
        run_transfer_id(&l, src, XID, 0);
        bool ok = l.b.ok_files == NF && l.b.done == 1 && l.a.done == 1;
        for (int i = 0; i < NF; i++)
            ok = ok && l.b.stored_len[i] == SIZES[i] &&
                 (!SIZES[i] || !memcmp(l.b.stored[i], src[i], SIZES[i]));
        /* the stalled lane's first copies come now, behind the next offer */
        CHECK_EQ_INT(xfer_session_offer(l.a.s, XID2, entries(), NF), XFER_OK);
        l.release = true;
        for (int i = 0; i < NF; i++) {
            src2[i] = pattern(SIZES[i], (unsigned)i * 7u + 100);
            l.a.src[i] = src2[i];
        }
        link_run(&l);
        ok = ok && l.b.ok_files == 2 * NF && l.b.done == 2 && l.a.done == 2 && !l.a.fatal &&
             !l.b.fatal && l.copies_sent > 0;
        for (int i = 0; i < NF; i++)
            ok = ok && l.b.stored_len[i] == SIZES[i] &&
                 (!SIZES[i] || !memcmp(l.b.stored[i], src2[i], SIZES[i]));
        if (!ok)
            fprintf(stderr, "resend seed %u (stalled %d lost %d): ok %d done %d/%d fatal %d (%s)\n",
                    seed, l.stalled, l.lost, l.b.ok_files, l.a.done, l.b.done, l.b.fatal,
                    l.b.fatal_msg);
        CHECK(ok);
        CHECK_EQ_INT(xfer_session_held(l.b.s), 0);
        /* the sender keeps nothing once the transfer ended */
        link_free(&l);
        for (int i = 0; i < NF; i++) {
            free(src[i]);
            free(src2[i]);
        }
    }
}

int main(void)
{
    test_negotiation();
    test_orders();
    test_slow_lane();
    test_rules();
    test_bounds();
    test_held_end();
    test_cancel_and_failure();
    test_resend_negotiation();
    test_resend_tags();
    test_resend_rules();
    test_resend_off();
    test_resend_random();
    return CHECK_DONE();
}
