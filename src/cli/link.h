/* link.h: the share link of the web app (web/src/lib/link.ts),
 * BASE#room=<id>&key=<password>: building it, reading it back, printing it
 * as a QR code; and the random room id and password a sender puts in it.
 * No network, no state. */
#ifndef PD_CLI_LINK_H
#define PD_CLI_LINK_H

#include <stdbool.h>
#include <stddef.h>

/* The length of a key `peerdrop send` generates: 23 symbols of 56 are
 * 23 * log2(56) = 133.6 bits, at least the 128 that issue 14 asks of a
 * generated secret (docs/authentication.md §3); the web app's
 * GENERATED_KEY_LEN (web/src/lib/link.ts). A parser takes any length. */
#define CLI_LINK_KEY_LEN 23
/* The size of that alphabet (CLI_LINK_KEY_LEN's bits are counted on it). */
#define CLI_LINK_ALPHABET_LEN 56

/* `len` characters of the web app's alphabet (no 0/O/1/l/I), uniform, from
 * OpenSSL's CSPRNG, NUL-terminated (out has len + 1 bytes). */
bool cli_link_random_password(char *out, size_t len);
/* A random UUID (RFC 4122 version 4), the web app's room id. */
bool cli_link_random_room(char out[37]);

/* The page is the server's origin (ws(s):// becomes http(s)://, query and
 * fragment dropped, a path of at least "/"); room and password are
 * encodeURIComponent-encoded. */
void cli_link_build(const char *server, const char *room, const char *password, char *out,
                    size_t cap);

/* What the CLI says of a link whose room= or key= value is damaged
 * (docs/signaling.md "The room link"). */
#define CLI_LINK_DAMAGED                                                                           \
    "the link is damaged (a '%' not followed by two hex digits, a %00, or bytes that are not "     \
    "UTF-8 text): copy the whole link again"

/* LINK = http(s)://host[:port]/...#room=ID&key=PW, anything else a bare
 * room id. The link's own server goes to `server` (NULL: keep the one the
 * caller has); a password already set (--password) wins over the link's.
 * Values are decoded as URLSearchParams does ('+' is a space); false for a
 * room id that is not 1-128 of [A-Za-z0-9_-], a value longer than its
 * buffer, or a damaged value: a malformed %-escape, a decoded NUL, or
 * decoded bytes that are not UTF-8 (the web app refuses the same links,
 * web/src/lib/link.ts, rather than derive a wrong key from them). For a
 * damaged value *damaged (when not NULL) is set true. */
bool cli_link_parse(const char *target, char *server, size_t server_cap, char *room,
                    size_t room_cap, char *password, size_t password_cap, bool *damaged);

/* The text as a QR code on stdout, two modules per character cell. */
void cli_link_print_qr(const char *text);

#endif
