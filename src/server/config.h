/* config.h: the server's settings from flags and environment variables.
 * One table drives parsing, the environment and --help, so they agree. */
#ifndef PD_CONFIG_H
#define PD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "ice_config.h"
#include "rooms/password.h"
#include "rooms/redis_url.h"

typedef struct server_config {
    const char *host;
    int port;
    const char *web_root;
    const char *tls_cert;
    const char *tls_key;
    unsigned room_capacity;
    unsigned max_payload;
    unsigned ping_interval_ms;
    unsigned ping_timeout_ms;
    unsigned connect_timeout_ms;
    unsigned rate_limit;
    unsigned room_guesses;    /* wrong passwords per room per minute */
    unsigned address_guesses; /* ... per client address */
    unsigned hash_queue;      /* pending Argon2 jobs, all clients */
    unsigned hash_queue_per_address;
    const char *cors_origin; /* "*" or comma-separated list; NULL: no CORS */
    password_cost argon2;
    unsigned hash_threads;
    ice_config ice;
    const char *metrics_allow; /* CIDR list */
    const char *trust_proxy;   /* CIDR list of PROXY v2 balancers; "" = none */
    const char *log_level;
    bool log_json;
    /* connection and session limits (limits.h, docs/security.md) */
    unsigned max_output;
    unsigned head_timeout_ms;
    unsigned max_conns_per_ip;
    unsigned max_sessions_per_ip;
    unsigned max_sessions;
    const char *redis_url; /* --redis: many nodes (docs/scale.md); NULL: one process */
    redis_url redis;       /* parsed from it */
} server_config;

/* The defaults of --help. */
void config_defaults(server_config *cfg);
/* Over what cfg holds (config_defaults, then the app's own defaults:
 * app.h), applies the environment, then argv[1..argc-1]. Returns 0 to run,
 * 1 when --help/--version was printed, -1 on a bad option (message already
 * printed). */
int config_parse(server_config *cfg, int argc, char **argv);

#endif
