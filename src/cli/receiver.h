/* receiver.h: the receiving side of the CLI. Every file it writes goes
 * beneath the output folder through outdir.h (no symbolic link followed, no
 * hard-linked .partial reused, never over an existing file without
 * --force). An offer: hidden names left out (unless --allow-dotfiles),
 * each file's .partial found and hashed so that accept resumes it, a final
 * file of the offered size offered as held (the sender confirms or resends
 * into a free name), then --yes or the prompt. The storage events of the
 * engine (open, write, close) become .partial writes and the rename after
 * the digest matched. A transfer whose connection was lost is kept
 * (app.kept) and resumed by the sender's next offer of it. */
#ifndef PD_CLI_RECEIVER_H
#define PD_CLI_RECEIVER_H

#include "cli/app.h"

/* The sender's offer (XFER_EV_OFFER). */
void cli_receiver_offer(cli_peer *p, const xfer_event *ev);
/* A text snippet (XFER_EV_TEXT, already acknowledged): printed on stdout,
 * as it is (escaped for a terminal, display.h), or a text event with
 * --json. A receiver's run ends there unless a transfer with this peer is
 * under way; a sender (to which a browser may send one) goes on. */
void cli_receiver_text(cli_peer *p, const xfer_event *ev);
/* Storage events: XFER_EV_OPEN, XFER_EV_WRITE, XFER_EV_CLOSE. */
void cli_receiver_open(cli_peer *p, const xfer_event *ev);
void cli_receiver_write(cli_peer *p, const xfer_event *ev);
void cli_receiver_close(cli_peer *p, const xfer_event *ev);
/* A file this receiver leaves out: a hidden name without --allow-dotfiles. */
bool cli_receiver_left_out(const cli_app *a, const xfer_file_entry *f);
/* The connection is gone before the transfer ended: keep what was received
 * and wait for the sender's next offer, unless it left (or retries ran
 * out), or another connection goes on. */
void cli_receiver_lost(cli_peer *p);
/* The transfer ended: p->ok_files and ok_bytes from what it holds verified
 * (also over an earlier connection of it), for the done and summary events. */
void cli_receiver_tally(cli_peer *p);
/* Stops waiting for the sender's next offer. */
void cli_receiver_stop_wait(cli_app *a);
void cli_receiver_files_free(cli_incoming_files *f);

#endif
