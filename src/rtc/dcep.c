/* dcep.c: see dcep.h. */
#include "dcep.h"

#include <string.h>

const char *dcep_strerror(int err)
{
    switch (err) {
#define DCEP_ERR_TEXT(name, value, text)                                                           \
    case value:                                                                                    \
        return text;
        DCEP_ERRORS(DCEP_ERR_TEXT)
#undef DCEP_ERR_TEXT
    }
    return "unknown DCEP error";
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static bool channel_type_ok(uint8_t t)
{
    return (t & 0x7f) <= DCEP_PARTIAL_RELIABLE_TIMED;
}

int dcep_decode(const uint8_t *in, size_t len, dcep_msg *out)
{
    memset(out, 0, sizeof *out);
    if (!in || len < 1) return DCEP_E_SHORT;
    out->type = in[0];
    if (in[0] == DCEP_MSG_ACK) return DCEP_OK; /* RFC 8832 §5.2: one byte; extra is ignored */
    if (in[0] != DCEP_MSG_OPEN) return DCEP_E_TYPE;
    if (len < DCEP_OPEN_HEADER_LEN) return DCEP_E_SHORT;
    out->channel_type = in[1];
    if (!channel_type_ok(out->channel_type)) return DCEP_E_CHANNEL_TYPE;
    out->priority = get16(in + 2);
    out->reliability = get32(in + 4);
    out->label_len = get16(in + 8);
    out->protocol_len = get16(in + 10);
    /* size_t arithmetic: two u16 can't overflow it */
    if ((size_t)DCEP_OPEN_HEADER_LEN + out->label_len + out->protocol_len != len)
        return DCEP_E_SHORT;
    out->label = in + DCEP_OPEN_HEADER_LEN;
    out->protocol = out->label + out->label_len;
    return DCEP_OK;
}

int dcep_open_encode(const dcep_msg *m, uint8_t *out, size_t cap)
{
    if (!m || !out) return DCEP_E_NOSPACE;
    if (!channel_type_ok(m->channel_type)) return DCEP_E_CHANNEL_TYPE;
    if ((m->label_len && !m->label) || (m->protocol_len && !m->protocol)) return DCEP_E_SHORT;
    size_t need = (size_t)DCEP_OPEN_HEADER_LEN + m->label_len + m->protocol_len;
    if (need > cap) return DCEP_E_NOSPACE;
    if (need > INT32_MAX) return DCEP_E_TOO_BIG;
    out[0] = DCEP_MSG_OPEN;
    out[1] = m->channel_type;
    put16(out + 2, m->priority);
    put32(out + 4, m->reliability);
    put16(out + 8, m->label_len);
    put16(out + 10, m->protocol_len);
    if (m->label_len) memcpy(out + DCEP_OPEN_HEADER_LEN, m->label, m->label_len);
    if (m->protocol_len)
        memcpy(out + DCEP_OPEN_HEADER_LEN + m->label_len, m->protocol, m->protocol_len);
    return (int)need;
}

int dcep_ack_encode(uint8_t *out, size_t cap)
{
    if (!out || cap < 1) return DCEP_E_NOSPACE;
    out[0] = DCEP_MSG_ACK;
    return 1;
}
