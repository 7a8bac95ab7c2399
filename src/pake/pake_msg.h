/* pake_msg.h: the authentication messages that open every data channel
 * (docs/authentication.md §7), a sans-I/O codec. They are control
 * messages of docs/protocol.md §3 (UTF-8 JSON text, canonical form,
 * lowercase hex), sent before `hello`:
 *
 *   {"t":"pake-start","suite":"CPACE-RISTR255-SHA512","sid":<32 hex>,"commit":<128 hex>}
 *   {"t":"pake-share","y":<64 hex>}
 *   {"t":"pake-confirm","mac":<128 hex>}
 *
 * Decoding accepts any valid JSON object (member order, whitespace,
 * escapes) and ignores unknown members, as §3.1 asks; a value must match
 * its pattern exactly. Nothing is allocated that outlives the call. */
#ifndef PD_PAKE_MSG_H
#define PD_PAKE_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "confirm.h"
#include "cpace.h"
#include "pake.h"

/* The canonical pake-start is 231 bytes; 1024 leaves room for whitespace
 * and unknown members while a peer cannot make us parse more during the
 * handshake. (Kept here, not in src/base/limits.h, while that file has
 * another owner; move it there when the protocol change lands.) */
#define PAKE_MSG_MAX_LEN 1024

typedef enum pake_msg_type {
    PAKE_MSG_START = 1, /* offerer -> answerer: suite, sid, commitment to Ya */
    PAKE_MSG_SHARE,     /* Yb (answerer), then Ya (offerer) */
    PAKE_MSG_CONFIRM,   /* Ta (offerer), then Tb (answerer) */
} pake_msg_type;

typedef struct pake_msg {
    pake_msg_type t;
    uint8_t sid[PAKE_SID_LEN];       /* START */
    uint8_t commit[PAKE_COMMIT_LEN]; /* START */
    uint8_t y[CPACE_POINT_LEN];      /* SHARE */
    uint8_t mac[PAKE_TAG_LEN];       /* CONFIRM */
} pake_msg;

const char *pake_msg_type_name(pake_msg_type t); /* the wire's `t`, or NULL */

/* PAKE_OK and *out filled; PAKE_E_TOO_BIG over PAKE_MSG_MAX_LEN;
 * PAKE_E_NOT_PAKE for a JSON object whose `t` is a string naming no
 * authentication message (hand it to the transfer codec: it may be an
 * `error`); PAKE_E_SUITE for a pake-start of another suite; PAKE_E_MSG for
 * anything else; PAKE_E_NOMEM. */
int pake_msg_decode(const uint8_t *text, size_t len, pake_msg *out);

/* Writes the canonical form and a NUL; returns its length, or PAKE_E_ARG
 * for an unknown type or a cap too small. */
int pake_msg_encode(char *out, size_t cap, const pake_msg *m);

#endif
