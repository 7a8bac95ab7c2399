/* lane.h: the lanes of a session (docs/protocol.md §5.10): extra peer
 * connections to the same member, each with one "peerdrop-lane" data
 * channel, that carry the session's DATA. The session's offerer (`peerdrop
 * send`) opens lanes 1..L once both hellos are in; the answerer takes a
 * lane offer only for an authenticated session that agreed at least that
 * many lanes and has no lane of that number yet. Every lane uses the
 * session's DTLS certificate, and its SDP fingerprints must equal the ones
 * the session's PAKE confirmed (docs/authentication.md §6) before its
 * description is applied; a lane that fails that is refused and the
 * session goes on. A lane not open within PD_LANE_OPEN_TIMEOUT_MS is given
 * up; one that fails or closes after it opened ends the session like a
 * dropped connection, unless lane-resend (§5.11, resend.h) is in force:
 * then the session goes on and the sender sends the lane's DATA again.
 * Lanes are freed with their session's peer. */
#ifndef PD_CLI_LANE_H
#define PD_CLI_LANE_H

#include "cli/app.h"

/* Sender, on READY: opens lanes 1..xfer_session_lanes(p->s). */
void cli_lanes_open(cli_peer *p);
/* Receiver: a signaled `offer` with lane k (1..7) from p's member.
 * Refused (logged, nothing sent) unless §5.10 allows it. */
void cli_lane_offer(cli_peer *p, unsigned k, const char *sdp);
/* Sender: the `answer` of lane k. */
void cli_lane_answer(cli_peer *p, unsigned k, const char *sdp);
/* Either: a trickled candidate of lane k (NULL candidate: end). */
void cli_lane_candidate(cli_peer *p, unsigned k, const char *cand, const char *mid);
/* The open channel with the least backlog (rtc_channel_backlog: buffered
 * plus what its SCTP association still holds): the session's or a lane's
 * (DATA only), never channel `exclude` (UINT_MAX: none) nor a lane that
 * stalled (§5.11); *k its number (0: the session's). NULL: none. */
rtc_channel *cli_lanes_pick(cli_peer *p, unsigned exclude, unsigned *k);
/* Channel k (0: the session's, 1..PD_MAX_LANES: a lane) if open, else NULL. */
rtc_channel *cli_lanes_channel(cli_peer *p, unsigned k);
/* The least buffered of the session's channel and its open lanes: the
 * sender reads more while it is below SEND_HIGH_WATER. */
size_t cli_lanes_min_buffered(cli_peer *p);
/* The least backlog (rtc_channel_backlog) of the session's channel and its
 * open lanes. */
size_t cli_lanes_min_backlog(cli_peer *p);
/* Lanes offered and neither open nor given up yet. */
unsigned cli_lanes_pending(const cli_peer *p);
/* Lanes open now. */
unsigned cli_lanes_open_count(const cli_peer *p);
/* Closes and frees every lane of p (its session ends). */
void cli_lanes_close(cli_peer *p);

#endif
