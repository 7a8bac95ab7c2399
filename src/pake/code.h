/* code.h: the short code of `peerdrop send --code` (issue 14,
 * docs/authentication.md "Short codes"): NAMEPLATE-WORD-WORD, e.g.
 * 7-guitar-lemon. The nameplate (1-9999, no leading zeros) names the
 * signaling room, "code-7"; the two words, from the 256 words of
 * docs/vectors/code-words.txt (16 bits), are what the server never sees.
 * The whole canonical string is the room secret of the key schedule
 * (keys.h): its PRS is CPace's password; no admission value is derived.
 *
 * Parsing, normalising, formatting and drawing codes; no I/O. The web
 * app (web/src/lib/code.ts) normalises byte for byte the same way: both
 * replay docs/vectors/short-codes.json. */
#ifndef PD_PAKE_CODE_H
#define PD_PAKE_CODE_H

#include <stdbool.h>
#include <stddef.h>

enum {
    CODE_WORD_COUNT = 256, /* 8 bits a word, 16 bits a code */
    CODE_WORD_MIN_LEN = 4, /* the word list's rules (test_code.c checks them) */
    CODE_WORD_MAX_LEN = 8,
    CODE_NAMEPLATE_MAX = 9999,
    /* "9999-" + word + "-" + word */
    CODE_MAX_LEN = 4 + 1 + CODE_WORD_MAX_LEN + 1 + CODE_WORD_MAX_LEN,
    /* "code-9999" */
    CODE_ROOM_MAX_LEN = 5 + 4,
    /* the longest input parsed: a pasted code with spaces around its parts
     * fits many times over; longer text is not a code */
    CODE_INPUT_MAX_LEN = 256,
    CODE_ERROR_CAP = 128,
};

/* The list, in value order; generated at build time from
 * docs/vectors/code-words.txt (CMakeLists.txt). */
extern const char *const code_words[CODE_WORD_COUNT];

typedef struct short_code {
    unsigned nameplate;    /* 1..CODE_NAMEPLATE_MAX */
    unsigned word1, word2; /* indexes into code_words */
} short_code;

/* The word's index, or -1 when it is not in the list. */
int code_word_index(const char *word, size_t len);

/* Does the text look like a code rather than a link or a room id: after
 * leading white space, digits, then a space, '_' or '-', then a letter?
 * What decides for `peerdrop receive` which one it was given; a text that
 * looks like a code and does not parse is reported as a bad code. */
bool code_looks_like(const char *text);

/* Normalise and parse: trim ASCII white space; ASCII letters to lowercase;
 * every run of spaces, '_' and '-' to one '-'; then it must be
 * NAMEPLATE-WORD-WORD with the nameplate 1-9999 without leading zeros and
 * both words in the list. On success true and *out filled; else false and
 * err (err_cap bytes, NUL-terminated) says why, "not a valid code: ...",
 * naming an unknown word. */
bool code_parse(const char *text, short_code *out, char *err, size_t err_cap);

/* The canonical form, "7-guitar-lemon" (CODE_MAX_LEN + 1 bytes). */
void code_format(const short_code *c, char out[CODE_MAX_LEN + 1]);
/* The signaling room of the code: "code-7" (CODE_ROOM_MAX_LEN + 1 bytes). */
void code_room(const short_code *c, char out[CODE_ROOM_MAX_LEN + 1]);

/* A new code from libsodium's CSPRNG (sodium_init() first): a nameplate
 * uniform in 1..nameplate_max (clamped to 1..CODE_NAMEPLATE_MAX), two
 * uniform words. */
void code_random(short_code *out, unsigned nameplate_max);

#endif
