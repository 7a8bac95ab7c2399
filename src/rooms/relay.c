/* relay.c: see relay.h. */
#include "relay.h"

#include <stdlib.h>
#include <string.h>

#include "../base/id.h"
#include "../base/limits.h"

/* W3C WebRTC 1.0 §4.8.1 RTCIceCandidateInit, in the order they are relayed */
const char *const relay_candidate_fields[RELAY_CANDIDATE_FIELDS] = {
    "candidate", "sdpMid", "sdpMLineIndex", "usernameFragment"};
#define MAX_MID_OR_UFRAG 256u

const char *relay_strerror(int err)
{
    switch (err) {
    case RELAY_OK:
        return "ok";
#define RELAY_ERR_TEXT(name, value, text)                                                          \
    case name:                                                                                     \
        return text;
        RELAY_ERRORS(RELAY_ERR_TEXT)
#undef RELAY_ERR_TEXT
    default:
        return "unknown error";
    }
}

/* A member name written with escapes may decode to one the rules read
 * ("\u0073dp"), which js_string_equals does not see: jansson, which
 * decodes it, decides (the full path writes names plainly). */
static bool escaped(const js_value *name)
{
    return name->raw_len != name->str_len + 2;
}

static bool string_ok(const js_value *v, size_t min, size_t max)
{
    return v->kind == JS_STRING && v->str_len >= min && v->str_len <= max;
}

static bool optional_string_ok(const js_value *v, size_t max)
{
    return v->kind == JS_NULL || string_ok(v, 0, max);
}

static bool index_ok(const js_value *v)
{
    if (v->kind == JS_NULL) return true;
    /* the subset's integers have no fraction; "-0" is refused here and
     * written "0" by the full path, which reads it as 0 */
    if (v->kind != JS_INTEGER || v->raw[0] == '-' || v->raw_len > 5) return false;
    unsigned n = 0;
    for (size_t i = 0; i < v->raw_len; i++)
        n = n * 10 + (unsigned)(v->raw[i] - '0');
    return n <= 65535;
}

/* lane: a plain integer 0..PD_MAX_LANE, one or two digits, no leading 0
 * ("07", "-0", 1.0 are refused; the full path writes jansson's integer
 * back plainly) */
static bool lane_ok(const js_value *v, unsigned *lane)
{
    if (v->kind != JS_INTEGER || v->raw_len < 1 || v->raw_len > 2) return false;
    if (v->raw_len == 2 && v->raw[0] == '0') return false;
    unsigned n = 0;
    for (size_t i = 0; i < v->raw_len; i++) {
        if (v->raw[i] < '0' || v->raw[i] > '9') return false;
        n = n * 10 + (unsigned)(v->raw[i] - '0');
    }
    if (n > PD_MAX_LANE) return false;
    *lane = n;
    return true;
}

static int check_candidate(relay_msg *m)
{
    const js_value *c = &m->value;
    if (c->kind == JS_NULL) return RELAY_OK; /* end of candidates */
    if (c->kind != JS_OBJECT) return RELAY_E_CANDIDATE;
    js_iter it;
    js_value k, v;
    js_iter_init(&it, c);
    while (js_iter_next(&it, &k, &v)) {
        if (escaped(&k)) return RELAY_E_UNSURE;
        for (int i = 0; i < RELAY_CANDIDATE_FIELDS; i++) {
            if (!js_string_equals(&k, relay_candidate_fields[i])) continue;
            if (m->have[i]) return RELAY_E_UNSURE; /* jansson keeps the last: the full path */
            m->have[i] = true;
            m->fields[i] = v;
        }
    }
    if (!m->have[0] || !string_ok(&m->fields[0], 0, PD_MAX_CANDIDATE))
        return RELAY_E_CANDIDATE_TEXT;
    if (m->have[1] && !optional_string_ok(&m->fields[1], MAX_MID_OR_UFRAG)) return RELAY_E_SDP_MID;
    if (m->have[2] && !index_ok(&m->fields[2])) return RELAY_E_MLINE_INDEX;
    if (m->have[3] && !optional_string_ok(&m->fields[3], MAX_MID_OR_UFRAG)) return RELAY_E_UFRAG;
    return RELAY_OK;
}

/* sdp as an RTCSessionDescriptionInit: {"type": the event, "sdp": ...} */
static int check_description(relay_msg *m)
{
    js_iter it;
    js_value k, v, type = {0}, sdp = {0};
    bool have_type = false, have_sdp = false;
    js_iter_init(&it, &m->value);
    while (js_iter_next(&it, &k, &v)) {
        if (escaped(&k)) return RELAY_E_UNSURE;
        if (js_string_equals(&k, "type")) {
            if (have_type) return RELAY_E_UNSURE;
            have_type = true;
            type = v;
        } else if (js_string_equals(&k, "sdp")) {
            if (have_sdp) return RELAY_E_UNSURE;
            have_sdp = true;
            sdp = v;
        }
    }
    /* "\u006ffer" is "offer" to jansson, not to js_string_equals */
    if (have_type && type.kind == JS_STRING && escaped(&type)) return RELAY_E_UNSURE;
    if (!have_type || !js_string_equals(&type, m->kind == RELAY_ANSWER ? "answer" : "offer"))
        return RELAY_E_SDP_TYPE;
    if (!have_sdp || !string_ok(&sdp, 1, PD_MAX_SDP)) return RELAY_E_SDP;
    m->described = true;
    m->value = sdp;
    return RELAY_OK;
}

int relay_check(relay_kind kind, const char *payload, size_t len, relay_msg *out)
{
    if (!payload || !out) return RELAY_E_NOT_OBJECT;
    memset(out, 0, sizeof *out);
    out->kind = kind;
    js_value obj, k, v, target = {0}, lane = {0};
    size_t scanned = js_scan_value(payload, len, &obj);
    if (scanned == 0 || scanned != len) return RELAY_E_UNSURE;
    if (obj.kind != JS_OBJECT) return RELAY_E_NOT_OBJECT;
    const char *field = kind == RELAY_ICE ? "candidate" : "sdp";
    bool have_target = false, have_value = false;
    js_iter it;
    js_iter_init(&it, &obj);
    while (js_iter_next(&it, &k, &v)) {
        if (escaped(&k)) return RELAY_E_UNSURE;
        if (js_string_equals(&k, "targetSocketId")) {
            if (have_target) return RELAY_E_UNSURE;
            have_target = true;
            target = v;
        } else if (js_string_equals(&k, field)) {
            if (have_value) return RELAY_E_UNSURE;
            have_value = true;
            out->value = v;
        } else if (js_string_equals(&k, "lane")) {
            if (out->have_lane) return RELAY_E_UNSURE;
            out->have_lane = true;
            lane = v;
        }
    }
    if (!have_target || !string_ok(&target, 1, PD_ID_LEN * 2)) return RELAY_E_TARGET;
    out->target = target.raw + 1;
    out->target_len = target.raw_len - 2;
    out->target_plain = target.raw_len == target.str_len + 2;
    if (out->have_lane && !lane_ok(&lane, &out->lane)) return RELAY_E_LANE;
    if (kind != RELAY_ICE) {
        if (have_value && out->value.kind == JS_OBJECT) return check_description(out);
        return have_value && string_ok(&out->value, 1, PD_MAX_SDP) ? RELAY_OK : RELAY_E_SDP;
    }
    if (!have_value) return RELAY_E_CANDIDATE;
    return check_candidate(out);
}

int relay_write_value(const relay_msg *m, pd_buf *out)
{
    if (m->described) {
        int rc = pd_buf_printf(
            out, "{\"type\":\"%s\",\"sdp\":", m->kind == RELAY_ANSWER ? "answer" : "offer");
        if (rc == PD_BUF_OK) rc = pd_buf_append(out, m->value.raw, m->value.raw_len);
        return rc == PD_BUF_OK ? pd_buf_append_byte(out, '}') : rc;
    }
    if (m->kind != RELAY_ICE || m->value.kind == JS_NULL)
        return pd_buf_append(out, m->value.raw, m->value.raw_len);
    int rc = pd_buf_append_byte(out, '{');
    bool first = true;
    for (int i = 0; i < RELAY_CANDIDATE_FIELDS && rc == PD_BUF_OK; i++) {
        if (!m->have[i]) continue;
        rc = pd_buf_printf(out, "%s\"%s\":", first ? "" : ",", relay_candidate_fields[i]);
        if (rc == PD_BUF_OK) rc = pd_buf_append(out, m->fields[i].raw, m->fields[i].raw_len);
        first = false;
    }
    return rc == PD_BUF_OK ? pd_buf_append_byte(out, '}') : rc;
}

int relay_write_lane(const relay_msg *m, pd_buf *out)
{
    return m->have_lane ? pd_buf_printf(out, ",\"lane\":%u", m->lane) : PD_BUF_OK;
}

char *relay_projection(relay_kind kind, const json_t *payload)
{
    if (!json_is_object(payload)) return NULL;
    json_t *o = json_object();
    if (!o) return NULL;
    const char *field = kind == RELAY_ICE ? "candidate" : "sdp";
    json_t *v = json_object_get(payload, "targetSocketId");
    if (v) json_object_set(o, "targetSocketId", v);
    v = json_object_get(payload, "lane");
    if (v) json_object_set(o, "lane", v);
    v = json_object_get(payload, field);
    if (v && kind == RELAY_ICE && json_is_object(v)) {
        json_t *c = json_object();
        for (size_t i = 0; c && i < RELAY_CANDIDATE_FIELDS; i++) {
            json_t *f = json_object_get(v, relay_candidate_fields[i]);
            if (f) json_object_set(c, relay_candidate_fields[i], f);
        }
        if (c) json_object_set_new(o, field, c);
    } else if (v && json_is_object(v)) { /* offer / answer: {type, sdp} */
        json_t *d = json_object();
        json_t *type = json_object_get(v, "type"), *sdp = json_object_get(v, "sdp");
        if (d && type) json_object_set(d, "type", type);
        if (d && sdp) json_object_set(d, "sdp", sdp);
        if (d) json_object_set_new(o, field, d);
    } else if (v) {
        json_object_set(o, field, v);
    }
    /* no JSON_ENSURE_ASCII: UTF-8 stays as it came, as JSON.stringify
     * writes it; control characters come out as \u escapes */
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}
