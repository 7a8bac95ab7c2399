/* sender.c: see sender.h. */
#include "cli/sender.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/output.h"
#include "cli/peer.h"
#include "transfer/codec.h"
#include "transfer/paths.h"

typedef struct peer_retry {
    cli_app *a;
    char sid[64];
    char xfer[XFER_ID_LEN + 1];
    int attempt;
    /* files the receiver verified over the earlier connections: the next
     * one leaves them out, the summary still counts them */
    uint32_t ok_files;
    uint64_t ok_bytes;
} peer_retry;

void cli_sender_read(cli_peer *p, const xfer_read *r)
{
    cli_app *a = p->a;
    if (p->src_id != (int64_t)r->file) {
        if (p->src_fd >= 0) close(p->src_fd);
        p->src_fd = open(a->files[r->file].path, O_RDONLY | O_CLOEXEC);
        p->src_id = r->file;
    }
    if (!p->buf) p->buf = malloc(READ_BLOCK);
    size_t got = 0;
    while (p->src_fd >= 0 && p->buf && got < r->len) {
        ssize_t n = pread(p->src_fd, p->buf + got, r->len - got, (off_t)(r->offset + got));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
    }
    if (got != r->len) {
        char msg[256];
        snprintf(msg, sizeof msg, "cannot read %s", a->entries[r->file].name);
        xfer_session_read_failed(p->s, r, msg);
        return;
    }
    p->wire_bytes += r->len;
    xfer_session_read_done(p->s, r, p->buf, r->len);
}

static gboolean on_retry(gpointer data)
{
    peer_retry *r = data;
    cli_app *a = r->a;
    if (a->quitting || g_hash_table_contains(a->left, r->sid) || cli_peer_find(a, r->sid))
        return G_SOURCE_REMOVE;
    cli_say(a, "connecting to %.8s again (%d of %d)", r->sid, r->attempt, PEER_RETRIES);
    cli_peer *p = cli_sender_offer_to(a, r->sid);
    if (p) {
        p->attempt = r->attempt;
        memcpy(p->xfer, r->xfer, sizeof p->xfer);
        p->ok_files = r->ok_files;
        p->ok_bytes = r->ok_bytes;
    }
    return G_SOURCE_REMOVE;
}

/* Sender: offers this receiver a new connection later, unless it left or
 * the retries are used up. */
void cli_sender_retry_later(cli_peer *p)
{
    cli_app *a = p->a;
    if (a->quitting || p->attempt >= PEER_RETRIES || g_hash_table_contains(a->left, p->sid)) return;
    peer_retry *r = g_new0(peer_retry, 1);
    r->a = a;
    r->attempt = p->attempt + 1;
    r->ok_files = p->ok_files;
    r->ok_bytes = p->ok_bytes;
    snprintf(r->sid, sizeof r->sid, "%s", p->sid);
    memcpy(r->xfer, p->xfer, sizeof r->xfer);
    GSource *t = g_timeout_source_new((guint)(1000 * r->attempt));
    g_source_set_callback(t, on_retry, r, g_free);
    g_source_attach(t, a->ctx);
    g_source_unref(t);
}

/* Sender: a new peer connection to `sid`, with our channel, and the offer. */
cli_peer *cli_sender_offer_to(cli_app *a, const char *sid)
{
    cli_peer *p = cli_peer_new(a, sid);
    if (!p) return NULL;
    p->ch = rtc_channel_create(p->pc, "peerdrop", false);
    if (p->ch) rtc_channel_set_user(p->ch, p);
    rtc_peer_create_offer(p->pc);
    return p;
}

static bool add_file(cli_app *a, const char *path, const char *dir, const char *name, uint64_t size)
{
    src_file *nf = realloc(a->files, (a->nfiles + 1) * sizeof *nf);
    if (!nf) return false;
    a->files = nf;
    xfer_file_entry *ne = realloc(a->entries, (a->nfiles + 1) * sizeof *ne);
    if (!ne) return false;
    a->entries = ne;
    a->files[a->nfiles].path = strdup(path);
    xfer_file_entry *e = &a->entries[a->nfiles];
    *e = (xfer_file_entry){.id = (uint32_t)a->nfiles,
                           .name = strdup(name),
                           .name_len = strlen(name),
                           .dir = strdup(dir),
                           .dir_len = strlen(dir),
                           .size = size,
                           .mime = strdup(""),
                           .mime_len = 0};
    a->nfiles++;
    a->total += size;
    return a->files[a->nfiles - 1].path && e->name && e->dir && e->mime;
}

/* Adds a regular file, or a directory's files with their relative paths
 * under the directory's own name (as a browser's folder picker does).
 * Symlinks inside a directory are skipped: we send what is there, not
 * what it points to. */
int cli_sender_add_path(cli_app *a, const char *path, const char *dir, int depth)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        fprintf(stderr, "peerdrop: %s: %s\n", path, strerror(errno));
        return -1;
    }
    const char *base = strrchr(path, '/');
    char name[PATH_MAX];
    snprintf(name, sizeof name, "%s", base ? base + 1 : path);
    size_t nl = strlen(name);
    while (nl > 1 && name[nl - 1] == '/')
        name[--nl] = 0;
    if (S_ISREG(st.st_mode)) {
        const char *why = xfer_path_name_problem(name, strlen(name));
        if (why) {
            char b[CLI_SHOWN_CAP];
            fprintf(stderr, "peerdrop: %s: name cannot be sent (%s)\n", cli_shown(path, b), why);
            return -1;
        }
        if (access(path, R_OK) < 0) {
            fprintf(stderr, "peerdrop: %s: %s\n", path, strerror(errno));
            return -1;
        }
        return add_file(a, path, dir, name, (uint64_t)st.st_size) ? 0 : -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, "peerdrop: %s: not a regular file or directory\n", path);
        return -1;
    }
    if (depth >= (int)XFER_MAX_DIR_DEPTH) {
        fprintf(stderr, "peerdrop: %s: too deep\n", path);
        return -1;
    }
    char sub[XFER_MAX_DIR_BYTES + 1];
    if (depth == 0 && (!strcmp(name, ".") || !strcmp(name, "..") || !strcmp(name, "/"))) {
        char cwd[PATH_MAX];
        if (!realpath(path, cwd)) return -1;
        const char *b = strrchr(cwd, '/');
        snprintf(name, sizeof name, "%s", b && b[1] ? b + 1 : "root");
    }
    snprintf(sub, sizeof sub, "%s%s%s", dir, *dir ? "/" : "", name);
    const char *why = xfer_path_dir_problem(sub, strlen(sub));
    if (why) {
        char b[CLI_SHOWN_CAP];
        fprintf(stderr, "peerdrop: %s: directory name cannot be sent (%s)\n", cli_shown(path, b),
                why);
        return -1;
    }
    DIR *d = opendir(path);
    if (!d) {
        fprintf(stderr, "peerdrop: %s: %s\n", path, strerror(errno));
        return -1;
    }
    /* sorted, so the manifest order is stable */
    struct dirent **list = NULL;
    closedir(d);
    int n = scandir(path, &list, NULL, alphasort);
    int rc = 0;
    for (int i = 0; i < n; i++) {
        const char *e = list[i]->d_name;
        if (rc == 0 && strcmp(e, ".") && strcmp(e, "..")) {
            char child[PATH_MAX];
            snprintf(child, sizeof child, "%s/%s", path, e);
            struct stat lst;
            if (lstat(child, &lst) == 0 && !S_ISLNK(lst.st_mode))
                rc = cli_sender_add_path(a, child, sub, depth + 1);
        }
        free(list[i]);
    }
    free(list);
    return rc;
}

/* The session is ready: offer every file, under the transfer id of this
 * receiver's earlier attempt if there was one (so it resumes), else the
 * run's. */
void cli_sender_offer(cli_peer *p)
{
    cli_app *a = p->a;
    if (!p->xfer[0]) memcpy(p->xfer, a->xfer, sizeof p->xfer);
    int r = xfer_session_offer(p->s, p->xfer, a->entries, a->nfiles);
    if (r != XFER_OK) {
        cli_say(a, "cannot offer the files: %s", xfer_strerror(r));
        cli_app_finish(a, EXIT_LOCAL);
        return;
    }
    p->total_bytes = a->total;
    cli_say(a, "offered %zu file%s to %.8s", a->nfiles, a->nfiles == 1 ? "" : "s", p->sid);
}

void cli_sender_accepted(cli_peer *p, const xfer_event *ev)
{
    cli_app *a = p->a;
    uint64_t t = 0;
    for (size_t i = 0; i < ev->file_ids_len; i++)
        t += a->entries[ev->file_ids[i]].size;
    p->total_bytes = t;
    p->start_us = g_get_monotonic_time();
    if (ev->file_ids_len < a->nfiles) /* the rest left out: held already, or hidden names */
        cli_say(a, "accepted: %zu of %zu files (the receiver left the others out)",
                ev->file_ids_len, a->nfiles);
    else
        cli_say(a, "accepted: %zu file%s", ev->file_ids_len, ev->file_ids_len == 1 ? "" : "s");
    cli_out_json(a, "accepted",
                 json_pack("{s:s,s:I,s:I}", "peer", p->sid, "files", (json_int_t)ev->file_ids_len,
                           "offered", (json_int_t)a->nfiles));
}

void cli_sender_text(cli_peer *p)
{
    cli_app *a = p->a;
    int r = xfer_session_send_text(p->s, a->text_id, a->text, a->text_len);
    if (r == XFER_OK) {
        cli_say(a, "sent %zu bytes of text to %.8s", a->text_len, p->sid);
        return;
    }
    const char *why = r == XFER_E_UNSUPPORTED
                          ? "the receiver takes no text (an older peerdrop or web app)"
                          : xfer_strerror(r);
    cli_say(a, "cannot send the text to %.8s: %s", p->sid, why);
    cli_out_json(a, "error",
                 json_pack("{s:s,s:b,s:s,s:s}", "peer", p->sid, "byPeer", false, "code",
                           r == XFER_E_UNSUPPORTED ? "UNSUPPORTED" : "INTERNAL", "message", why));
    if (a->exit_code == EXIT_OK) a->exit_code = EXIT_TRANSFER;
    a->completed++;
    cli_peer_finish(p);
    if (a->count > 0 && a->completed >= a->count) cli_app_finish(a, EXIT_TRANSFER);
}

void cli_sender_text_delivered(cli_peer *p)
{
    cli_app *a = p->a;
    cli_say(a, "text delivered to %.8s", p->sid);
    cli_out_json(a, "text-delivered",
                 json_pack("{s:s,s:I}", "peer", p->sid, "bytes", (json_int_t)a->text_len));
    a->completed++;
    cli_peer_finish(p);
    if (a->count > 0 && a->completed >= a->count) cli_app_finish(a, EXIT_OK);
}
