/* secret.h: what the CLI hands the signaling server instead of the room
 * secret (issue 14, docs/authentication.md §3). The secret (the link's key,
 * or a password given with --password) is normalised to Unicode NFC, as
 * the web app does (secretBytes in web/src/crypto/keys.ts), so a password
 * typed with decomposed accents still opens a room the browser made; then
 * the key schedule of src/pake/keys.h gives the admission value, which
 * create-room / join-room carry as `password`, and CPace's PRS, which
 * never leaves this process. Neither the secret nor what comes from it is
 * logged. */
#ifndef PD_CLI_SECRET_H
#define PD_CLI_SECRET_H

#include <stdint.h>

#include "pake/keys.h"

enum { CLI_ADMISSION_HEX_LEN = 2 * PAKE_ADMISSION_LEN };

/* PAKE_OK; PAKE_E_ARG when the secret is not UTF-8 or not 1..PAKE_SECRET_MAX
 * bytes after normalisation, or the room id is not 1..PAKE_ROOM_MAX bytes;
 * PAKE_E_NOMEM when Argon2id cannot have its 64 MiB. Slow (Argon2id: 0.1 s
 * natively): call it once per room, before joining. Needs sodium_init(). */
int cli_secret_derive(const char *secret, const char *room,
                      char admission_hex[CLI_ADMISSION_HEX_LEN + 1], uint8_t prs[PAKE_PRS_LEN]);

/* A short code's keys (issue 14, docs/authentication.md "Short codes"):
 * only the PRS, from the canonical code (ASCII: NFC changes nothing) and
 * its room "code-N"; no admission value is derived, since nothing of a
 * code goes to the server. Same errors as cli_secret_derive. */
int cli_secret_derive_prs(const char *code, const char *room, uint8_t prs[PAKE_PRS_LEN]);

#endif
