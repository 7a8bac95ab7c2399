/* receiver.c: see receiver.h. */
#include "cli/receiver.h"

#include <errno.h>
#include <glib-unix.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "cli/display.h"
#include "cli/outdir.h"
#include "cli/output.h"
#include "cli/peer.h"
#include "transfer/paths.h"

static void free_paths(char **paths, size_t n)
{
    for (size_t i = 0; paths && i < n; i++)
        free(paths[i]);
    free(paths);
}

void cli_receiver_files_free(cli_incoming_files *f)
{
    size_t n = f->inc ? xfer_incoming_count(f->inc) : 0;
    free_paths(f->final_name, n);
    free_paths(f->partial_name, n);
    free(f->own_partial);
    free(f->in_place);
    xfer_incoming_destroy(f->inc);
    *f = (cli_incoming_files){0};
}

/* A file this receiver leaves out: a hidden name without --allow-dotfiles.
 * The same rule as the engine's, which never asks for such a file (the
 * offer event's hidden_ids). */
bool cli_receiver_left_out(const cli_app *a, const xfer_file_entry *f)
{
    return !a->allow_dotfiles && xfer_path_entry_hidden(f);
}

static gboolean on_reoffer_timeout(gpointer data)
{
    cli_app *a = data;
    g_source_unref(a->reoffer);
    a->reoffer = NULL;
    cli_say(a, "the sender did not try again");
    cli_app_finish(a, EXIT_TRANSFER);
    return G_SOURCE_REMOVE;
}

void cli_receiver_stop_wait(cli_app *a)
{
    if (!a->reoffer) return;
    g_source_destroy(a->reoffer);
    g_source_unref(a->reoffer);
    a->reoffer = NULL;
}

/* Receiver: the connection failed, before it opened or mid-transfer; the
 * sender (the CLI or the web app) offers again, so wait for that rather than
 * give up. */
static void wait_for_reoffer(cli_app *a, const char *sid)
{
    a->recv_failures++;
    snprintf(a->reoffer_from, sizeof a->reoffer_from, "%s", sid);
    cli_say(a, "waiting for the sender to try again (%d of %d)", a->recv_failures, PEER_RETRIES);
    cli_receiver_stop_wait(a);
    a->reoffer = g_timeout_source_new(REOFFER_WAIT_MS);
    g_source_set_callback(a->reoffer, on_reoffer_timeout, a, NULL);
    g_source_attach(a->reoffer, a->ctx);
}

/* Receiver: keeps what an accepted transfer received (see app.kept);
 * the session that filled it is shut down, so nothing changes it any more. */
static void keep_incoming(cli_peer *p)
{
    if (!p->rx.inc || !p->accepted) return; /* a prompt still open asks again */
    cli_receiver_files_free(&p->a->kept);
    p->a->kept = p->rx;
    p->rx = (cli_incoming_files){0};
}

/* Receiver: another connection is up or being set up. Any member of the
 * room can send an offer; one that comes to nothing (a well-formed SDP
 * that never connects, from a member that then leaves) must not end the
 * receive from the sender (issue 11). */
static bool receiver_busy_elsewhere(const cli_app *a, const cli_peer *p)
{
    for (const cli_peer *q = a->peers; q; q = q->next)
        if (q != p && !q->finished) return true;
    return false;
}

/* Receiver: the connection is gone (failed, or its channel closed) before
 * the transfer ended. Unless the sender left, wait for its next offer: a
 * transfer under way resumes where it stopped (docs/protocol.md §5.5). */
void cli_receiver_lost(cli_peer *p)
{
    cli_app *a = p->a;
    if (a->quitting) return;
    keep_incoming(p);
    if (receiver_busy_elsewhere(a, p)) {
        char b[CLI_SHOWN_CAP];
        PD_LOG_WARN("connection with %.8s lost; another connection goes on", cli_shown(p->sid, b));
        return;
    }
    if (g_hash_table_contains(a->left, p->sid)) {
        cli_say(a, "the sender left the room");
        cli_app_finish(a, EXIT_TRANSFER);
    } else if (a->recv_failures < PEER_RETRIES) {
        wait_for_reoffer(a, p->sid);
    } else {
        cli_app_finish(a, EXIT_TRANSFER);
    }
}

static char *partial_of(const char *name)
{
    return name ? g_strdup_printf("%s.partial", name) : NULL;
}

/* Reads the bytes held of file i (its partial file, or the final file for
 * an in-place check) into the running hash (flat: 1 MiB at a time). The
 * offset asked is where a digest of the session's kind can prove the bytes:
 * all of them with plain SHA-256; with block digests the end of the last
 * whole 4 MiB block, or the file's size (docs/protocol.md §5.8). */
static void load_held(cli_peer *p, size_t i)
{
    const xfer_file_entry *f = xfer_incoming_file(p->rx.inc, i);
    bool in_place = p->rx.in_place[i];
    if (!in_place && !p->rx.own_partial[i]) return;
    /* a partial file is reused only with one link (checked again at open) */
    int fd = cli_outdir_read_open(
        p->a->out_root, f->dir, in_place ? p->rx.final_name[i] : p->rx.partial_name[i], !in_place);
    if (fd < 0) return;
    struct stat st;
    if (fstat(fd, &st) < 0 || (uint64_t)st.st_size > f->size) {
        close(fd);
        return; /* larger than the file: start over (truncated at open) */
    }
    uint8_t *b = malloc(READ_BLOCK);
    uint64_t off = 0;
    while (b && off < (uint64_t)st.st_size) {
        ssize_t n = pread(fd, b, READ_BLOCK, (off_t)off);
        if (n <= 0) break;
        xfer_incoming_prefix_update(p->rx.inc, i, b, (size_t)n);
        off += (uint64_t)n;
    }
    free(b);
    close(fd);
    char sb[CLI_SHOWN_CAP];
    if (p->rx.in_place[i]) {
        cli_say(p->a, "%s exists with the same size: asking the sender whether it is the same file",
                cli_shown_path(f, NULL, sb));
        cli_out_json(p->a, "resume",
                     json_pack("{s:s,s:s,s:I,s:I}", "name", f->name, "dir", f->dir, "bytes",
                               (json_int_t)off, "offset",
                               (json_int_t)xfer_session_resume_offset(p->s, p->rx.inc, i)));
    } else if (off) {
        uint64_t at = xfer_session_resume_offset(p->s, p->rx.inc, i);
        if (at == off)
            cli_say(p->a, "resuming %s from %llu bytes", cli_shown_path(f, NULL, sb),
                    (unsigned long long)off);
        else if (at > 0)
            cli_say(p->a, "resuming %s from %llu bytes (of %llu held: the last whole 4 MiB block)",
                    cli_shown_path(f, NULL, sb), (unsigned long long)at, (unsigned long long)off);
        else
            cli_say(p->a, "%s: %llu bytes held, less than one whole 4 MiB block: starting over",
                    cli_shown_path(f, NULL, sb), (unsigned long long)off);
        cli_out_json(p->a, "resume",
                     json_pack("{s:s,s:s,s:I,s:I}", "name", f->name, "dir", f->dir, "bytes",
                               (json_int_t)off, "offset", (json_int_t)at));
    }
}

static void do_accept(cli_peer *p)
{
    if (xfer_session_accept(p->s, p->rx.inc, NULL, 0) != XFER_OK)
        cli_app_finish(p->a, EXIT_TRANSFER);
    p->accepted = true;
    p->start_us = g_get_monotonic_time();
    cli_peer_pump(p);
}

static gboolean on_prompt_input(gint fd, GIOCondition cond, gpointer data)
{
    cli_peer *p = data;
    char line[64] = "";
    ssize_t n = read(fd, line, sizeof line - 1);
    if (n > 0) line[n] = 0;
    g_source_unref(p->prompt);
    p->prompt = NULL;
    if (n > 0 && (line[0] == 'y' || line[0] == 'Y')) {
        do_accept(p);
    } else {
        xfer_session_decline(p->s);
        cli_say(p->a, "declined");
        cli_out_json(p->a, "declined", NULL);
        cli_peer_finish_drained(p, EXIT_DECLINED);
    }
    return G_SOURCE_REMOVE;
}

/* Receiver: the sender's new offer of the transfer a lost connection
 * interrupted: accepted again without asking, into what was kept, so that
 * verified files are not sent again and the file under way resumes. */
static void resume_kept(cli_peer *p)
{
    cli_app *a = p->a;
    p->rx = a->kept;
    a->kept = (cli_incoming_files){0};
    size_t n = xfer_incoming_count(p->rx.inc);
    for (size_t i = 0; i < n; i++) {
        const xfer_file_entry *f = xfer_incoming_file(p->rx.inc, i);
        if (cli_receiver_left_out(a, f)) continue;
        uint64_t at = xfer_session_resume_offset(p->s, p->rx.inc, i);
        p->total_bytes += f->size;
        p->base_bytes += at;
        if (at == 0 || at == f->size) continue;
        char b[CLI_SHOWN_CAP];
        cli_say(a, "resuming %s from %llu bytes", cli_shown_path(f, NULL, b),
                (unsigned long long)at);
        struct stat st;
        uint64_t held = cli_outdir_stat(a->out_root, f->dir, p->rx.partial_name[i], &st) == 0
                            ? (uint64_t)st.st_size
                            : at;
        cli_out_json(a, "resume",
                     json_pack("{s:s,s:s,s:I,s:I}", "name", f->name, "dir", f->dir, "bytes",
                               (json_int_t)held, "offset", (json_int_t)at));
    }
    p->done_bytes = p->base_bytes;
    do_accept(p);
}

/* Says which offered files this receiver leaves out and why, before it
 * accepts the rest: "peerdrop: left out 3 hidden files (.gitignore,
 * .git/config, ...); --allow-dotfiles receives them" on standard error, or
 * a left-out event with --json. */
static void tell_left_out(cli_peer *p, const xfer_event *ev)
{
    cli_app *a = p->a;
    if (ev->hidden_len == 0) return;
    if (a->json) {
        json_t *list = json_array();
        for (size_t k = 0; k < ev->hidden_len; k++) {
            const xfer_file_entry *f = &ev->files[ev->hidden_ids[k]];
            json_array_append_new(list, json_pack("{s:s,s:s,s:I}", "name", f->name, "dir", f->dir,
                                                  "size", (json_int_t)f->size));
        }
        cli_out_json(a, "left-out",
                     json_pack("{s:s,s:s,s:o,s:s}", "peer", p->sid, "reason", "hidden", "files",
                               list, "message",
                               "hidden names (leading dot); --allow-dotfiles receives them"));
        return;
    }
    enum { NAMED = 3 }; /* a line, not the whole list: the offer listed them */
    GString *names = g_string_new(NULL);
    for (size_t k = 0; k < ev->hidden_len && k < NAMED; k++) {
        char b[CLI_SHOWN_CAP];
        g_string_append_printf(names, "%s%s", k ? ", " : "",
                               cli_shown_path(&ev->files[ev->hidden_ids[k]], NULL, b));
    }
    fprintf(stderr, "peerdrop: left out %zu hidden file%s (%s%s); --allow-dotfiles receives them\n",
            ev->hidden_len, ev->hidden_len == 1 ? "" : "s", names->str,
            ev->hidden_len > NAMED ? ", \u2026" : "");
    g_string_free(names, TRUE);
}

void cli_receiver_offer(cli_peer *p, const xfer_event *ev)
{
    cli_app *a = p->a;
    if (a->kept.inc && !strcmp(ev->xfer, xfer_incoming_xfer(a->kept.inc))) {
        resume_kept(p);
        return;
    }
    cli_receiver_files_free(
        &a->kept); /* another transfer: its .partial files stay for a later run */
    p->rx.inc = xfer_incoming_create(ev->xfer, ev->files, ev->files_len);
    /* the hellos came first, so the digest kind is known: hash partial
     * files once, in it */
    xfer_incoming_prefix_mode(p->rx.inc, xfer_session_block_digests(p->s));
    size_t n = ev->files_len;
    p->rx.final_name = calloc(n, sizeof *p->rx.final_name);
    p->rx.partial_name = calloc(n, sizeof *p->rx.partial_name);
    p->rx.own_partial = calloc(n ? n : 1, sizeof *p->rx.own_partial);
    p->rx.in_place = calloc(n ? n : 1, sizeof *p->rx.in_place);
    if (!p->rx.inc || !p->rx.final_name || !p->rx.partial_name || !p->rx.own_partial ||
        !p->rx.in_place) {
        cli_app_finish(a, EXIT_LOCAL);
        return;
    }
    uint64_t total = 0;
    json_t *list = json_array();
    cli_say(a, "incoming: %zu file%s", n, n == 1 ? "" : "s");
    for (size_t i = 0; i < n; i++) {
        const xfer_file_entry *f = &ev->files[i];
        char b[CLI_SHOWN_CAP];
        char size[32];
        cli_human_bytes(f->size, size, sizeof size);
        json_array_append_new(list, json_pack("{s:s,s:s,s:I}", "name", f->name, "dir", f->dir,
                                              "size", (json_int_t)f->size));
        if (cli_receiver_left_out(a, f)) {
            /* never asked for: nothing looked up, nothing opened */
            cli_say(a, "  %s  %s  (hidden name: left out)", cli_shown_path(f, NULL, b), size);
            continue;
        }
        total += f->size;
        char *partial = partial_of(f->name);
        struct stat st;
        /* a partial file means an interrupted receive of this name: resume
         * it, if it is a regular file of ours (one link: a hard link planted
         * there is never written through); an existing final file is kept
         * unless --force: one of the offered size may be this file, received
         * before (a run after an interrupted one), which the sender then
         * confirms instead of sending it again; anything else goes to a free
         * name */
        int held = partial ? cli_outdir_read_open(a->out_root, f->dir, partial, true) : -ENOMEM;
        if (held >= 0) close(held);
        bool resume = held >= 0;
        if (held < 0 && held != -ENOENT && held != -ENOMEM)
            cli_say(a, "%s.partial: %s: not resumed", cli_shown_path(f, NULL, b),
                    cli_outdir_strerror(held));
        p->rx.in_place[i] = !resume && !a->force &&
                            cli_outdir_stat(a->out_root, f->dir, f->name, &st) == 0 &&
                            S_ISREG(st.st_mode) && (uint64_t)st.st_size == f->size;
        p->rx.final_name[i] = a->force || resume || p->rx.in_place[i]
                                  ? strdup(f->name)
                                  : cli_outdir_free_name(a->out_root, f->dir, f->name);
        p->rx.partial_name[i] = partial_of(p->rx.final_name[i]);
        p->rx.own_partial[i] = resume;
        free(partial);
        if (!p->rx.final_name[i] || !p->rx.partial_name[i]) {
            cli_app_finish(a, EXIT_LOCAL);
            json_decref(list);
            return;
        }
        cli_say(a, "  %s  %s", cli_shown_path(f, NULL, b), size);
        load_held(p, i);
    }
    p->total_bytes = total;
    for (size_t i = 0; i < n; i++)
        p->base_bytes += xfer_session_resume_offset(p->s, p->rx.inc, i); /* not resent */
    p->done_bytes = p->base_bytes;
    cli_out_json(a, "offer", json_pack("{s:o,s:I}", "files", list, "total", (json_int_t)total));
    tell_left_out(p, ev);
    if (a->yes) {
        do_accept(p);
        return;
    }
    if (!isatty(0)) {
        cli_say(a, "not a terminal and no --yes: declining");
        xfer_session_decline(p->s);
        cli_peer_finish_drained(p, EXIT_DECLINED);
        return;
    }
    char t[32];
    cli_human_bytes(total, t, sizeof t);
    char b[CLI_SHOWN_CAP];
    fprintf(stdout, "accept %s into %s? [y/N] ", t, cli_shown(a->out_dir, b));
    fflush(stdout);
    p->prompt = g_unix_fd_source_new(0, G_IO_IN | G_IO_HUP);
    g_source_set_callback(p->prompt, G_SOURCE_FUNC(on_prompt_input), p, NULL);
    g_source_attach(p->prompt, a->ctx);
}

/* An in-place file (see cli_peer.in_place) is never written: the sender
 * either starts at its end (same bytes: nothing to receive) or at 0 (other
 * bytes: they go to a free name; the existing file stays as it is). */
static bool redirect_in_place(cli_peer *p, const xfer_event *ev)
{
    const xfer_file_entry *f = xfer_incoming_file(p->rx.inc, ev->file);
    if (ev->offset == f->size) return false;
    char *name = ev->offset == 0 ? cli_outdir_free_name(p->a->out_root, f->dir, f->name) : NULL;
    char *partial = partial_of(name);
    if (!partial) {
        free(name);
        xfer_session_write_failed(p->s, ev->xfer, ev->file, "cannot resume into an existing file");
        return true;
    }
    char b[CLI_SHOWN_CAP], b2[CLI_SHOWN_CAP];
    cli_say(p->a, "%s differs from the sender's: receiving it as %s", cli_shown_path(f, NULL, b),
            cli_shown_path(f, name, b2));
    free(p->rx.final_name[ev->file]);
    free(p->rx.partial_name[ev->file]);
    p->rx.final_name[ev->file] = name;
    p->rx.partial_name[ev->file] = partial;
    p->rx.own_partial[ev->file] = false;
    p->rx.in_place[ev->file] = false;
    return false;
}

/* The current file's CLOSE is still to come (lanes: its end and the next
 * file's start came in one go): its fd waits for it in p->ending. */
static void park_current(cli_peer *p)
{
    if (!p->ending) p->ending = g_array_new(FALSE, FALSE, sizeof(cli_ending_file));
    guint open_fds = 0, oldest = p->ending->len;
    for (guint i = 0; i < p->ending->len; i++) {
        if (g_array_index(p->ending, cli_ending_file, i).fd < 0) continue;
        if (open_fds++ == 0) oldest = i;
    }
    if (open_fds >= CLI_ENDING_FDS_MAX) {
        cli_ending_file *e = &g_array_index(p->ending, cli_ending_file, oldest);
        e->synced = fsync(e->fd) == 0;
        close(e->fd);
        e->fd = -1;
    }
    cli_ending_file e = {.fd = p->out_fd, .id = (uint32_t)p->out_id, .synced = false};
    g_array_append_val(p->ending, e);
}

void cli_receiver_open(cli_peer *p, const xfer_event *ev)
{
    if (p->out_fd >= 0 && p->out_id >= 0 && p->out_id != (int64_t)ev->file) {
        park_current(p);
    } else if (p->out_fd >= 0) {
        close(p->out_fd);
    }
    p->out_fd = -1;
    p->out_id = -1;
    if (p->rx.in_place[ev->file]) {
        if (redirect_in_place(p, ev)) return;
        if (p->rx.in_place[ev->file]) { /* confirmed: nothing to write */
            p->out_id = ev->file;
            return;
        }
    }
    const xfer_file_entry *f = xfer_incoming_file(p->rx.inc, ev->file);
    /* beneath the output folder, no symbolic link followed; a new partial
     * file with O_EXCL, an earlier one only if still ours (outdir.h) */
    int fd = cli_outdir_partial_open(p->a->out_root, f->dir, p->rx.partial_name[ev->file],
                                     p->rx.own_partial[ev->file]);
    if (fd == -ENOENT && p->rx.own_partial[ev->file] && ev->offset == 0) /* gone: start anew */
        fd = cli_outdir_partial_open(p->a->out_root, f->dir, p->rx.partial_name[ev->file], false);
    p->out_id = ev->file;
    if (fd >= 0) {
        p->rx.own_partial[ev->file] = true;
        p->out_fd = fd;
        if (ftruncate(fd, (off_t)ev->offset) < 0) fd = -errno;
    }
    if (fd < 0) {
        char msg[160], b[CLI_SHOWN_CAP];
        snprintf(msg, sizeof msg, "cannot open the file: %s", cli_outdir_strerror(fd));
        cli_say(p->a, "%s: %s", cli_shown_path(f, p->rx.partial_name[ev->file], b), msg);
        xfer_session_write_failed(p->s, ev->xfer, ev->file, msg);
    }
}

void cli_receiver_write(cli_peer *p, const xfer_event *ev)
{
    size_t done = 0;
    while (p->out_fd >= 0 && done < ev->len) {
        ssize_t n = pwrite(p->out_fd, ev->data + done, ev->len - done, (off_t)(ev->offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        done += (size_t)n;
    }
    if (done != ev->len) {
        char msg[128];
        snprintf(msg, sizeof msg, "cannot write the file: %s", strerror(errno));
        xfer_session_write_failed(p->s, ev->xfer, ev->file, msg);
        p->a->exit_code = EXIT_LOCAL;
        return;
    }
    p->wire_bytes += ev->len;
    xfer_session_written(p->s, ev->xfer, ev->file, ev->offset + ev->len);
}

static void close_current(cli_peer *p, const xfer_event *ev);

/* Makes file `id` the current one again if its fd waits in p->ending
 * (its CLOSE came after the next file's OPEN), keeping the current one
 * aside; returns whether it did (cli_receiver_close puts it back). */
static bool take_ending(cli_peer *p, uint32_t id, int *aside_fd, int64_t *aside_id)
{
    for (guint i = 0; p->ending && i < p->ending->len; i++) {
        cli_ending_file e = g_array_index(p->ending, cli_ending_file, i);
        if (e.id != id) continue;
        g_array_remove_index(p->ending, i);
        *aside_fd = p->out_fd;
        *aside_id = p->out_id;
        p->out_fd = e.fd;
        p->out_id = e.id;
        p->out_synced = e.synced;
        return true;
    }
    return false;
}

void cli_receiver_close(cli_peer *p, const xfer_event *ev)
{
    int aside_fd = -1;
    int64_t aside_id = -1;
    if (p->out_id != (int64_t)ev->file && take_ending(p, ev->file, &aside_fd, &aside_id)) {
        close_current(p, ev);
        p->out_fd = aside_fd;
        p->out_id = aside_id;
        return;
    }
    close_current(p, ev);
}

/* The CLOSE of the current file (p->out_fd, p->out_id): fsync, close and
 * rename, or remove. */
static void close_current(cli_peer *p, const xfer_event *ev)
{
    if (p->rx.in_place[ev->file]) { /* the existing file: never renamed, never deleted */
        p->out_id = -1;
        if (ev->ok) xfer_session_closed(p->s, ev->xfer, ev->file, true, NULL);
        return;
    }
    bool synced = p->out_fd >= 0 ? fsync(p->out_fd) == 0 : p->out_synced;
    bool ok = ev->ok && p->out_id == (int64_t)ev->file && synced;
    if (ev->ok && p->out_id != (int64_t)ev->file) {
        /* an empty file gets no write; it was opened by its start */
        ok = false;
    }
    if (p->out_fd >= 0) close(p->out_fd);
    p->out_fd = -1;
    p->out_id = -1;
    p->out_synced = false;
    const xfer_file_entry *f = xfer_incoming_file(p->rx.inc, ev->file);
    const char *partial = p->rx.partial_name[ev->file];
    if (!ev->ok) {
        /* hash mismatch or cancel: never keep the bytes (only our own file) */
        if (p->rx.own_partial[ev->file]) cli_outdir_remove(p->a->out_root, f->dir, partial);
        p->rx.own_partial[ev->file] = false;
        return;
    }
    /* never over a file that appeared meanwhile, unless --force */
    if (ok && cli_outdir_commit(p->a->out_root, f->dir, partial, p->rx.final_name[ev->file],
                                p->a->force) < 0)
        ok = false;
    if (ok) p->rx.own_partial[ev->file] = false;
    xfer_session_closed(p->s, ev->xfer, ev->file, ok, ok ? NULL : "could not commit the file");
}

/* What the transfer holds verified, including files verified over an
 * earlier connection of it (app.kept) or confirmed in place: those are
 * received too; files left out are not counted. */
void cli_receiver_tally(cli_peer *p)
{
    p->ok_files = 0;
    p->ok_bytes = 0;
    size_t n = p->rx.inc ? xfer_incoming_count(p->rx.inc) : 0;
    for (size_t i = 0; i < n; i++) {
        const xfer_file_entry *f = xfer_incoming_file(p->rx.inc, i);
        if (cli_receiver_left_out(p->a, f) || !xfer_incoming_verified(p->rx.inc, i)) continue;
        p->ok_files++;
        p->ok_bytes += f->size;
    }
}

void cli_receiver_text(cli_peer *p, const xfer_event *ev)
{
    cli_app *a = p->a;
    const char *text = (const char *)ev->data;
    if (a->json) {
        /* jansson escapes every control character: one line, as it came */
        cli_out_json(a, "text",
                     json_pack("{s:s,s:s,s:s%}", "peer", p->sid, "from", p->peer_name, "text", text,
                               ev->len));
    } else {
        if (a->tty) {
            /* a hostile peer must not drive the terminal (display.h) */
            char *shown = malloc(8 * ev->len + 4);
            if (!shown) {
                cli_app_finish(a, EXIT_LOCAL);
                return;
            }
            cli_display_escape_text(text, ev->len, shown, 8 * ev->len + 4);
            fputs("\r\033[K", stdout);
            fputs(shown, stdout);
            free(shown);
        } else {
            (void)fwrite(text, 1, ev->len, stdout); /* exactly the bytes, U+0000 too */
        }
        /* the next line on its own, except for -q, whose output is the
         * text alone (peerdrop receive -q LINK > file) */
        if (!a->quiet && text[ev->len - 1] != '\n') fputc('\n', stdout);
        /* stdout to a file is buffered: a full disk or a closed pipe shows
         * at the flush. The text did not reach its destination: a local
         * failure, not a received text */
        if (fflush(stdout) != 0 || ferror(stdout)) {
            fprintf(stderr, "cannot write the received text to standard output: %s\n",
                    strerror(errno));
            cli_app_finish(a, EXIT_LOCAL);
            return;
        }
    }
    /* for a receiver a snippet is the whole exchange unless files are
     * under way; a sender (a browser may answer it with a text) goes on */
    if (!a->sending && !p->rx.inc && !p->prompt) cli_peer_finish_drained(p, a->exit_code);
}
