/* display.h: peer-supplied text made safe to print on a terminal (issue 11,
 * item 12). File names, directory names and error messages from a peer pass
 * through cli_display_escape() before they reach stdout, stderr or the
 * prompt: a control character could move the cursor, rewrite earlier lines
 * or set the window title (ESC sequences), a bidi override could show
 * "invoice\u202Efdp.exe" as "invoiceexe.pdf". The path rules refuse such
 * names already (docs/protocol.md §7 rules 3 and 8); this is the second
 * line, and the only one for free text such as a peer's error message. */
#ifndef PD_CLI_DISPLAY_H
#define PD_CLI_DISPLAY_H

#include <stddef.h>

/* Writes s (len bytes) to out: printable UTF-8 as it is; C0 and C1 controls,
 * DEL, bidi controls, zero-width and format characters, line separators as
 * \u{XXXX} (\t, \n, \r as such); invalid UTF-8 as \xNN; a backslash as \\.
 * Always NUL-terminated; when out is short, cut at a character and ended
 * with "...". cap >= 4. Returns out. */
char *cli_display_escape(const char *s, size_t len, char *out, size_t cap);
/* The same for a text snippet shown in full (issue 17): \n and \t stay
 * real line breaks and tabs and a backslash stays one, everything else as
 * above (\r escaped: it would overwrite the line). Needs cap >= 8 * len + 4 not to cut. */
char *cli_display_escape_text(const char *s, size_t len, char *out, size_t cap);
/* A peer's name for one line (issue 17): printable UTF-8 as it is, every
 * character cli_display_escape would escape (controls, bidi, format
 * characters, line breaks) and invalid bytes left out. Always
 * NUL-terminated, cut at a character to fit cap (>= 1). Returns out. */
char *cli_display_strip(const char *s, size_t len, char *out, size_t cap);

#endif
