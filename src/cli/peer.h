/* peer.h: one WebRTC connection to a room member (src/rtc) and the
 * transfer session on its data channel (src/transfer): the rtc callbacks,
 * the engine loop that moves messages, reads and events (cli_peer_pump),
 * and the dispatch of events to the sender, the receiver and the output.
 * A peer is freed from an idle source, never inside its own callbacks
 * (STYLE §4). */
#ifndef PD_CLI_PEER_H
#define PD_CLI_PEER_H

#include "cli/app.h"

/* A new connection to room member `sid` (its ICE servers: the run's). */
cli_peer *cli_peer_new(cli_app *a, const char *sid);
cli_peer *cli_peer_find(cli_app *a, const char *sid);
/* Applies the peer's "offer" or "answer" (rtc_peer_set_remote_description)
 * and keeps its DTLS fingerprint for the authentication. 0 or -1. */
int cli_peer_set_remote(cli_peer *p, const char *type, const char *sdp);
/* Unlinks and frees p now (not from its own callbacks). */
void cli_peer_remove(cli_app *a, cli_peer *p);
/* Done with p: freed from an idle source. */
void cli_peer_finish(cli_peer *p);
/* Sends queued messages, handles events, asks for reads (the sender, while
 * the channel holds less than SEND_HIGH_WATER), until nothing moves. */
void cli_peer_pump(cli_peer *p);
/* The connection is lost mid-session (a lane of it failed or closed,
 * lane.h): as when its channel closes, the sender offers again and the
 * receiver waits for that offer, and the transfer resumes. */
void cli_peer_lost(cli_peer *p, const char *why);
/* Sender: a lane opened or was given up; the offer goes once none is
 * pending (lane.h, PD_LANE_OFFER_WAIT_MS). */
void cli_peer_lanes_settled(cli_peer *p);
/* Receiver: ends the run with `code` once our last messages reached the
 * peer (DRAIN_TIMEOUT_MS at most). */
void cli_peer_finish_drained(cli_peer *p, int code);

#endif
