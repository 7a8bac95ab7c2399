/* output.c: see output.h. */
#include "cli/output.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/display.h"

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
