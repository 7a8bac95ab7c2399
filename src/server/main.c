/* main.c: peerdrop-server. Wires the modules together: configuration, the
 * listener (net/), HTTP (http_conn, router), Engine.IO (engine) and the app
 * above it (app.h: Socket.IO and signaling; in the test binary
 * peerdrop-conformance-server, the official suites' fixtures).
 * Single-threaded event loop; password hashing on libuv's worker pool. */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <uv.h>

#include "app.h"
#include "base/log.h"
#include "cluster.h"
#include "config.h"
#include "engine.h"
#include "http_conn.h"
#include "net/conn.h"
#include "router.h"

#define SHUTDOWN_GRACE_MS 5000

static pd_listener *g_listener;
static uv_signal_t g_sigint, g_sigterm;
static uv_timer_t g_grace;
static bool g_stopping;

/* An idle connection is a file descriptor: let the process hold as many as
 * the hard limit allows. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) PD_LOG_WARN("could not raise the open-file limit");
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        PD_LOG_INFO("open-file limit=%llu", (unsigned long long)rl.rlim_cur);
}

static SSL_CTX *tls_context(const char *cert, const char *key)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    /* keep only a small buffer per idle TLS connection */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        unsigned long e = ERR_get_error();
        PD_LOG_ERROR("TLS: cannot load certificate/key: %s", ERR_reason_error_string(e));
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

static void on_grace_expired(uv_timer_t *t)
{
    PD_LOG_WARN("shutdown grace period over: stopping now");
    uv_stop(t->loop);
}

static void on_signal(uv_signal_t *h, int signum)
{
    if (g_stopping) return;
    g_stopping = true;
    PD_LOG_INFO("signal %d: shutting down", signum);
    pd_listener_destroy(g_listener);
    g_listener = NULL;
    http_server_stop();
    engine_shutdown();
    pd_conn_close_all();
    cluster_stop();
    uv_close((uv_handle_t *)&g_sigint, NULL);
    uv_close((uv_handle_t *)&g_sigterm, NULL);
    uv_timer_init(h->loop, &g_grace);
    uv_timer_start(&g_grace, on_grace_expired, SHUTDOWN_GRACE_MS, 0);
    uv_unref((uv_handle_t *)&g_grace); /* the loop ends as soon as the rest is closed */
}

/* The origin strings point into one copy of the list, freed at exit. */
static char *g_origins_copy;

static char **split_origins(const char *list, size_t *count)
{
    size_t n = 1;
    for (const char *p = list; *p; p++)
        n += *p == ',';
    char **out = calloc(n, sizeof *out);
    char *copy = g_origins_copy = strdup(list);
    if (!out || !copy) exit(1);
    *count = 0;
    for (char *save, *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        if (*tok) out[(*count)++] = tok;
    }
    return out;
}

int main(int argc, char **argv)
{
    server_config cfg;
    config_defaults(&cfg);
    int taken = server_app_args(&cfg, argc, argv);
    if (taken < 0) return 2;
    /* argv[taken] plays argv[0]: config_parse skips it */
    int rc = config_parse(&cfg, argc - taken, argv + taken);
    if (rc != 0) return rc > 0 ? 0 : 2;
    pd_log_level level;
    pd_log_level_parse(cfg.log_level, &level);
    pd_log_set_level(level);
    pd_log_set_json(cfg.log_json);

    if (sodium_init() < 0) {
        PD_LOG_ERROR("libsodium failed to initialise");
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit();
    char threads[16];
    snprintf(threads, sizeof threads, "%u", cfg.hash_threads);
    setenv("UV_THREADPOOL_SIZE", threads, 1); /* read by libuv at its first queued work */

    uv_loop_t *loop = uv_default_loop();
    http_server_config http = {.on_request = router_handle,
                               .on_request_start = router_request_start,
                               .answers_from_head = router_answers_from_head,
                               .max_body = cfg.max_payload,
                               .max_ws_message = cfg.max_payload,
                               .max_ws_output = cfg.max_output,
                               .head_timeout_ms = cfg.head_timeout_ms};
    if (cfg.cors_origin) {
        if (strcmp(cfg.cors_origin, "*") == 0)
            http.cors.any = true;
        else
            http.cors.origins =
                (const char **)split_origins(cfg.cors_origin, &http.cors.origin_count);
    }
    http_server_configure(&http);
    http_server_start(loop);

    engine_config ecfg = {.ping_interval_ms = cfg.ping_interval_ms,
                          .ping_timeout_ms = cfg.ping_timeout_ms,
                          .upgrade_timeout_ms = 10000,
                          .max_payload = cfg.max_payload,
                          .max_sessions_per_ip = cfg.max_sessions_per_ip,
                          .max_sessions = cfg.max_sessions};
    cidr_list metrics_allow;
    cidr_list_parse(cfg.metrics_allow, &metrics_allow); /* checked by config_parse */
    router_config rcfg = {.engine_path = "/socket.io/",
                          .web_root = cfg.web_root,
                          .ice = &cfg.ice,
                          .metrics_allow = &metrics_allow};
    if (!server_app_start(loop, &cfg, &ecfg, &rcfg)) return 1;
    engine_init(loop, &ecfg);
    router_init(&rcfg);

    SSL_CTX *tls = NULL;
    if (cfg.tls_cert) {
        tls = tls_context(cfg.tls_cert, cfg.tls_key);
        if (!tls) return 1;
    }
    int err;
    static cidr_list trust_proxy;                   /* read by every accept */
    cidr_list_parse(cfg.trust_proxy, &trust_proxy); /* checked by config_parse */
    pd_conn_configure(&(pd_conn_limits){.max_per_ip = cfg.max_conns_per_ip,
                                        .trust_proxy = trust_proxy.count ? &trust_proxy : NULL});
    g_listener = pd_listener_create(loop, cfg.host, cfg.port, tls, http_conn_accept,
                                    &http_conn_handler, &err);
    if (!g_listener) {
        PD_LOG_ERROR("cannot listen on %s:%d: %s", cfg.host, cfg.port, uv_strerror(err));
        return 1;
    }
    /* handlers first: a supervisor may signal as soon as it sees "listening" */
    uv_signal_init(loop, &g_sigint);
    uv_signal_start(&g_sigint, on_signal, SIGINT);
    uv_signal_init(loop, &g_sigterm);
    uv_signal_start(&g_sigterm, on_signal, SIGTERM);
    bool v6 = strchr(cfg.host, ':') != NULL;
    /* the readiness line is a contract (docs/server-cli.md): written at any
     * log level but "off", so supervisors and tests can wait for it */
    if (pd_log_get_level() != PD_LOG_LEVEL_OFF)
        pd_log_write(PD_LOG_LEVEL_INFO, __FILE__, __LINE__, "listening url=%s://%s%s%s:%d mode=%s",
                     tls ? "https" : "http", v6 ? "[" : "", cfg.host, v6 ? "]" : "",
                     pd_listener_port(g_listener), server_app_mode());

    uv_run(loop, UV_RUN_DEFAULT);

    server_app_stop();
    if (!uv_is_closing((uv_handle_t *)&g_grace) && g_stopping)
        uv_close((uv_handle_t *)&g_grace, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    uv_loop_close(loop);
    SSL_CTX_free(tls);
    free((void *)http.cors.origins);
    free(g_origins_copy);
    PD_LOG_INFO("stopped");
    return 0;
}
