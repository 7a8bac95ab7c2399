/* sdp.c: see sdp.h. Line-oriented and strict about what we use, lenient
 * about what we do not: JSEP descriptions carry many attributes (extmap,
 * msid-semantic, sctp-init field trials) that a data-channel peer ignores. */
#include "sdp.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../base/limits.h"

const char *sdp_strerror(int err)
{
    switch (err) {
#define SDP_ERR_TEXT(name, value, text)                                                            \
    case value:                                                                                    \
        return text;
        SDP_ERRORS(SDP_ERR_TEXT)
#undef SDP_ERR_TEXT
    }
    return "unknown SDP error";
}

static bool str_eq(sdp_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && memcmp(s.p, lit, n) == 0;
}

static bool str_ieq(sdp_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && strncasecmp(s.p, lit, n) == 0;
}

/* Splits off the next space-separated token of *rest (RFC 8866 uses single
 * spaces; tolerate runs of them). Returns an empty token at the end. */
static sdp_str next_token(sdp_str *rest)
{
    size_t i = 0;
    while (i < rest->len && rest->p[i] == ' ')
        i++;
    size_t start = i;
    while (i < rest->len && rest->p[i] != ' ')
        i++;
    sdp_str tok = {rest->p + start, i - start};
    rest->p += i;
    rest->len -= i;
    return tok;
}

static bool parse_u64(sdp_str s, uint64_t max, uint64_t *out)
{
    if (s.len == 0 || s.len > 20) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < s.len; i++) {
        if (s.p[i] < '0' || s.p[i] > '9') return false;
        unsigned d = (unsigned)(s.p[i] - '0');
        if (v > (max - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* RFC 8839 §5.4: ice-char = ALPHA / DIGIT / "+" / "/". Checking the
 * charset also keeps CR/LF and spaces out of anything we pass on. */
static bool ice_chars_ok(const char *p, size_t len, size_t min)
{
    if (len < min || len > SDP_ICE_MAX) return false;
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '+' || c == '/';
        if (!ok) return false;
    }
    return true;
}

/* RFC 8866 token chars, which is what a mid must be in practice. */
static bool token_ok(const char *p, size_t len, size_t max)
{
    if (len == 0 || len > max) return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c <= 0x20 || c >= 0x7f || strchr("\"(),/:;<=>?@[\\]{}", c)) return false;
    }
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool sdp_fingerprint_parse(const char *s, size_t len, uint8_t out[32])
{
    /* 32 pairs and 31 colons */
    if (len != 32 * 3 - 1) return false;
    for (size_t i = 0; i < 32; i++) {
        int hi = hexval(s[i * 3]), lo = hexval(s[i * 3 + 1]);
        if (hi < 0 || lo < 0) return false;
        if (i < 31 && s[i * 3 + 2] != ':') return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

void sdp_fingerprint_format(const uint8_t fp[32], char out[96])
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < 32; i++) {
        out[i * 3] = hex[fp[i] >> 4];
        out[i * 3 + 1] = hex[fp[i] & 15];
        out[i * 3 + 2] = i < 31 ? ':' : '\0';
    }
}

/* Attribute values seen at session level, used when the m-section does not
 * override them (RFC 8839 §5.4 and RFC 8122 §5 allow both levels). */
typedef struct level_attrs {
    sdp_str ufrag, pwd;
    bool has_fp, fp_other, bad_fp;
    uint8_t fp[32];
    sdp_setup setup;
    bool bad_setup, ice_lite, trickle;
} level_attrs;

static void parse_level_attr(level_attrs *a, sdp_str name, sdp_str val)
{
    if (str_eq(name, "ice-ufrag")) {
        a->ufrag = val;
    } else if (str_eq(name, "ice-pwd")) {
        a->pwd = val;
    } else if (str_eq(name, "fingerprint")) {
        sdp_str rest = val;
        sdp_str hash = next_token(&rest);
        sdp_str fp = next_token(&rest);
        if (str_ieq(hash, "sha-256")) {
            if (sdp_fingerprint_parse(fp.p, fp.len, a->fp))
                a->has_fp = true;
            else
                a->bad_fp = true;
        } else {
            a->fp_other = true; /* sha-1 etc.: fine if a sha-256 is present too */
        }
    } else if (str_eq(name, "setup")) {
        if (str_eq(val, "actpass"))
            a->setup = SDP_SETUP_ACTPASS;
        else if (str_eq(val, "active"))
            a->setup = SDP_SETUP_ACTIVE;
        else if (str_eq(val, "passive"))
            a->setup = SDP_SETUP_PASSIVE;
        else
            a->bad_setup = true; /* holdconn or junk: no DTLS role to take */
    } else if (str_eq(name, "ice-lite")) {
        a->ice_lite = true;
    } else if (str_eq(name, "ice-options")) {
        sdp_str rest = val;
        for (sdp_str t = next_token(&rest); t.len; t = next_token(&rest))
            if (str_eq(t, "trickle")) a->trickle = true;
    }
}

/* m=application <port> UDP/DTLS/SCTP webrtc-datachannel (RFC 8841 §4).
 * The old "DTLS/SCTP 5000" form predates JSEP; no current browser sends it. */
static int parse_m_line(sdp_str val)
{
    sdp_str rest = val;
    sdp_str media = next_token(&rest), port = next_token(&rest), proto = next_token(&rest),
            fmt = next_token(&rest);
    uint64_t p;
    if (!str_eq(media, "application")) return SDP_E_UNSUPPORTED;
    if (!parse_u64(port, 65535, &p)) return SDP_E_SYNTAX;
    if (p == 0) return SDP_E_UNSUPPORTED; /* a rejected m-section (RFC 8829 §5.3.1) */
    if (!str_eq(proto, "UDP/DTLS/SCTP") && !str_eq(proto, "TCP/DTLS/SCTP"))
        return SDP_E_UNSUPPORTED;
    if (!str_eq(fmt, "webrtc-datachannel")) return SDP_E_UNSUPPORTED;
    return SDP_OK;
}

int sdp_parse(const char *sdp, size_t len, sdp_desc *out)
{
    memset(out, 0, sizeof *out);
    out->sctp_port = SDP_DEFAULT_SCTP_PORT;
    out->max_message_size = SDP_DEFAULT_MAX_MESSAGE;
    if (!sdp) return SDP_E_SYNTAX;
    if (len > PD_MAX_SDP) return SDP_E_TOO_BIG;

    level_attrs sess = {0}, media = {0};
    int m_count = 0;
    size_t off = 0;
    bool first = true;
    while (off < len) {
        const char *nl = memchr(sdp + off, '\n', len - off);
        size_t line_len = nl ? (size_t)(nl - (sdp + off)) : len - off;
        sdp_str line = {sdp + off, line_len};
        off += line_len + (nl ? 1 : 0);
        if (line.len && line.p[line.len - 1] == '\r') line.len--;
        if (line.len == 0) continue; /* tolerate a blank trailing line */
        if (line.len < 2 || line.p[1] != '=') return SDP_E_SYNTAX;
        for (size_t i = 0; i < line.len; i++)
            if (line.p[i] == '\0' || line.p[i] == '\r') return SDP_E_SYNTAX;
        char type = line.p[0];
        sdp_str val = {line.p + 2, line.len - 2};
        if (first) {
            if (type != 'v' || !str_eq(val, "0")) return SDP_E_SYNTAX;
            first = false;
            continue;
        }
        if (type == 'm') {
            if (++m_count > 1) return SDP_E_UNSUPPORTED; /* one data section only */
            int rc = parse_m_line(val);
            if (rc != SDP_OK) return rc;
            continue;
        }
        if (type != 'a') continue;

        sdp_str name = val, value = {val.p + val.len, 0};
        const char *colon = memchr(val.p, ':', val.len);
        if (colon) {
            name.len = (size_t)(colon - val.p);
            value.p = colon + 1;
            value.len = val.len - name.len - 1;
        }
        if (m_count == 0) {
            parse_level_attr(&sess, name, value);
            continue;
        }
        parse_level_attr(&media, name, value);
        if (str_eq(name, "mid")) {
            if (!token_ok(value.p, value.len, SDP_MID_MAX)) return SDP_E_SYNTAX;
            out->mid = value;
        } else if (str_eq(name, "sctp-port")) {
            uint64_t v;
            if (!parse_u64(value, 65535, &v) || v == 0) return SDP_E_SYNTAX;
            out->sctp_port = (uint16_t)v;
        } else if (str_eq(name, "max-message-size")) {
            uint64_t v;
            if (!parse_u64(value, UINT64_MAX, &v)) return SDP_E_SYNTAX;
            out->max_message_size = v;
        } else if (str_eq(name, "candidate")) {
            if (out->candidate_count < SDP_MAX_CANDIDATES) {
                sdp_str c = {val.p, val.len}; /* "candidate:..." */
                while (c.len && (c.p[c.len - 1] == ' ' || c.p[c.len - 1] == '\t'))
                    c.len--;
                out->candidates[out->candidate_count++] = c;
            }
        } else if (str_eq(name, "end-of-candidates")) {
            out->end_of_candidates = true;
        }
    }
    if (first) return SDP_E_SYNTAX;
    if (m_count == 0) return SDP_E_NO_MEDIA;

    /* media level wins over session level */
    out->ice_ufrag = media.ufrag.p ? media.ufrag : sess.ufrag;
    out->ice_pwd = media.pwd.p ? media.pwd : sess.pwd;
    if (!ice_chars_ok(out->ice_ufrag.p, out->ice_ufrag.len, SDP_ICE_UFRAG_MIN) ||
        !ice_chars_ok(out->ice_pwd.p, out->ice_pwd.len, SDP_ICE_PWD_MIN))
        return SDP_E_ICE;
    level_attrs *fp = media.has_fp || media.bad_fp ? &media : &sess;
    if (fp->bad_fp || !fp->has_fp) return SDP_E_FINGERPRINT;
    memcpy(out->fingerprint, fp->fp, 32);
    if (media.bad_setup || (media.setup == SDP_SETUP_NONE && sess.bad_setup)) return SDP_E_SETUP;
    out->setup = media.setup != SDP_SETUP_NONE ? media.setup : sess.setup;
    out->ice_lite = sess.ice_lite || media.ice_lite;
    out->ice_trickle = sess.trickle || media.trickle;
    return SDP_OK;
}

/* Appends formatted text; returns false once the buffer is full. */
typedef struct writer {
    char *p;
    size_t cap, len;
    bool full;
} writer;

__attribute__((format(printf, 2, 3))) static void wr(writer *w, const char *fmt, ...)
{
    if (w->full) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(w->p + w->len, w->cap - w->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= w->cap - w->len) {
        w->full = true;
        return;
    }
    w->len += (size_t)n;
}

static bool candidate_line_ok(const char *c)
{
    if (strncmp(c, "candidate:", 10) != 0) return false;
    for (const char *p = c; *p; p++)
        if ((unsigned char)*p < 0x20) return false; /* no CR/LF injection */
    return true;
}

int sdp_write(const sdp_local *in, char *out, size_t cap)
{
    if (!in || !out || cap == 0) return SDP_E_NOSPACE;
    if (!in->ice_ufrag || !in->ice_pwd ||
        !ice_chars_ok(in->ice_ufrag, strlen(in->ice_ufrag), SDP_ICE_UFRAG_MIN) ||
        !ice_chars_ok(in->ice_pwd, strlen(in->ice_pwd), SDP_ICE_PWD_MIN))
        return SDP_E_ICE;
    if (!in->mid || !token_ok(in->mid, strlen(in->mid), SDP_MID_MAX)) return SDP_E_SYNTAX;
    const char *setup = in->setup == SDP_SETUP_ACTPASS   ? "actpass"
                        : in->setup == SDP_SETUP_ACTIVE  ? "active"
                        : in->setup == SDP_SETUP_PASSIVE ? "passive"
                                                         : NULL;
    if (!setup) return SDP_E_SETUP;
    char fp[96];
    sdp_fingerprint_format(in->fingerprint, fp);

    writer w = {out, cap, 0, false};
    /* o= session id: RFC 8829 §5.2.1 asks for a random 63-bit number */
    wr(&w, "v=0\r\no=- %" PRIu64 " 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n",
       in->session_id & INT64_MAX);
    wr(&w, "a=group:BUNDLE %s\r\na=msid-semantic: WMS\r\n", in->mid);
    wr(&w, "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n");
    wr(&w, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=ice-options:trickle\r\n", in->ice_ufrag,
       in->ice_pwd);
    wr(&w, "a=fingerprint:sha-256 %s\r\na=setup:%s\r\na=mid:%s\r\n", fp, setup, in->mid);
    wr(&w, "a=sctp-port:%u\r\n", (unsigned)(in->sctp_port ? in->sctp_port : SDP_DEFAULT_SCTP_PORT));
    if (in->max_message_size) wr(&w, "a=max-message-size:%" PRIu64 "\r\n", in->max_message_size);
    for (size_t i = 0; i < in->candidate_count; i++) {
        if (!in->candidates || !in->candidates[i] || !candidate_line_ok(in->candidates[i]))
            return SDP_E_CANDIDATE;
        wr(&w, "a=%s\r\n", in->candidates[i]);
    }
    if (in->end_of_candidates) wr(&w, "a=end-of-candidates\r\n");
    if (w.full) return SDP_E_NOSPACE;
    return (int)w.len;
}

int sdp_candidate_parse(const char *s, size_t len, sdp_candidate *out)
{
    memset(out, 0, sizeof *out);
    if (!s) return SDP_E_CANDIDATE;
    if (len > PD_MAX_CANDIDATE) return SDP_E_TOO_BIG;
    sdp_str rest = {s, len};
    while (rest.len && (rest.p[rest.len - 1] == '\r' || rest.p[rest.len - 1] == '\n' ||
                        rest.p[rest.len - 1] == ' '))
        rest.len--;
    if (rest.len >= 2 && memcmp(rest.p, "a=", 2) == 0) {
        rest.p += 2;
        rest.len -= 2;
    }
    if (rest.len < 10 || memcmp(rest.p, "candidate:", 10) != 0) return SDP_E_CANDIDATE;
    rest.p += 10;
    rest.len -= 10;
    for (size_t i = 0; i < rest.len; i++)
        if ((unsigned char)rest.p[i] < 0x20 && rest.p[i] != '\t') return SDP_E_CANDIDATE;

    /* foundation component transport priority address port "typ" type ... */
    out->foundation = next_token(&rest);
    sdp_str comp = next_token(&rest);
    out->transport = next_token(&rest);
    sdp_str prio = next_token(&rest);
    out->address = next_token(&rest);
    sdp_str port = next_token(&rest);
    sdp_str typ = next_token(&rest);
    out->type = next_token(&rest);
    uint64_t v;
    if (!token_ok(out->foundation.p, out->foundation.len, 32)) return SDP_E_CANDIDATE;
    if (!parse_u64(comp, 256, &v) || v == 0) return SDP_E_CANDIDATE;
    out->component = (unsigned)v;
    if (out->transport.len == 0 || out->address.len == 0 || out->address.len > 255)
        return SDP_E_CANDIDATE;
    if (!parse_u64(prio, UINT32_MAX, &v)) return SDP_E_CANDIDATE;
    out->priority = (uint32_t)v;
    if (!parse_u64(port, 65535, &v)) return SDP_E_CANDIDATE;
    out->port = (uint16_t)v;
    if (!str_eq(typ, "typ") || out->type.len == 0) return SDP_E_CANDIDATE;
    return SDP_OK;
}

bool sdp_candidate_is_mdns(const sdp_candidate *c)
{
    return c->address.len > 6 && strncasecmp(c->address.p + c->address.len - 6, ".local", 6) == 0;
}
