/* redis_uv.c: see redis_uv.h. */
#include "redis_uv.h"

#include <stdlib.h>

typedef struct redis_uv {
    redisAsyncContext *ac; /* NULL once hiredis cleaned up: the poll is closing */
    uv_poll_t poll;
    int events; /* what the watcher waits for now (UV_READABLE | UV_WRITABLE) */
} redis_uv;

static void on_poll(uv_poll_t *handle, int status, int events)
{
    redis_uv *p = handle->data;
    if (!p->ac) return;
    if (status < 0) {
        /* libuv stopped the watcher (POLLERR). hiredis learns the error
         * from the socket itself: while connecting its write handler
         * checks SO_ERROR and fails the connect, once connected its read
         * gets the error; either way it disconnects with the reason. */
        events = (p->events & UV_WRITABLE) ? UV_WRITABLE : UV_READABLE;
        p->events = 0;
    }
    if (events & UV_READABLE) redisAsyncHandleRead(p->ac);
    /* the read may have freed the context (cleanup cleared p->ac) */
    if (p->ac && (events & UV_WRITABLE)) redisAsyncHandleWrite(p->ac);
}

static void watch(redis_uv *p, int events)
{
    if (events == p->events) return;
    p->events = events;
    if (events)
        uv_poll_start(&p->poll, events, on_poll);
    else
        uv_poll_stop(&p->poll);
}

static void add_read(void *data)
{
    redis_uv *p = data;
    watch(p, p->events | UV_READABLE);
}

static void del_read(void *data)
{
    redis_uv *p = data;
    watch(p, p->events & ~UV_READABLE);
}

static void add_write(void *data)
{
    redis_uv *p = data;
    watch(p, p->events | UV_WRITABLE);
}

static void del_write(void *data)
{
    redis_uv *p = data;
    watch(p, p->events & ~UV_WRITABLE);
}

static void on_closed(uv_handle_t *handle)
{
    free(handle->data);
}

static void cleanup(void *data)
{
    redis_uv *p = data;
    p->ac = NULL;
    uv_close((uv_handle_t *)&p->poll, on_closed);
}

int redis_uv_attach(redisAsyncContext *ac, uv_loop_t *loop)
{
    if (ac->ev.data) return REDIS_ERR;
    redis_uv *p = calloc(1, sizeof *p);
    if (!p) return REDIS_ERR;
    if (uv_poll_init(loop, &p->poll, ac->c.fd) != 0) {
        free(p);
        return REDIS_ERR;
    }
    p->poll.data = p;
    p->ac = ac;
    ac->ev.data = p;
    ac->ev.addRead = add_read;
    ac->ev.delRead = del_read;
    ac->ev.addWrite = add_write;
    ac->ev.delWrite = del_write;
    ac->ev.cleanup = cleanup;
    return REDIS_OK;
}
