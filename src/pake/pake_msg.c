/* pake_msg.c: the codec of pake_msg.h, parsing with jansson as the
 * transfer codec does (src/transfer/codec.c). Known difference from the
 * TS side (web/src/crypto/messages.ts): jansson refuses a lone-surrogate
 * escape ("\ud800") anywhere in the text, JSON.parse accepts it in an
 * unknown member; either way no authentication value is affected. */
#include "pake_msg.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char *const type_names[] = {NULL, "pake-start", "pake-share", "pake-confirm"};

const char *pake_msg_type_name(pake_msg_type t)
{
    if ((unsigned)t >= sizeof type_names / sizeof type_names[0]) return NULL;
    return type_names[t];
}

/* Exactly 2*n lowercase hex digits into n bytes. */
static bool get_hex(json_t *obj, const char *key, uint8_t *out, size_t n)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_string(v) || json_string_length(v) != 2 * n) return false;
    const char *s = json_string_value(v);
    for (size_t i = 0; i < 2 * n; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0) return false;
        if (i % 2 == 0)
            out[i / 2] = (uint8_t)(d << 4);
        else
            out[i / 2] |= (uint8_t)d;
    }
    return true;
}

int pake_msg_decode(const uint8_t *text, size_t len, pake_msg *out)
{
    if (!text || !out) return PAKE_E_ARG;
    memset(out, 0, sizeof *out);
    if (len > PAKE_MSG_MAX_LEN) return PAKE_E_TOO_BIG;
    json_error_t jerr;
    /* JSON_ALLOW_NUL: "\u0000" in a string is valid JSON, and JSON.parse takes it */
    json_t *root = json_loadb((const char *)text, len, JSON_ALLOW_NUL, &jerr);
    if (!root) {
        /* jansson says "out of memory" only then; everything else is bad input */
        return strstr(jerr.text, "out of memory") ? PAKE_E_NOMEM : PAKE_E_MSG;
    }
    int r = PAKE_E_MSG;
    json_t *t = json_object_get(root, "t");
    if (!json_is_object(root) || !json_is_string(t)) goto done;
    const char *name = json_string_value(t);
    size_t name_len = json_string_length(t);
    r = PAKE_E_NOT_PAKE;
    for (unsigned i = PAKE_MSG_START; i <= PAKE_MSG_CONFIRM; i++)
        if (strlen(type_names[i]) == name_len && memcmp(type_names[i], name, name_len) == 0)
            out->t = (pake_msg_type)i;
    if (!out->t) goto done;
    r = PAKE_E_MSG;
    switch (out->t) {
    case PAKE_MSG_START: {
        json_t *suite = json_object_get(root, "suite");
        if (!json_is_string(suite) || !get_hex(root, "sid", out->sid, sizeof out->sid) ||
            !get_hex(root, "commit", out->commit, sizeof out->commit))
            goto done;
        if (json_string_length(suite) != strlen(PAKE_SUITE) ||
            memcmp(json_string_value(suite), PAKE_SUITE, strlen(PAKE_SUITE)) != 0) {
            r = PAKE_E_SUITE;
            goto done;
        }
        break;
    }
    case PAKE_MSG_SHARE:
        if (!get_hex(root, "y", out->y, sizeof out->y)) goto done;
        break;
    case PAKE_MSG_CONFIRM:
        if (!get_hex(root, "mac", out->mac, sizeof out->mac)) goto done;
        break;
    }
    r = PAKE_OK;
done:
    json_decref(root);
    if (r != PAKE_OK) {
        pake_msg_type keep = r == PAKE_E_SUITE ? out->t : 0;
        memset(out, 0, sizeof *out);
        out->t = keep;
    }
    return r;
}

static void put_hex(char *out, const uint8_t *b, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++)
        out[2 * i] = hex[b[i] >> 4], out[2 * i + 1] = hex[b[i] & 15];
    out[2 * n] = 0;
}

int pake_msg_encode(char *out, size_t cap, const pake_msg *m)
{
    char a[2 * PAKE_COMMIT_LEN + 1], b[2 * PAKE_COMMIT_LEN + 1];
    int n;
    if (!out || !m) return PAKE_E_ARG;
    switch (m->t) {
    case PAKE_MSG_START:
        put_hex(a, m->sid, sizeof m->sid);
        put_hex(b, m->commit, sizeof m->commit);
        n = snprintf(out, cap,
                     "{\"t\":\"pake-start\",\"suite\":\"%s\",\"sid\":\"%s\",\"commit\":\"%s\"}",
                     PAKE_SUITE, a, b);
        break;
    case PAKE_MSG_SHARE:
        put_hex(a, m->y, sizeof m->y);
        n = snprintf(out, cap, "{\"t\":\"pake-share\",\"y\":\"%s\"}", a);
        break;
    case PAKE_MSG_CONFIRM:
        put_hex(a, m->mac, sizeof m->mac);
        n = snprintf(out, cap, "{\"t\":\"pake-confirm\",\"mac\":\"%s\"}", a);
        break;
    default:
        return PAKE_E_ARG;
    }
    if (n < 0 || (size_t)n >= cap) {
        if (cap) out[0] = 0;
        return PAKE_E_ARG;
    }
    return n;
}
