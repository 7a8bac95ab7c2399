/* ice_config.h: the STUN/TURN settings handed to clients at GET /config,
 * so that ICE servers are configured in one place (the server's flags).
 *
 * TURN credentials follow coturn's REST API scheme (use-auth-secret): the
 * username is "<expiry unix time>:peerdrop" and the credential is
 * base64(HMAC-SHA1(static-auth-secret, username)). They expire, so a leaked
 * link does not give lasting relay access, and the secret never leaves the
 * server. */
#ifndef PD_ICE_CONFIG_H
#define PD_ICE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define ICE_MAX_URLS 8
#define ICE_CREDENTIAL_TTL_S (6 * 3600)

typedef struct ice_config {
    const char *stun[ICE_MAX_URLS];
    size_t stun_count;
    const char *turn[ICE_MAX_URLS];
    size_t turn_count;
    const char *turn_secret; /* NULL: TURN URLs are given without credentials */
} ice_config;

/* Renders {"iceServers":[...]} for a request at unix time `now`;
 * returns a malloc'd string. */
char *ice_config_json(const ice_config *cfg, int64_t now);

#endif
