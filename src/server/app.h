/* app.h: what runs above the Engine.IO layer, chosen when the binary is
 * linked. peerdrop-server links signaling_app.c (rooms and relay: the
 * contract of docs/signaling.md); the test binary
 * peerdrop-conformance-server links tests/conformance/conformance_app.c (the
 * fixtures of the official Engine.IO/Socket.IO suites), so the product holds
 * no test fixture and no flag that would turn one on. main.c, the rest of
 * the server and its flags are the same in both. */
#ifndef PD_SERVER_APP_H
#define PD_SERVER_APP_H

#include <uv.h>

#include "config.h"
#include "engine.h"
#include "router.h"

/* Called before config_parse: takes the app's own leading arguments
 * (argv[1..n]) and sets its defaults in cfg, which flags and environment
 * variables then override. Returns n (0: none), or -1 after printing a
 * usage message. */
int server_app_args(server_config *cfg, int argc, char **argv);

/* Sets the engine's callbacks (ecfg->cb) and what the router serves, and
 * starts the layers above the engine. Returns false after logging why it
 * cannot run. */
bool server_app_start(uv_loop_t *loop, const server_config *cfg, engine_config *ecfg,
                      router_config *rcfg);

/* After the loop has stopped: frees what server_app_start made. */
void server_app_stop(void);

/* The readiness line's mode= (docs/server-cli.md). */
const char *server_app_mode(void);

#endif
