/* room.h: the CLI's side of the signaling contract (docs/signaling.md)
 * over cli_signal: create-room (send) or join-room (receive) on every
 * (re)connection, the link announced once, the room's events (a receiver
 * joined, a member left, offer / answer / ice-candidate relayed to its
 * peer), and the ICE servers: /config's, then the room's with this
 * member's TURN credential, refreshed at half its lifetime. */
#ifndef PD_CLI_ROOM_H
#define PD_CLI_ROOM_H

#include "cli/app.h"

/* on_connected, on_disconnected, on_event for cli_signal_create (user: the app). */
extern const cli_signal_callbacks cli_room_signal_callbacks;
/* GET /config's ICE servers into a->ice (none on failure). */
void cli_room_ice_load(cli_app *a);
void cli_room_ice_stop(cli_app *a);
size_t cli_room_turn_count(const cli_ice_servers *ice);
/* send --code: a new random code into a->password, its room into a->room,
 * its PRS into a->prs; the nameplate's range grows with a->code_tries
 * (app.h). False (said why) when the keys cannot be derived. */
bool cli_room_code_draw(cli_app *a);

#endif
