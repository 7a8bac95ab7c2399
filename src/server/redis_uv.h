/* redis_uv.h: hiredis's asynchronous context on a libuv loop (the event
 * hooks of hiredis/async.h), written here instead of hiredis's bundled
 * adapters/libuv.h for two reasons measured in this project:
 *
 *   - on a socket error (POLLERR: a refused connect to a Redis that is
 *     restarting, a reset) libuv stops the watcher and calls back with
 *     UV_EBADF; the bundled adapter returns on any status, so hiredis never
 *     learnt that the connect failed and the context waited for ever: no
 *     connect callback, no reconnection (integration/cluster, "Redis killed
 *     ... back": a node stayed at /healthz 503 after Redis came back). Here
 *     the error goes to hiredis as an event on the socket, whose read or
 *     write then finds the error and reports it;
 *   - the bundled adapter calls uv_poll_start for every command (each an
 *     epoll_ctl, most failing; bench/RESULTS.md, the cluster section);
 *     here the watcher changes only when the set of events does. */
#ifndef PD_SERVER_REDIS_UV_H
#define PD_SERVER_REDIS_UV_H

#include <hiredis/async.h>
#include <uv.h>

/* Attaches ac to loop: REDIS_OK, or REDIS_ERR (already attached, out of
 * memory, an fd libuv refuses). hiredis detaches it when it frees ac. */
int redis_uv_attach(redisAsyncContext *ac, uv_loop_t *loop);

#endif
