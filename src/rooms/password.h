/* password.h: room password hashing with Argon2id (libsodium).
 *
 * These calls are slow by design (tens of milliseconds, tens of MiB): the
 * server runs them on worker threads, never on the event loop. The hash
 * string is self-describing (algorithm, parameters, salt), so verification
 * needs no parameters, and crypto_pwhash_str_verify compares in constant
 * time. */
#ifndef PD_PASSWORD_H
#define PD_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

/* crypto_pwhash_STRBYTES */
#define PD_PASSWORD_HASH_MAX 128

typedef enum password_cost {
    PASSWORD_COST_MIN,         /* tests and benchmarks only: 1 pass, 8 KiB */
    PASSWORD_COST_INTERACTIVE, /* libsodium INTERACTIVE: 2 passes, 64 MiB */
    PASSWORD_COST_MODERATE,    /* 3 passes, 256 MiB */
    PASSWORD_COST_SENSITIVE,   /* 4 passes, 1 GiB */
} password_cost;

bool password_cost_parse(const char *name, password_cost *out);

/* Returns 0, or -1 when out of memory. out gets a NUL-terminated string. */
int password_hash(const char *password, size_t len, password_cost cost,
                  char out[PD_PASSWORD_HASH_MAX]);
bool password_verify(const char *hash, const char *password, size_t len);

#endif
