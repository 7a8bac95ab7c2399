/* display.c: escaping peer text for a terminal; see display.h. */
#include "cli/display.h"
#include "base/utf8.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Shown escaped: what a terminal acts on or draws as something else (the
 * set of docs/protocol.md §7 rules 3 and 8, plus the interlinear
 * annotation marks and the tag characters that hide text). */
static bool hidden_cp(unsigned cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x061C ||
           (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202E) ||
           (cp >= 0x2060 && cp <= 0x206F) || cp == 0xFEFF || (cp >= 0xFFF9 && cp <= 0xFFFB) ||
           (cp >= 0xE0000 && cp <= 0xE007F);
}

/* The piece of output for the character at s[i]: sets *piece and *plen
 * (esc holds an escape), returns the input bytes it stands for. */
static size_t piece_at(const char *s, size_t len, size_t i, bool keep_lines, char esc[16],
                       const char **piece, size_t *plen)
{
    const unsigned char *u = (const unsigned char *)s;
    unsigned cp;
    size_t n = pd_utf8_next(u, len, i, &cp);
    if (n == 0) {
        snprintf(esc, 16, "\\x%02X", u[i]);
        *piece = esc, *plen = strlen(esc);
        return 1;
    }
    /* a snippet stays as written but for what a terminal acts on */
    if (keep_lines && (cp == '\n' || cp == '\t' || cp == '\\'))
        *piece = s + i, *plen = 1;
    else if (cp == '\\')
        *piece = "\\\\", *plen = 2;
    else if (cp == '\t' || cp == '\n' || cp == '\r')
        *piece = cp == '\t' ? "\\t" : cp == '\n' ? "\\n" : "\\r", *plen = 2;
    else if (hidden_cp(cp)) {
        snprintf(esc, 16, "\\u{%04X}", cp);
        *piece = esc, *plen = strlen(esc);
    } else
        *piece = s + i, *plen = n;
    return n;
}

static char *escape(const char *s, size_t len, bool keep_lines, char *out, size_t cap)
{
    char esc[16];
    const char *piece;
    size_t plen, total = 0, o = 0;
    if (cap < 4) {
        if (cap) out[0] = 0;
        return out;
    }
    if (!s) len = 0;
    for (size_t i = 0; i < len && total < cap;) { /* does it all fit? */
        i += piece_at(s, len, i, keep_lines, esc, &piece, &plen);
        total += plen;
    }
    bool cut = total >= cap;
    for (size_t i = 0; i < len;) {
        size_t n = piece_at(s, len, i, keep_lines, esc, &piece, &plen);
        /* cut: leave room for "..." (o + 3 < cap holds before each piece) */
        if (cut && o + plen + 3 >= cap) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        memcpy(out + o, piece, plen);
        o += plen;
        i += n;
    }
    out[o] = 0;
    return out;
}

char *cli_display_escape(const char *s, size_t len, char *out, size_t cap)
{
    return escape(s, len, false, out, cap);
}

char *cli_display_escape_text(const char *s, size_t len, char *out, size_t cap)
{
    return escape(s, len, true, out, cap);
}

char *cli_display_strip(const char *s, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    if (!cap) return out;
    if (!s) len = 0;
    for (size_t i = 0; i < len;) {
        unsigned cp;
        size_t n = pd_utf8_next((const unsigned char *)s, len, i, &cp);
        if (n == 0) { /* invalid: dropped */
            i++;
            continue;
        }
        if (!hidden_cp(cp)) {
            if (o + n >= cap) break;
            memcpy(out + o, s + i, n);
            o += n;
        }
        i += n;
    }
    out[o] = 0;
    return out;
}
