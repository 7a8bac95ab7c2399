/* code.c: see code.h. */
#include "code.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define CODE_ERR_PREFIX "not a valid code: "
/* A word longer than this is not echoed in full: the message stays one line */
#define CODE_ERR_WORD_MAX 32

int code_word_index(const char *word, size_t len)
{
    if (!word || len < CODE_WORD_MIN_LEN || len > CODE_WORD_MAX_LEN) return -1;
    /* the list is sorted (test_code.c checks it): a binary search */
    int lo = 0, hi = CODE_WORD_COUNT - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        const char *w = code_words[mid];
        size_t wl = strlen(w);
        int c = memcmp(word, w, len < wl ? len : wl);
        if (c == 0) c = len < wl ? -1 : len > wl ? 1 : 0;
        if (c == 0) return mid;
        if (c < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return -1;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_separator(char c)
{
    return c == ' ' || c == '_' || c == '-';
}

bool code_looks_like(const char *text)
{
    if (!text) return false;
    const char *p = text;
    while (is_space(*p))
        p++;
    if (*p < '0' || *p > '9') return false;
    while (*p >= '0' && *p <= '9')
        p++;
    if (!is_separator(*p)) return false;
    while (is_separator(*p))
        p++;
    char c = (char)(*p | 0x20);
    return c >= 'a' && c <= 'z';
}

static bool fail(char *err, size_t err_cap, const char *why)
{
    if (err && err_cap) snprintf(err, err_cap, CODE_ERR_PREFIX "%s", why);
    return false;
}

bool code_parse(const char *text, short_code *out, char *err, size_t err_cap)
{
    static const char shape[] = "expected a number and two words, like 7-guitar-lemon";
    if (!text || !out) return fail(err, err_cap, shape);
    size_t len = strlen(text);
    while (len && is_space(text[len - 1]))
        len--;
    while (len && is_space(*text))
        text++, len--;
    if (len == 0) return fail(err, err_cap, "it is empty");
    if (len > CODE_INPUT_MAX_LEN) return fail(err, err_cap, "it is too long");

    /* normalised: lowercase, separator runs as one '-' */
    char norm[CODE_INPUT_MAX_LEN + 1];
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (is_separator(c)) {
            if (n == 0 || norm[n - 1] != '-') norm[n++] = '-';
            continue;
        }
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        norm[n++] = c;
    }
    norm[n] = 0;

    /* three parts: digits, letters, letters */
    const char *part[3];
    size_t part_len[3];
    size_t parts = 0;
    const char *p = norm;
    for (;;) {
        const char *dash = strchr(p, '-');
        size_t l = dash ? (size_t)(dash - p) : strlen(p);
        if (parts == 3) return fail(err, err_cap, shape);
        part[parts] = p;
        part_len[parts++] = l;
        if (!dash) break;
        p = dash + 1;
    }
    if (parts != 3 || part_len[0] == 0 || part_len[1] == 0 || part_len[2] == 0)
        return fail(err, err_cap, shape);
    for (size_t i = 0; i < part_len[0]; i++)
        if (part[0][i] < '0' || part[0][i] > '9') return fail(err, err_cap, shape);
    if (part[0][0] == '0' || part_len[0] > 4)
        return fail(err, err_cap, "its number must be 1 to 9999, without leading zeros");
    unsigned nameplate = 0;
    for (size_t i = 0; i < part_len[0]; i++)
        nameplate = nameplate * 10 + (unsigned)(part[0][i] - '0');

    int words[2];
    for (int w = 0; w < 2; w++) {
        const char *s = part[1 + w];
        size_t l = part_len[1 + w];
        bool printable = l <= CODE_ERR_WORD_MAX;
        for (size_t i = 0; i < l && printable; i++)
            printable = (unsigned char)s[i] > 0x20 && (unsigned char)s[i] < 0x7f && s[i] != '"';
        words[w] = code_word_index(s, l);
        if (words[w] < 0) {
            if (!printable) return fail(err, err_cap, shape);
            char why[CODE_ERR_WORD_MAX + 40];
            snprintf(why, sizeof why, "\"%.*s\" is not in the word list", (int)l, s);
            return fail(err, err_cap, why);
        }
    }
    out->nameplate = nameplate;
    out->word1 = (unsigned)words[0];
    out->word2 = (unsigned)words[1];
    if (err && err_cap) err[0] = 0;
    return true;
}

void code_format(const short_code *c, char out[CODE_MAX_LEN + 1])
{
    snprintf(out, CODE_MAX_LEN + 1, "%u-%s-%s", c->nameplate,
             code_words[c->word1 % CODE_WORD_COUNT], code_words[c->word2 % CODE_WORD_COUNT]);
}

void code_room(const short_code *c, char out[CODE_ROOM_MAX_LEN + 1])
{
    snprintf(out, CODE_ROOM_MAX_LEN + 1, "code-%u", c->nameplate % (CODE_NAMEPLATE_MAX + 1));
}

void code_random(short_code *out, unsigned nameplate_max)
{
    if (nameplate_max < 1) nameplate_max = 1;
    if (nameplate_max > CODE_NAMEPLATE_MAX) nameplate_max = CODE_NAMEPLATE_MAX;
    out->nameplate = 1 + randombytes_uniform(nameplate_max);
    out->word1 = randombytes_uniform(CODE_WORD_COUNT);
    out->word2 = randombytes_uniform(CODE_WORD_COUNT);
}
