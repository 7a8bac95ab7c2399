/* sender.h: the sending side of the CLI: the files given on the command
 * line (their manifest, checked by the path rules before anything is
 * offered), the reads the engine asks for (pread, 1 MiB at a time), the
 * offer to each receiver that joins, and offers made again to a receiver
 * whose connection failed (same transfer id: it resumes). */
#ifndef PD_CLI_SENDER_H
#define PD_CLI_SENDER_H

#include "cli/app.h"

/* Adds a regular file, or a directory's files with their relative paths
 * under the directory's own name (as a browser's folder picker does);
 * symbolic links inside a directory are skipped. 0, or -1 after saying why
 * on stderr. */
int cli_sender_add_path(cli_app *a, const char *path, const char *dir, int depth);
/* A new connection to room member `sid`, with our channel, and its offer. */
cli_peer *cli_sender_offer_to(cli_app *a, const char *sid);
/* The session is ready: offers the files. */
void cli_sender_offer(cli_peer *p);
/* send --text: the session is ready: sends the snippet, or, to a peer
 * whose hello has no "text" (an older peerdrop or web app), nothing: that
 * receiver failed (exit 3), and counts for --count. */
void cli_sender_text(cli_peer *p);
/* The receiver acknowledged the snippet: it is delivered; with --count,
 * the run ends after that many. */
void cli_sender_text_delivered(cli_peer *p);
/* The receiver accepted (some of) the files. */
void cli_sender_accepted(cli_peer *p, const xfer_event *ev);
/* Does the read the session asked for and hands it the bytes. */
void cli_sender_read(cli_peer *p, const xfer_read *r);
/* The connection failed: offers this receiver a new one 1, 2, 3 s later,
 * unless it left or PEER_RETRIES are used up. */
void cli_sender_retry_later(cli_peer *p);

#endif
