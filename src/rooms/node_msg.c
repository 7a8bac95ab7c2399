/* node_msg.c: see node_msg.h. */
#include "node_msg.h"

#include <inttypes.h>
#include <string.h>

#include "../base/limits.h"
#include "rooms.h"

/* The next field up to a tab, 1..max bytes; *p moves past the tab. */
static bool field(const char **p, const char *end, const char **f, size_t *len, size_t max)
{
    const char *tab = memchr(*p, '\t', (size_t)(end - *p));
    if (!tab) return false;
    *f = *p;
    *len = (size_t)(tab - *p);
    *p = tab + 1;
    return *len > 0 && *len <= max;
}

/* An id: exactly PD_ID_LEN characters of the base64url alphabet. */
static bool id_copy(const char *s, size_t len, char out[PD_ID_LEN + 1])
{
    if (len != PD_ID_LEN || !rooms_valid_id(s, len)) return false;
    memcpy(out, s, PD_ID_LEN);
    out[PD_ID_LEN] = '\0';
    return true;
}

bool node_msg_decode(const char *in, size_t len, node_msg *out)
{
    memset(out, 0, sizeof *out);
    if (len < 2 || len > PD_MAX_CLUSTER_MSG || in[1] != '\t') return false;
    const char *p = in + 2, *end = in + len, *f;
    size_t flen;
    if (!field(&p, end, &out->room, &out->room_len, PD_MAX_ROOM_ID) ||
        !rooms_valid_id(out->room, out->room_len))
        return false;
    out->kind = (node_msg_kind)in[0];
    switch (out->kind) {
    case NODE_MSG_LEFT:
        return id_copy(p, (size_t)(end - p), out->socket);
    case NODE_MSG_JOINED:
        return field(&p, end, &f, &flen, PD_ID_LEN) && id_copy(f, flen, out->node) &&
               id_copy(p, (size_t)(end - p), out->socket);
    case NODE_MSG_RELAY:
        if (!field(&p, end, &f, &flen, PD_ID_LEN) || !id_copy(f, flen, out->socket) ||
            !field(&p, end, &f, &flen, PD_ID_LEN) || !id_copy(f, flen, out->from) ||
            !field(&p, end, &f, &flen, 20))
            return false;
        for (size_t i = 0; i < flen; i++) {
            if (f[i] < '0' || f[i] > '9') return false;
            if (out->sent_us > (UINT64_MAX - 9) / 10) return false;
            out->sent_us = out->sent_us * 10 + (uint64_t)(f[i] - '0');
        }
        if (p >= end || *p != '[') return false;
        out->args = p;
        out->args_len = (size_t)(end - p);
        return true;
    }
    return false;
}

bool node_msg_joined(pd_buf *out, const char *room_id, const char *node, const char *socket)
{
    out->len = 0;
    return pd_buf_printf(out, "J\t%s\t%s\t%s", room_id, node, socket) == 0;
}

bool node_msg_left(pd_buf *out, const char *room_id, const char *socket)
{
    out->len = 0;
    return pd_buf_printf(out, "L\t%s\t%s", room_id, socket) == 0;
}

bool node_msg_relay_begin(pd_buf *out, const char *room_id, const char *target, const char *from,
                          uint64_t sent_us)
{
    out->len = 0;
    return pd_buf_printf(out, "R\t%s\t%s\t%s\t%" PRIu64 "\t", room_id, target, from, sent_us) == 0;
}
