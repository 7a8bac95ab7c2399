/* pake.h: what the modules of src/pake share: the error codes, the suite
 * and the domain-separation labels of Peerdrop's authentication
 * (docs/authentication.md). cpace.h is the draft's construction alone;
 * keys.h, confirm.h, sas.h and pake_msg.h are the Peerdrop profile
 * around it. Nothing here does I/O.
 *
 * libsodium must be initialised (sodium_init() >= 0) before any call: the
 * server's main does it, the CLI's main must when it starts using these
 * (it does not call libsodium today). */
#ifndef PD_PAKE_H
#define PD_PAKE_H

#define PAKE_ERRORS(X)                                                                             \
    X(PAKE_OK, 0, "ok")                                                                            \
    X(PAKE_E_ARG, -1, "invalid argument")                                                          \
    X(PAKE_E_NOMEM, -2, "out of memory")                                                           \
    X(PAKE_E_CRYPTO, -3, "crypto library failure")                                                 \
    X(PAKE_E_FINGERPRINT, -4, "not a usable DTLS fingerprint")                                     \
    X(PAKE_E_MSG, -5, "malformed authentication message")                                          \
    X(PAKE_E_NOT_PAKE, -6, "not an authentication message")                                        \
    X(PAKE_E_SUITE, -7, "unsupported authentication suite")                                        \
    X(PAKE_E_TOO_BIG, -8, "authentication message too long")                                       \
    X(PAKE_E_AUTH, -9, "authentication failed")

enum pake_err {
#define PAKE_ERR_ENUM(name, value, text) name = (value),
    PAKE_ERRORS(PAKE_ERR_ENUM)
#undef PAKE_ERR_ENUM
};
const char *pake_strerror(int err);

/* The one suite. It is not negotiated: a peer offering anything else is
 * refused, so there is nothing to downgrade to. */
#define PAKE_SUITE "CPACE-RISTR255-SHA512"

/* sid: 16 random bytes from the offerer, in its pake-start message
 * (128 bits: unique without coordination; the draft's vectors use 16). */
enum { PAKE_SID_LEN = 16 };

/* Domain separation: every derivation has its own label (docs/authentication.md §3). */
#define PAKE_LABEL_SALT "peerdrop/auth/v1 salt"
#define PAKE_LABEL_ADMISSION "peerdrop/auth/v1 admission"
#define PAKE_LABEL_PRS "peerdrop/auth/v1 cpace prs"
#define PAKE_LABEL_CI "peerdrop/auth/v1 " PAKE_SUITE
#define PAKE_LABEL_COMMIT "peerdrop/auth/v1 commit"
#define PAKE_LABEL_SAS "peerdrop/auth/v1 sas"

#endif
