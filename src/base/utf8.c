/* utf8.c: see utf8.h. */
#include "utf8.h"

/* Unicode 15 table 3-7 (well-formed UTF-8 byte sequences): the lead byte
 * fixes the length and the allowed range of the second byte, which is how
 * overlongs (E0 80..9F, F0 80..8F), surrogates (ED A0..BF) and values above
 * U+10FFFF (F4 90.., F5..FF) are excluded. */
size_t pd_utf8_seq(const uint8_t *s, size_t len)
{
    uint8_t c = s[0];
    size_t n;
    uint8_t lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4;
    else
        return 0;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
    if (len < n || s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < n; i++)
        if ((s[i] & 0xc0) != 0x80) return 0;
    return n;
}

bool pd_utf8_valid(const uint8_t *s, size_t len)
{
    if (!s) return len == 0;
    size_t i = 0;
    while (i < len) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = pd_utf8_seq(s + i, len - i);
        if (n == 0) return false;
        i += n;
    }
    return true;
}

size_t pd_utf8_next(const uint8_t *s, size_t len, size_t i, unsigned *cp)
{
    if (s[i] < 0x80) {
        *cp = s[i];
        return 1;
    }
    size_t n = pd_utf8_seq(s + i, len - i);
    if (n == 0) return 0;
    /* the lead byte keeps 5, 4 or 3 bits for 2-, 3- and 4-byte forms */
    unsigned v = s[i] & (0x7Fu >> n);
    for (size_t k = 1; k < n; k++)
        v = v << 6 | (s[i + k] & 0x3Fu);
    *cp = v;
    return n;
}
