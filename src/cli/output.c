/* output.c: see output.h. */
#include "cli/output.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/display.h"
#include "cli/lane.h"

void cli_out_json(cli_app *a, const char *event, json_t *fields)
{
    if (!a->json) {
        json_decref(fields);
        return;
    }
    json_t *o = fields ? fields : json_object();
    json_object_set_new(o, "event", json_string(event));
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (s) {
        fprintf(stdout, "%s\n", s);
        fflush(stdout);
        free(s);
    }
    json_decref(o);
}

/* Human text to stderr-free stdout, unless --json (then events only). */
void cli_say(cli_app *a, const char *fmt, ...)
{
    if (a->json || a->quiet) return;
    if (a->tty) fputs("\r\033[K", stdout);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

void cli_human_bytes(uint64_t n, char *out, size_t cap)
{
    static const char *u[] = {"B", "kB", "MB", "GB", "TB"};
    double v = (double)n;
    int i = 0;
    while (v >= 1000 && i < 4)
        v /= 1000, i++;
    snprintf(out, cap, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

void cli_progress(cli_peer *p, bool force)
{
    cli_app *a = p->a;
    int64_t now = g_get_monotonic_time();
    if (!force && now - p->last_print_us < 250000) return;
    p->last_print_us = now;
    double secs = (double)(now - p->start_us) / 1e6;
    uint64_t moved = p->done_bytes > p->base_bytes ? p->done_bytes - p->base_bytes : 0;
    double rate = secs > 0.05 ? (double)moved / secs : 0;
    uint64_t left = p->total_bytes > p->done_bytes ? p->total_bytes - p->done_bytes : 0;
    double eta = rate > 0 ? (double)left / rate : -1;
    double frac = p->total_bytes ? (double)p->done_bytes / (double)p->total_bytes : 1.0;
    if (a->json) {
        cli_out_json(a, "progress",
                     json_pack("{s:s,s:I,s:I,s:f,s:f}", "peer", p->sid, "bytes",
                               (json_int_t)p->done_bytes, "total", (json_int_t)p->total_bytes,
                               "bytesPerSecond", rate, "etaSeconds", eta));
        return;
    }
    if (a->quiet) return;
    char done[32], total[32], speed[32];
    cli_human_bytes(p->done_bytes, done, sizeof done);
    cli_human_bytes(p->total_bytes, total, sizeof total);
    cli_human_bytes((uint64_t)rate, speed, sizeof speed);
    if (a->tty) {
        char bar[31];
        int fill = (int)(frac * 30);
        for (int i = 0; i < 30; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[30] = 0;
        char etas[32] = "-";
        if (eta >= 0) snprintf(etas, sizeof etas, "%.0f s", eta);
        fprintf(stdout, "\r\033[K[%s] %3.0f%% %s / %s  %s/s  ETA %s", bar, frac * 100, done, total,
                speed, etas);
        fflush(stdout);
    } else {
        int decile = (int)(frac * 10);
        if (decile != p->last_decile || force) {
            p->last_decile = decile;
            fprintf(stdout, "progress %3.0f%% %s / %s %s/s\n", frac * 100, done, total, speed);
            fflush(stdout);
        }
    }
}

void cli_summary(cli_peer *p)
{
    cli_app *a = p->a;
    double secs = p->start_us ? (double)(g_get_monotonic_time() - p->start_us) / 1e6 : 0;
    double rate = secs > 0.001 ? (double)p->wire_bytes / secs : 0;
    size_t nfailed = json_array_size(p->failed);
    /* docs/protocol.md §5.8: both are SHA-256, of the file or of its
     * 4 MiB blocks' digests */
    bool blocks = p->s && xfer_session_block_digests(p->s);
    /* lanes (docs/protocol.md §5.10): open at the end, and the DATA bytes
     * (headers included) they carried in this connection */
    /* lane-resend (§5.11): DATA messages the sender sent again, and their
     * bytes (headers included), after a lane stalled or was lost */
    cli_out_json(a, "summary",
                 json_pack("{s:s,s:I,s:I,s:f,s:f,s:s,s:I,s:I,s:I,s:I,s:I}", "peer", p->sid, "files",
                           (json_int_t)p->ok_files, "bytes", (json_int_t)p->ok_bytes, "seconds",
                           secs, "bytesPerSecond", rate, "digest",
                           blocks ? "sha256-blocks" : "sha256", "failed", (json_int_t)nfailed,
                           "lanes", (json_int_t)cli_lanes_open_count(p), "laneBytes",
                           (json_int_t)p->lane_bytes, "resentMsgs", (json_int_t)p->resent_msgs,
                           "resentBytes", (json_int_t)p->resent_bytes));
    if (a->json || a->quiet) return;
    char bytes[32], speed[32], b[CLI_SHOWN_CAP];
    cli_human_bytes(p->ok_bytes, bytes, sizeof bytes);
    cli_human_bytes((uint64_t)rate, speed, sizeof speed);
    GString *line = g_string_new(NULL);
    g_string_append_printf(line, "%s %u file%s", a->sending ? "sent" : "received", p->ok_files,
                           p->ok_files == 1 ? "" : "s");
    if (a->sending) g_string_append_printf(line, " to %.8s", cli_shown(p->sid, b));
    g_string_append_printf(line, ", %s in %.1f s (%s/s)", bytes, secs, speed);
    if (p->ok_files > 0) g_string_append(line, ", verified (SHA-256)");
    if (nfailed > 0) {
        enum { NAMED = 3 }; /* each failed file had its own line already */
        g_string_append_printf(line, "; %zu file%s failed: ", nfailed, nfailed == 1 ? "" : "s");
        for (size_t i = 0; i < nfailed && i < NAMED; i++) {
            json_t *f = json_array_get(p->failed, i);
            const char *dir = json_string_value(json_object_get(f, "dir"));
            char *path = g_strdup_printf("%s%s%s", dir, *dir ? "/" : "",
                                         json_string_value(json_object_get(f, "name")));
            g_string_append_printf(line, "%s%s (%s)", i ? ", " : "", cli_shown(path, b),
                                   json_string_value(json_object_get(f, "code")));
            g_free(path);
        }
        if (nfailed > NAMED) g_string_append(line, ", \u2026");
    }
    cli_say(a, "%s", line->str);
    g_string_free(line, TRUE);
}

const char *cli_shown(const char *text, char buf[CLI_SHOWN_CAP])
{
    return cli_display_escape(text, text ? strlen(text) : 0, buf, CLI_SHOWN_CAP);
}

/* "dir/name" of a received file (name: the one it is stored under), escaped. */
const char *cli_shown_path(const xfer_file_entry *f, const char *name, char buf[CLI_SHOWN_CAP])
{
    char *joined = g_strdup_printf("%s%s%s", f->dir, f->dir_len ? "/" : "", name ? name : f->name);
    cli_display_escape(joined, strlen(joined), buf, CLI_SHOWN_CAP);
    g_free(joined);
    return buf;
}
