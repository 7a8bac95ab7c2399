/* link.c: see link.h. The share link, its parsing and its QR code; the
 * random room id and password it carries. */
#include "cli/link.h"

#include <openssl/rand.h>
#include <qrencode.h>
#include <stdio.h>
#include <string.h>

#include "base/utf8.h"
#include "http/http.h"

bool cli_link_random_password(char *out, size_t len)
{
    /* the web app's alphabet (web/src/lib/link.ts): no 0/O/1/l/I */
    static const char alpha[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    _Static_assert(sizeof alpha - 1 == CLI_LINK_ALPHABET_LEN, "the alphabet's size");
    size_t n = 0;
    while (n < len) {
        unsigned char b[32];
        if (RAND_bytes(b, sizeof b) != 1) return false;
        for (size_t i = 0; i < sizeof b && n < len; i++)
            if (b[i] < 224) out[n++] = alpha[b[i] % 56]; /* 224 = 4*56: uniform */
    }
    out[n] = 0;
    return true;
}

bool cli_link_random_room(char out[37])
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1) return false;
    b[6] = (b[6] & 0x0f) | 0x40; /* RFC 4122 version 4 */
    b[8] = (b[8] & 0x3f) | 0x80;
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
    return true;
}

static void url_encode(const char *in, char *out, size_t cap)
{
    /* encodeURIComponent: keep A-Z a-z 0-9 - _ . ! ~ * ' ( ) */
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && o + 4 < cap; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            strchr("-_.!~*'()", *p))
            out[o++] = (char)*p;
        else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = 0;
}

static bool room_id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 128) return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
            return false;
    return true;
}

/* The web app's link: BASE#room=<id>&key=<password> (web/src/lib/link.ts). */
void cli_link_build(const char *server, const char *room, const char *password, char *out,
                    size_t cap)
{
    char base[1024], id[400], pw[800];
    snprintf(base, sizeof base, "%s", server);
    char *hash = strchr(base, '#');
    if (hash) *hash = 0;
    char *q = strchr(base, '?');
    if (q) *q = 0;
    /* ws(s):// given: the page lives on http(s):// */
    if (!strncmp(base, "ws://", 5))
        memmove(base + 2, base, strlen(base) + 1), memcpy(base, "http", 4);
    if (!strncmp(base, "wss://", 6))
        memmove(base + 2, base, strlen(base) + 1), memcpy(base, "https", 5);
    /* URL.toString() of an origin always has a path: at least "/" */
    const char *after_scheme = strstr(base, "://");
    if (after_scheme && !strchr(after_scheme + 3, '/'))
        strncat(base, "/", sizeof base - strlen(base) - 1);
    url_encode(room, id, sizeof id);
    url_encode(password, pw, sizeof pw);
    snprintf(out, cap, "%s#room=%s&key=%s", base, id, pw);
}

void cli_link_print_qr(const char *text)
{
    QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_L, QR_MODE_8, 1);
    if (!qr) return;
    int w = qr->width, quiet = 2;
    /* two modules per character cell with half blocks: ▀ ▄ █ */
    for (int y = -quiet; y < w + quiet; y += 2) {
        fputs("  ", stdout);
        for (int x = -quiet; x < w + quiet; x++) {
            bool top = y >= 0 && y < w && x >= 0 && x < w && (qr->data[y * w + x] & 1);
            bool bot =
                y + 1 >= 0 && y + 1 < w && x >= 0 && x < w && (qr->data[(y + 1) * w + x] & 1);
            /* dark modules print as blank on a dark terminal: invert (light = block) */
            fputs(!top && !bot ? "\u2588" : !top ? "\u2580" : !bot ? "\u2584" : " ", stdout);
        }
        fputc('\n', stdout);
    }
    QRcode_free(qr);
}

/* URLSearchParams-style value: a raw '+' is a space, then %XX decoded by
 * src/http's decoder (a '+' written as %2B stays a '+'). False when the
 * value does not fit, or (*damaged set) when an escape is malformed, a NUL
 * is decoded or the bytes are not UTF-8: a link the web app or the CLI
 * made has none of these, and a key mangled on its way would derive
 * another PRS and fail authentication with a confusing message. */
static bool form_decode(const char *in, size_t len, char *out, size_t cap, bool *damaged)
{
    if (len >= cap) return false; /* decoding never makes it longer */
    for (size_t i = 0; i < len; i++)
        out[i] = in[i] == '+' ? ' ' : in[i];
    long n = http_percent_decode(out, len, out);
    if (n < 0 || !pd_utf8_valid((const uint8_t *)out, (size_t)n)) {
        out[0] = 0;
        if (damaged) *damaged = true;
        return false;
    }
    out[n] = 0;
    return true;
}

bool cli_link_parse(const char *target, char *server, size_t server_cap, char *room,
                    size_t room_cap, char *password, size_t password_cap, bool *damaged)
{
    if (damaged) *damaged = false;
    const char *hash = strchr(target, '#');
    if (!hash) {
        if (!room_id_ok(target)) return false;
        snprintf(room, room_cap, "%s", target);
        return true;
    }
    if (server) snprintf(server, server_cap, "%.*s", (int)(hash - target), target);
    const char *p = hash + 1;
    bool have_room = false,
         have_key = false; /* the first room= and key= count, as URLSearchParams.get */
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        if (eq) {
            size_t kl = (size_t)(eq - p);
            if (kl == 4 && !strncmp(p, "room", 4) && !have_room) {
                if (!form_decode(eq + 1, len - kl - 1, room, room_cap, damaged)) return false;
                have_room = true;
            }
            if (kl == 3 && !strncmp(p, "key", 3) && !have_key) {
                have_key = true;
                if (!password[0] &&
                    !form_decode(eq + 1, len - kl - 1, password, password_cap, damaged))
                    return false; /* a --password given wins over the link's key */
            }
        }
        p += len + (amp ? 1 : 0);
    }
    return room_id_ok(room);
}
