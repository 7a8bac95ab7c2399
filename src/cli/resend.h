/* resend.h: the sender's side of lane-resend (docs/protocol.md §5.11).
 * Every DATA message sent on a channel of a session is kept until
 * xfer_session_data_done() says the peer no longer needs it (its ack
 * covers it, its file is verified or failed, its transfer ended): the kept
 * copies are at most the peer's window (peer.win, what may be in flight)
 * plus the copies sent again, which are at most as much again. A timer
 * watches each lane's backlog; a lane that stalled (PD_LANE_STALL_MS) or
 * closed has what it kept sent again, in order, on the other channels,
 * and a stalled lane gets no new DATA until its backlog is 0. Nothing here
 * runs unless both hellos listed "lane-resend" and lanes were agreed. */
#ifndef PD_CLI_RESEND_H
#define PD_CLI_RESEND_H

#include "cli/app.h"

/* lane-resend is in force for p's session (both hellos, L > 0). */
bool cli_resend_on(const cli_peer *p);
/* A DATA message (len bytes) went out on channel k (0..PD_MAX_LANES):
 * keeps a copy (copy: it was sent again here). */
void cli_resend_sent(cli_peer *p, unsigned k, const uint8_t *d, size_t len, bool copy);
/* Frees the kept messages the peer no longer needs (after its acks). */
void cli_resend_release(cli_peer *p);
/* Sender: starts watching the lanes for a stall (on READY). */
void cli_resend_watch_start(cli_peer *p);
/* Lane k closed or failed: what it kept goes out again on the others. */
void cli_resend_lane_lost(cli_peer *p, unsigned k);
/* Lane k stalled: gets no new DATA now. */
bool cli_resend_stalled(const cli_peer *p, unsigned k);
/* Stops the timer and frees every kept message (the session ends). */
void cli_resend_free(cli_peer *p);

#endif
