/* ice_config.h: the STUN/TURN settings handed to clients, so that ICE
 * servers are configured in one place (the server's flags).
 *
 * GET /config lists the STUN and TURN URLs only, without credentials
 * (issue 11, item 9: it used to hand a 6-hour TURN credential to anyone).
 * A room member gets its TURN credential over the socket, in the ack of a
 * successful create-room / join-room and from `ice-servers` (signaling.c).
 *
 * Credentials follow coturn's REST API scheme (use-auth-secret): the
 * username is "<expiry unix time>:<socket id>" and the credential is
 * base64(HMAC-SHA1(static-auth-secret, username)). coturn checks the expiry
 * when it first authenticates a TURN session (the Allocate) and keeps the
 * key for the session's later Refresh, CreatePermission and ChannelBind
 * requests (coturn ns_turn_server.c check_stun_auth, hmackey_set), so a
 * relayed transfer outlives its credential; the credential needs to cover
 * ICE set-up and a reconnection, and clients ask for a fresh one before it
 * expires. The secret never leaves the server. */
#ifndef PD_ICE_CONFIG_H
#define PD_ICE_CONFIG_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define ICE_MAX_URLS 8

typedef struct ice_config {
    const char *stun[ICE_MAX_URLS];
    size_t stun_count;
    const char *turn[ICE_MAX_URLS];
    size_t turn_count;
    const char *turn_secret; /* NULL: TURN URLs are given without credentials */
    unsigned turn_ttl_s;     /* lifetime of a TURN credential */
} ice_config;

/* Renders {"iceServers":[...]} for GET /config: URLs only, no credential;
 * returns a malloc'd string. */
char *ice_config_json(const ice_config *cfg);

/* The iceServers array for the room member `socket_id` at unix time `now`,
 * its TURN entries with a credential for "<now + ttl>:<socket_id>". */
json_t *ice_servers_for(const ice_config *cfg, int64_t now, const char *socket_id);

#endif
