/* test_transfer.c: the transfer engine (src/transfer) against every vector of
 * web/src/protocol/test-vectors.json (the single source: read at run time
 * with jansson, found next to this file's source path or given as argv[1]),
 * then simulated end-to-end transfers: several files, window bound, partial
 * accept, decline, resume, restart on a changed file, cancel from either
 * side, hash mismatch, read error, unsafe paths and protocol violations;
 * and the same with block digests (§5.8: cap "sha256-blocks"), whose
 * expected values come from an independent reference (one-shot OpenSSL
 * SHA256 per block) rather than from src/transfer/digest.c.
 *
 * The simulator mirrors web/src/protocol/sim.ts step for step, so the
 * transcripts must come out byte-identical and in the same order. */
#include <jansson.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "transfer/codec.h"
#include "transfer/digest.h"
#include "transfer/incoming.h"
#include "transfer/paths.h"
#include "transfer/session.h"

/* ---------------- helpers ---------------- */

static uint8_t *unhex(const char *h, size_t *len)
{
    size_t n = strlen(h) / 2;
    uint8_t *b = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(h + 2 * i, "%2x", &v);
        b[i] = (uint8_t)v;
    }
    *len = n;
    return b;
}

static char *tohex(const uint8_t *b, size_t n)
{
    char *h = malloc(2 * n + 1);
    for (size_t i = 0; i < n; i++)
        sprintf(h + 2 * i, "%02x", b[i]);
    h[2 * n] = 0;
    return h;
}

static void sha_hex(const uint8_t *b, size_t n, char out[65])
{
    uint8_t md[32];
    SHA256(b, n, md);
    char *h = tohex(md, 32);
    memcpy(out, h, 65);
    free(h);
}

static const char *S(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

#define B_SIZE ((size_t)XFER_HASH_BLOCK)

/* The block digest of §5.8, written from the spec: SHA-256 over the raw
 * SHA-256 of each 4 MiB block. */
static void ref_blocks_hex(const uint8_t *b, size_t n, char out[65])
{
    uint8_t *mds = malloc(32 * (n / B_SIZE + 1));
    size_t k = 0;
    for (size_t p = 0; p < n; p += B_SIZE, k++)
        SHA256(b + p, n - p < B_SIZE ? n - p : B_SIZE, mds + 32 * k);
    sha_hex(mds, 32 * k, out);
    free(mds);
}

/* What a peer with (blocks) or without the cap sends as end.sha256. */
static void file_digest_hex(bool blocks, const uint8_t *b, size_t n, char out[65])
{
    if (blocks)
        ref_blocks_hex(b, n, out);
    else
        sha_hex(b, n, out);
}

static uint8_t *pattern_bytes(size_t n)
{
    uint8_t *b = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(i % 251);
    return b;
}

/* ---------------- codec vectors ---------------- */

static void test_control(json_t *vectors)
{
    json_t *v;
    size_t i;
    json_array_foreach(json_object_get(vectors, "control"), i, v)
    {
        const char *name = S(v, "name");
        size_t len;
        uint8_t *bytes = unhex(S(v, "hex"), &len);
        CHECK_EQ_MEM(bytes, len, S(v, "text"), strlen(S(v, "text")));
        /* decode the canonical bytes, re-encode: identical */
        xfer_msg m;
        xfer_code code;
        int r = xfer_msg_decode(bytes, len, &m, &code);
        if (r != XFER_OK) fprintf(stderr, "control vector %s does not decode\n", name);
        CHECK_EQ_INT(r, XFER_OK);
        pd_buf out;
        pd_buf_init(&out, 1 << 20);
        CHECK_EQ_INT(xfer_msg_encode(&out, &m), XFER_OK);
        CHECK_EQ_MEM(out.data, out.len, bytes, len);
        /* the decoded message is the vector's value */
        json_t *back = json_loadb((const char *)out.data, out.len, 0, NULL);
        CHECK(back && json_equal(back, json_object_get(v, "value")));
        json_decref(back);
        xfer_msg_cleanup(&m);
        /* encode value: from the value written in another member order
         * and with escapes, the encoder gives exactly the vector's bytes */
        char *shuffled =
            json_dumps(json_object_get(v, "value"), JSON_SORT_KEYS | JSON_ENSURE_ASCII);
        r = xfer_msg_decode((const uint8_t *)shuffled, strlen(shuffled), &m, &code);
        CHECK_EQ_INT(r, XFER_OK);
        out.len = 0;
        CHECK_EQ_INT(xfer_msg_encode(&out, &m), XFER_OK);
        CHECK_EQ_MEM(out.data, out.len, bytes, len);
        xfer_msg_cleanup(&m);
        free(shuffled);
        pd_buf_reset(&out);
        free(bytes);
    }
    CHECK_EQ_INT(json_array_size(json_object_get(vectors, "control")), 21);
}

static void test_data(json_t *vectors)
{
    json_t *v;
    size_t i;
    json_array_foreach(json_object_get(vectors, "data"), i, v)
    {
        size_t len, plen;
        uint8_t *bytes = unhex(S(v, "hex"), &len);
        uint8_t *payload = unhex(S(v, "payloadHex"), &plen);
        uint64_t file = (uint64_t)json_integer_value(json_object_get(v, "file"));
        uint64_t offset = (uint64_t)json_integer_value(json_object_get(v, "offset"));
        uint8_t *enc = malloc(XFER_DATA_HEADER_LEN + plen);
        uint16_t tag = (uint16_t)json_integer_value(json_object_get(v, "tag"));
        xfer_data_header_encode(enc, (uint32_t)file, offset, tag);
        memcpy(enc + XFER_DATA_HEADER_LEN, payload, plen);
        CHECK_EQ_MEM(enc, XFER_DATA_HEADER_LEN + plen, bytes, len);
        xfer_data d;
        CHECK_EQ_INT(xfer_data_decode(bytes, len, &d), XFER_OK);
        CHECK_EQ_INT(d.file, file);
        CHECK(d.offset == offset);
        CHECK_EQ_INT(d.tag, tag);
        CHECK_EQ_MEM(d.payload, d.payload_len, payload, plen);
        free(enc);
        free(bytes);
        free(payload);
    }
}

/* Feeds an invalid message to a session that has seen the peer's hello:
 * it must answer a session error with the vector's code and die. */
static void invalid_in_session(const uint8_t *b, size_t len, bool binary, const char *want)
{
    xfer_session *s = xfer_session_create(NULL);
    const char *hello = "{\"t\":\"hello\",\"v\":2,\"maxMsg\":65536,\"win\":65536,\"caps\":[]}";
    xfer_session_feed_text(s, (const uint8_t *)hello, strlen(hello));
    if (binary)
        xfer_session_feed_binary(s, b, len);
    else
        xfer_session_feed_text(s, b, len);
    CHECK(xfer_session_closed_state(s));
    const uint8_t *out;
    size_t out_len;
    bool bin;
    bool got = false;
    while (xfer_session_next_output(s, &out, &out_len, &bin)) {
        xfer_msg m;
        xfer_code c;
        if (xfer_msg_decode(out, out_len, &m, &c) == XFER_OK && m.t == XFER_ERROR) {
            CHECK_EQ_STR(xfer_code_name(m.code), want);
            CHECK(!m.xfer[0]); /* session scope */
            got = true;
        }
        xfer_msg_cleanup(&m);
    }
    CHECK(got);
    xfer_event ev;
    bool fatal = false;
    while (xfer_session_next_event(s, &ev))
        fatal |= ev.type == XFER_EV_FATAL && !ev.by_peer;
    CHECK(fatal);
    xfer_session_destroy(s);
}

static void test_invalid(json_t *vectors)
{
    json_t *v;
    size_t i;
    json_array_foreach(json_object_get(vectors, "invalid"), i, v)
    {
        size_t len;
        uint8_t *b = unhex(S(v, "hex"), &len);
        /* exact-size copy so ASan sees any read past the end */
        uint8_t *exact = malloc(len ? len : 1);
        memcpy(exact, b, len);
        bool binary = !strcmp(S(v, "kind"), "binary");
        if (binary) {
            xfer_data d;
            CHECK_EQ_INT(xfer_data_decode(exact, len, &d), XFER_E_DECODE);
        } else {
            xfer_msg m;
            xfer_code code = XFER_CODE_INTERNAL;
            int r = xfer_msg_decode(exact, len, &m, &code);
            if (r != XFER_E_DECODE) fprintf(stderr, "invalid vector %s decoded\n", S(v, "name"));
            CHECK_EQ_INT(r, XFER_E_DECODE);
            CHECK_EQ_STR(xfer_code_name(code), S(v, "code"));
            CHECK(m.files == NULL && m.accepts == NULL && m.message == NULL && m.text == NULL);
        }
        invalid_in_session(exact, len, binary, S(v, "code"));
        free(exact);
        free(b);
    }
    CHECK_EQ_INT(json_array_size(json_object_get(vectors, "invalid")), 29);
}

static void test_paths(json_t *vectors)
{
    json_t *p = json_object_get(vectors, "paths"), *v;
    size_t i;
    json_array_foreach(json_object_get(p, "validNames"), i, v)
    {
        const char *r = xfer_path_name_problem(json_string_value(v), json_string_length(v));
        if (r) fprintf(stderr, "valid name #%zu refused: %s\n", i, r);
        CHECK(r == NULL);
    }
    json_array_foreach(json_object_get(p, "invalidNames"), i, v)
    {
        const char *r = xfer_path_name_problem(json_string_value(v), json_string_length(v));
        if (!r) fprintf(stderr, "invalid name #%zu accepted\n", i);
        CHECK(r != NULL);
    }
    json_array_foreach(json_object_get(p, "validDirs"), i, v)
    {
        const char *r = xfer_path_dir_problem(json_string_value(v), json_string_length(v));
        if (r) fprintf(stderr, "valid dir #%zu refused: %s\n", i, r);
        CHECK(r == NULL);
    }
    json_array_foreach(json_object_get(p, "invalidDirs"), i, v)
    {
        const char *r = xfer_path_dir_problem(json_string_value(v), json_string_length(v));
        if (!r) fprintf(stderr, "invalid dir #%zu accepted\n", i);
        CHECK(r != NULL);
    }
    json_array_foreach(json_object_get(p, "hidden"), i, v)
    {
        if (!xfer_path_hidden(json_string_value(v), json_string_length(v)))
            fprintf(stderr, "hidden path #%zu not seen as hidden\n", i);
        CHECK(xfer_path_hidden(json_string_value(v), json_string_length(v)));
    }
    json_array_foreach(json_object_get(p, "notHidden"), i, v)
    {
        if (xfer_path_hidden(json_string_value(v), json_string_length(v)))
            fprintf(stderr, "path #%zu seen as hidden\n", i);
        CHECK(!xfer_path_hidden(json_string_value(v), json_string_length(v)));
    }
    CHECK(json_array_size(json_object_get(p, "hidden")) >= 6);
    CHECK(json_array_size(json_object_get(p, "notHidden")) >= 5);
    /* rule 8 in UTF-8: the last byte of U+202E / U+2069 / U+FEFF */
    CHECK(xfer_path_name_problem("a\xe2\x80\xae", 4) != NULL);
    CHECK(xfer_path_name_problem("a\xe2\x81\xa9", 4) != NULL);
    CHECK(xfer_path_name_problem("\xef\xbb\xbf", 3) != NULL);
    CHECK(xfer_path_name_problem("a\xe2\x80\xaf", 4) == NULL); /* U+202F narrow no-break space */
    /* beyond the vectors: device names with NBSP (trimEnd), invalid UTF-8 */
    CHECK(xfer_path_name_problem("CON\xc2\xa0.txt", 9) != NULL);
    CHECK(xfer_path_name_problem("conout$", 7) != NULL);
    CHECK(xfer_path_name_problem("lpt\xc2\xb3.x", 7) != NULL);
    CHECK(xfer_path_name_problem("a\xed\xa0\x80", 4) != NULL); /* encoded surrogate */
    CHECK(xfer_path_name_problem("\xff", 1) != NULL);
    CHECK(xfer_path_name_problem("co", 2) == NULL);
    CHECK(xfer_path_name_problem("com", 3) == NULL);
}

/* ---------------- the simulator (web/src/protocol/sim.ts) ---------------- */

#define MAX_SIM_FILES 8

typedef struct sim_peer {
    const char *name;
    xfer_session *s;
    xfer_options opt;
    /* sender */
    const uint8_t *src[MAX_SIM_FILES];
    size_t src_len[MAX_SIM_FILES];
    int read_error_file; /* reads of this file fail; -1 none */
    int short_read_file; /* reads of this file past its start return a byte less; -1 none */
    /* receiver */
    xfer_incoming *incoming;
    uint8_t *stored[MAX_SIM_FILES];
    size_t stored_len[MAX_SIM_FILES];
    bool auto_accept;
    int corrupt_nth_binary; /* flip a bit of that received data message; -1 none */
    /* storage that confirms nothing by itself: writes wait here (file, end)
     * until the test confirms them with xfer_session_written */
    bool defer_writes;
    size_t n_deferred;
    uint32_t deferred_file[1024];
    uint64_t deferred_end[1024];
    int binary_seen;
    const uint32_t *accept_ids;
    size_t n_accept_ids;
    /* what happened */
    int file_done_ok, file_done_fail, transfer_done, cancelled, fatal, transfer_error, offers,
        declined, closes_failed;
    int opens[MAX_SIM_FILES];
    uint32_t offer_hidden[MAX_SIM_FILES]; /* the last offer's hidden_ids */
    size_t offer_hidden_len;
    xfer_code last_code;
    char last_message[256];
    uint64_t progress_out[MAX_SIM_FILES];
} sim_peer;

static void sim_init(sim_peer *p, const char *name, xfer_options opt)
{
    memset(p, 0, sizeof *p);
    p->name = name;
    p->opt = opt;
    p->s = xfer_session_create(&opt);
    p->corrupt_nth_binary = p->read_error_file = p->short_read_file = -1;
    p->auto_accept = true;
}

static void sim_reconnect(sim_peer *p)
{
    xfer_session_shutdown(p->s);
    xfer_session_destroy(p->s);
    p->s = xfer_session_create(&p->opt);
    memset(p->progress_out, 0, sizeof p->progress_out); /* a restart at 0 may go back */
}

static void sim_cleanup(sim_peer *p)
{
    xfer_session_destroy(p->s);
    xfer_incoming_destroy(p->incoming);
    for (int i = 0; i < MAX_SIM_FILES; i++)
        free(p->stored[i]);
}

static void sim_on_event(sim_peer *p, const xfer_event *e)
{
    switch (e->type) {
    case XFER_EV_OFFER:
        p->offers++;
        p->offer_hidden_len = e->hidden_len;
        for (size_t i = 0; i < e->hidden_len && i < MAX_SIM_FILES; i++)
            p->offer_hidden[i] = e->hidden_ids[i];
        if (!p->auto_accept) return;
        if (!xfer_incoming_same(p->incoming, e->xfer, e->files, e->files_len)) {
            xfer_incoming_destroy(p->incoming);
            p->incoming = xfer_incoming_create(e->xfer, e->files, e->files_len);
            for (int i = 0; i < MAX_SIM_FILES; i++) {
                free(p->stored[i]);
                p->stored[i] = NULL;
                p->stored_len[i] = 0;
            }
        }
        CHECK_EQ_INT(xfer_session_accept(p->s, p->incoming, p->accept_ids, p->n_accept_ids),
                     XFER_OK);
        return;
    case XFER_EV_OPEN:
        p->opens[e->file]++;
        CHECK(e->offset <= p->stored_len[e->file]);
        p->stored_len[e->file] = e->offset;
        return;
    case XFER_EV_WRITE: {
        if (p->defer_writes) {
            CHECK(p->n_deferred < 1024);
            if (p->n_deferred == 1024) return;
            p->deferred_file[p->n_deferred] = e->file;
            p->deferred_end[p->n_deferred++] = e->offset + e->len;
            return;
        }
        CHECK_EQ_INT(e->offset, p->stored_len[e->file]);
        size_t n = p->stored_len[e->file] + e->len;
        p->stored[e->file] = realloc(p->stored[e->file], n);
        memcpy(p->stored[e->file] + p->stored_len[e->file], e->data, e->len);
        p->stored_len[e->file] = n;
        xfer_session_written(p->s, e->xfer, e->file, n);
        return;
    }
    case XFER_EV_CLOSE:
        if (!e->ok) {
            p->stored_len[e->file] = 0;
            p->closes_failed++;
            return;
        }
        xfer_session_closed(p->s, e->xfer, e->file, true, NULL);
        return;
    case XFER_EV_FILE_DONE:
        if (e->ok)
            p->file_done_ok++;
        else {
            p->file_done_fail++;
            p->last_code = e->code;
        }
        return;
    case XFER_EV_PROGRESS:
        if (e->out) {
            CHECK(e->bytes >= p->progress_out[e->file]);
            p->progress_out[e->file] = e->bytes;
        }
        return;
    case XFER_EV_TRANSFER_DONE:
        p->transfer_done++;
        return;
    case XFER_EV_CANCELLED:
        p->cancelled++;
        return;
    case XFER_EV_DECLINED:
        p->declined++;
        return;
    case XFER_EV_FATAL:
        p->fatal++;
        p->last_code = e->code;
        return;
    case XFER_EV_TRANSFER_ERROR:
        p->transfer_error++;
        p->last_code = e->code;
        snprintf(p->last_message, sizeof p->last_message, "%s", e->message ? e->message : "");
        return;
    default:
        return;
    }
}

static void sim_pump(sim_peer *p)
{
    for (int guard = 0; guard < 1000000; guard++) {
        bool busy = false;
        xfer_read req;
        if (xfer_session_next_read(p->s, &req)) {
            busy = true;
            if ((int)req.file == p->read_error_file) {
                xfer_session_read_failed(p->s, &req, "disk on fire");
                continue;
            }
            CHECK(req.offset + req.len <= p->src_len[req.file]);
            uint8_t *b = malloc(req.len ? req.len : 1);
            memcpy(b, p->src[req.file] + req.offset, req.len);
            bool shrunk = (int)req.file == p->short_read_file && req.offset > 0 && req.len > 0;
            xfer_session_read_done(p->s, &req, b, shrunk ? req.len - 1 : req.len);
            free(b);
        }
        xfer_event ev;
        while (xfer_session_next_event(p->s, &ev)) {
            busy = true;
            sim_on_event(p, &ev);
        }
        if (!busy) return;
    }
    CHECK(!"pump did not settle");
}

typedef struct log_msg {
    int session;
    const char *from;
    bool binary;
    uint8_t *data;
    size_t len;
} log_msg;

typedef struct sim_log {
    log_msg *m;
    size_t n, cap;
    int session;
    /* a transcript's messages: a DATA message with "lane": k there is fed
     * on lane k (§5.10), absent = 0 */
    json_t *lanes_from;
} sim_log;

static void log_push(sim_log *l, const char *from, bool binary, const uint8_t *d, size_t len)
{
    if (!l) return;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->m = realloc(l->m, l->cap * sizeof *l->m);
    }
    log_msg *m = &l->m[l->n++];
    m->session = l->session;
    m->from = from;
    m->binary = binary;
    m->data = malloc(len ? len : 1);
    memcpy(m->data, d, len);
    m->len = len;
}

static void log_free(sim_log *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->m[i].data);
    free(l->m);
    memset(l, 0, sizeof *l);
}

typedef struct batch {
    log_msg *m;
    size_t n;
} batch;

static batch take_output(sim_peer *p)
{
    batch b = {0};
    size_t cap = 0;
    const uint8_t *d;
    size_t len;
    bool bin;
    while (xfer_session_next_output(p->s, &d, &len, &bin)) {
        if (b.n == cap) {
            cap = cap ? cap * 2 : 16;
            b.m = realloc(b.m, cap * sizeof *b.m);
        }
        b.m[b.n].binary = bin;
        b.m[b.n].data = malloc(len ? len : 1);
        memcpy(b.m[b.n].data, d, len);
        b.m[b.n].len = len;
        b.n++;
    }
    return b;
}

static void batch_free(batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        free(b->m[i].data);
    free(b->m);
}

static void deliver_lane(sim_peer *p, log_msg *m, unsigned lane)
{
    if (m->binary && p->binary_seen++ == p->corrupt_nth_binary && m->len > 100) {
        m->data[100] ^= 1; /* corrupted in flight, after the sender hashed it */
        xfer_session_feed_binary_lane(p->s, lane, m->data, m->len);
    } else if (m->binary)
        xfer_session_feed_binary_lane(p->s, lane, m->data, m->len);
    else
        xfer_session_feed_text(p->s, m->data, m->len);
}

static void deliver(sim_peer *p, log_msg *m)
{
    deliver_lane(p, m, 0);
}

/* The lane of the log's message i in the transcript, 0 when none. */
static unsigned log_lane(const sim_log *log, size_t i)
{
    if (!log || !log->lanes_from) return 0;
    json_t *lane = json_object_get(json_array_get(log->lanes_from, i), "lane");
    return json_is_integer(lane) ? (unsigned)json_integer_value(lane) : 0;
}

/* Exchanges messages until both are idle; cut_after >= 0 drops the channel
 * after that many messages from a. */
static void sim_run(sim_peer *a, sim_peer *b, sim_log *log, long cut_after)
{
    long delivered = 0;
    for (int round = 0; round < 1000000; round++) {
        sim_pump(a);
        batch fa = take_output(a);
        for (size_t i = 0; i < fa.n; i++) {
            if (cut_after >= 0 && delivered >= cut_after) {
                batch_free(&fa);
                return;
            }
            log_push(log, a->name, fa.m[i].binary, fa.m[i].data, fa.m[i].len);
            deliver_lane(b, &fa.m[i], fa.m[i].binary && log ? log_lane(log, log->n - 1) : 0);
            delivered++;
            sim_pump(b);
        }
        sim_pump(b);
        batch fb = take_output(b);
        for (size_t i = 0; i < fb.n; i++) {
            log_push(log, b->name, fb.m[i].binary, fb.m[i].data, fb.m[i].len);
            deliver(a, &fb.m[i]);
            sim_pump(a);
        }
        bool idle = fa.n == 0 && fb.n == 0;
        batch_free(&fa);
        batch_free(&fb);
        if (idle) return;
    }
    CHECK(!"run did not settle");
}

/* ---------------- transcripts ---------------- */

typedef struct manifest {
    xfer_file_entry e[MAX_SIM_FILES];
    uint8_t *content[MAX_SIM_FILES];
    size_t n;
} manifest;

static void manifest_from_json(json_t *files, bool blocks, manifest *mf)
{
    json_t *f;
    size_t i;
    memset(mf, 0, sizeof *mf);
    json_array_foreach(files, i, f)
    {
        xfer_file_entry *e = &mf->e[i];
        e->id = (uint32_t)i;
        e->name = (char *)S(f, "name");
        e->name_len = strlen(e->name);
        e->dir = (char *)S(f, "dir");
        e->dir_len = strlen(e->dir);
        e->mime = (char *)S(f, "mime");
        e->mime_len = strlen(e->mime);
        e->size = (uint64_t)json_integer_value(json_object_get(f, "size"));
        size_t len;
        mf->content[i] = unhex(S(f, "contentHex"), &len);
        CHECK_EQ_INT(len, e->size);
        char h[65];
        file_digest_hex(blocks, mf->content[i], len, h);
        CHECK_EQ_STR(h, S(f, "sha256"));
        mf->n = i + 1;
    }
}

static bool json_has_string(json_t *arr, const char *want)
{
    json_t *v;
    size_t i;
    json_array_foreach(arr, i, v) if (!strcmp(json_string_value(v), want)) return true;
    return false;
}

/* Options of a transcript's peer; `caps` (absent = the default, both) is
 * mapped to the no_*_cap switches, and nothing else may be in it. */
static xfer_options opts_from_json(json_t *o)
{
    xfer_options x = {0};
    x.max_msg = (uint64_t)json_integer_value(json_object_get(o, "maxMsg"));
    x.win = (uint64_t)json_integer_value(json_object_get(o, "win"));
    x.msg_size = (uint64_t)json_integer_value(json_object_get(o, "msgSize"));
    x.lanes = (uint32_t)json_integer_value(json_object_get(o, "lanes")); /* §5.10 */
    json_t *caps = json_object_get(o, "caps");
    if (caps) {
        x.no_resume_cap = !json_has_string(caps, XFER_CAP_RESUME);
        x.no_blocks_cap = !json_has_string(caps, XFER_CAP_BLOCKS);
        x.no_text_cap = !json_has_string(caps, XFER_CAP_TEXT);
        CHECK_EQ_INT(json_array_size(caps), !x.no_resume_cap + !x.no_blocks_cap + !x.no_text_cap);
    }
    return x;
}

static const char *XFER_ID = "0123456789abcdef0123456789abcdef";

static bool has_lanes(json_t *t)
{
    json_t *m;
    size_t i;
    json_array_foreach(json_object_get(t, "messages"), i,
                       m) if (json_object_get(m, "lane")) return true;
    return false;
}

/* A transcript with lanes (§5.10): its messages are in the order the
 * receiver got them, DATA on the lane its "lane" says (absent = 0), so
 * the receiver is replayed: the sender's messages are fed in that order
 * and the receiver must answer with the transcript's receiver messages,
 * byte for byte and in order, and store every file whole and verified. */
static void check_lane_transcript(json_t *t)
{
    const char *name = S(t, "name");
    xfer_options ro = opts_from_json(json_object_get(t, "receiver"));
    xfer_options so = opts_from_json(json_object_get(t, "sender"));
    bool blocks = !so.no_blocks_cap && !ro.no_blocks_cap;
    manifest mf;
    manifest_from_json(json_object_get(t, "files"), blocks, &mf);
    sim_peer b;
    sim_init(&b, "receiver", ro);
    sim_log got = {.session = 1};
    xfer_session_open(b.s);
    json_t *msgs = json_object_get(t, "messages"), *m;
    size_t i;
    json_array_foreach(msgs, i, m)
    {
        sim_pump(&b);
        batch out = take_output(&b);
        for (size_t k = 0; k < out.n; k++)
            log_push(&got, "receiver", out.m[k].binary, out.m[k].data, out.m[k].len);
        batch_free(&out);
        if (strcmp(S(m, "from"), "sender")) continue;
        size_t len;
        log_msg in = {.binary = !strcmp(S(m, "kind"), "binary")};
        in.data = unhex(S(m, "hex"), &len);
        in.len = len;
        json_t *lane = json_object_get(m, "lane");
        unsigned k = json_is_integer(lane) ? (unsigned)json_integer_value(lane) : 0;
        deliver_lane(&b, &in, in.binary ? k : 0);
        sim_pump(&b); /* write events point into in.data */
        free(in.data);
        /* every agreed lane counts as open from the hellos on */
        for (unsigned l = 1; l <= xfer_session_lanes(b.s); l++)
            xfer_session_lane_opened(b.s, l);
    }
    sim_pump(&b);
    batch out = take_output(&b);
    for (size_t k = 0; k < out.n; k++)
        log_push(&got, "receiver", out.m[k].binary, out.m[k].data, out.m[k].len);
    batch_free(&out);
    size_t r = 0;
    json_array_foreach(msgs, i, m)
    {
        if (strcmp(S(m, "from"), "receiver")) continue;
        size_t len;
        uint8_t *want = unhex(S(m, "hex"), &len);
        bool ok = r < got.n && got.m[r].len == len && !memcmp(got.m[r].data, want, len);
        if (!ok) fprintf(stderr, "lane transcript %s: receiver message %zu differs\n", name, r);
        CHECK(ok);
        free(want);
        r++;
    }
    CHECK_EQ_INT(got.n, r);
    for (size_t f = 0; f < mf.n; f++) {
        CHECK_EQ_MEM(b.stored[f] ? (const char *)b.stored[f] : "", b.stored_len[f],
                     (const char *)mf.content[f], mf.e[f].size);
        CHECK(b.incoming && xfer_incoming_verified(b.incoming, f));
    }
    CHECK_EQ_INT(b.fatal, 0);
    log_free(&got);
    sim_cleanup(&b);
    for (size_t f = 0; f < mf.n; f++)
        free(mf.content[f]);
}

static void check_transcript(json_t *t)
{
    if (has_lanes(t)) return check_lane_transcript(t);
    const char *name = S(t, "name");
    xfer_options so = opts_from_json(json_object_get(t, "sender"));
    xfer_options ro = opts_from_json(json_object_get(t, "receiver"));
    bool blocks = !so.no_blocks_cap && !ro.no_blocks_cap;
    manifest mf;
    manifest_from_json(json_object_get(t, "files"), blocks, &mf);
    sim_peer a, b;
    sim_init(&a, "sender", so);
    sim_init(&b, "receiver", ro);
    for (size_t i = 0; i < mf.n; i++) {
        a.src[i] = mf.content[i];
        a.src_len[i] = mf.e[i].size;
    }
    sim_log log = {.session = 1, .lanes_from = json_object_get(t, "messages")};
    xfer_session_open(a.s);
    xfer_session_open(b.s);
    sim_run(&a, &b, &log, -1);
    CHECK(xfer_session_block_digests(a.s) == blocks && xfer_session_block_digests(b.s) == blocks);
    CHECK_EQ_INT(xfer_session_offer(a.s, XFER_ID, mf.e, mf.n), XFER_OK);
    /* offer, start 0, data 0, end 0, start 1, end 1, start 2, data 2@0 | cut;
     * with block digests after the last data of pattern.bin, before its
     * end: below 4 MiB only the whole file is a provable prefix */
    bool resume = !strcmp(name, "resume-after-drop") || !strcmp(name, "resume-blocks");
    CHECK(resume || !strcmp(name, "three-files") || !strcmp(name, "three-files-blocks") ||
          !strcmp(name, "hidden-left-out") || !strcmp(name, "hidden-only"));
    sim_run(&a, &b, &log, resume ? (blocks ? 9 : 8) : -1);
    if (resume) {
        sim_reconnect(&a);
        sim_reconnect(&b);
        log.session = 2;
        xfer_session_open(a.s);
        xfer_session_open(b.s);
        sim_run(&a, &b, &log, -1);
        CHECK_EQ_INT(xfer_session_offer(a.s, XFER_ID, mf.e, mf.n), XFER_OK);
        sim_run(&a, &b, &log, -1);
    }
    json_t *msgs = json_object_get(t, "messages"), *m;
    size_t i;
    CHECK_EQ_INT(log.n, json_array_size(msgs));
    json_array_foreach(msgs, i, m)
    {
        if (i >= log.n) break;
        const log_msg *got = &log.m[i];
        size_t len;
        uint8_t *want = unhex(S(m, "hex"), &len);
        bool ok = got->session == json_integer_value(json_object_get(m, "session")) &&
                  !strcmp(got->from, S(m, "from")) &&
                  got->binary == !strcmp(S(m, "kind"), "binary") && got->len == len &&
                  memcmp(got->data, want, len) == 0;
        if (!ok) fprintf(stderr, "transcript %s: message %zu differs\n", name, i);
        CHECK(ok);
        free(want);
    }
    /* files with a hidden name (leftOut) are never opened nor stored */
    json_t *left_out = json_object_get(t, "leftOut");
    for (size_t f = 0; f < mf.n; f++) {
        bool out = false;
        json_t *v;
        size_t k;
        json_array_foreach(left_out, k, v) out |= (size_t)json_integer_value(v) == f;
        if (out) {
            CHECK_EQ_INT(b.opens[f], 0);
            CHECK_EQ_INT(b.stored_len[f], 0);
            CHECK(!b.incoming || !xfer_incoming_verified(b.incoming, f));
            continue;
        }
        CHECK_EQ_MEM(b.stored[f] ? (const char *)b.stored[f] : "", b.stored_len[f],
                     (const char *)mf.content[f], mf.e[f].size);
        CHECK(b.incoming && xfer_incoming_verified(b.incoming, f));
    }
    CHECK_EQ_INT(a.fatal + b.fatal, 0);
    log_free(&log);
    sim_cleanup(&a);
    sim_cleanup(&b);
    for (size_t f = 0; f < mf.n; f++)
        free(mf.content[f]);
}

static void test_transcripts(json_t *vectors)
{
    json_t *t;
    size_t i;
    size_t plain = 0;
    json_array_foreach(json_object_get(vectors, "transcripts"), i, t)
    {
        plain += !has_lanes(t);
        check_transcript(t);
    }
    CHECK_EQ_INT(plain, 6); /* and any number with lanes (§5.10) */
}

/* Feeds b to a digest in chunks of `chunk` bytes (so blocks are cut inside
 * a chunk), peeking after each (the peek must not disturb the running hash)
 * and checking covered() on the way. */
static void digest_feed(xfer_digest *d, const uint8_t *b, size_t n, size_t chunk)
{
    bool blocks = xfer_digest_blocks(d);
    char scratch[65];
    for (size_t p = 0; p < n; p += chunk) {
        size_t k = n - p < chunk ? n - p : chunk;
        xfer_digest_update(d, b + p, k);
        xfer_digest_peek_hex(d, scratch);
        uint64_t fed = p + k;
        CHECK(xfer_digest_covered(d) == (blocks ? fed / B_SIZE * B_SIZE : fed));
    }
    xfer_digest_finish(d);
    CHECK(xfer_digest_covered(d) == n);
}

static void test_digests(json_t *vectors)
{
    json_t *v;
    size_t i;
    json_array_foreach(json_object_get(vectors, "digests"), i, v)
    {
        size_t n = (size_t)json_integer_value(json_object_get(v, "size"));
        uint8_t *b = pattern_bytes(n);
        char h[65];
        /* the reference itself agrees with the vectors */
        sha_hex(b, n, h);
        CHECK_EQ_STR(h, S(v, "sha256"));
        ref_blocks_hex(b, n, h);
        CHECK_EQ_STR(h, S(v, "blocks"));
        for (int mode = 0; mode < 2; mode++) {
            const char *want = S(v, mode ? "blocks" : "sha256");
            xfer_digest *d = xfer_digest_create(mode == 1);
            CHECK(d && xfer_digest_blocks(d) == (mode == 1));
            digest_feed(d, b, n, n ? n : 1); /* one piece */
            xfer_digest_peek_hex(d, h);
            CHECK_EQ_STR(h, want);
            xfer_digest_reset(d);
            CHECK(xfer_digest_covered(d) == 0);
            digest_feed(d, b, n, 65519); /* odd pieces across block ends */
            xfer_digest_peek_hex(d, h);
            if (strcmp(h, want)) fprintf(stderr, "digest of %zu bytes, mode %d\n", n, mode);
            CHECK_EQ_STR(h, want);
            xfer_digest_destroy(d);
        }
        free(b);
    }
    CHECK_EQ_INT(json_array_size(json_object_get(vectors, "digests")), 7);
    /* rewind forgets the bytes of the unfinished block only */
    size_t n = 2 * B_SIZE + 5000;
    uint8_t *b = pattern_bytes(n);
    xfer_digest *d = xfer_digest_create(true);
    xfer_digest_update(d, b, B_SIZE + 3000);
    xfer_digest_update(d, b, 10); /* wrong bytes, in the unfinished block */
    CHECK(xfer_digest_covered(d) == B_SIZE);
    xfer_digest_rewind(d);
    CHECK(xfer_digest_covered(d) == B_SIZE);
    xfer_digest_update(d, b + B_SIZE, n - B_SIZE);
    xfer_digest_finish(d);
    xfer_digest_finish(d); /* twice: nothing more to fold */
    char got[65], want[65];
    xfer_digest_peek_hex(d, got);
    ref_blocks_hex(b, n, want);
    CHECK_EQ_STR(got, want);
    /* a non-empty file's block digest is not its SHA-256 (one block:
     * SHA-256 of its SHA-256) */
    uint8_t md[32];
    SHA256(b, 1000, md);
    xfer_digest_reset(d);
    xfer_digest_update(d, b, 1000);
    xfer_digest_finish(d);
    xfer_digest_peek_hex(d, got);
    sha_hex(md, 32, want);
    CHECK_EQ_STR(got, want);
    xfer_digest_destroy(d);
    free(b);
}

/* ---------------- scenarios (web/src/protocol/session.test.ts) ---------------- */

static const char *XF = "fedcba9876543210fedcba9876543210";

static uint8_t *rand_bytes(size_t n, uint32_t seed)
{
    uint8_t *b = malloc(n ? n : 1);
    uint32_t x = seed ? seed : 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b[i] = (uint8_t)x;
    }
    return b;
}

typedef struct fixture {
    sim_peer a, b;
    xfer_file_entry files[3];
    uint8_t *content[3];
    size_t n;
} fixture;

/* The receiver's options: maxMsg 32768 and a 64 KiB window unless given. */
static void fx_init_receiver(fixture *fx, xfer_options recv)
{
    static const size_t sizes[3] = {300000, 1000, 0};
    static const char *names[3] = {"big.bin", "small.txt", "empty"};
    static const char *dirs[3] = {"folder", "folder/sub", ""};
    memset(fx, 0, sizeof *fx);
    fx->n = 3;
    for (size_t i = 0; i < 3; i++) {
        fx->files[i] = (xfer_file_entry){.id = (uint32_t)i,
                                         .name = (char *)names[i],
                                         .name_len = strlen(names[i]),
                                         .dir = (char *)dirs[i],
                                         .dir_len = strlen(dirs[i]),
                                         .size = sizes[i],
                                         .mime = "",
                                         .mime_len = 0};
        fx->content[i] = rand_bytes(sizes[i], (uint32_t)i + 1);
    }
    /* plain SHA-256 digests (no "sha256-blocks"), as session.test.ts */
    sim_init(&fx->a, "A",
             (xfer_options){.max_msg = 262144,
                            .win = 1 << 20,
                            .msg_size = 65536,
                            .read_block = 100000,
                            .no_blocks_cap = true});
    sim_init(&fx->b, "B", recv);
    for (size_t i = 0; i < 3; i++) {
        fx->a.src[i] = fx->content[i];
        fx->a.src_len[i] = sizes[i];
    }
    xfer_session_open(fx->a.s);
    xfer_session_open(fx->b.s);
    sim_run(&fx->a, &fx->b, NULL, -1);
    CHECK(xfer_session_ready(fx->a.s) && xfer_session_ready(fx->b.s));
}

static void fx_init(fixture *fx)
{
    fx_init_receiver(fx, (xfer_options){.max_msg = 32768, .win = 65536, .no_blocks_cap = true});
}

static void fx_cleanup(fixture *fx)
{
    sim_cleanup(&fx->a);
    sim_cleanup(&fx->b);
    for (size_t i = 0; i < 3; i++)
        free(fx->content[i]);
}

static bool stored_equals(fixture *fx, size_t i)
{
    return fx->b.stored_len[i] == fx->files[i].size &&
           (fx->files[i].size == 0 ||
            memcmp(fx->b.stored[i], fx->content[i], fx->files[i].size) == 0);
}

static void test_all_files_and_window(void)
{
    fixture fx;
    fx_init(&fx);
    sim_log log = {.session = 1};
    CHECK_EQ_INT(xfer_session_offer(fx.a.s, XF, fx.files, 3), XFER_OK);
    sim_run(&fx.a, &fx.b, &log, -1);
    for (size_t i = 0; i < 3; i++)
        CHECK(stored_equals(&fx, i));
    CHECK_EQ_INT(fx.a.file_done_ok, 3);
    CHECK_EQ_INT(fx.b.file_done_ok, 3);
    CHECK_EQ_INT(fx.a.transfer_done, 1);
    CHECK_EQ_INT(fx.b.transfer_done, 1);
    CHECK_EQ_INT(fx.a.progress_out[0], 300000);
    /* never more than the receiver's window (65536) in flight, and data
     * messages never above its maxMsg (32768) */
    uint64_t sent = 0, acked[3] = {0};
    size_t data_total = 0;
    bool window_ok = true, size_ok = true;
    for (size_t i = 0; i < log.n; i++) {
        log_msg *m = &log.m[i];
        if (!strcmp(m->from, "A") && m->binary) {
            sent += m->len - 16;
            data_total += m->len - 16;
            size_ok &= m->len <= 32768;
            window_ok &= sent - (acked[0] + acked[1] + acked[2]) <= 65536;
        } else if (!strcmp(m->from, "B")) {
            xfer_msg c;
            xfer_code code;
            if (xfer_msg_decode(m->data, m->len, &c, &code) == XFER_OK && c.t == XFER_ACK)
                acked[c.file] = c.bytes;
            xfer_msg_cleanup(&c);
        }
    }
    CHECK(window_ok);
    CHECK(size_ok);
    CHECK_EQ_INT(data_total, 301000);
    log_free(&log);
    fx_cleanup(&fx);
}

/* §5.4 and PD_MAX_PEER_WIN: a receiver whose hello claims a 1 TiB window
 * and never acknowledges gets at most XFER_MAX_PEER_WIN in flight (the
 * sender keeps what is in flight until acknowledged, lane-resend §5.11). */
static void feed_str(xfer_session *s, const char *t);

static void test_peer_window_bounded(void)
{
    xfer_session *s = xfer_session_create(NULL);
    xfer_session_open(s);
    feed_str(s, "{\"t\":\"hello\",\"v\":2,\"maxMsg\":65536,\"win\":1099511627776,\"caps\":[]}");
    xfer_file_entry f = {.id = 0,
                         .name = "big.bin",
                         .name_len = 7,
                         .dir = "",
                         .size = 1ull << 30,
                         .mime = "",
                         .mime_len = 0};
    CHECK_EQ_INT(xfer_session_offer(s, XF, &f, 1), XFER_OK);
    char accept[128];
    snprintf(accept, sizeof accept,
             "{\"t\":\"accept\",\"xfer\":\"%s\",\"files\":[{\"id\":0,\"offset\":0}]}", XF);
    feed_str(s, accept);
    static uint8_t zeros[1 << 20];
    uint64_t data = 0;
    bool more = true;
    for (int turn = 0; turn < 100000 && more; turn++) {
        more = false;
        const uint8_t *d;
        size_t len;
        bool bin;
        while (xfer_session_next_output(s, &d, &len, &bin))
            if (bin) data += len - XFER_DATA_HEADER_LEN;
        xfer_event ev;
        while (xfer_session_next_event(s, &ev)) {
        }
        xfer_read r;
        if (xfer_session_next_read(s, &r)) {
            CHECK(r.len <= sizeof zeros);
            xfer_session_read_done(s, &r, zeros, r.len);
            more = true;
        }
    }
    CHECK(!xfer_session_closed_state(s));
    CHECK(data <= XFER_MAX_PEER_WIN);
    CHECK(data + 65536 > XFER_MAX_PEER_WIN); /* and it did send up to it */
    xfer_session_destroy(s);
}

static void test_partial_accept_and_decline(void)
{
    fixture fx;
    fx_init(&fx);
    static const uint32_t ids[1] = {1};
    fx.b.accept_ids = ids;
    fx.b.n_accept_ids = 1;
    CHECK_EQ_INT(xfer_session_offer(fx.a.s, XF, fx.files, 3), XFER_OK);
    sim_run(&fx.a, &fx.b, NULL, -1);
    CHECK(stored_equals(&fx, 1));
    CHECK_EQ_INT(fx.b.stored_len[0], 0);
    CHECK_EQ_INT(fx.a.file_done_ok, 1);
    CHECK_EQ_INT(fx.a.transfer_done, 1);
    fx_cleanup(&fx);

    fx_init(&fx);
    fx.b.auto_accept = false;
    CHECK_EQ_INT(xfer_session_offer(fx.a.s, XF, fx.files, 3), XFER_OK);
    sim_run(&fx.a, &fx.b, NULL, -1);
    CHECK_EQ_INT(fx.b.offers, 1);
    CHECK_EQ_INT(xfer_session_decline(fx.b.s), XFER_OK);
    sim_run(&fx.a, &fx.b, NULL, -1);
    CHECK_EQ_INT(fx.a.declined, 1);
    /* after a decline a new offer is possible */
    CHECK_EQ_INT(xfer_session_offer(fx.a.s, "00000000000000000000000000000001", fx.files, 3),
                 XFER_OK);
    /* but not while one is outstanding */
    CHECK_EQ_INT(xfer_session_offer(fx.a.s, XF, fx.files, 3), XFER_E_STATE);
    fx_cleanup(&fx);
}

static void test_hash_mismatch(void)
{
    fixture fx;
    fx_init(&fx);
    fx.b.corrupt_nth_binary = 2; /* the third data message: big.bin */
    CHECK_EQ_INT(xfer_session_offer(fx.a.s, XF, fx.files, 3), XFER_OK);
    sim_run(&fx.a, &fx.b, NULL, -1);
    CHECK(stored_equals(&fx, 1));
    CHECK(stored_equals(&fx, 2));
    CHECK_EQ_INT(fx.b.stored_len[0], 0); /* discarded */
    CHECK_EQ_INT(fx.b.file_done_fail, 1);
    CHECK_EQ_INT(fx.b.closes_failed, 1);
    CHECK_EQ_INT(fx.a.file_done_fail, 1);
    CHECK_EQ_STR(xfer_code_name(fx.a.last_code), "HASH_MISMATCH");
    CHECK_EQ_INT(fx.a.file_done_ok, 2);
    CHECK_EQ_INT(fx.a.transfer_done, 1);
    CHECK_EQ_INT(fx.b.transfer_done, 1);
    CHECK_EQ_INT(fx.a.fatal + fx.b.fatal, 0);
    fx_cleanup(&fx);
}

static void test_resume(void)
{
    /* drop after 5 messages: offer, start 0, 3 data of big.bin */
    fixture fx;
    fx_init(&fx);
    CHECK_EQ_INT(xfer_session_offer(fx.a.s, XF, fx.files, 3), XFER_OK);
    sim_run(&fx.a, &fx.b, NULL, 5);
    uint64_t held = xfer_incoming_held(fx.b.incoming, 0);
    CHECK(held > 0 && held < 300000);
    sim_reconnect(&fx.a);
    sim_reconnect(&fx.b);
    xfer_session_open(fx.a.s);
    xfer_session_open(fx.b.s);
    sim_run(&fx.a, &fx.b, NULL, -1);
    sim_log log = {.session = 2};
    CHECK_EQ_INT(xfer_session_offer(fx.a.s, XF, fx.files, 3), XFER_OK);
    sim_run(&fx.a, &fx.b, &log, -1);
    for (size_t i = 0; i < 3; i++)
        CHECK(stored_equals(&fx, i));
    /* the second session sent only what was missing */
    size_t data = 0;
    for (size_t i = 0; i < log.n; i++)
        if (log.m[i].binary) data += log.m[i].len - 16;
    CHECK_EQ_INT(data, 301000 - held);
    CHECK_EQ_INT(fx.b.transfer_done, 1);
    log_free(&log);
    fx_cleanup(&fx);

    /* the file changed on the sender: the prefix does not match, restart at 0 */
    fx_init(&fx);
    CHECK_EQ_INT(xfer_session_offer(fx.a.s, XF, fx.files, 3), XFER_OK);
    sim_run(&fx.a, &fx.b, NULL, 5);
    sim_reconnect(&fx.a);
    sim_reconnect(&fx.b);
    fx.content[0][0] ^= 1;
    xfer_session_open(fx.a.s);
    xfer_session_open(fx.b.s);
    sim_run(&fx.a, &fx.b, NULL, -1);
    log = (sim_log){.session = 2};
    CHECK_EQ_INT(xfer_session_offer(fx.a.s, XF, fx.files, 3), XFER_OK);
    sim_run(&fx.a, &fx.b, &log, -1);
    for (size_t i = 0; i < 3; i++)
        CHECK(stored_equals(&fx, i));
    data = 0;
    for (size_t i = 0; i < log.n; i++)
        if (log.m[i].binary) data += log.m[i].len - 16;
    CHECK_EQ_INT(data, 301000);
    log_free(&log);
    fx_cleanup(&fx);

    /* a receiver restarted from disk: prefix fed from the partial file */
    fx_init(&fx);
    xfer_incoming *inc = xfer_incoming_create(XF, fx.files, 3);
    xfer_incoming_prefix_update(inc, 0, fx.content[0], 70000);
    fx.b.incoming = inc;
    fx.b.stored[0] = malloc(70000);
    memcpy(fx.b.stored[0], fx.content[0], 70000);
    fx.b.stored_len[0] = 70000;
    log = (sim_log){.session = 1};
    CHECK_EQ_INT(xfer_session_offer(fx.a.s, XF, fx.files, 3), XFER_OK);
    sim_run(&fx.a, &fx.b, &log, -1);
    for (size_t i = 0; i < 3; i++)
        CHECK(stored_equals(&fx, i));
    data = 0;
    for (size_t i = 0; i < log.n; i++)
        if (log.m[i].binary) data += log.m[i].len - 16;
    CHECK_EQ_INT(data, 301000 - 70000);
    log_free(&log);
    fx_cleanup(&fx);
}

static void test_cancel(void)
{
    /* sender cancels mid-transfer */
    fixture fx;
    fx_init(&fx);
    CHECK_EQ_INT(xfer_session_offer(fx.a.s, XF, fx.files, 3), XFER_OK);
    sim_run(&fx.a, &fx.b, NULL, 4);
    xfer_session_cancel(fx.a.s, XF);
    sim_run(&fx.a, &fx.b, NULL, -1);
    CHECK_EQ_INT(fx.a.cancelled, 1);
    CHECK_EQ_INT(fx.b.cancelled, 1);
    CHECK_EQ_INT(fx.a.fatal + fx.b.fatal, 0);
    CHECK_EQ_INT(fx.b.closes_failed, 1);
    CHECK(xfer_session_ready(fx.a.s) && xfer_session_ready(fx.b.s));
    fx_cleanup(&fx);

    /* receiver cancels while data is in flight: stale data is dropped quietly */
    fx_init(&fx);
    CHECK_EQ_INT(xfer_session_offer(fx.a.s, XF, fx.files, 3), XFER_OK);
    sim_pump(&fx.a);
    batch offer = take_output(&fx.a);
    for (size_t i = 0; i < offer.n; i++)
        deliver(&fx.b, &offer.m[i]);
    sim_pump(&fx.b);
    batch acc = take_output(&fx.b);
    for (size_t i = 0; i < acc.n; i++)
        deliver(&fx.a, &acc.m[i]);
    sim_pump(&fx.a);
    batch inflight = take_output(&fx.a); /* start + data, not yet delivered */
    CHECK(inflight.n >= 2);
    deliver(&fx.b, &inflight.m[0]); /* start */
    sim_pump(&fx.b);
    xfer_session_cancel(fx.b.s, XF);
    for (size_t i = 1; i < inflight.n; i++) {
        deliver(&fx.b, &inflight.m[i]);
        sim_pump(&fx.b);
    }
    sim_run(&fx.a, &fx.b, NULL, -1);
    CHECK_EQ_INT(fx.a.cancelled, 1);
    CHECK_EQ_INT(fx.b.cancelled, 1);
    CHECK_EQ_INT(fx.a.fatal + fx.b.fatal, 0);
    batch_free(&offer);
    batch_free(&acc);
    batch_free(&inflight);
    fx_cleanup(&fx);
}

/* Reads of 100000 bytes and 32768-byte messages, a window that never limits
 * a read: most reads end inside a chunk, whose tail opens the next message.
 * Every data message but a file's last is full (as session.test.ts). */
static void test_full_chunks(void)
{
    for (int tight = 0; tight < 2; tight++) {
        fixture fx;
        fx_init_receiver(&fx, (xfer_options){.max_msg = 32768,
                                             .win = tight ? 32768 : 16u << 20,
                                             .no_blocks_cap = true});
        sim_log log = {.session = 1};
        CHECK_EQ_INT(xfer_session_offer(fx.a.s, XF, fx.files, 3), XFER_OK);
        sim_run(&fx.a, &fx.b, &log, -1);
        for (size_t i = 0; i < 3; i++)
            CHECK(stored_equals(&fx, i));
        const uint64_t payload = 32768 - 16;
        uint64_t next = 0;
        size_t n = 0;
        bool full = true;
        for (size_t i = 0; i < log.n; i++) {
            log_msg *m = &log.m[i];
            if (strcmp(m->from, "A") || !m->binary || m->data[7] != 0) continue; /* file 0 */
            uint64_t off = 0;
            for (int k = 8; k < 16; k++)
                off = off << 8 | m->data[k];
            full &= off == next && (m->len - 16 == payload || off + m->len - 16 == 300000);
            next = off + m->len - 16;
            n++;
        }
        CHECK(full);
        CHECK_EQ_INT(next, 300000);
        if (!tight) CHECK_EQ_INT(n, (300000 + payload - 1) / payload);
        log_free(&log);
        fx_cleanup(&fx);
    }
}

/* Reads of file 0 fail (read_error) or come back a byte short (the file
 * shrank while it was sent): that file fails alone with READ_ERROR, the
 * rest arrives. A 64 KiB window acks every 16 KiB, so acks for file 0 are
 * in flight at the failure: they are ignored, not a protocol error (§5.7). */
static void check_read_failure(bool short_read)
{
    fixture fx;
    fx_init(&fx);
    if (short_read)
        fx.a.short_read_file = 0;
    else
        fx.a.read_error_file = 0;
    CHECK_EQ_INT(xfer_session_offer(fx.a.s, XF, fx.files, 3), XFER_OK);
    sim_run(&fx.a, &fx.b, NULL, -1);
    CHECK_EQ_INT(fx.a.fatal, 0);
    CHECK_EQ_INT(fx.b.fatal, 0);
    CHECK(stored_equals(&fx, 1));
    CHECK_EQ_INT(fx.a.file_done_fail, 1);
    CHECK_EQ_INT(fx.b.file_done_fail, 1);
    CHECK_EQ_STR(xfer_code_name(fx.b.last_code), "READ_ERROR");
    CHECK_EQ_INT(fx.a.transfer_done, 1);
    CHECK_EQ_INT(fx.b.transfer_done, 1);
    fx_cleanup(&fx);
}

static void test_read_error_and_unsafe(void)
{
    check_read_failure(false);
    check_read_failure(true);

    fixture fx;
    static const char *bad[] = {"..", "con.txt", "a\x01", "x/y"};
    for (size_t k = 0; k < 4; k++) {
        fx_init(&fx);
        fx.files[1].name = (char *)bad[k];
        fx.files[1].name_len = strlen(bad[k]);
        CHECK_EQ_INT(xfer_session_offer(fx.a.s, XF, fx.files, 3), XFER_OK);
        sim_run(&fx.a, &fx.b, NULL, -1);
        CHECK_EQ_INT(fx.b.offers, 0);
        CHECK_EQ_INT(fx.b.transfer_error, 1);
        CHECK_EQ_INT(fx.a.transfer_error, 1);
        CHECK_EQ_STR(xfer_code_name(fx.a.last_code), "UNSAFE_PATH");
        CHECK_EQ_INT(fx.b.stored_len[0], 0);
        fx_cleanup(&fx);
    }
    /* hidden names (issue 11): left out of accept unless the receiver
     * allows them, the other files received; a bidi override (rule 8) is
     * refused either way */
    static const struct {
        const char *dir, *name;
        bool allow, refused;
    } hid[] = {
        {".config/autostart", "evil.desktop", false, false},
        {"a/.ssh", "authorized_keys", false, false},
        {"", ".bashrc", false, false},
        {"folder/.git", "config", false, false},
        {".config/autostart", "evil.desktop", true, false},
        {"", ".bashrc", true, false},
        {"docs",
         "invoice\xe2\x80\xae"
         "fdp.exe",
         true, true},
    };
    for (size_t k = 0; k < sizeof hid / sizeof hid[0]; k++) {
        fx_init_receiver(&fx, (xfer_options){.max_msg = 32768,
                                             .win = 65536,
                                             .no_blocks_cap = true,
                                             .allow_hidden = hid[k].allow});
        fx.files[1].name = (char *)hid[k].name;
        fx.files[1].name_len = strlen(hid[k].name);
        fx.files[1].dir = (char *)hid[k].dir;
        fx.files[1].dir_len = strlen(hid[k].dir);
        CHECK_EQ_INT(xfer_session_offer(fx.a.s, XF, fx.files, 3), XFER_OK);
        sim_run(&fx.a, &fx.b, NULL, -1);
        CHECK_EQ_INT(fx.b.offers, hid[k].refused ? 0 : 1);
        CHECK_EQ_INT(fx.a.transfer_error, hid[k].refused ? 1 : 0);
        if (hid[k].refused) {
            CHECK_EQ_STR(xfer_code_name(fx.a.last_code), "UNSAFE_PATH");
        } else {
            bool left_out = !hid[k].allow;
            CHECK_EQ_INT(fx.b.offer_hidden_len, left_out ? 1 : 0);
            if (left_out) CHECK_EQ_INT(fx.b.offer_hidden[0], 1);
            /* the others received, the hidden one never opened */
            CHECK(stored_equals(&fx, 0) && stored_equals(&fx, 2));
            CHECK_EQ_INT(fx.b.opens[1], left_out ? 0 : 1);
            CHECK(left_out ? fx.b.stored_len[1] == 0 : stored_equals(&fx, 1));
            CHECK_EQ_INT(fx.a.file_done_ok, left_out ? 2 : 3);
            CHECK_EQ_INT(fx.a.transfer_done, 1);
            CHECK_EQ_INT(fx.b.transfer_done, 1);
            CHECK(xfer_incoming_verified(fx.b.incoming, 0) &&
                  xfer_incoming_verified(fx.b.incoming, 2));
            CHECK(xfer_incoming_verified(fx.b.incoming, 1) == !left_out);
        }
        CHECK_EQ_INT(fx.a.fatal + fx.b.fatal, 0);
        fx_cleanup(&fx);
    }
    /* a caller that asks for the hidden file anyway does not get it; asked
     * for alone, the offer is declined */
    static const uint32_t every[] = {0, 1, 2}, only_hidden[] = {1};
    for (int k = 0; k < 2; k++) {
        fx_init(&fx);
        fx.files[1].name = ".envrc";
        fx.files[1].name_len = strlen(".envrc");
        fx.b.accept_ids = k == 0 ? every : only_hidden;
        fx.b.n_accept_ids = k == 0 ? 3 : 1;
        CHECK_EQ_INT(xfer_session_offer(fx.a.s, XF, fx.files, 3), XFER_OK);
        sim_run(&fx.a, &fx.b, NULL, -1);
        CHECK_EQ_INT(fx.b.opens[1], 0);
        CHECK_EQ_INT(fx.b.stored_len[1], 0);
        CHECK_EQ_INT(fx.a.declined, k == 0 ? 0 : 1);
        CHECK_EQ_INT(fx.a.file_done_ok, k == 0 ? 2 : 0);
        CHECK_EQ_INT(fx.a.fatal + fx.b.fatal, 0);
        fx_cleanup(&fx);
    }
    /* every file hidden: nothing to accept, refused with that reason */
    fx_init(&fx);
    fx.files[0].dir = ".git";
    fx.files[0].dir_len = 4;
    fx.files[1].dir = "a/.ssh";
    fx.files[1].dir_len = 6;
    fx.files[2].name = ".DS_Store";
    fx.files[2].name_len = strlen(".DS_Store");
    CHECK_EQ_INT(xfer_session_offer(fx.a.s, XF, fx.files, 3), XFER_OK);
    sim_run(&fx.a, &fx.b, NULL, -1);
    CHECK_EQ_INT(fx.b.offers, 0);
    CHECK_EQ_INT(fx.a.transfer_error, 1);
    CHECK_EQ_INT(fx.b.transfer_error, 1);
    CHECK_EQ_STR(xfer_code_name(fx.a.last_code), "UNSAFE_PATH");
    CHECK_EQ_STR(fx.a.last_message, "unsafe path: every file has a hidden name (leading dot)");
    CHECK_EQ_STR(fx.b.last_message, fx.a.last_message);
    CHECK_EQ_INT(fx.b.opens[0] + fx.b.opens[1] + fx.b.opens[2], 0);
    fx_cleanup(&fx);
    /* collisions: a duplicate path, and a file that is also a directory */
    xfer_file_entry f[2] = {
        {.id = 0, .name = "a", .name_len = 1, .dir = "d", .dir_len = 1, .mime = ""},
        {.id = 1, .name = "a", .name_len = 1, .dir = "d", .dir_len = 1, .mime = ""},
    };
    char buf[128];
    const char *problem;
    CHECK_EQ_INT(xfer_path_manifest_check(f, 2, buf, sizeof buf, &problem), XFER_OK);
    CHECK(problem && !strcmp(problem, "file 1: duplicate path"));
    f[1].name = "x";
    f[0].dir = "";
    f[0].dir_len = 0;
    f[0].name = "d";
    CHECK_EQ_INT(xfer_path_manifest_check(f, 2, buf, sizeof buf, &problem), XFER_OK);
    CHECK(problem != NULL);
    f[0].name = "dd";
    f[0].name_len = 2;
    CHECK_EQ_INT(xfer_path_manifest_check(f, 2, buf, sizeof buf, &problem), XFER_OK);
    CHECK(problem == NULL);
}

static void feed_str(xfer_session *s, const char *t)
{
    xfer_session_feed_text(s, (const uint8_t *)t, strlen(t));
}

static void test_protocol_violations(void)
{
    static const char *hello =
        "{\"t\":\"hello\",\"v\":2,\"maxMsg\":65536,\"win\":65536,\"caps\":[]}";
    /* first message not hello */
    xfer_session *s = xfer_session_create(NULL);
    feed_str(s, "{\"t\":\"cancel\",\"xfer\":\"0123456789abcdef0123456789abcdef\"}");
    CHECK(xfer_session_closed_state(s));
    const uint8_t *d;
    size_t len;
    bool bin;
    CHECK(xfer_session_next_output(s, &d, &len, &bin));
    CHECK_EQ_MEM(
        d, len,
        "{\"t\":\"error\",\"code\":\"PROTOCOL\",\"message\":\"first message must be hello\"}",
        strlen(
            "{\"t\":\"error\",\"code\":\"PROTOCOL\",\"message\":\"first message must be hello\"}"));
    xfer_session_destroy(s);
    /* second hello, version 0, version 1 (protocol 2 has no common version
     * with a peer that does not authenticate, issue 14), maxMsg too small,
     * win below maxMsg, too big */
    static const char *bad[] = {
        NULL,
        "{\"t\":\"hello\",\"v\":0,\"maxMsg\":65536,\"win\":65536,\"caps\":[]}",
        "{\"t\":\"hello\",\"v\":1,\"maxMsg\":65536,\"win\":65536,\"caps\":[]}",
        "{\"t\":\"hello\",\"v\":2,\"maxMsg\":100,\"win\":65536,\"caps\":[]}",
        "{\"t\":\"hello\",\"v\":2,\"maxMsg\":65536,\"win\":100,\"caps\":[]}",
    };
    static const char *codes[] = {"PROTOCOL", "VERSION", "VERSION", "PROTOCOL", "PROTOCOL"};
    for (int k = 0; k < 5; k++) {
        s = xfer_session_create(NULL);
        feed_str(s, hello);
        if (bad[k]) {
            xfer_session_destroy(s);
            s = xfer_session_create(NULL);
            feed_str(s, bad[k]);
        } else {
            feed_str(s, hello);
        }
        CHECK(xfer_session_closed_state(s));
        xfer_event ev;
        bool got = false;
        while (xfer_session_next_event(s, &ev))
            if (ev.type == XFER_EV_FATAL) got = !strcmp(xfer_code_name(ev.code), codes[k]);
        CHECK(got);
        xfer_session_destroy(s);
    }
    /* a control message over our maxMsg is TOO_BIG */
    xfer_options o = {.max_msg = 16384, .win = 16384};
    s = xfer_session_create(&o);
    feed_str(s, hello);
    char *big = malloc(20000);
    memset(big, ' ', 20000);
    xfer_session_feed_text(s, (const uint8_t *)big, 20000);
    free(big);
    xfer_event ev;
    bool too_big = false;
    while (xfer_session_next_event(s, &ev))
        too_big |= ev.type == XFER_EV_FATAL && ev.code == XFER_CODE_TOO_BIG;
    CHECK(too_big);
    xfer_session_destroy(s);
    /* data at the wrong offset is fatal */
    fixture fx;
    fx_init(&fx);
    CHECK_EQ_INT(xfer_session_offer(fx.a.s, XF, fx.files, 3), XFER_OK);
    sim_run(&fx.a, &fx.b, NULL, 2); /* offer, start */
    uint8_t msg[20];
    xfer_data_header_encode(msg, 0, 5, 0);
    memset(msg + 16, 0, 4);
    xfer_session_feed_binary(fx.b.s, msg, sizeof msg);
    CHECK(xfer_session_closed_state(fx.b.s));
    fx_cleanup(&fx);
    /* a peer's session error ends our session too */
    s = xfer_session_create(NULL);
    feed_str(s, hello);
    feed_str(s, "{\"t\":\"error\",\"code\":\"SOMETHING_NEW\",\"message\":\"x\"}");
    bool peer = false;
    while (xfer_session_next_event(s, &ev))
        peer |= ev.type == XFER_EV_FATAL && ev.by_peer && ev.code == XFER_CODE_INTERNAL;
    CHECK(peer);
    CHECK(xfer_session_closed_state(s));
    xfer_session_destroy(s);
    /* offers that do not fit the peer's maxMsg are refused locally */
    s = xfer_session_create(NULL);
    feed_str(s, "{\"t\":\"hello\",\"v\":2,\"maxMsg\":16384,\"win\":16384,\"caps\":[]}");
    xfer_file_entry *many = calloc(1000, sizeof *many);
    for (uint32_t i = 0; i < 1000; i++)
        many[i] = (xfer_file_entry){
            .id = i, .name = "a-rather-long-file-name.txt", .name_len = 27, .dir = "", .mime = ""};
    CHECK_EQ_INT(xfer_session_offer(s, XF, many, 1000), XFER_E_TOO_BIG);
    free(many);
    xfer_session_destroy(s);
}

/* ---------------- text snippets and names (§5.9, issue 17) ---------------- */

static const char *TID = "fedcba9876543210fedcba9876543210";

/* Events of one side that the text tests look at. */
typedef struct text_seen {
    int ready, texts, acked, fatal;
    xfer_code fatal_code;
    char peer_name[XFER_MAX_PEER_NAME + 1];
    bool has_peer_name;
    uint8_t text[XFER_MAX_TEXT];
    size_t text_len;
    char id[XFER_ID_LEN + 1];
} text_seen;

static void text_drain_events(xfer_session *s, text_seen *w)
{
    xfer_event ev;
    while (xfer_session_next_event(s, &ev)) {
        if (ev.type == XFER_EV_READY) {
            w->ready++;
            w->has_peer_name = ev.peer_name != NULL;
            if (ev.peer_name) {
                memcpy(w->peer_name, ev.peer_name, ev.peer_name_len);
                w->peer_name[ev.peer_name_len] = 0;
            }
        } else if (ev.type == XFER_EV_TEXT) {
            w->texts++;
            memcpy(w->text, ev.data, ev.len);
            w->text_len = ev.len;
            memcpy(w->id, ev.xfer, sizeof w->id);
        } else if (ev.type == XFER_EV_TEXT_ACKED) {
            w->acked++;
            memcpy(w->id, ev.xfer, sizeof w->id);
        } else if (ev.type == XFER_EV_FATAL) {
            w->fatal++;
            w->fatal_code = ev.code;
        }
    }
}

/* Moves every queued message between a and b until both are quiet; logs
 * the text messages (as sim_run does) when log is given. */
static void text_pump(xfer_session *a, xfer_session *b, text_seen *wa, text_seen *wb, sim_log *log)
{
    for (int round = 0; round < 100; round++) {
        bool moved = false;
        for (int side = 0; side < 2; side++) {
            xfer_session *from = side ? b : a, *to = side ? a : b;
            const uint8_t *d;
            size_t len;
            bool bin;
            while (xfer_session_next_output(from, &d, &len, &bin)) {
                moved = true;
                log_push(log, side ? "b" : "a", bin, d, len);
                if (bin)
                    xfer_session_feed_binary(to, d, len);
                else
                    xfer_session_feed_text(to, d, len);
            }
        }
        text_drain_events(a, wa);
        text_drain_events(b, wb);
        if (!moved) return;
    }
    CHECK(!"text_pump did not settle");
}

/* The last output of s, as a string (error messages: ASCII). */
static bool text_last_output(xfer_session *s, char *out, size_t cap)
{
    const uint8_t *d;
    size_t len;
    bool bin, any = false;
    while (xfer_session_next_output(s, &d, &len, &bin)) {
        size_t n = len < cap - 1 ? len : cap - 1;
        memcpy(out, d, n);
        out[n] = 0;
        any = true;
    }
    return any;
}

/* The `texts` vectors (§5.9): two sessions with the caps and names of the
 * vector, opened, then each snippet sent in turn; every message, in order,
 * byte for byte, and each snippet arrives whole and is acknowledged. */
static void test_text_vectors(json_t *vectors)
{
    json_t *t;
    size_t i;
    json_array_foreach(json_object_get(vectors, "texts"), i, t)
    {
        xfer_options o[2];
        for (int k = 0; k < 2; k++) {
            json_t *p = json_object_get(t, k ? "b" : "a");
            o[k] = opts_from_json(p);
            o[k].name = S(p, "name");
        }
        xfer_session *a = xfer_session_create(&o[0]), *b = xfer_session_create(&o[1]);
        CHECK(a && b);
        if (!a || !b) return;
        text_seen wa = {0}, wb = {0};
        sim_log log = {.session = 1};
        xfer_session_open(a);
        xfer_session_open(b);
        text_pump(a, b, &wa, &wb, &log);
        CHECK_EQ_STR(wa.peer_name, S(json_object_get(t, "b"), "name"));
        CHECK_EQ_STR(wb.peer_name, S(json_object_get(t, "a"), "name"));
        json_t *send;
        size_t k;
        json_array_foreach(json_object_get(t, "sends"), k, send)
        {
            bool from_a = !strcmp(S(send, "from"), "a");
            json_t *text = json_object_get(send, "text");
            int acked_before = from_a ? wa.acked : wb.acked;
            CHECK_EQ_INT(xfer_session_send_text(from_a ? a : b, S(send, "id"),
                                                json_string_value(text), json_string_length(text)),
                         XFER_OK);
            text_pump(a, b, &wa, &wb, &log);
            text_seen *to = from_a ? &wb : &wa;
            CHECK_EQ_MEM(to->text, to->text_len, json_string_value(text), json_string_length(text));
            CHECK_EQ_STR(to->id, S(send, "id"));
            CHECK_EQ_INT(from_a ? wa.acked : wb.acked, acked_before + 1);
        }
        json_t *msgs = json_object_get(t, "messages"), *m;
        CHECK_EQ_INT(log.n, json_array_size(msgs));
        json_array_foreach(msgs, k, m)
        {
            if (k >= log.n) break;
            size_t len;
            uint8_t *want = unhex(S(m, "hex"), &len);
            bool ok = !strcmp(log.m[k].from, S(m, "from")) && !log.m[k].binary &&
                      log.m[k].len == len && memcmp(log.m[k].data, want, len) == 0;
            if (!ok) fprintf(stderr, "texts %s: message %zu differs\n", S(t, "name"), k);
            CHECK(ok);
            free(want);
        }
        CHECK_EQ_INT(wa.fatal + wb.fatal, 0);
        log_free(&log);
        xfer_session_destroy(a);
        xfer_session_destroy(b);
    }
    CHECK_EQ_INT(json_array_size(json_object_get(vectors, "texts")), 1);
}

static void test_text(void)
{
    /* names both ways, a snippet each way, each acknowledged */
    xfer_options oa = {.name = "Blue Fox 🦊"}, ob = {.name = "laptop"};
    xfer_session *a = xfer_session_create(&oa), *b = xfer_session_create(&ob);
    text_seen wa = {0}, wb = {0};
    xfer_session_open(a);
    xfer_session_open(b);
    sim_log log = {.session = 1};
    text_pump(a, b, &wa, &wb, &log);
    CHECK(wa.ready == 1 && wb.ready == 1);
    CHECK(wb.has_peer_name && !strcmp(wb.peer_name, "Blue Fox 🦊"));
    CHECK(wa.has_peer_name && !strcmp(wa.peer_name, "laptop"));
    CHECK(xfer_session_text_supported(a) && xfer_session_text_supported(b));
    CHECK(log.n == 2);
    static const char hello_a[] = "{\"t\":\"hello\",\"v\":2,\"maxMsg\":262144,\"win\":16777216,"
                                  "\"caps\":[\"resume\",\"sha256-blocks\",\"text\"],"
                                  "\"name\":\"Blue Fox 🦊\"}";
    if (log.n) CHECK_EQ_MEM(log.m[0].data, log.m[0].len, hello_a, strlen(hello_a));
    /* every byte arrives as it was, U+0000 and escape sequences included:
     * escaping for a terminal is the display's business */
    static const char odd[] = "a\0b\x1b[2J\r\n\"\\ é 😀";
    CHECK_EQ_INT(xfer_session_send_text(a, TID, odd, sizeof odd - 1), XFER_OK);
    text_pump(a, b, &wa, &wb, &log);
    CHECK_EQ_INT(wb.texts, 1);
    CHECK_EQ_MEM(wb.text, wb.text_len, odd, sizeof odd - 1);
    CHECK_EQ_STR(wb.id, TID);
    CHECK_EQ_INT(wa.acked, 1);
    CHECK_EQ_STR(wa.id, TID);
    static const char text_msg[] = "{\"t\":\"text\",\"id\":\"fedcba9876543210fedcba9876543210\","
                                   "\"text\":\"a\\u0000b\\u001b[2J\\r\\n\\\"\\\\ é 😀\"}";
    static const char ack_msg[] =
        "{\"t\":\"text-ack\",\"id\":\"fedcba9876543210fedcba9876543210\"}";
    CHECK(log.n == 4);
    if (log.n == 4) {
        CHECK_EQ_MEM(log.m[2].data, log.m[2].len, text_msg, strlen(text_msg));
        CHECK_EQ_MEM(log.m[3].data, log.m[3].len, ack_msg, strlen(ack_msg));
    }
    /* the other way, the largest one */
    char *max = malloc(XFER_MAX_TEXT);
    memset(max, 'x', XFER_MAX_TEXT);
    CHECK_EQ_INT(xfer_session_send_text(b, TID, max, XFER_MAX_TEXT), XFER_OK);
    text_pump(a, b, &wa, &wb, NULL);
    CHECK_EQ_INT(wa.texts, 1);
    CHECK_EQ_INT(wa.text_len, XFER_MAX_TEXT);
    CHECK_EQ_INT(wb.acked, 1);
    /* refused locally: empty, over the limit, not UTF-8, a bad id */
    CHECK_EQ_INT(xfer_session_send_text(a, TID, "", 0), XFER_E_ARG);
    CHECK_EQ_INT(xfer_session_send_text(a, TID, max, XFER_MAX_TEXT + 1), XFER_E_ARG);
    CHECK_EQ_INT(xfer_session_send_text(a, TID, "\xff", 1), XFER_E_ARG);
    CHECK_EQ_INT(xfer_session_send_text(a, "FEDCBA9876543210FEDCBA9876543210", "x", 1), XFER_E_ARG);
    /* at most XFER_MAX_TEXT_PENDING waiting for their ack, ids unique */
    char id[XFER_ID_LEN + 1];
    for (unsigned k = 0; k <= XFER_MAX_TEXT_PENDING; k++) {
        snprintf(id, sizeof id, "%032x", k);
        int r = xfer_session_send_text(a, id, "x", 1);
        CHECK_EQ_INT(r, k < XFER_MAX_TEXT_PENDING ? XFER_OK : XFER_E_STATE);
    }
    CHECK_EQ_INT(xfer_session_send_text(a, "00000000000000000000000000000000", "y", 1), XFER_E_ARG);
    text_pump(a, b, &wa, &wb, NULL);
    CHECK_EQ_INT(wa.acked, 1 + XFER_MAX_TEXT_PENDING);
    CHECK_EQ_INT(xfer_session_send_text(a, id, "x", 1), XFER_OK); /* room again */
    text_pump(a, b, &wa, &wb, NULL);
    CHECK_EQ_INT(wa.fatal + wb.fatal, 0);
    /* a text-ack for no text of ours is PROTOCOL */
    feed_str(a, "{\"t\":\"text-ack\",\"id\":\"11111111111111111111111111111111\"}");
    char out[256];
    CHECK(text_last_output(a, out, sizeof out));
    CHECK_EQ_STR(out, "{\"t\":\"error\",\"code\":\"PROTOCOL\",\"message\":\"text-ack for no text "
                      "sent\"}");
    CHECK(xfer_session_closed_state(a));
    xfer_session_destroy(a);
    xfer_session_destroy(b);
    log_free(&log);

    /* a peer without "text": nothing is sent to it, and a text from it is
     * PROTOCOL; no name: none in the event */
    xfer_options old = {.no_text_cap = true};
    a = xfer_session_create(NULL);
    b = xfer_session_create(&old);
    memset(&wa, 0, sizeof wa);
    memset(&wb, 0, sizeof wb);
    xfer_session_open(a);
    xfer_session_open(b);
    text_pump(a, b, &wa, &wb, NULL);
    CHECK(!wa.has_peer_name && !wb.has_peer_name);
    CHECK(!xfer_session_text_supported(a) && !xfer_session_text_supported(b));
    CHECK_EQ_INT(xfer_session_send_text(a, TID, "hi", 2), XFER_E_UNSUPPORTED);
    CHECK_EQ_INT(xfer_session_send_text(b, TID, "hi", 2), XFER_E_UNSUPPORTED);
    CHECK(!text_last_output(a, out, sizeof out));
    feed_str(b, "{\"t\":\"text\",\"id\":\"fedcba9876543210fedcba9876543210\",\"text\":\"hi\"}");
    text_drain_events(b, &wb);
    CHECK(wb.fatal == 1 && wb.fatal_code == XFER_CODE_PROTOCOL && wb.texts == 0);
    CHECK(text_last_output(b, out, sizeof out));
    CHECK(strstr(out, "text without the text capability") != NULL);
    xfer_session_destroy(a);
    xfer_session_destroy(b);

    /* malformed or early texts from a peer: a clear PROTOCOL error */
    static const char hello[] =
        "{\"t\":\"hello\",\"v\":2,\"maxMsg\":262144,\"win\":16777216,\"caps\":[\"text\"]}";
    char *over = malloc(XFER_MAX_TEXT + 64);
    int n = snprintf(over, 64, "{\"t\":\"text\",\"id\":\"%s\",\"text\":\"", TID);
    memset(over + n, 'x', XFER_MAX_TEXT + 1);
    memcpy(over + n + XFER_MAX_TEXT + 1, "\"}", 2);
    size_t over_len = (size_t)n + XFER_MAX_TEXT + 3;
    struct {
        const uint8_t *msg;
        size_t len;
        bool before_hello;
        const char *message;
    } bad[] = {
        {(const uint8_t
              *)"{\"t\":\"text\",\"id\":\"fedcba9876543210fedcba9876543210\",\"text\":\"hi\"}",
         0, true, "first message must be hello"},
        {(const uint8_t *)over, over_len, false, "malformed control message"},
        {(const uint8_t
              *)"{\"t\":\"text\",\"id\":\"fedcba9876543210fedcba9876543210\",\"text\":\"\"}",
         0, false, "malformed control message"},
        {(const uint8_t *)"{\"t\":\"text\",\"id\":\"fedcba9876543210fedcba9876543210\","
                          "\"text\":\"\xff\xfe\"}",
         0, false, "malformed control message"},
        {(const uint8_t *)"{\"t\":\"text\",\"id\":\"fedcba9876543210fedcba9876543210\","
                          "\"text\":\"\\ud800\"}",
         0, false, "malformed control message"},
        {(const uint8_t *)"{\"t\":\"text\",\"id\":\"x\",\"text\":\"hi\"}", 0, false,
         "malformed control message"},
        {(const uint8_t *)"{\"t\":\"text\",\"id\":\"fedcba9876543210fedcba9876543210\",\"text\":5}",
         0, false, "malformed control message"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        xfer_session *s = xfer_session_create(NULL);
        xfer_session_open(s);
        CHECK(text_last_output(s, out, sizeof out));
        if (!bad[k].before_hello) feed_str(s, hello);
        xfer_session_feed_text(s, bad[k].msg,
                               bad[k].len ? bad[k].len : strlen((const char *)bad[k].msg));
        CHECK(xfer_session_closed_state(s));
        char want[160];
        snprintf(want, sizeof want, "{\"t\":\"error\",\"code\":\"PROTOCOL\",\"message\":\"%s\"}",
                 bad[k].message);
        CHECK(text_last_output(s, out, sizeof out));
        if (strcmp(out, want)) fprintf(stderr, "text case %zu: %s\n", k, out);
        CHECK_EQ_STR(out, want);
        xfer_session_destroy(s);
    }
    free(over);

    /* a text that does not fit the peer's maxMsg once encoded */
    xfer_session *s = xfer_session_create(NULL);
    xfer_session_open(s);
    feed_str(s, "{\"t\":\"hello\",\"v\":2,\"maxMsg\":16384,\"win\":16384,\"caps\":[\"text\"]}");
    CHECK_EQ_INT(xfer_session_send_text(s, TID, max, 20000), XFER_E_TOO_BIG);
    memset(max, 1, 4000); /* 4000 bytes, 24000 escaped as \u0001 */
    CHECK_EQ_INT(xfer_session_send_text(s, TID, max, 4000), XFER_E_TOO_BIG);
    CHECK_EQ_INT(xfer_session_send_text(s, TID, max, 2000), XFER_OK);
    xfer_session_destroy(s);
    free(max);

    /* names (§5.1) as codec.ts's peerText: cleaned, cut to 64 bytes on a
     * character boundary; junk, or nothing left, is no name; never fatal */
    static const struct {
        const char *in, *want;
    } names[] = {
        {"  Blue \t\u00a0 Fox\u202e\x1b[2J  ", "Blue Fox[2J"},
        {"\xe2\x80\x8b\n", ""},
        {"a\xff"
         "b",
         "ab"},
        {"\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc"
         "\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc"
         "\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc"
         "\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc abc",
         "\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc"
         "\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc"
         "\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc"
         "\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc a"},
    };
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        char clean[XFER_MAX_PEER_NAME + 1];
        xfer_peer_text_clean(names[k].in, strlen(names[k].in), clean);
        CHECK_EQ_STR(clean, names[k].want);
        xfer_options on = {.name = names[k].in};
        a = xfer_session_create(&on);
        b = xfer_session_create(NULL);
        memset(&wa, 0, sizeof wa);
        memset(&wb, 0, sizeof wb);
        xfer_session_open(a);
        xfer_session_open(b);
        text_pump(a, b, &wa, &wb, NULL);
        CHECK(wb.ready == 1 && wb.has_peer_name == (names[k].want[0] != 0));
        if (wb.has_peer_name) CHECK_EQ_STR(wb.peer_name, names[k].want);
        xfer_session_destroy(a);
        xfer_session_destroy(b);
    }
    /* from the wire: not a string, or junk, is left out, the session goes on */
    s = xfer_session_create(NULL);
    memset(&wa, 0, sizeof wa);
    feed_str(s, "{\"t\":\"hello\",\"v\":2,\"maxMsg\":65536,\"win\":65536,\"caps\":[],\"name\":7,"
                "\"device\":\"\\u200b\"}");
    text_drain_events(s, &wa);
    CHECK(wa.ready == 1 && !wa.has_peer_name && !xfer_session_closed_state(s));
    xfer_session_destroy(s);
}

/* ---------------- writes confirmed after a drop (session.test.ts) ---------------- */

static void test_late_writes(void)
{
    /* plain: the storage confirms the writes only after the channel dropped;
     * they still count for the next session's resume */
    fixture fx;
    fx_init(&fx);
    fx.b.defer_writes = true;
    CHECK_EQ_INT(xfer_session_offer(fx.a.s, XF, fx.files, 3), XFER_OK);
    sim_run(&fx.a, &fx.b, NULL, 4); /* offer, start, 2 data */
    CHECK(fx.b.n_deferred >= 2);
    CHECK(xfer_incoming_held(fx.b.incoming, 0) == 0);
    xfer_session_shutdown(fx.b.s);
    for (size_t i = 0; i < fx.b.n_deferred; i++)
        xfer_session_written(fx.b.s, XF, fx.b.deferred_file[i], fx.b.deferred_end[i]);
    CHECK(xfer_incoming_held(fx.b.incoming, 0) == fx.b.deferred_end[fx.b.n_deferred - 1]);
    fx_cleanup(&fx);
}

/* ---------------- block digests (session.test.ts, §5.8) ---------------- */

#define BIG_SIZE (2 * B_SIZE + B_SIZE / 4 + 7) /* 9 MiB + 7: three blocks, the last short */

static const xfer_options BS = {
    .max_msg = 262144, .win = 16u << 20, .msg_size = 65536, .read_block = 1u << 20};
static const xfer_options BR = {.max_msg = 262144, .win = 16u << 20};

typedef struct bfixture {
    sim_peer a, b;
    xfer_file_entry files[2];
    uint8_t *content[2];
} bfixture;

static void bfx_init(bfixture *fx, xfer_options so, xfer_options ro)
{
    static const size_t sizes[2] = {BIG_SIZE, 1000};
    static const char *names[2] = {"big.bin", "small.txt"};
    memset(fx, 0, sizeof *fx);
    for (size_t i = 0; i < 2; i++) {
        fx->files[i] = (xfer_file_entry){.id = (uint32_t)i,
                                         .name = (char *)names[i],
                                         .name_len = strlen(names[i]),
                                         .dir = "",
                                         .mime = "",
                                         .size = sizes[i]};
        fx->content[i] = rand_bytes(sizes[i], (uint32_t)i + 7);
    }
    sim_init(&fx->a, "A", so);
    sim_init(&fx->b, "B", ro);
    for (size_t i = 0; i < 2; i++) {
        fx->a.src[i] = fx->content[i];
        fx->a.src_len[i] = sizes[i];
    }
}

static void bfx_connect(bfixture *fx, sim_log *log)
{
    xfer_session_open(fx->a.s);
    xfer_session_open(fx->b.s);
    sim_run(&fx->a, &fx->b, log, -1);
    CHECK(xfer_session_ready(fx->a.s) && xfer_session_ready(fx->b.s));
}

static void bfx_cleanup(bfixture *fx)
{
    sim_cleanup(&fx->a);
    sim_cleanup(&fx->b);
    for (size_t i = 0; i < 2; i++)
        free(fx->content[i]);
}

static bool bstored_equals(bfixture *fx, size_t i)
{
    return fx->b.stored_len[i] == fx->files[i].size &&
           memcmp(fx->b.stored[i], fx->content[i], fx->files[i].size) == 0;
}

/* The nth control message of type t that `from` sent, decoded into *out
 * (the caller cleans it up); false when there is none. */
static bool find_control(const sim_log *log, const char *from, xfer_type t, int nth, xfer_msg *out)
{
    for (size_t i = 0; i < log->n; i++) {
        const log_msg *m = &log->m[i];
        if (m->binary || strcmp(m->from, from)) continue;
        xfer_code c;
        if (xfer_msg_decode(m->data, m->len, out, &c) != XFER_OK) continue;
        if (out->t == t && nth-- == 0) return true;
        xfer_msg_cleanup(out);
    }
    return false;
}

static size_t data_bytes(const sim_log *log, const char *from)
{
    size_t n = 0;
    for (size_t i = 0; i < log->n; i++)
        if (log->m[i].binary && !strcmp(log->m[i].from, from)) n += log->m[i].len - 16;
    return n;
}

static void test_blocks_negotiation(void)
{
    /* "text" (§5.9) is on in all of them: it changes nothing here */
    static const char *both =
        "{\"t\":\"hello\",\"v\":2,\"maxMsg\":262144,\"win\":16777216,\"caps\":[\"resume\","
        "\"sha256-blocks\",\"text\"]}";
    static const char *blocks_only = "{\"t\":\"hello\",\"v\":2,\"maxMsg\":262144,\"win\":16777216,"
                                     "\"caps\":[\"sha256-blocks\",\"text\"]}";
    static const char *none =
        "{\"t\":\"hello\",\"v\":2,\"maxMsg\":262144,\"win\":16777216,\"caps\":[\"text\"]}";
    struct {
        xfer_options so, ro;
        bool blocks;
        const char *a_hello;
    } cases[] = {
        {BS, BR, true, both},
        {BS, {.max_msg = 262144, .win = 16u << 20, .no_blocks_cap = true}, false, both},
        {{.max_msg = 262144, .win = 16u << 20, .no_resume_cap = true, .no_blocks_cap = true},
         BR,
         false,
         none},
        {{.max_msg = 262144, .win = 16u << 20, .no_resume_cap = true}, BR, true, blocks_only},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        bfixture fx;
        bfx_init(&fx, cases[k].so, cases[k].ro);
        sim_log log = {.session = 1};
        bfx_connect(&fx, &log);
        CHECK(xfer_session_block_digests(fx.a.s) == cases[k].blocks);
        CHECK(xfer_session_block_digests(fx.b.s) == cases[k].blocks);
        CHECK(log.n == 2 && !strcmp(log.m[0].from, "A"));
        if (log.n)
            CHECK_EQ_MEM(log.m[0].data, log.m[0].len, cases[k].a_hello, strlen(cases[k].a_hello));
        log_free(&log);
        bfx_cleanup(&fx);
    }
}

/* A whole transfer of the big and the small file; checks what every end
 * carried against the digest a peer with (blocks) or without the cap sends. */
static void blocks_transfer(xfer_options ro, bool blocks)
{
    bfixture fx;
    bfx_init(&fx, BS, ro);
    bfx_connect(&fx, NULL);
    sim_log log = {.session = 1};
    CHECK_EQ_INT(xfer_session_offer(fx.a.s, XF, fx.files, 2), XFER_OK);
    sim_run(&fx.a, &fx.b, &log, -1);
    for (int i = 0; i < 2; i++) {
        xfer_msg end;
        CHECK(find_control(&log, "A", XFER_END, i, &end));
        char want[65], plain[65];
        file_digest_hex(blocks, fx.content[i], fx.files[i].size, want);
        sha_hex(fx.content[i], fx.files[i].size, plain);
        CHECK_EQ_INT(end.file, i);
        CHECK_EQ_STR(end.sha256, want);
        if (blocks) CHECK(strcmp(end.sha256, plain) != 0);
        xfer_msg_cleanup(&end);
        CHECK(bstored_equals(&fx, i));
    }
    CHECK_EQ_INT(fx.b.file_done_ok, 2);
    CHECK_EQ_INT(fx.a.file_done_ok, 2);
    CHECK_EQ_INT(fx.b.transfer_done, 1);
    CHECK_EQ_INT(fx.a.fatal + fx.b.fatal, 0);
    log_free(&log);
    bfx_cleanup(&fx);
}

static void test_blocks_transfer(void)
{
    blocks_transfer(BR, true);
    /* a peer without the cap gets the plain SHA-256 */
    blocks_transfer((xfer_options){.max_msg = 262144, .win = 16u << 20, .no_blocks_cap = true},
                    false);
}

static void test_blocks_resume(void)
{
    bfixture fx;
    bfx_init(&fx, BS, BR);
    bfx_connect(&fx, NULL);
    CHECK_EQ_INT(xfer_session_offer(fx.a.s, XF, fx.files, 2), XFER_OK);
    /* offer, start, then 104 data messages (of up to 65520 bytes; each 1 MiB
     * read ends in a short one): into the second block */
    sim_run(&fx.a, &fx.b, NULL, 2 + 104);
    size_t held = fx.b.stored_len[0];
    CHECK(held > B_SIZE && held < 2 * B_SIZE);
    sim_reconnect(&fx.a);
    sim_reconnect(&fx.b);
    bfx_connect(&fx, NULL);
    CHECK(xfer_session_resume_offset(fx.b.s, fx.b.incoming, 0) == B_SIZE);
    CHECK(xfer_session_resume_offset(fx.b.s, fx.b.incoming, 1) == 0);
    sim_log log = {.session = 2};
    CHECK_EQ_INT(xfer_session_offer(fx.a.s, XF, fx.files, 2), XFER_OK);
    sim_run(&fx.a, &fx.b, &log, -1);
    xfer_msg acc, start;
    CHECK(find_control(&log, "B", XFER_ACCEPT, 0, &acc));
    char want[65];
    ref_blocks_hex(fx.content[0], B_SIZE, want);
    CHECK_EQ_INT(acc.accepts_len, 2);
    if (acc.accepts_len == 2) {
        CHECK(acc.accepts[0].id == 0 && acc.accepts[0].offset == B_SIZE);
        CHECK(acc.accepts[0].has_sha256);
        CHECK_EQ_STR(acc.accepts[0].sha256, want);
        CHECK(acc.accepts[1].id == 1 && acc.accepts[1].offset == 0);
    }
    xfer_msg_cleanup(&acc);
    CHECK(find_control(&log, "A", XFER_START, 0, &start));
    CHECK(start.file == 0 && start.offset == B_SIZE);
    xfer_msg_cleanup(&start);
    /* only the rest was sent again: the bytes held past B were rewritten */
    CHECK_EQ_INT(data_bytes(&log, "A"), BIG_SIZE - B_SIZE + 1000);
    CHECK(bstored_equals(&fx, 0) && bstored_equals(&fx, 1));
    CHECK_EQ_INT(fx.b.file_done_ok, 2);
    CHECK_EQ_INT(fx.a.fatal + fx.b.fatal, 0);
    log_free(&log);
    bfx_cleanup(&fx);

    /* resume needs the block stored, not only hashed: writes confirmed late */
    bfx_init(&fx, BS, BR);
    bfx_connect(&fx, NULL);
    fx.b.defer_writes = true;
    CHECK_EQ_INT(xfer_session_offer(fx.a.s, XF, fx.files, 2), XFER_OK);
    sim_run(&fx.a, &fx.b, NULL, 2 + 104);
    xfer_session_shutdown(fx.b.s);
    size_t k = 0;
    for (; k < fx.b.n_deferred && fx.b.deferred_end[k] < B_SIZE; k++)
        xfer_session_written(fx.b.s, XF, 0, fx.b.deferred_end[k]);
    CHECK(xfer_session_resume_offset(fx.b.s, fx.b.incoming, 0) == 0); /* block 0 not all stored */
    for (; k < fx.b.n_deferred; k++)
        xfer_session_written(fx.b.s, XF, 0, fx.b.deferred_end[k]);
    CHECK(fx.b.n_deferred == 104 && xfer_incoming_held(fx.b.incoming, 0) == held);
    CHECK(xfer_session_resume_offset(fx.b.s, fx.b.incoming, 0) == B_SIZE);
    bfx_cleanup(&fx);
}

/* The sender's answer to a resume request at `offset` with proof `sha`:
 * the offset of its start. */
static uint64_t start_for_request(bool blocks, uint64_t offset, const char *sha)
{
    bfixture fx;
    xfer_options o = BS;
    o.no_blocks_cap = !blocks;
    bfx_init(&fx, o, BR);
    xfer_session *s = fx.a.s;
    xfer_session_open(s);
    feed_str(s, "{\"t\":\"hello\",\"v\":2,\"maxMsg\":262144,\"win\":16777216,\"caps\":[\"resume\","
                "\"sha256-blocks\"]}");
    CHECK(xfer_session_block_digests(s) == blocks);
    CHECK_EQ_INT(xfer_session_offer(s, XF, fx.files, 2), XFER_OK);
    batch hello_offer = take_output(&fx.a);
    batch_free(&hello_offer);
    char acc[256];
    snprintf(acc, sizeof acc,
             "{\"t\":\"accept\",\"xfer\":\"%s\",\"files\":"
             "[{\"id\":0,\"offset\":%llu,\"sha256\":\"%s\"}]}",
             XF, (unsigned long long)offset, sha);
    feed_str(s, acc);
    sim_pump(&fx.a);
    batch out = take_output(&fx.a);
    uint64_t got = UINT64_MAX;
    for (size_t i = 0; i < out.n && got == UINT64_MAX; i++) {
        xfer_msg m;
        xfer_code c;
        if (!out.m[i].binary && xfer_msg_decode(out.m[i].data, out.m[i].len, &m, &c) == XFER_OK) {
            if (m.t == XFER_START && m.file == 0) got = m.offset;
            xfer_msg_cleanup(&m);
        }
    }
    CHECK(!xfer_session_closed_state(s));
    batch_free(&out);
    bfx_cleanup(&fx);
    return got;
}

static void test_blocks_unprovable_offset(void)
{
    uint8_t *c = rand_bytes(BIG_SIZE, 7); /* bfx_init's big.bin */
    char sha[65];
    /* inside the first block, with the block digest of that prefix: restart */
    ref_blocks_hex(c, 1000, sha);
    CHECK(start_for_request(true, 1000, sha) == 0);
    /* one byte past a block boundary: restart */
    ref_blocks_hex(c, B_SIZE + 1, sha);
    CHECK(start_for_request(true, B_SIZE + 1, sha) == 0);
    /* proofs a sender's digest of that prefix would match, since it covers
     * only the whole blocks in it: the offset alone must be refused */
    ref_blocks_hex(c, B_SIZE, sha);
    CHECK(start_for_request(true, B_SIZE + 1, sha) == 0);
    ref_blocks_hex(c, 0, sha);
    CHECK(start_for_request(true, 1000, sha) == 0);
    /* at a boundary and at the size: continued */
    ref_blocks_hex(c, B_SIZE, sha);
    CHECK(start_for_request(true, B_SIZE, sha) == B_SIZE);
    ref_blocks_hex(c, BIG_SIZE, sha);
    CHECK(start_for_request(true, BIG_SIZE, sha) == BIG_SIZE);
    /* the right offset with a plain proof: wrong proof, restart */
    sha_hex(c, B_SIZE, sha);
    CHECK(start_for_request(true, B_SIZE, sha) == 0);
    /* without block digests any offset is provable by its SHA-256 */
    sha_hex(c, 1000, sha);
    CHECK(start_for_request(false, 1000, sha) == 1000);
    free(c);
}

static void test_blocks_corrupt(void)
{
    bfixture fx;
    bfx_init(&fx, BS, BR);
    bfx_connect(&fx, NULL);
    fx.b.corrupt_nth_binary = 70; /* in the second block of big.bin */
    CHECK_EQ_INT(xfer_session_offer(fx.a.s, XF, fx.files, 2), XFER_OK);
    sim_run(&fx.a, &fx.b, NULL, -1);
    CHECK_EQ_INT(fx.b.file_done_fail, 1);
    CHECK_EQ_STR(xfer_code_name(fx.b.last_code), "HASH_MISMATCH");
    CHECK_EQ_INT(fx.b.stored_len[0], 0); /* discarded */
    CHECK_EQ_INT(fx.b.closes_failed, 1);
    CHECK(bstored_equals(&fx, 1));
    CHECK_EQ_INT(fx.b.file_done_ok, 1);
    CHECK_EQ_INT(fx.a.file_done_fail, 1);
    CHECK_EQ_STR(xfer_code_name(fx.a.last_code), "HASH_MISMATCH");
    CHECK_EQ_INT(fx.a.fatal + fx.b.fatal, 0);
    /* nothing of the failed file is offered for resume */
    CHECK(xfer_session_resume_offset(fx.b.s, fx.b.incoming, 0) == 0);
    bfx_cleanup(&fx);
}

/* A receiver restarted from disk: `held` bytes of big.bin fed as a prefix
 * (1 MiB at a time, as the CLI reads a .partial file); returns the data
 * bytes sent to complete both files. */
static size_t prefix_transfer(bool blocks, int prefix_mode, size_t held, uint64_t want_offset)
{
    bfixture fx;
    xfer_options ro = BR;
    ro.no_blocks_cap = !blocks;
    bfx_init(&fx, BS, ro);
    bfx_connect(&fx, NULL);
    xfer_incoming *inc = xfer_incoming_create(XF, fx.files, 2);
    if (prefix_mode >= 0) xfer_incoming_prefix_mode(inc, prefix_mode == 1);
    for (size_t p = 0; p < held; p += 1u << 20)
        xfer_incoming_prefix_update(inc, 0, fx.content[0] + p,
                                    held - p < (1u << 20) ? held - p : (1u << 20));
    CHECK(xfer_incoming_held(inc, 0) == held);
    fx.b.incoming = inc;
    fx.b.stored[0] = malloc(held ? held : 1);
    memcpy(fx.b.stored[0], fx.content[0], held);
    fx.b.stored_len[0] = held;
    CHECK(xfer_session_resume_offset(fx.b.s, inc, 0) == want_offset);
    sim_log log = {.session = 1};
    CHECK_EQ_INT(xfer_session_offer(fx.a.s, XF, fx.files, 2), XFER_OK);
    sim_run(&fx.a, &fx.b, &log, -1);
    xfer_msg acc;
    CHECK(find_control(&log, "B", XFER_ACCEPT, 0, &acc));
    CHECK(acc.accepts_len == 2 && acc.accepts[0].offset == want_offset);
    xfer_msg_cleanup(&acc);
    CHECK(bstored_equals(&fx, 0) && bstored_equals(&fx, 1));
    CHECK_EQ_INT(fx.b.file_done_ok, 2);
    CHECK_EQ_INT(fx.a.fatal + fx.b.fatal, 0);
    size_t sent = data_bytes(&log, "A");
    log_free(&log);
    bfx_cleanup(&fx);
    return sent;
}

static void test_blocks_prefix(void)
{
    const size_t held = B_SIZE + (1u << 20) + 100; /* 5 MiB + 100 */
    /* both digests fed (the default): either kind of session resumes */
    CHECK_EQ_INT(prefix_transfer(true, -1, held, B_SIZE), BIG_SIZE - B_SIZE + 1000);
    CHECK_EQ_INT(prefix_transfer(false, -1, held, held), BIG_SIZE - held + 1000);
    /* only the session's mode fed */
    CHECK_EQ_INT(prefix_transfer(true, 1, held, B_SIZE), BIG_SIZE - B_SIZE + 1000);
    CHECK_EQ_INT(prefix_transfer(false, 0, held, held), BIG_SIZE - held + 1000);
    /* the other mode fed: no proof, start over */
    CHECK_EQ_INT(prefix_transfer(false, 1, held, 0), BIG_SIZE + 1000);
    CHECK_EQ_INT(prefix_transfer(true, 0, held, 0), BIG_SIZE + 1000);
    /* less than a block: nothing provable with block digests */
    CHECK_EQ_INT(prefix_transfer(true, -1, 70000, 0), BIG_SIZE + 1000);
    /* the whole file on disk (a crash before the rename): resumed at its size */
    CHECK_EQ_INT(prefix_transfer(true, -1, BIG_SIZE, BIG_SIZE), 1000);
    CHECK_EQ_INT(prefix_transfer(false, -1, BIG_SIZE, BIG_SIZE), 1000);
}

static void test_json_escapes(void)
{
    pd_buf b;
    pd_buf_init(&b, 1024);
    CHECK_EQ_INT(xfer_json_string(&b, "a\"\\\b\t\n\f\r\x01\x1f\x7f/\xc3\xa9", 14), XFER_OK);
    const char *want = "\"a\\\"\\\\\\b\\t\\n\\f\\r\\u0001\\u001f\x7f/\xc3\xa9\"";
    CHECK_EQ_MEM(b.data, b.len, want, strlen(want));
    pd_buf_reset(&b);
    /* integral reals and any member order decode as in JS */
    xfer_msg m;
    xfer_code c;
    const char *t =
        " { \"offset\" : 1e3, \"file\": 2.0, \"xfer\":\"0123456789abcdef0123456789abcdef\","
        " \"t\":\"start\", \"extra\": [1,{}] } ";
    CHECK_EQ_INT(xfer_msg_decode((const uint8_t *)t, strlen(t), &m, &c), XFER_OK);
    CHECK_EQ_INT(m.offset, 1000);
    CHECK_EQ_INT(m.file, 2);
    xfer_msg_cleanup(&m);
    t = "{\"t\":\"start\",\"xfer\":\"0123456789abcdef0123456789abcdef\",\"file\":1,\"offset\":1.5}";
    CHECK_EQ_INT(xfer_msg_decode((const uint8_t *)t, strlen(t), &m, &c), XFER_E_DECODE);
    t = "{\"t\":\"start\",\"xfer\":\"0123456789abcdef0123456789abcdef\",\"file\":10000,\"offset\":"
        "0}";
    CHECK_EQ_INT(xfer_msg_decode((const uint8_t *)t, strlen(t), &m, &c), XFER_E_DECODE);
    t = "{\"t\":\"start\",\"xfer\":\"0123456789abcdef0123456789abcdef\",\"file\":1,\"offset\":0}"
        "\xff";
    CHECK_EQ_INT(xfer_msg_decode((const uint8_t *)t, strlen(t), &m, &c), XFER_E_DECODE);
}

int main(int argc, char **argv)
{
    char path[4096];
    if (argc > 1) {
        snprintf(path, sizeof path, "%s", argv[1]);
    } else {
        /* __FILE__ is absolute in CMake builds: tests/unit/ -> web/src/protocol/ */
        snprintf(path, sizeof path, "%s", __FILE__);
        char *slash = strrchr(path, '/');
        if (slash) *slash = 0;
        strncat(path, "/../../web/src/protocol/test-vectors.json", sizeof path - strlen(path) - 1);
    }
    json_error_t err;
    json_t *vectors = json_load_file(path, JSON_ALLOW_NUL, &err);
    if (!vectors) {
        fprintf(stderr, "cannot load %s: %s\n", path, err.text);
        return 1;
    }
    CHECK_EQ_INT(json_integer_value(json_object_get(vectors, "version")), 1);
    test_control(vectors);
    test_data(vectors);
    test_invalid(vectors);
    test_paths(vectors);
    test_transcripts(vectors);
    test_text_vectors(vectors);
    test_digests(vectors);
    json_decref(vectors);
    test_all_files_and_window();
    test_peer_window_bounded();
    test_partial_accept_and_decline();
    test_hash_mismatch();
    test_resume();
    test_cancel();
    test_read_error_and_unsafe();
    test_full_chunks();
    test_protocol_violations();
    test_late_writes();
    test_blocks_negotiation();
    test_blocks_transfer();
    test_blocks_resume();
    test_blocks_unprovable_offset();
    test_blocks_corrupt();
    test_blocks_prefix();
    test_json_escapes();
    test_text();
    return CHECK_DONE();
}
