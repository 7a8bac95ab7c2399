/* output.h: what the CLI tells its user: human text and progress on
 * stdout, or one JSON event per line with --json (docs/peerdrop.1); peer
 * text always escaped for the terminal (display.h). */
#ifndef PD_CLI_OUTPUT_H
#define PD_CLI_OUTPUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/app.h"

/* Peer text for the terminal (display.h): at most a line's worth. */
#define CLI_SHOWN_CAP 512

/* With --json: {"event": event, ...fields} on one line (takes fields). */
void cli_out_json(cli_app *a, const char *event, json_t *fields);
/* Human text to stdout, unless --json or --quiet. */
__attribute__((format(printf, 2, 3))) void cli_say(cli_app *a, const char *fmt, ...);
/* 1234567 -> "1.2 MB". */
void cli_human_bytes(uint64_t n, char *out, size_t cap);
/* A progress line (a bar on a terminal, every 10% otherwise, an event with
 * --json), at most every 250 ms unless forced. */
void cli_progress(cli_peer *p, bool force);
/* The transfer with p ended (XFER_EV_TRANSFER_DONE): one line, "sent 3
 * files to 1a2b3c4d, 1.2 GB in 8.4 s (143.0 MB/s), verified (SHA-256)"
 * (receiver: "received 3 files, ..."; unless --quiet), or a summary event
 * with --json. Counts p->ok_files and ok_bytes; the rate is of the bytes
 * that crossed this connection (wire_bytes), so that bytes resumed or
 * confirmed in place do not inflate it. */
void cli_summary(cli_peer *p);
/* text escaped for the terminal, into buf. */
const char *cli_shown(const char *text, char buf[CLI_SHOWN_CAP]);
/* "dir/name" of a received file (name: the one it is stored under; NULL:
 * the offered one), escaped. */
const char *cli_shown_path(const xfer_file_entry *f, const char *name, char buf[CLI_SHOWN_CAP]);

#endif
