/* signaling_app.c: peerdrop-server's app (app.h): the Socket.IO layer with
 * the signaling namespace, rooms and relay (signaling.c). */
#include "app.h"

#include "base/limits.h"
#include "signaling.h"
#include "socketio.h"

int server_app_args(server_config *cfg, int argc, char **argv)
{
    (void)cfg;
    (void)argc;
    (void)argv;
    return 0; /* no arguments of its own: the server's flags are all */
}

bool server_app_start(uv_loop_t *loop, const server_config *cfg, engine_config *ecfg,
                      router_config *rcfg)
{
    (void)rcfg; /* /socket.io/ and the web app: the router's defaults */
    ecfg->cb = srv_sio_engine_callbacks;
    srv_sio_init(loop, &signaling_namespace, 1, cfg->connect_timeout_ms, cfg->max_payload);
    signaling_config scfg = {.room_capacity = cfg->room_capacity,
                             .rate_limit = cfg->rate_limit,
                             .argon2 = cfg->argon2,
                             .ice = &cfg->ice,
                             .redis = cfg->redis_url ? &cfg->redis : NULL,
                             .guard = {.room_failures = cfg->room_guesses,
                                       .room_checks = PD_ROOM_CHECKS_IN_FLIGHT,
                                       .address_failures = cfg->address_guesses,
                                       .session_failures = PD_SESSION_PASSWORD_FAILURES,
                                       .window_ms = PD_PASSWORD_WINDOW_MS,
                                       .backoff_max_ms = PD_PASSWORD_BACKOFF_MAX_MS,
                                       .jobs_global = cfg->hash_queue,
                                       .jobs_per_address = cfg->hash_queue_per_address,
                                       .jobs_per_session = PD_HASH_QUEUE_PER_SESSION,
                                       .max_entries = PD_MAX_GUARD_ENTRIES}};
    signaling_init(loop, &scfg);
    return true;
}

void server_app_stop(void)
{
    signaling_cleanup();
}

const char *server_app_mode(void)
{
    return "signaling";
}
