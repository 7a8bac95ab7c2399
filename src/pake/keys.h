/* keys.h: Peerdrop's key schedule (docs/authentication.md §3): from the
 * room secret (the link's key, a password, a short code) and the room id
 * to the two values a client uses, which the server can never link to
 * each other:
 *
 *   salt      = SHA-512(lv_cat(PAKE_LABEL_SALT, room))[0..16]
 *   stretched = Argon2id v1.3 (secret, salt, t = 2, m = 64 MiB, p = 1), 32 bytes
 *   admission = HKDF-SHA-512(stretched, salt "", info PAKE_LABEL_ADMISSION), 32 bytes
 *   prs       = HKDF-SHA-512(stretched, salt "", info PAKE_LABEL_PRS), 32 bytes
 *
 * `admission` replaces the password in create-room / join-room (as 64
 * lowercase hex digits); `prs` is CPace's password and never leaves the
 * client. The Argon2id step is what stands between a malicious server and
 * an offline dictionary attack on a human password; see the document.
 *
 * Also here: CPace's channel identifier CI and HKDF, shared with sas.c. */
#ifndef PD_PAKE_KEYS_H
#define PD_PAKE_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "cpace.h"
#include "pake.h"

enum {
    PAKE_SALT_LEN = 16,      /* crypto_pwhash_SALTBYTES */
    PAKE_STRETCHED_LEN = 32, /* 256 bits: more than any secret we stretch */
    PAKE_ADMISSION_LEN = 32,
    PAKE_PRS_LEN = 32,
    PAKE_SECRET_MAX = 1024, /* the signaling contract's password limit (docs/signaling.md) */
    PAKE_ROOM_MAX = 128,    /* room ids are 1-128 characters (docs/signaling.md) */
    PAKE_PEER_ID_MAX = 255, /* a socket id; the server's are 20 characters */
};

/* libsodium's crypto_pwhash_OPSLIMIT/MEMLIMIT_INTERACTIVE, the server's
 * own default for room passwords (--argon2 interactive). Measured: 0.1 s
 * native, 0.75 s in @noble/hashes on the 2-core test VM (2026-12-05). */
#define PAKE_ARGON2_T 2u
#define PAKE_ARGON2_M_KIB 65536u

typedef struct pake_keys {
    uint8_t admission[PAKE_ADMISSION_LEN];
    uint8_t prs[PAKE_PRS_LEN];
} pake_keys;

/* PAKE_OK, or PAKE_E_ARG for a room id of 0 or over PAKE_ROOM_MAX bytes. */
int pake_keys_salt(uint8_t salt[PAKE_SALT_LEN], const char *room, size_t room_len);
/* Argon2id over the secret: slow (64 MiB, ~0.1 s); PAKE_E_NOMEM when
 * libsodium cannot allocate its memory. */
int pake_keys_stretch(uint8_t out[PAKE_STRETCHED_LEN], const char *secret, size_t secret_len,
                      const uint8_t salt[PAKE_SALT_LEN]);
/* The two HKDF outputs from a stretched secret. */
int pake_keys_split(pake_keys *out, const uint8_t stretched[PAKE_STRETCHED_LEN]);
/* The whole schedule: salt, stretch, split. Secret 1..PAKE_SECRET_MAX
 * bytes, room 1..PAKE_ROOM_MAX, else PAKE_E_ARG. */
int pake_keys_derive(pake_keys *out, const char *secret, size_t secret_len, const char *room,
                     size_t room_len);
void pake_keys_wipe(pake_keys *k);
/* 64 lowercase hex digits and a NUL: what create-room / join-room send. */
void pake_keys_admission_hex(char out[2 * PAKE_ADMISSION_LEN + 1], const pake_keys *k);

/* CI = lv_cat(PAKE_LABEL_CI, room, offerer's socket id, answerer's socket
 * id): binds the session to the room and to both parties in their roles
 * (draft, "Party identifiers": identities in CI, initiator first). Returns the length,
 * written only if it fits in cap. */
size_t pake_ci(uint8_t *out, size_t cap, cpace_str room, cpace_str offerer_id,
               cpace_str answerer_id);

/* HKDF-SHA-512 (RFC 5869) with an empty salt, through OpenSSL. */
int pake_hkdf_sha512(uint8_t *out, size_t out_len, const uint8_t *ikm, size_t ikm_len,
                     const char *info);

#endif
