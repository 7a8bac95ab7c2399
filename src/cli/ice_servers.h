/* ice_servers.h: the CLI's STUN/TURN servers, from the signaling server's
 * GET /config (docs/signaling.md), the same list the web app gives its
 * RTCPeerConnection: {"iceServers":[{"urls":"stun:..."|[...],
 * "username":"...","credential":"..."}]}. /config has no TURN credential;
 * the room's acks carry the same shape with one (main.c take_ice), parsed
 * by cli_ice_servers_parse too.
 *
 * The fetch is one blocking HTTP/1.1 request (TLS for https://, peer and
 * host name verified, $PEERDROP_CA_FILE as in signal_client.c), bounded by
 * a timeout; the CLI does it before its loop runs, like the name lookup in
 * signal_client.c. Failure is not fatal: host candidates still work on a
 * LAN, so the caller logs and goes on with no servers. TURN credentials
 * are never logged. */
#ifndef PD_CLI_ICE_SERVERS_H
#define PD_CLI_ICE_SERVERS_H

#include <stddef.h>

#include "rtc/rtc.h"

typedef struct cli_ice_servers {
    rtc_ice_server *list; /* one entry per URL; strings owned */
    size_t count;
} cli_ice_servers;

/* Parses a /config body into `out` (which it initialises). Entries that are
 * not objects with a string or array "urls" are skipped; at most
 * CLI_ICE_MAX_SERVERS URLs are kept. Returns 0, or -1 for a body that is not
 * a JSON object with an "iceServers" array (out is then empty). Pure. */
#define CLI_ICE_MAX_SERVERS 16
int cli_ice_servers_parse(const char *json, size_t len, cli_ice_servers *out);

/* GET <server_url>/config. Returns 0 (out filled, maybe with 0 servers) or
 * -1 (out empty; the reason is logged at warn). */
int cli_ice_servers_fetch(const char *server_url, unsigned timeout_ms, cli_ice_servers *out);

void cli_ice_servers_cleanup(cli_ice_servers *s);

#endif
