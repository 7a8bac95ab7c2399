/* test_cli_display.c: peer text escaped for a terminal (src/cli/display.h,
 * issue 11 item 12): controls, ESC sequences, bidi and zero-width
 * characters, invalid UTF-8, and the cut when the buffer is short. Inputs
 * sit at the end of exact-size mallocs, so a read past them is caught by
 * ASan. */
#include "check.h"

#include "cli/display.h"

static void check_esc(const char *in, size_t len, size_t cap, const char *want)
{
    char *p = malloc(len ? len : 1);
    memcpy(p, in, len);
    char *out = malloc(cap);
    cli_display_escape(p, len, out, cap);
    CHECK_EQ_STR(out, want);
    CHECK(strlen(out) < cap);
    free(out);
    free(p);
}

#define ESC(in, want) check_esc(in, sizeof in - 1, 256, want)

/* issue 17: a text snippet keeps its lines, tabs and backslashes; a
 * name loses every character that would be escaped */
static void check_text(const char *in, size_t len, const char *want)
{
    char *p = malloc(len ? len : 1);
    memcpy(p, in, len);
    size_t cap = 8 * len + 4;
    char *out = malloc(cap);
    cli_display_escape_text(p, len, out, cap);
    CHECK_EQ_STR(out, want);
    free(out);
    free(p);
}
#define TEXT(in, want) check_text(in, sizeof(in) - 1, want)

static void check_strip(const char *in, size_t len, size_t cap, const char *want)
{
    char *p = malloc(len ? len : 1);
    memcpy(p, in, len);
    char *out = malloc(cap);
    cli_display_strip(p, len, out, cap);
    CHECK_EQ_STR(out, want);
    free(out);
    free(p);
}
#define STRIP(in, cap, want) check_strip(in, sizeof(in) - 1, cap, want)

static void test_snippets_and_names(void)
{
    TEXT("line 1\nline\t2\n", "line 1\nline\t2\n");
    TEXT("C:\\path https://a.example/?q=1&r=2", "C:\\path https://a.example/?q=1&r=2");
    TEXT("\x1b[2J\x1b]0;owned\x07", "\\u{001B}[2J\\u{001B}]0;owned\\u{0007}");
    TEXT("over\rwrite", "over\\rwrite");
    TEXT("a\0b", "a\\u{0000}b");
    TEXT("\xe2\x80\xae"
         "fdp.exe \xff",
         "\\u{202E}fdp.exe \\xFF");
    /* the worst case, 8 bytes out per byte in, fits the cap it asks for */
    TEXT("\x01\x01\x01", "\\u{0001}\\u{0001}\\u{0001}");
    STRIP("Blue Fox", 65, "Blue Fox");
    STRIP("Bob\x1b[2J\xe2\x80\xae"
          "evil\n\xff",
          65, "Bob[2Jevil");
    STRIP("\xf0\x9f\xa6\x8a fox", 65, "\xf0\x9f\xa6\x8a fox");
    STRIP("\xf0\x9f\xa6\x8a fox", 4, ""); /* cut at a character, never inside */
    STRIP("ab\xf0\x9f\xa6\x8a", 5, "ab");
}

int main(void)
{
    test_snippets_and_names();
    ESC("a.txt", "a.txt");
    ESC("r\xc3\xa9sum\xc3\xa9.pdf", "r\xc3\xa9sum\xc3\xa9.pdf"); /* é stays */
    ESC("\xf0\x9f\x98\x80.png", "\xf0\x9f\x98\x80.png");         /* emoji stays */
    ESC("\xe2\x9d\xa4\xef\xb8\x8f", "\xe2\x9d\xa4\xef\xb8\x8f"); /* U+FE0F stays */
    ESC("\x1b]0;owned\x07", "\\u{001B}]0;owned\\u{0007}");       /* window title */
    ESC("\x1b[2J\x1b[H", "\\u{001B}[2J\\u{001B}[H");             /* clear screen */
    ESC("a\r\nb\tc", "a\\r\\nb\\tc");
    ESC("back\\slash", "back\\\\slash");
    ESC("x\x7f\xc2\x85", "x\\u{007F}\\u{0085}"); /* DEL, NEL (C1) */
    ESC("invoice\xe2\x80\xae"
        "fdp.exe",
        "invoice\\u{202E}fdp.exe"); /* RLO */
    ESC("a\xe2\x81\xa6"
        "b\xe2\x81\xa9",
        "a\\u{2066}b\\u{2069}"); /* isolates */
    ESC("a\xe2\x80\x8b"
        "b\xef\xbb\xbf",
        "a\\u{200B}b\\u{FEFF}"); /* zero width, BOM */
    ESC("a\xe2\x80\xa8"
        "b",
        "a\\u{2028}b"); /* line separator */
    ESC("tag\xf3\xa0\x80\x81", "tag\\u{E0001}");
    ESC("bad\xff\xc3", "bad\\xFF\\xC3");    /* invalid, truncated */
    ESC("\xed\xa0\x80", "\\xED\\xA0\\x80"); /* encoded surrogate */
    ESC("", "");
    /* short buffers: cut at a whole character, "..." when more followed */
    check_esc("abcdefgh", 8, 9, "abcdefgh");
    check_esc("abcdefgh", 8, 8, "abcd...");
    check_esc("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 8, 8, "\xc3\xa9\xc3\xa9...");
    check_esc("\x1b\x1b\x1b", 3, 12, "\\u{001B}...");
    check_esc("abc", 3, 4, "abc");
    check_esc("abcd", 4, 4, "...");
    return CHECK_DONE();
}
