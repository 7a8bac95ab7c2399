/* config.c: see config.h. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cidr.h"
#include "base/limits.h"
#include "base/log.h"

#ifndef PEERDROP_VERSION
#define PEERDROP_VERSION "0.1.0"
#endif
#ifndef PEERDROP_DEFAULT_WEB_ROOT /* CMakeLists.txt: PD_INSTALLED_WEB_ROOT */
#define PEERDROP_DEFAULT_WEB_ROOT "web/dist"
#endif

typedef enum opt_kind { OPT_STR, OPT_UINT, OPT_PORT, OPT_FLAG, OPT_SPECIAL } opt_kind;

typedef struct option_def {
    const char *flag;
    const char *env;
    const char *arg;
    const char *help;
    opt_kind kind;
    size_t offset;
    unsigned max;
} option_def;

#define OFF(field) offsetof(server_config, field)

static const option_def options[] = {
    {"--host", "PEERDROP_HOST", "ADDR", "listen address (default 127.0.0.1; :: or 0.0.0.0 for all)",
     OPT_STR, OFF(host), 0},
    {"--port", "PEERDROP_PORT", "N", "listen port, 0 = any free port (default 8080)", OPT_PORT,
     OFF(port), 65535},
    {"--web-root", "PEERDROP_WEB_ROOT", "DIR",
     "static files of the web app (default " PEERDROP_DEFAULT_WEB_ROOT ")", OPT_STR, OFF(web_root),
     0},
    {"--cert", "PEERDROP_TLS_CERT", "FILE", "TLS certificate chain (PEM): serve HTTPS/WSS", OPT_STR,
     OFF(tls_cert), 0},
    {"--key", "PEERDROP_TLS_KEY", "FILE", "TLS private key (PEM)", OPT_STR, OFF(tls_key), 0},
    {"--room-capacity", "PEERDROP_ROOM_CAPACITY", "N", "peers per room (default 8)", OPT_UINT,
     OFF(room_capacity), PD_MAX_ROOM_CAPACITY},
    {"--max-payload", "PEERDROP_MAX_PAYLOAD", "N",
     "Engine.IO maxPayload in bytes (default 1000000)", OPT_UINT, OFF(max_payload), 64u << 20},
    {"--ping-interval", "PEERDROP_PING_INTERVAL", "MS", "heartbeat interval (default 25000)",
     OPT_UINT, OFF(ping_interval_ms), 3600000},
    {"--ping-timeout", "PEERDROP_PING_TIMEOUT", "MS", "pong deadline (default 20000)", OPT_UINT,
     OFF(ping_timeout_ms), 3600000},
    {"--connect-timeout", "PEERDROP_CONNECT_TIMEOUT", "MS",
     "time to join a namespace (default 45000)", OPT_UINT, OFF(connect_timeout_ms), 3600000},
    {"--rate-limit", "PEERDROP_RATE_LIMIT", "N",
     "signaling events per second per socket, 0 = off (default 100)", OPT_UINT, OFF(rate_limit),
     1000000},
    {"--room-guesses", "PEERDROP_ROOM_GUESSES", "N",
     "wrong passwords per room per minute before it backs off, 0 = no limit (default 10)", OPT_UINT,
     OFF(room_guesses), 1000000},
    {"--address-guesses", "PEERDROP_ADDRESS_GUESSES", "N",
     "wrong passwords per client address per minute, 0 = no limit (default 30)", OPT_UINT,
     OFF(address_guesses), 1000000},
    {"--hash-queue", "PEERDROP_HASH_QUEUE", "N",
     "pending password hashes, all clients, 0 = no limit (default 32)", OPT_UINT, OFF(hash_queue),
     1000000},
    {"--hash-queue-per-address", "PEERDROP_HASH_QUEUE_PER_ADDRESS", "N",
     "pending password hashes per client address, 0 = no limit (default 4)", OPT_UINT,
     OFF(hash_queue_per_address), 1000000},
    {"--cors-origin", "PEERDROP_CORS_ORIGIN", "LIST",
     "\"*\" or comma-separated allowed origins (default: none)", OPT_STR, OFF(cors_origin), 0},
    {"--argon2", "PEERDROP_ARGON2", "LEVEL",
     "interactive | moderate | sensitive | min (tests only) (default interactive)", OPT_SPECIAL, 0,
     0},
    {"--hash-threads", "PEERDROP_HASH_THREADS", "N", "password hashing workers (default 2)",
     OPT_UINT, OFF(hash_threads), 64},
    {"--stun", "PEERDROP_STUN", "URL",
     "STUN server for clients, e.g. stun:stun.example.org:3478 (repeatable)", OPT_SPECIAL, 0, 0},
    {"--turn", "PEERDROP_TURN", "URL",
     "TURN server for clients, e.g. turn:turn.example.org:3478 (repeatable)", OPT_SPECIAL, 0, 0},
    {"--turn-secret", "PEERDROP_TURN_SECRET", "SECRET",
     "coturn static-auth-secret: clients get short-lived TURN credentials", OPT_STR,
     OFF(ice.turn_secret), 0},
    {"--turn-ttl", "PEERDROP_TURN_TTL", "SECONDS",
     "lifetime of a room member's TURN credential (default 1200)", OPT_UINT, OFF(ice.turn_ttl_s),
     7 * 24 * 3600},
    {"--metrics-allow", "PEERDROP_METRICS_ALLOW", "CIDRS",
     "client addresses that may read /metrics, comma-separated (default 127.0.0.0/8,::1)", OPT_STR,
     OFF(metrics_allow), 0},
    {"--trust-proxy", "PEERDROP_TRUST_PROXY", "CIDRS",
     "load balancers sending the PROXY protocol v2 header (HAProxy send-proxy-v2), "
     "comma-separated: only they may connect, and the header's source address is the client's "
     "(default none: clients connect directly)",
     OPT_STR, OFF(trust_proxy), 0},
    {"--max-output", "PEERDROP_MAX_OUTPUT", "BYTES",
     "unsent output a WebSocket client may leave queued before it is disconnected, 0 = no cap "
     "(default 4194304)",
     OPT_UINT, OFF(max_output), 1u << 30},
    {"--head-timeout", "PEERDROP_HEAD_TIMEOUT", "MS",
     "a request head must arrive whole within this of its first byte, 0 = no deadline (default "
     "10000)",
     OPT_UINT, OFF(head_timeout_ms), 3600000},
    {"--max-conns-per-ip", "PEERDROP_MAX_CONNS_PER_IP", "N",
     "open connections per client address (IPv6: per /64), 0 = no cap (default 256)", OPT_UINT,
     OFF(max_conns_per_ip), 1000000},
    {"--max-sessions-per-ip", "PEERDROP_MAX_SESSIONS_PER_IP", "N",
     "Engine.IO sessions per client address, 0 = no cap (default 256)", OPT_UINT,
     OFF(max_sessions_per_ip), 1000000},
    {"--max-sessions", "PEERDROP_MAX_SESSIONS", "N",
     "Engine.IO sessions in all, 0 = no cap (default 65536)", OPT_UINT, OFF(max_sessions),
     100000000},
    {"--redis", "PEERDROP_REDIS", "URL",
     "run as one of many nodes: rooms and relay through Redis, "
     "redis://[[user]:password@]host[:port][/db] (default: none, this process only)",
     OPT_STR, OFF(redis_url), 0},
    {"--log-level", "PEERDROP_LOG_LEVEL", "LEVEL", "debug | info | warn | error (default info)",
     OPT_STR, OFF(log_level), 0},
    {"--log-json", "PEERDROP_LOG_JSON", NULL, "log one JSON object per line", OPT_FLAG,
     OFF(log_json), 0},
};
#define OPTION_COUNT (sizeof options / sizeof options[0])

static void print_help(void)
{
    printf("peerdrop-server %s: signaling server for Peerdrop (Socket.IO, Engine.IO v4)\n\n"
           "usage: peerdrop-server [options]\n\noptions (environment variable in brackets):\n",
           PEERDROP_VERSION);
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        const option_def *o = &options[i];
        char left[64];
        snprintf(left, sizeof left, "%s%s%s", o->flag, o->arg ? " " : "", o->arg ? o->arg : "");
        printf("  %-24s %s", left, o->help);
        if (o->env) printf(" [%s]", o->env);
        printf("\n");
    }
    printf("  %-24s %s\n  %-24s %s\n\n", "--help", "show this help", "--version",
           "show the version");
    printf(
        "HTTP endpoints: /socket.io/ (signaling), /config (ICE server URLs), /healthz, /metrics,\n"
        "everything else: the web app. Exit status: 0 after SIGINT/SIGTERM, 1 on a start-up\n"
        "error, 2 on a bad option.\n");
}

static bool parse_uint(const char *s, unsigned max, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v > max) return false;
    *out = (unsigned)v;
    return true;
}

static int apply(server_config *cfg, const option_def *o, const char *value)
{
    char *base = (char *)cfg;
    unsigned u;
    switch (o->kind) {
    case OPT_STR:
        *(const char **)(base + o->offset) = value;
        return 0;
    case OPT_UINT:
    case OPT_PORT:
        if (!parse_uint(value, o->max, &u)) {
            fprintf(stderr, "peerdrop-server: %s: not a number in 0..%u: %s\n", o->flag, o->max,
                    value);
            return -1;
        }
        if (o->kind == OPT_PORT)
            *(int *)(base + o->offset) = (int)u;
        else
            *(unsigned *)(base + o->offset) = u;
        return 0;
    case OPT_FLAG:
        *(bool *)(base + o->offset) = value == NULL || strcmp(value, "0") != 0;
        return 0;
    case OPT_SPECIAL:
        break;
    }
    if (strcmp(o->flag, "--argon2") == 0) {
        if (password_cost_parse(value, &cfg->argon2)) return 0;
        fprintf(stderr, "peerdrop-server: --argon2: unknown level: %s\n", value);
        return -1;
    }
    bool stun = strcmp(o->flag, "--stun") == 0;
    const char **list = stun ? cfg->ice.stun : cfg->ice.turn;
    size_t *count = stun ? &cfg->ice.stun_count : &cfg->ice.turn_count;
    if (*count >= ICE_MAX_URLS) {
        fprintf(stderr, "peerdrop-server: %s: at most %d\n", o->flag, ICE_MAX_URLS);
        return -1;
    }
    list[(*count)++] = value;
    return 0;
}

void config_defaults(server_config *cfg)
{
    *cfg = (server_config){
        .host = "127.0.0.1",
        .port = 8080,
        .web_root = PEERDROP_DEFAULT_WEB_ROOT,
        .room_capacity = PD_DEFAULT_ROOM_CAPACITY,
        .max_payload = PD_DEFAULT_MAX_PAYLOAD,
        .ping_interval_ms = 25000,
        .ping_timeout_ms = 20000,
        .connect_timeout_ms = 45000,
        .rate_limit = 100,
        .room_guesses = PD_DEFAULT_ROOM_PASSWORD_FAILURES,
        .address_guesses = PD_DEFAULT_ADDRESS_PASSWORD_FAILURES,
        .hash_queue = PD_DEFAULT_HASH_QUEUE,
        .hash_queue_per_address = PD_DEFAULT_HASH_QUEUE_PER_ADDRESS,
        .argon2 = PASSWORD_COST_INTERACTIVE,
        .hash_threads = 2,
        .log_level = "info",
        .metrics_allow = PD_DEFAULT_METRICS_ALLOW,
        .trust_proxy = "",
        .ice = {.turn_ttl_s = PD_DEFAULT_TURN_TTL_S},
        .max_output = PD_DEFAULT_WS_OUTPUT_HARD,
        .head_timeout_ms = PD_DEFAULT_HEAD_TIMEOUT_MS,
        .max_conns_per_ip = PD_DEFAULT_MAX_CONNS_PER_IP,
        .max_sessions_per_ip = PD_DEFAULT_MAX_SESSIONS_PER_IP,
        .max_sessions = PD_DEFAULT_MAX_SESSIONS,
    };
}

int config_parse(server_config *cfg, int argc, char **argv)
{
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        const char *v = options[i].env ? getenv(options[i].env) : NULL;
        if (v && *v && apply(cfg, &options[i], v) != 0) return -1;
    }
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            print_help();
            return 1;
        }
        if (strcmp(arg, "--version") == 0) {
            printf("peerdrop-server %s\n", PEERDROP_VERSION);
            return 1;
        }
        const option_def *o = NULL;
        const char *value = NULL;
        for (size_t k = 0; k < OPTION_COUNT && !o; k++) {
            size_t n = strlen(options[k].flag);
            if (strncmp(arg, options[k].flag, n) == 0 && (arg[n] == '\0' || arg[n] == '=')) {
                o = &options[k];
                if (arg[n] == '=') value = arg + n + 1;
            }
        }
        if (!o) {
            fprintf(stderr, "peerdrop-server: unknown option: %s (see --help)\n", arg);
            return -1;
        }
        if (o->arg && !value) {
            if (i + 1 >= argc) {
                fprintf(stderr, "peerdrop-server: %s needs a value\n", o->flag);
                return -1;
            }
            value = argv[++i];
        }
        if (apply(cfg, o, value) != 0) return -1;
    }
    if (!cfg->tls_cert != !cfg->tls_key) {
        fprintf(stderr, "peerdrop-server: --cert and --key go together\n");
        return -1;
    }
    if (cfg->room_capacity < 2) {
        fprintf(stderr, "peerdrop-server: --room-capacity must be at least 2\n");
        return -1;
    }
    if (cfg->hash_threads < 1) cfg->hash_threads = 1;
    if (cfg->ice.turn_ttl_s < 60) {
        fprintf(stderr, "peerdrop-server: --turn-ttl must be at least 60 seconds\n");
        return -1;
    }
    if (cfg->redis_url) {
        const char *why;
        /* the URL may hold a password: the message never repeats it */
        if (!redis_url_parse(cfg->redis_url, &cfg->redis, &why)) {
            fprintf(stderr, "peerdrop-server: --redis: %s\n", why);
            return -1;
        }
    }
    cidr_list allow;
    if (!cidr_list_parse(cfg->metrics_allow, &allow)) {
        fprintf(stderr, "peerdrop-server: --metrics-allow: not a list of addresses/prefixes: %s\n",
                cfg->metrics_allow);
        return -1;
    }
    cidr_list proxies;
    if (!cidr_list_parse(cfg->trust_proxy, &proxies)) {
        fprintf(stderr, "peerdrop-server: --trust-proxy: not a list of addresses/prefixes: %s\n",
                cfg->trust_proxy);
        return -1;
    }
    pd_log_level level;
    if (!pd_log_level_parse(cfg->log_level, &level)) {
        fprintf(stderr, "peerdrop-server: --log-level: unknown level: %s\n", cfg->log_level);
        return -1;
    }
    return 0;
}
